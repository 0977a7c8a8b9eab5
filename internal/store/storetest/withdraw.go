package storetest

import (
	"slices"
	"testing"

	"certflow/workflow"
)

// testWithdraw: 撤回 is the initiator's — the application's preparer, or
// whoever stands in for them — and only before the leader decides. Another
// clerk of the same office may neither withdraw nor see the button.
func testWithdraw(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	mayWithdraw := func(user string, c workflow.CaseView) bool {
		t.Helper()
		return slices.Contains(eventNames(w.view(user, c.ID).Allowed), workflow.EvWithdraw)
	}
	draft := w.Open("clerk", workflow.PathApplication, w.ClonePerson("zhangwei", nil), categories)
	pending := w.pending("clerk")
	for _, c := range []workflow.CaseView{draft, pending} {
		if !mayWithdraw("clerk", c) || mayWithdraw("clerk-leader", c) {
			t.Fatalf("%s: withdraw offered to the preparer %t, to another clerk %t", c.State, mayWithdraw("clerk", c), mayWithdraw("clerk-leader", c))
		}
		w.refused(t, "another clerk withdraws a "+string(c.State)+" application", func() error {
			_, err := w.Fire("clerk-leader", c, workflow.EvWithdraw, "撤回", "")
			return err
		}, isForbidden)
	}
	if v := w.MustFire("clerk", draft, workflow.EvWithdraw, "撤回", ""); v.State != workflow.AppWithdrawn {
		t.Fatalf("the preparer withdrew a draft: %s", v.State)
	}

	// The preparer away, their deputy withdraws on their behalf.
	if _, err := w.Engine.CreateDelegation(w.Ctx, w.Actor("clerk"), workflow.DelegationInput{
		DeputyID: w.Data.Users["clerk-leader"].ID, StartsOn: Today, EndsOn: Today.AddDays(7), Reason: "出差"}); err != nil {
		t.Fatal(err)
	}
	res, err := w.fireFor("clerk-leader", "clerk", pending, workflow.EvWithdraw, "撤回（代）")
	if err != nil || res.Case.State != workflow.AppWithdrawn ||
		res.Event.Actor != w.Data.Users["clerk-leader"].ID || res.Event.OnBehalfOf != w.Data.Users["clerk"].ID {
		t.Fatalf("the deputy withdrew: %+v %v", res.Event, err)
	}

	// Once the leader has decided, not even the preparer withdraws.
	approved := w.MustFire("leader", w.pending("clerk"), workflow.EvApprove, "", "")
	if mayWithdraw("clerk", approved) {
		t.Fatal("withdraw offered after the leader's decision")
	}
	w.refused(t, "the preparer withdraws an approved application", func() error {
		_, err := w.Fire("clerk", approved, workflow.EvWithdraw, "撤回", "")
		return err
	}, func(err error) bool { return err != nil })
}
