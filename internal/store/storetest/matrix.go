package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"certflow/workflow"
)

// step is one event as a test fires it: who, with what comment and data.
type step struct {
	event   workflow.EventName
	user    string
	comment string
	data    string
}

// pathCast is who plays each part of an application path, and for whom.
type pathCast struct {
	path                      workflow.PathName
	person                    string // a demo person who meets every condition
	office, principal, issuer string
	// hr opens the applicant's departure; returns records the return.
	hr, returns string
}

var casts = []pathCast{
	{workflow.PathApplication, "zhangwei", "clerk", "leader", "clerk", "hr", "clerk"}, // the clerk records justice's decision; testAccess covers the liaison
	{workflow.PathMinistryApplication, "zhoujie", "region-hr", "region-leader", "region-hr", "region-hr", "region-hr"},
}

// stepFor returns how cast fires ev with valid input.
func (c pathCast) stepFor(ev workflow.EventName, n int64) step {
	switch ev {
	case workflow.EvOpen: // never allowed on a case that exists
		return step{ev, c.office, "", ""}
	case workflow.EvSubmitForApproval:
		return step{ev, c.office, "", ""}
	case workflow.EvApprove:
		return step{ev, c.principal, "同意", ""}
	case workflow.EvSendBack:
		return step{ev, c.principal, "执法区域填写不完整", ""}
	case workflow.EvReject:
		return step{ev, c.principal, "暂不需要", ""}
	case workflow.EvWithdraw:
		return step{ev, c.office, "申请人调岗", ""}
	case workflow.EvSubmitToIssuer:
		return step{ev, c.office, "", `{"submitted_on":"2026-03-09"}`}
	case workflow.EvIssue:
		return step{ev, c.issuer, "", fmt.Sprintf(`{"number":"XJ-M-%d","issued_on":"2026-03-09","valid_until":"2031-03-08"}`, n)}
	case workflow.EvRefuse:
		return step{ev, c.issuer, "培训记录不全", ""}
	case workflow.EvRecordReceipt:
		return step{ev, c.office, "", `{"received_on":"2026-03-10"}`}
	}
	panic("no step for " + ev)
}

// routes says how to reach each state of an application path from draft.
var routes = map[workflow.State][]workflow.EventName{
	workflow.AppDraft:           nil,
	workflow.AppPendingApproval: {workflow.EvSubmitForApproval},
	workflow.AppApproved:        {workflow.EvSubmitForApproval, workflow.EvApprove},
	workflow.AppSubmitted:       {workflow.EvSubmitForApproval, workflow.EvApprove, workflow.EvSubmitToIssuer},
	workflow.AppIssued:          {workflow.EvSubmitForApproval, workflow.EvApprove, workflow.EvSubmitToIssuer, workflow.EvIssue},
	workflow.AppReceived:        {workflow.EvSubmitForApproval, workflow.EvApprove, workflow.EvSubmitToIssuer, workflow.EvIssue, workflow.EvRecordReceipt},
	workflow.AppRejected:        {workflow.EvSubmitForApproval, workflow.EvReject},
	workflow.AppRefused:         {workflow.EvSubmitForApproval, workflow.EvApprove, workflow.EvSubmitToIssuer, workflow.EvRefuse},
	workflow.AppWithdrawn:       {workflow.EvWithdraw},
	// The applicant leaves before 领取: the departure takes the issued
	// certificate back (end_unreceived follows).
	workflow.AppReturnedUnreceived: {workflow.EvSubmitForApproval, workflow.EvApprove, workflow.EvSubmitToIssuer, workflow.EvIssue, workflow.EvEndUnreceived},
}

const categories = `{"proposed_categories":["安全生产监督管理","应急管理"],"region":"天山区行政区域"}`

// reach opens a case for a fresh applicant and walks it to state.
func (w *World) reach(c pathCast, state workflow.State) workflow.CaseView {
	w.T.Helper()
	v := w.Open(c.office, c.path, w.ClonePerson(c.person, nil), categories)
	for _, ev := range routes[state] {
		if ev == workflow.EvEndUnreceived {
			c.follow(w, v)
			v = w.view(c.office, v.ID)
			continue
		}
		s := c.stepFor(ev, w.seq.Add(1))
		v = w.MustFire(s.user, v, s.event, s.comment, s.data)
	}
	if v.State != state {
		w.T.Fatalf("route to %s ended in %s", state, v.State)
	}
	return v
}

// follow has the applicant of v leave, the departure taking back the
// certificate issued to them (what end_unreceived follows).
func (c pathCast) follow(w *World, v workflow.CaseView) {
	w.T.Helper()
	w.returnedOnDeparture(v, c.hr, c.returns)
}

// submittedOn walks an application of c to the issuer, submitted on day:
// an issue may not predate its submission.
func (w *World) submittedOn(c pathCast, day string) workflow.CaseView {
	w.T.Helper()
	v := w.reach(c, workflow.AppApproved)
	s := c.stepFor(workflow.EvSubmitToIssuer, w.seq.Add(1))
	return w.MustFire(s.user, v, s.event, s.comment, `{"submitted_on":"`+day+`"}`)
}

// testApplicationMatrix fires every event of both application paths in
// every state: allowed pairs reach the table's target state, the others
// fail with *InvalidTransitionError and leave the case as it was.
func testApplicationMatrix(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	for _, c := range casts {
		p, _ := w.Engine.Path(c.path)
		for _, st := range p.States {
			if _, ok := routes[st.Name]; !ok {
				t.Fatalf("%s: no route to state %s: the matrix would miss it", c.path, st.Name)
			}
			for _, def := range p.Events {
				t.Run(fmt.Sprintf("%s/%s/%s", c.path, st.Name, def.Name), func(t *testing.T) {
					w.T = t
					v := w.reach(c, st.Name)
					if def.Follows != "" {
						sc := script{path: c.path, viewer: c.office, follow: func(w *World, v workflow.CaseView, _ workflow.EventName) { c.follow(w, v) }}
						followMatrix(t, w, sc, p, &def, v, slices.Contains(def.From, st.Name))
						return
					}
					s := c.stepFor(def.Name, w.seq.Add(1))
					got, err := w.Fire(s.user, v, s.event, s.comment, s.data)
					if slices.Contains(def.From, st.Name) {
						if err != nil {
							t.Fatalf("want %s → %s, got %v", st.Name, def.To, err)
						}
						if got.State != def.To || got.Version != v.Version+1 {
							t.Fatalf("got state %s version %d, want %s version %d", got.State, got.Version, def.To, v.Version+1)
						}
						last := got.History[len(got.History)-1]
						if last.Event != def.Name || last.From != st.Name || last.To != def.To {
							t.Fatalf("last event %+v", last)
						}
						if final(p, def.To) && len(openTasks(got)) != 0 {
							t.Fatalf("final state %s keeps open tasks %v", def.To, openTasks(got))
						}
						return
					}
					var inv *workflow.InvalidTransitionError
					if !errors.As(err, &inv) || !errors.Is(err, workflow.ErrConflict) {
						t.Fatalf("want InvalidTransitionError (409), got %v", err)
					}
					after, err := w.Engine.CaseView(w.Ctx, w.Actor(c.office), v.ID)
					if err != nil {
						t.Fatal(err)
					}
					if after.State != v.State || after.Version != v.Version || len(after.History) != len(v.History) {
						t.Fatalf("refused event changed the case: %s v%d → %s v%d", v.State, v.Version, after.State, after.Version)
					}
				})
			}
		}
	}
}
