package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"certflow/internal/auth"
	"certflow/workflow"
)

func addUser(w *World, name string, role workflow.Role, unit int64) (int64, error) {
	id, _, err := auth.AddUser(w.Ctx, w.Store, name, 0, []workflow.RoleBinding{{Role: role, OrgUnitID: unit}}, "tok-"+name, nil)
	if err == nil {
		w.Data.Users[name] = struct {
			ID    int64
			Token string
			Roles string
		}{id, "tok-" + name, string(role)}
	}
	return id, err
}

func openTasks(v workflow.CaseView) map[workflow.TaskKind]workflow.Task {
	out := map[workflow.TaskKind]workflow.Task{}
	for _, t := range v.Tasks {
		if t.Status == workflow.TaskOpen {
			out[t.Kind] = t
		}
	}
	return out
}

func wantOpen(t testing.TB, v workflow.CaseView, kinds ...workflow.TaskKind) {
	t.Helper()
	got := openTasks(v)
	if len(got) != len(kinds) {
		t.Fatalf("state %s: open tasks %v, want %v", v.State, got, kinds)
	}
	for _, k := range kinds {
		if _, ok := got[k]; !ok {
			t.Fatalf("state %s: open tasks %v, want %v", v.State, got, kinds)
		}
	}
}

// testHappyPath walks one application through every step and checks tasks,
// categories, the certificate, the Art. 14 deadlines and document jobs.
func testHappyPath(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	zw := w.Data.People["zhangwei"]
	v := w.Open("clerk", workflow.PathApplication, zw, `{"proposed_categories":["安全生产监督管理","消防监督管理","应急管理"],"region":"天山区"}`)
	if v.State != workflow.AppDraft || v.Version != 1 || v.Number == "" {
		t.Fatalf("opened %+v", v.Case)
	}
	var d workflow.ApplicationData
	_ = json.Unmarshal(v.Data, &d)
	if d.Kind != workflow.KindEnforcement {
		t.Fatalf("Art. 5 kind = %s, want enforcement", d.Kind)
	}
	v = w.MustFire("clerk", v, workflow.EvSubmitForApproval, "", "")
	wantOpen(t, v, workflow.TaskApprove)
	if len(v.Documents) != 2 {
		t.Fatalf("documents after submission: %+v", v.Documents)
	}
	inbox, err := w.inboxItems(w.Actor("leader"), 50)
	if err != nil || len(inbox) != 1 || inbox[0].CaseID != v.ID || inbox[0].Kind != workflow.TaskApprove {
		t.Fatalf("leader's inbox: %+v, %v", inbox, err)
	}
	if got := allowedNames(v, w, "leader"); fmt.Sprint(got) != "[approve reject send_back]" {
		t.Fatalf("leader may fire %v", got)
	}
	v = w.MustFire("leader", v, workflow.EvSendBack, "请补充执法区域", "")
	wantOpen(t, v, workflow.TaskRevise)
	v = w.MustFire("clerk", v, workflow.EvSubmitForApproval, "", `{"region":"天山区行政区域"}`)
	v = w.MustFire("leader", v, workflow.EvApprove, "同意", `{"agreed_categories":["安全生产监督管理","应急管理"]}`)
	wantOpen(t, v, workflow.TaskSubmitToIssuer)
	v = w.MustFire("clerk", v, workflow.EvSubmitToIssuer, "", `{"submitted_on":"2026-01-20"}`)
	wantOpen(t, v, workflow.TaskRecordDecision)
	if _, err := w.Fire("justice", v, workflow.EvIssue, "", `{"number":"新0102-001","issued_on":"2026-01-19","valid_until":"2031-03-09"}`); !isInputOn("issued_on")(err) {
		t.Fatalf("issued before it was submitted: %v", err)
	}
	for _, until := range []string{"2026-01-20", "2026-03-09"} { // not after issue; over before it is recorded
		if _, err := w.Fire("justice", v, workflow.EvIssue, "", `{"number":"新0102-001","issued_on":"2026-01-20","valid_until":"`+until+`"}`); !isInputOn("valid_until")(err) {
			t.Fatalf("valid until %s: %v", until, err)
		}
	}
	if _, err := w.Fire("justice", v, workflow.EvIssue, "", `{"number":"新0102-001","valid_until":"2031-03-09","categories":["消防监督管理"]}`); !isGuard(err, "Art. 6") {
		t.Fatalf("confirming a category not agreed: %v", err)
	}
	v = w.MustFire("justice", v, workflow.EvIssue, "", `{"number":"新0102-001","issued_on":"2026-01-31","valid_until":"2031-01-30","categories":["安全生产监督管理"]}`)
	wantOpen(t, v, workflow.TaskRecordReceipt)
	certs, err := w.Engine.Certificates(w.Ctx, w.Actor("clerk"), workflow.CertificateFilter{PersonID: zw})
	if err != nil || len(certs) != 1 {
		t.Fatalf("certificates: %+v %v", certs, err)
	}
	c := certs[0]
	if c.State != workflow.CertIssued || c.Number != "新0102-001" || fmt.Sprint(c.Categories) != "[安全生产监督管理]" || c.Kind != workflow.KindEnforcement || c.CaseID != v.ID {
		t.Fatalf("issued certificate %+v", c)
	}
	v = w.MustFire("clerk", v, workflow.EvRecordReceipt, "", `{"received_on":"2026-01-31"}`)
	wantOpen(t, v)
	platform := w.casesOf(zw, workflow.PathPlatformEntry)
	if len(platform) != 1 {
		t.Fatalf("receipt opened %d platform-entry cases", len(platform))
	}
	pv := w.view("clerk", platform[0].ID)
	wantOpen(t, pv, workflow.TaskPlatformEmergency, workflow.TaskPlatformRandom)
	for _, tk := range openTasks(pv) {
		if tk.DueOn != workflow.MustDate("2026-02-28") || tk.Role != workflow.RoleLegalClerk {
			t.Fatalf("Art. 14 task %+v: want due 2026-02-28 (one calendar month from Jan 31)", tk)
		}
	}
	certs, _ = w.Engine.Certificates(w.Ctx, w.Actor("officer"), workflow.CertificateFilter{})
	if len(certs) != 1 || certs[0].State != workflow.CertReceived || certs[0].ReceivedOn != workflow.MustDate("2026-01-31") {
		t.Fatalf("officer's certificates %+v", certs)
	}
	if !certs[0].ValidOn(Today) || certs[0].ValidOn(workflow.MustDate("2031-01-31")) {
		t.Fatalf("validity of %+v", certs[0])
	}
	// 登记表 and 审批表 twice (first submission, resubmission after 退回),
	// the approved 审批表, 签收单 once; and the platform-entry case's
	// 信息登记表: one River job each.
	if len(v.Documents) != 6 || w.Counts()["river_job"] != 7 {
		t.Fatalf("documents %+v, river jobs %d", v.Documents, w.Counts()["river_job"])
	}
	if len(v.History) != 8 || len(v.Allowed) != 0 { // open … receipt; the refused issue left no trace
		t.Fatalf("history %d events, allowed %v", len(v.History), v.Allowed)
	}
	// Numbers are unique per issuer.
	other := w.reach(casts[0], workflow.AppSubmitted)
	_, err = w.Fire("justice", other, workflow.EvIssue, "", `{"number":"新0102-001","valid_until":"2031-01-30"}`)
	var in *workflow.InputError
	if !errors.As(err, &in) || in.Field != "number" {
		t.Fatalf("duplicate number: %v", err)
	}
}

