package documents

import "certflow/workflow"

// RenderArgs is the River job that renders one document row. It is
// enqueued in the transition's own transaction, so a document job exists
// exactly when its transition committed.
type RenderArgs struct {
	DocumentID int64            `json:"document_id"`
	CaseID     int64            `json:"case_id"`
	Doc        workflow.DocKind `json:"doc"`
}

// Kind names the job in River's tables.
func (RenderArgs) Kind() string { return "render_document" }
