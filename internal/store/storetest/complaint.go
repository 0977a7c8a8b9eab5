package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"certflow/workflow"
)

// complaintScript: the clerk records, by letter, a complaint about the
// holder of a fresh received certificate (so a substantiated one can open a
// suspension case) and fires every event.
var complaintScript = script{
	path:   workflow.PathComplaint,
	viewer: "clerk",
	open: func(w *World) workflow.CaseView {
		app := w.receivedCertificate(casts[0])
		return w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathComplaint, CertificateID: app.CertificateID,
			Data: json.RawMessage(`{"channel":"来信","complainant_name":"王某","complainant_contact":"13800000000","facts":"检查时索要好处费"}`)})
	},
	step: func(w *World, v workflow.CaseView, ev workflow.EventName) step {
		switch ev {
		case workflow.EvRecordOutcome:
			return step{ev, "clerk", "", `{"substantiated":true,"outcome":"经调查，反映问题属实，建议暂扣其行政执法证件"}`}
		case workflow.EvProposeSuspension:
			return step{ev, "clerk", "", `{"ground":2,"facts":"检查时索要好处费，经查属实"}`}
		case workflow.EvNotify:
			return step{ev, "clerk", "", `{"method":"电话"}`}
		}
		panic("no complaint step for " + ev)
	},
	routes: map[workflow.State][]workflow.EventName{
		workflow.ComplaintHandling: nil,
		workflow.ComplaintDecided:  {workflow.EvRecordOutcome},
		workflow.ComplaintReferred: {workflow.EvRecordOutcome, workflow.EvProposeSuspension},
		workflow.ComplaintClosed:   {workflow.EvRecordOutcome, workflow.EvNotify},
	},
}

