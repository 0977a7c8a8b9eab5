package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"certflow/documents"
	"certflow/internal/demo"
	"certflow/internal/store/sqlite"
	"certflow/workflow"
)

// batchWorld is the API over a SQLite file with the demo data (天山区, a
// county, with its 燕儿窝街道) and a second street office of 天山区 with
// two staff; the demo users' tokens call it.
type batchWorld struct {
	*fixture
	data   *demo.Data
	street int64            // 天山区胜利路街道办事处
	people map[string]int64 // the street office's staff: "pa", "wang"
}

func batchSetup(t *testing.T) *batchWorld {
	t.Helper()
	ctx := context.Background()
	store, _, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "batch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clock := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	engine, err := workflow.NewEngine(store, workflow.Options{Clock: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	data, err := demo.Load(ctx, store, workflow.DateOf(clock))
	if err != nil {
		t.Fatal(err)
	}
	w := &batchWorld{data: data, people: map[string]int64{}}
	err = store.Update(ctx, func(tx workflow.Tx) error {
		u := workflow.OrgUnit{ParentID: data.Units["tianshan"], Kind: workflow.UnitTownship, Name: "天山区胜利路街道办事处"}
		if err := tx.CreateOrgUnit(ctx, &u); err != nil {
			return err
		}
		w.street = u.ID
		for key, p := range map[string][2]string{"pa": {"帕丽达·艾买提", "65010219920415042"}, "wang": {"王建军", "65010219860923011"}} {
			id := idNumber(p[1])
			person := workflow.Person{Name: p[0], Sex: id.Sex(), BirthDate: id.BirthDate(), IDNumber: id, Title: "安全生产监管员",
				Education: workflow.EduBachelor, Staffed: true, Post: true, OrgUnitID: u.ID, Employment: workflow.EmploymentActive}
			if err := tx.CreatePerson(ctx, &person); err != nil {
				return err
			}
			w.people[key] = person.ID
			for _, k := range []workflow.TrainingKind{workflow.TrainingEmergency, workflow.TrainingLaw} {
				if err := tx.CreateTraining(ctx, &workflow.Training{PersonID: person.ID, Kind: k, Date: workflow.MustDate("2025-11-14"), Passed: true}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a := newAPI(engine, nil)
	srv := httptest.NewServer(a.router)
	t.Cleanup(srv.Close)
	w.fixture = &fixture{srv: srv, engine: engine, api: a}
	return w
}

// apply opens an application for person as the demo clerk of user's
// department and fires events on it, each by the demo user named.
func (w *batchWorld) apply(t *testing.T, clerk string, person int64, steps ...string) workflow.CaseView {
	t.Helper()
	var v workflow.CaseView
	w.do(t, "POST", "/api/v1/cases", demo.Token(clerk),
		`{"path":"application","person_id":`+itoa(person)+`,"data":{"proposed_categories":["安全生产监督管理","应急管理"]}}`).
		decode(t, http.StatusCreated, &v)
	for _, step := range steps {
		user, event, _ := strings.Cut(step, ":")
		comment := ""
		if event == "approve" {
			comment = "同意"
		}
		w.do(t, "POST", "/api/v1/cases/"+itoa(v.ID)+"/events", demo.Token(user),
			fmt.Sprintf(`{"event":%q,"expected_version":%d,"comment":%q}`, event, v.Version, comment)).decode(t, http.StatusOK, &v)
	}
	return v
}

// compile posts a batch request as user.
func (w *batchWorld) compile(t *testing.T, user, body string, hdr ...string) response {
	t.Helper()
	return w.do(t, "POST", "/api/v1/batches", demo.Token(user), body, hdr...)
}

// TestBatchOverHTTP: a county clerk compiles the township batch over HTTP
// on SQLite, by default or from named applications; each application that
// does not belong is refused with Art. 5, a case or department out of
// scope is 404, other roles 403. The batch's one document, rendered by
// Chromium, downloads as one PDF: the list and each person's forms, with
// the ETag of its SHA-256.
func TestBatchOverHTTP(t *testing.T) {
	t.Parallel()
	w := batchSetup(t)
	submit, approve := "clerk:submit_for_approval", "leader:approve"
	zhao := w.apply(t, "clerk", w.data.People["zhaolei"], submit, approve)
	wang := w.apply(t, "clerk", w.people["wang"], submit) // awaiting approval: in
	pa := w.apply(t, "clerk", w.people["pa"], submit, approve)
	zhang := w.apply(t, "clerk", w.data.People["zhangwei"], submit, approve) // not 派出机关 staff
	chen := w.apply(t, "clerk", w.data.People["chenjing"])                   // a draft: no 登记表
	aili := w.apply(t, "tacheng-clerk", w.data.People["aili"])               // another region

	// By default: every open application of 天山区's 派出机关 staff, by
	// 派出机关 (燕儿窝 first), then case.
	r := w.compile(t, "clerk", `{"comment":"2026年第一批"}`)
	var batch workflow.CaseView
	r.decode(t, http.StatusCreated, &batch)
	if loc := r.header.Get("Location"); loc != "/api/v1/cases/"+itoa(batch.ID) {
		t.Errorf("Location %q", loc)
	}
	var data workflow.BatchData
	if err := json.Unmarshal(batch.Data, &data); err != nil {
		t.Fatal(err)
	}
	if want := []int64{zhao.ID, wang.ID, pa.ID}; !slices.Equal(data.Applications, want) {
		t.Errorf("batch lists %v, want %v", data.Applications, want)
	}
	if batch.Path != workflow.PathTownshipBatch || batch.State != workflow.BatchCompiled || batch.OrgUnitID != w.data.Units["tianshan"] ||
		!strings.HasPrefix(batch.Number, "650102-2026-") || len(batch.History) != 1 || batch.History[0].Comment != "2026年第一批" {
		t.Errorf("batch %+v", batch.Case)
	}
	if len(batch.Documents) != 1 || batch.Documents[0].Doc != workflow.DocBatchList || batch.Documents[0].State != workflow.DocPending {
		t.Fatalf("batch documents %+v", batch.Documents)
	}
	docID := batch.Documents[0].JobID

	// One 派出机关 only.
	var street workflow.CaseView
	w.compile(t, "clerk", `{"org_unit_id":`+itoa(w.street)+`}`).decode(t, http.StatusCreated, &street)
	if err := json.Unmarshal(street.Data, &data); err != nil {
		t.Fatal(err)
	}
	if want := []int64{wang.ID, pa.ID}; !slices.Equal(data.Applications, want) || data.TownshipID != w.street {
		t.Errorf("street batch %+v, want applications %v", data, want)
	}

	// Named applications keep their order; an Idempotency-Key makes a
	// retry return the first batch.
	body := `{"case_ids":[` + itoa(pa.ID) + `,` + itoa(zhao.ID) + `]}`
	var named, again workflow.CaseView
	w.compile(t, "clerk", body, "Idempotency-Key: batch-7").decode(t, http.StatusCreated, &named)
	w.compile(t, "clerk", body, "Idempotency-Key: batch-7").decode(t, http.StatusCreated, &again)
	if err := json.Unmarshal(named.Data, &data); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(data.Applications, []int64{pa.ID, zhao.ID}) || again.ID != named.ID {
		t.Errorf("named batch %v (retry: case %d, first %d)", data.Applications, again.ID, named.ID)
	}

	// Refusals, each naming what is wrong.
	p := w.compile(t, "clerk", `{"case_ids":[`+itoa(zhang.ID)+`,`+itoa(chen.ID)+`,`+itoa(zhao.ID)+`]}`).problemOf(t, http.StatusUnprocessableEntity, "/api/v1/batches")
	if len(p.Violations) != 2 || !strings.Contains(p.Violations[0].Condition, "张伟 is not 派出机关 staff") ||
		!strings.Contains(p.Violations[1].Condition, "in state draft") || !slices.Equal(p.Articles, []string{"Art. 5"}) {
		t.Errorf("violations %+v", p.Violations)
	}
	p = w.compile(t, "clerk", `{"org_unit_id":`+itoa(w.street)+`,"case_ids":[`+itoa(zhao.ID)+`]}`).problemOf(t, http.StatusUnprocessableEntity, "/api/v1/batches")
	if len(p.Violations) != 1 || !strings.Contains(p.Violations[0].Condition, "works at 天山区燕儿窝街道办事处, not 天山区胜利路街道办事处") {
		t.Errorf("violations %+v", p.Violations)
	}
	if p := w.compile(t, "clerk", `{"case_ids":[`+itoa(zhao.ID)+`,`+itoa(zhao.ID)+`]}`).problemOf(t, http.StatusBadRequest, "/api/v1/batches"); p.Field != "case_ids" {
		t.Errorf("duplicate: %+v", p)
	}
	if p := w.compile(t, "clerk", `{"org_unit_id":`+itoa(w.data.Units["yanerwo"])+`}`); p.status != http.StatusCreated {
		t.Errorf("燕儿窝 alone: %d %s", p.status, p.body) // 赵磊
	}
	if p := w.compile(t, "clerk", `{"org_unit_id":`+itoa(w.data.Units["tianshan.business"])+`}`).problemOf(t, http.StatusBadRequest, "/api/v1/batches"); p.Field != "org_unit_id" {
		t.Errorf("a business unit: %+v", p)
	}
	if p := w.compile(t, "clerk", `{"case_ids":[1],"extra":1}`).problemOf(t, http.StatusBadRequest, "/api/v1/batches"); p.Field != "extra" {
		t.Errorf("unknown member: %+v", p)
	}
	w.do(t, "POST", "/api/v1/cases", demo.Token("clerk"), `{"path":"township_batch"}`).
		problemOf(t, http.StatusBadRequest, "/api/v1/cases")

	// Scope: out of scope is 404, in scope without the role 403.
	w.compile(t, "clerk", `{"case_ids":[`+itoa(aili.ID)+`]}`).problemOf(t, http.StatusNotFound, "/api/v1/batches")
	w.compile(t, "tacheng-clerk", `{"org_unit_id":`+itoa(w.data.Units["tianshan"])+`}`).problemOf(t, http.StatusNotFound, "/api/v1/batches")
	w.compile(t, "tacheng-clerk", `{"org_unit_id":`+itoa(w.street)+`}`).problemOf(t, http.StatusNotFound, "/api/v1/batches")
	w.compile(t, "officer", `{"org_unit_id":`+itoa(w.data.Units["tianshan"])+`}`).problemOf(t, http.StatusNotFound, "/api/v1/batches")
	w.compile(t, "city-clerk", `{"org_unit_id":`+itoa(w.data.Units["tianshan"])+`}`).problemOf(t, http.StatusForbidden, "/api/v1/batches")
	w.compile(t, "leader", `{"org_unit_id":`+itoa(w.data.Units["tianshan"])+`}`).problemOf(t, http.StatusForbidden, "/api/v1/batches")
	w.compile(t, "leader", `{}`).problemOf(t, http.StatusForbidden, "/api/v1/batches") // no department named: still not theirs
	// A prefecture has no 派出机关 staff to apply for (Art. 5).
	if p := w.compile(t, "tacheng-clerk", `{"org_unit_id":`+itoa(w.data.Units["tacheng"])+`}`).problemOf(t, http.StatusUnprocessableEntity, "/api/v1/batches"); !slices.Equal(p.Articles, []string{"Art. 5"}) {
		t.Errorf("prefecture: %+v", p)
	}
	if p := w.compile(t, "tacheng-clerk", `{}`).problemOf(t, http.StatusBadRequest, "/api/v1/batches"); p.Field != "org_unit_id" {
		t.Errorf("no county: %+v", p)
	}
	w.compile(t, "", `{}`).problemOf(t, http.StatusUnauthorized, "/api/v1/batches")
	for _, user := range []string{"tacheng-clerk", "officer"} {
		w.do(t, "GET", "/api/v1/cases/"+itoa(batch.ID), demo.Token(user), "").problemOf(t, http.StatusNotFound, "/api/v1/cases/"+itoa(batch.ID))
		w.do(t, "GET", "/api/v1/documents/"+itoa(docID), demo.Token(user), "").problemOf(t, http.StatusNotFound, "/api/v1/documents/"+itoa(docID))
		w.do(t, "GET", "/api/v1/documents/"+itoa(docID)+"/preview", demo.Token(user), "").problemOf(t, http.StatusNotFound, "/api/v1/documents/"+itoa(docID)+"/preview")
	}
	// Not rendered yet: 409, and the preview already shows the list.
	w.do(t, "GET", "/api/v1/documents/"+itoa(docID), demo.Token("clerk"), "").problemTyped(t, http.StatusConflict, "/api/v1/documents/"+itoa(docID), problemNotReady)
	pv := w.do(t, "GET", "/api/v1/documents/"+itoa(docID)+"/preview", demo.Token("clerk"), "")
	if pv.status != http.StatusOK || !bytes.Contains(pv.body, []byte("行政执法证件申领汇总表")) || !bytes.Contains(pv.body, []byte("帕丽达·艾买提")) ||
		!bytes.Contains(pv.body, []byte("申报人数：3人")) {
		t.Errorf("preview %d %s", pv.status, pv.body)
	}

	// Render: the applications' forms, then the batch.
	if _, err := exec.LookPath("/usr/bin/chromium"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required in CI: %v", err)
		}
		t.Skipf("chromium not installed: %v", err)
	}
	renderer, err := documents.NewChromiumRenderer(documents.ChromiumOptions{Tabs: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer renderer.Close()
	worker := &documents.Worker{Engine: w.engine, Renderer: renderer}
	ctx := context.Background()
	pages := 0
	for _, c := range []workflow.CaseView{zhao, wang, pa, batch} {
		var docs struct {
			Items []workflow.Document `json:"items"`
		}
		w.do(t, "GET", "/api/v1/cases/"+itoa(c.ID)+"/documents", demo.Token("clerk"), "").decode(t, http.StatusOK, &docs)
		latest := map[workflow.DocKind]int64{} // the bundle takes the latest form of each kind
		for _, d := range docs.Items {
			latest[d.Kind] = d.ID
		}
		for _, d := range docs.Items {
			job := &river.Job[workflow.DocumentJob]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 3},
				Args: workflow.DocumentJob{ID: d.ID, CaseID: d.CaseID, Doc: d.Kind}}
			if err := worker.Work(ctx, job); err != nil {
				t.Fatalf("%s of case %d: %v", d.Kind, c.ID, err)
			}
			if c.ID != batch.ID && latest[d.Kind] == d.ID {
				r := w.do(t, "GET", "/api/v1/documents/"+itoa(d.ID), demo.Token("clerk"), "")
				n, err := documents.PageCount(r.body)
				if err != nil {
					t.Fatal(err)
				}
				pages += n
			}
		}
	}
	var doc struct {
		Items []workflow.Document `json:"items"`
	}
	w.do(t, "GET", "/api/v1/cases/"+itoa(batch.ID)+"/documents", demo.Token("clerk"), "").decode(t, http.StatusOK, &doc)
	if len(doc.Items) != 1 || doc.Items[0].State != workflow.DocRendered {
		t.Fatalf("batch documents %+v", doc.Items)
	}
	d := doc.Items[0]
	r = w.do(t, "GET", "/api/v1/documents/"+itoa(docID), demo.Token("clerk"), "")
	sum := sha256.Sum256(r.body)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/pdf" || hex.EncodeToString(sum[:]) != d.SHA256 ||
		r.header.Get("ETag") != `"`+d.SHA256+`"` || int64(len(r.body)) != d.Size {
		t.Fatalf("download: %d %v, %d bytes, document %+v", r.status, r.header, len(r.body), d)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''"+url.PathEscape("行政执法证件申领汇总表-乌鲁木齐市天山区应急管理局-"+batch.Number+".pdf")) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if nm := w.do(t, "GET", "/api/v1/documents/"+itoa(docID), demo.Token("clerk"), "", `If-None-Match: "`+d.SHA256+`"`); nm.status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", nm.status)
	}
	// The supervisor of 乌鲁木齐 reads the county's batch.
	if sv := w.do(t, "GET", "/api/v1/documents/"+itoa(docID), demo.Token("supervisor"), ""); sv.status != http.StatusOK || !bytes.Equal(sv.body, r.body) {
		t.Errorf("supervisor: %d", sv.status)
	}
	// One PDF: the list (one page for three people), then every form of
	// the three applications.
	n, err := documents.PageCount(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1+pages {
		t.Errorf("the batch PDF has %d pages; want the list's 1 and the forms' %d", n, pages)
	}
	path := filepath.Join(t.TempDir(), "batch.pdf")
	if err := os.WriteFile(path, r.body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, s := range []string{"行政执法证件申领汇总表", "行政执法证件登记表", "执法类别建议审批表", "王建军", "赵磊", batch.Number, zhao.Number, pa.Number} {
		if !strings.Contains(text, s) {
			t.Errorf("the batch PDF lacks %s", s)
		}
	}
	if i, j := strings.Index(text, "行政执法证件申领汇总表"), strings.Index(text, "行政执法证件登记表"); i < 0 || j < i {
		t.Errorf("the list does not come first")
	}
}
