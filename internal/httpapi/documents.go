package httpapi

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"certflow/documents"
	"certflow/workflow"
)

// documentBytes loads a rendered document the caller may read, checked
// against its stored hash (documents.StoredPDF): bytes lost or changed on
// disk are an error, never a wrong PDF.
func (a *api) documentBytes(r *http.Request, id int64) (workflow.Document, []byte, error) {
	var doc workflow.Document
	var pdf []byte
	err := a.engine.Store().View(r.Context(), func(tx workflow.Tx) error {
		d, _, err := a.engine.VisibleDocument(r.Context(), tx, actor(r.Context()), id)
		if err != nil {
			return err
		}
		doc = d
		switch d.State {
		case workflow.DocPending:
			return fmt.Errorf("%w: document %d is not rendered yet (pending)", workflow.ErrNotReady, id)
		case workflow.DocFailed:
			return fmt.Errorf("%w: document %d failed to render: %s", workflow.ErrNotReady, id, d.Error)
		}
		pdf, err = documents.StoredPDF(r.Context(), tx, d)
		return err
	})
	if err != nil {
		return doc, nil, err
	}
	return doc, pdf, nil
}

// contentDisposition names a download in ASCII and, per RFC 5987/6266, in
// UTF-8 for the Chinese file name.
func contentDisposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, name)
	if strings.TrimSuffix(ascii, ".pdf") == "" || strings.HasPrefix(ascii, "-") {
		ascii = "document.pdf"
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(name))
}

func (a *api) downloadDocument(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	doc, pdf, err := a.documentBytes(r, id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	etag := `"` + doc.SHA256 + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", contentDisposition(doc.FileName))
	http.ServeContent(w, r, "", *doc.RenderedAt, bytes.NewReader(pdf))
}

// previewDocument shows the document's HTML: the same page Chromium prints.
func (a *api) previewDocument(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	err = a.engine.Store().View(r.Context(), func(tx workflow.Tx) error {
		_, _, err := a.engine.VisibleDocument(r.Context(), tx, actor(r.Context()), id)
		return err
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	_, form, err := documents.LoadForm(r.Context(), a.engine, id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	html, err := documents.RenderHTML(form)
	if err != nil {
		a.writeError(w, r, workflow.Invalid("document", err.Error()))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; font-src 'self'")
	_, _ = w.Write(html)
}

// listDocuments lists a case's documents (or a person's, under /people).
func (a *api) listDocuments(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	byPerson := strings.Contains(r.URL.Path, "/people/")
	// Check access first, each in its own transaction: nesting one inside
	// another would need a second connection, and SQLite has one.
	if byPerson {
		_, err = a.engine.Person(r.Context(), actor(r.Context()), id)
	} else {
		_, err = a.engine.CaseView(r.Context(), actor(r.Context()), id)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var docs []workflow.Document
	err = a.engine.Store().View(r.Context(), func(tx workflow.Tx) error {
		dt, err := workflow.Documents(tx)
		if err != nil {
			return err
		}
		if !byPerson {
			docs, err = dt.DocumentsOf(r.Context(), id, 0)
			return err
		}
		all, err := dt.DocumentsOf(r.Context(), 0, id)
		if err != nil {
			return err
		}
		// Only the documents of cases the caller may read.
		docs = []workflow.Document{}
		for _, d := range all {
			if _, _, err := a.engine.VisibleDocument(r.Context(), tx, actor(r.Context()), d.ID); err == nil {
				docs = append(docs, d)
			}
		}
		return nil
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, struct {
		Items []workflow.Document `json:"items"`
	}{docs})
}

// mergedDocuments downloads every rendered document of a case as one PDF.
func (a *api) mergedDocuments(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	view, err := a.engine.CaseView(r.Context(), actor(r.Context()), id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var pdfs [][]byte
	for _, d := range view.Documents {
		if d.State != workflow.DocRendered {
			continue
		}
		_, pdf, err := a.documentBytes(r, d.JobID)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		pdfs = append(pdfs, pdf)
	}
	if len(pdfs) == 0 {
		a.writeError(w, r, fmt.Errorf("%w: case %d has no rendered document yet", workflow.ErrNotReady, id))
		return
	}
	merged, err := documents.Merge(pdfs...)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", contentDisposition(fmt.Sprintf("案卷文书-%s.pdf", view.Number)))
	_, _ = w.Write(merged)
}
