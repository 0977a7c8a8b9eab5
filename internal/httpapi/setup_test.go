package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"certflow/internal/auth"
	"certflow/internal/store/postgres"
	"certflow/internal/store/sqlite"
	"certflow/internal/store/sqlstore"
	"certflow/internal/store/storetest"
	"certflow/workflow"
)

// Tokens of the fixture's users.
const (
	clerkToken     = "cf_test_clerk"     // legal_clerk at 乌鲁木齐
	principalToken = "cf_test_principal" // principal_leader at 乌鲁木齐
	officerToken   = "cf_test_officer"   // officer, and the staff member "ready"
	outsiderToken  = "cf_test_outsider"  // legal_clerk at 克拉玛依
)

// testStores are the databases the API tests run on: a SQLite file, and a
// fresh schema on the PostgreSQL test server (skipped without one, never
// under CI=true).
var testStores = []struct {
	name string
	open storetest.Opener
}{
	{"sqlite", openSQLite},
	{"postgres", postgres.OpenTest},
}

// openSQLite opens a store in a new SQLite file of t's temporary directory.
func openSQLite(t testing.TB) *sqlstore.Store {
	s, _, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // the writer and the reading pool
	return s
}

// fixture is a running API over a fresh store with a tiny org tree:
// 自治区 → 乌鲁木齐 (legal office, enforcement unit) and 克拉玛依.
type fixture struct {
	srv    *httptest.Server
	engine *workflow.Engine
	api    *api
	store  *sqlstore.Store

	pref, prefBiz, other int64 // org units
	ready                int64 // meets every Art. 9 condition
	untrained            int64 // lacks the law training of Art. 9(1)(3)
	extra                []int64
	colleagues           int // made by colleague
}

var testNow = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)

// idNumber completes a valid 公民身份号码 from its first 17 digits.
func idNumber(first17 string) workflow.IDNumber {
	return workflow.IDNumber(first17 + string(workflow.IDCheckChar(first17)))
}

// setup is setupOn a SQLite file.
func setup(t *testing.T) *fixture { return setupOn(t, openSQLite, Options{}) }

