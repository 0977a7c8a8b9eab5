// Package documents turns transitions into Chinese official documents: which
// documents a transition produces, the background job that renders one, and
// (with the renderers) where the bytes are kept.
//
// A document is made in two steps. RenderHTML executes the kind's template
// (templates/documents/<kind>.html on base.html) with a Form, the view model
// every template gets; it checks the fields the kind requires and escapes
// every value. The HTML is self-contained and has no script: it is also the
// on-screen preview. A Renderer then prints it to PDF: ChromiumRenderer (the
// default) keeps one headless Chromium with a pool of reused tabs, restarts
// it when it crashes or hangs, and recycles it after a number of documents;
// GotenbergRenderer posts the same HTML to a Gotenberg service. Merge joins
// the PDFs of a case or a batch with pdfcpu.
//
// Fonts decide speed and size: the CJK fonts must have TrueType outlines, so
// Chromium embeds CID TrueType subsets; CFF fonts (Noto CJK) and synthetic
// bold turn into Type 3 glyphs, four times slower and larger. The templates
// use no bold, and name a deployment's licensed fonts first, which
// ChromiumOptions.FontsDir makes visible to the browser.
package documents
