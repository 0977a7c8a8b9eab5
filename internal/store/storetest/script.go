package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"testing"

	"certflow/workflow"
)

// script tells the generic matrix how to drive one path: how to open a case
// about a fresh subject, how to fire each event validly, and the route of
// events from the initial state to every state.
type script struct {
	path   workflow.PathName
	open   func(w *World) workflow.CaseView
	step   func(w *World, v workflow.CaseView, ev workflow.EventName) step
	routes map[workflow.State][]workflow.EventName
	// prep runs before ev is fired in state st (e.g. return the
	// certificates before a departure may complete); nil for none.
	prep func(w *World, v workflow.CaseView, st workflow.State, ev workflow.EventName) workflow.CaseView
	// follow does, through another case, what an event certflow fires
	// itself (EventDef.Follows) follows, so that it fires on v; nil for a
	// path without one.
	follow func(w *World, v workflow.CaseView, ev workflow.EventName)
	// viewer reads the case to check a refused event changed nothing.
	viewer string
	// opener may open the path's cases: the matrix fires open on an
	// existing case as them, so the refusal is the table's, not a role's.
	// Empty: the viewer.
	opener string
}

// walk opens a case and walks it to state.
func (sc script) walk(w *World, state workflow.State) workflow.CaseView {
	w.T.Helper()
	v := sc.open(w)
	p, _ := w.Engine.Path(sc.path)
	for _, ev := range sc.routes[state] {
		if def, ok := p.Event(ev); ok && def.Follows != "" {
			sc.follow(w, v, ev)
			v = w.view(sc.viewer, v.ID)
			continue
		}
		s := sc.step(w, v, ev)
		v = w.MustFire(s.user, v, s.event, s.comment, s.data)
	}
	if v.State != state {
		w.T.Fatalf("%s: route to %s ended in %s", sc.path, state, v.State)
	}
	return v
}

// runMatrix fires every event of sc's path, open included, in every state:
// an allowed pair reaches the table's target state with one history row
// saying so; any other fails with *InvalidTransitionError (409) and writes
// nothing.
func runMatrix(t *testing.T, w *World, sc script) {
	p, ok := w.Engine.Path(sc.path)
	if !ok {
		t.Fatalf("no path %s", sc.path)
	}
	opener := cmp.Or(sc.opener, sc.viewer)
	for _, st := range p.States {
		if _, ok := sc.routes[st.Name]; !ok {
			t.Fatalf("%s: no route to state %s", sc.path, st.Name)
		}
		for _, def := range p.Events {
			t.Run(fmt.Sprintf("%s/%s/%s", sc.path, st.Name, def.Name), func(t *testing.T) {
				w.T = t
				v := sc.walk(w, st.Name)
				allowed := slices.Contains(def.From, st.Name)
				if sc.prep != nil && allowed {
					v = sc.prep(w, v, st.Name, def.Name)
				}
				if def.Follows != "" {
					followMatrix(t, w, sc, p, &def, v, allowed)
					return
				}
				s := step{event: def.Name, user: opener}
				if def.Name != workflow.EvOpen {
					s = sc.step(w, v, def.Name)
				}
				before := w.Counts()
				got, err := w.Fire(s.user, v, s.event, s.comment, s.data)
				if allowed {
					if err != nil {
						t.Fatalf("want %s → %s, got %v", st.Name, def.To, err)
					}
					if got.State != def.To || got.Version != v.Version+1 {
						t.Fatalf("got %s v%d, want %s v%d", got.State, got.Version, def.To, v.Version+1)
					}
					last := got.History[len(got.History)-1]
					if last.Event != def.Name || last.From != st.Name || last.To != def.To {
						t.Fatalf("last event %+v", last)
					}
					// No event leaves a final state: a task still open there
					// could never be done.
					if final(p, def.To) && len(openTasks(got)) != 0 {
						t.Fatalf("final state %s keeps open tasks %v", def.To, openTasks(got))
					}
					return
				}
				var inv *workflow.InvalidTransitionError
				if !errors.As(err, &inv) || !errors.Is(err, workflow.ErrConflict) {
					t.Fatalf("want InvalidTransitionError (409), got %v", err)
				}
				after, err := w.Engine.CaseView(w.Ctx, w.Actor(sc.viewer), v.ID)
				if err != nil {
					t.Fatal(err)
				}
				if after.State != v.State || after.Version != v.Version || len(after.History) != len(v.History) {
					t.Fatalf("refused event changed the case: %s v%d → %s v%d", v.State, v.Version, after.State, after.Version)
				}
				if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
					t.Fatal("refused event wrote rows")
				}
			})
		}
	}
}