// setupOn starts the API, configured by o, over a store from open loaded
// with the fixture's org tree, people and users.
func setupOn(t *testing.T, open storetest.Opener, o Options) *fixture {
	t.Helper()
	ctx := context.Background()
	store := open(t)
	engine, err := workflow.NewEngine(store, workflow.Options{Clock: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{engine: engine, store: store}
	err = store.Update(ctx, func(tx workflow.Tx) error {
		unit := func(u workflow.OrgUnit) int64 {
			if err := tx.CreateOrgUnit(ctx, &u); err != nil {
				t.Fatal(err)
			}
			return u.ID
		}
		region := unit(workflow.OrgUnit{Kind: workflow.UnitDepartment, Level: workflow.LevelRegion, Name: "新疆维吾尔自治区应急管理厅", Region: "650000"})
		f.pref = unit(workflow.OrgUnit{ParentID: region, Kind: workflow.UnitDepartment, Level: workflow.LevelPrefecture, Name: "乌鲁木齐市应急管理局", Region: "650100"})
		unit(workflow.OrgUnit{ParentID: f.pref, Kind: workflow.UnitLegal, Name: "法制科"})
		f.prefBiz = unit(workflow.OrgUnit{ParentID: f.pref, Kind: workflow.UnitBusiness, Name: "综合执法支队"})
		f.other = unit(workflow.OrgUnit{ParentID: region, Kind: workflow.UnitDepartment, Level: workflow.LevelPrefecture, Name: "克拉玛依市应急管理局", Region: "650200"})

		person := func(name, first17 string) int64 {
			id := idNumber(first17)
			p := workflow.Person{Name: name, IDNumber: id, Sex: id.Sex(), BirthDate: id.BirthDate(), Education: workflow.EduBachelor,
				Staffed: true, Post: true, OrgUnitID: f.prefBiz, Employment: workflow.EmploymentActive, Title: "科员"}
			if err := tx.CreatePerson(ctx, &p); err != nil {
				t.Fatal(err)
			}
			return p.ID
		}
		training := func(person int64, kind workflow.TrainingKind, date string) {
			tr := workflow.Training{PersonID: person, Kind: kind, Date: workflow.MustDate(date), Passed: true}
			if err := tx.CreateTraining(ctx, &tr); err != nil {
				t.Fatal(err)
			}
		}
		f.ready = person("张三", "65010219850312001")
		training(f.ready, workflow.TrainingEmergency, "2025-06-01")
		training(f.ready, workflow.TrainingLaw, "2025-07-01")
		f.untrained = person("李四", "65010219900115002")
		training(f.untrained, workflow.TrainingEmergency, "2025-06-01")
		for _, first17 := range []string{"65010219920101003", "65010219930202004", "65010219940303005"} {
			f.extra = append(f.extra, person("王五", first17))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name   string
		person int64
		roles  []workflow.RoleBinding
		token  string
	}{
		{"clerk", 0, []workflow.RoleBinding{{Role: workflow.RoleLegalClerk, OrgUnitID: f.pref}}, clerkToken},
		{"principal", 0, []workflow.RoleBinding{{Role: workflow.RolePrincipal, OrgUnitID: f.pref}}, principalToken},
		{"officer", f.ready, []workflow.RoleBinding{{Role: workflow.RoleOfficer, OrgUnitID: f.pref}}, officerToken},
		{"outsider", 0, []workflow.RoleBinding{{Role: workflow.RoleLegalClerk, OrgUnitID: f.other}}, outsiderToken},
	} {
		if _, _, err := auth.AddUser(ctx, store, u.name, u.person, u.roles, u.token, nil); err != nil {
			t.Fatal(err)
		}
	}
	f.api = newAPIWith(engine, nil, o)
	f.srv = httptest.NewServer(f.api.router)
	t.Cleanup(f.srv.Close)
	return f
}

// colleague records another staff member who, like 张三, meets every
// Art. 9 condition: one person has one application in progress (Art. 4).
func (f *fixture) colleague(t *testing.T) int64 {
	t.Helper()
	f.colleagues++
	id := idNumber(fmt.Sprintf("650102199601%02d%03d", 1+f.colleagues%28, f.colleagues%1000))
	p := workflow.Person{Name: fmt.Sprintf("同事%d号", f.colleagues), IDNumber: id, Sex: id.Sex(), BirthDate: id.BirthDate(), Education: workflow.EduBachelor,
		Staffed: true, Post: true, OrgUnitID: f.prefBiz, Employment: workflow.EmploymentActive, Title: "科员"}
	err := f.store.Update(context.Background(), func(tx workflow.Tx) error {
		if err := tx.CreatePerson(context.Background(), &p); err != nil {
			return err
		}
		for _, k := range []workflow.TrainingKind{workflow.TrainingEmergency, workflow.TrainingLaw} {
			tr := workflow.Training{PersonID: p.ID, Kind: k, Date: workflow.MustDate("2025-06-01"), Passed: true}
			if err := tx.CreateTraining(context.Background(), &tr); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// response is an answer as the tests look at it.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; body is sent as JSON unless a Content-Type header is
// given in hdr ("Name: value" pairs).
func (f *fixture) do(t *testing.T, method, path, token, body string, hdr ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

// decode reads the answer's JSON into v, failing on a status other than want.
func (r response) decode(t *testing.T, want int, v any) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	if v == nil {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problemOf checks r is an RFC 9457 problem with status and instance and
// returns it.
func (r response) problemOf(t *testing.T, status int, instance string) problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body %s", ct, r.body)
	}
	var p problem
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decode problem %s: %v", r.body, err)
	}
	if !strings.HasPrefix(p.Type, problemBase) {
		t.Errorf("type %q, want under %s", p.Type, problemBase)
	}
	if p.Title == "" || p.Detail == "" {
		t.Errorf("title %q, detail %q: want both", p.Title, p.Detail)
	}
	if p.Status != status {
		t.Errorf("status member %d, want %d", p.Status, status)
	}
	if p.Instance != instance {
		t.Errorf("instance %q, want %q", p.Instance, instance)
	}
	// A detail speaks to the client, not in the Go package's voice.
	if goPrefix.MatchString(p.Detail) {
		t.Errorf("detail %q carries a Go package prefix", p.Detail)
	}
	return p
}

// goPrefix matches a Go package's error prefix ("workflow: ", "sqlstore: ").
var goPrefix = regexp.MustCompile(`\b(workflow|sqlstore|httpapi|documents|auth): `)

// problemTyped is problemOf that also wants the problem type typ.
func (r response) problemTyped(t *testing.T, status int, instance, typ string) problem {
	t.Helper()
	p := r.problemOf(t, status, instance)
	if p.Type != typ {
		t.Errorf("type %q, want %q (title %q, detail %q)", p.Type, typ, p.Title, p.Detail)
	}
	return p
}

// openCase opens an application for person as the clerk.
func (f *fixture) openCase(t *testing.T, person int64) workflow.CaseView {
	t.Helper()
	var v workflow.CaseView
	f.do(t, "POST", "/api/v1/cases", clerkToken,
		`{"path":"application","person_id":`+itoa(person)+`,"data":{"proposed_categories":["安全生产监督管理","应急管理"]}}`).
		decode(t, http.StatusCreated, &v)
	return v
}

// caseView reads case id as the clerk.
func (f *fixture) caseView(t *testing.T, id int64) workflow.CaseView {
	t.Helper()
	var v workflow.CaseView
	f.do(t, "GET", "/api/v1/cases/"+itoa(id), clerkToken, "").decode(t, http.StatusOK, &v)
	return v
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
