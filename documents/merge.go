package documents

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// pdfcpuNoConfig keeps pdfcpu from creating its configuration directory
// (~/.config/pdfcpu) on first use: merging needs none of it.
var pdfcpuNoConfig sync.Once

// Merge concatenates PDFs, in order, into one (github.com/pdfcpu/pdfcpu):
// all documents of a case, or a batch list with its forms, to print at once.
// Each input must pass CheckPDF and parse; the output must hold as many
// pages as the inputs together.
func Merge(pdfs ...[]byte) ([]byte, error) {
	if len(pdfs) == 0 {
		return nil, errors.New("documents: merge: no PDF")
	}
	want := 0
	for i, p := range pdfs {
		if err := CheckPDF(p); err != nil {
			return nil, fmt.Errorf("documents: merge: input %d: %w", i, err)
		}
		n, err := PageCount(p)
		if err != nil {
			return nil, fmt.Errorf("documents: merge: input %d: %w", i, err)
		}
		want += n
	}
	if len(pdfs) == 1 {
		return bytes.Clone(pdfs[0]), nil
	}
	rs := make([]io.ReadSeeker, len(pdfs))
	for i, p := range pdfs {
		rs[i] = bytes.NewReader(p)
	}
	var out bytes.Buffer
	if err := api.MergeRaw(rs, &out, false, model.NewDefaultConfiguration()); err != nil {
		return nil, fmt.Errorf("documents: merge: %w", err)
	}
	if err := CheckPDF(out.Bytes()); err != nil {
		return nil, fmt.Errorf("documents: merge: %w", err)
	}
	got, err := PageCount(out.Bytes())
	if err != nil || got != want {
		return nil, fmt.Errorf("documents: merge: the result has %d pages (%v), want %d", got, err, want)
	}
	return out.Bytes(), nil
}

// PageCount is the number of pages of pdf, as pdfcpu reads it.
func PageCount(pdf []byte) (int, error) {
	pdfcpuNoConfig.Do(api.DisableConfigDir)
	return api.PageCount(bytes.NewReader(pdf), model.NewDefaultConfiguration())
}