// followMatrix checks an event certflow fires itself (EventDef.Follows) on
// v: nobody fires it by hand, in any state, and that writes nothing; where
// it is allowed, what it follows, done by another case, fires it once.
func followMatrix(t *testing.T, w *World, sc script, p *workflow.Path, def *workflow.EventDef, v workflow.CaseView, allowed bool) {
	t.Helper()
	before := w.Counts()
	if _, err := w.Fire(cmp.Or(sc.opener, sc.viewer), v, def.Name, "结案", ""); !errors.Is(err, workflow.ErrForbidden) {
		t.Fatalf("%s by hand: want ErrForbidden, got %v", def.Name, err)
	}
	if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
		t.Fatal("refused event wrote rows")
	}
	if !allowed {
		return
	}
	sc.follow(w, v, def.Name)
	got := w.view(sc.viewer, v.ID)
	if got.State != def.To || got.Version != v.Version+1 {
		t.Fatalf("after what %s follows: %s v%d, want %s v%d", def.Name, got.State, got.Version, def.To, v.Version+1)
	}
	last := got.History[len(got.History)-1]
	if last.Event != def.Name || last.From != v.State || last.To != def.To || last.Comment == "" {
		t.Fatalf("last event %+v", last)
	}
	if final(p, def.To) && len(openTasks(got)) != 0 {
		t.Fatalf("final state %s keeps open tasks %v", def.To, openTasks(got))
	}
}

func final(p *workflow.Path, s workflow.State) bool {
	i := slices.IndexFunc(p.States, func(d workflow.StateDef) bool { return d.Name == s })
	return i >= 0 && p.States[i].Final
}

// matrixScripts drives every path but the two application paths (which
// testApplicationMatrix runs with their casts).
var matrixScripts = []script{
	platformScript, retentionScript, hrNoticeScript, suspensionScript, departureScript, cancellationScript, ministryCancellationScript,
	lossJusticeScript, lossMinistryScript, complaintScript, batchScript,
}

// testPathMatrix runs the (state, event) matrix of every path besides
// application, and fails if a registered path has no matrix at all.
func testPathMatrix(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	covered := map[workflow.PathName]bool{}
	for _, c := range casts {
		covered[c.path] = true
	}
	for _, sc := range matrixScripts {
		covered[sc.path] = true
	}
	for _, p := range w.Engine.Paths() {
		if !covered[p.Name] {
			t.Errorf("path %s has no (state, event) matrix", p.Name)
		}
	}
	for _, sc := range matrixScripts {
		runMatrix(t, w, sc)
	}
}

// receivedCertificate gives a fresh applicant a received certificate of
// the cast's family and returns the application case.
func (w *World) receivedCertificate(c pathCast) workflow.CaseView {
	w.T.Helper()
	return w.reach(c, workflow.AppReceived)
}

// casesOf lists the cases of path about person, as the admin sees them.
func (w *World) casesOf(person int64, path workflow.PathName) []workflow.Case {
	w.T.Helper()
	cs, err := w.Engine.Cases(w.Ctx, w.Actor("admin"), workflow.CaseFilter{PersonID: person, Path: path})
	if err != nil {
		w.T.Fatal(err)
	}
	return cs
}

// view reads case id as user.
func (w *World) view(user string, id int64) workflow.CaseView {
	w.T.Helper()
	v, err := w.Engine.CaseView(w.Ctx, w.Actor(user), id)
	if err != nil {
		w.T.Fatalf("case %d as %s: %v", id, user, err)
	}
	return v
}

// certificate reads certificate id.
func (w *World) certificate(id int64) workflow.Certificate {
	w.T.Helper()
	var c workflow.Certificate
	err := w.Store.View(w.Ctx, func(tx workflow.Tx) (err error) {
		c, err = tx.Certificate(w.Ctx, id)
		return err
	})
	if err != nil {
		w.T.Fatal(err)
	}
	return c
}

// openAs opens a case as user; it fails the test on error.
func (w *World) openAs(user string, in workflow.OpenCaseInput) workflow.CaseView {
	w.T.Helper()
	v, err := w.Engine.OpenCase(w.Ctx, w.Actor(user), in)
	if err != nil {
		w.T.Fatalf("open %s as %s: %v", in.Path, user, err)
	}
	return v
}
