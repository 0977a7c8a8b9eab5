package documents

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/riverqueue/river"

	"certflow/workflow"
)

// Worker renders the document jobs transitions enqueue (workflow.DocumentJob):
// it builds the Form from what the store knows, renders it, and stores the
// PDF once. A job retried after a crash finds its document rendered and
// does nothing; a job that keeps failing ends with the document marked
// failed and its error kept.
type Worker struct {
	river.WorkerDefaults[workflow.DocumentJob]
	Engine   *workflow.Engine
	Renderer Renderer
	// Dir, when set, keeps PDFs on disk (content-addressed by SHA-256)
	// instead of in the database.
	Dir    string
	Logger *slog.Logger
}

// Work renders one document.
func (w *Worker) Work(ctx context.Context, job *river.Job[workflow.DocumentJob]) error {
	id := job.Args.ID
	doc, form, err := LoadForm(ctx, w.Engine, id)
	if err == nil && doc.State == workflow.DocRendered {
		return nil // a retry after the first attempt stored it: never twice
	}
	final := job.Attempt >= job.MaxAttempts
	if err != nil {
		w.mark(ctx, id, err, final)
		return err
	}
	html, err := RenderHTML(form)
	if err != nil {
		// Bad data (ErrInvalidForm) never improves by retrying: fail now,
		// with the field named, and let the clerk correct and rerender.
		final = final || errors.Is(err, ErrInvalidForm)
		w.mark(ctx, id, err, final)
		if final {
			return river.JobCancel(err)
		}
		return err
	}
	// A batch list is stored with the forms that follow it (batch.go):
	// gather them first, so a form still pending costs no rendering.
	var forms [][]byte
	if doc.Kind == workflow.DocBatchList {
		var permanent bool
		forms, permanent, err = batchAttachments(ctx, w.Engine, doc.CaseID)
		if err != nil {
			final = final || permanent
			w.mark(ctx, id, err, final)
			if final {
				return river.JobCancel(err)
			}
			return err
		}
	}
	pdf, err := w.Renderer.Render(ctx, html)
	if err == nil {
		err = CheckPDF(pdf)
	}
	if err == nil && forms != nil {
		pdf, err = Merge(append([][]byte{pdf}, forms...)...)
	}
	if err != nil {
		w.mark(ctx, id, err, final)
		return err
	}
	sum := sha256.Sum256(pdf)
	r := workflow.RenderedDocument{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(pdf)), FileName: FileName(doc, form),
		TemplateVersion: TemplateVersion(doc.Kind), At: w.Engine.Now()}
	if w.Dir != "" {
		if r.StoragePath, err = w.keep(r.SHA256, pdf); err != nil {
			w.mark(ctx, id, err, final)
			return err
		}
	} else {
		r.Content = pdf
	}
	err = w.Engine.Store().Update(ctx, func(tx workflow.Tx) error {
		dt, err := workflow.Documents(tx)
		if err != nil {
			return err
		}
		return dt.SaveRendered(ctx, id, r)
	})
	if errors.Is(err, workflow.ErrConflict) {
		return nil // rendered meanwhile by another attempt: keep the first
	}
	return err
}

// keep writes pdf under Dir as <sha256>.pdf, atomically, and returns the
// file's absolute path: a relative --documents-dir must not make the
// stored path depend on the directory a later serve starts in. A file of
// that name already there is reused only when its bytes are pdf's.
func (w *Worker) keep(sum string, pdf []byte) (string, error) {
	dir, err := filepath.Abs(w.Dir)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, sum[:2], sum+".pdf")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, pdf) {
		return path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return "", err
	}
	if _, err := tmp.Write(pdf); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return path, nil
}

func (w *Worker) mark(ctx context.Context, id int64, cause error, final bool) {
	err := w.Engine.Store().Update(ctx, func(tx workflow.Tx) error {
		dt, err := workflow.Documents(tx)
		if err != nil {
			return err
		}
		msg := cause.Error()
		if len(msg) > 2000 {
			msg = msg[:2000]
		}
		return dt.MarkAttempt(ctx, id, msg, final)
	})
	if err != nil && w.Logger != nil {
		w.Logger.ErrorContext(ctx, "documents: recording a failed attempt", "document", id, "err", err)
	}
}

// FileName is the download name of a document: its title, the person (a
// batch list: the department) and the case number, e.g.
// 行政执法证件登记表-张伟-650102-2026-000012.pdf.
func FileName(d workflow.Document, f Form) string {
	parts := []string{d.Title}
	switch {
	case f.Person.Name != "":
		parts = append(parts, f.Person.Name)
	case d.Kind == workflow.DocBatchList && f.Department.Name != "":
		parts = append(parts, f.Department.Name)
	}
	parts = append(parts, f.CaseNumber)
	name := strings.Join(parts, "-")
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < 0x20 {
			return '_'
		}
		return r
	}, name)
	return name + ".pdf"
}

