package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"certflow/internal/auth"
	"certflow/internal/store/storetest"
	"certflow/workflow"
)

// The authorization matrix of issue 5: every route the router serves ×
// every role (and no credentials) × an object in the caller's scope and
// one out of it (another prefecture), on both stores.
//
// Every cell checks the status. A refused request (4xx) must change
// nothing: the rows and versions of every table a request may write are
// compared before and after. A 404 must tell nothing: its answer must be
// the one for an object that does not exist, byte for byte once the IDs
// are masked. No answer to a caller of 乌鲁木齐 may carry anything of
// 克拉玛依 (names, numbers). A route the router serves without a row here
// fails the test.

// matrixCaller is one column of the matrix.
type matrixCaller struct {
	role  string // the role, or "none"
	user  string // the user's name; "" for no credentials
	token string
}

// matrixCallers hold one role each at 乌鲁木齐, the officer being the staff
// member 张三 (f.ready), the subject of the in-scope cases.
var matrixCallers = []matrixCaller{
	{string(workflow.RoleLegalClerk), "clerk", clerkToken},
	{string(workflow.RolePrincipal), "principal", principalToken},
	{string(workflow.RoleHR), "m-hr", "cf_test_m_hr"},
	{string(workflow.RoleOfficer), "officer", officerToken},
	{string(workflow.RoleJustice), "m-justice", "cf_test_m_justice"},
	{string(workflow.RoleSupervisor), "m-supervisor", "cf_test_m_supervisor"},
	{string(workflow.RoleAdmin), "m-admin", "cf_test_m_admin"},
	{"none", "", ""},
}

// matrix is the fixture with the objects the cells point at.
type matrix struct {
	*fixture
	ctx         context.Context
	users       map[string]int64
	actors      map[string]*workflow.Actor
	seq         int
	delegations int // made by delegation, each on a day of its own

	otherBiz int64 // 克拉玛依's enforcement unit

	// In scope (乌鲁木齐).
	caseIn, caseDraft  workflow.CaseView // about 张三, submitted to justice; about a colleague, pending approval
	docIn, docDraft    int64
	trainingIn         int64 // 张三's
	holderIn           int64 // holds a received certificate
	holderInName       string
	certInNumber       string
	reminderIn         int64 // for the principal leader
	reminderInMessage  string
	principal2, deputy int64 // a second principal leader; the users delegations name

	// Out of scope (克拉玛依).
	personOut, trainingOut, holderOut int64
	caseOut                           workflow.CaseView // submitted to justice
	docOut, taskOut                   int64
	delegationOut, reminderOut        int64
	principalOut                      int64 // a principal leader there

	// secrets must never reach a caller of 乌鲁木齐.
	secrets []string
}

// matrixPassword is the password of matrix user name.
func matrixPassword(name string) string { return "matrix-" + name + "-password" }

