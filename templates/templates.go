// Package templates holds certflow's templates, embedded: the documents the
// regulation's transitions produce (documents/<kind>.html, one per
// workflow.DocKind, all built on documents/base.html) and later the web
// pages. Templates only: no logic and no script. The view model and the
// functions the document templates call live in package documents.
package templates

import "embed"

// Documents holds documents/base.html, the shared page (A4 print CSS, title,
// case number and generation time, the article the document rests on), and
// documents/<kind>.html, which defines the "content" of each document kind.
//
//go:embed documents/*.html
var Documents embed.FS