func allowedNames(v workflow.CaseView, w *World, user string) []workflow.EventName {
	view, err := w.Engine.CaseView(w.Ctx, w.Actor(user), v.ID)
	if err != nil {
		w.T.Fatal(err)
	}
	var out []workflow.EventName
	for _, a := range view.Allowed {
		out = append(out, a.Name)
	}
	return out
}

func isGuard(err error, article string) bool {
	var ge *workflow.GuardError
	return errors.As(err, &ge) && hasArticle(ge.Violations, article, "")
}

// testConcurrentApproval: two principal leaders approve the same case at
// once; exactly one wins, the other gets a conflict, history holds one
// approval.
func testConcurrentApproval(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	for round := range 5 {
		v := w.reach(casts[0], workflow.AppPendingApproval)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, user := range []string{"leader", "deputy"} {
			actor := w.Actor(user)
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = w.Engine.Fire(context.Background(), workflow.Command{Actor: actor, CaseID: v.ID, Event: workflow.EvApprove, ExpectedVersion: v.Version, Comment: "同意"})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, workflow.ErrConflict):
				t.Fatalf("round %d: want conflict, got %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d approvals succeeded: %v", round, ok, errs)
		}
		after, _ := w.Engine.CaseView(w.Ctx, w.Actor("clerk"), v.ID)
		n := 0
		for _, e := range after.History {
			if e.Event == workflow.EvApprove {
				n++
			}
		}
		if n != 1 || after.State != workflow.AppApproved {
			t.Fatalf("round %d: %d approve events, state %s", round, n, after.State)
		}
	}
}

