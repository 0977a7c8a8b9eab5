package documents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"certflow/workflow"
)

// ErrContentLost is wrapped by the error of StoredPDF when a rendered
// document's bytes are gone or no longer match the SHA-256 recorded when
// it was rendered: a file removed from or changed in the documents
// directory, or a damaged row. Serving anything then would hand out a PDF
// that is not the document on record, so nothing is served.
var ErrContentLost = errors.New("documents: stored PDF lost")

// StoredPDF returns the bytes of rendered document d, from the database or
// from the file under the documents directory, checked against d.SHA256.
// Its error names the document and never the directory: it may reach a
// client.
func StoredPDF(ctx context.Context, tx workflow.Tx, d workflow.Document) ([]byte, error) {
	if d.State != workflow.DocRendered {
		return nil, fmt.Errorf("%w: document %d (%s) is %s, not rendered", workflow.ErrNotReady, d.ID, d.Title, d.State)
	}
	var pdf []byte
	if d.StoragePath != "" {
		var err error
		pdf, err = os.ReadFile(d.StoragePath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("%w: document %d (%s): its PDF %s is missing from the documents directory",
				ErrContentLost, d.ID, d.Title, filepath.Base(d.StoragePath))
		case err != nil:
			return nil, fmt.Errorf("documents: document %d: %w", d.ID, err)
		}
	} else {
		dt, err := workflow.Documents(tx)
		if err != nil {
			return nil, err
		}
		if pdf, err = dt.DocumentContent(ctx, d.ID); err != nil {
			return nil, err
		}
	}
	if sum := sha256.Sum256(pdf); hex.EncodeToString(sum[:]) != d.SHA256 {
		where := "in the database"
		if d.StoragePath != "" {
			where = filepath.Base(d.StoragePath) + " in the documents directory"
		}
		return nil, fmt.Errorf("%w: document %d (%s): the PDF %s (%d bytes) does not match the SHA-256 recorded when it was rendered (%d bytes): it changed since",
			ErrContentLost, d.ID, d.Title, where, len(pdf), d.Size)
	}
	return pdf, nil
}
