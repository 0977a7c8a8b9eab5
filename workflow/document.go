package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Document states.
const (
	DocPending  = "pending"
	DocRendered = "rendered"
	DocFailed   = "failed"
)

// Document is one generated document: queued by a transition, rendered
// once, then immutable.
type Document struct {
	ID              int64      `json:"id"`
	CaseID          int64      `json:"case_id"`
	EventID         int64      `json:"event_id"`
	Kind            DocKind    `json:"doc"`
	Title           string     `json:"title"`
	Article         string     `json:"article"`
	State           string     `json:"state"`
	Error           string     `json:"error,omitempty"`
	Attempts        int        `json:"attempts"`
	CreatedAt       time.Time  `json:"created_at"`
	RenderedAt      *time.Time `json:"rendered_at,omitempty"`
	SHA256          string     `json:"sha256,omitempty"`
	Size            int64      `json:"size,omitempty"`
	FileName        string     `json:"file_name,omitempty"`
	TemplateVersion string     `json:"template_version,omitempty"`
	StoragePath     string     `json:"-"`
	// CaseData and CaseCertificateID are the case as the document's event
	// left it, what the document shows however late it renders. CaseData
	// is nil for documents queued before certflow kept them (migration
	// 007): those show the case as it is.
	CaseData          json.RawMessage `json:"-"`
	CaseCertificateID int64           `json:"-"`
}

// RenderedDocument is what rendering adds to a document row.
type RenderedDocument struct {
	SHA256          string
	Size            int64
	FileName        string
	TemplateVersion string
	Content         []byte // nil when kept on disk
	StoragePath     string
	At              time.Time
}

// DocumentTx is what document storage needs of a store transaction;
// stores implement it beside Tx.
type DocumentTx interface {
	Document(ctx context.Context, id int64) (Document, error)
	DocumentContent(ctx context.Context, id int64) ([]byte, error)
	// SaveRendered stores the result once: a document already rendered is
	// left as it is and ErrConflict returned, so a retried job never
	// replaces or duplicates it.
	SaveRendered(ctx context.Context, id int64, r RenderedDocument) error
	// MarkAttempt records a failed attempt; final marks the document failed.
	MarkAttempt(ctx context.Context, id int64, msg string, final bool) error
	FailedDocuments(ctx context.Context, limit int) ([]Document, error)
	// ResetDocument puts a failed document back to pending for a new job.
	ResetDocument(ctx context.Context, id int64) error
	// EventOf returns the event a document belongs to.
	EventOf(ctx context.Context, id int64) (Event, error)
	// DocumentsOf lists the documents of a case, or of every case about a
	// person (caseID 0), oldest first.
	DocumentsOf(ctx context.Context, caseID, personID int64) ([]Document, error)
	// UserName returns a user's name, for "who decided" on a form.
	UserName(ctx context.Context, id int64) (string, error)
}

// Documents returns tx's document storage.
func Documents(tx Tx) (DocumentTx, error) {
	d, ok := tx.(DocumentTx)
	if !ok {
		return nil, fmt.Errorf("workflow: store %T keeps no documents", tx)
	}
	return d, nil
}

// VisibleDocument loads document id if actor may read its case: by their
// own reach, as a deputy, or as someone the case was copied to (抄送) —
// a copy reads the case's documents as it reads the case. Reading is all
// it grants; documents change only by the case's events.
func (e *Engine) VisibleDocument(ctx context.Context, tx Tx, actor *Actor, id int64) (Document, CaseContext, error) {
	dt, err := Documents(tx)
	if err != nil {
		return Document{}, CaseContext{}, err
	}
	d, err := dt.Document(ctx, id)
	if err != nil {
		return Document{}, CaseContext{}, err
	}
	cc, _, err := e.readableCase(ctx, tx, actor, d.CaseID)
	if errors.Is(err, ErrNotFound) {
		return Document{}, CaseContext{}, fmt.Errorf("document %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Document{}, CaseContext{}, err
	}
	return d, cc, nil
}
