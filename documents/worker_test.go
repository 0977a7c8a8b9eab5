package documents_test

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"certflow/documents"
	"certflow/workflow"
)

// staff records n eligible staff of 天山区's enforcement unit, named
// 批次01号 … (no name a part of another), and returns their IDs.
func (w *world) staff(t *testing.T, n int) []int64 {
	t.Helper()
	var ids []int64
	err := w.store.Update(w.ctx, func(tx workflow.Tx) error {
		for i := range n {
			first := fmt.Sprintf("650102199001%02d%03d", i+1, 101+2*i)
			id := workflow.IDNumber(first + string(workflow.IDCheckChar(first)))
			p := workflow.Person{Name: fmt.Sprintf("批次%02d号", i+1), Sex: id.Sex(), BirthDate: id.BirthDate(), IDNumber: id, Title: "科员",
				Education: workflow.EduBachelor, Staffed: true, Post: true, OrgUnitID: w.data.Units["tianshan.business"], Employment: workflow.EmploymentActive}
			if err := tx.CreatePerson(w.ctx, &p); err != nil {
				return err
			}
			for _, k := range []workflow.TrainingKind{workflow.TrainingEmergency, workflow.TrainingLaw} {
				if err := tx.CreateTraining(w.ctx, &workflow.Training{PersonID: p.ID, Kind: k, Date: workflow.MustDate("2025-11-14"), Passed: true}); err != nil {
					return err
				}
			}
			ids = append(ids, p.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// submit opens an application for person and submits it for approval:
// its 登记表 and 执法类别建议审批表 are queued.
func (w *world) submit(t *testing.T, person int64) workflow.CaseView {
	t.Helper()
	clerk := w.actor(t, "clerk")
	v, err := w.engine.OpenCase(w.ctx, clerk, workflow.OpenCaseInput{Path: workflow.PathApplication, PersonID: person,
		Data: json.RawMessage(`{"proposed_categories":["安全生产监督管理"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.engine.Fire(w.ctx, workflow.Command{Actor: clerk, CaseID: v.ID, Event: workflow.EvSubmitForApproval, ExpectedVersion: v.Version}); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWorkerKillBrowserMidBatch: River renders the documents of several
// cases with two tabs while the browser's whole process tree is killed.
// Every document ends rendered, holding its own person, and was rendered
// once: the renderer printed exactly as many PDFs as there are documents.
func TestWorkerKillBrowserMidBatch(t *testing.T) {
	needTools(t)
	w := newWorld(t)
	r, err := documents.NewChromiumRenderer(documents.ChromiumOptions{Tabs: 2, Timeout: 20 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Warm(w.ctx); err != nil {
		t.Fatal(err)
	}
	people := w.staff(t, 6)
	for _, p := range people {
		w.submit(t, p)
	}
	docs := w.documents(t)
	if len(docs) != 2*len(people) {
		t.Fatalf("%d documents queued for %d applications", len(docs), len(people))
	}

	before := r.Stats()
	defer w.work(t, r)()

	deadline := time.Now().Add(time.Minute)
	for r.Stats().Rendered < before.Rendered+2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	pids := documents.BrowserPIDs(before.Profile)
	if len(pids) == 0 {
		t.Fatal("found no browser process to kill")
	}
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}

	deadline = time.Now().Add(2 * time.Minute)
	for {
		done := 0
		for _, d := range w.documents(t) {
			if d.State == workflow.DocFailed {
				t.Fatalf("document %d (%s) failed: %s", d.ID, d.Kind, d.Error)
			}
			if d.State == workflow.DocRendered {
				done++
			}
		}
		if done == len(docs) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d documents rendered", done, len(docs))
		}
		time.Sleep(100 * time.Millisecond)
	}
	after := r.Stats()
	if after.Killed < 1 || after.PID == before.PID {
		t.Errorf("stats %+v after %+v: want the browser killed and replaced", after, before)
	}
	if got := after.Rendered - before.Rendered; got != int64(len(docs)) {
		t.Errorf("the renderer printed %d PDFs for %d documents", got, len(docs))
	}
	seen := map[[32]byte]int64{}
	for _, d := range w.documents(t) {
		pdf := w.content(t, d)
		sum := sha256.Sum256(pdf)
		if other, dup := seen[sum]; dup {
			t.Errorf("documents %d and %d hold the same PDF", other, d.ID)
		}
		seen[sum] = d.ID
		var c workflow.Case
		w.store.View(w.ctx, func(tx workflow.Tx) (err error) { c, err = tx.Case(w.ctx, d.CaseID); return err })
		txt := text(t, pdf)
		for i, p := range people {
			name := fmt.Sprintf("批次%02d号", i+1)
			if has := strings.Contains(txt, name); has != (p == c.PersonID) {
				t.Errorf("document %d (%s) of person %d: names %s: %v", d.ID, d.Kind, c.PersonID, name, has)
			}
		}
	}
}

// TestWorkerBadStoredData: what the store holds is rendered escaped (a name
// with markup prints as text) or, when a required field is blank, fails
// the job at once with the field named; nothing is stored for it.
func TestWorkerBadStoredData(t *testing.T) {
	w := newWorld(t)
	people := w.staff(t, 2)
	rename := func(id int64, name string) {
		t.Helper()
		err := w.store.Update(w.ctx, func(tx workflow.Tx) error {
			p, err := tx.Person(w.ctx, id)
			if err != nil {
				return err
			}
			p.Name = name
			return tx.UpdatePerson(w.ctx, &p)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	blank := w.submit(t, people[0])
	rename(people[0], "   ")

	// Failing needs no browser: the form is refused before rendering.
	worker := &documents.Worker{Engine: w.engine}
	form := w.caseDocuments(t, blank.ID)[0]
	err := worker.Work(w.ctx, job(form, 1))
	var cancel *river.JobCancelError
	if !errors.As(err, &cancel) || !errors.Is(err, documents.ErrInvalidForm) {
		t.Fatalf("a blank name: %v, want the job cancelled with ErrInvalidForm", err)
	}
	if d := w.document(t, form.ID); d.State != workflow.DocFailed || !strings.Contains(d.Error, "Person.Name") || d.SHA256 != "" || d.Attempts != 1 {
		t.Fatalf("after a blank name: %+v", d)
	}

	needTools(t)
	r, err := documents.NewChromiumRenderer(documents.ChromiumOptions{Tabs: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	worker.Renderer = r
	script := `<script>alert("x")</script>王<b>五</b>`
	marked := w.submit(t, people[1])
	rename(people[1], script)
	for _, d := range w.caseDocuments(t, marked.ID) {
		if err := worker.Work(w.ctx, job(d, 1)); err != nil {
			t.Fatalf("%s: %v", d.Kind, err)
		}
		d = w.document(t, d.ID)
		txt := strings.Join(strings.Fields(text(t, w.content(t, d))), "")
		// The long name wraps in its cell: look for its parts.
		if d.State != workflow.DocRendered || !strings.Contains(txt, `<script>alert("x")</script>`) || !strings.Contains(txt, "</b>") {
			t.Errorf("%s: %s, text %q", d.Kind, d.State, txt)
		}
	}
}

// TestWorkerRefusesBrokenPDF: a renderer that answers 200 with something
// that is not a whole PDF never gets it stored: the document stays
// pending with the reason, and fails with it after the last attempt.
func TestWorkerRefusesBrokenPDF(t *testing.T) {
	whole := []byte("%PDF-1.7\n" + strings.Repeat("0", 4096) + "\n%%EOF\n")
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"empty", nil, "not a PDF"},
		{"html", []byte("<html><body>Gotenberg error page</body></html>"), "not a PDF"},
		{"truncated", whole[:len(whole)-200], "truncated"},
		{"tiny", []byte("%PDF-1.7\n%%EOF\n"), "too small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
				calls.Add(1)
				rw.Header().Set("Content-Type", "application/pdf")
				rw.Write(tt.body)
			}))
			defer srv.Close()
			r, err := documents.NewGotenbergRenderer(documents.GotenbergOptions{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			worker := &documents.Worker{Engine: w.engine, Renderer: r}
			v := w.submit(t, w.staff(t, 1)[0])
			d := w.caseDocuments(t, v.ID)[0]
			for attempt := 1; attempt <= 3; attempt++ {
				if err := worker.Work(w.ctx, job(d, attempt)); err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("attempt %d: %v, want an error saying %q", attempt, err, tt.want)
				}
				got := w.document(t, d.ID)
				state := workflow.DocPending
				if attempt == 3 {
					state = workflow.DocFailed
				}
				if got.State != state || got.Attempts != attempt || !strings.Contains(got.Error, tt.want) || got.SHA256 != "" || got.Size != 0 {
					t.Fatalf("after attempt %d: %+v", attempt, got)
				}
			}
			if calls.Load() != 3 {
				t.Errorf("the renderer was called %d times, want 3", calls.Load())
			}
		})
	}
}
