package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"certflow/workflow"
)

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

var platformScript = script{
	path:   workflow.PathPlatformEntry,
	viewer: "clerk",
	open: func(w *World) workflow.CaseView {
		// A holder's 转岗 to a post without enforcement duty: the retention
		// decision it opens is a case of its own, so reaching "entered"
		// leaves nothing open here.
		app := w.receivedCertificate(casts[0])
		return w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathPlatformEntry, PersonID: app.PersonID,
			Data: json.RawMessage(`{"change":"转岗","changed_on":"2026-03-01","enforcement_post":false}`)})
	},
	step: func(w *World, v workflow.CaseView, ev workflow.EventName) step {
		return step{ev, "clerk", "", `{"entered_on":"2026-03-09"}`}
	},
	routes: map[workflow.State][]workflow.EventName{
		workflow.PlatPending:          nil,
		workflow.PlatEmergencyEntered: {workflow.EvEnterEmergency},
		workflow.PlatRandomEntered:    {workflow.EvEnterRandom},
		workflow.PlatEntered:          {workflow.EvEnterEmergency, workflow.EvCompleteRandom},
	},
}

// hrNoticeScript: 自治区 HR's notice to the 自治区 legal office.
var hrNoticeScript = script{
	path:   workflow.PathHRNotice,
	viewer: "region-clerk",
	opener: "region-hr",
	open: func(w *World) workflow.CaseView {
		return w.openAs("region-hr", workflow.OpenCaseInput{Path: workflow.PathHRNotice, OrgUnitID: w.Data.Units["region"],
			Data: json.RawMessage(`{"subject":"网络学院学习成绩","content":"周杰 95分"}`)})
	},
	step: func(w *World, v workflow.CaseView, ev workflow.EventName) step {
		return step{ev, "region-clerk", "", ""}
	},
	routes: map[workflow.State][]workflow.EventName{
		workflow.NoticeSent:         nil,
		workflow.NoticeAcknowledged: {workflow.EvAcknowledge},
	},
}

// retentionScript: the legal office decides whether a holder moved to a
// post without enforcement duty keeps the certificate.
var retentionScript = script{
	path:   workflow.PathRetention,
	viewer: "clerk",
	open: func(w *World) workflow.CaseView {
		// Only a change report opens one (Path.SpawnedBy).
		app := w.receivedCertificate(casts[0])
		w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathPlatformEntry, PersonID: app.PersonID,
			Data: json.RawMessage(`{"change":"转岗","changed_on":"2026-03-09","enforcement_post":false,"details":"调至办公室从事文秘工作"}`)})
		return w.spawned(app.PersonID, workflow.PathRetention, "clerk")
	},
	step: func(w *World, v workflow.CaseView, ev workflow.EventName) step {
		if ev == workflow.EvKeep {
			return step{ev, "clerk", "新岗位仍需参与联合执法", ""}
		}
		var cert int64
		if out := w.outstanding(v.PersonID); len(out) > 0 {
			cert = out[0].ID
		}
		return step{ev, "clerk", "", fmt.Sprintf(`{"certificate_id":%d}`, cert)}
	},
	// The holder leaves: the departure takes the certificate back, and
	// certflow ends the decision (end_retention).
	follow: func(w *World, v workflow.CaseView, _ workflow.EventName) {
		cert := w.outstanding(v.PersonID)[0].ID
		w.returnedOnDeparture(workflow.CaseView{Case: workflow.Case{Path: workflow.PathApplication, PersonID: v.PersonID, CertificateID: cert}}, "hr", "clerk")
	},
	routes: map[workflow.State][]workflow.EventName{
		workflow.RetPending:  nil,
		workflow.RetKept:     {workflow.EvKeep},
		workflow.RetReturned: {workflow.EvRecover},
		workflow.RetEnded:    {workflow.EvEndRetention},
	},
}

