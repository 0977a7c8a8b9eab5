package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"certflow/internal/demo"
	"certflow/workflow"
)

// TestCaseStateFilter: the state filter of GET /cases is checked like the
// path filter — against the path's states, or every path's — instead of
// answering an empty list for a typing error.
func TestCaseStateFilter(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.openCase(t, f.ready)
	for _, tc := range []struct {
		query  string
		status int
		found  bool
	}{
		{"state=x", 400, false},
		{"state=DRAFT", 400, false},
		{"path=application&state=x", 400, false},
		{"path=application&state=compiled", 400, false}, // a township_batch state
		{"state=draft", 200, true},
		{"path=application&state=draft", 200, true},
		{"state=compiled", 200, false},
		{"path=loss&state=draft", 400, false},
	} {
		r := f.do(t, "GET", "/api/v1/cases?"+tc.query, clerkToken, "")
		if tc.status == 400 {
			p := r.problemTyped(t, 400, "/api/v1/cases", problemInvalid)
			if p.Field != "state" || !strings.Contains(p.Detail, "one of") {
				t.Errorf("%s: field %q, detail %q: want state, listing the states", tc.query, p.Field, p.Detail)
			}
			continue
		}
		var page struct {
			Items     []workflow.Case `json:"items"`
			NextAfter *int64          `json:"next_after"`
		}
		r.decode(t, http.StatusOK, &page)
		if got := len(page.Items) == 1 && page.Items[0].ID == c.ID; got != tc.found {
			t.Errorf("%s: %d cases, want the draft: %v", tc.query, len(page.Items), tc.found)
		}
	}
}

// TestBatchEmptyCaseIDs: "case_ids":[] names no application and is a 400
// on case_ids that compiles nothing; left out, case_ids still means every
// application pending approval or approved.
func TestBatchEmptyCaseIDs(t *testing.T) {
	t.Parallel()
	w := batchSetup(t)
	app := w.apply(t, "clerk", w.people["wang"], "clerk:submit_for_approval")
	batches := func() int {
		var page struct {
			Items     []workflow.Case `json:"items"`
			NextAfter *int64          `json:"next_after"`
		}
		w.do(t, "GET", "/api/v1/cases?path=township_batch", demo.Token("clerk"), "").decode(t, http.StatusOK, &page)
		return len(page.Items)
	}
	p := w.compile(t, "clerk", `{"case_ids":[]}`).problemTyped(t, http.StatusBadRequest, "/api/v1/batches", problemInvalid)
	if p.Field != "case_ids" {
		t.Errorf("field %q, want case_ids (detail %q)", p.Field, p.Detail)
	}
	if n := batches(); n != 0 {
		t.Fatalf("%d batches after an empty case_ids, want none", n)
	}
	var batch workflow.CaseView
	w.compile(t, "clerk", `{}`).decode(t, http.StatusCreated, &batch)
	var d workflow.BatchData
	if err := json.Unmarshal(batch.Data, &d); err != nil || len(d.Applications) != 1 || d.Applications[0] != app.ID {
		t.Fatalf("batch without case_ids lists %v (%v), want [%d]", d.Applications, err, app.ID)
	}
}

// TestOpenApplicationKind: an unknown data.kind is refused when the case
// opens (400 on kind, naming the kinds allowed), not stored as a draft.
func TestOpenApplicationKind(t *testing.T) {
	t.Parallel()
	f := setup(t)
	r := f.do(t, "POST", "/api/v1/cases", clerkToken,
		`{"path":"application","person_id":`+itoa(f.ready)+`,"data":{"kind":"bogus","proposed_categories":["应急管理"]}}`)
	p := r.problemTyped(t, http.StatusBadRequest, "/api/v1/cases", problemInvalid)
	if p.Field != "kind" || !strings.Contains(p.Detail, "supervision") || !strings.Contains(p.Detail, "enforcement") {
		t.Errorf("field %q, detail %q: want kind, listing supervision and enforcement", p.Field, p.Detail)
	}
	var page struct {
		Items     []workflow.Case `json:"items"`
		NextAfter *int64          `json:"next_after"`
	}
	f.do(t, "GET", "/api/v1/cases", clerkToken, "").decode(t, http.StatusOK, &page)
	if len(page.Items) != 0 {
		t.Fatalf("%d cases after the refusal, want none", len(page.Items))
	}
}

