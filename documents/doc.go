// Package documents turns transitions into Chinese official documents: which
// documents a transition produces, the background job that renders one, and
// (with the renderers) where the bytes are kept.
package documents