// testPlatform: the Art. 14 tasks from receipt and from a change report.
func testPlatform(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	t.Run("receipt opens the Art. 14 case, due one calendar month later", func(t *testing.T) {
		w.T = t
		v := w.reach(casts[0], workflow.AppApproved)
		v = w.MustFire("clerk", v, workflow.EvSubmitToIssuer, "", `{"submitted_on":"2026-01-20"}`)
		v = w.MustFire("clerk", v, workflow.EvIssue, "", `{"number":"P-0131","issued_on":"2026-01-30","valid_until":"2031-01-29"}`)
		v = w.MustFire("clerk", v, workflow.EvRecordReceipt, "", `{"received_on":"2026-01-31"}`)
		if len(openTasks(v)) != 0 {
			t.Fatalf("application keeps open tasks: %v", openTasks(v))
		}
		cs := w.casesOf(v.PersonID, workflow.PathPlatformEntry)
		if len(cs) != 1 || cs[0].State != workflow.PlatPending {
			t.Fatalf("platform cases %+v", cs)
		}
		p := w.view("clerk", cs[0].ID)
		wantOpen(t, p, workflow.TaskPlatformEmergency, workflow.TaskPlatformRandom)
		for _, tk := range openTasks(p) {
			if tk.DueOn != workflow.MustDate("2026-02-28") {
				t.Fatalf("due %s, want 2026-02-28", tk.DueOn)
			}
		}
		w.refused(t, "entered before the receipt", func() error {
			_, err := w.Fire("clerk", p, workflow.EvEnterRandom, "", `{"entered_on":"2026-01-30"}`)
			return err
		}, isInputOn("entered_on"))
		p = w.MustFire("clerk", p, workflow.EvEnterRandom, "", `{"entered_on":"2026-02-10"}`)
		wantOpen(t, p, workflow.TaskPlatformEmergency)
		p = w.MustFire("clerk", p, workflow.EvCompleteEmergency, "", "")
		wantOpen(t, p)
		if p.State != workflow.PlatEntered {
			t.Fatalf("state %s", p.State)
		}
	})
	t.Run("转岗 to a post without enforcement duty asks whether the certificate is returned", func(t *testing.T) {
		w.T = t
		transfer := func(person int64) (workflow.CaseView, []workflow.Case) {
			v := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathPlatformEntry, PersonID: person,
				Data: json.RawMessage(`{"change":"转岗","changed_on":"2026-03-06","enforcement_post":false}`)})
			wantOpen(t, v, workflow.TaskPlatformEmergency, workflow.TaskPlatformRandom)
			if due := openTasks(v)[workflow.TaskPlatformEmergency].DueOn; due != workflow.MustDate("2026-04-06") {
				t.Fatalf("platform due %s", due)
			}
			return v, w.casesOf(person, workflow.PathRetention)
		}
		// Nobody to decide about without a justice-issued certificate.
		if _, rs := transfer(w.ClonePerson("zhangwei", nil)); len(rs) != 0 {
			t.Fatalf("retention cases for a person without a certificate: %+v", rs)
		}
		for _, keep := range []bool{true, false} {
			app := w.receivedCertificate(casts[0])
			plat, rs := transfer(app.PersonID)
			if len(rs) != 1 || rs[0].State != workflow.RetPending {
				t.Fatalf("retention cases %+v", rs)
			}
			// The staff record says what the report says.
			if p, err := w.Engine.Person(w.Ctx, w.Actor("clerk"), app.PersonID); err != nil || p.Post {
				t.Fatalf("after the report the record says enforcement_post=%v (%v)", p.Post, err)
			}
			// A second 转岗 reported while the decision is pending is
			// recorded for the platforms; the pending decision covers it.
			w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathPlatformEntry, PersonID: app.PersonID,
				Data: json.RawMessage(`{"change":"转岗","changed_on":"2026-03-09","enforcement_post":false,"details":"再次调整岗位"}`)})
			if rs := w.casesOf(app.PersonID, workflow.PathRetention); len(rs) != 1 || len(w.casesOf(app.PersonID, workflow.PathPlatformEntry)) != 3 {
				t.Fatalf("after a second report: retention cases %+v", rs)
			}
			r := w.view("clerk", rs[0].ID)
			wantOpen(t, r, workflow.TaskDecideRetention)
			if tk := openTasks(r)[workflow.TaskDecideRetention]; tk.DueOn != workflow.MustDate("2026-03-13") || tk.Role != workflow.RoleLegalClerk {
				t.Fatalf("decision task %+v (5 working days from Friday 2026-03-06 is Friday 2026-03-13)", tk)
			}
			if keep {
				r = w.MustFire("clerk", r, workflow.EvKeep, "新岗位仍需参与联合执法", "")
				if c := w.certificate(app.CertificateID); c.State != workflow.CertReceived {
					t.Fatalf("kept certificate %s", c.State)
				}
				if len(w.casesOf(app.PersonID, workflow.PathCancellation)) != 0 {
					t.Fatal("a kept certificate went to cancellation")
				}
			} else {
				r = w.MustFire("clerk", r, workflow.EvRecover, "", fmt.Sprintf(`{"certificate_id":%d}`, app.CertificateID))
				if c := w.certificate(app.CertificateID); c.State != workflow.CertReturned || c.ValidOn(Today) {
					t.Fatalf("recovered certificate %s", c.State)
				}
				cs := w.casesOf(app.PersonID, workflow.PathCancellation)
				if len(cs) != 1 || cs[0].CertificateID != app.CertificateID {
					t.Fatalf("cancellation cases %+v", cs)
				}
				wantOpen(t, w.view("clerk", cs[0].ID), workflow.TaskSendForCancellation)
			}
			wantOpen(t, r)
			// The platform entries end the change report with nothing left open.
			plat = w.MustFire("clerk", plat, workflow.EvEnterEmergency, "", "")
			plat = w.MustFire("clerk", plat, workflow.EvCompleteRandom, "", "")
			wantOpen(t, plat)
		}
	})
	t.Run("bad change reports", func(t *testing.T) {
		w.T = t
		for _, data := range []string{`{"change":"升职","changed_on":"2026-03-01"}`, `{"change":"退休"}`, `{"change":"其他","changed_on":"2026-03-01"}`, `{"change":"退休","changed_on":"2027-01-01"}`,
			`{"change":"退休","changed_on":"2026-03-01"}`} { // a departure's, filed when it completes
			before := w.Counts()
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathPlatformEntry, PersonID: w.Data.People["lina"], Data: json.RawMessage(data)})
			if !isInput(err) {
				t.Fatalf("%s: %v", data, err)
			}
			if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
				t.Fatalf("%s wrote rows", data)
			}
		}
		// No act under the measures predates them (Art. 21, 2020-07-01):
		// an earlier date is a typing error, not 2,000 days overdue.
		open := func(path workflow.PathName, data string) error {
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: path, PersonID: w.Data.People["lina"],
				OrgUnitID: w.Data.Units["tianshan"], Data: json.RawMessage(data)})
			return err
		}
		before := w.Counts()
		for _, tc := range []struct {
			path        workflow.PathName
			data, field string
		}{
			{workflow.PathPlatformEntry, `{"change":"其他","changed_on":"2020-06-30","details":"职务变更"}`, "changed_on"},
			{workflow.PathPlatformEntry, `{"change":"转岗","changed_on":"1999-03-01","enforcement_post":true}`, "changed_on"},
			{workflow.PathComplaint, `{"channel":"来信","received_on":"2020-06-30","officer_name":"张某","facts":"x"}`, "received_on"},
			{workflow.PathDeparture, `{"reason":"退休","effective_on":"2020-06-30"}`, "effective_on"},
		} {
			var in *workflow.InputError
			if err := open(tc.path, tc.data); !errors.As(err, &in) || in.Field != tc.field || !strings.Contains(in.Reason, "Art. 21") {
				t.Errorf("%s %s: %v, want an input error on %s citing Art. 21", tc.path, tc.data, err, tc.field)
			}
		}
		if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
			t.Fatal("refused dates wrote rows")
		}
		if err := open(workflow.PathPlatformEntry, `{"change":"其他","changed_on":"2020-07-01","details":"职务变更"}`); err != nil {
			t.Fatalf("the day the measures took effect: %v", err)
		}
	})
	t.Run("HR notice becomes a task for the legal office", func(t *testing.T) {
		w.T = t
		v := w.openAs("region-hr", workflow.OpenCaseInput{Path: workflow.PathHRNotice, OrgUnitID: w.Data.Units["region"],
			Data: json.RawMessage(`{"subject":"网络学院学习成绩","content":"周杰 95分"}`)})
		inbox, err := w.inboxItems(w.Actor("region-clerk"), 50)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, it := range inbox {
			if it.CaseID == v.ID && it.Kind == workflow.TaskReviewNotice && it.DueOn == workflow.MustDate("2026-03-17") {
				found = true
			}
		}
		if !found {
			t.Fatalf("region clerk's inbox %+v", inbox)
		}
		v = w.MustFire("region-clerk", v, workflow.EvAcknowledge, "已录入", "")
		if v.State != workflow.NoticeAcknowledged {
			t.Fatal(v.State)
		}
	})
}