// TestNegativeIDs: a negative ID in a body names nothing and is refused as
// such ("must be a positive ID") on its field; a missing one is still
// "required". Nothing is written.
func TestNegativeIDs(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c, task := f.pendingTask(t, f.ready)
	events := "/api/v1/cases/" + itoa(c.ID) + "/events"
	reassign := "/api/v1/tasks/" + itoa(task.ID) + "/reassign"
	valid := func(extra string) string {
		return `{"name":"赵六","id_number":"` + string(idNumber("65010219950404006")) + `","education":"本科"` + extra + `}`
	}
	for _, tc := range []struct {
		name, path, token, body string
		field, detail           string
	}{
		{"person_id -1", "/api/v1/cases", clerkToken, `{"path":"application","person_id":-1}`, "person_id", "must be a positive ID"},
		{"person_id left out", "/api/v1/cases", clerkToken, `{"path":"application"}`, "person_id", "required"},
		{"certificate_id -1", "/api/v1/cases", clerkToken, `{"path":"loss","certificate_id":-1}`, "certificate_id", "must be a positive ID"},
		{"certificate_id left out", "/api/v1/cases", clerkToken, `{"path":"loss"}`, "certificate_id", "required"},
		{"org_unit_id -1 on a case", "/api/v1/cases", clerkToken, `{"path":"application","person_id":` + itoa(f.ready) + `,"org_unit_id":-1}`, "org_unit_id", "must be a positive ID"},
		{"user_id -1", reassign, principalToken, `{"user_id":-1,"comment":"出差"}`, "user_id", "must be a positive ID"},
		{"user_id left out", reassign, principalToken, `{"comment":"出差"}`, "user_id", "required"},
		{"deputy_user_id -1", "/api/v1/delegations", principalToken, `{"deputy_user_id":-1,"ends_on":"2026-03-20","reason":"出差"}`, "deputy_user_id", "must be a positive ID"},
		{"deputy_user_id left out", "/api/v1/delegations", principalToken, `{"ends_on":"2026-03-20","reason":"出差"}`, "deputy_user_id", "required"},
		{"on_behalf_of_user_id -1", events, principalToken, `{"event":"approve","expected_version":` + itoa(c.Version) + `,"comment":"同意","on_behalf_of_user_id":-1}`, "on_behalf_of_user_id", "must be a positive ID"},
		{"org_unit_id -1 on a person", "/api/v1/people", clerkToken, valid(`,"org_unit_id":-1`), "org_unit_id", "must be a positive ID"},
		{"org_unit_id left out on a person", "/api/v1/people", clerkToken, valid(``), "org_unit_id", "required"},
		{"org_unit_id -1 on a batch", "/api/v1/batches", clerkToken, `{"org_unit_id":-1}`, "org_unit_id", "must be a positive ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.do(t, "POST", tc.path, tc.token, tc.body).problemTyped(t, http.StatusBadRequest, tc.path, problemInvalid)
			if p.Field != tc.field || !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("field %q, detail %q: want %s, %q", p.Field, p.Detail, tc.field, tc.detail)
			}
		})
	}
	if got := f.caseView(t, c.ID); got.Version != c.Version || got.State != c.State {
		t.Errorf("case now %s v%d, want %s v%d", got.State, got.Version, c.State, c.Version)
	}
}

// TestFullWidthIDNumber: a 公民身份号码 typed in full-width digits is
// refused on id_number naming the character, not counted in bytes.
func TestFullWidthIDNumber(t *testing.T) {
	t.Parallel()
	f := setup(t)
	body := `{"name":"赵六","id_number":"６５０１０２１９９５０４０４００６１","education":"本科","org_unit_id":` + itoa(f.prefBiz) + `}`
	p := f.do(t, "POST", "/api/v1/people", clerkToken, body).problemTyped(t, http.StatusBadRequest, "/api/v1/people", problemInvalid)
	if p.Field != "id_number" || !strings.Contains(p.Detail, "half-width") || strings.Contains(p.Detail, "got 54") {
		t.Errorf("field %q, detail %q: want id_number, asking for half-width digits", p.Field, p.Detail)
	}
}
