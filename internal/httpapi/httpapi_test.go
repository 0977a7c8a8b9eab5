package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"certflow/workflow"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	f := setup(t)
	r := f.do(t, "GET", "/healthz", "", "")
	if r.status != http.StatusOK || string(r.body) != "ok" {
		t.Fatalf("got %d %q, want 200 ok", r.status, r.body)
	}
	// Load balancers probe with HEAD.
	if r := f.do(t, "HEAD", "/healthz", "", ""); r.status != http.StatusOK {
		t.Fatalf("HEAD: got %d, want 200", r.status)
	}
}

func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tests := []struct {
		name, auth    string
		wantChallenge string
	}{
		{"no header", "", `Bearer realm="certflow"`},
		{"basic scheme", "Basic Y2xlcms6c2VjcmV0", `Bearer realm="certflow"`},
		{"empty bearer", "Bearer ", `Bearer realm="certflow"`},
		{"unknown token", "Bearer cf_nobody", `Bearer realm="certflow", error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.auth != "" {
				hdr = append(hdr, "Authorization: "+tt.auth)
			}
			r := f.do(t, "GET", "/api/v1/people", "", "", hdr...)
			p := r.problemOf(t, http.StatusUnauthorized, "/api/v1/people")
			if p.Title != "未登录" {
				t.Errorf("title %q, want 未登录", p.Title)
			}
			if got := r.header.Get("WWW-Authenticate"); got != tt.wantChallenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.wantChallenge)
			}
		})
	}
	// The scheme is case-insensitive.
	f.do(t, "GET", "/api/v1/org-units", "", "", "Authorization: bearer "+clerkToken).decode(t, http.StatusOK, nil)
}

func TestProblems(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.openCase(t, f.ready)
	caseEvents := "/api/v1/cases/" + itoa(c.ID) + "/events"
	person := "/api/v1/people/" + itoa(f.ready)
	tests := []struct {
		name         string
		method, path string
		token, body  string
		hdr          []string
		status       int
		title, field string
		typ          string
	}{
		{name: "non-numeric id", method: "GET", path: "/api/v1/people/abc", token: clerkToken,
			status: 400, title: "请求有误", field: "id", typ: problemMalformed},
		{name: "bad query parameter", method: "GET", path: "/api/v1/people?limit=1000", token: clerkToken,
			status: 400, title: "请求有误", field: "limit", typ: problemMalformed},
		{name: "unknown certificate state", method: "GET", path: "/api/v1/certificates?state=lost-ish", token: clerkToken,
			status: 400, title: "请求有误", field: "state", typ: problemMalformed},
		{name: "missing person", method: "GET", path: "/api/v1/people/9999", token: clerkToken,
			status: 404, title: "未找到", typ: problemNotFound},
		{name: "person out of scope", method: "GET", path: person, token: outsiderToken,
			status: 404, title: "未找到", typ: problemNotFound},
		{name: "unknown route", method: "GET", path: "/api/v1/nothing-here", token: clerkToken,
			status: 404, title: "未找到", typ: problemNotFound},
		{name: "unknown workflow", method: "GET", path: "/api/v1/workflows/nope", token: clerkToken,
			status: 404, title: "未找到", typ: problemNotFound},
		{name: "wrong method", method: "DELETE", path: person, token: clerkToken,
			status: 405, title: "不支持的请求方法", typ: problemMethod},
		{name: "malformed JSON", method: "POST", path: "/api/v1/people", token: clerkToken, body: `{"name":`,
			status: 400, title: "请求有误", typ: problemMalformed},
		{name: "JSON syntax error", method: "POST", path: "/api/v1/people", token: clerkToken, body: `{"name" "x"}`,
			status: 400, title: "请求有误", typ: problemMalformed},
		{name: "unknown member", method: "POST", path: "/api/v1/people", token: clerkToken, body: `{"name":"赵六","nickname":"x"}`,
			status: 400, title: "请求有误", field: "nickname", typ: problemMalformed},
		{name: "wrong type", method: "POST", path: "/api/v1/people", token: clerkToken, body: `{"name":5}`,
			status: 400, title: "请求有误", field: "name", typ: problemMalformed},
		{name: "two values", method: "POST", path: "/api/v1/people", token: clerkToken, body: `{"name":"a"} {"name":"b"}`,
			status: 400, title: "请求有误", typ: problemMalformed},
		{name: "empty body", method: "POST", path: "/api/v1/people", token: clerkToken, body: ` `,
			status: 400, title: "请求有误", typ: problemMalformed},
		{name: "not JSON", method: "POST", path: "/api/v1/people", token: clerkToken, body: `name=x`,
			hdr: []string{"Content-Type: application/x-www-form-urlencoded"}, status: 415, title: "不支持的内容类型", field: "Content-Type", typ: problemMediaType},
		{name: "too large", method: "POST", path: "/api/v1/people", token: clerkToken,
			body: `{"name":"` + strings.Repeat("a", maxBodyBytes) + `"}`, status: 413, title: "请求内容过大", typ: problemTooLarge},
		{name: "invalid 公民身份号码", method: "POST", path: "/api/v1/people", token: clerkToken,
			body:   `{"name":"赵六","id_number":"650102198503120010","education":"本科","org_unit_id":` + itoa(f.prefBiz) + `}`,
			status: 400, title: "请求有误", field: "id_number", typ: problemInvalid},
		{name: "officer keeps no staff records", method: "POST", path: "/api/v1/people", token: officerToken,
			body: `{"name":"赵六"}`, status: 403, title: "无权操作", typ: problemForbidden},
		{name: "nobody acts on their own case", method: "POST", path: caseEvents, token: officerToken,
			body: `{"event":"withdraw","expected_version":1,"comment":"x"}`, status: 403, title: "无权操作", typ: problemForbidden},
		{name: "expected_version missing", method: "POST", path: caseEvents, token: clerkToken,
			body: `{"event":"submit_for_approval"}`, status: 400, title: "请求有误", field: "expected_version", typ: problemMalformed},
		{name: "expected_version zero", method: "POST", path: caseEvents, token: clerkToken,
			body: `{"event":"submit_for_approval","expected_version":0}`, status: 400, title: "请求有误", field: "expected_version", typ: problemMalformed},
		{name: "unknown event", method: "POST", path: caseEvents, token: clerkToken,
			body: `{"event":"fly","expected_version":1}`, status: 400, title: "请求有误", field: "event", typ: problemInvalid},
		{name: "comment required", method: "POST", path: caseEvents, token: clerkToken,
			body: `{"event":"withdraw","expected_version":1}`, status: 400, title: "请求有误", field: "comment", typ: problemInvalid},
		{name: "event not allowed in state", method: "POST", path: caseEvents, token: principalToken,
			body: `{"event":"approve","expected_version":1}`, status: 409, title: "当前状态不允许此操作", typ: problemTransition},
		{name: "stale expected_version", method: "POST", path: caseEvents, token: clerkToken,
			body: `{"event":"submit_for_approval","expected_version":7}`, status: 409, title: "版本冲突", typ: problemStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, tt.method, tt.path, tt.token, tt.body, tt.hdr...)
			instance, _, _ := strings.Cut(tt.path, "?")
			p := r.problemOf(t, tt.status, instance)
			if p.Title != tt.title {
				t.Errorf("title %q, want %q", p.Title, tt.title)
			}
			if p.Field != tt.field {
				t.Errorf("field %q, want %q (detail %q)", p.Field, tt.field, p.Detail)
			}
			if p.Type != tt.typ {
				t.Errorf("type %q, want %q", p.Type, tt.typ)
			}
		})
	}
	// None of it touched the case.
	if got := f.caseView(t, c.ID); got.Version != 1 || len(got.History) != 1 {
		t.Errorf("case at version %d with %d events, want 1 and 1 (the opening)", got.Version, len(got.History))
	}
}

func TestMethodNotAllowedListsAllowed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	r := f.do(t, "DELETE", "/api/v1/people/1", clerkToken, "")
	r.problemOf(t, http.StatusMethodNotAllowed, "/api/v1/people/1")
	if got, want := r.header.Get("Allow"), "GET, PUT"; got != want {
		t.Errorf("Allow %q, want %q", got, want)
	}
}

func TestInvalidTransitionNamesStateAndEvent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.openCase(t, f.ready)
	path := "/api/v1/cases/" + itoa(c.ID) + "/events"
	p := f.do(t, "POST", path, principalToken, `{"event":"approve","expected_version":1}`).problemOf(t, http.StatusConflict, path)
	if p.State != workflow.AppDraft || p.Event != workflow.EvApprove {
		t.Errorf("state %q event %q, want draft and approve", p.State, p.Event)
	}
}

func TestGuardRefusal(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.openCase(t, f.untrained)
	path := "/api/v1/cases/" + itoa(c.ID) + "/events"
	r := f.do(t, "POST", path, clerkToken, `{"event":"submit_for_approval","expected_version":1}`)
	p := r.problemOf(t, http.StatusUnprocessableEntity, path)
	if p.Title != "不符合办法规定" || p.Type != problemGuard {
		t.Errorf("title %q type %q, want 不符合办法规定 and %s", p.Title, p.Type, problemGuard)
	}
	if !slices.Contains(p.Articles, "Art. 9(1)(3)") {
		t.Errorf("articles %q, want Art. 9(1)(3)", p.Articles)
	}
	i := slices.IndexFunc(p.Violations, func(v workflow.Violation) bool { return v.Article == "Art. 9(1)(3)" })
	if i < 0 || p.Violations[i].Condition == "" {
		t.Errorf("violations %+v, want Art. 9(1)(3) with its condition", p.Violations)
	}
	// The raw body carries the extension members under their RFC 9457 names.
	var raw map[string]any
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"type", "title", "status", "detail", "instance", "violations", "articles"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("member %q missing from %s", k, r.body)
		}
	}
	if got := f.caseView(t, c.ID); got.State != workflow.AppDraft || got.Version != 1 || len(got.History) != 1 {
		t.Errorf("case %s v%d with %d events, want draft v1 with the opening only", got.State, got.Version, len(got.History))
	}
}

func TestStaleVersion(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.openCase(t, f.ready)
	path := "/api/v1/cases/" + itoa(c.ID) + "/events"
	f.do(t, "POST", path, clerkToken, `{"event":"submit_for_approval","expected_version":1}`).decode(t, http.StatusOK, nil)
	// A second caller still holding version 1.
	p := f.do(t, "POST", path, clerkToken, `{"event":"withdraw","expected_version":1,"comment":"重复"}`).problemTyped(t, http.StatusConflict, path, problemStale)
	if p.Title != "版本冲突" {
		t.Errorf("title %q, want 版本冲突", p.Title)
	}
	if got := f.caseView(t, c.ID); got.Version != 2 || len(got.History) != 2 {
		t.Errorf("case v%d with %d events, want v2 with 2", got.Version, len(got.History))
	}
}

func TestIdempotentFire(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.openCase(t, f.ready)
	path := "/api/v1/cases/" + itoa(c.ID) + "/events"
	body := `{"event":"submit_for_approval","expected_version":1,"comment":"请审批"}`
	first := f.do(t, "POST", path, clerkToken, body, "Idempotency-Key: submit-1")
	first.decode(t, http.StatusOK, nil)
	again := f.do(t, "POST", path, clerkToken, body, "Idempotency-Key: submit-1")
	again.decode(t, http.StatusOK, nil)
	if !bytes.Equal(first.body, again.body) {
		t.Errorf("retry answered\n%s\nwant\n%s", again.body, first.body)
	}
	got := f.caseView(t, c.ID)
	if got.Version != 2 || len(got.History) != 2 {
		t.Fatalf("case v%d with %d events, want v2 with 2", got.Version, len(got.History))
	}
	// The same key for another request is refused, and writes nothing.
	other := `{"event":"withdraw","expected_version":2,"comment":"撤回"}`
	p := f.do(t, "POST", path, clerkToken, other, "Idempotency-Key: submit-1").problemOf(t, http.StatusBadRequest, path)
	if p.Field != "Idempotency-Key" {
		t.Errorf("field %q, want Idempotency-Key", p.Field)
	}
	if got := f.caseView(t, c.ID); len(got.History) != 2 {
		t.Errorf("%d events, want 2", len(got.History))
	}
}

func TestIdempotentOpenCase(t *testing.T) {
	t.Parallel()
	f := setup(t)
	body := `{"path":"application","person_id":` + itoa(f.ready) + `}`
	var first, again workflow.CaseView
	r := f.do(t, "POST", "/api/v1/cases", clerkToken, body, "Idempotency-Key: open-1")
	r.decode(t, http.StatusCreated, &first)
	f.do(t, "POST", "/api/v1/cases", clerkToken, body, "Idempotency-Key: open-1").decode(t, http.StatusCreated, &again)
	if first.ID != again.ID {
		t.Errorf("retry opened case %d, want %d", again.ID, first.ID)
	}
	if got, want := r.header.Get("Location"), "/api/v1/cases/"+itoa(first.ID); got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	// No second case exists.
	f.do(t, "GET", "/api/v1/cases/"+itoa(first.ID+1), clerkToken, "").problemOf(t, http.StatusNotFound, "/api/v1/cases/"+itoa(first.ID+1))
}

func TestBadBodyWritesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	count := func() int {
		var page struct {
			Items     []workflow.Person `json:"items"`
			NextAfter *int64            `json:"next_after"`
		}
		f.do(t, "GET", "/api/v1/people", clerkToken, "").decode(t, http.StatusOK, &page)
		return len(page.Items)
	}
	before := count()
	valid := `{"name":"赵六","id_number":"` + string(idNumber("65010219950404006")) + `","education":"本科","org_unit_id":` + itoa(f.prefBiz) + `}`
	for _, body := range []string{
		strings.TrimSuffix(valid, "}"),                // cut short
		strings.Replace(valid, "{", `{"bogus":1,`, 1), // unknown member
		strings.Replace(valid, `"本科"`, `["本科"]`, 1),   // wrong type
		valid + ` {}`, // two values
		strings.Replace(valid, `"本科"`, `"幼儿园"`, 1),                          // invalid education
		strings.Replace(valid, "65010219950404006", "65010219951404006", 1), // no such birth date
	} {
		r := f.do(t, "POST", "/api/v1/people", clerkToken, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("body %s: status %d, want 400 (%s)", body, r.status, r.body)
		}
	}
	if got := count(); got != before {
		t.Fatalf("%d people after bad bodies, want %d", got, before)
	}

	c := f.openCase(t, f.ready)
	path := "/api/v1/cases/" + itoa(c.ID) + "/events"
	for _, body := range []string{
		`{"event":"submit_for_approval","expected_version":1,"data":{"kind":"enforcement","oops":true}}`, // unknown data member
		`{"event":"submit_for_approval","expected_version":1,"data":{"proposed_categories":["烹饪"]}}`,     // unknown 执法类别
		`{"event":"submit_for_approval","expected_version":"1"}`,
	} {
		if r := f.do(t, "POST", path, clerkToken, body); r.status != http.StatusBadRequest {
			t.Errorf("body %s: status %d, want 400 (%s)", body, r.status, r.body)
		}
	}
	if got := f.caseView(t, c.ID); got.Version != 1 || len(got.History) != 1 {
		t.Errorf("case v%d with %d events, want v1 with the opening only", got.Version, len(got.History))
	}
}

func TestPeoplePagination(t *testing.T) {
	t.Parallel()
	f := setup(t)
	want := append([]int64{f.ready, f.untrained}, f.extra...)
	var got []int64
	after := int64(0)
	for pages := 0; ; pages++ {
		if pages > len(want) {
			t.Fatal("pagination does not end")
		}
		var page struct {
			Items     []workflow.Person `json:"items"`
			NextAfter *int64            `json:"next_after"`
		}
		f.do(t, "GET", "/api/v1/people?limit=2&after="+itoa(after), clerkToken, "").decode(t, http.StatusOK, &page)
		for _, p := range page.Items {
			got = append(got, p.ID)
		}
		if page.NextAfter == nil {
			if len(page.Items) == 2 {
				t.Errorf("a full page without next_after")
			}
			break
		}
		if len(page.Items) != 2 || *page.NextAfter != page.Items[1].ID {
			t.Fatalf("page of %d with next_after %d, want 2 ending at next_after", len(page.Items), *page.NextAfter)
		}
		after = *page.NextAfter
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged through %v, want %v", got, want)
	}

	// Filters.
	var page struct {
		Items []workflow.Person `json:"items"`
	}
	f.do(t, "GET", "/api/v1/people?name=李", clerkToken, "").decode(t, http.StatusOK, &page)
	if len(page.Items) != 1 || page.Items[0].ID != f.untrained {
		t.Errorf("name=李 found %+v, want only %d", page.Items, f.untrained)
	}
	f.do(t, "GET", "/api/v1/people", outsiderToken, "").decode(t, http.StatusOK, &page)
	if len(page.Items) != 0 {
		t.Errorf("outsider sees %d people, want none", len(page.Items))
	}
}

func TestPersonAndTrainings(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := idNumber("65010219950404006")
	r := f.do(t, "POST", "/api/v1/people", clerkToken,
		`{"name":" 赵六 ","id_number":"`+string(id)+`","education":"大专","staffed":true,"enforcement_post":true,"org_unit_id":`+itoa(f.prefBiz)+`}`)
	var p workflow.Person
	r.decode(t, http.StatusCreated, &p)
	if p.Name != "赵六" || p.Version != 1 || p.BirthDate != workflow.MustDate("1995-04-04") || p.Sex != workflow.SexFemale {
		t.Errorf("created %+v", p)
	}
	loc := r.header.Get("Location")
	if loc != "/api/v1/people/"+itoa(p.ID) {
		t.Fatalf("Location %q", loc)
	}
	var read workflow.Person
	f.do(t, "GET", loc, clerkToken, "").decode(t, http.StatusOK, &read)
	if read != p {
		t.Errorf("read %+v, want %+v", read, p)
	}

	// Update with the version read; then a stale copy is refused.
	body, _ := json.Marshal(map[string]any{"name": "赵六", "id_number": id, "education": "本科", "staffed": true,
		"enforcement_post": true, "org_unit_id": f.prefBiz, "version": 1})
	f.do(t, "PUT", loc, clerkToken, string(body)).decode(t, http.StatusOK, &p)
	if p.Version != 2 || p.Education != workflow.EduBachelor {
		t.Errorf("updated %+v, want version 2 and 本科", p)
	}
	f.do(t, "PUT", loc, clerkToken, string(body)).problemTyped(t, http.StatusConflict, loc, problemStale)
	noVersion := strings.Replace(string(body), `"version":1`, `"version":0`, 1)
	if pr := f.do(t, "PUT", loc, clerkToken, noVersion).problemOf(t, http.StatusBadRequest, loc); pr.Field != "version" {
		t.Errorf("field %q, want version", pr.Field)
	}
	otherID := strings.Replace(string(body), `{`, `{"id":`+itoa(f.ready)+`,`, 1)
	if pr := f.do(t, "PUT", loc, clerkToken, otherID).problemOf(t, http.StatusBadRequest, loc); pr.Field != "id" {
		t.Errorf("field %q, want id", pr.Field)
	}

	// Trainings.
	tpath := loc + "/trainings"
	var tr workflow.Training
	r = f.do(t, "POST", tpath, clerkToken, `{"kind":"law","date":"2026-01-15","passed":true,"score":88.5}`)
	r.decode(t, http.StatusCreated, &tr)
	if tr.PersonID != p.ID || tr.Version != 1 || tr.Score == nil || *tr.Score != 88.5 {
		t.Errorf("created %+v", tr)
	}
	tloc := r.header.Get("Location")
	if tloc != tpath+"/"+itoa(tr.ID) {
		t.Fatalf("Location %q", tloc)
	}
	var one workflow.Training
	f.do(t, "GET", tloc, clerkToken, "").decode(t, http.StatusOK, &one)
	if one.ID != tr.ID {
		t.Errorf("read training %d, want %d", one.ID, tr.ID)
	}
	f.do(t, "GET", tpath+"/9999", clerkToken, "").problemOf(t, http.StatusNotFound, tpath+"/9999")
	f.do(t, "POST", tpath, clerkToken, `{"kind":"law","date":"2027-01-15","passed":true}`).problemOf(t, http.StatusBadRequest, tpath)

	upd := `{"kind":"law","date":"2026-01-15","passed":false,"version":1}`
	f.do(t, "PUT", tloc, clerkToken, upd).decode(t, http.StatusOK, &tr)
	if tr.Version != 2 || tr.Passed {
		t.Errorf("updated %+v, want version 2, not passed", tr)
	}
	f.do(t, "PUT", tloc, clerkToken, upd).problemTyped(t, http.StatusConflict, tloc, problemStale)
	// A training of another person is not found under this one.
	wrong := "/api/v1/people/" + itoa(f.ready) + "/trainings/" + itoa(tr.ID)
	f.do(t, "PUT", wrong, clerkToken, `{"kind":"law","date":"2026-01-15","passed":true,"version":2}`).problemOf(t, http.StatusNotFound, wrong)

	var list struct {
		Items []workflow.Training `json:"items"`
	}
	f.do(t, "GET", tpath, clerkToken, "").decode(t, http.StatusOK, &list)
	if len(list.Items) != 1 {
		t.Errorf("%d trainings, want 1", len(list.Items))
	}
}

// TestApplicationPath drives a case from draft to received over HTTP.
func TestApplicationPath(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.openCase(t, f.ready)
	if c.State != workflow.AppDraft || c.Version != 1 || c.PersonName != "张三" {
		t.Fatalf("opened %s v%d for %q", c.State, c.Version, c.PersonName)
	}
	path := "/api/v1/cases/" + itoa(c.ID) + "/events"
	steps := []struct {
		token, body string
		want        workflow.State
	}{
		{clerkToken, `{"event":"submit_for_approval","expected_version":1}`, workflow.AppPendingApproval},
		{principalToken, `{"event":"approve","expected_version":2,"data":{"agreed_categories":["安全生产监督管理"]}}`, workflow.AppApproved},
		{clerkToken, `{"event":"submit_to_issuer","expected_version":3,"data":{"submitted_on":"2026-03-09"}}`, workflow.AppSubmitted},
		{clerkToken, `{"event":"issue","expected_version":4,"data":{"number":"新应执 650100-0001","valid_until":"2031-03-09"}}`, workflow.AppIssued},
		{clerkToken, `{"event":"record_receipt","expected_version":5}`, workflow.AppReceived},
	}
	for i, s := range steps {
		if i == 1 {
			// The principal's inbox holds the approval task.
			var inbox workflow.InboxPage
			f.do(t, "GET", "/api/v1/inbox", principalToken, "").decode(t, http.StatusOK, &inbox)
			if len(inbox.Items) != 1 || inbox.Items[0].Kind != workflow.TaskApprove || inbox.Items[0].CaseID != c.ID {
				t.Errorf("principal's inbox %+v, want the approval task", inbox.Items)
			}
		}
		var v workflow.CaseView
		f.do(t, "POST", path, s.token, s.body).decode(t, http.StatusOK, &v)
		if v.State != s.want || v.Version != int64(i+2) || len(v.History) != i+2 {
			t.Fatalf("step %d: %s v%d with %d events, want %s v%d", i, v.State, v.Version, len(v.History), s.want, i+2)
		}
	}
	var certs struct {
		Items     []workflow.Certificate `json:"items"`
		NextAfter *int64                 `json:"next_after"`
	}
	f.do(t, "GET", "/api/v1/certificates?person_id="+itoa(f.ready)+"&state=received&kind=enforcement", clerkToken, "").decode(t, http.StatusOK, &certs)
	if len(certs.Items) != 1 || certs.Items[0].Number != "新应执 650100-0001" || certs.NextAfter != nil {
		t.Fatalf("certificates %+v next %v, want the one issued", certs.Items, certs.NextAfter)
	}
	f.do(t, "GET", "/api/v1/certificates?state=suspended", clerkToken, "").decode(t, http.StatusOK, &certs)
	if len(certs.Items) != 0 {
		t.Errorf("suspended certificates %+v, want none", certs.Items)
	}
	// The holder sees their own certificate.
	f.do(t, "GET", "/api/v1/certificates", officerToken, "").decode(t, http.StatusOK, &certs)
	if len(certs.Items) != 1 {
		t.Errorf("the holder sees %d certificates, want 1", len(certs.Items))
	}
	testOpenOtherCases(t, f, certs.Items[0])
}

// testOpenOtherCases opens over HTTP the cases that are about a
// certificate, or about nobody known yet: a suspension of cert (Art. 17),
// and a complaint naming no officer, received for a department (Art. 20).
func testOpenOtherCases(t *testing.T, f *fixture, cert workflow.Certificate) {
	t.Helper()
	var v workflow.CaseView
	f.do(t, "POST", "/api/v1/cases", clerkToken, `{"path":"suspension","certificate_id":`+itoa(cert.ID)+`,"data":{"ground":1,"facts":"涂改证件有效期"}}`).
		decode(t, http.StatusCreated, &v)
	if v.Path != workflow.PathSuspension || v.CertificateID != cert.ID || v.PersonID != f.ready || v.State != workflow.SusProposed {
		t.Errorf("suspension opened as %s/%s about certificate %d, person %d", v.Path, v.State, v.CertificateID, v.PersonID)
	}
	// The holder is the certificate's, or the request is refused.
	f.do(t, "POST", "/api/v1/cases", clerkToken, `{"path":"suspension","certificate_id":`+itoa(cert.ID)+`,"person_id":999,"data":{"ground":1,"facts":"x"}}`).
		problemTyped(t, http.StatusBadRequest, "/api/v1/cases", problemInvalid)
	p := f.do(t, "POST", "/api/v1/cases", clerkToken, `{"path":"suspension","person_id":`+itoa(f.ready)+`,"data":{"ground":1,"facts":"x"}}`).
		problemTyped(t, http.StatusBadRequest, "/api/v1/cases", problemInvalid)
	if p.Field != "certificate_id" {
		t.Errorf("a suspension without its certificate: field %q, want certificate_id", p.Field)
	}

	v = workflow.CaseView{}
	f.do(t, "POST", "/api/v1/cases", clerkToken, `{"path":"complaint","org_unit_id":`+itoa(f.prefBiz)+`,"data":{"channel":"来信","officer_name":"某执法人员","facts":"执法时未出示证件"}}`).
		decode(t, http.StatusCreated, &v)
	if v.Path != workflow.PathComplaint || v.PersonID != 0 || v.OrgUnitID != f.pref || len(v.Tasks) != 1 {
		t.Errorf("complaint opened as %s for person %d at unit %d with tasks %+v", v.Path, v.PersonID, v.OrgUnitID, v.Tasks)
	}
	// Another region's clerk records no complaint for this department,
	// and learns no more than of a unit that does not exist.
	f.do(t, "POST", "/api/v1/cases", outsiderToken, `{"path":"complaint","org_unit_id":`+itoa(f.prefBiz)+`,"data":{"channel":"来信","facts":"x"}}`).
		problemTyped(t, http.StatusBadRequest, "/api/v1/cases", problemInvalid)
}

func TestWorkflows(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var list struct {
		Items []workflowPath `json:"items"`
	}
	f.do(t, "GET", "/api/v1/workflows", clerkToken, "").decode(t, http.StatusOK, &list)
	var names []workflow.PathName
	for _, p := range list.Items {
		names = append(names, p.Name)
		if p.Mermaid != "" {
			t.Errorf("%s: the list carries a diagram", p.Name)
		}
	}
	var want []workflow.PathName
	for _, p := range workflow.AllPaths() {
		want = append(want, p.Name)
	}
	if !slices.Equal(names, want) {
		t.Errorf("paths %v, want %v", names, want)
	}
	app := list.Items[0]
	i := slices.IndexFunc(app.Events, func(e workflowEvent) bool { return e.Name == workflow.EvSubmitForApproval })
	if i < 0 {
		t.Fatal("no submit_for_approval")
	}
	ev := app.Events[i]
	if !slices.Contains(ev.GuardArticles, "Art. 9(1)(3)") || !slices.Equal(ev.From, []workflow.State{workflow.AppDraft}) ||
		ev.To != workflow.AppPendingApproval || !slices.Equal(ev.Actors, []workflow.Role{workflow.RoleLegalClerk}) ||
		len(ev.Docs) != 2 || len(ev.Opens) != 1 || ev.Opens[0].Role != workflow.RolePrincipal {
		t.Errorf("submit_for_approval described as %+v", ev)
	}
	if n := len(slices.Compact(slices.Clone(ev.GuardArticles))); n != len(ev.GuardArticles) {
		t.Errorf("guard articles repeat: %v", ev.GuardArticles)
	}

	r := f.do(t, "GET", "/api/v1/workflows/application", clerkToken, "")
	var one workflowPath
	r.decode(t, http.StatusOK, &one)
	p, _ := f.engine.Path(workflow.PathApplication)
	if one.Mermaid != p.Mermaid() || !strings.HasPrefix(one.Mermaid, "stateDiagram-v2\n") {
		t.Errorf("mermaid %q, want the path's diagram", one.Mermaid)
	}
	if !bytes.Contains(r.body, []byte("draft --> pending_approval")) {
		t.Errorf("mermaid arrows are escaped in %s", r.body)
	}
}

func TestOrgUnitsScope(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var list struct {
		Items []workflow.OrgUnit `json:"items"`
	}
	f.do(t, "GET", "/api/v1/org-units", clerkToken, "").decode(t, http.StatusOK, &list)
	var ids []int64
	for _, u := range list.Items {
		ids = append(ids, u.ID)
	}
	if !slices.Contains(ids, f.pref) || !slices.Contains(ids, f.prefBiz) || slices.Contains(ids, f.other) {
		t.Errorf("clerk at 乌鲁木齐 sees units %v", ids)
	}
}

// TestPlatformExportCSVHasNoFormulas: a staff record whose title reads as
// a spreadsheet formula is exported as text (OWASP CSV injection).
func TestPlatformExportCSVHasNoFormulas(t *testing.T) {
	f := setup(t)
	c := f.openCase(t, f.ready)
	for _, s := range []struct{ token, body string }{
		{clerkToken, `{"event":"submit_for_approval"`},
		{principalToken, `{"event":"approve","comment":"同意"`},
		{clerkToken, `{"event":"submit_to_issuer"`},
		{clerkToken, `{"event":"issue","data":{"number":"新0102-CSV","valid_until":"2031-03-09"}`},
		{clerkToken, `{"event":"record_receipt"`},
	} {
		f.do(t, "POST", "/api/v1/cases/"+itoa(c.ID)+"/events", s.token, s.body+`,"expected_version":`+itoa(c.Version)+`}`).decode(t, http.StatusOK, &c)
	}
	var p workflow.Person
	f.do(t, "GET", "/api/v1/people/"+itoa(f.ready), clerkToken, "").decode(t, http.StatusOK, &p)
	p.Title = `=HYPERLINK("http://evil.example","科员")`
	b, _ := json.Marshal(p)
	f.do(t, "PUT", "/api/v1/people/"+itoa(f.ready), clerkToken, string(b)).decode(t, http.StatusOK, &p)
	r := f.do(t, "GET", "/api/v1/exports/platform?format=csv&person_id="+itoa(f.ready), clerkToken, "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	body := string(r.body)
	if !strings.Contains(body, `'=HYPERLINK(`) || strings.Contains(body, `,=HYPERLINK(`) || strings.Contains(body, `,"=HYPERLINK(`) {
		t.Fatalf("the title is exported as a formula: %s", body)
	}
	for in, want := range map[string]string{"=1+2": "'=1+2", "+86": "'+86", "-3": "'-3", "@SUM(A1)": "'@SUM(A1)", "张伟": "张伟", "2026-03-01": "2026-03-01", "": ""} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTextRefused: what no member takes — bytes that are not UTF-8, NUL
// and other control characters, invisible format characters, a member
// given twice, a query string that does not parse — is a 400 naming the
// member, on both stores (PostgreSQL refused NUL itself, as a 500), and
// writes nothing. Type errors name the member in JSON's terms, never Go's.
func TestTextRefused(t *testing.T) {
	t.Parallel()
	for _, st := range testStores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			f := setupOn(t, st.open, Options{})
			f.openIntake(t, 100)
			rows := func() string {
				var out []int
				for _, table := range []string{"people", "cases", "events", "tasks", "delegations", "idempotency", "users"} {
					var n int
					if err := f.store.DB().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
						t.Fatal(err)
					}
					out = append(out, n)
				}
				return fmt.Sprint(out)
			}
			c := f.openCase(t, f.ready)
			events := "/api/v1/cases/" + itoa(c.ID) + "/events"
			person := func(name string) string {
				return `{"name":"` + name + `","id_number":"` + string(idNumber("65010219950404006")) + `","education":"本科","org_unit_id":` + itoa(f.prefBiz) + `}`
			}
			application := func(comment, data string) string {
				return `{"path":"application","person_id":` + itoa(f.ready) + `,"comment":"` + comment + `","data":` + data + `}`
			}
			complaint := func(comment, data string) string {
				return `{"path":"complaint","org_unit_id":` + itoa(f.pref) + `,"comment":"` + comment + `","data":` + data + `}`
			}
			before := rows()
			for _, tc := range []struct {
				name, method, path, token, body, hdr string
				field, detail                        string
			}{
				{"NUL in a name", "POST", "/api/v1/people", clerkToken, person(`赵\u0000六`), "", "name", "U+0000"},
				{"zero-width space in a name", "POST", "/api/v1/people", clerkToken, person(`赵\u200b六`), "", "name", "U+200B"},
				{"byte order mark in a name", "POST", "/api/v1/people", clerkToken, person(`\ufeff赵六`), "", "name", "U+FEFF"},
				{"bidi override in a name", "POST", "/api/v1/people", clerkToken, person(`\u202e六赵`), "", "name", "U+202E"},
				{"bell in a comment", "POST", "/api/v1/cases", clerkToken, application(`a\u0007b`, `{}`), "", "comment", "U+0007"},
				{"NUL inside data", "POST", "/api/v1/cases", clerkToken, application(``, `{"region":"乌鲁木齐\u0000"}`), "", "data.region", "U+0000"},
				{"NUL in a list inside data", "POST", "/api/v1/cases", clerkToken, application(``, `{"specialities":["ok","\u0000"]}`), "", "data.specialities", "U+0000"},
				{"NUL in a public complaint", "POST", "/api/v1/public/complaints", "", `{"officer_name":"张三","facts":"x\u0000"}`, "X-Test-Client: 10.9.9.9", "facts", "U+0000"},
				{"NUL in a login", "POST", "/api/v1/session", "", `{"name":"a\u0000b","password":"x"}`, "", "name", "U+0000"},
				{"a member given twice", "POST", "/api/v1/people", clerkToken, strings.Replace(person("赵六"), "{", `{"name":"钱七",`, 1), "", "name", "given twice"},
				{"twice, in another case", "POST", "/api/v1/people", clerkToken, strings.Replace(person("赵六"), "{", `{"NAME":"钱七",`, 1), "", "name", "given twice"},
				{"twice inside data", "POST", "/api/v1/cases", clerkToken, application(``, `{"region":"a","region":"b"}`), "", "data.region", "given twice"},
				{"not UTF-8", "POST", "/api/v1/people", clerkToken, person("赵\xe9六"), "", "", "not valid UTF-8"},
				{"NUL in a query", "GET", "/api/v1/people?name=%00", clerkToken, "", "", "name", "U+0000"},
				{"not UTF-8 in a query", "GET", "/api/v1/people?name=%E9", clerkToken, "", "", "name", "UTF-8"},
				{"a bad escape in a query", "GET", "/api/v1/people?name=%ZZ", clerkToken, "", "", "", "malformed query string"},
				{"a bad Idempotency-Key", "POST", events, clerkToken, `{"event":"submit_for_approval","expected_version":99}`, "Idempotency-Key: k\xe9y", "Idempotency-Key", "printable ASCII"},
				{"a long Idempotency-Key", "POST", events, clerkToken, `{"event":"submit_for_approval","expected_version":99}`, "Idempotency-Key: " + strings.Repeat("k", 201), "Idempotency-Key", "at most 200"},
				{"a string for a list inside data", "POST", "/api/v1/cases", clerkToken, complaint(``, `{"channel":"来信","facts":["x"]}`), "", "data.facts", "want a JSON string, got array"},
				{"an unknown member inside data", "POST", "/api/v1/cases", clerkToken, complaint(``, `{"channel":"来信","facts":"x","zzz":1}`), "", "data.zzz", "unknown member"},
				{"no such day inside data", "POST", "/api/v1/cases", clerkToken, complaint(``, `{"channel":"来信","facts":"x","received_on":"2026-02-30"}`), "", "data.received_on", `"2026-02-30" is not a date`},
				{"no such day", "POST", "/api/v1/delegations", principalToken, `{"deputy_user_id":1,"ends_on":"2026-02-30"}`, "", "ends_on", `"2026-02-30" is not a date`},
			} {
				var hdr []string
				if tc.hdr != "" {
					hdr = append(hdr, tc.hdr)
				}
				r := f.do(t, tc.method, tc.path, tc.token, tc.body, hdr...)
				u, _ := url.Parse(tc.path)
				p := r.problemOf(t, http.StatusBadRequest, u.EscapedPath())
				if p.Field != tc.field || !strings.Contains(p.Detail, tc.detail) || strings.Contains(p.Detail, "Go ") || strings.Contains(p.Detail, "workflow.") {
					t.Errorf("%s: field %q detail %q, want field %q and %q", tc.name, p.Field, p.Detail, tc.field, tc.detail)
				}
			}
			if after := rows(); after != before {
				t.Fatalf("refused requests wrote rows: %s, before %s", after, before)
			}
			// Tabs and line breaks are text; so are the joiners of an emoji
			// and the marks of Arabic-script Uyghur.
			var v workflow.CaseView
			f.do(t, "POST", "/api/v1/cases", clerkToken, complaint(`第一行\n\t第二行`,
				`{"channel":"来信","officer_name":"张某","facts":"第一段\r\n第二段 👨\u200d👩\u200d👧 ئۇيغۇر\u200f"}`)).
				decode(t, http.StatusCreated, &v)
		})
	}
}
