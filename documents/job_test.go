package documents_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"certflow/documents"
	"certflow/internal/demo"
	"certflow/internal/jobs"
	"certflow/internal/store/sqlite"
	"certflow/internal/store/sqlstore"
	"certflow/workflow"
)

var now = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)

type world struct {
	ctx    context.Context
	store  *sqlstore.Store
	queue  *sqlstore.Queue
	engine *workflow.Engine
	data   *demo.Data
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	s, q, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e, err := workflow.NewEngine(s, workflow.Options{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	d, err := demo.Load(ctx, s, workflow.MustDate("2026-03-10"))
	if err != nil {
		t.Fatal(err)
	}
	return &world{ctx, s, q, e, d}
}

func (w *world) actor(t *testing.T, name string) *workflow.Actor {
	a, err := w.data.Actor(w.ctx, w.store, name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// receive walks an application for 张伟 to receipt: 登记表, 审批表,
// 签收单 and the platform-entry 登记（变更）表 are queued on the way.
func (w *world) receive(t *testing.T) workflow.CaseView {
	t.Helper()
	v, err := w.engine.OpenCase(w.ctx, w.actor(t, "clerk"), workflow.OpenCaseInput{Path: workflow.PathApplication, PersonID: w.data.People["zhangwei"],
		Data: json.RawMessage(`{"proposed_categories":["安全生产监督管理","应急管理"],"region":"天山区行政区域"}`)})
	if err != nil {
		t.Fatal(err)
	}
	w.walk(t, &v, []walkStep{
		{"clerk", workflow.EvSubmitForApproval, ""},
		{"leader", workflow.EvApprove, ""},
		{"clerk", workflow.EvSubmitToIssuer, ""},
		{"justice", workflow.EvIssue, `{"number":"新0102-2026-0007","valid_until":"2031-03-09"}`},
		{"clerk", workflow.EvRecordReceipt, ""},
	})
	return v
}

// walkStep is one event walk fires: who, what, with which data.
type walkStep struct {
	user string
	ev   workflow.EventName
	data string
}

// walk fires steps on v in turn, each with a comment of its own (the
// approval's is the leader's opinion the 审批表 shows), keeping v's version.
func (w *world) walk(t *testing.T, v *workflow.CaseView, steps []walkStep) {
	t.Helper()
	for _, s := range steps {
		comment := "已核实，" + string(s.ev)
		if s.ev == workflow.EvApprove {
			comment = "同意报送司法部门核定"
		}
		res, err := w.engine.Fire(w.ctx, workflow.Command{Actor: w.actor(t, s.user), CaseID: v.ID, Event: s.ev, ExpectedVersion: v.Version, Comment: comment, Input: json.RawMessage(s.data)})
		if err != nil {
			t.Fatalf("%s: %v", s.ev, err)
		}
		v.Version = res.Case.Version
	}
}

// work starts River working w's document jobs with r, two at a time, and
// returns what stops it.
func (w *world) work(t *testing.T, r documents.Renderer) (stop func()) {
	t.Helper()
	worker := &documents.Worker{Engine: w.engine, Renderer: r}
	client, err := w.queue.Work(jobs.Config(w.engine, jobs.Options{
		Logger:   slog.New(slog.DiscardHandler),
		Register: []func(*river.Workers){func(ws *river.Workers) { river.AddWorker(ws, worker) }},
		Queues:   map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(w.ctx); err != nil {
		t.Fatal(err)
	}
	return func() { client.Stop(context.Background()) }
}

func (w *world) documents(t *testing.T) []workflow.Document {
	t.Helper()
	var docs []workflow.Document
	err := w.store.View(w.ctx, func(tx workflow.Tx) error {
		dt, err := workflow.Documents(tx)
		if err != nil {
			return err
		}
		cases, err := tx.ListCases(w.ctx, workflow.CaseFilter{Scope: workflow.Scope{All: true}, Limit: 100})
		if err != nil {
			return err
		}
		for _, c := range cases {
			ds, err := dt.DocumentsOf(w.ctx, c.ID, 0)
			if err != nil {
				return err
			}
			docs = append(docs, ds...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func (w *world) content(t *testing.T, d workflow.Document) []byte {
	var b []byte
	err := w.store.View(w.ctx, func(tx workflow.Tx) error {
		dt, _ := workflow.Documents(tx)
		var err error
		b, err = dt.DocumentContent(w.ctx, d.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func job(d workflow.Document, attempt int) *river.Job[workflow.DocumentJob] {
	return &river.Job[workflow.DocumentJob]{JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: 3},
		Args: workflow.DocumentJob{ID: d.ID, CaseID: d.CaseID, Doc: d.Kind}}
}

func needTools(t *testing.T) {
	for _, tool := range []string{"/usr/bin/chromium", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required in CI", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

func text(t *testing.T, pdf []byte) string {
	path := filepath.Join(t.TempDir(), "d.pdf")
	os.WriteFile(path, pdf, 0o644)
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestWorkerRendersOnce: every queued document of a real case renders
// from the stored data, is stored with its hash, and a retried job leaves
// it as it is.
func TestWorkerRendersOnce(t *testing.T) {
	needTools(t)
	w := newWorld(t)
	v := w.receive(t)
	r, err := documents.NewChromiumRenderer(documents.ChromiumOptions{Tabs: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	worker := &documents.Worker{Engine: w.engine, Renderer: r}
	docs := w.documents(t)
	kinds := map[workflow.DocKind]bool{}
	for _, d := range docs {
		kinds[d.Kind] = true
		if err := worker.Work(w.ctx, job(d, 1)); err != nil {
			t.Fatalf("%s: %v", d.Kind, err)
		}
	}
	for _, k := range []workflow.DocKind{workflow.DocRegistrationForm, workflow.DocCategoryProposal, workflow.DocReceipt, workflow.DocInfoChange} {
		if !kinds[k] {
			t.Errorf("no %s queued", k)
		}
	}
	for _, d := range w.documents(t) {
		if d.State != workflow.DocRendered {
			t.Fatalf("%s: %s %s", d.Kind, d.State, d.Error)
		}
		pdf := w.content(t, d)
		sum := sha256.Sum256(pdf)
		if hex.EncodeToString(sum[:]) != d.SHA256 || int64(len(pdf)) != d.Size || d.TemplateVersion == "" {
			t.Fatalf("%s: stored %d bytes, hash %s", d.Kind, len(pdf), d.SHA256)
		}
		txt := text(t, pdf)
		if !strings.Contains(txt, "张伟") || !strings.Contains(txt, "650102-2026-") {
			t.Fatalf("%s: text lacks the person or the case number:\n%s", d.Kind, txt)
		}
		if !strings.HasPrefix(d.FileName, d.Title+"-张伟-") {
			t.Fatalf("file name %q", d.FileName)
		}
		// A retry of the same job changes nothing.
		if err := worker.Work(w.ctx, job(d, 2)); err != nil {
			t.Fatal(err)
		}
		var again workflow.Document
		w.store.View(w.ctx, func(tx workflow.Tx) error {
			dt, _ := workflow.Documents(tx)
			again, _ = dt.Document(w.ctx, d.ID)
			return nil
		})
		if again.SHA256 != d.SHA256 || !again.RenderedAt.Equal(*d.RenderedAt) {
			t.Fatalf("%s re-rendered", d.Kind)
		}
	}
	_ = v
}

// TestWorkerFailsLoudly: a renderer that keeps failing leaves the document
// pending with its error until the last attempt, then failed; rerender
// queues it again.
func TestWorkerFailsLoudly(t *testing.T) {
	w := newWorld(t)
	w.receive(t)
	broken := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		http.Error(rw, "chromium crashed", http.StatusInternalServerError)
	}))
	defer broken.Close()
	r, err := documents.NewGotenbergRenderer(documents.GotenbergOptions{URL: broken.URL})
	if err != nil {
		t.Fatal(err)
	}
	worker := &documents.Worker{Engine: w.engine, Renderer: r}
	d := w.documents(t)[0]
	if err := worker.Work(w.ctx, job(d, 1)); err == nil {
		t.Fatal("a failing renderer succeeded")
	}
	if got := w.documents(t)[0]; got.State != workflow.DocPending || got.Attempts != 1 || !strings.Contains(got.Error, "500") {
		t.Fatalf("after attempt 1: %+v", got)
	}
	if err := worker.Work(w.ctx, job(d, 3)); err == nil {
		t.Fatal("a failing renderer succeeded")
	}
	if got := w.documents(t)[0]; got.State != workflow.DocFailed || got.Attempts != 2 || got.Error == "" {
		t.Fatalf("after the last attempt: %+v", got)
	}
	n, err := documents.Rerender(w.ctx, w.engine, func(ctx context.Context, tx workflow.Tx, j workflow.DocumentJob) error { return nil })
	if err != nil || n != 1 {
		t.Fatalf("rerender: %d %v", n, err)
	}
	if got := w.documents(t)[0]; got.State != workflow.DocPending || got.Attempts != 0 {
		t.Fatalf("after rerender: %+v", got)
	}
}

// TestDocumentsThroughRiver: with River working, a transition's documents
// get rendered in the background; the transition never waited for them.
func TestDocumentsThroughRiver(t *testing.T) {
	needTools(t)
	w := newWorld(t)
	r, err := documents.NewChromiumRenderer(documents.ChromiumOptions{Tabs: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.work(t, r)()
	w.receive(t)
	deadline := time.Now().Add(90 * time.Second)
	for {
		docs := w.documents(t)
		done := 0
		for _, d := range docs {
			if d.State == workflow.DocRendered {
				done++
			}
			if d.State == workflow.DocFailed {
				t.Fatalf("%s failed: %s", d.Kind, d.Error)
			}
		}
		if done == len(docs) && done >= 4 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rendered %d of %d", done, len(docs))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestFormShowsTheCaseAsItsEventLeftIt: a document rendered late — here
// after the application went on to approval, issue and receipt — shows
// the case (its data and certificate) as the event that queued it left
// it, not as it is now; a document queued before certflow kept that (no
// snapshot) shows the case as it is. The person's other certificates and
// trainings are read as they are (not kept).
func TestFormShowsTheCaseAsItsEventLeftIt(t *testing.T) {
	w := newWorld(t)
	v := w.receive(t)
	form := func(kind workflow.DocKind, nth ...int) (workflow.Document, documents.Form) {
		t.Helper()
		n := 0
		if len(nth) > 0 {
			n = nth[0]
		}
		for _, d := range w.documents(t) {
			if d.CaseID == v.ID && d.Kind == kind && n == 0 {
				doc, f, err := documents.LoadForm(w.ctx, w.engine, d.ID)
				if err != nil {
					t.Fatal(err)
				}
				return doc, f
			}
			if d.CaseID == v.ID && d.Kind == kind {
				n--
			}
		}
		t.Fatalf("no %s", kind)
		return workflow.Document{}, documents.Form{}
	}
	doc, f := form(workflow.DocCategoryProposal)
	if a := f.Application; len(a.ProposedCategories) != 2 || len(a.AgreedCategories) != 0 || len(a.ConfirmedCategories) != 0 {
		t.Errorf("审批表 of submit_for_approval shows %+v: want only the proposal", a)
	}
	// The leader's box: blank on the form made at submission, the
	// leader's opinion and date on the one made at approval.
	leaderBox := func(f documents.Form) string {
		t.Helper()
		html, err := documents.RenderHTML(f)
		if err != nil {
			t.Fatal(err)
		}
		_, box, _ := strings.Cut(string(html), "主要负责人审查意见")
		box, _, _ = strings.Cut(box, "司法部门核定意见")
		return box
	}
	if box := leaderBox(f); strings.Contains(box, "已核实") || !strings.Contains(box, "　　年　　月　　日") {
		t.Errorf("审批表 of submit_for_approval fills the leader's box: %s", box)
	}
	if _, f := form(workflow.DocCategoryProposal, 1); !strings.Contains(leaderBox(f), "同意报送司法部门核定") || strings.Contains(leaderBox(f), "　　年　　月　　日") {
		t.Errorf("审批表 of approve leaves out the leader's opinion: %s", leaderBox(f))
	}
	if _, f := form(workflow.DocReceipt); len(f.Application.ConfirmedCategories) != 2 || f.Certificate.Number != "新0102-2026-0007" {
		t.Errorf("签收单 of record_receipt shows %+v, certificate %q: want the issued certificate", f.Application, f.Certificate.Number)
	}
	if _, err := w.store.DB().ExecContext(w.ctx, `UPDATE documents SET case_data = NULL, case_certificate_id = NULL WHERE id = $1`, doc.ID); err != nil {
		t.Fatal(err)
	}
	if _, f := form(workflow.DocCategoryProposal); len(f.Application.AgreedCategories) != 2 || len(f.Application.ConfirmedCategories) != 2 {
		t.Errorf("审批表 without a snapshot shows %+v: want the case as it is", f.Application)
	}
}

// TestDepartureClearanceListsTheReturns: the 清退确认单 is made when the
// departure completes, every certificate back: it lists them with the day
// each came back, not "未持有行政执法证件" because none is out any more.
func TestDepartureClearanceListsTheReturns(t *testing.T) {
	w := newWorld(t)
	app := w.receive(t)
	v, err := w.engine.CaseView(w.ctx, w.actor(t, "clerk"), app.ID)
	if err != nil {
		t.Fatal(err)
	}
	dep, err := w.engine.OpenCase(w.ctx, w.actor(t, "hr"), workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: v.PersonID,
		Data: json.RawMessage(`{"reason":"辞职"}`)})
	if err != nil {
		t.Fatal(err)
	}
	w.walk(t, &dep, []walkStep{
		{"clerk", workflow.EvRecordReturn, fmt.Sprintf(`{"certificate_id":%d,"returned_on":"2026-03-10"}`, v.CertificateID)},
		{"hr", workflow.EvComplete, ""},
	})
	// The departure's Art. 14 change report: its form names the
	// certificate the officer held, though none is out any more.
	changes := 0
	for _, d := range w.documents(t) {
		if d.Kind != workflow.DocInfoChange {
			continue
		}
		changes++
		_, f, err := documents.LoadForm(w.ctx, w.engine, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := documents.RenderHTML(f); err != nil || f.Certificate.Number != "新0102-2026-0007" {
			t.Fatalf("信息变更表 after the departure: certificate %q, %v", f.Certificate.Number, err)
		}
	}
	if changes == 0 {
		t.Fatal("the departure reported no change (Art. 14)")
	}
	for _, d := range w.documents(t) {
		if d.CaseID != dep.ID || d.Kind != workflow.DocDepartureClearance {
			continue
		}
		_, f, err := documents.LoadForm(w.ctx, w.engine, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Certificates) != 1 || f.Certificates[0].Number != "新0102-2026-0007" || f.Certificates[0].ReturnedOn != workflow.MustDate("2026-03-10") {
			t.Fatalf("the 清退确认单 lists %+v", f.Certificates)
		}
		html, err := documents.RenderHTML(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(html), "未持有") || !strings.Contains(string(html), "共1本，已全部交回") {
			t.Fatal("the 清退确认单 says the person held no certificate")
		}
		return
	}
	t.Fatal("no 清退确认单")
}
