package storetest

import (
	"slices"
	"testing"

	"certflow/internal/store/sqlstore"
	"certflow/workflow"
)

// An Explainer names the indexes a store's planner uses for a statement,
// planned as one of the store's connections would plan it.
type Explainer func(t *testing.T, s *sqlstore.Store, sql string) []string

// IndexedStatements: every statement of sqlstore.IndexedStatements plans
// with one of its indexes on a fresh database, with the demo data, and
// with a few more open tasks, none of it analyzed — the states in which a
// planner guesses table sizes, and PostgreSQL keeps the plan it made.
func IndexedStatements(t *testing.T, open Opener, explain Explainer) {
	s := open(t)
	check := func(when string) {
		t.Helper()
		for _, st := range sqlstore.IndexedStatements() {
			used := explain(t, s, st.SQL)
			if !slices.ContainsFunc(used, func(ix string) bool { return slices.Contains(st.Indexes, ix) }) {
				t.Errorf("%s: %s plans with indexes %v, none of %v", when, st.Name, used, st.Indexes)
			}
		}
	}
	check("on a fresh database")
	w := NewWorld(t, func(testing.TB) *sqlstore.Store { return s })
	check("with the demo data")
	clerk := w.Actor("clerk")
	for range 20 {
		v, err := w.Engine.OpenCase(w.Ctx, clerk, workflow.OpenCaseInput{Path: workflow.PathApplication, PersonID: w.ClonePerson("zhangwei", nil), Data: []byte(categories)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Engine.Fire(w.Ctx, workflow.Command{Actor: clerk, CaseID: v.ID, Event: workflow.EvSubmitForApproval, ExpectedVersion: v.Version}); err != nil {
			t.Fatal(err)
		}
	}
	check("with 20 more open tasks")
}