// testRefusedWritesNothing: every kind of refusal leaves every table as it was.
func testRefusedWritesNothing(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	pending := w.reach(casts[0], workflow.AppPendingApproval)
	prepared := w.Open("clerk-leader", workflow.PathApplication, w.ClonePerson("zhangwei", nil), categories)
	prepared = w.MustFire("clerk-leader", prepared, workflow.EvSubmitForApproval, "", "")
	// Opened by one clerk, submitted by another who is also a leader: the
	// submitter prepared it as much as the opener did.
	submitted := w.Open("clerk", workflow.PathApplication, w.ClonePerson("zhangwei", nil), categories)
	submitted = w.MustFire("clerk-leader", submitted, workflow.EvSubmitForApproval, "", "")
	if v := w.view("clerk-leader", submitted.ID); slices.ContainsFunc(v.Allowed, func(a workflow.AllowedEvent) bool { return a.Name == workflow.EvApprove }) {
		t.Errorf("the submitter is offered to approve: %+v", v.Allowed)
	}
	untrained := w.Open("clerk", workflow.PathApplication, w.ClonePerson("liuyang", nil), categories)
	own := w.Open("clerk", workflow.PathApplication, w.Data.People["lina"], categories)
	issued := w.receivedCertificate(casts[0])
	tests := []struct {
		name string
		do   func() error
		want func(error) bool
	}{
		{"guard refusal", func() error { _, err := w.Fire("clerk", untrained, workflow.EvSubmitForApproval, "", ""); return err }, func(err error) bool { return isGuard(err, "Art. 9(1)(3)") }},
		{"bad body", func() error {
			_, err := w.Fire("leader", pending, workflow.EvApprove, "", `{"agreed":"x"}`)
			return err
		}, isInput},
		{"bad category", func() error {
			_, err := w.Fire("leader", pending, workflow.EvApprove, "", `{"agreed_categories":["治安管理"]}`)
			return err
		}, isInput},
		{"unknown event", func() error { _, err := w.Fire("leader", pending, "approve_all", "", ""); return err }, isInput},
		{"event not allowed in state", func() error { _, err := w.Fire("justice", pending, workflow.EvIssue, "", ""); return err }, func(err error) bool {
			return errors.Is(err, workflow.ErrForbidden) || errors.Is(err, workflow.ErrNotFound)
		}},
		{"forbidden actor (clerk approves)", func() error { _, err := w.Fire("clerk", pending, workflow.EvApprove, "", ""); return err }, isForbidden},
		{"preparer approves own", func() error { _, err := w.Fire("clerk-leader", prepared, workflow.EvApprove, "", ""); return err }, isForbidden},
		{"submitter approves what another clerk opened", func() error {
			_, err := w.Fire("clerk-leader", submitted, workflow.EvApprove, "", "")
			return err
		}, isForbidden},
		{"officer fires on own case", func() error { _, err := w.Fire("lina", own, workflow.EvSubmitForApproval, "", ""); return err }, isForbidden},
		{"other region", func() error { _, err := w.Fire("tacheng-clerk", pending, workflow.EvWithdraw, "x", ""); return err }, func(err error) bool { return errors.Is(err, workflow.ErrNotFound) }},
		{"stale version", func() error {
			_, err := w.Engine.Fire(w.Ctx, workflow.Command{Actor: w.Actor("leader"), CaseID: pending.ID, Event: workflow.EvApprove, ExpectedVersion: pending.Version - 1})
			return err
		}, func(err error) bool { return errors.Is(err, workflow.ErrConflict) }},
		{"comment missing", func() error { _, err := w.Fire("leader", pending, workflow.EvReject, " ", ""); return err }, isInput},
		{"invalid ID number", func() error {
			_, err := w.Engine.CreatePerson(w.Ctx, w.Actor("clerk"), workflow.Person{Name: "错号", IDNumber: "650102198503120010", Education: workflow.EduBachelor, OrgUnitID: w.Data.Units["tianshan.business"]})
			return err
		}, isInput},
		{"open case for a person out of scope", func() error {
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathApplication, PersonID: w.Data.People["aili"]})
			return err
		}, func(err error) bool { return errors.Is(err, workflow.ErrNotFound) }},
		{"open Ministry case as county clerk", func() error {
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathMinistryApplication, PersonID: w.Data.People["zhangwei"]})
			return err
		}, isForbidden},
		// A certificate is taken back only by a departure, a surrender or
		// a retention decision, never by opening its cancellation.
		{"open a cancellation by hand", func() error {
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathCancellation, CertificateID: issued.CertificateID,
				Data: json.RawMessage(`{"reason":"随便"}`)})
			return err
		}, isInputOn("path")},
		{"open a case about a certificate of another region", func() error {
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("tacheng-clerk"), workflow.OpenCaseInput{Path: workflow.PathLoss, CertificateID: issued.CertificateID,
				Data: json.RawMessage(lossReport)})
			// Told as an unknown certificate is, not who holds it.
			_, unknown := w.Engine.OpenCase(w.Ctx, w.Actor("tacheng-clerk"), workflow.OpenCaseInput{Path: workflow.PathLoss, CertificateID: 1 << 40,
				Data: json.RawMessage(lossReport)})
			if err == nil || unknown == nil || err.Error() != strings.Replace(unknown.Error(), fmt.Sprint(1<<40), fmt.Sprint(issued.CertificateID), 1) {
				return fmt.Errorf("out of reach %q, unknown %q", err, unknown)
			}
			return err
		}, isNotFound},
		{"open a receipt's platform entry by hand", func() error {
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathPlatformEntry, PersonID: issued.PersonID,
				Data: json.RawMessage(`{"reason":"receipt","received_on":"2026-03-01"}`)})
			return err
		}, isInputOn("reason")},
		{"HR's notice addressed to a county", func() error {
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("region-hr"), workflow.OpenCaseInput{Path: workflow.PathHRNotice, OrgUnitID: w.Data.Units["tianshan"],
				Data: json.RawMessage(`{"subject":"网络学院学习成绩","content":"周杰 95分"}`)})
			return err
		}, isInputOn("org_unit_id")},
		{"open a retention decision by hand", func() error {
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathRetention, PersonID: issued.PersonID, Data: json.RawMessage(`{}`)})
			return err
		}, isInputOn("path")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := w.Counts()
			err := tc.do()
			if !tc.want(err) {
				t.Fatalf("unexpected error: %v", err)
			}
			if after := w.Counts(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("rows changed: %v → %v", before, after)
			}
		})
	}
}