func complaintData(t testing.TB, v workflow.CaseView) workflow.ComplaintData {
	t.Helper()
	var d workflow.ComplaintData
	if err := json.Unmarshal(v.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// publicActor creates the dedicated public-intake user: no roles, no person.
func (w *World) publicActor(name string) *workflow.Actor {
	w.T.Helper()
	var id int64
	err := w.Store.Update(w.Ctx, func(tx workflow.Tx) (err error) {
		id, err = tx.CreateUser(w.Ctx, name, 0, nil)
		return err
	})
	if err != nil {
		w.T.Fatal(err)
	}
	return &workflow.Actor{UserID: id, Name: name}
}

// caseByNumber finds the case numbered n as user (through user's inbox).
func (w *World) caseByNumber(user, n string) workflow.CaseView {
	w.T.Helper()
	inbox, err := w.inboxItems(w.Actor(user), 500)
	if err != nil {
		w.T.Fatal(err)
	}
	for _, it := range inbox {
		if it.CaseNumber == n {
			return w.view(user, it.CaseID)
		}
	}
	w.T.Fatalf("case %s is not in %s's inbox", n, user)
	return workflow.CaseView{}
}

// testComplaint covers the complaint path (Art. 20).
func testComplaint(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	public := w.publicActor("public-intake")

	t.Run("the officer complained about does not read it, nor their office role", func(t *testing.T) {
		w.T = t
		// 张伟 is an officer; 李娜 is also a legal clerk of the office
		// that handles the complaint about her.
		for _, accused := range []struct{ user, person string }{{"officer", "zhangwei"}, {"lina", "lina"}} {
			c := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathComplaint, PersonID: w.Data.People[accused.person],
				Data: json.RawMessage(`{"channel":"来信","complainant_name":"王某","complainant_contact":"13800000000","facts":"检查时索要好处费"}`)})
			if _, err := w.Engine.CaseView(w.Ctx, w.Actor(accused.user), c.ID); !isNotFound(err) {
				t.Fatalf("%s, accused, reads the complaint: %v", accused.user, err)
			}
			cs, err := w.Engine.Cases(w.Ctx, w.Actor(accused.user), workflow.CaseFilter{})
			if err != nil || slices.ContainsFunc(cs, func(o workflow.Case) bool { return o.ID == c.ID }) {
				t.Fatalf("%s's case list %v %v", accused.user, cs, err)
			}
			if len(c.Documents) == 0 {
				t.Fatal("no complaint form")
			}
			err = w.Store.View(w.Ctx, func(tx workflow.Tx) error {
				_, _, err := w.Engine.VisibleDocument(w.Ctx, tx, w.Actor(accused.user), c.Documents[0].JobID)
				return err
			})
			if !isNotFound(err) {
				t.Fatalf("%s, accused, reads the complaint form: %v", accused.user, err)
			}
			// Nor is it copied to them.
			w.refused(t, "copied to the accused", func() error {
				_, err := w.Engine.CopyCase(w.Ctx, w.Actor("clerk"), c.ID, workflow.CopyInput{UserIDs: []int64{w.Data.Users[accused.user].ID}})
				return err
			}, isInputOn("user_ids"))
			if _, err := w.Engine.CaseView(w.Ctx, w.Actor("clerk"), c.ID); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("nor its overdue task, nor the escalation, when they lead the office", func(t *testing.T) {
		w.T = t
		var accused workflow.Actor
		err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error {
			id, err := tx.CreateUser(w.Ctx, "lina-leader", w.Data.People["lina"],
				[]workflow.RoleBinding{{Role: workflow.RolePrincipal, OrgUnitID: w.Data.Units["tianshan"]}})
			if err != nil {
				return err
			}
			accused, err = tx.(workflow.InboxTx).ActorByID(w.Ctx, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		c := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathComplaint, PersonID: w.Data.People["lina"],
			Data: json.RawMessage(`{"channel":"来信","received_on":"2026-01-02","complainant_name":"王某","facts":"检查时索要好处费"}`)})
		if _, err := w.Engine.SweepDeadlines(w.Ctx); err != nil {
			t.Fatal(err)
		}
		sees := func(a *workflow.Actor) (overdue, reminded bool) {
			tasks, _, err := w.Engine.Overdue(w.Ctx, a, 0, 0, 500)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := w.Engine.Reminders(w.Ctx, a, 0, 500)
			if err != nil {
				t.Fatal(err)
			}
			return slices.ContainsFunc(tasks, func(o workflow.OverdueTask) bool { return o.CaseID == c.ID }),
				slices.ContainsFunc(rs, func(r workflow.Reminder) bool { return r.CaseID == c.ID })
		}
		if o, r := sees(w.Actor("leader")); !o || !r {
			t.Fatalf("the leader: overdue %v, reminded %v", o, r)
		}
		if o, r := sees(&accused); o || r {
			t.Fatalf("the accused, as leader: overdue %v, reminded %v", o, r)
		}
	})

	t.Run("public intake naming nobody on record: 自治区 handles it within 60 days", func(t *testing.T) {
		w.T = t
		r, err := w.Engine.FileComplaint(w.Ctx, public, workflow.PublicComplaint{OfficerName: "某执法人员", Facts: "执法时未出示证件"})
		if err != nil {
			t.Fatal(err)
		}
		if r.CaseNumber == "" || len(r.LookupCode) != 14 {
			t.Fatalf("receipt %+v", r)
		}
		v := w.caseByNumber("region-clerk", r.CaseNumber)
		if v.OrgUnitID != w.Data.Units["region"] || v.PersonID != 0 || v.CertificateID != 0 || v.State != workflow.ComplaintHandling {
			t.Fatalf("case %+v", v.Case)
		}
		d := complaintData(t, v)
		if d.Channel != workflow.ChannelOnline || d.Kind != workflow.ComplaintReport || d.ReceivedOn != Today || d.OfficerName != "某执法人员" ||
			d.LookupHash != workflow.ComplaintLookupHash(r.LookupCode) || d.LookupHash == r.LookupCode {
			t.Fatalf("data %+v", d)
		}
		wantOpen(t, v, workflow.TaskHandleComplaint)
		if tk := openTasks(v)[workflow.TaskHandleComplaint]; tk.DueOn != workflow.MustDate("2026-05-09") || tk.Role != workflow.RoleLegalClerk {
			t.Fatalf("handling task %+v: want due 2026-05-09 (60 days from 2026-03-10)", tk)
		}
		if len(v.Documents) != 1 || v.Documents[0].Doc != workflow.DocComplaintForm {
			t.Fatalf("documents %+v", v.Documents)
		}
		if _, err := w.Engine.CaseView(w.Ctx, public, v.ID); !errors.Is(err, workflow.ErrNotFound) {
			t.Fatalf("the public user reads the case: %v", err)
		}
		// Addressed to a department: it runs there.
		r, err = w.Engine.FileComplaint(w.Ctx, public, workflow.PublicComplaint{OfficerName: "某执法人员", Facts: "执法时态度恶劣",
			OrgUnitID: w.Data.Units["tianshan.business"], Kind: workflow.ComplaintAccusation})
		if err != nil {
			t.Fatal(err)
		}
		if v := w.caseByNumber("clerk", r.CaseNumber); v.OrgUnitID != w.Data.Units["tianshan"] || complaintData(t, v).Kind != workflow.ComplaintAccusation {
			t.Fatalf("addressed complaint at unit %d", v.OrgUnitID)
		}
	})

	t.Run("public intake with a certificate number: about its holder, at their department", func(t *testing.T) {
		w.T = t
		app := w.receivedCertificate(casts[0])
		cert := w.certificate(app.CertificateID)
		r, err := w.Engine.FileComplaint(w.Ctx, public, workflow.PublicComplaint{CertificateNumber: " " + cert.Number + " ", Facts: "将证件借给他人使用",
			OrgUnitID: w.Data.Units["tacheng"]}) // the certificate decides, not the complainant's guess
		if err != nil {
			t.Fatal(err)
		}
		v := w.caseByNumber("clerk", r.CaseNumber)
		if v.CertificateID != cert.ID || v.PersonID != cert.PersonID || v.OrgUnitID != w.Data.Units["tianshan"] {
			t.Fatalf("case %+v", v.Case)
		}
		if d := complaintData(t, v); d.CertificateNumber != cert.Number {
			t.Fatalf("data %+v", d)
		}
		// The unit named is checked whether or not the number matched: the
		// answer must not tell which.
		for _, unit := range []int64{-1, 999999} {
			var answers []string
			for _, number := range []string{cert.Number, "NO-SUCH-2"} {
				_, err := w.Engine.FileComplaint(w.Ctx, public, workflow.PublicComplaint{CertificateNumber: number, Facts: "x", OrgUnitID: unit})
				answers = append(answers, fmt.Sprint(err))
			}
			if answers[0] != answers[1] || !strings.Contains(answers[0], "org_unit_id") {
				t.Fatalf("unit %d: with the number on record %q, without %q", unit, answers[0], answers[1])
			}
		}
		// An unknown number: the case is about nobody.
		r, err = w.Engine.FileComplaint(w.Ctx, public, workflow.PublicComplaint{CertificateNumber: "NO-SUCH-1", Facts: "冒充执法人员"})
		if err != nil {
			t.Fatal(err)
		}
		if v := w.caseByNumber("region-clerk", r.CaseNumber); v.CertificateID != 0 || complaintData(t, v).CertificateNumber != "NO-SUCH-1" {
			t.Fatalf("unknown number: %+v", v.Case)
		}
	})

	t.Run("the complainant follows the complaint with the lookup code, and learns no more", func(t *testing.T) {
		w.T = t
		cert := w.certificate(w.receivedCertificate(casts[0]).CertificateID)
		r, err := w.Engine.FileComplaint(w.Ctx, public, workflow.PublicComplaint{CertificateNumber: cert.Number, Facts: "检查时索要好处费"})
		if err != nil {
			t.Fatal(err)
		}
		status := func(code string) workflow.ComplaintStatus {
			t.Helper()
			before := w.Counts()
			st, err := w.Engine.ComplaintStatusOf(w.Ctx, code)
			if err != nil {
				t.Fatalf("status of %q: %v", code, err)
			}
			if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
				t.Fatal("the status lookup wrote rows")
			}
			return st
		}
		due := workflow.MustDate("2026-05-09")
		want := workflow.ComplaintStatus{Kind: workflow.ComplaintReport, ReceivedOn: Today, Status: workflow.PublicHandling,
			StatusLabel: "已受理，正在处理", DueOn: &due}
		if st := status(r.LookupCode); fmt.Sprint(st) != fmt.Sprint(want) {
			t.Fatalf("status %+v, want %+v", st, want)
		}
		// As a person reads it back: any case, no dashes, O for 0, I or L for 1.
		typed := []rune(strings.ToLower(strings.ReplaceAll(r.LookupCode, "-", " ")))
		for i, c := range typed {
			switch c {
			case '0':
				typed[i] = 'o'
			case '1':
				typed[i] = 'l'
			}
		}
		if st := status(string(typed)); st.Status != workflow.PublicHandling {
			t.Fatalf("typed %q: %+v", string(typed), st)
		}
		for _, code := range []string{"", "ABCD-EFGH", "ABCD-EFGH-JKMN-P", "ABCD-EFGH-JKM!", "ABCD-EFGH-JKMU"} {
			if _, err := w.Engine.ComplaintStatusOf(w.Ctx, code); !isInputOn("lookup_code")(err) {
				t.Errorf("code %q: %v, want an input error on lookup_code", code, err)
			}
		}
		wrong := []byte(r.LookupCode)
		wrong[0] = "01"[(wrong[0]-'0'+1)%2]
		if wrong[0] == r.LookupCode[0] {
			t.Fatal("the wrong code is the code")
		}
		if _, err := w.Engine.ComplaintStatusOf(w.Ctx, string(wrong)); !errors.Is(err, workflow.ErrNotFound) {
			t.Fatalf("another code: %v, want not found", err)
		}

		v := w.caseByNumber("clerk", r.CaseNumber)
		v = w.MustFire("clerk", v, workflow.EvRecordOutcome, "", `{"substantiated":true,"outcome":"经查属实"}`)
		decided := Today
		want = workflow.ComplaintStatus{Kind: workflow.ComplaintReport, ReceivedOn: Today, Status: workflow.PublicDecided,
			StatusLabel: "已作出处理结果，待告知", DecidedOn: &decided}
		if st := status(r.LookupCode); fmt.Sprint(st) != fmt.Sprint(want) {
			t.Fatalf("decided: %+v, want %+v", st, want)
		}
		// A suspension proposed is the officer's business: the public
		// still reads "decided".
		v = w.MustFire("clerk", v, workflow.EvProposeSuspension, "", `{"ground":2,"facts":"索要好处费，经查属实"}`)
		if st := status(r.LookupCode); fmt.Sprint(st) != fmt.Sprint(want) {
			t.Fatalf("referred: %+v, want %+v", st, want)
		}
		w.MustFire("clerk", v, workflow.EvNotify, "", `{"method":"无法告知"}`)
		want.Status, want.StatusLabel, want.ToldOn = workflow.PublicClosed, "已告知处理结果，办结", &Today
		if st := status(r.LookupCode); fmt.Sprint(st) != fmt.Sprint(want) {
			t.Fatalf("closed: %+v, want %+v", st, want)
		}
		// Only the public intake gives codes: an office cannot make one.
		_, err = w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathComplaint, OrgUnitID: w.Data.Units["tianshan"],
			Data: json.RawMessage(`{"channel":"来信","officer_name":"张某","facts":"x","lookup_hash":"` + workflow.ComplaintLookupHash("AAAA-AAAA-AAAA") + `"}`)})
		if !isInputOn("lookup_hash")(err) {
			t.Fatalf("a hash set by the office: %v", err)
		}
		if _, err := w.Engine.ComplaintStatusOf(w.Ctx, "AAAA-AAAA-AAAA"); !errors.Is(err, workflow.ErrNotFound) {
			t.Fatalf("a code never given: %v", err)
		}
	})

	t.Run("a letter received earlier is due 60 days from its receipt", func(t *testing.T) {
		w.T = t
		v := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathComplaint, OrgUnitID: w.Data.Units["tianshan"],
			Data: json.RawMessage(`{"channel":"来信","received_on":"2026-03-01","officer_name":"张某","facts":"执法文书未送达"}`)})
		if tk := openTasks(v)[workflow.TaskHandleComplaint]; tk.DueOn != workflow.MustDate("2026-04-30") {
			t.Fatalf("due %s, want 2026-04-30", tk.DueOn)
		}
		v = w.MustFire("clerk", v, workflow.EvRecordOutcome, "", `{"substantiated":false,"outcome":"经查，反映问题不属实"}`)
		wantOpen(t, v, workflow.TaskNotifyComplainant)
		if tk := openTasks(v)[workflow.TaskNotifyComplainant]; tk.DueOn != workflow.MustDate("2026-03-17") {
			t.Fatalf("notify due %s, want 2026-03-17", tk.DueOn)
		}
		before := w.Counts()
		if _, err := w.Fire("clerk", v, workflow.EvProposeSuspension, "", `{"ground":3,"facts":"x"}`); !isGuard(err, "Art. 20") {
			t.Fatalf("suspension from an unsubstantiated complaint: %v", err)
		}
		if _, err := w.Fire("clerk", v, workflow.EvNotify, "", `{"method":"微信"}`); !isInput(err) {
			t.Fatalf("unknown method: %v", err)
		}
		// Anonymous: nobody to phone.
		if _, err := w.Fire("clerk", v, workflow.EvNotify, "", `{"method":"电话"}`); !isInputOn("method")(err) {
			t.Fatalf("told by phone, with no contact left: %v", err)
		}
		if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
			t.Fatal("refused commands wrote rows")
		}
		// An anonymous letter: nobody to tell.
		v = w.MustFire("clerk", v, workflow.EvNotify, "", `{"method":"无法告知"}`)
		if v.State != workflow.ComplaintClosed || len(openTasks(v)) != 0 {
			t.Fatalf("closed %s with %v", v.State, openTasks(v))
		}
	})

	t.Run("a substantiated complaint opens a suspension case", func(t *testing.T) {
		w.T = t
		v := complaintScript.walk(w, workflow.ComplaintDecided)
		if got := allowedNames(v, w, "clerk"); fmt.Sprint(got) != "[notify propose_suspension]" {
			t.Fatalf("clerk may fire %v", got)
		}
		s := complaintScript.step(w, v, workflow.EvProposeSuspension)
		v = w.MustFire(s.user, v, s.event, s.comment, s.data)
		sus := w.casesOf(v.PersonID, workflow.PathSuspension)
		if len(sus) != 1 || sus[0].State != workflow.SusProposed || sus[0].CertificateID != v.CertificateID || sus[0].OrgUnitID != w.Data.Units["tianshan"] {
			t.Fatalf("suspension cases %+v", sus)
		}
		var sd workflow.SuspensionData
		if err := json.Unmarshal(sus[0].Data, &sd); err != nil || sd.Ground != 2 || sd.Facts == "" {
			t.Fatalf("suspension data %s", sus[0].Data)
		}
		if d := complaintData(t, v); d.SuspensionGround != 2 || d.SuspensionCertificateID != v.CertificateID {
			t.Fatalf("data %+v", d)
		}
		if inbox, _ := w.inboxItems(w.Actor("leader"), 500); !hasTask(inbox, sus[0].ID, workflow.TaskDecideSuspension) {
			t.Fatalf("the principal leader has no decision task: %+v", inbox)
		}
		if _, err := w.Fire("clerk", v, workflow.EvNotify, "", `{"method":"无法告知"}`); !isInput(err) {
			t.Fatalf("无法告知 a complainant who left a contact: %v", err)
		}
		v = w.MustFire("clerk", v, workflow.EvNotify, "", `{"method":"电话","told_on":"2026-03-10"}`)
		if v.State != workflow.ComplaintClosed {
			t.Fatal(v.State)
		}
	})

	t.Run("a complaint about a person names the certificate to suspend", func(t *testing.T) {
		w.T = t
		app := w.receivedCertificate(casts[0])
		other := w.receivedCertificate(casts[0])
		v := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathComplaint, PersonID: app.PersonID,
			Data: json.RawMessage(`{"channel":"来电","facts":"涂改证件"}`)})
		v = w.MustFire("clerk", v, workflow.EvRecordOutcome, "", `{"substantiated":true,"outcome":"属实"}`)
		before := w.Counts()
		if _, err := w.Fire("clerk", v, workflow.EvProposeSuspension, "", `{"ground":1,"facts":"涂改证件"}`); !isGuard(err, "Art. 17") {
			t.Fatalf("no certificate named: %v", err)
		}
		if _, err := w.Fire("clerk", v, workflow.EvProposeSuspension, "", fmt.Sprintf(`{"ground":1,"facts":"涂改证件","certificate_id":%d}`, other.CertificateID)); !isInput(err) {
			t.Fatalf("someone else's certificate: %v", err)
		}
		if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
			t.Fatal("refused commands wrote rows")
		}
		w.MustFire("clerk", v, workflow.EvProposeSuspension, "", fmt.Sprintf(`{"ground":1,"facts":"涂改证件","certificate_id":%d}`, app.CertificateID))
		if sus := w.casesOf(app.PersonID, workflow.PathSuspension); len(sus) != 1 || sus[0].CertificateID != app.CertificateID {
			t.Fatalf("suspension cases %+v", sus)
		}
	})

	t.Run("a Ministry holder: handled at their department; the suspension path refuses and nothing is written", func(t *testing.T) {
		w.T = t
		app := w.receivedCertificate(casts[1]) // 周杰's clone works at the 自治区 department
		v := w.openAs("region-clerk", workflow.OpenCaseInput{Path: workflow.PathComplaint, CertificateID: app.CertificateID,
			Data: json.RawMessage(`{"channel":"来访","facts":"违规执法"}`)})
		if v.OrgUnitID != w.Data.Units["region"] {
			t.Fatalf("runs at unit %d", v.OrgUnitID)
		}
		v = w.MustFire("region-clerk", v, workflow.EvRecordOutcome, "", `{"substantiated":true,"outcome":"属实"}`)
		before := w.Counts()
		if _, err := w.Fire("region-clerk", v, workflow.EvProposeSuspension, "", `{"ground":3,"facts":"违规执法"}`); !isGuard(err, "Art. 17") {
			t.Fatalf("suspension of a Ministry certificate: %v", err)
		}
		if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
			t.Fatal("the refused spawn wrote rows")
		}
	})

	t.Run("nobody handles a complaint about themselves", func(t *testing.T) {
		w.T = t
		v := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathComplaint, PersonID: w.Data.People["lina"],
			Data: json.RawMessage(`{"channel":"来信","facts":"法制审核走过场"}`)})
		// It is not even there for her (404): she does not read it.
		if _, err := w.Fire("lina", v, workflow.EvRecordOutcome, "", `{"substantiated":false,"outcome":"不属实"}`); !isNotFound(err) {
			t.Fatalf("lina decides on a complaint about herself: %v", err)
		}
	})

	t.Run("refused or bad intake writes nothing", func(t *testing.T) {
		w.T = t
		cert := w.certificate(w.receivedCertificate(casts[0]).CertificateID)
		tests := []struct {
			name string
			do   func() error
			want func(error) bool
		}{
			{"no facts", func() error {
				_, err := w.Engine.FileComplaint(w.Ctx, public, workflow.PublicComplaint{OfficerName: "张某", Facts: "  "})
				return err
			}, isInput},
			{"no officer", func() error {
				_, err := w.Engine.FileComplaint(w.Ctx, public, workflow.PublicComplaint{Facts: "有人违法"})
				return err
			}, isInput},
			{"unknown kind", func() error {
				_, err := w.Engine.FileComplaint(w.Ctx, public, workflow.PublicComplaint{Kind: "投诉", OfficerName: "张某", Facts: "x"})
				return err
			}, isInput},
			{"no such department", func() error {
				_, err := w.Engine.FileComplaint(w.Ctx, public, workflow.PublicComplaint{OfficerName: "张某", Facts: "x", OrgUnitID: 999999})
				return err
			}, isInput},
			{"facts too long", func() error {
				long := make([]rune, 5001)
				for i := range long {
					long[i] = '字'
				}
				_, err := w.Engine.FileComplaint(w.Ctx, public, workflow.PublicComplaint{OfficerName: "张某", Facts: string(long)})
				return err
			}, isInput},
			{"a user with roles on the public intake", func() error {
				_, err := w.Engine.FileComplaint(w.Ctx, w.Actor("clerk"), workflow.PublicComplaint{OfficerName: "张某", Facts: "x"})
				return err
			}, isForbidden},
			{"bad channel", func() error {
				_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathComplaint, OrgUnitID: w.Data.Units["tianshan"],
					Data: json.RawMessage(`{"channel":"微信","officer_name":"张某","facts":"x"}`)})
				return err
			}, isInput},
			{"future receipt", func() error {
				_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathComplaint, OrgUnitID: w.Data.Units["tianshan"],
					Data: json.RawMessage(`{"channel":"来信","received_on":"2026-04-01","officer_name":"张某","facts":"x"}`)})
				return err
			}, isInput},
			{"number not the certificate's", func() error {
				_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathComplaint, CertificateID: cert.ID,
					Data: json.RawMessage(`{"channel":"来信","certificate_number":"OTHER","facts":"x"}`)})
				return err
			}, isInput},
			{"bad lookup hash", func() error {
				_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathComplaint, OrgUnitID: w.Data.Units["tianshan"],
					Data: json.RawMessage(`{"channel":"来信","officer_name":"张某","facts":"x","lookup_hash":"abc"}`)})
				return err
			}, isInput},
			{"clerk of another region", func() error {
				_, err := w.Engine.OpenCase(w.Ctx, w.Actor("tacheng-clerk"), workflow.OpenCaseInput{Path: workflow.PathComplaint, CertificateID: cert.ID,
					Data: json.RawMessage(`{"channel":"来信","facts":"x"}`)})
				return err
			}, func(err error) bool { return errors.Is(err, workflow.ErrNotFound) }},
			{"clerk of another region names this region's department", func() error {
				_, err := w.Engine.OpenCase(w.Ctx, w.Actor("tacheng-clerk"), workflow.OpenCaseInput{Path: workflow.PathComplaint, OrgUnitID: w.Data.Units["tianshan"],
					Data: json.RawMessage(`{"channel":"来信","officer_name":"张某","facts":"x"}`)})
				return err // as for a unit that does not exist
			}, isInputOn("org_unit_id")},
			{"officer records a complaint", func() error {
				_, err := w.Engine.OpenCase(w.Ctx, w.Actor("officer"), workflow.OpenCaseInput{Path: workflow.PathComplaint, OrgUnitID: w.Data.Units["tianshan"],
					Data: json.RawMessage(`{"channel":"来信","officer_name":"张某","facts":"x"}`)})
				return err
			}, isForbidden},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := w.Counts()
				if err := tc.do(); !tc.want(err) {
					t.Fatalf("unexpected error: %v", err)
				}
				if after := w.Counts(); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Fatalf("rows changed: %v → %v", before, after)
				}
			})
		}
	})
}

func hasTask(inbox []workflow.InboxTask, caseID int64, kind workflow.TaskKind) bool {
	for _, it := range inbox {
		if it.CaseID == caseID && it.Kind == kind {
			return true
		}
	}
	return false
}