// justiceOf names the 司法部门 at a department's level: 乌鲁木齐市应急管理局
// → 乌鲁木齐市司法局, 新疆维吾尔自治区应急管理厅 → 新疆维吾尔自治区司法厅.
func justiceOf(dept string) string {
	for _, suffix := range []string{"应急管理局", "应急管理厅"} {
		if base, ok := strings.CutSuffix(dept, suffix); ok {
			return base + "司法" + suffix[len(suffix)-3:]
		}
	}
	return dept + "同级司法行政部门"
}

// fieldRenames maps case-data keys to the Fields keys of a kind where the
// names differ.
var fieldRenames = map[workflow.DocKind]map[string]string{
	workflow.DocLossNotice:         {"notice_medium": "medium", "notice_on": "published_on"},
	workflow.DocComplaintForm:      {"kind": "type", "complainant_name": "complainant"},
	workflow.DocOutcomeNotice:      {"kind": "type", "complainant_name": "complainant"},
	workflow.DocInfoChange:         {"details": "change_detail", "emergency_entered_on": "platform_emergency_on", "random_entered_on": "platform_random_on"},
	workflow.DocReturnReceipt:      {},
	workflow.DocDepartureClearance: {"effective_on": "departure_on"},
}

// LoadForm builds the Form of document id from the store, in one read
// transaction: the job renders it, the preview shows it.
func LoadForm(ctx context.Context, engine *workflow.Engine, id int64) (workflow.Document, Form, error) {
	var doc workflow.Document
	var f Form
	err := engine.Store().View(ctx, func(tx workflow.Tx) error {
		dt, err := workflow.Documents(tx)
		if err != nil {
			return err
		}
		if doc, err = dt.Document(ctx, id); err != nil {
			return err
		}
		cc, err := tx.CaseContext(ctx, doc.CaseID)
		if err != nil {
			return err
		}
		if doc.CaseData != nil { // the case as the event left it
			cc.Case.Data, cc.Case.CertificateID = doc.CaseData, doc.CaseCertificateID
		}
		ev, err := dt.EventOf(ctx, id)
		if err != nil {
			return err
		}
		actor, _ := dt.UserName(ctx, ev.Actor)
		f = Form{Kind: doc.Kind, Article: doc.Article, CaseNumber: cc.Case.Number, GeneratedAt: engine.Now(),
			Department: DepartmentOf(cc.Department), Decision: Decision{Event: ev.Event, Comment: ev.Comment, Actor: actor, Date: workflow.DateOf(ev.At.In(shanghai))}}
		f.Department.Justice = justiceOf(cc.Department.Name)
		if cc.Person.ID != 0 {
			f.Person = PersonOf(cc.Person, cc.Unit.Name)
			trs, err := tx.Trainings(ctx, cc.Person.ID)
			if err != nil {
				return err
			}
			f.Trainings = TrainingsOf(trs)
			certs, err := tx.CertificatesOf(ctx, cc.Person.ID)
			if err != nil {
				return err
			}
			for _, c := range certs {
				fc := CertificateOf(c)
				if c.Replaces != 0 {
					if i := slices.IndexFunc(certs, func(o workflow.Certificate) bool { return o.ID == c.Replaces }); i >= 0 {
						fc.Replaces = certs[i].Number
					}
				}
				if c.ID == cc.Case.CertificateID {
					f.Certificate = fc
				}
				if c.Outstanding() || c.ID == cc.Case.CertificateID {
					f.Certificates = append(f.Certificates, fc)
				}
			}
			if doc.Kind == workflow.DocInfoChange && len(f.Certificates) == 0 && len(certs) > 0 {
				// The change took the last one back (a departure): the
				// form reports the certificate the officer held.
				f.Certificates = []Certificate{CertificateOf(certs[len(certs)-1])}
			}
			if doc.Kind == workflow.DocDepartureClearance {
				if f.Certificates, err = clearedCertificates(ctx, tx, cc.Case.ID, certs); err != nil {
					return err
				}
			}
		}
		return fields(ctx, tx, cc, doc, &f)
	})
	return doc, f, err
}