func isInput(err error) bool     { var in *workflow.InputError; return errors.As(err, &in) }
func isForbidden(err error) bool { return errors.Is(err, workflow.ErrForbidden) }

// testIdempotency: a retried command returns the first result and writes
// nothing; the same key for another request is refused; concurrent retries
// write once.
func testIdempotency(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	v := w.reach(casts[0], workflow.AppPendingApproval)
	cmd := workflow.Command{Actor: w.Actor("leader"), CaseID: v.ID, Event: workflow.EvApprove, ExpectedVersion: v.Version, Comment: "同意", IdempotencyKey: "k-1"}
	first, err := w.Engine.Fire(w.Ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	before := w.Counts()
	again, err := w.Engine.Fire(w.Ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if first.Replayed || !again.Replayed {
		t.Fatalf("replayed: first %v, again %v", first.Replayed, again.Replayed)
	}
	again.Replayed = false
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(again)
	if string(a) != string(b) {
		t.Fatalf("retry answered differently:\n%s\n%s", a, b)
	}
	if after := w.Counts(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("retry wrote rows: %v → %v", before, after)
	}
	cmd.Comment = "另一个意见"
	if _, err := w.Engine.Fire(w.Ctx, cmd); !isInput(err) {
		t.Fatalf("key reused for another request: %v", err)
	}
	// Concurrent retries of one request.
	v2 := w.reach(casts[0], workflow.AppPendingApproval)
	var wg sync.WaitGroup
	results := make([]workflow.Result, 4)
	errs := make([]error, 4)
	for i := range 4 {
		c := workflow.Command{Actor: w.Actor("leader"), CaseID: v2.ID, Event: workflow.EvApprove, ExpectedVersion: v2.Version, Comment: "同意", IdempotencyKey: "k-2"}
		wg.Add(1)
		go func() { defer wg.Done(); results[i], errs[i] = w.Engine.Fire(context.Background(), c) }()
	}
	wg.Wait()
	// Every retry gets the one answer, whichever committed and whenever
	// the others read: none is told of a conflict with itself.
	for i, err := range errs {
		if err != nil {
			t.Fatalf("retry %d: %v", i, err)
		}
		if results[i].Event.ID != results[0].Event.ID {
			t.Fatalf("retry %d answered event %d, retry 0 event %d", i, results[i].Event.ID, results[0].Event.ID)
		}
	}
	after, _ := w.Engine.CaseView(w.Ctx, w.Actor("clerk"), v2.ID)
	if after.Version != v2.Version+1 {
		t.Fatalf("concurrent retries: version %d, want %d", after.Version, v2.Version+1)
	}
	// Opening a case is idempotent too.
	in := workflow.OpenCaseInput{Path: workflow.PathApplication, PersonID: w.ClonePerson("zhangwei", nil), Data: json.RawMessage(categories), IdempotencyKey: "open-1"}
	o1, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), in)
	if err != nil {
		t.Fatal(err)
	}
	o2, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), in)
	if err != nil || o1.ID != o2.ID {
		t.Fatalf("open retried: %d vs %d, %v", o1.ID, o2.ID, err)
	}
}