var suspensionScript = script{
	path:   workflow.PathSuspension,
	viewer: "clerk",
	open: func(w *World) workflow.CaseView {
		app := w.receivedCertificate(casts[0])
		return w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: app.CertificateID,
			Data: json.RawMessage(`{"ground":1,"facts":"将证件转借他人使用"}`)})
	},
	step: func(w *World, v workflow.CaseView, ev workflow.EventName) step {
		switch ev {
		case workflow.EvReview:
			return step{ev, "clerk", "继续暂扣", ""}
		case workflow.EvRecordCancellation:
			return step{ev, "clerk", "", ""}
		case workflow.EvDismiss, workflow.EvRestore:
			return step{ev, "leader", "情节轻微", ""}
		}
		return step{ev, "leader", "", ""}
	},
	// The holder leaves: the departure takes the certificate back, and
	// certflow ends the proposal or suspension (end_suspension).
	follow: func(w *World, v workflow.CaseView, _ workflow.EventName) {
		w.returnedOnDeparture(workflow.CaseView{Case: workflow.Case{Path: workflow.PathApplication, PersonID: v.PersonID, CertificateID: v.CertificateID}}, "hr", "clerk")
	},
	routes: map[workflow.State][]workflow.EventName{
		workflow.SusProposed:    nil,
		workflow.SusEnded:       {workflow.EvSuspend, workflow.EvEndSuspension},
		workflow.SusSuspended:   {workflow.EvSuspend},
		workflow.SusSurrendered: {workflow.EvSurrender},
		workflow.SusRestored:    {workflow.EvSuspend, workflow.EvRestore},
		workflow.SusCancelled:   {workflow.EvSurrender, workflow.EvRecordCancellation},
		workflow.SusDismissed:   {workflow.EvDismiss},
	},
}

var cancellationScript = script{
	path:   workflow.PathCancellation,
	viewer: "clerk",
	open: func(w *World) workflow.CaseView {
		return w.returnedOnDeparture(w.receivedCertificate(casts[0]), "hr", "clerk")
	},
	step: func(w *World, v workflow.CaseView, ev workflow.EventName) step { return step{ev, "clerk", "", ""} },
	routes: map[workflow.State][]workflow.EventName{
		workflow.CanReturned:  nil,
		workflow.CanSent:      {workflow.EvSendForCancellation},
		workflow.CanCancelled: {workflow.EvSendForCancellation, workflow.EvRecordCancellation},
	},
}

// ministryCancellationScript: 自治区 HR sends a returned Ministry
// certificate to the Ministry and records its 注销.
var ministryCancellationScript = script{
	path:   workflow.PathMinistryCancellation,
	viewer: "region-hr",
	open: func(w *World) workflow.CaseView {
		return w.returnedOnDeparture(w.receivedCertificate(casts[1]), "region-hr", "region-hr")
	},
	step: func(w *World, v workflow.CaseView, ev workflow.EventName) step { return step{ev, "region-hr", "", ""} },
	routes: map[workflow.State][]workflow.EventName{
		workflow.CanReturned:  nil,
		workflow.CanSent:      {workflow.EvSendForCancellation},
		workflow.CanCancelled: {workflow.EvSendForCancellation, workflow.EvRecordCancellation},
	},
}