// clearedCertificates are the certificates departure case id cleared, for
// its 清退确认单: every one it asked back (a return task each), with the
// day it came back when the departure recorded that (record_return); one
// that left by another path (surrendered, voided) shows its state.
func clearedCertificates(ctx context.Context, tx workflow.Tx, id int64, certs []workflow.Certificate) ([]Certificate, error) {
	tasks, err := tx.CaseTasks(ctx, id)
	if err != nil {
		return nil, err
	}
	history, err := tx.CaseEvents(ctx, id)
	if err != nil {
		return nil, err
	}
	returned := map[int64]workflow.Date{}
	for _, ev := range history {
		if ev.Event != workflow.EvRecordReturn {
			continue
		}
		var in workflow.ReturnInput
		if json.Unmarshal(ev.Data, &in) == nil && in.CertificateID != 0 {
			if in.ReturnedOn.IsZero() { // today, as recordReturn took it
				in.ReturnedOn = workflow.DateOf(ev.At.In(shanghai))
			}
			returned[in.CertificateID] = in.ReturnedOn
		}
	}
	out := []Certificate{}
	var seen []int64
	for _, t := range tasks {
		if t.Kind != workflow.TaskReturnCertificate || t.CertificateID == 0 || slices.Contains(seen, t.CertificateID) {
			continue
		}
		i := slices.IndexFunc(certs, func(c workflow.Certificate) bool { return c.ID == t.CertificateID })
		if i < 0 {
			continue
		}
		seen = append(seen, t.CertificateID)
		c := CertificateOf(certs[i])
		c.ReturnedOn = returned[t.CertificateID]
		out = append(out, c)
	}
	return out, nil
}

// fields fills what only the case's path knows.
func fields(ctx context.Context, tx workflow.Tx, cc workflow.CaseContext, doc workflow.Document, f *Form) error {
	var data map[string]any
	_ = json.Unmarshal(cc.Case.Data, &data)
	values := map[string]string{}
	switch cc.Case.Path {
	case workflow.PathApplication, workflow.PathMinistryApplication:
		var d workflow.ApplicationData
		_ = json.Unmarshal(cc.Case.Data, &d)
		f.Application = ApplicationOf(d)
	case workflow.PathTownshipBatch:
		if err := batchRows(ctx, tx, cc.Case, f); err != nil {
			return err
		}
		values["note"] = batchNote
	}
	for k, v := range data {
		switch v := v.(type) {
		case string:
			values[k] = v
		case float64:
			values[k] = strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	switch doc.Kind {
	case workflow.DocSuspensionDecision, workflow.DocSurrenderLetter:
		if g, ok := data["ground"].(float64); ok {
			values["ground"] = workflow.GroundText(int(g))
		}
	case workflow.DocRestorationNotice:
		events, err := tx.CaseEvents(ctx, cc.Case.ID)
		if err != nil {
			return err
		}
		for _, e := range events {
			if e.Event == workflow.EvSuspend {
				values["suspended_on"] = workflow.DateOf(e.At.In(shanghai)).String()
			}
		}
	case workflow.DocInfoChange:
		if values["reason"] == "receipt" {
			values["change"], values["change_on"] = "首次录入", values["received_on"]
		} else {
			values["change_on"] = values["changed_on"]
		}
		if on, err := workflow.ParseDate(values["change_on"]); err == nil {
			values["due_on"] = on.AddMonths(1).String()
		}
	case workflow.DocComplaintForm:
		tasks, err := tx.CaseTasks(ctx, cc.Case.ID)
		if err != nil {
			return err
		}
		for _, t := range tasks {
			if t.Kind == workflow.TaskHandleComplaint {
				values["due_on"] = t.DueOn.String()
			}
		}
	case workflow.DocOutcomeNotice:
		if values["complainant_name"] == "" {
			values["complainant_name"] = "举报人"
		}
	}
	keep := map[string]bool{}
	for _, k := range FieldKeys(doc.Kind) {
		keep[k.Key] = true
	}
	f.Fields = map[string]string{}
	for k, v := range values {
		if r, ok := fieldRenames[doc.Kind][k]; ok {
			k = r
		}
		if keep[k] && v != "" {
			f.Fields[k] = v
		}
	}
	if f.Certificate.Number == "" && len(f.Certificates) == 1 {
		f.Certificate = f.Certificates[0]
	}
	if on, ok := f.Fields["returned_on"]; ok {
		if d, err := workflow.ParseDate(on); err == nil {
			f.Certificate.ReturnedOn = d
		}
	}
	return nil
}

// Rerender queues failed documents again: each is reset to pending and
// gets a new job. It returns how many.
func Rerender(ctx context.Context, engine *workflow.Engine, enqueue func(ctx context.Context, tx workflow.Tx, job workflow.DocumentJob) error) (int, error) {
	n := 0
	err := engine.Store().Update(ctx, func(tx workflow.Tx) error {
		dt, err := workflow.Documents(tx)
		if err != nil {
			return err
		}
		failed, err := dt.FailedDocuments(ctx, 500)
		if err != nil {
			return err
		}
		for _, d := range failed {
			if err := dt.ResetDocument(ctx, d.ID); err != nil {
				return err
			}
			if err := enqueue(ctx, tx, workflow.DocumentJob{ID: d.ID, Doc: d.Kind, CaseID: d.CaseID, EventID: d.EventID, Article: d.Article}); err != nil {
				return fmt.Errorf("documents: queue document %d: %w", d.ID, err)
			}
			n++
		}
		return nil
	})
	return n, err
}
