package storetest

import (
	"encoding/json"
	"fmt"
	"testing"

	"certflow/workflow"
)

// testDeadlines: every due date a path sets, through the engine.
// Calendar months end at the month's last day (Jan 31 + 1 month is Feb 28,
// or Feb 29 in a leap year); "及时" counts working days, so a deadline
// that starts on a weekend still gets five working days; the suspension
// review, complaint handling and "及时" follow the configured settings.
// Overdue flags and reminders fired once are shown by the scenario (a
// platform task due on Feb 28, overdue from Mar 1, escalated once over
// several daily sweeps) and by internal/jobs.
func testDeadlines(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	fixed := w.Engine
	defer func() { w.Engine = fixed }()

	t.Run("one calendar month from 领取 ends at the month's last day", func(t *testing.T) {
		for _, tc := range []struct{ received, due string }{
			{"2026-01-31", "2026-02-28"},
			{"2028-01-31", "2028-02-29"}, // leap year
			{"2026-03-31", "2026-04-30"},
			{"2026-05-31", "2026-06-30"},
			{"2026-12-31", "2027-01-31"},
			{"2026-04-15", "2026-05-15"},
		} {
			t.Run(tc.received, func(t *testing.T) {
				w.T = t
				w.Engine = fixed
				app := w.submittedOn(casts[0], "2026-01-01")
				w.withClock(workflow.MustDate(tc.received), workflow.Options{})
				app = w.MustFire("clerk", app, workflow.EvIssue, "", fmt.Sprintf(`{"number":"M-%d","valid_until":"2031-03-08"}`, w.seq.Add(1)))
				app = w.MustFire("clerk", app, workflow.EvRecordReceipt, "", "")
				pv := w.view("clerk", w.casesOf(app.PersonID, workflow.PathPlatformEntry)[0].ID)
				wantOpen(t, pv, workflow.TaskPlatformEmergency, workflow.TaskPlatformRandom)
				for _, tk := range openTasks(pv) {
					if tk.DueOn != workflow.MustDate(tc.due) {
						t.Fatalf("received %s: %s due %s, want %s", tc.received, tk.Kind, tk.DueOn, tc.due)
					}
				}
			})
		}
	})

	// Each deadline's event is fired on Saturday 2026-03-14 (what it needs
	// was done on the suite's Tuesday 2026-03-10), with the default
	// settings and with configured ones.
	saturday := workflow.MustDate("2026-03-14")
	configured := workflow.Settings{SuspensionReviewDays: 30, ComplaintDays: 15, TimelyWorkingDays: 3}
	tests := []struct {
		name       string
		prep       func() workflow.CaseView // on Tuesday
		act        func(workflow.CaseView) workflow.CaseView
		kind       workflow.TaskKind
		due, dueIf string // with the default settings, with configured
	}{
		{"platform entry, one month after a change", func() workflow.CaseView { return workflow.CaseView{} }, func(workflow.CaseView) workflow.CaseView {
			return w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathPlatformEntry, PersonID: w.ClonePerson("zhangwei", nil),
				Data: json.RawMessage(`{"change":"转岗","changed_on":"2026-03-14"}`)})
		}, workflow.TaskPlatformEmergency, "2026-04-14", "2026-04-14"},
		{"转岗 without enforcement duty: the retention decision", func() workflow.CaseView {
			return w.receivedCertificate(casts[0])
		}, func(app workflow.CaseView) workflow.CaseView {
			w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathPlatformEntry, PersonID: app.PersonID,
				Data: json.RawMessage(`{"change":"转岗","changed_on":"2026-03-14","enforcement_post":false}`)})
			return w.view("clerk", w.casesOf(app.PersonID, workflow.PathRetention)[0].ID)
		}, workflow.TaskDecideRetention, "2026-03-20", "2026-03-18"},
		{"HR notice to the legal office", func() workflow.CaseView { return workflow.CaseView{} }, func(workflow.CaseView) workflow.CaseView {
			return w.openAs("region-hr", workflow.OpenCaseInput{Path: workflow.PathHRNotice, OrgUnitID: w.Data.Units["region"],
				Data: json.RawMessage(`{"subject":"网络学院学习成绩","content":"周杰 95分"}`)})
		}, workflow.TaskReviewNotice, "2026-03-20", "2026-03-18"},
		{"departure: return within 5 working days of the effective date", func() workflow.CaseView {
			return w.receivedCertificate(casts[0])
		}, func(app workflow.CaseView) workflow.CaseView {
			return w.openAs("hr", workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: app.PersonID, Data: json.RawMessage(`{"reason":"辞职","effective_on":"2026-03-14"}`)})
		}, workflow.TaskReturnCertificate, "2026-03-20", "2026-03-18"},
		{"returned: send to justice for 注销", func() workflow.CaseView {
			return w.receivedCertificate(casts[0])
		}, func(app workflow.CaseView) workflow.CaseView {
			return w.returnedOnDeparture(app, "hr", "clerk")
		}, workflow.TaskSendForCancellation, "2026-03-20", "2026-03-18"},
		{"loss reported: publish the notice", func() workflow.CaseView {
			return w.receivedCertificate(casts[0])
		}, func(app workflow.CaseView) workflow.CaseView {
			return w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathLoss, CertificateID: app.CertificateID, Data: json.RawMessage(lossReport)})
		}, workflow.TaskPublishLossNotice, "2026-03-20", "2026-03-18"},
		{"loss notice published: apply for 补发", func() workflow.CaseView {
			return lossJusticeScript.walk(w, workflow.LossReported)
		}, func(v workflow.CaseView) workflow.CaseView {
			return w.MustFire("clerk", v, workflow.EvPublishNotice, "", `{"medium":"新疆日报","published_on":"2026-03-14"}`)
		}, workflow.TaskApplyReissue, "2026-03-20", "2026-03-18"},
		{"suspended: the review", func() workflow.CaseView {
			return suspensionScript.walk(w, workflow.SusProposed)
		}, func(v workflow.CaseView) workflow.CaseView {
			return w.MustFire("leader", v, workflow.EvSuspend, "", "")
		}, workflow.TaskReviewSuspension, "2026-06-12", "2026-04-13"},
		{"reviewed: the next review", func() workflow.CaseView {
			return suspensionScript.walk(w, workflow.SusSuspended)
		}, func(v workflow.CaseView) workflow.CaseView {
			return w.MustFire("clerk", v, workflow.EvReview, "继续暂扣", "")
		}, workflow.TaskReviewSuspension, "2026-06-12", "2026-04-13"},
		{"complaint: handling", func() workflow.CaseView { return workflow.CaseView{} }, func(workflow.CaseView) workflow.CaseView {
			return w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathComplaint, OrgUnitID: w.Data.Units["tianshan"],
				Data: json.RawMessage(`{"channel":"来信","officer_name":"张某","facts":"执法文书未送达"}`)})
		}, workflow.TaskHandleComplaint, "2026-05-13", "2026-03-29"},
		{"complaint decided: tell the complainant", func() workflow.CaseView {
			return w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathComplaint, OrgUnitID: w.Data.Units["tianshan"],
				Data: json.RawMessage(`{"channel":"来信","complainant_name":"王某","complainant_contact":"13800000000","officer_name":"张某","facts":"执法文书未送达"}`)})
		}, func(v workflow.CaseView) workflow.CaseView {
			return w.MustFire("clerk", v, workflow.EvRecordOutcome, "", `{"substantiated":false,"outcome":"经查，反映问题不属实"}`)
		}, workflow.TaskNotifyComplainant, "2026-03-20", "2026-03-18"},
	}
	for _, settings := range []struct {
		name string
		s    workflow.Settings
	}{{"default", workflow.Settings{}}, {"configured", configured}} {
		for _, tc := range tests {
			t.Run(settings.name+"/"+tc.name, func(t *testing.T) {
				w.T = t
				w.Engine = fixed
				v := tc.prep()
				w.withClock(saturday, workflow.Options{Settings: settings.s})
				v = tc.act(v)
				want := tc.due
				if settings.name == "configured" {
					want = tc.dueIf
				}
				tk, ok := openTasks(v)[tc.kind]
				if !ok {
					t.Fatalf("no open %s task: %v", tc.kind, openTasks(v))
				}
				if tk.DueOn != workflow.MustDate(want) {
					t.Fatalf("%s due %s, want %s", tc.kind, tk.DueOn, want)
				}
			})
		}
	}
}