// testSuspension: Art. 17, and what it does to validity.
func testSuspension(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	t.Run("one proposal in progress per certificate; its preparer decides nothing", func(t *testing.T) {
		w.T = t
		app := w.receivedCertificate(casts[0])
		in := workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: app.CertificateID, Data: json.RawMessage(`{"ground":1,"facts":"将证件转借他人使用"}`)}
		first := w.openAs("clerk-leader", in)
		w.refused(t, "a second proposal", func() error {
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), in)
			return err
		}, func(err error) bool {
			var ge *workflow.GuardError
			return errors.As(err, &ge) && hasArticle(ge.Violations, "Art. 17", first.Number)
		})
		suspended := w.MustFire("leader", first, workflow.EvSuspend, "", "")
		w.refused(t, "ended by hand", func() error {
			_, err := w.Fire("clerk", suspended, workflow.EvEndSuspension, "结案", "")
			return err
		}, isForbidden)
		w.refused(t, "the preparer restores", func() error {
			_, err := w.Fire("clerk-leader", suspended, workflow.EvRestore, "已整改", "")
			return err
		}, isForbidden)
		w.MustFire("leader", suspended, workflow.EvRestore, "已整改", "")
		w.openAs("clerk", in) // ended: the next may be proposed
	})
	t.Run("validity through suspension, restoration, surrender, cancellation", func(t *testing.T) {
		w.T = t
		v := suspensionScript.open(w)
		cert := v.CertificateID
		valid := func(want bool, what string) {
			t.Helper()
			c := w.certificate(cert)
			if c.ValidOn(Today) != want {
				t.Fatalf("%s: certificate %s valid=%v, want %v", what, c.State, !want, want)
			}
		}
		valid(true, "proposed")
		v = w.MustFire("leader", v, workflow.EvSuspend, "", "")
		valid(false, "suspended")
		if tk := openTasks(v)[workflow.TaskReviewSuspension]; tk.DueOn != Today.AddDays(90) {
			t.Fatalf("review due %s", tk.DueOn)
		}
		v = w.MustFire("leader", v, workflow.EvRestore, "整改到位", "")
		valid(true, "restored")
		v2 := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: cert, Data: json.RawMessage(`{"ground":2,"facts":"利用证件谋利"}`)})
		v2 = w.MustFire("leader", v2, workflow.EvSurrender, "", "")
		valid(false, "surrendered")
		v2 = w.MustFire("justice", v2, workflow.EvRecordCancellation, "", "")
		if c := w.certificate(cert); c.State != workflow.CertCancelled || c.ValidOn(Today) {
			t.Fatalf("cancelled: %+v", c)
		}
		// Art. 14: each decision that changed whether the officer may
		// enforce is a change report, due a month on; 注销 itself is not.
		var reports []string
		for _, c := range w.casesOf(v.PersonID, workflow.PathPlatformEntry) {
			var d workflow.PlatformData
			if err := json.Unmarshal(c.Data, &d); err != nil {
				t.Fatal(err)
			}
			if d.Reason == "change" {
				reports = append(reports, fmt.Sprintf("%s %s %s %s", d.Change, d.ChangedOn, d.Details, openTasks(w.view("clerk", c.ID))[workflow.TaskPlatformEmergency].DueOn))
			}
		}
		no := w.certificate(cert).Number
		if want := []string{
			"其他 2026-03-10 行政执法证暂扣（证号：" + no + "） 2026-04-10",
			"其他 2026-03-10 行政执法证恢复使用（证号：" + no + "） 2026-04-10",
			"其他 2026-03-10 行政执法证交回司法部门注销（证号：" + no + "） 2026-04-10",
		}; fmt.Sprint(reports) != fmt.Sprint(want) {
			t.Fatalf("change reports\n%q\nwant\n%q", reports, want)
		}
		// A cancelled certificate cannot be proposed for suspension again.
		_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: cert, Data: json.RawMessage(`{"ground":3,"facts":"x"}`)})
		if !isGuard(err, "Art. 17") {
			t.Fatalf("suspending a cancelled certificate: %v", err)
		}
	})
	t.Run("a loss does not end a proposal; a return does, and names the case that took the certificate", func(t *testing.T) {
		w.T = t
		v := suspensionScript.open(w)
		cert := v.CertificateID
		dismissed := w.MustFire("leader", v, workflow.EvDismiss, "情节轻微", "")
		proposal := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: cert,
			Data: json.RawMessage(`{"ground":3,"facts":"未按规定出示证件"}`)})
		loss := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathLoss, CertificateID: cert, Data: json.RawMessage(lossReport)})
		w.MustFire("clerk", loss, workflow.EvPublishNotice, "", `{"medium":"新疆日报","published_on":"2026-03-10"}`)
		// Reported lost and voided: what is pending about the holder's
		// conduct stays pending; nothing is taken from them meanwhile.
		got := w.view("clerk", proposal.ID)
		if got.State != workflow.SusProposed {
			t.Fatalf("after the loss notice the proposal is %s", got.State)
		}
		for _, ev := range []workflow.EventName{workflow.EvSuspend, workflow.EvSurrender} {
			w.refused(t, string(ev)+" a voided certificate", func() error {
				_, err := w.Fire("leader", got, ev, "", "")
				return err
			}, func(err error) bool { return isGuard(err, "Art. 17") })
		}
		// A departure takes a certificate back: its proposal ends.
		app := w.receivedCertificate(casts[0])
		p2 := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: app.CertificateID,
			Data: json.RawMessage(`{"ground":1,"facts":"将证件转借他人使用"}`)})
		can := w.returnedOnDeparture(app, "hr", "clerk")
		got = w.view("clerk", p2.ID)
		last := got.History[len(got.History)-1]
		if got.State != workflow.SusEnded || last.Event != workflow.EvEndSuspension || last.Actor != w.Data.Users["clerk"].ID ||
			!strings.Contains(last.Comment, can.Number) || !strings.Contains(last.Comment, "已交回") {
			t.Fatalf("after the return: %s, last event %+v", got.State, last)
		}
		if len(openTasks(got)) != 0 {
			t.Fatalf("ended proposal keeps tasks %v", openTasks(got))
		}
		if got := w.view("clerk", dismissed.ID); got.Version != dismissed.Version {
			t.Fatalf("the dismissed proposal moved: %s v%d", got.State, got.Version)
		}
	})
	t.Run("a return waits for a concurrent act on the suspension it ends, and does not fail", func(t *testing.T) {
		w.T = t
		app := w.receivedCertificate(casts[0])
		p := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: app.CertificateID,
			Data: json.RawMessage(`{"ground":1,"facts":"将证件转借他人使用"}`)})
		dep := w.openAs("hr", workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: app.PersonID, Data: json.RawMessage(`{"reason":"辞职"}`)})
		// Another request writes the proposal (a claim, say) and has not
		// committed when the return reads it.
		other, err := w.Store.DB().BeginTx(w.Ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Rollback()
		if _, err := other.ExecContext(w.Ctx, `UPDATE cases SET version = version + 1 WHERE id = $1`, p.ID); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := w.Fire("clerk", dep, workflow.EvRecordReturn, "", fmt.Sprintf(`{"certificate_id":%d}`, app.CertificateID))
			done <- err
		}()
		time.Sleep(300 * time.Millisecond) // the return reaches the proposal and waits
		if err := other.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("the return failed on the proposal it ends: %v", err)
		}
		if got := w.view("clerk", p.ID); got.State != workflow.SusEnded || got.Version != p.Version+2 {
			t.Fatalf("the proposal after the return: %s v%d, want %s v%d", got.State, got.Version, workflow.SusEnded, p.Version+2)
		}
	})
	t.Run("a suspension left behind when its certificate was taken back is settled by the sweep", func(t *testing.T) {
		w.T = t
		v := w.MustFire("leader", suspensionScript.open(w), workflow.EvSuspend, "", "")
		// As an engine before end_suspension, or a proposal opened in a
		// race with the return, left it: the certificate back, the case
		// still suspended.
		if _, err := w.Store.DB().ExecContext(w.Ctx, `UPDATE certificates SET state = 'returned', version = version + 1 WHERE id = $1`, v.CertificateID); err != nil {
			t.Fatal(err)
		}
		res, err := w.Engine.SweepDeadlines(w.Ctx)
		if err != nil || res.Settled < 1 {
			t.Fatalf("sweep %+v %v", res, err)
		}
		got := w.view("clerk", v.ID)
		last := got.History[len(got.History)-1]
		if got.State != workflow.SusEnded || last.Event != workflow.EvEndSuspension || last.ActorName != workflow.SystemUserName || len(openTasks(got)) != 0 {
			t.Fatalf("after the sweep: %s, last %+v, open %v", got.State, last, openTasks(got))
		}
		if _, err := w.Engine.SweepDeadlines(w.Ctx); err != nil || w.view("clerk", v.ID).Version != got.Version {
			t.Fatalf("a second sweep: %v", err)
		}
	})
	t.Run("the sweep writes only to the cases it settles", func(t *testing.T) {
		w.T = t
		counted := &countingStore{Store: w.Store}
		e, err := workflow.NewEngine(counted, workflow.Options{Clock: func() time.Time { return Now }})
		if err != nil {
			t.Fatal(err)
		}
		sweep := func() (workflow.SweepResult, int64) {
			t.Helper()
			before := counted.updates.Load()
			res, err := e.SweepDeadlines(w.Ctx)
			if err != nil {
				t.Fatalf("sweep: %v", err)
			}
			return res, counted.updates.Load() - before
		}
		sweep() // whatever earlier subtests left due
		_, base := sweep()
		// A proposal whose certificate is still out: end_suspension's
		// guard refuses it every night.
		v := suspensionScript.open(w)
		before := w.Counts()
		res, got := sweep()
		if got != base || res.Settled != 0 {
			t.Fatalf("a sweep with a case it does not settle: %d write transactions, settled %d; want %d, 0", got, res.Settled, base)
		}
		if after := w.view("clerk", v.ID); after.Version != v.Version || after.State != workflow.SusProposed || fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
			t.Fatalf("the sweep touched what it did not settle: %s v%d (was v%d), counts %v (were %v)", after.State, after.Version, v.Version, w.Counts(), before)
		}
		if _, err := w.Store.DB().ExecContext(w.Ctx, `UPDATE certificates SET state = 'returned', version = version + 1 WHERE id = $1`, v.CertificateID); err != nil {
			t.Fatal(err)
		}
		res, got = sweep()
		if got != base+1 || res.Settled != 1 {
			t.Fatalf("a sweep settling one case: %d write transactions, settled %d; want %d, 1", got, res.Settled, base+1)
		}
		if after := w.view("clerk", v.ID); after.State != workflow.SusEnded {
			t.Fatalf("after the sweep: %s", after.State)
		}
	})
	t.Run("a disabled system user still records what the sweep settles", func(t *testing.T) {
		w.T = t
		systemUser := func() (id int64, disabled bool) {
			t.Helper()
			err := w.Store.DB().QueryRowContext(w.Ctx, `SELECT id, disabled FROM users WHERE name = $1`, workflow.SystemUserName).Scan(&id, &disabled)
			if err != nil {
				t.Fatalf("system user: %v", err)
			}
			return id, disabled
		}
		// The sweeps above created it; an older certflow user disable
		// disabled it.
		id, _ := systemUser()
		if _, err := w.Store.DB().ExecContext(w.Ctx, `UPDATE users SET disabled = TRUE WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		v := w.MustFire("leader", suspensionScript.open(w), workflow.EvSuspend, "", "")
		if _, err := w.Store.DB().ExecContext(w.Ctx, `UPDATE certificates SET state = 'returned', version = version + 1 WHERE id = $1`, v.CertificateID); err != nil {
			t.Fatal(err)
		}
		res, err := w.Engine.SweepDeadlines(w.Ctx)
		if err != nil || res.Settled != 1 {
			t.Fatalf("sweep with the system user disabled: %+v %v", res, err)
		}
		got := w.view("clerk", v.ID)
		if last := got.History[len(got.History)-1]; got.State != workflow.SusEnded || last.Actor != id || last.ActorName != workflow.SystemUserName {
			t.Fatalf("after the sweep: %s, last %+v", got.State, last)
		}
		if again, disabled := systemUser(); again != id || !disabled {
			t.Fatalf("system user %d disabled=%v, was %d disabled", again, disabled, id)
		}
		// Looked up by name in any transaction, enabled or not, it is the
		// same user; a name nobody has is created once.
		err = w.Store.Update(w.Ctx, func(tx workflow.Tx) error {
			for _, name := range []string{workflow.SystemUserName, "service-x", "service-x"} {
				a, err := tx.ServiceActor(w.Ctx, name)
				if err != nil {
					return err
				}
				if a.Name != name || a.UserID == 0 || len(a.Roles) != 0 || a.PersonID != 0 || name == workflow.SystemUserName && a.UserID != id {
					return fmt.Errorf("ServiceActor(%s) = %+v", name, a)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := w.Store.DB().QueryRowContext(w.Ctx, `SELECT count(*) FROM users WHERE name = 'service-x'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("service-x: %d users, %v", n, err)
		}
	})
	t.Run("expired certificates are invalid", func(t *testing.T) {
		c := workflow.Certificate{State: workflow.CertReceived, ValidUntil: Today.AddDays(-1)}
		if c.ValidOn(Today) {
			t.Fatal("expired certificate valid")
		}
	})
	t.Run("the holder cannot act on their own certificate", func(t *testing.T) {
		w.T = t
		// 张伟 is the demo officer: give him a certificate, then let him try.
		app := w.Open("clerk", workflow.PathApplication, w.Data.People["zhangwei"], categories)
		for _, ev := range routes[workflow.AppReceived] {
			s := casts[0].stepFor(ev, w.seq.Add(1))
			app = w.MustFire(s.user, app, s.event, s.comment, s.data)
		}
		v := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: app.CertificateID, Data: json.RawMessage(`{"ground":1,"facts":"x"}`)})
		_, err := w.Engine.Fire(w.Ctx, workflow.Command{Actor: w.Actor("officer"), CaseID: v.ID, Event: workflow.EvReview, ExpectedVersion: v.Version, Comment: "x"})
		if !errors.Is(err, workflow.ErrForbidden) {
			t.Fatalf("officer on own suspension: %v", err)
		}
	})
	t.Run("bad grounds", func(t *testing.T) {
		w.T = t
		app := w.receivedCertificate(casts[0])
		for _, data := range []string{`{"ground":4,"facts":"x"}`, `{"ground":1}`, `{"ground":1,"facts":"x","extra":1}`} {
			before := w.Counts()
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: app.CertificateID, Data: json.RawMessage(data)})
			if !isInput(err) || fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
				t.Fatalf("%s: %v", data, err)
			}
		}
		// The Ministry certificate is not suspended on this path.
		m := w.receivedCertificate(casts[1])
		_, err := w.Engine.OpenCase(w.Ctx, w.Actor("region-clerk"), workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: m.CertificateID, Data: json.RawMessage(`{"ground":1,"facts":"x"}`)})
		if !isGuard(err, "Art. 17") {
			t.Fatalf("Ministry certificate: %v", err)
		}
	})
}