// newMatrix builds the matrix's world on a store from open.
func newMatrix(t *testing.T, open storetest.Opener) *matrix {
	t.Helper()
	f := setupOn(t, open, Options{Sessions: Sessions{Auth: auth.Options{Params: cheapParams}, LoginLimit: 1000}})
	f.openIntake(t, 1000)
	m := &matrix{fixture: f, ctx: context.Background(), users: map[string]int64{}, actors: map[string]*workflow.Actor{}}
	ctx := m.ctx
	err := f.store.Update(ctx, func(tx workflow.Tx) error {
		u := workflow.OrgUnit{ParentID: f.other, Kind: workflow.UnitBusiness, Name: "克拉玛依市应急管理综合执法支队"}
		if err := tx.CreateOrgUnit(ctx, &u); err != nil {
			return err
		}
		m.otherBiz = u.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name, token string
		role        workflow.Role
		unit        int64
	}{
		{"m-hr", "cf_test_m_hr", workflow.RoleHR, f.pref},
		{"m-justice", "cf_test_m_justice", workflow.RoleJustice, f.pref},
		{"m-supervisor", "cf_test_m_supervisor", workflow.RoleSupervisor, f.pref},
		{"m-admin", "cf_test_m_admin", workflow.RoleAdmin, f.pref},
		{"m-principal2", "", workflow.RolePrincipal, f.pref},
		{"k-principal", "", workflow.RolePrincipal, f.other},
		{"k-justice", "", workflow.RoleJustice, f.other},
	} {
		if _, _, err := auth.AddUser(ctx, f.store, u.name, 0, []workflow.RoleBinding{{Role: u.role, OrgUnitID: u.unit}}, u.token, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"clerk", "principal", "officer", "outsider", "m-hr", "m-justice", "m-supervisor", "m-admin", "m-principal2", "k-principal", "k-justice"} {
		if err := auth.SetPassword(ctx, f.store, name, matrixPassword(name), cheapParams); err != nil {
			t.Fatal(err)
		}
		m.users[name] = f.userID(t, name)
	}
	m.principal2, m.principalOut = m.users["m-principal2"], m.users["k-principal"]

	// In scope: 张三's application at justice, a colleague's awaiting approval,
	// both with their forms rendered; a certificate holder; a reminder.
	m.caseIn = m.submitted(t, "in", f.ready)
	m.docIn = m.renderAll(t, m.caseIn.ID)
	m.caseDraft, _ = m.pending(t, "in", m.person(t, "in"))
	m.docDraft = m.renderAll(t, m.caseDraft.ID)
	ts, err := f.engine.Trainings(ctx, m.as(t, "clerk"), f.ready)
	if err != nil || len(ts) == 0 {
		t.Fatalf("张三's trainings: %v %v", ts, err)
	}
	m.trainingIn = ts[0].ID
	m.holderIn, m.holderInName, m.certInNumber = m.holder(t, "in")
	m.reminderInMessage = "矩阵：审批任务已逾期，请督办"
	m.reminderIn = m.reminder(t, m.caseIn, f.pref, m.reminderInMessage)

	// Out of scope: the same in 克拉玛依.
	m.personOut = m.person(t, "out")
	m.caseOut = m.submitted(t, "out", m.personOut)
	m.docOut = m.renderAll(t, m.caseOut.ID)
	m.taskOut = openTask(t, m.caseOut, workflow.TaskRecordDecision).ID
	ts, err = f.engine.Trainings(ctx, m.as(t, "outsider"), m.personOut)
	if err != nil || len(ts) == 0 {
		t.Fatalf("the outsider's trainings: %v %v", ts, err)
	}
	m.trainingOut = ts[0].ID
	var outHolderName, outCert string
	m.holderOut, outHolderName, outCert = m.holder(t, "out")
	d, err := f.engine.CreateDelegation(ctx, m.as(t, "k-principal"), workflow.DelegationInput{DeputyID: m.users["k-justice"], EndsOn: workflow.MustDate("2026-03-20"), Reason: "外出学习"})
	if err != nil {
		t.Fatal(err)
	}
	m.delegationOut = d.ID
	m.reminderOut = m.reminder(t, m.caseOut, f.other, "克拉玛依：审批任务已逾期")
	outPerson, err := f.engine.Person(ctx, m.as(t, "outsider"), m.personOut)
	if err != nil {
		t.Fatal(err)
	}
	m.secrets = []string{"克拉玛依", "650200-", outPerson.Name, string(outPerson.IDNumber), outHolderName, outCert, m.caseOut.Number, "k-principal", "k-justice"}
	return m
}

// as returns user as an actor.
func (m *matrix) as(t *testing.T, user string) *workflow.Actor {
	t.Helper()
	if a, ok := m.actors[user]; ok {
		return a
	}
	var a workflow.Actor
	err := m.store.View(m.ctx, func(tx workflow.Tx) (err error) {
		a, err = tx.ActorByName(m.ctx, user)
		return err
	})
	if err != nil {
		t.Fatalf("actor %s: %v", user, err)
	}
	m.actors[user] = &a
	return &a
}

// idNumberFor returns a fresh valid 公民身份号码 of a region.
func (m *matrix) idNumberFor(region string) workflow.IDNumber {
	m.seq++
	return idNumber(fmt.Sprintf("%s1990%02d%02d%03d", region, 1+m.seq/28%12, 1+m.seq%28, m.seq%1000))
}

// person records a fresh staff member, trained for Art. 9, in 乌鲁木齐's
// ("in") or 克拉玛依's ("out") enforcement unit.
func (m *matrix) person(t *testing.T, where string) int64 {
	t.Helper()
	unit, region, name := m.prefBiz, "650102", "同事"
	if where == "out" {
		unit, region, name = m.otherBiz, "650203", "外地"
	}
	id := m.idNumberFor(region)
	p := workflow.Person{Name: fmt.Sprintf("%s%d号", name, m.seq), IDNumber: id, Sex: id.Sex(), BirthDate: id.BirthDate(), Education: workflow.EduBachelor,
		Staffed: true, Post: true, OrgUnitID: unit, Employment: workflow.EmploymentActive, Title: "科员"}
	err := m.store.Update(m.ctx, func(tx workflow.Tx) error {
		if err := tx.CreatePerson(m.ctx, &p); err != nil {
			return err
		}
		for _, k := range []workflow.TrainingKind{workflow.TrainingEmergency, workflow.TrainingLaw} {
			tr := workflow.Training{PersonID: p.ID, Kind: k, Date: workflow.MustDate("2025-06-01"), Passed: true}
			if err := tx.CreateTraining(m.ctx, &tr); err != nil {
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

// cast is who plays the application path in and out of scope.
func cast(where string) (office, principal string) {
	if where == "out" {
		return "outsider", "k-principal"
	}
	return "clerk", "principal"
}

// fire fires ev on c as user and returns the case as user then reads it.
func (m *matrix) fire(t *testing.T, user string, c workflow.CaseView, ev workflow.EventName, comment, data string) workflow.CaseView {
	t.Helper()
	var in json.RawMessage
	if data != "" {
		in = json.RawMessage(data)
	}
	_, err := m.engine.Fire(m.ctx, workflow.Command{Actor: m.as(t, user), CaseID: c.ID, Event: ev, ExpectedVersion: c.Version, Comment: comment, Input: in})
	if err != nil {
		t.Fatalf("%s on case %d as %s: %v", ev, c.ID, user, err)
	}
	v, err := m.engine.CaseView(m.ctx, m.as(t, user), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// pending opens and submits an application for person; it returns the
// case and its approval task.
func (m *matrix) pending(t *testing.T, where string, person int64) (workflow.CaseView, workflow.Task) {
	t.Helper()
	office, _ := cast(where)
	v, err := m.engine.OpenCase(m.ctx, m.as(t, office), workflow.OpenCaseInput{Path: workflow.PathApplication, PersonID: person,
		Data: json.RawMessage(`{"proposed_categories":["安全生产监督管理","应急管理"]}`)})
	if err != nil {
		t.Fatalf("open for person %d: %v", person, err)
	}
	v = m.fire(t, office, v, workflow.EvSubmitForApproval, "", "")
	return v, openTask(t, v, workflow.TaskApprove)
}

// submitted walks an application for person to justice.
func (m *matrix) submitted(t *testing.T, where string, person int64) workflow.CaseView {
	t.Helper()
	office, principal := cast(where)
	v, _ := m.pending(t, where, person)
	v = m.fire(t, principal, v, workflow.EvApprove, "同意", "")
	return m.fire(t, office, v, workflow.EvSubmitToIssuer, "", `{"submitted_on":"2026-02-28"}`)
}

// holder returns a fresh person with a received certificate, their name
// and the certificate's number.
func (m *matrix) holder(t *testing.T, where string) (int64, string, string) {
	t.Helper()
	office, _ := cast(where)
	p := m.person(t, where)
	v := m.submitted(t, where, p)
	number := fmt.Sprintf("新%s-2026-%04d", where, m.seq)
	v = m.fire(t, office, v, workflow.EvIssue, "", `{"number":"`+number+`","issued_on":"2026-03-01","valid_until":"2031-02-28"}`)
	m.fire(t, office, v, workflow.EvRecordReceipt, "", `{"received_on":"2026-03-05"}`)
	pp, err := m.engine.Person(m.ctx, m.as(t, office), p)
	if err != nil {
		t.Fatal(err)
	}
	return p, pp.Name, number
}

// openTask returns c's open task of kind.
func openTask(t *testing.T, c workflow.CaseView, kind workflow.TaskKind) workflow.Task {
	t.Helper()
	for _, tk := range c.Tasks {
		if tk.Kind == kind && tk.Status == workflow.TaskOpen {
			return tk
		}
	}
	t.Fatalf("case %d has no open %s task: %+v", c.ID, kind, c.Tasks)
	return workflow.Task{}
}

// renderAll stores a rendered PDF for every document of case id, as the
// render worker would, and returns the first document's ID.
func (m *matrix) renderAll(t *testing.T, id int64) int64 {
	t.Helper()
	pdf := tinyPDF()
	sum := sha256.Sum256(pdf)
	var first int64
	err := m.store.Update(m.ctx, func(tx workflow.Tx) error {
		dt, err := workflow.Documents(tx)
		if err != nil {
			return err
		}
		docs, err := dt.DocumentsOf(m.ctx, id, 0)
		if err != nil {
			return err
		}
		if len(docs) == 0 {
			return fmt.Errorf("case %d has no documents", id)
		}
		first = docs[0].ID
		for _, d := range docs {
			r := workflow.RenderedDocument{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(pdf)), FileName: string(d.Kind) + ".pdf",
				TemplateVersion: "test", Content: pdf, At: testNow}
			if err := dt.SaveRendered(m.ctx, d.ID, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return first
}

// tinyPDF is a valid one-page PDF, its page drawing enough lines that it,
// and a merge of it, weigh what a rendered form at least does.
func tinyPDF() []byte {
	content := strings.Repeat("72 72 m 520 770 l S\n", 80)
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	var offsets []int
	for i, o := range []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
	} {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// reminder records an overdue reminder of c's open task for the principal
// leader at unit.
func (m *matrix) reminder(t *testing.T, c workflow.CaseView, unit int64, message string) int64 {
	t.Helper()
	r := workflow.Reminder{Kind: workflow.ReminderOverdue, OrgUnitID: unit, Role: workflow.RolePrincipal, CaseID: c.ID,
		TaskID: openTask(t, c, workflow.TaskRecordDecision).ID, Threshold: workflow.ThresholdOverdue,
		Deadline: workflow.MustDate("2026-03-01"), RemindOn: workflow.MustDate("2026-03-02"), Message: message, CreatedAt: testNow}
	err := m.store.Update(m.ctx, func(tx workflow.Tx) error {
		dt, ok := tx.(workflow.DeadlineTx)
		if !ok {
			return fmt.Errorf("store keeps no reminders")
		}
		_, err := dt.AddReminder(m.ctx, &r)
		return err
	})
	if err != nil || r.ID == 0 {
		t.Fatalf("reminder: %d %v", r.ID, err)
	}
	return r.ID
}

// delegation is a fresh delegation of the principal leader to the second.
func (m *matrix) delegation(t *testing.T) int64 {
	t.Helper()
	// A day of its own each time: a second delegation whose days meet a
	// running one's is refused.
	m.delegations++
	day := workflow.MustDate("2026-04-01").AddDays(m.delegations)
	d, err := m.engine.CreateDelegation(m.ctx, m.as(t, "principal"), workflow.DelegationInput{DeputyID: m.principal2, StartsOn: day, EndsOn: day, Reason: "出差"})
	if err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// matrixTables are what a request may write; state fingerprints them.
var matrixTables = []struct{ table, columns string }{
	{"cases", "count(*), COALESCE(SUM(version), 0)"},
	{"events", "count(*)"},
	{"tasks", "count(*), COALESCE(SUM(assignee_user_id), 0), COALESCE(SUM(priority), 0), COALESCE(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), 0)"},
	{"documents", "count(*)"},
	{"certificates", "count(*), COALESCE(SUM(version), 0)"},
	{"people", "count(*), COALESCE(SUM(version), 0)"},
	{"trainings", "count(*), COALESCE(SUM(version), 0)"},
	{"delegations", "count(*), COALESCE(SUM(CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END), 0)"},
	{"case_watchers", "count(*)"},
	{"reminders", "count(*), COALESCE(SUM(CASE WHEN acknowledged_at IS NULL THEN 0 ELSE 1 END), 0)"},
	{"sessions", "count(*)"},
	{"idempotency", "count(*)"},
	{"river_job", "count(*)"},
	{"users", "count(*)"},
}

// state fingerprints every table a request may write.
func (m *matrix) state(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, tc := range matrixTables {
		rows, err := m.store.DB().QueryContext(m.ctx, "SELECT "+tc.columns+" FROM "+tc.table)
		if err != nil {
			t.Fatalf("%s: %v", tc.table, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
		}
		rows.Close()
		fmt.Fprintf(&b, "%s%v ", tc.table, vals)
	}
	return b.String()
}

// cell is what one cell expects: a status and, for a 2xx answer, whether
// the variant's marker must ('+') or must not ('-') be in it.
type cell struct {
	status int
	marker byte
}

// parseCells reads a row of cells, one per matrix caller: "200+", "404".
func parseCells(t *testing.T, s string) []cell {
	t.Helper()
	fields := strings.Fields(s)
	if len(fields) != len(matrixCallers) {
		t.Fatalf("%q: %d cells for %d callers", s, len(fields), len(matrixCallers))
	}
	out := make([]cell, len(fields))
	for i, f := range fields {
		var c cell
		if n := len(f); f[n-1] == '+' || f[n-1] == '-' {
			c.marker, f = f[n-1], f[:n-1]
		}
		status, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%q: cell %q", s, f)
		}
		c.status = status
		out[i] = c
	}
	return out
}

// variant is one object a route is tried on.
type variant struct {
	name string // "in", "out", or what else it is about
	// args returns what the request names (IDs, a version); it may create
	// fresh objects, so that every cell that may succeed has its own.
	args func(t *testing.T, m *matrix) []int64
	// hidden are the indexes of args whose existence a 404 must not tell
	// (default: the first), and the out-of-scope ones of an "out" variant.
	hidden []int
	// marker is text the cells' '+' and '-' look for.
	marker func(m *matrix) string
	want   string // the cells, by matrixCallers
}

// matrixRoute is one row of the matrix.
type matrixRoute struct {
	method, pattern string // as chi.Walk reports them
	// req builds the request for caller from a variant's args.
	req func(m *matrix, caller matrixCaller, args []int64) (path, body string)
	// noop: a successful request changes nothing though its method may.
	noop     bool
	variants []variant
}

func ids(v ...int64) func(*testing.T, *matrix) []int64 {
	return func(*testing.T, *matrix) []int64 { return v }
}

func path(format string) func(*matrix, matrixCaller, []int64) (string, string) {
	return func(_ *matrix, _ matrixCaller, args []int64) (string, string) {
		a := make([]any, len(args))
		for i, v := range args {
			a[i] = v
		}
		return fmt.Sprintf(format, a...), ""
	}
}

func noArgs(*testing.T, *matrix) []int64 { return nil }

// everyone: the same status for every caller with credentials, 401 without.
func everyone(status string) string {
	return strings.Repeat(status+" ", len(matrixCallers)-1) + "401"
}

// matrixRoutes is the matrix. Columns: legal_clerk principal_leader hr
// officer justice_liaison supervisor admin none.
func matrixRoutes(m *matrix) []matrixRoute {
	in := func(f func(*testing.T, *matrix) []int64) func(*testing.T, *matrix) []int64 { return f }
	ready := func(*testing.T, *matrix) []int64 { return []int64{m.ready} }
	colleague := func(t *testing.T, m *matrix) []int64 { return []int64{m.person(t, "in")} }
	colleagueTraining := func(t *testing.T, m *matrix) []int64 {
		p := m.person(t, "in")
		ts, err := m.engine.Trainings(m.ctx, m.as(t, "clerk"), p)
		if err != nil {
			t.Fatal(err)
		}
		return []int64{p, ts[0].ID}
	}
	pendingTask := func(t *testing.T, m *matrix) []int64 {
		_, tk := m.pending(t, "in", m.person(t, "in"))
		return []int64{tk.ID}
	}
	claimedTask := func(t *testing.T, m *matrix) []int64 {
		_, tk := m.pending(t, "in", m.person(t, "in"))
		if _, err := m.engine.ClaimTask(m.ctx, m.as(t, "principal"), tk.ID, workflow.TaskActInput{}); err != nil {
			t.Fatal(err)
		}
		return []int64{tk.ID}
	}
	pendingCase := func(t *testing.T, m *matrix) []int64 {
		c, _ := m.pending(t, "in", m.person(t, "in"))
		return []int64{c.ID}
	}
	caseIn := func(m *matrix) string { return m.caseIn.Number }
	formTitle := func(*matrix) string { return "行政执法证件登记表" }
	const cors = `"proposed_categories":["安全生产监督管理","应急管理"]`
	newPerson := func(m *matrix, _ matrixCaller, args []int64) (string, string) {
		return "/api/v1/people", `{"name":"新同事","id_number":"` + string(m.idNumberFor("650102")) + `","education":"本科","staffed":true,"enforcement_post":true,"org_unit_id":` + itoa(args[0]) + `}`
	}
	return []matrixRoute{
		{"GET", "/healthz", path("/healthz"), false, []variant{{name: "-", args: noArgs, want: "200 200 200 200 200 200 200 200"}}},
		{"GET", "/api/v1/openapi.json", path("/api/v1/openapi.json"), false, []variant{{name: "-", args: noArgs, want: "200 200 200 200 200 200 200 200"}}},
		{"POST", "/api/v1/public/complaints", func(m *matrix, _ matrixCaller, args []int64) (string, string) {
			return "/api/v1/public/complaints", `{"officer_name":"张三","facts":"检查时未出示执法证件","org_unit_id":` + itoa(args[0]) + `}`
		}, false, []variant{{name: "in", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.prefBiz} }), want: "201 201 201 201 201 201 201 201"}}},
		// Only the code decides, never who asks: a code naming nothing is
		// 404 to everyone (TestPublicComplaintStatus reads a real one).
		{"POST", "/api/v1/public/complaints/status", func(*matrix, matrixCaller, []int64) (string, string) {
			return "/api/v1/public/complaints/status", `{"lookup_code":"0000-0000-0000"}`
		}, false, []variant{{name: "-", args: noArgs, hidden: []int{}, want: "404 404 404 404 404 404 404 404"}}},

		{"POST", "/api/v1/session", func(_ *matrix, c matrixCaller, _ []int64) (string, string) {
			if c.user == "" {
				return "/api/v1/session", loginBody("nobody", "matrix-nobody-password")
			}
			return "/api/v1/session", loginBody(c.user, matrixPassword(c.user))
		}, false, []variant{{name: "-", args: noArgs, want: everyone("200")}}},
		{"GET", "/api/v1/session", path("/api/v1/session"), false, []variant{{name: "-", args: noArgs, want: everyone("200")}}},
		{"DELETE", "/api/v1/session", path("/api/v1/session"), true, []variant{{name: "-", args: noArgs, want: everyone("204")}}},

		{"GET", "/api/v1/org-units", path("/api/v1/org-units"), false, []variant{
			{name: "-", args: noArgs, marker: func(*matrix) string { return "乌鲁木齐市应急管理局" }, want: "200+ 200+ 200+ 200- 200- 200+ 200+ 401"},
		}},

		{"GET", "/api/v1/people", path("/api/v1/people?limit=500&org_unit_id=%d"), false, []variant{
			{name: "in", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.prefBiz} }), marker: func(*matrix) string { return "张三" },
				want: "200+ 200+ 200+ 200+ 200- 200+ 200+ 401"},
			{name: "out", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.otherBiz} }), want: everyone("200")},
		}},
		{"POST", "/api/v1/people", newPerson, false, []variant{
			{name: "in", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.prefBiz} }), want: "201 403 201 403 403 403 201 401"},
			{name: "out", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.otherBiz} }), want: "400 403 400 403 403 403 400 401"},
		}},
		{"GET", "/api/v1/people/{id}", path("/api/v1/people/%d"), false, []variant{
			{name: "in", args: ready, marker: func(*matrix) string { return "张三" }, want: "200+ 200+ 200+ 200+ 404 200+ 200+ 401"},
			{name: "out", args: ids(m.personOut), want: everyone("404")},
		}},
		{"PUT", "/api/v1/people/{id}", func(m *matrix, _ matrixCaller, args []int64) (string, string) {
			return "/api/v1/people/" + itoa(args[0]), `{"name":"改名","id_number":"` + string(m.idNumberFor("650102")) + `","education":"本科","staffed":true,"enforcement_post":true,"org_unit_id":` + itoa(m.prefBiz) + `,"version":1}`
		}, false, []variant{
			{name: "in", args: colleague, want: "200 403 200 404 404 403 200 401"},
			{name: "out", args: ids(m.personOut), want: everyone("404")},
		}},
		{"GET", "/api/v1/people/{id}/trainings", path("/api/v1/people/%d/trainings"), false, []variant{
			{name: "in", args: ready, want: "200 200 200 200 404 200 200 401"},
			{name: "out", args: ids(m.personOut), want: everyone("404")},
		}},
		{"POST", "/api/v1/people/{id}/trainings", func(_ *matrix, _ matrixCaller, args []int64) (string, string) {
			return "/api/v1/people/" + itoa(args[0]) + "/trainings", `{"kind":"academy","date":"2025-12-01","passed":true,"score":90}`
		}, false, []variant{
			{name: "in", args: colleague, want: "201 403 201 404 404 403 201 401"},
			{name: "out", args: ids(m.personOut), want: everyone("404")},
		}},
		{"GET", "/api/v1/people/{id}/trainings/{tid}", path("/api/v1/people/%d/trainings/%d"), false, []variant{
			{name: "in", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.ready, m.trainingIn} }), want: "200 200 200 200 404 200 200 401"},
			{name: "out", args: ids(m.personOut, m.trainingOut), hidden: []int{0, 1}, want: everyone("404")},
			{name: "out training", args: ids(m.ready, m.trainingOut), hidden: []int{1}, want: "404 404 404 404 404 404 404 401"},
		}},
		{"PUT", "/api/v1/people/{id}/trainings/{tid}", func(_ *matrix, _ matrixCaller, args []int64) (string, string) {
			return fmt.Sprintf("/api/v1/people/%d/trainings/%d", args[0], args[1]), `{"kind":"law","date":"2025-06-01","passed":true,"version":1}`
		}, false, []variant{
			{name: "in", args: colleagueTraining, want: "200 403 200 404 404 403 200 401"},
			{name: "out", args: ids(m.personOut, m.trainingOut), hidden: []int{0, 1}, want: everyone("404")},
		}},

		{"GET", "/api/v1/cases", path("/api/v1/cases?limit=500&person_id=%d"), false, []variant{
			{name: "in", args: ready, marker: caseIn, want: everyone("200+")},
			{name: "out", args: ids(m.personOut), want: everyone("200")},
		}},
		{"POST", "/api/v1/cases", func(_ *matrix, _ matrixCaller, args []int64) (string, string) {
			return "/api/v1/cases", `{"path":"application","person_id":` + itoa(args[0]) + `,"data":{` + cors + `}}`
		}, false, []variant{
			{name: "in", args: colleague, want: "201 403 403 404 404 403 403 401"},
			{name: "out", args: ids(m.personOut), want: everyone("404")},
		}},
		{"GET", "/api/v1/cases/{id}", path("/api/v1/cases/%d"), false, []variant{
			{name: "in", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.caseIn.ID} }), marker: caseIn, want: everyone("200+")},
			{name: "out", args: ids(m.caseOut.ID), want: everyone("404")},
			{name: "not at justice", args: ids(m.caseDraft.ID), want: "200 200 200 404 404 200 200 401"},
		}},
		{"GET", "/api/v1/cases/{id}/documents", path("/api/v1/cases/%d/documents"), false, []variant{
			{name: "in", args: ids(m.caseIn.ID), marker: formTitle, want: everyone("200+")},
			{name: "out", args: ids(m.caseOut.ID), want: everyone("404")},
			{name: "not at justice", args: ids(m.caseDraft.ID), want: "200 200 200 404 404 200 200 401"},
		}},
		{"GET", "/api/v1/cases/{id}/documents.pdf", path("/api/v1/cases/%d/documents.pdf"), false, []variant{
			{name: "in", args: ids(m.caseIn.ID), want: everyone("200")},
			{name: "out", args: ids(m.caseOut.ID), want: everyone("404")},
		}},
		{"GET", "/api/v1/people/{id}/documents", path("/api/v1/people/%d/documents"), false, []variant{
			{name: "in", args: ready, marker: formTitle, want: "200+ 200+ 200+ 200+ 404 200+ 200+ 401"},
			{name: "out", args: ids(m.personOut), want: everyone("404")},
		}},
		{"GET", "/api/v1/documents/{id}", path("/api/v1/documents/%d"), false, []variant{
			{name: "in", args: ids(m.docIn), want: everyone("200")},
			{name: "out", args: ids(m.docOut), want: everyone("404")},
			{name: "not at justice", args: ids(m.docDraft), want: "200 200 200 404 404 200 200 401"},
		}},
		{"GET", "/api/v1/documents/{id}/preview", path("/api/v1/documents/%d/preview"), false, []variant{
			{name: "in", args: ids(m.docIn), marker: func(*matrix) string { return "张三" }, want: everyone("200+")},
			{name: "out", args: ids(m.docOut), want: everyone("404")},
		}},
		{"POST", "/api/v1/batches", func(_ *matrix, _ matrixCaller, args []int64) (string, string) {
			return "/api/v1/batches", `{"org_unit_id":` + itoa(args[0]) + `}`
		}, false, []variant{
			// 乌鲁木齐 is a prefecture: only a county applies for its 派出机关 staff (Art. 5).
			{name: "in", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.pref} }), want: "422 403 403 404 404 403 403 401"},
			{name: "out", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.other} }), want: everyone("404")},
		}},
		{"POST", "/api/v1/cases/{id}/events", func(_ *matrix, _ matrixCaller, args []int64) (string, string) {
			return "/api/v1/cases/" + itoa(args[0]) + "/events", `{"event":"refuse","expected_version":` + itoa(args[1]) + `,"comment":"培训记录不全"}`
		}, false, []variant{
			{name: "in", args: func(t *testing.T, m *matrix) []int64 {
				c := m.submitted(t, "in", m.person(t, "in"))
				return []int64{c.ID, c.Version}
			}, want: "200 403 403 404 200 403 403 401"},
			{name: "out", args: ids(m.caseOut.ID, m.caseOut.Version), want: everyone("404")},
		}},

		{"GET", "/api/v1/certificates", path("/api/v1/certificates?limit=500&person_id=%d"), false, []variant{
			{name: "in", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.holderIn} }), marker: func(m *matrix) string { return m.certInNumber },
				want: "200+ 200+ 200+ 200- 200- 200+ 200+ 401"},
			{name: "out", args: ids(m.holderOut), want: everyone("200")},
		}},
		{"GET", "/api/v1/workflows", path("/api/v1/workflows"), false, []variant{{name: "-", args: noArgs, want: everyone("200")}}},
		{"GET", "/api/v1/workflows/{name}", path("/api/v1/workflows/application"), false, []variant{{name: "-", args: noArgs, want: everyone("200")}}},

		{"GET", "/api/v1/inbox", path("/api/v1/inbox?limit=500&org_unit_id=%d"), false, []variant{
			{name: "in", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.pref} }), marker: caseIn,
				want: "200- 200- 200- 200- 200+ 200- 200- 401"},
			{name: "out", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.other} }), want: everyone("200")},
		}},
		{"POST", "/api/v1/tasks/{id}/claim", path("/api/v1/tasks/%d/claim"), false, []variant{
			{name: "in", args: pendingTask, want: "403 200 403 404 404 403 403 401"},
			{name: "out", args: ids(m.taskOut), want: everyone("404")},
		}},
		{"POST", "/api/v1/tasks/{id}/unclaim", path("/api/v1/tasks/%d/unclaim"), false, []variant{
			{name: "in", args: claimedTask, want: "403 200 403 404 404 403 403 401"},
			{name: "out", args: ids(m.taskOut), want: everyone("404")},
		}},
		{"POST", "/api/v1/tasks/{id}/reassign", func(_ *matrix, _ matrixCaller, args []int64) (string, string) {
			return "/api/v1/tasks/" + itoa(args[0]) + "/reassign", `{"user_id":` + itoa(args[1]) + `,"comment":"本人出差"}`
		}, false, []variant{
			{name: "in", args: func(t *testing.T, m *matrix) []int64 { return []int64{pendingTask(t, m)[0], m.principal2} }, want: "403 200 403 404 404 403 403 401"},
			{name: "out", args: ids(m.taskOut, m.principal2), want: everyone("404")},
			{name: "to someone out of scope", args: func(t *testing.T, m *matrix) []int64 { return []int64{pendingTask(t, m)[0], m.principalOut} },
				hidden: []int{1}, want: "403 400 403 404 404 403 403 401"},
		}},
		{"POST", "/api/v1/tasks/{id}/remind", path("/api/v1/tasks/%d/remind"), false, []variant{
			{name: "in", args: pendingTask, want: "200 200 200 404 404 200 200 401"},
			{name: "out", args: ids(m.taskOut), want: everyone("404")},
		}},
		{"POST", "/api/v1/cases/{id}/copies", func(_ *matrix, _ matrixCaller, args []int64) (string, string) {
			return "/api/v1/cases/" + itoa(args[0]) + "/copies", `{"user_ids":[` + itoa(args[1]) + `],"comment":"请知悉"}`
		}, false, []variant{
			{name: "in", args: func(t *testing.T, m *matrix) []int64 { return []int64{pendingCase(t, m)[0], m.users["m-supervisor"]} }, want: "200 200 403 404 404 403 403 401"},
			{name: "out", args: ids(m.caseOut.ID, m.principal2), want: everyone("404")},
			{name: "to someone out of scope", args: func(t *testing.T, m *matrix) []int64 { return []int64{pendingCase(t, m)[0], m.principalOut} },
				hidden: []int{1}, want: "400 400 403 404 404 403 403 401"},
		}},
		{"GET", "/api/v1/copies", path("/api/v1/copies"), false, []variant{{name: "-", args: noArgs, want: everyone("200")}}},

		{"GET", "/api/v1/delegations", path("/api/v1/delegations"), false, []variant{{name: "-", args: noArgs, want: everyone("200")}}},
		{"POST", "/api/v1/delegations", func(_ *matrix, _ matrixCaller, args []int64) (string, string) {
			return "/api/v1/delegations", `{"deputy_user_id":` + itoa(args[0]) + `,"ends_on":"2026-03-20","reason":"出差"}`
		}, false, []variant{
			{name: "in", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.principal2} }), want: "201 201 201 403 201 201 201 401"},
			{name: "out", args: ids(m.principalOut), want: "400 400 400 403 400 400 400 401"},
		}},
		{"POST", "/api/v1/delegations/{id}/revoke", path("/api/v1/delegations/%d/revoke"), false, []variant{
			{name: "in", args: func(t *testing.T, m *matrix) []int64 { return []int64{m.delegation(t)} }, want: "404 200 404 404 404 404 404 401"},
			{name: "out", args: ids(m.delegationOut), want: everyone("404")},
		}},

		{"GET", "/api/v1/reminders", path("/api/v1/reminders"), false, []variant{
			{name: "-", args: noArgs, marker: func(m *matrix) string { return m.reminderInMessage }, want: "200- 200+ 200- 200- 200- 200- 200- 401"},
		}},
		{"POST", "/api/v1/reminders/{id}/acknowledge", path("/api/v1/reminders/%d/acknowledge"), false, []variant{
			{name: "in", args: ids(m.reminderIn), want: "404 200 404 404 404 404 404 401"},
			{name: "out", args: ids(m.reminderOut), want: everyone("404")},
		}},

		{"GET", "/api/v1/departure-blockers", path("/api/v1/departure-blockers?person_id=%d"), false, []variant{
			{name: "in", args: ready, want: everyone("200")},
			{name: "out", args: ids(m.personOut), want: everyone("200")},
		}},
		{"GET", "/api/v1/overdue", path("/api/v1/overdue?org_unit_id=%d"), false, []variant{
			{name: "in", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.pref} }), want: everyone("200")},
			{name: "out", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.other} }), want: everyone("200")},
		}},
		{"GET", "/api/v1/exports/platform", path("/api/v1/exports/platform?format=csv&person_id=%d"), false, []variant{
			{name: "in", args: in(func(*testing.T, *matrix) []int64 { return []int64{m.holderIn} }), marker: func(m *matrix) string { return m.holderInName },
				want: "200+ 200+ 200+ 404 404 200+ 200+ 401"},
			{name: "out", args: ids(m.holderOut), want: everyone("404")},
		}},
	}
}

