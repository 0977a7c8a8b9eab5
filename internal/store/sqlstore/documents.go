package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"certflow/workflow"
)

var _ workflow.DocumentTx = (*tx)(nil)

const documentCols = `id, case_id, event_id, doc, article, state, error, attempts, created_at, rendered_at, sha256, size, file_name, template_version, storage_path, case_data, case_certificate_id`

func scanDocument(r interface{ Scan(...any) error }) (workflow.Document, error) {
	var d workflow.Document
	var rendered sql.NullTime
	var caseCert sql.NullInt64
	var caseData []byte
	err := r.Scan(&d.ID, &d.CaseID, &d.EventID, &d.Kind, &d.Article, &d.State, &d.Error, &d.Attempts, &d.CreatedAt, &rendered,
		&d.SHA256, &d.Size, &d.FileName, &d.TemplateVersion, &d.StoragePath, &caseData, &caseCert)
	if caseData != nil {
		d.CaseData = json.RawMessage(caseData)
		d.CaseCertificateID = caseCert.Int64
	}
	d.CreatedAt = d.CreatedAt.UTC()
	if rendered.Valid {
		at := rendered.Time.UTC()
		d.RenderedAt = &at
	}
	if k, ok := workflow.DocumentKindOf(d.Kind); ok {
		d.Title = k.Title
	}
	return d, err
}

func (t *tx) Document(ctx context.Context, id int64) (workflow.Document, error) {
	d, err := scanDocument(t.queryRow(ctx, `SELECT `+documentCols+` FROM documents WHERE id = $1`, id))
	return d, notFound(t.s.interpret(err), "document", id)
}

func (t *tx) DocumentContent(ctx context.Context, id int64) ([]byte, error) {
	var b []byte
	err := t.queryRow(ctx, `SELECT content FROM documents WHERE id = $1 AND state = 'rendered'`, id).Scan(&b)
	return b, notFound(t.s.interpret(err), "document", id)
}

func (t *tx) SaveRendered(ctx context.Context, id int64, r workflow.RenderedDocument) error {
	res, err := t.exec(ctx, `UPDATE documents SET state = 'rendered', error = '', rendered_at = $1, sha256 = $2, size = $3, file_name = $4,
		template_version = $5, content = $6, storage_path = $7 WHERE id = $8 AND state <> 'rendered'`,
		utc(r.At), r.SHA256, r.Size, r.FileName, r.TemplateVersion, r.Content, r.StoragePath, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: document %d is already rendered (or gone)", workflow.ErrDuplicate, id)
	}
	return nil
}

func (t *tx) MarkAttempt(ctx context.Context, id int64, msg string, final bool) error {
	state := "pending"
	if final {
		state = "failed"
	}
	_, err := t.exec(ctx, `UPDATE documents SET attempts = attempts + 1, error = $1, state = $2 WHERE id = $3 AND state <> 'rendered'`, msg, state, id)
	return err
}

func (t *tx) DocumentsOf(ctx context.Context, caseID, personID int64) ([]workflow.Document, error) {
	q, arg := `SELECT `+documentCols+` FROM documents WHERE case_id = $1 ORDER BY id`, caseID
	if caseID == 0 {
		q, arg = `SELECT `+prefixed("d.", documentCols)+` FROM documents d JOIN cases c ON c.id = d.case_id WHERE c.person_id = $1 ORDER BY d.id`, personID
	}
	rows, err := t.query(ctx, q, arg)
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	out := []workflow.Document{}
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, t.s.interpret(rows.Err())
}

// prefixed qualifies every column of a list with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

func (t *tx) FailedDocuments(ctx context.Context, n int) ([]workflow.Document, error) {
	rows, err := t.query(ctx, `SELECT `+documentCols+` FROM documents WHERE state = 'failed' ORDER BY id LIMIT $1`, limit(n))
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	var out []workflow.Document
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, t.s.interpret(rows.Err())
}

func (t *tx) ResetDocument(ctx context.Context, id int64) error {
	_, err := t.exec(ctx, `UPDATE documents SET state = 'pending', attempts = 0 WHERE id = $1 AND state = 'failed'`, id)
	return err
}

func (t *tx) EventOf(ctx context.Context, id int64) (workflow.Event, error) {
	var e workflow.Event
	var data []byte
	err := t.queryRow(ctx, `SELECT e.id, e.case_id, e.seq, e.event, e.from_state, e.to_state, e.actor_user_id, COALESCE(e.on_behalf_of_user_id, 0), e.at, e.comment, e.data
		FROM documents d JOIN events e ON e.id = d.event_id WHERE d.id = $1`, id).
		Scan(&e.ID, &e.CaseID, &e.Seq, &e.Event, &e.From, &e.To, &e.Actor, &e.OnBehalfOf, &e.At, &e.Comment, &data)
	e.Data = data
	return e, notFound(t.s.interpret(err), "document", id)
}

func (t *tx) UserName(ctx context.Context, id int64) (string, error) {
	var name string
	err := t.queryRow(ctx, `SELECT name FROM users WHERE id = $1`, id).Scan(&name)
	return name, notFound(t.s.interpret(err), "user", id)
}