// testAccess: who sees and who may act.
func testAccess(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	draft := w.reach(casts[0], workflow.AppDraft)
	submitted := w.reach(casts[0], workflow.AppSubmitted)
	tests := []struct {
		user    string
		c       workflow.CaseView
		visible bool
		allowed string
	}{
		{"clerk", draft, true, "[submit_for_approval withdraw]"},
		{"leader", draft, true, "[]"},
		{"city-clerk", draft, true, "[]"},   // supervises the subtree, acts only at home
		{"supervisor", draft, true, "[]"},   // reads for supervision
		{"tacheng-clerk", draft, false, ""}, // another region
		{"justice", draft, false, ""},       // not yet submitted to justice
		{"justice", submitted, true, "[issue refuse]"},
		{"clerk", submitted, true, "[issue refuse]"}, // the clerk may record justice's decision
		{"region-leader", draft, true, "[]"},
	}
	for _, tc := range tests {
		t.Run(tc.user+"/"+string(tc.c.State), func(t *testing.T) {
			v, err := w.Engine.CaseView(w.Ctx, w.Actor(tc.user), tc.c.ID)
			if !tc.visible {
				if !errors.Is(err, workflow.ErrNotFound) {
					t.Fatalf("want not found, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []workflow.EventName
			for _, a := range v.Allowed {
				names = append(names, a.Name)
			}
			if got := fmt.Sprint(names); got != tc.allowed {
				t.Fatalf("allowed %s, want %s", got, tc.allowed)
			}
		})
	}
	t.Run("officer sees own certificate only", func(t *testing.T) {
		certs, err := w.Engine.Certificates(w.Ctx, w.Actor("officer"), workflow.CertificateFilter{PersonID: submitted.PersonID})
		if err != nil || len(certs) != 0 {
			t.Fatalf("%v %v", certs, err)
		}
	})
}

// testDirectory: people and trainings, with validation and keyset pagination.
func testDirectory(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	clerk := w.Actor("clerk")
	first17 := "65010219900101002"
	p, err := w.Engine.CreatePerson(w.Ctx, clerk, workflow.Person{Name: "测试员", IDNumber: workflow.IDNumber(first17 + string(workflow.IDCheckChar(first17))),
		Education: workflow.EduCollege, Staffed: true, Post: true, OrgUnitID: w.Data.Units["tianshan.business"]})
	if err != nil {
		t.Fatal(err)
	}
	if p.Sex != workflow.SexFemale || p.BirthDate != workflow.MustDate("1990-01-01") {
		t.Fatalf("derived sex/birth %s %s", p.Sex, p.BirthDate)
	}
	if _, err := w.Engine.CreatePerson(w.Ctx, clerk, workflow.Person{Name: "重复", IDNumber: p.IDNumber, Education: workflow.EduCollege, OrgUnitID: p.OrgUnitID}); !isInput(err) {
		t.Fatalf("duplicate ID number: %v", err)
	}
	if _, err := w.Engine.CreatePerson(w.Ctx, w.Actor("tacheng-clerk"), workflow.Person{Name: "越权", IDNumber: "650102199001010040", Education: workflow.EduCollege, OrgUnitID: p.OrgUnitID}); !isInput(err) {
		t.Fatalf("out-of-scope unit: %v", err)
	}
	p.Title = "科员"
	if p, err = w.Engine.UpdatePerson(w.Ctx, clerk, p); err != nil || p.Version != 2 {
		t.Fatalf("update: %v %d", err, p.Version)
	}
	p.Version = 1
	if _, err := w.Engine.UpdatePerson(w.Ctx, clerk, p); !errors.Is(err, workflow.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	p.Version = 2
	// Employment is the departure path's: no edit sets it, and a new
	// record is active. Nobody is employed under 16, or before birth.
	id18 := func(first17 string) workflow.IDNumber {
		return workflow.IDNumber(first17 + string(workflow.IDCheckChar(first17)))
	}
	for _, tc := range []struct {
		name  string
		do    func() error
		field string
	}{
		{"departed by an edit", func() error {
			q := p
			q.Employment = workflow.EmploymentDeparted
			_, err := w.Engine.UpdatePerson(w.Ctx, w.Actor("hr"), q)
			return err
		}, "employment"},
		{"unknown status", func() error {
			q := p
			q.Employment = "fired"
			_, err := w.Engine.UpdatePerson(w.Ctx, clerk, q)
			return err
		}, "employment"},
		{"created departed", func() error {
			_, err := w.Engine.CreatePerson(w.Ctx, clerk, workflow.Person{Name: "已离岗", IDNumber: id18("65010219900101003"),
				Education: workflow.EduCollege, OrgUnitID: p.OrgUnitID, Employment: workflow.EmploymentDeparted})
			return err
		}, "employment"},
		{"born in the future", func() error {
			_, err := w.Engine.CreatePerson(w.Ctx, clerk, workflow.Person{Name: "未生", IDNumber: id18("65010220300101003"), Education: workflow.EduCollege, OrgUnitID: p.OrgUnitID})
			return err
		}, "id_number"},
		{"younger than 16", func() error {
			born := Today.AddMonths(-16*12 + 1)
			_, err := w.Engine.CreatePerson(w.Ctx, clerk, workflow.Person{Name: "少年", IDNumber: id18(fmt.Sprintf("650102%04d%02d%02d003", born.Year, born.Month, born.Day)), Education: workflow.EduCollege, OrgUnitID: p.OrgUnitID})
			return err
		}, "id_number"},
	} {
		before := w.Counts()
		if err := tc.do(); !isInputOn(tc.field)(err) {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if after := w.Counts(); !reflect.DeepEqual(after, before) {
			t.Fatalf("%s wrote: %v → %v", tc.name, before, after)
		}
	}
	if q, err := w.Engine.Person(w.Ctx, clerk, p.ID); err != nil || q.Version != 2 || q.Employment != workflow.EmploymentActive {
		t.Fatalf("after refused edits: %+v %v", q, err)
	}
	tr, err := w.Engine.SaveTraining(w.Ctx, clerk, workflow.Training{PersonID: p.ID, Kind: workflow.TrainingLaw, Date: workflow.MustDate("2025-11-01"), Passed: true})
	if err != nil || tr.ID == 0 {
		t.Fatal(err)
	}
	if _, err := w.Engine.SaveTraining(w.Ctx, clerk, workflow.Training{PersonID: p.ID, Kind: workflow.TrainingLaw, Date: workflow.MustDate("2027-01-01")}); !isInput(err) {
		t.Fatalf("future training: %v", err)
	}
	// Keyset pagination visits everyone once.
	seen := map[int64]bool{}
	var after int64
	for {
		page, err := w.Engine.People(w.Ctx, clerk, workflow.PersonFilter{After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range page {
			if seen[q.ID] {
				t.Fatalf("person %d twice", q.ID)
			}
			seen[q.ID] = true
			after = q.ID
		}
		if len(page) < 3 {
			break
		}
	}
	// tianshan: 8 demo people + the new one; not 周杰 (自治区) or 艾力 (塔城).
	if len(seen) != 9 || seen[w.Data.People["aili"]] || seen[w.Data.People["zhoujie"]] {
		t.Fatalf("clerk sees %d people", len(seen))
	}
	all, _ := w.Engine.People(w.Ctx, w.Actor("admin"), workflow.PersonFilter{Limit: 500})
	if len(all) != 11 {
		t.Fatalf("admin sees %d people", len(all))
	}
	units, _ := w.Engine.OrgUnits(w.Ctx, w.Actor("supervisor"))
	for _, u := range units {
		if u.ID == w.Data.Units["region"] || u.ID == w.Data.Units["tacheng"] {
			t.Fatalf("supervisor of 乌鲁木齐 sees %s", u.Name)
		}
	}
	// A holder moved to another department is 调离: the departure path's,
	// not an edit (Art. 18). Inside the department, a move is an edit.
	app := w.receivedCertificate(casts[0])
	holder, err := w.Engine.Person(w.Ctx, w.Actor("region-hr"), app.PersonID)
	if err != nil {
		t.Fatal(err)
	}
	moved := holder
	moved.OrgUnitID = w.Data.Units["tacheng.business"]
	w.refused(t, "a holder moved to another region", func() error {
		_, err := w.Engine.UpdatePerson(w.Ctx, w.Actor("region-hr"), moved)
		return err
	}, isInputOn("org_unit_id"))
	moved.OrgUnitID = w.Data.Units["tianshan.institution"]
	if _, err := w.Engine.UpdatePerson(w.Ctx, w.Actor("region-hr"), moved); err != nil {
		t.Fatalf("a move inside the department: %v", err)
	}
	// Taken off the enforcement post by an edit: the change report (Art.
	// 14) is filed, and with it the retention decision (Art. 9(1)(4)).
	// Off a post without a certificate, nothing.
	if len(w.casesOf(holder.ID, workflow.PathRetention)) != 0 {
		t.Fatal("a retention case before the change")
	}
	off, err := w.Engine.Person(w.Ctx, w.Actor("clerk"), holder.ID)
	if err != nil {
		t.Fatal(err)
	}
	off.Post = false
	if _, err := w.Engine.UpdatePerson(w.Ctx, w.Actor("clerk"), off); err != nil {
		t.Fatal(err)
	}
	reports := w.casesOf(holder.ID, workflow.PathPlatformEntry)
	if len(w.casesOf(holder.ID, workflow.PathRetention)) != 1 || len(reports) != 2 { // the receipt's entry and this change
		t.Fatalf("after leaving the post: %d retention cases, %d platform entries", len(w.casesOf(holder.ID, workflow.PathRetention)), len(reports))
	}
	// Back on an enforcement post by a change report: the record follows,
	// and a later edit off the post files a report again.
	w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathPlatformEntry, PersonID: holder.ID,
		Data: json.RawMessage(`{"change":"转岗","changed_on":"2026-03-10","enforcement_post":true,"details":"调回执法岗位"}`)})
	back, err := w.Engine.Person(w.Ctx, w.Actor("clerk"), holder.ID)
	if err != nil || !back.Post {
		t.Fatalf("after the report back onto a post: enforcement_post=%v (%v)", back.Post, err)
	}
	plain := w.ClonePerson("liuyang", nil)
	q, err := w.Engine.Person(w.Ctx, w.Actor("clerk"), plain)
	if err != nil {
		t.Fatal(err)
	}
	q.Post = false
	if _, err := w.Engine.UpdatePerson(w.Ctx, w.Actor("clerk"), q); err != nil || len(w.casesOf(plain, workflow.PathPlatformEntry)) != 0 {
		t.Fatalf("a non-holder off a post: %v, %d reports", err, len(w.casesOf(plain, workflow.PathPlatformEntry)))
	}
}

// testApplyVersionChecks: a transition's writes go to the database
// together (on PostgreSQL in one pipeline), so a failed version check is
// only seen after the statements behind it ran. Whichever check fails,
// the first in order is the error, nothing is written, and the store
// writes the right change at once afterwards.
func testApplyVersionChecks(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	v := w.reach(casts[0], workflow.AppPendingApproval)
	person, err := w.Engine.Person(w.Ctx, w.Actor("clerk"), v.PersonID)
	if err != nil {
		t.Fatal(err)
	}
	change := func(caseVersion, personVersion int64) *workflow.Change {
		c := v.Case
		c.State, c.Version = workflow.AppApproved, caseVersion
		now := time.Now().UTC()
		return &workflow.Change{
			Case:       c,
			Event:      workflow.Event{CaseID: c.ID, Seq: v.Version + 1, Event: workflow.EvApprove, From: v.State, To: workflow.AppApproved, Actor: w.Data.Users["leader"].ID, At: now},
			Person:     &workflow.PersonTouch{ID: person.ID, Version: personVersion, Employment: person.Employment},
			CloseTasks: []workflow.TaskRef{{Kind: workflow.TaskApprove}},
			OpenTasks:  []workflow.Task{{CaseID: c.ID, Kind: workflow.TaskSubmitToIssuer, Role: workflow.RoleLegalClerk, OrgUnitID: c.OrgUnitID, Status: workflow.TaskOpen, CreatedAt: now}},
			Documents:  []workflow.DocumentJob{{Doc: workflow.DocRegistrationForm, CaseID: c.ID, Article: "Art. 13"}},
			Now:        now,
		}
	}
	for _, tc := range []struct {
		name                 string
		caseVersion, personV int64
		seq                  int64 // the event's; 0: the next
		want                 string
	}{
		{"stale case", v.Version - 1, person.Version, 0, fmt.Sprintf("case %d changed", v.ID)},
		{"stale person", v.Version, person.Version - 1, 0, fmt.Sprintf("person %d changed", person.ID)},
		{"both stale: the case is first", v.Version - 1, person.Version + 5, 0, fmt.Sprintf("case %d changed", v.ID)},
		// A statement in the middle fails (the event's number is taken):
		// the statements behind it are not applied either.
		{"event number taken", v.Version, person.Version, v.Version, "events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := w.Counts()
			ch := change(tc.caseVersion, tc.personV)
			if tc.seq != 0 {
				ch.Event.Seq = tc.seq
			}
			err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error { return tx.Apply(w.Ctx, ch) })
			if !errors.Is(err, workflow.ErrConflict) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a conflict: %s", err, tc.want)
			}
			if after := w.Counts(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("rows changed: %v → %v", before, after)
			}
		})
	}
	ch := change(v.Version, person.Version)
	if err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error { return tx.Apply(w.Ctx, ch) }); err != nil {
		t.Fatal(err)
	}
	if ch.Event.ID == 0 || ch.OpenTasks[0].ID == 0 || ch.Documents[0].ID == 0 || ch.Documents[0].EventID != ch.Event.ID {
		t.Fatalf("IDs not returned: event %d, task %d, document %d of event %d", ch.Event.ID, ch.OpenTasks[0].ID, ch.Documents[0].ID, ch.Documents[0].EventID)
	}
	after, err := w.Engine.CaseView(w.Ctx, w.Actor("clerk"), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.State != workflow.AppApproved || after.Version != v.Version+1 || len(after.Documents) != len(v.Documents)+1 {
		t.Fatalf("after: %s v%d, %d documents", after.State, after.Version, len(after.Documents))
	}
	last := after.Documents[len(after.Documents)-1]
	if last.JobID != ch.Documents[0].ID || last.EventID != ch.Event.ID {
		t.Fatalf("document %+v, want job %d of event %d", last, ch.Documents[0].ID, ch.Event.ID)
	}
}

// testFireContext: FireContext reads what the separate lookups read, in
// one call; a missing case is not found.
func testFireContext(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	v := w.reach(casts[0], workflow.AppReceived)
	var fc workflow.FireContext
	var want workflow.FireContext
	err := w.Store.View(w.Ctx, func(tx workflow.Tx) (err error) {
		if fc, err = tx.FireContext(w.Ctx, v.ID); err != nil {
			return err
		}
		if want.CaseContext, err = tx.CaseContext(w.Ctx, v.ID); err != nil {
			return err
		}
		if want.Trainings, err = tx.Trainings(w.Ctx, v.PersonID); err != nil {
			return err
		}
		if want.Certificates, err = tx.CertificatesOf(w.Ctx, v.PersonID); err != nil {
			return err
		}
		want.Tasks, err = tx.CaseTasks(w.Ctx, v.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Trainings) == 0 || len(want.Certificates) == 0 || len(want.Tasks) < 2 {
		t.Fatalf("the case has too little to compare: %d trainings, %d certificates, %d tasks", len(want.Trainings), len(want.Certificates), len(want.Tasks))
	}
	if !reflect.DeepEqual(fc, want) {
		t.Fatalf("FireContext\n%+v\nwant\n%+v", fc, want)
	}
	err = w.Store.View(w.Ctx, func(tx workflow.Tx) error { _, err := tx.FireContext(w.Ctx, v.ID+1000); return err })
	if !errors.Is(err, workflow.ErrNotFound) {
		t.Fatalf("missing case: %v", err)
	}
}

// testTransactionEdges: a read-only transaction cannot write, whether the
// write is its first statement (on PostgreSQL the BEGIN READ ONLY travels
// with it) or comes after reads; a transaction that sends nothing
// commits; and the store is whole afterwards.
func testTransactionEdges(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	v := w.reach(casts[0], workflow.AppPendingApproval)
	rec := func(key string) *workflow.IdempotencyRecord {
		return &workflow.IdempotencyRecord{UserID: w.Data.Users["clerk"].ID, Key: key, Fingerprint: "f", CaseID: v.ID, Result: []byte(`{}`), CreatedAt: time.Now()}
	}
	before := w.Counts()
	err := w.Store.View(w.Ctx, func(tx workflow.Tx) error { return tx.SaveIdempotency(w.Ctx, rec("first")) })
	if err == nil {
		t.Fatal("a read-only transaction wrote as its first statement")
	}
	err = w.Store.View(w.Ctx, func(tx workflow.Tx) error {
		if _, err := tx.Case(w.Ctx, v.ID); err != nil {
			return err
		}
		return tx.SaveIdempotency(w.Ctx, rec("after-read"))
	})
	if err == nil {
		t.Fatal("a read-only transaction wrote after a read")
	}
	if err := w.Store.Update(w.Ctx, func(workflow.Tx) error { return nil }); err != nil {
		t.Fatalf("empty transaction: %v", err)
	}
	// The first statement is inside the transaction (on PostgreSQL it
	// carries the BEGIN): a later failure takes its write back too.
	err = w.Store.Update(w.Ctx, func(tx workflow.Tx) error {
		if err := tx.SaveIdempotency(w.Ctx, rec("twice")); err != nil {
			return err
		}
		return tx.SaveIdempotency(w.Ctx, rec("twice"))
	})
	if !errors.Is(err, workflow.ErrDuplicateIdempotencyKey) {
		t.Fatalf("second write of one key: %v", err)
	}
	if after := w.Counts(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("rows changed: %v → %v", before, after)
	}
	if err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error { return tx.SaveIdempotency(w.Ctx, rec("written")) }); err != nil {
		t.Fatal(err)
	}
	var got workflow.IdempotencyRecord
	if err := w.Store.View(w.Ctx, func(tx workflow.Tx) (err error) {
		got, err = tx.Idempotency(w.Ctx, rec("").UserID, "written")
		return err
	}); err != nil || got.CaseID != v.ID {
		t.Fatalf("written record: %+v, %v", got, err)
	}
	// Transactions failing at their first statement, more of them than
	// the pool has connections, leave every connection fit for the next.
	for i := range 40 {
		err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error { return tx.SaveIdempotency(w.Ctx, rec("written")) })
		if !errors.Is(err, workflow.ErrDuplicateIdempotencyKey) {
			t.Fatalf("duplicate %d: %v", i, err)
		}
	}
	for i := range 40 {
		if err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error { return tx.SaveIdempotency(w.Ctx, rec(fmt.Sprint("after-", i))) }); err != nil {
			t.Fatalf("write %d after the failures: %v", i, err)
		}
	}
}