// absentID is an ID no object has: the i-th hidden argument's stand-in.
func absentID(i int) int64 { return 990000001 + int64(i) }

// masked replaces the request's path (a problem's instance) and each ID
// in ids with placeholders, so two answers about different IDs compare.
func masked(body []byte, path string, ids []int64) string {
	path, _, _ = strings.Cut(path, "?")
	s := strings.ReplaceAll(string(body), `"instance":"`+path+`"`, `"instance":"{path}"`)
	for i, id := range ids {
		s = regexp.MustCompile(`\b`+strconv.FormatInt(id, 10)+`\b`).ReplaceAllString(s, fmt.Sprintf("{id%d}", i))
	}
	return s
}

// TestAuthorizationMatrix runs the matrix on both stores.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	for _, role := range workflow.Roles {
		if !slices.ContainsFunc(matrixCallers, func(c matrixCaller) bool { return c.role == string(role) }) {
			t.Errorf("role %s has no column in the matrix", role)
		}
	}
	for _, st := range testStores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			m := newMatrix(t, st.open)
			routes := matrixRoutes(m)
			checkRoutesCovered(t, m, routes)
			for _, rt := range routes {
				t.Run(rt.method+" "+rt.pattern, func(t *testing.T) {
					for _, v := range rt.variants {
						cells := parseCells(t, v.want)
						for i, c := range matrixCallers {
							t.Run(v.name+"/"+c.role, func(t *testing.T) { m.runCell(t, rt, v, c, cells[i]) })
						}
					}
				})
			}
		})
	}
}

