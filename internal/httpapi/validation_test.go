package httpapi

import (
	"net/http"
	"strings"
	"testing"

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
