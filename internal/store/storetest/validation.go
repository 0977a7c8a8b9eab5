package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"certflow/workflow"
)

// testValidation: input the domain refuses, or reads literally, the same
// on every store. Each refusal names its field and writes nothing.
func testValidation(t *testing.T, open Opener) {
	t.Run("NameSearchIsLiteral", func(t *testing.T) { testNameSearchIsLiteral(t, open) })
	t.Run("CommentCap", func(t *testing.T) { testCommentCap(t, open) })
	t.Run("IssueInput", func(t *testing.T) { testIssueInput(t, open) })
	t.Run("ApplicationKind", func(t *testing.T) { testApplicationKind(t, open) })
	t.Run("NoApplicationOnTheWayOut", func(t *testing.T) { testNoApplicationOnTheWayOut(t, open) })
	t.Run("DeputyDisabled", func(t *testing.T) { testDeputyDisabled(t, open) })
	t.Run("ImplausibleAge", func(t *testing.T) { testImplausibleAge(t, open) })
	t.Run("NegativeCertificateReturned", func(t *testing.T) { testNegativeCertificateReturned(t, open) })
}

// testNameSearchIsLiteral: the people search is a substring match of the
// text as typed; % and _ are not LIKE wildcards (nor is the escape
// character itself special).
func testNameSearchIsLiteral(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	odd := w.ClonePerson("zhangwei", func(p *workflow.Person) { p.Name = `张_%\伟` })
	admin := w.Actor("admin")
	for _, tc := range []struct {
		name string
		want []int64
	}{
		{"_", []int64{odd}},
		{"%", []int64{odd}},
		{`\`, []int64{odd}},
		{`_%\`, []int64{odd}},
		{"张_", []int64{odd}},
		{"张%伟", nil},
		{"__", nil},
		{"%%", nil},
		{"张伟", []int64{w.Data.People["zhangwei"]}},
	} {
		got, err := w.Engine.People(w.Ctx, admin, workflow.PersonFilter{Name: tc.name, Limit: 500})
		if err != nil {
			t.Fatalf("name %q: %v", tc.name, err)
		}
		var ids []int64
		for _, p := range got {
			ids = append(ids, p.ID)
		}
		if len(ids) != len(tc.want) || (len(ids) > 0 && ids[0] != tc.want[0]) {
			t.Errorf("name %q: got people %v, want %v", tc.name, ids, tc.want)
		}
	}
}

// testCommentCap: every comment is capped at workflow.MaxCommentLength
// characters (not bytes) — opening a case, compiling a batch, firing an
// event, acting on a task, copying a case — and one over is refused on
// comment, writing nothing.
func testCommentCap(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	atCap := strings.Repeat("字", workflow.MaxCommentLength) // 3 bytes each
	over := atCap + "字"
	app := w.Open("clerk", workflow.PathApplication, w.ClonePerson("zhaolei", nil), `{"proposed_categories":["安全生产监督管理"]}`)
	app = w.MustFire("clerk", app, workflow.EvSubmitForApproval, "", "")
	task := w.openTask(app, workflow.TaskApprove)
	applicant := w.ClonePerson("zhangwei", nil)
	for _, tc := range []struct {
		name string
		do   func(comment string) error
	}{
		{"open", func(comment string) error {
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathApplication,
				PersonID: applicant, Data: raw(categories), Comment: comment})
			return err
		}},
		{"fire", func(comment string) error {
			_, err := w.Fire("leader", app, workflow.EvSendBack, comment, "")
			return err
		}},
		{"claim", func(comment string) error {
			_, err := w.Engine.ClaimTask(w.Ctx, w.Actor("leader"), task.ID, workflow.TaskActInput{Comment: comment})
			return err
		}},
		{"copy", func(comment string) error {
			_, err := w.Engine.CopyCase(w.Ctx, w.Actor("clerk"), app.ID, workflow.CopyInput{
				UserIDs: []int64{w.Data.Users["lina"].ID}, Comment: comment})
			return err
		}},
		// Last: the batch takes the application in.
		{"batch", func(comment string) error {
			_, err := w.Engine.CompileBatch(w.Ctx, w.Actor("clerk"), workflow.BatchInput{CaseIDs: []int64{app.ID}, Comment: comment})
			return err
		}},
	} {
		w.refused(t, tc.name+" with a comment over the cap", func() error { return tc.do(over) }, isInputOn("comment"))
		if err := tc.do(atCap); err != nil {
			t.Fatalf("%s with a comment at the cap: %v", tc.name, err)
		}
		if tc.name == "fire" {
			app = w.view("clerk", app.ID)
			app = w.MustFire("clerk", app, workflow.EvSubmitForApproval, "", "")
			task = w.openTask(app, workflow.TaskApprove)
		}
	}
}

// testIssueInput: what the issuer's 核发 and 补发 record. An empty list of
// categories is an input error ("at least one"), not the Art. 6 refusal of
// categories never agreed; a category twice is refused; the validity ends
// at most workflow.MaxValidityYears after the issue date; the issuer's
// name is at most workflow.MaxIssuerLength characters. The principal
// leader's agreed_categories follow the same rules.
func testIssueInput(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	pending := w.reach(casts[0], workflow.AppPendingApproval)
	for _, body := range []string{`{"agreed_categories":[]}`, `{"agreed_categories":["应急管理","应急管理"]}`} {
		w.refused(t, "approve "+body, func() error {
			_, err := w.Fire("leader", pending, workflow.EvApprove, "同意", body)
			return err
		}, isInputOn("agreed_categories"))
	}
	longIssuer := strings.Repeat("司", workflow.MaxIssuerLength)
	for _, tc := range []struct {
		name   string
		submit func() workflow.CaseView
		issued string // the issue date the bodies give
	}{
		{"issue", func() workflow.CaseView { return w.reach(casts[0], workflow.AppSubmitted) }, "2026-03-09"},
		{"reissue", func() workflow.CaseView { return lossJusticeScript.walk(w, workflow.LossSubmitted) }, "2026-03-10"},
	} {
		v := tc.submit()
		n := w.seq.Add(1)
		body := func(extra string) string {
			return fmt.Sprintf(`{"number":"V-%d","issued_on":%q,"valid_until":"2031-03-08"%s}`, n, tc.issued, extra)
		}
		for _, bad := range []struct {
			extra string
			want  func(error) bool
		}{
			{`,"categories":[]`, func(err error) bool {
				var in *workflow.InputError
				return isInputOn("categories")(err) && errors.As(err, &in) && strings.Contains(in.Reason, "at least one")
			}},
			{`,"categories":["安全生产监督管理","安全生产监督管理"]`, isInputOn("categories")},
			{`,"categories":["消防监督管理"]`, func(err error) bool { return isGuard(err, "Art. 6") }},
			{`,"issuer":"` + longIssuer + `司"`, isInputOn("issuer")},
		} {
			w.refused(t, tc.name+" "+bad.extra, func() error {
				_, err := w.Fire("clerk", v, workflow.EvIssue, "", body(bad.extra))
				return err
			}, bad.want)
		}
		issued := workflow.MustDate(tc.issued)
		limit := issued.AddMonths(12 * workflow.MaxValidityYears)
		for _, until := range []string{"9999-12-31", limit.AddDays(1).String()} {
			w.refused(t, tc.name+" valid until "+until, func() error {
				_, err := w.Fire("clerk", v, workflow.EvIssue, "", fmt.Sprintf(`{"number":"V-%d","issued_on":%q,"valid_until":%q}`, n, tc.issued, until))
				return err
			}, isInputOn("valid_until"))
		}
		v = w.MustFire("clerk", v, workflow.EvIssue, "", fmt.Sprintf(`{"number":"V-%d","issued_on":%q,"valid_until":%q,"issuer":%q,"categories":["安全生产监督管理"]}`,
			n, tc.issued, limit, longIssuer))
		if c := w.certificate(v.CertificateID); c.ValidUntil != limit || c.Issuer != longIssuer || fmt.Sprint(c.Categories) != "[安全生产监督管理]" {
			t.Fatalf("%s recorded %+v", tc.name, c)
		}
	}
}

// testApplicationKind: the certificate kind of an application is checked
// when the case opens and when the draft is submitted: one its path's
// family issues (400 on kind), not only at submission by Art. 5.
func testApplicationKind(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	for _, tc := range []struct {
		cast pathCast
		kind string
	}{
		{casts[0], "bogus"},
		{casts[0], "ministry"},
		{casts[1], "enforcement"},
		{casts[1], "MINISTRY"},
	} {
		person := w.ClonePerson(tc.cast.person, nil)
		data := `{"kind":"` + tc.kind + `","proposed_categories":["应急管理"]}`
		w.refused(t, fmt.Sprintf("%s with kind %q", tc.cast.path, tc.kind), func() error {
			_, err := w.Engine.OpenCase(w.Ctx, w.Actor(tc.cast.office), workflow.OpenCaseInput{Path: tc.cast.path, PersonID: person, Data: raw(data)})
			return err
		}, isInputOn("kind"))
	}
	v := w.Open("clerk", workflow.PathApplication, w.ClonePerson("zhangwei", nil), `{"kind":"enforcement","proposed_categories":["应急管理"]}`)
	w.refused(t, "submitted with kind bogus", func() error {
		_, err := w.Fire("clerk", v, workflow.EvSubmitForApproval, "", `{"kind":"bogus"}`)
		return err
	}, isInputOn("kind"))
	w.MustFire("clerk", v, workflow.EvSubmitForApproval, "", "")
}

// testNoApplicationOnTheWayOut: no application of either family is opened
// for a person who has departed (Art. 9(1)(1), or 9(2)(1) for the
// Ministry's: no longer 在编) or whose departure is open (Art. 18: their
// certificates are being returned). The refusal writes nothing.
func testNoApplicationOnTheWayOut(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	for _, c := range casts {
		departed := w.ClonePerson(c.person, nil)
		dep := w.openAs(c.hr, workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: departed, Data: json.RawMessage(`{"reason":"辞职"}`)})
		w.MustFire(c.hr, dep, workflow.EvComplete, "", "")
		leaving := w.ClonePerson(c.person, nil)
		w.openAs(c.hr, workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: leaving, Data: json.RawMessage(`{"reason":"调离"}`)})
		article := "Art. 9(1)(1)"
		if c.path == workflow.PathMinistryApplication {
			article = "Art. 9(2)(1)"
		}
		for _, tc := range []struct {
			person          int64
			article, status string
		}{
			{departed, article, "departed"},
			{leaving, "Art. 18", "leaving"},
		} {
			w.refused(t, fmt.Sprintf("%s for a person %s", c.path, tc.status), func() error {
				_, err := w.Engine.OpenCase(w.Ctx, w.Actor(c.office), workflow.OpenCaseInput{Path: c.path, PersonID: tc.person, Data: raw(categories)})
				var ge *workflow.GuardError
				if errors.As(err, &ge) && !strings.Contains(ge.Error(), tc.article+": the person") {
					t.Errorf("refusal %q: want %s: the person…", ge.Error(), tc.article)
				}
				return err
			}, func(err error) bool { return isGuard(err, tc.article) })
		}
	}
}

// testDeputyDisabled: a delegation to a deputy whose account is disabled
// is not in force, as one from a disabled delegator is not: both sides
// list it deputy_disabled and not active, until the account is enabled.
func testDeputyDisabled(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	d, err := w.Engine.CreateDelegation(w.Ctx, w.Actor("leader"), workflow.DelegationInput{
		DeputyID: w.Data.Users["deputy"].ID, EndsOn: Today.AddDays(7), Reason: "出差"})
	if err != nil || !d.Active || d.DeputyDisabled {
		t.Fatalf("delegation %+v, %v: want active", d, err)
	}
	listed := func(user string) workflow.Delegation {
		t.Helper()
		ds, err := w.Engine.Delegations(w.Ctx, w.Actor(user), 0, 50)
		if err != nil || len(ds) != 1 || ds[0].ID != d.ID {
			t.Fatalf("%s lists %+v, %v", user, ds, err)
		}
		return ds[0]
	}
	w.setDisabled("deputy", true)
	if got := listed("leader"); got.Active || !got.DeputyDisabled || got.DelegatorDisabled {
		t.Fatalf("the delegator lists the delegation to a disabled deputy as %+v: want deputy_disabled, not active", got)
	}
	w.setDisabled("deputy", false)
	if got := listed("deputy"); !got.Active || got.DeputyDisabled {
		t.Fatalf("enabled again: %+v", got)
	}
}

// id18 completes a 公民身份号码 from its first 17 digits.
func id18(first17 string) workflow.IDNumber {
	return workflow.IDNumber(first17 + string(workflow.IDCheckChar(first17)))
}

// bornOn is a 公民身份号码 of 天山区 for someone born on d.
func bornOn(d workflow.Date) workflow.IDNumber {
	return id18(fmt.Sprintf("650102%04d%02d%02d013", d.Year, d.Month, d.Day))
}

// testImplausibleAge: a birth date making the person older than
// workflow.MaxAgeOnRecord is refused on id_number when it is recorded, as
// one making them younger than 16 is; a record already kept stays
// editable as its person ages.
func testImplausibleAge(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	clerk := w.Actor("clerk")
	unit := w.Data.Units["tianshan.business"]
	person := func(name string, id workflow.IDNumber) workflow.Person {
		return workflow.Person{Name: name, IDNumber: id, Education: workflow.EduCollege, OrgUnitID: unit}
	}
	turns81 := Today.AddMonths(-(workflow.MaxAgeOnRecord + 1) * 12)
	for _, born := range []workflow.Date{workflow.MustDate("1850-01-01"), turns81} {
		w.refused(t, "born "+born.String(), func() error {
			_, err := w.Engine.CreatePerson(w.Ctx, clerk, person("老人", bornOn(born)))
			return err
		}, isInputOn("id_number"))
	}
	eighty, err := w.Engine.CreatePerson(w.Ctx, clerk, person("八十", bornOn(turns81.AddDays(1))))
	if err != nil {
		t.Fatalf("80 years old: %v", err)
	}
	// Kept since before they turned 81: the record stays editable.
	old := w.ClonePerson("zhangwei", func(p *workflow.Person) {
		p.BirthDate = turns81.AddDays(-400)
		p.IDNumber = bornOn(p.BirthDate)
		p.Sex = p.IDNumber.Sex()
	})
	p, err := w.Engine.Person(w.Ctx, clerk, old)
	if err != nil {
		t.Fatal(err)
	}
	p.Title = "退休返聘"
	if _, err := w.Engine.UpdatePerson(w.Ctx, clerk, p); err != nil {
		t.Fatalf("editing a record kept before its person turned 81: %v", err)
	}
	// A changed number is a new birth date, checked again.
	eighty.IDNumber, eighty.BirthDate = bornOn(turns81.AddDays(-1)), workflow.Date{}
	w.refused(t, "a changed number 81 years back", func() error {
		_, err := w.Engine.UpdatePerson(w.Ctx, clerk, eighty)
		return err
	}, isInputOn("id_number"))
}

// testNegativeCertificateReturned: a departure's record_return naming
// certificate -1 is told it is no ID, not that it is not the person's.
func testNegativeCertificateReturned(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	dep := departureScript.open(w)
	w.refused(t, "certificate -1 returned", func() error {
		_, err := w.Fire("clerk", dep, workflow.EvRecordReturn, "", `{"certificate_id":-1}`)
		return err
	}, func(err error) bool {
		var in *workflow.InputError
		return errors.As(err, &in) && in.Field == "certificate_id" && strings.Contains(in.Reason, "must be a positive ID")
	})
}