// checkRoutesCovered fails for a route the router serves without a row,
// and for a row naming no route.
func checkRoutesCovered(t *testing.T, m *matrix, routes []matrixRoute) {
	t.Helper()
	rows := map[string]bool{}
	for _, rt := range routes {
		rows[rt.method+" "+rt.pattern] = true
	}
	served := map[string]bool{}
	err := chi.Walk(m.api.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = chiParam.ReplaceAllString(route, "{$1}")
		if len(route) > 1 {
			route = strings.TrimSuffix(route, "/")
		}
		served[method+" "+route] = true
		if !rows[method+" "+route] {
			t.Errorf("%s %s has no row in the authorization matrix", method, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r := range rows {
		if !served[r] {
			t.Errorf("the matrix has a row for %s, which no route serves", r)
		}
	}
}

// send sends one request as caller.
func (m *matrix) send(t *testing.T, method, path, body string, c matrixCaller) response {
	t.Helper()
	return m.do(t, method, path, c.token, body)
}

// runCell runs one cell: caller c on variant v of route rt.
func (m *matrix) runCell(t *testing.T, rt matrixRoute, v variant, c matrixCaller, want cell) {
	args := v.args(t, m)
	p, body := rt.req(m, c, args)
	before := m.state(t)
	r := m.send(t, rt.method, p, body, c)
	after := m.state(t)
	if r.status != want.status {
		t.Fatalf("%s %s as %s: status %d, want %d; body %.300s", rt.method, p, c.role, r.status, want.status, r.body)
	}
	reads := rt.method == http.MethodGet || rt.method == http.MethodHead
	switch {
	case r.status >= 400 || reads:
		if after != before {
			t.Errorf("a %d answer to %s changed the database:\n before %s\n after  %s", r.status, rt.method, before, after)
		}
	case !rt.noop && after == before:
		t.Errorf("a %d answer to %s changed nothing", r.status, rt.method)
	}
	if r.status >= 400 {
		if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("a %d answer with Content-Type %q", r.status, ct)
		}
	}
	if want.marker != 0 {
		marker := v.marker(m)
		if has := bytes.Contains(r.body, []byte(marker)); has != (want.marker == '+') {
			t.Errorf("the answer holds %q: %v, want %v; body %.500s", marker, has, want.marker == '+', r.body)
		}
	}
	for _, s := range m.secrets {
		if bytes.Contains(r.body, []byte(s)) {
			t.Errorf("the answer tells %q of 克拉玛依: %.500s", s, r.body)
		}
	}
	// A 404, and any answer about an object out of scope, must be the
	// answer about an object that does not exist.
	if r.status != http.StatusNotFound && v.name != "out" {
		return
	}
	hidden := v.hidden
	if hidden == nil {
		hidden = []int{0}
	}
	absent := slices.Clone(args)
	var real, stand []int64
	for i, h := range hidden {
		absent[h] = absentID(i)
		real, stand = append(real, args[h]), append(stand, absent[h])
	}
	ap, abody := rt.req(m, c, absent)
	before = m.state(t)
	ar := m.send(t, rt.method, ap, abody, c)
	if after := m.state(t); after != before && (ar.status >= 400 || reads) {
		t.Errorf("the request about nothing (%d) changed the database", ar.status)
	}
	if got, want := masked(r.body, p, real), masked(ar.body, ap, stand); ar.status != r.status || got != want {
		t.Errorf("the answer tells the object exists:\n %d %s\nwhere one that does not gets\n %d %s", r.status, got, ar.status, want)
	}
}

// TestCopyReadsDocuments: 抄送 lets its reader download the case's
// documents, as it lets them read the case; never act on it.
func TestCopyReadsDocuments(t *testing.T) {
	t.Parallel()
	for _, st := range testStores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			m := newMatrix(t, st.open)
			// The liaison works in the case's line but does not reach an
			// application before it went to justice.
			liaison := matrixCallers[4]
			c := m.caseDraft
			reads := []string{
				"/api/v1/cases/" + itoa(c.ID),
				"/api/v1/cases/" + itoa(c.ID) + "/documents",
				"/api/v1/cases/" + itoa(c.ID) + "/documents.pdf",
				"/api/v1/documents/" + itoa(m.docDraft),
				"/api/v1/documents/" + itoa(m.docDraft) + "/preview",
			}
			for _, p := range reads {
				m.send(t, "GET", p, "", liaison).problemOf(t, http.StatusNotFound, p)
			}
			copies := "/api/v1/cases/" + itoa(c.ID) + "/copies"
			m.do(t, "POST", copies, principalToken, `{"user_ids":[`+itoa(m.users[liaison.user])+`]}`).decode(t, http.StatusOK, nil)
			for _, p := range reads {
				if r := m.send(t, "GET", p, "", liaison); r.status != http.StatusOK {
					t.Errorf("GET %s after the copy: %d %s", p, r.status, r.body)
				}
			}
			r := m.send(t, "GET", "/api/v1/documents/"+itoa(m.docDraft), "", liaison)
			if !bytes.Equal(r.body, tinyPDF()) || r.header.Get("Content-Type") != "application/pdf" {
				t.Errorf("the download: %s, %d bytes", r.header.Get("Content-Type"), len(r.body))
			}
			// Read-only: the copy acts on nothing, and reaches no further
			// than the case (not its person's other records).
			before := m.state(t)
			events := "/api/v1/cases/" + itoa(c.ID) + "/events"
			if r := m.send(t, "POST", events, `{"event":"withdraw","expected_version":`+itoa(c.Version+1)+`,"comment":"x"}`, liaison); r.status < 400 {
				t.Errorf("the copy withdrew the case: %d", r.status)
			}
			m.send(t, "GET", "/api/v1/people/"+itoa(m.ready)+"/documents", "", liaison).problemOf(t, http.StatusNotFound, "/api/v1/people/"+itoa(m.ready)+"/documents")
			if after := m.state(t); after != before {
				t.Errorf("the copy's reader changed the database:\n %s\n %s", before, after)
			}
		})
	}
}

