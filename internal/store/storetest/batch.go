package storetest

import (
	"certflow/workflow"
)

// batchScript drives the township batch (Art. 5): one state, reached by
// compiling an application of a fresh 派出机关 staff member of 天山区
// (燕儿窝街道) pending approval.
var batchScript = script{
	path:   workflow.PathTownshipBatch,
	viewer: "clerk",
	open: func(w *World) workflow.CaseView {
		w.T.Helper()
		app := w.Open("clerk", workflow.PathApplication, w.ClonePerson("zhaolei", nil), `{"proposed_categories":["安全生产监督管理"]}`)
		app = w.MustFire("clerk", app, workflow.EvSubmitForApproval, "", "")
		v, err := w.Engine.CompileBatch(w.Ctx, w.Actor("clerk"), workflow.BatchInput{CaseIDs: []int64{app.ID}})
		if err != nil {
			w.T.Fatalf("compile a batch of case %d: %v", app.ID, err)
		}
		return v
	},
	step: func(w *World, v workflow.CaseView, ev workflow.EventName) step {
		panic("no township batch step for " + ev)
	},
	routes: map[workflow.State][]workflow.EventName{workflow.BatchCompiled: nil},
}
