package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"certflow/internal/auth"
	"certflow/workflow"
)

// openIntake opens the fixture's public intake: a dedicated role-less user,
// limit complaints per 10 minutes, clients told apart by X-Test-Client.
func (f *fixture) openIntake(t *testing.T, limit int) *publicIntake {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := f.engine.Store().Update(ctx, func(tx workflow.Tx) (err error) {
		id, err = tx.CreateUser(ctx, "public-intake", 0, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	act := &workflow.Actor{UserID: id, Name: "public-intake"}
	f.api.public = newPublicIntake(PublicIntake{
		Actor:    func(context.Context) (*workflow.Actor, error) { return act, nil },
		Limit:    limit,
		Window:   10 * time.Minute,
		ClientIP: func(r *http.Request) string { return r.Header.Get("X-Test-Client") },
	})
	return f.api.public
}

const complaintURL = "/api/v1/public/complaints"

func TestPublicComplaint(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.openIntake(t, 3)

	// No token: 201 with the receipt and nothing else.
	body := `{"officer_name":"张三","facts":"检查时未出示执法证件","complainant_contact":"13800000000","org_unit_id":` + itoa(f.prefBiz) + `}`
	r := f.do(t, "POST", complaintURL, "", body, "X-Test-Client: 10.0.0.1")
	var receipt map[string]string
	r.decode(t, http.StatusCreated, &receipt)
	if len(receipt) != 1 || len(receipt["lookup_code"]) != 14 { // no case number: its region would tell where the complaint went
		t.Fatalf("receipt %v", receipt)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}

	// The legal office of the department it was addressed to finds it in its inbox and reads it.
	var inbox workflow.InboxPage
	f.do(t, "GET", "/api/v1/inbox", clerkToken, "").decode(t, http.StatusOK, &inbox)
	var caseID int64
	for _, it := range inbox.Items {
		if strings.HasPrefix(it.CaseNumber, "650100-2026-") && it.Kind == workflow.TaskHandleComplaint {
			caseID = it.CaseID
		}
	}
	if caseID == 0 {
		t.Fatalf("complaint not in the clerk's inbox: %+v", inbox.Items)
	}
	v := f.caseView(t, caseID)
	var d workflow.ComplaintData
	if err := json.Unmarshal(v.Data, &d); err != nil || v.Path != workflow.PathComplaint || v.State != workflow.ComplaintHandling ||
		d.Channel != workflow.ChannelOnline || d.ComplainantContact != "13800000000" || d.LookupHash != workflow.ComplaintLookupHash(receipt["lookup_code"]) {
		t.Fatalf("case %+v data %+v (%v)", v.Case, d, err)
	}
	// Another department's clerk does not see it.
	f.do(t, "GET", "/api/v1/cases/"+itoa(caseID), outsiderToken, "").problemOf(t, http.StatusNotFound, "/api/v1/cases/"+itoa(caseID))

	// A token is neither needed nor used.
	f.do(t, "POST", complaintURL, "cf_no_such_token", `{"officer_name":"张三","facts":"态度恶劣"}`, "X-Test-Client: 10.0.0.2").
		decode(t, http.StatusCreated, nil)
}

func TestPublicComplaintBadBody(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.openIntake(t, 100)
	for _, tc := range []struct {
		body, field string
		status      int
	}{
		{`{"facts":`, "", http.StatusBadRequest},
		{`{"officer_name":"张三"}`, "facts", http.StatusBadRequest},
		{`{"facts":"x"}`, "officer_name", http.StatusBadRequest},
		{`{"officer_name":"张三","facts":"x","channel":"来信"}`, "channel", http.StatusBadRequest},
		{`{"officer_name":"张三","facts":"x","lookup_hash":"00"}`, "lookup_hash", http.StatusBadRequest},
		{`{"officer_name":"张三","facts":"x","kind":"投诉"}`, "kind", http.StatusBadRequest},
		{`{"officer_name":"张三","facts":"x","org_unit_id":99999}`, "org_unit_id", http.StatusBadRequest},
		{`[]`, "", http.StatusBadRequest},
	} {
		p := f.do(t, "POST", complaintURL, "", tc.body, "X-Test-Client: 10.0.0.9").problemOf(t, tc.status, complaintURL)
		if p.Field != tc.field {
			t.Errorf("%s: field %q, want %q (%s)", tc.body, p.Field, tc.field, p.Detail)
		}
		// The public read Chinese about the fields they fill in.
		if want, ok := publicFields[tc.field]; ok && (!strings.HasSuffix(p.Detail, want) || p.Type != problemInvalid) {
			t.Errorf("%s: detail %q, want %q", tc.body, p.Detail, want)
		}
	}
	f.do(t, "POST", complaintURL, "", "x", "X-Test-Client: 10.0.0.9", "Content-Type: text/plain").
		problemOf(t, http.StatusUnsupportedMediaType, complaintURL)
}

func TestPublicComplaintRateLimited(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.openIntake(t, 3)
	now := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	p.limiter.now = func() time.Time { return now }
	file := func(client string) response {
		return f.do(t, "POST", complaintURL, "", `{"officer_name":"张三","facts":"x"}`, "X-Test-Client: "+client)
	}
	for i := range 3 {
		if r := file("10.0.0.1"); r.status != http.StatusCreated {
			t.Fatalf("complaint %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := file("10.0.0.1")
	pr := r.problemOf(t, http.StatusTooManyRequests, complaintURL)
	if pr.Type != problemRateLimited || r.header.Get("Retry-After") != "200" {
		t.Fatalf("limited: %+v, Retry-After %q", pr, r.header.Get("Retry-After"))
	}
	// A malformed request counts too, and is limited before it is read.
	f.do(t, "POST", complaintURL, "", `{`, "X-Test-Client: 10.0.0.1").problemOf(t, http.StatusTooManyRequests, complaintURL)
	// Another client is not affected.
	if r := file("10.0.0.2"); r.status != http.StatusCreated {
		t.Fatalf("other client: %d", r.status)
	}
	// One token comes back every window/limit.
	now = now.Add(200 * time.Second)
	if r := file("10.0.0.1"); r.status != http.StatusCreated {
		t.Fatalf("after 200 s: %d %s", r.status, r.body)
	}
	file("10.0.0.1").problemOf(t, http.StatusTooManyRequests, complaintURL)
}

const statusURL = "/api/v1/public/complaints/status"

// TestPublicComplaintStatus: the complainant follows the complaint with the
// receipt's code, without a token, and learns its progress and nothing
// about the officer or the department.
func TestPublicComplaintStatus(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.openIntake(t, 100)
	p.lookups.limit = 3
	var receipt struct {
		LookupCode string `json:"lookup_code"`
	}
	f.do(t, "POST", complaintURL, "", `{"officer_name":"张三","facts":"检查时未出示执法证件","org_unit_id":`+itoa(f.prefBiz)+`}`, "X-Test-Client: 10.0.0.1").
		decode(t, http.StatusCreated, &receipt)

	r := f.do(t, "POST", statusURL, "", `{"lookup_code":"`+strings.ToLower(receipt.LookupCode)+`"}`, "X-Test-Client: 10.0.0.1")
	var st map[string]any
	r.decode(t, http.StatusOK, &st)
	if len(st) != 5 || st["status"] != workflow.PublicHandling || st["status_label"] != "已受理，正在处理" || st["kind"] != "举报" ||
		st["received_on"] == nil || st["due_on"] == nil {
		t.Fatalf("status %v", st)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	// A code that names nothing: 404 in Chinese; a malformed one: 400 on the field.
	pr := f.do(t, "POST", statusURL, "", `{"lookup_code":"0000-0000-0000"}`, "X-Test-Client: 10.0.0.1").problemOf(t, http.StatusNotFound, statusURL)
	if pr.Type != problemNotFound || !strings.Contains(pr.Detail, "查询码") {
		t.Fatalf("unknown code: %+v", pr)
	}
	pr = f.do(t, "POST", statusURL, "", `{"lookup_code":"12345"}`, "X-Test-Client: 10.0.0.1").problemOf(t, http.StatusBadRequest, statusURL)
	if pr.Field != "lookup_code" || !strings.HasSuffix(pr.Detail, publicFields["lookup_code"]) {
		t.Fatalf("malformed code: %+v", pr)
	}
	// Lookups have their own limit: the fourth is refused, filing is not.
	pr = f.do(t, "POST", statusURL, "", `{`, "X-Test-Client: 10.0.0.1").problemOf(t, http.StatusTooManyRequests, statusURL)
	if pr.Type != problemRateLimited || !strings.Contains(pr.Detail, "3 status lookups") {
		t.Fatalf("limited: %+v", pr)
	}
	f.do(t, "POST", complaintURL, "", `{"officer_name":"张三","facts":"x"}`, "X-Test-Client: 10.0.0.1").decode(t, http.StatusCreated, &receipt)
}

func TestPublicComplaintClosed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.do(t, "POST", complaintURL, "", `{"officer_name":"张三","facts":"x"}`).problemOf(t, http.StatusServiceUnavailable, complaintURL)
	if p.Type != problemUnavailable {
		t.Fatalf("type %s", p.Type)
	}
	// A user with roles cannot stand in for the public: the server's fault, 500.
	f.api.public = newPublicIntake(PublicIntake{Actor: func(ctx context.Context) (*workflow.Actor, error) {
		return &workflow.Actor{UserID: 1, Roles: []workflow.RoleBinding{{Role: workflow.RoleLegalClerk, OrgUnitID: f.pref}}}, nil
	}})
	f.do(t, "POST", complaintURL, "", `{"officer_name":"张三","facts":"x"}`).problemOf(t, http.StatusInternalServerError, complaintURL)
}

// TestPublicIntakeUserDisabled: disabling the intake's user (certflow user
// disable public-intake) closes the intake, 503 as when it is not open,
// and enabling it opens it again, the same user filing.
func TestPublicIntakeUserDisabled(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	store := f.engine.Store()
	f.api.public = newPublicIntake(PublicIntake{Actor: func(ctx context.Context) (*workflow.Actor, error) {
		return auth.ServiceActor(ctx, store, "public-intake")
	}})
	body := `{"officer_name":"张三","facts":"检查时未出示执法证件","org_unit_id":` + itoa(f.prefBiz) + `}`
	f.do(t, "POST", complaintURL, "", body).decode(t, http.StatusCreated, &map[string]string{})
	if err := auth.Disable(ctx, store, "public-intake"); err != nil {
		t.Fatal(err)
	}
	if p := f.do(t, "POST", complaintURL, "", body).problemOf(t, http.StatusServiceUnavailable, complaintURL); p.Type != problemUnavailable {
		t.Fatalf("type %s", p.Type)
	}
	if err := auth.Enable(ctx, store, "public-intake"); err != nil {
		t.Fatal(err)
	}
	f.do(t, "POST", complaintURL, "", body).decode(t, http.StatusCreated, &map[string]string{})
	users, err := auth.Users(ctx, store, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range users {
		if u.Name == "public-intake" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d users named public-intake", n)
	}
}

func TestRateLimiterKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.7:5120", "192.0.2.7"},
		{"192.0.2.7", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.7]:80", "192.0.2.7"},
		{"[fe80::1%eth0]:80", "fe80::/64"},
		{"not an address", "not an address"},
	} {
		if got := clientKey(tc.addr); got != tc.want {
			t.Errorf("clientKey(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

func TestRateLimiterBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	l := newRateLimiter(2, time.Minute, 2)
	l.now = func() time.Time { return now }
	for _, k := range []string{"a", "a", "b"} {
		if ok, _ := l.allow(k); !ok {
			t.Fatalf("%s refused", k)
		}
	}
	if ok, wait := l.allow("c"); ok || wait != 30*time.Second {
		t.Fatalf("a third client with the table full of busy ones: %v, wait %s", ok, wait)
	}
	// Once a's and b's buckets are full again they are forgotten, making room.
	now = now.Add(time.Minute)
	if ok, _ := l.allow("c"); !ok {
		t.Fatal("c refused after the others refilled")
	}
	if len(l.buckets) != 1 {
		t.Fatalf("%d buckets remembered, want 1", len(l.buckets))
	}
}