// TestJusticeListsWhatReachedJustice: the liaison's pages of GET /cases
// hold only cases that reached justice, and are full while more follow,
// however many cases before justice lie between.
func TestJusticeListsWhatReachedJustice(t *testing.T) {
	t.Parallel()
	m := newMatrix(t, openSQLite)
	for range 3 {
		m.pending(t, "in", m.person(t, "in")) // cases the liaison does not see, after caseDraft
	}
	var want []int64
	all, err := m.engine.Cases(m.ctx, m.as(t, "clerk"), workflow.CaseFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		if c.State == workflow.AppSubmitted || c.State == workflow.AppReceived {
			want = append(want, c.ID)
		}
	}
	if len(want) < 2 || want[1]-want[0] < 2 {
		t.Fatalf("the fixture's cases at justice %v: want two with others between", want)
	}
	var got []int64
	after := "0"
	for range 10 {
		var p page[workflow.Case]
		m.send(t, "GET", "/api/v1/cases?limit=1&after="+after, "", matrixCallers[4]).decode(t, http.StatusOK, &p)
		for _, c := range p.Items {
			got = append(got, c.ID)
		}
		if p.NextAfter == nil {
			break
		}
		after = strconv.FormatInt(*p.NextAfter, 10)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the liaison's pages %v, want %v", got, want)
	}
}