// departureScript: a person with one justice-issued certificate.
var departureScript = script{
	path:   workflow.PathDeparture,
	viewer: "hr",
	open: func(w *World) workflow.CaseView {
		app := w.receivedCertificate(casts[0])
		return w.openAs("hr", workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: app.PersonID, Data: json.RawMessage(`{"reason":"辞职"}`)})
	},
	step: departureStep,
	prep: func(w *World, v workflow.CaseView, st workflow.State, ev workflow.EventName) workflow.CaseView {
		if ev != workflow.EvComplete {
			return v
		}
		s := departureStep(w, v, workflow.EvRecordReturn)
		return w.MustFire(s.user, v, s.event, s.comment, s.data)
	},
	routes: map[workflow.State][]workflow.EventName{
		workflow.DepOpen:      nil,
		workflow.DepCompleted: {workflow.EvRecordReturn, workflow.EvComplete},
		workflow.DepWithdrawn: {workflow.EvWithdraw},
	},
}

func departureStep(w *World, v workflow.CaseView, ev workflow.EventName) step {
	switch ev {
	case workflow.EvRecordReturn:
		var certID int64
		if certs := w.outstanding(v.PersonID); len(certs) > 0 {
			certID = certs[0].ID
		}
		return step{ev, "clerk", "", fmt.Sprintf(`{"certificate_id":%d}`, certID)}
	case workflow.EvWithdraw:
		return step{ev, "hr", "本人撤回辞职申请", ""}
	}
	return step{ev, "hr", "", ""}
}

// spawned is the latest case of path about person, as viewer reads it:
// the one a transition just opened.
func (w *World) spawned(person int64, path workflow.PathName, viewer string) workflow.CaseView {
	w.T.Helper()
	cs := w.casesOf(person, path)
	if len(cs) == 0 {
		w.T.Fatalf("no %s case about person %d", path, person)
	}
	return w.view(viewer, cs[len(cs)-1].ID)
}

// returnedOnDeparture opens a departure of app's holder (as hr; "": one is
// open already), records
// the return of app's certificate (as recorder) and returns the
// cancellation case the return opened: no one opens one by hand.
func (w *World) returnedOnDeparture(app workflow.CaseView, hr, recorder string) workflow.CaseView {
	w.T.Helper()
	var dep workflow.CaseView
	if hr == "" { // the departure is open already
		deps := w.casesOf(app.PersonID, workflow.PathDeparture)
		dep = w.view(recorder, deps[len(deps)-1].ID)
	} else {
		dep = w.openAs(hr, workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: app.PersonID, Data: json.RawMessage(`{"reason":"辞职"}`)})
	}
	w.MustFire(recorder, dep, workflow.EvRecordReturn, "", fmt.Sprintf(`{"certificate_id":%d}`, app.CertificateID))
	path := workflow.PathCancellation
	if app.Path == workflow.PathMinistryApplication {
		path = workflow.PathMinistryCancellation
	}
	return w.spawned(app.PersonID, path, recorder)
}

