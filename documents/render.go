package documents

import (
	"bytes"
	"context"
	"fmt"
)

// Renderer turns the self-contained HTML of one document (RenderHTML's
// output) into a PDF. Implementations are safe for concurrent use.
// The Chromium renderer is the default; the Gotenberg renderer posts the
// same HTML to a Gotenberg service.
type Renderer interface {
	// Render returns the PDF of html. It returns an error rather than a PDF
	// that failed the sanity check (CheckPDF).
	Render(ctx context.Context, html []byte) ([]byte, error)
	// Close releases the renderer's resources (the browser, temp files).
	Close() error
}

// minPDFSize is the least a rendered form can weigh: an A4 page with one
// embedded font subset is several KB; a bare PDF skeleton is a few hundred
// bytes.
const minPDFSize = 1024

// CheckPDF is the sanity check every renderer applies before returning a
// PDF: it starts with %PDF-, ends with %%EOF (trailing whitespace allowed)
// and is not trivially small. It never proves a PDF is good, but it keeps
// empty, truncated and non-PDF output from being stored as a document.
func CheckPDF(pdf []byte) error {
	switch {
	case !bytes.HasPrefix(pdf, []byte("%PDF-")):
		return fmt.Errorf("documents: output is not a PDF (%d bytes, starts %q)", len(pdf), head(pdf, 16))
	case len(pdf) < minPDFSize:
		return fmt.Errorf("documents: PDF of %d bytes is too small to hold a page", len(pdf))
	case !bytes.HasSuffix(bytes.TrimRight(pdf, "\r\n\t "), []byte("%%EOF")):
		return fmt.Errorf("documents: PDF of %d bytes is truncated (no %%%%EOF)", len(pdf))
	}
	return nil
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
