package documents_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"certflow/documents"
	"certflow/workflow"
)

// township is the batch scenario on the demo data: three 派出机关 staff of
// 天山区 with applications before justice (赵磊 of 燕儿窝街道 and two of a
// second street office, one of them still awaiting approval), besides
// applications the batch must leave out: 张伟's (not 派出机关 staff) and
// 陈静's draft (no 登记表 yet).
type township struct {
	street  int64            // the second 派出机关
	members []int64          // application cases, in the batch's order
	names   []string         // their people, in the same order
	others  map[string]int64 // applications left out, by person
}

func (w *world) township(t *testing.T) township {
	t.Helper()
	tw := township{others: map[string]int64{}}
	var pALD, wJJ int64
	err := w.store.Update(w.ctx, func(tx workflow.Tx) error {
		u := workflow.OrgUnit{ParentID: w.data.Units["tianshan"], Kind: workflow.UnitTownship, Name: "天山区胜利路街道办事处"}
		if err := tx.CreateOrgUnit(w.ctx, &u); err != nil {
			return err
		}
		tw.street = u.ID
		for _, p := range []struct {
			id    *int64
			name  string
			first string
			title string
		}{
			{&pALD, "帕丽达·艾买提", "65010219920415042", "应急管理办公室主任"},
			{&wJJ, "王建军", "65010219860923011", "安全生产监管员"},
		} {
			id := workflow.IDNumber(p.first + string(workflow.IDCheckChar(p.first)))
			person := workflow.Person{Name: p.name, Sex: id.Sex(), BirthDate: id.BirthDate(), IDNumber: id, Title: p.title,
				Education: workflow.EduBachelor, Major: "安全工程", Staffed: true, Post: true, OrgUnitID: u.ID, Employment: workflow.EmploymentActive}
			if err := tx.CreatePerson(w.ctx, &person); err != nil {
				return err
			}
			*p.id = person.ID
			for _, k := range []workflow.TrainingKind{workflow.TrainingEmergency, workflow.TrainingLaw} {
				if err := tx.CreateTraining(w.ctx, &workflow.Training{PersonID: person.ID, Kind: k, Date: workflow.MustDate("2025-11-14"), Passed: true}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	apply := func(person int64, cats string, steps ...workflow.EventName) int64 {
		t.Helper()
		v, err := w.engine.OpenCase(w.ctx, w.actor(t, "clerk"), workflow.OpenCaseInput{Path: workflow.PathApplication, PersonID: person,
			Data: json.RawMessage(`{"proposed_categories":[` + cats + `],"region":"天山区行政区域"}`)})
		if err != nil {
			t.Fatal(err)
		}
		version := v.Version
		for _, ev := range steps {
			user, comment := "clerk", ""
			if ev == workflow.EvApprove {
				user, comment = "leader", "同意"
			}
			res, err := w.engine.Fire(w.ctx, workflow.Command{Actor: w.actor(t, user), CaseID: v.ID, Event: ev, ExpectedVersion: version, Comment: comment})
			if err != nil {
				t.Fatalf("%s: %v", ev, err)
			}
			version = res.Case.Version
		}
		return v.ID
	}
	both := `"安全生产监督管理","应急管理"`
	safety := `"安全生产监督管理"`
	// Opened in an order other than the list's: the list goes by 派出机关.
	wangApp := apply(wJJ, safety, workflow.EvSubmitForApproval) // pending approval
	zhaoApp := apply(w.data.People["zhaolei"], both, workflow.EvSubmitForApproval, workflow.EvApprove)
	paApp := apply(pALD, both, workflow.EvSubmitForApproval, workflow.EvApprove)
	tw.others["张伟"] = apply(w.data.People["zhangwei"], both, workflow.EvSubmitForApproval, workflow.EvApprove)
	tw.others["陈静"] = apply(w.data.People["chenjing"], safety)
	tw.members = []int64{zhaoApp, wangApp, paApp}
	tw.names = []string{"赵磊", "王建军", "帕丽达·艾买提"}
	return tw
}

// document reads document id.
func (w *world) document(t *testing.T, id int64) workflow.Document {
	t.Helper()
	var d workflow.Document
	err := w.store.View(w.ctx, func(tx workflow.Tx) error {
		dt, err := workflow.Documents(tx)
		if err != nil {
			return err
		}
		d, err = dt.Document(w.ctx, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// caseDocuments lists the documents of case id.
func (w *world) caseDocuments(t *testing.T, id int64) []workflow.Document {
	t.Helper()
	var docs []workflow.Document
	err := w.store.View(w.ctx, func(tx workflow.Tx) error {
		dt, err := workflow.Documents(tx)
		if err != nil {
			return err
		}
		docs, err = dt.DocumentsOf(w.ctx, id, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestBatchBundle compiles the township batch of 天山区 and renders it with
// Chromium: its stored PDF is the summary list followed by each person's
// stored 登记表 and 执法类别建议审批表, in the list's order. The text
// pdftotext -layout extracts, with the page count, is compared with
// testdata/batch_bundle.golden.txt (-update rewrites it); every font is
// embedded TrueType. Before the forms are rendered the batch waits for
// them; once rendered it is never rendered again.
func TestBatchBundle(t *testing.T) {
	documents.NeedChromium(t)
	w := newWorld(t)
	tw := w.township(t)
	batch, err := w.engine.CompileBatch(w.ctx, w.actor(t, "clerk"), workflow.BatchInput{})
	if err != nil {
		t.Fatal(err)
	}
	var data workflow.BatchData
	if err := json.Unmarshal(batch.Data, &data); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(data.Applications) != fmt.Sprint(tw.members) {
		t.Fatalf("batch lists %v, want %v (赵磊, 王建军, 帕丽达)", data.Applications, tw.members)
	}
	if len(batch.Documents) != 1 || batch.Documents[0].Doc != workflow.DocBatchList {
		t.Fatalf("batch documents %+v", batch.Documents)
	}
	batchDoc := w.document(t, batch.Documents[0].JobID)

	r, err := documents.NewChromiumRenderer(documents.ChromiumOptions{Tabs: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	worker := &documents.Worker{Engine: w.engine, Renderer: r}

	// The forms are not rendered yet: the batch waits, pending, and
	// renders nothing.
	err = worker.Work(w.ctx, job(batchDoc, 1))
	var cancel *river.JobCancelError
	if err == nil || errors.As(err, &cancel) || !strings.Contains(err.Error(), "not rendered yet") {
		t.Fatalf("batch before its forms: %v, want a retryable wait", err)
	}
	if d := w.document(t, batchDoc.ID); d.State != workflow.DocPending || d.Attempts != 1 || !strings.Contains(d.Error, "行政执法证件登记表") {
		t.Fatalf("after waiting: %+v", d)
	}
	if st := r.Stats(); st.Rendered != 0 {
		t.Fatalf("rendered %d documents while waiting", st.Rendered)
	}

	// Render the forms of every application, then the batch.
	want := 0
	var forms [][]byte
	for _, id := range tw.members {
		docs := w.caseDocuments(t, id)
		for _, kind := range documents.BatchForms {
			var latest []byte // the bundle takes the latest form of each kind
			for _, d := range docs {
				if d.Kind != kind {
					continue
				}
				if err := worker.Work(w.ctx, job(d, 1)); err != nil {
					t.Fatalf("%s of case %d: %v", d.Kind, id, err)
				}
				latest = w.content(t, d)
			}
			if latest != nil {
				forms = append(forms, latest)
				want += documents.PDFPages(t, latest)
			}
		}
	}
	if len(forms) != 2*len(tw.members) {
		t.Fatalf("%d forms for %d applications", len(forms), len(tw.members))
	}
	if err := worker.Work(w.ctx, job(batchDoc, 2)); err != nil {
		t.Fatal(err)
	}
	batchDoc = w.document(t, batchDoc.ID)
	if batchDoc.State != workflow.DocRendered || batchDoc.TemplateVersion != documents.TemplateVersion(workflow.DocBatchList) ||
		!strings.HasPrefix(batchDoc.FileName, "行政执法证件申领汇总表-乌鲁木齐市天山区应急管理局-650102-2026-") {
		t.Fatalf("batch document %+v", batchDoc)
	}
	bundle := w.content(t, batchDoc)
	pages := documents.PDFPages(t, bundle)
	_, form, err := documents.LoadForm(w.ctx, w.engine, batchDoc.ID)
	if err != nil {
		t.Fatal(err)
	}
	html, err := documents.RenderHTML(form)
	if err != nil {
		t.Fatal(err)
	}
	listPDF, err := r.Render(w.ctx, html)
	if err != nil {
		t.Fatal(err)
	}
	want += documents.PDFPages(t, listPDF)
	if pages != want {
		t.Errorf("the bundle has %d pages, want the list's and the forms' %d", pages, want)
	}
	documents.CheckFonts(t, bundle)

	// The forms follow the list in the list's order: each person's
	// 登记表 and 审批表 pages name them, and nobody else.
	raw := documents.PDFText(t, "bundle-raw.pdf", bundle, false)
	pageTexts := strings.Split(strings.TrimRight(raw, "\f"), "\f")
	if len(pageTexts) != pages {
		t.Fatalf("pdftotext gives %d pages, pdfinfo %d", len(pageTexts), pages)
	}
	listPages := documents.PDFPages(t, listPDF)
	for _, name := range tw.names {
		// A long name wraps in its cell.
		if !strings.Contains(strings.Join(strings.Fields(pageTexts[0]), ""), name) {
			t.Errorf("the list's first page lacks %s", name)
		}
	}
	order := []string{}
	for _, text := range pageTexts[listPages:] {
		for _, name := range tw.names {
			if strings.Contains(text, name) && (len(order) == 0 || order[len(order)-1] != name) {
				order = append(order, name)
			}
		}
	}
	if strings.Join(order, ",") != strings.Join(tw.names, ",") {
		t.Errorf("forms follow in the order %v, want %v", order, tw.names)
	}
	for _, left := range []string{"张伟", "陈静"} {
		if strings.Contains(raw, left) {
			t.Errorf("the bundle names %s, whose application is not in the batch", left)
		}
	}

	text := documents.PDFText(t, "batch-bundle.pdf", bundle, true)
	documents.CheckLineStarts(t, text)
	got := fmt.Sprintf("pages: %d\n\n%s", pages, text)
	golden := filepath.Join("testdata", "batch_bundle.golden.txt")
	if *documents.UpdateGolden {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if wantText, err := os.ReadFile(golden); err != nil {
		t.Fatalf("%v (run go test ./documents -run TestBatchBundle -update)", err)
	} else if got != string(wantText) {
		t.Errorf("text of the bundle differs from %s (run with -update after checking the PDF):\n%s", golden, documents.LineDiff(string(wantText), got))
	}

	// Stored once: a retried job changes nothing and renders nothing.
	before := r.Stats().Rendered
	if err := worker.Work(w.ctx, job(batchDoc, 3)); err != nil {
		t.Fatal(err)
	}
	if again := w.document(t, batchDoc.ID); again.SHA256 != batchDoc.SHA256 || !again.RenderedAt.Equal(*batchDoc.RenderedAt) || r.Stats().Rendered != before {
		t.Errorf("the batch was rendered again: %+v", again)
	}
}

// TestBatchFormFailed: a form of the batch that failed to render fails the
// batch at once, naming the case and the form; nothing is stored.
func TestBatchFormFailed(t *testing.T) {
	w := newWorld(t)
	tw := w.township(t)
	batch, err := w.engine.CompileBatch(w.ctx, w.actor(t, "clerk"), workflow.BatchInput{CaseIDs: tw.members[:1]})
	if err != nil {
		t.Fatal(err)
	}
	form := w.caseDocuments(t, tw.members[0])[0]
	err = w.store.Update(w.ctx, func(tx workflow.Tx) error {
		dt, _ := workflow.Documents(tx)
		return dt.MarkAttempt(w.ctx, form.ID, "documents: chromium crashed", true)
	})
	if err != nil {
		t.Fatal(err)
	}
	// No renderer is needed: the batch fails before rendering anything.
	worker := &documents.Worker{Engine: w.engine}
	err = worker.Work(w.ctx, job(w.document(t, batch.Documents[0].JobID), 1))
	var cancel *river.JobCancelError
	if !errors.As(err, &cancel) {
		t.Fatalf("batch with a failed form: %v, want the job cancelled", err)
	}
	d := w.document(t, batch.Documents[0].JobID)
	if d.State != workflow.DocFailed || d.SHA256 != "" || !strings.Contains(d.Error, "行政执法证件登记表") || !strings.Contains(d.Error, "chromium crashed") {
		t.Fatalf("batch document %+v", d)
	}
}