func (w *World) outstanding(person int64) []workflow.Certificate {
	w.T.Helper()
	var out []workflow.Certificate
	err := w.Store.View(w.Ctx, func(tx workflow.Tx) error {
		cs, err := tx.CertificatesOf(w.Ctx, person)
		for _, c := range cs {
			if c.Outstanding() {
				out = append(out, c)
			}
		}
		return err
	})
	if err != nil {
		w.T.Fatal(err)
	}
	return out
}

// testDeparture: Art. 18's block, the return tasks, cancellation, and
// concurrency.
func testDeparture(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	t.Run("a departed person's accounts are disabled, their sessions ended", func(t *testing.T) {
		w.T = t
		person := w.ClonePerson("lina", nil)
		var user int64
		err := w.Store.Update(w.Ctx, func(tx workflow.Tx) (err error) {
			if user, err = tx.CreateUser(w.Ctx, "leaving-clerk", person, []workflow.RoleBinding{{Role: workflow.RoleLegalClerk, OrgUnitID: w.Data.Units["tianshan"]}}); err != nil {
				return err
			}
			return tx.(interface {
				CreateSession(context.Context, int64, []byte, time.Time, time.Time) error
			}).CreateSession(w.Ctx, user, []byte("leaving-clerk-session"), Now, Now.Add(time.Hour))
		})
		if err != nil {
			t.Fatal(err)
		}
		sessions := func() (n int) {
			if err := w.Store.DB().QueryRowContext(w.Ctx, `SELECT count(*) FROM sessions WHERE user_id = $1`, user).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		dep := w.openAs("hr", workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: person, Data: json.RawMessage(`{"reason":"调离"}`)})
		if sessions() != 1 {
			t.Fatal("no session to end")
		}
		w.MustFire("hr", dep, workflow.EvComplete, "", "")
		err = w.Store.View(w.Ctx, func(tx workflow.Tx) error {
			_, err := tx.(workflow.InboxTx).ActorByID(w.Ctx, user)
			return err
		})
		if !isNotFound(err) || sessions() != 0 {
			t.Fatalf("after the departure: account %v, %d sessions", err, sessions())
		}
	})
	t.Run("no 领取 once leaving: the issued certificate is returned instead", func(t *testing.T) {
		w.T = t
		app := w.reach(casts[0], workflow.AppIssued)
		dep := w.openAs("hr", workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: app.PersonID, Data: json.RawMessage(`{"reason":"辞职"}`)})
		w.refused(t, "receipt while leaving", func() error {
			_, err := w.Fire("clerk", app, workflow.EvRecordReceipt, "", "")
			return err
		}, func(err error) bool { return isGuard(err, "Art. 18") })
		w.MustFire("clerk", dep, workflow.EvRecordReturn, "", fmt.Sprintf(`{"certificate_id":%d}`, app.CertificateID))
	})
	t.Run("a claim on a return task left moot does not hold the departure", func(t *testing.T) {
		w.T = t
		// The legal office claims the return of the certificate; it is
		// then surrendered under Art. 17 instead, and HR completes.
		dep := departureScript.walk(w, workflow.DepOpen)
		ret := w.openTask(dep, workflow.TaskReturnCertificate)
		if _, err := w.act(w.Engine.ClaimTask, "clerk", ret.ID, workflow.TaskActInput{}); err != nil {
			t.Fatal(err)
		}
		sus := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: ret.CertificateID,
			Data: json.RawMessage(`{"ground":2,"facts":"利用证件谋取私利"}`)})
		w.MustFire("leader", sus, workflow.EvSurrender, "", "")
		done := w.MustFire("hr", w.view("hr", dep.ID), workflow.EvComplete, "", "")
		if len(openTasks(done)) != 0 {
			t.Fatalf("completed departure keeps %v", openTasks(done))
		}
	})
	t.Run("a return follows the issue, the sending follows the return", func(t *testing.T) {
		w.T = t
		app := w.receivedCertificate(casts[0]) // issued 2026-03-09
		dep := w.openAs("hr", workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: app.PersonID, Data: json.RawMessage(`{"reason":"辞职"}`)})
		w.refused(t, "returned before it was issued", func() error {
			_, err := w.Fire("clerk", dep, workflow.EvRecordReturn, "", fmt.Sprintf(`{"certificate_id":%d,"returned_on":"2026-03-01"}`, app.CertificateID))
			return err
		}, isInputOn("returned_on"))
		w.refused(t, "no certificate named", func() error {
			_, err := w.Fire("clerk", dep, workflow.EvRecordReturn, "", `{}`)
			return err
		}, func(err error) bool {
			return isInputOn("certificate_id")(err) && strings.Contains(err.Error(), "required")
		})
		// Recovered on a 转岗 of today: not back before the change.
		other := w.receivedCertificate(casts[0])
		w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathPlatformEntry, PersonID: other.PersonID,
			Data: json.RawMessage(`{"change":"转岗","changed_on":"2026-03-10","enforcement_post":false}`)})
		ret := w.spawned(other.PersonID, workflow.PathRetention, "clerk")
		w.refused(t, "recovered before the 转岗", func() error {
			_, err := w.Fire("clerk", ret, workflow.EvRecover, "", fmt.Sprintf(`{"certificate_id":%d,"returned_on":"2026-03-09"}`, other.CertificateID))
			return err
		}, isInputOn("returned_on"))
		can := w.returnedOnDeparture(app, "", "clerk") // returned today, 2026-03-10
		for _, sent := range []string{"2026-03-09", "2099-01-01"} {
			w.refused(t, "sent on "+sent, func() error {
				_, err := w.Fire("clerk", can, workflow.EvSendForCancellation, "", `{"sent_on":"`+sent+`"}`)
				return err
			}, isInputOn("sent_on"))
		}
		w.MustFire("clerk", can, workflow.EvSendForCancellation, "", `{"sent_on":"2026-03-10"}`)
	})
	t.Run("Art. 18 with a justice-issued and a Ministry certificate", func(t *testing.T) {
		w.T = t
		app := w.receivedCertificate(casts[1]) // Ministry, for a fresh 周杰
		person := app.PersonID
		// The same person also gets a justice-issued certificate.
		j := w.openAs("region-clerk", workflow.OpenCaseInput{Path: workflow.PathApplication, PersonID: person, Data: json.RawMessage(categories)})
		for _, ev := range routes[workflow.AppReceived] {
			s := castRegion.stepFor(ev, w.seq.Add(1))
			j = w.MustFire(s.user, j, s.event, s.comment, s.data)
		}
		certs := w.outstanding(person)
		if len(certs) != 2 {
			t.Fatalf("outstanding %+v", certs)
		}
		dep := w.openAs("region-hr", workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: person, Data: json.RawMessage(`{"reason":"调离","effective_on":"2026-03-10"}`)})
		tasks := dep.Tasks
		if len(tasks) != 2 {
			t.Fatalf("return tasks %+v", tasks)
		}
		for _, tk := range tasks {
			c := w.certificate(tk.CertificateID)
			if tk.Role != workflow.ReturnOffice(&c) || tk.DueOn != workflow.MustDate("2026-03-17") {
				t.Fatalf("task %+v for %s", tk, c.Kind)
			}
		}
		var ministry, justice workflow.Certificate
		for _, c := range certs {
			if c.Kind == workflow.KindMinistry {
				ministry = c
			} else {
				justice = c
			}
		}
		// complete asks HR to complete: refused, naming exactly the
		// certificates out, each with where it must go; HR's blocker list
		// says the same, with the open return task of each.
		complete := func(out ...workflow.Certificate) {
			t.Helper()
			before := w.Counts()
			_, err := w.Fire("region-hr", dep, workflow.EvComplete, "", "")
			var ge *workflow.GuardError
			if !errors.As(err, &ge) || len(ge.Violations) != len(out) {
				t.Fatalf("complete: %v, want %d certificates named", err, len(out))
			}
			named := map[string]bool{}
			for _, v := range ge.Violations {
				i := slices.IndexFunc(out, func(c workflow.Certificate) bool { return strings.Contains(v.Condition, "No. "+c.Number+" ") })
				if v.Article != "Art. 18" || i < 0 || named[out[i].Number] {
					t.Fatalf("violation %+v, want one for each of %v", v, out)
				}
				named[out[i].Number] = true
				where := "证件管理部门法制机构"
				if out[i].Kind == workflow.KindMinistry {
					where = "自治区应急管理厅组织人事机构"
				}
				if !strings.Contains(v.Condition, "return to "+where) {
					t.Fatalf("violation %+v does not say it goes to %s", v, where)
				}
			}
			if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
				t.Fatal("refused completion wrote rows")
			}
			bs, err := w.Engine.DepartureBlockers(w.Ctx, w.Actor("region-hr"), person)
			if err != nil || len(bs) != 1 || bs[0].CaseID != dep.ID || len(bs[0].Certificates) != len(out) {
				t.Fatalf("blockers %+v %v, want %d certificates", bs, err, len(out))
			}
			for _, b := range bs[0].Certificates {
				i := slices.IndexFunc(out, func(c workflow.Certificate) bool { return c.ID == b.CertificateID })
				if i < 0 || b.ReturnTo != workflow.ReturnOffice(&out[i]) || b.TaskID == 0 || b.TaskDueOn != workflow.MustDate("2026-03-17") {
					t.Fatalf("blocking certificate %+v, want one of %v", b, out)
				}
			}
		}
		complete(justice, ministry)
		// The 自治区 legal office cannot take the Ministry certificate back; 自治区 HR can.
		if _, err := w.Fire("region-clerk", dep, workflow.EvRecordReturn, "", fmt.Sprintf(`{"certificate_id":%d}`, ministry.ID)); !errors.Is(err, workflow.ErrForbidden) {
			t.Fatalf("legal office takes back the Ministry certificate: %v", err)
		}
		dep = w.MustFire("region-clerk", dep, workflow.EvRecordReturn, "", fmt.Sprintf(`{"certificate_id":%d}`, justice.ID))
		complete(ministry)
		dep = w.MustFire("region-hr", dep, workflow.EvRecordReturn, "", fmt.Sprintf(`{"certificate_id":%d}`, ministry.ID))
		dep = w.MustFire("region-hr", dep, workflow.EvComplete, "", "")
		if dep.State != workflow.DepCompleted || len(openTasks(dep)) != 0 {
			t.Fatalf("departure %s, tasks %v", dep.State, openTasks(dep))
		}
		p, _ := w.Engine.Person(w.Ctx, w.Actor("admin"), person)
		if p.Employment != workflow.EmploymentDeparted {
			t.Fatalf("employment %s", p.Employment)
		}
		if len(w.casesOf(person, workflow.PathCancellation)) != 1 || len(w.casesOf(person, workflow.PathMinistryCancellation)) != 1 {
			t.Fatal("returned certificates have no cancellation case")
		}
		for _, c := range certs {
			if got := w.certificate(c.ID); got.State != workflow.CertReturned || got.ValidOn(Today) {
				t.Fatalf("certificate after return: %+v", got)
			}
		}
		// A person who left cannot be applied for: no case opens.
		w.refused(t, "application for a departed person", func() error {
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("region-clerk"), workflow.OpenCaseInput{Path: workflow.PathApplication, PersonID: person, Data: json.RawMessage(categories)})
			return err
		}, func(err error) bool { return isGuard(err, "Art. 9(1)(1)") })
	})
	t.Run("completion racing a return never leaves a certificate out", func(t *testing.T) {
		w.T = t
		for round := range 5 {
			dep := departureScript.open(w)
			cert := w.outstanding(dep.PersonID)[0]
			var wg sync.WaitGroup
			var errComplete, errReturn error
			hr, clerk := w.Actor("hr"), w.Actor("clerk")
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, errComplete = w.Engine.Fire(context.Background(), workflow.Command{Actor: hr, CaseID: dep.ID, Event: workflow.EvComplete, ExpectedVersion: dep.Version})
			}()
			go func() {
				defer wg.Done()
				_, errReturn = w.Engine.Fire(context.Background(), workflow.Command{Actor: clerk, CaseID: dep.ID, Event: workflow.EvRecordReturn, ExpectedVersion: dep.Version,
					Input: json.RawMessage(fmt.Sprintf(`{"certificate_id":%d}`, cert.ID))})
			}()
			wg.Wait()
			after := w.view("hr", dep.ID)
			if after.State == workflow.DepCompleted && len(w.outstanding(dep.PersonID)) > 0 {
				t.Fatalf("round %d: completed with a certificate out (complete %v, return %v)", round, errComplete, errReturn)
			}
			if errComplete == nil && errReturn == nil {
				t.Fatalf("round %d: both succeeded on one version", round)
			}
		}
	})
	// The races below are not decided by one case's version: justice's
	// decision on an application submitted before (or while) the departure
	// opens is recorded on the application case. The person's version,
	// which every command changing their employment or certificates bumps,
	// serialises them; without it PostgreSQL commits both sides.
	race := func(a, b func() error) (errA, errB error) {
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Add(2)
		go func() { defer wg.Done(); <-start; errA = a() }()
		go func() { defer wg.Done(); <-start; errB = b() }()
		close(start)
		wg.Wait()
		return errA, errB
	}
	issue := func(app workflow.CaseView) func() error {
		clerk := w.Actor("clerk")
		return func() error {
			_, err := w.Engine.Fire(context.Background(), workflow.Command{Actor: clerk, CaseID: app.ID, Event: workflow.EvIssue, ExpectedVersion: app.Version,
				Input: json.RawMessage(fmt.Sprintf(`{"number":"RACE-%d","valid_until":"2031-03-08"}`, w.seq.Add(1)))})
			return err
		}
	}
	lost := func(err error) bool { return errors.Is(err, workflow.ErrConflict) || isGuard(err, "Art. 18") }
	t.Run("completion racing an issue never leaves a departed person with a certificate out", func(t *testing.T) {
		w.T = t
		for round := range 8 {
			app := w.reach(casts[0], workflow.AppSubmitted)
			dep := w.openAs("hr", workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: app.PersonID, Data: json.RawMessage(`{"reason":"退休"}`)})
			wantOpen(t, dep) // nothing out yet
			hr := w.Actor("hr")
			errComplete, errIssue := race(func() error {
				_, err := w.Engine.Fire(context.Background(), workflow.Command{Actor: hr, CaseID: dep.ID, Event: workflow.EvComplete, ExpectedVersion: dep.Version})
				return err
			}, issue(app))
			completed := w.view("hr", dep.ID).State == workflow.DepCompleted
			if out := w.outstanding(app.PersonID); completed && len(out) > 0 {
				t.Fatalf("round %d: departure completed with %d certificate(s) out (complete %v, issue %v)", round, len(out), errComplete, errIssue)
			}
			if (errComplete == nil) == (errIssue == nil) || errComplete != nil && !lost(errComplete) || errIssue != nil && !lost(errIssue) {
				t.Fatalf("round %d: want one to succeed, the other refused: complete %v, issue %v", round, errComplete, errIssue)
			}
		}
	})
	t.Run("an issue racing the opening of a departure never leaves a certificate without its return task", func(t *testing.T) {
		w.T = t
		for round := range 8 {
			app := w.reach(casts[0], workflow.AppSubmitted)
			hr := w.Actor("hr")
			errOpen, errIssue := race(func() error {
				_, err := w.Engine.OpenCase(context.Background(), hr, workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: app.PersonID, Data: json.RawMessage(`{"reason":"辞职"}`)})
				return err
			}, issue(app))
			if errOpen != nil && !errors.Is(errOpen, workflow.ErrConflict) || errIssue != nil && !lost(errIssue) || errOpen != nil && errIssue != nil {
				t.Fatalf("round %d: open %v, issue %v", round, errOpen, errIssue)
			}
			deps := w.casesOf(app.PersonID, workflow.PathDeparture)
			if (len(deps) == 1) != (errOpen == nil) {
				t.Fatalf("round %d: %d departures, open %v", round, len(deps), errOpen)
			}
			if len(deps) == 0 {
				continue
			}
			// Every certificate out has the departure's return task.
			tasks := map[int64]bool{}
			for _, tk := range w.view("hr", deps[0].ID).Tasks {
				if tk.Kind == workflow.TaskReturnCertificate && tk.Status == workflow.TaskOpen {
					tasks[tk.CertificateID] = true
				}
			}
			out := w.outstanding(app.PersonID)
			for _, c := range out {
				if !tasks[c.ID] {
					t.Fatalf("round %d: certificate %s is out with no return task (open %v, issue %v)", round, c.Number, errOpen, errIssue)
				}
			}
			if len(tasks) != len(out) {
				t.Fatalf("round %d: %d return tasks for %d certificates out", round, len(tasks), len(out))
			}
		}
	})
	t.Run("a certificate that leaves by another path: completion leaves no return task open", func(t *testing.T) {
		w.T = t
		for _, tc := range []struct {
			name  string
			leave func(cert int64) // takes the certificate out of the holder's hands after the departure opened
			lost  bool             // reported lost before the departure opened
		}{
			{"surrendered to justice (Art. 17)", func(cert int64) {
				v := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: cert, Data: json.RawMessage(`{"ground":2,"facts":"利用证件谋利"}`)})
				w.MustFire("leader", v, workflow.EvSurrender, "", "")
			}, false},
			{"voided by the loss notice (Art. 19)", func(cert int64) {
				v := w.view("clerk", w.casesOf(w.certificate(cert).PersonID, workflow.PathLoss)[0].ID)
				w.MustFire("clerk", v, workflow.EvPublishNotice, "", `{"medium":"新疆日报","published_on":"2026-03-10"}`)
			}, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				w.T = t
				app := w.receivedCertificate(casts[0])
				if tc.lost {
					w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathLoss, CertificateID: app.CertificateID, Data: json.RawMessage(lossReport)})
				}
				dep := w.openAs("hr", workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: app.PersonID, Data: json.RawMessage(`{"reason":"调离"}`)})
				wantOpen(t, dep, workflow.TaskReturnCertificate)
				tc.leave(app.CertificateID)
				if out := w.outstanding(app.PersonID); len(out) != 0 {
					t.Fatalf("still out: %+v", out)
				}
				dep = w.MustFire("hr", w.view("hr", dep.ID), workflow.EvComplete, "", "")
				if dep.State != workflow.DepCompleted {
					t.Fatal(dep.State)
				}
				wantOpen(t, dep)
			})
		}
	})
	t.Run("派出机关 staff who stop the work: the county legal office recovers", func(t *testing.T) {
		w.T = t
		app := w.Open("clerk", workflow.PathApplication, w.ClonePerson("zhaolei", nil), categories)
		for _, ev := range routes[workflow.AppReceived] {
			s := casts[0].stepFor(ev, w.seq.Add(1))
			app = w.MustFire(s.user, app, s.event, s.comment, s.data)
		}
		in := workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: app.PersonID, Data: json.RawMessage(`{"reason":"不再承担应急管理职责"}`)}
		if _, err := w.Engine.OpenCase(w.Ctx, w.Actor("hr"), in); !errors.Is(err, workflow.ErrForbidden) {
			t.Fatalf("HR opening the township recovery: %v", err)
		}
		dep := w.openAs("clerk", in)
		dep = w.MustFire("clerk", dep, workflow.EvRecordReturn, "", fmt.Sprintf(`{"certificate_id":%d}`, app.CertificateID))
		dep = w.MustFire("clerk", dep, workflow.EvComplete, "", "")
		if dep.State != workflow.DepCompleted {
			t.Fatal(dep.State)
		}
	})
}

// castRegion applies at 自治区 for a justice-issued certificate.
var castRegion = pathCast{workflow.PathApplication, "zhoujie", "region-clerk", "region-leader", "region-clerk", "region-hr", "region-clerk"}
