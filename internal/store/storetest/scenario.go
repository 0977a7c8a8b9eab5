package storetest

import (
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

// dayClock is an engine clock a test moves from day to day; it always reads
// 10:00 China time on the day set.
type dayClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *dayClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to 10:00 China time on d.
func (c *dayClock) Set(d workflow.Date) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = time.Date(d.Year, d.Month, d.Day, 2, 0, 0, 0, time.UTC)
}

// withClock gives w an engine on the same store whose clock starts on day
// and is moved with the returned clock; every World helper then uses it.
func (w *World) withClock(day workflow.Date, opt workflow.Options) *dayClock {
	w.T.Helper()
	c := &dayClock{}
	c.Set(day)
	opt.Clock = c.Now
	e, err := workflow.NewEngine(w.Store, opt)
	if err != nil {
		w.T.Fatal(err)
	}
	w.Engine = e
	return c
}

// scenario follows one officer through every path and, after each step,
// checks everything the rest of the system reads about them.
type scenario struct {
	*World
	t      *testing.T
	clock  *dayClock
	person int64
	units  map[int64]string // org unit ID → demo key
	// users holds, for each (role, unit) a task may be for, the demo user
	// whose inbox must show it.
	users map[string]string
	// everOverdue: the tasks seen overdue by any step so far; each must
	// have been escalated exactly once by the deadline sweeps.
	everOverdue map[int64]string
	numbers     map[int64]string // certificate ID → number, for task lines
	// departed: the officer's departure completed, which disabled their
	// account; their inbox is not read any more.
	departed bool
}

// day moves the clock to d (never back) and runs the daily deadline sweep,
// as the River job does once a day.
func (sc *scenario) day(d string) {
	sc.t.Helper()
	day := workflow.MustDate(d)
	if day.Before(sc.Engine.Today()) {
		sc.t.Fatalf("the scenario went back in time to %s", d)
	}
	sc.clock.Set(day)
	if _, err := sc.Engine.SweepDeadlines(sc.Ctx); err != nil {
		sc.t.Fatalf("sweep on %s: %v", d, err)
	}
}

// taskLine is how the scenario names an open task: path/kind, for whom,
// due when, and about which certificate when the task names one.
func (sc *scenario) taskLine(c workflow.Case, tk workflow.Task) string {
	due := "-"
	if !tk.DueOn.IsZero() {
		due = tk.DueOn.String()
	}
	line := fmt.Sprintf("%s/%s %s@%s due %s", c.Path, tk.Kind, tk.Role, sc.units[tk.OrgUnitID], due)
	if tk.CertificateID != 0 {
		line += " cert " + sc.numbers[tk.CertificateID]
	}
	return line
}

// cases returns every case about the person, as the admin reads them.
func (sc *scenario) cases() []workflow.Case {
	sc.t.Helper()
	cs, err := sc.Engine.Cases(sc.Ctx, sc.Actor("admin"), workflow.CaseFilter{PersonID: sc.person, Limit: 500})
	if err != nil {
		sc.t.Fatal(err)
	}
	return cs
}

// certs returns the person's certificates as the legal office lists them,
// by number.
func (sc *scenario) certs() map[string]workflow.Certificate {
	sc.t.Helper()
	cs, err := sc.Engine.Certificates(sc.Ctx, sc.Actor("clerk"), workflow.CertificateFilter{PersonID: sc.person})
	if err != nil {
		sc.t.Fatal(err)
	}
	out := map[string]workflow.Certificate{}
	for _, c := range cs {
		out[c.Number] = c
		sc.numbers[c.ID] = c.Number
	}
	return out
}

// check asserts, after step: the certificates (number → state; valid or
// not today), every open task of every case about the person (which, for
// whom, due when), that exactly the right user's inbox shows each, that
// the overdue list holds exactly those past due, and that each task ever
// overdue was escalated once.
func (sc *scenario) check(step string, certs map[string]string, tasks ...string) {
	sc.t.Helper()
	today := sc.Engine.Today()
	// Certificates: state, and the validity check the system uses.
	got := sc.certs()
	if len(got) != len(certs) {
		sc.t.Fatalf("%s: certificates %v, want %v", step, got, certs)
	}
	for number, want := range certs {
		c, ok := got[number]
		if !ok {
			sc.t.Fatalf("%s: no certificate %s", step, number)
		}
		state, valid, _ := strings.Cut(want, " ")
		if string(c.State) != state {
			sc.t.Fatalf("%s: certificate %s is %s, want %s", step, number, c.State, state)
		}
		if c.ValidOn(today) != (valid == "valid") {
			sc.t.Fatalf("%s: certificate %s (%s) valid=%v on %s, want %s", step, number, c.State, c.ValidOn(today), today, valid)
		}
	}
	// Open tasks of every case about the person.
	type openTask struct {
		line, holder string // holder: role@unit
		due          workflow.Date
	}
	open := map[int64]openTask{}
	var lines []string
	caseIDs := map[int64]bool{}
	for _, c := range sc.cases() {
		caseIDs[c.ID] = true
		for _, tk := range sc.view("admin", c.ID).Tasks {
			if tk.Status == workflow.TaskOpen {
				ot := openTask{sc.taskLine(c, tk), fmt.Sprintf("%s@%s", tk.Role, sc.units[tk.OrgUnitID]), tk.DueOn}
				open[tk.ID] = ot
				lines = append(lines, ot.line)
			}
		}
	}
	slices.Sort(lines)
	want := slices.Clone(tasks)
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		sc.t.Fatalf("%s: open tasks\n  %s\nwant\n  %s", step, strings.Join(lines, "\n  "), strings.Join(want, "\n  "))
	}
	// Each open task is in the inbox of the user who holds its role at its
	// unit, and in no other inbox of the cast; the holder sees none.
	for _, user := range []string{"clerk", "leader", "justice", "hr", "officer"} {
		if user == "officer" && sc.departed {
			continue
		}
		inbox, _ := sc.inbox(user, workflow.InboxFilter{Limit: 500})
		var in, wantIn []string
		for _, it := range inbox {
			if caseIDs[it.CaseID] {
				in = append(in, open[it.ID].line)
				if it.Overdue != (!it.DueOn.IsZero() && it.DueOn.Before(today)) {
					sc.t.Fatalf("%s: %s's inbox marks %s overdue=%v on %s", step, user, open[it.ID].line, it.Overdue, today)
				}
			}
		}
		for _, ot := range open {
			if sc.users[ot.holder] == user {
				wantIn = append(wantIn, ot.line)
			}
		}
		slices.Sort(in)
		slices.Sort(wantIn)
		if !slices.Equal(in, wantIn) {
			sc.t.Fatalf("%s: %s's inbox holds %v, want %v", step, user, in, wantIn)
		}
	}
	// The overdue list (what the principal leader and the supervising
	// legal office read) holds exactly the open tasks past due.
	var wantLate []string
	for _, ot := range open {
		if !ot.due.IsZero() && ot.due.Before(today) {
			wantLate = append(wantLate, ot.line)
		}
	}
	slices.Sort(wantLate)
	for _, user := range []string{"leader", "supervisor"} {
		overdue, _, err := sc.Engine.Overdue(sc.Ctx, sc.Actor(user), 0, 0, 500)
		if err != nil {
			sc.t.Fatal(err)
		}
		var late []string
		for _, o := range overdue {
			if caseIDs[o.CaseID] {
				late = append(late, open[o.ID].line)
				if o.DaysOverdue != int(today.Time().Sub(o.DueOn.Time()).Hours()/24) {
					sc.t.Fatalf("%s: %s %d days overdue on %s", step, open[o.ID].line, o.DaysOverdue, today)
				}
				sc.everOverdue[o.ID] = open[o.ID].line
			}
		}
		slices.Sort(late)
		if !slices.Equal(late, wantLate) {
			sc.t.Fatalf("%s: %s's overdue list %v, want %v", step, user, late, wantLate)
		}
	}
	// Every task ever overdue was escalated to the principal leader once,
	// however many daily sweeps ran since; no other task was.
	rs, err := sc.Engine.Reminders(sc.Ctx, sc.Actor("leader"), 0, 500)
	if err != nil {
		sc.t.Fatal(err)
	}
	escalated := map[int64]int{}
	for _, r := range rs {
		if r.Kind == workflow.ReminderOverdue && caseIDs[r.CaseID] {
			escalated[r.TaskID]++
		}
	}
	for id, n := range escalated {
		if _, ok := sc.everOverdue[id]; !ok || n != 1 {
			sc.t.Fatalf("%s: task %d escalated %d times (overdue seen: %v)", step, id, n, sc.everOverdue)
		}
	}
	for id, l := range sc.everOverdue {
		if escalated[id] != 1 {
			sc.t.Fatalf("%s: overdue task %s escalated %d times, want once", step, l, escalated[id])
		}
	}
}

// states asserts the state of every case about the person, by path, in
// the order the cases were opened.
func (sc *scenario) states(want ...string) {
	sc.t.Helper()
	var got []string
	for _, c := range sc.cases() {
		got = append(got, fmt.Sprintf("%s:%s", c.Path, c.State))
	}
	if !slices.Equal(got, want) {
		sc.t.Fatalf("cases %v, want %v", got, want)
	}
}

// testScenario: one officer, 张伟, through application → approval →
// submission → issue → receipt → platform entry → loss → loss notice →
// reissue → suspension → restoration → departure → return → cancellation →
// departure completed, each step fired by the actor who does it in an
// office (clerk, principal leader, justice liaison, HR, the officer for
// his own loss report) on the day it happens. After every step: the
// certificates' states and validity, every open task with whom it is for
// and when it is due, the inboxes, the overdue list and the escalations.
func testScenario(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	sc := &scenario{World: w, t: t, person: w.Data.People["zhangwei"], units: map[int64]string{},
		users: map[string]string{
			"legal_clerk@tianshan":      "clerk",
			"principal_leader@tianshan": "leader",
			"justice_liaison@tianshan":  "justice",
			"hr@tianshan":               "hr",
		},
		everOverdue: map[int64]string{}, numbers: map[int64]string{}}
	for k, id := range w.Data.Units {
		sc.units[id] = k
	}
	sc.clock = w.withClock(workflow.MustDate("2026-01-05"), workflow.Options{})
	none := map[string]string{}
	const (
		oldNo = "新0102-2026-0007"
		newNo = "新0102-2026-0107"
	)

	// Application (Art. 5, 6, 9, 13): the clerk prepares and submits.
	sc.day("2026-01-05")
	app := w.Open("clerk", workflow.PathApplication, sc.person, `{"proposed_categories":["安全生产监督管理","应急管理"],"region":"天山区行政区域"}`)
	sc.check("application prepared", none)
	app = w.MustFire("clerk", app, workflow.EvSubmitForApproval, "", "")
	sc.check("submitted for approval", none, "application/approve_application principal_leader@tianshan due -")

	sc.day("2026-01-06")
	if _, err := w.Fire("clerk", app, workflow.EvApprove, "同意", ""); !isForbidden(err) {
		t.Fatalf("the clerk approves: %v", err)
	}
	app = w.MustFire("leader", app, workflow.EvApprove, "同意", "")
	sc.check("approved", none, "application/submit_to_issuer legal_clerk@tianshan due -")

	sc.day("2026-01-07")
	app = w.MustFire("clerk", app, workflow.EvSubmitToIssuer, "", "")
	sc.check("submitted to justice", none, "application/record_issuer_decision justice_liaison@tianshan due -")

	// Justice issues; the certificate is not valid until the holder signs for it.
	sc.day("2026-01-20")
	app = w.MustFire("justice", app, workflow.EvIssue, "", `{"number":"`+oldNo+`","valid_until":"2031-01-19"}`)
	sc.check("issued", map[string]string{oldNo: "issued invalid"}, "application/record_receipt legal_clerk@tianshan due -")

	// Receipt on Saturday 31 January: the Art. 14 month ends on 28 February.
	sc.day("2026-01-31")
	app = w.MustFire("clerk", app, workflow.EvRecordReceipt, "", "")
	if app.State != workflow.AppReceived {
		t.Fatalf("application %s", app.State)
	}
	sc.check("received", map[string]string{oldNo: "received valid"},
		"platform_entry/platform_entry_emergency legal_clerk@tianshan due 2026-02-28",
		"platform_entry/platform_entry_random legal_clerk@tianshan due 2026-02-28")
	plat := w.view("clerk", w.casesOf(sc.person, workflow.PathPlatformEntry)[0].ID)

	// Platform entry (Art. 14): one platform in time, the other a day late.
	sc.day("2026-02-10")
	plat = w.MustFire("clerk", plat, workflow.EvEnterRandom, "", "")
	sc.check("entered into 双随机一公开", map[string]string{oldNo: "received valid"},
		"platform_entry/platform_entry_emergency legal_clerk@tianshan due 2026-02-28")
	sc.day("2026-02-28")
	sc.check("the last day of the month: not yet overdue", map[string]string{oldNo: "received valid"},
		"platform_entry/platform_entry_emergency legal_clerk@tianshan due 2026-02-28")
	sc.day("2026-03-01")
	sc.check("a day late: overdue, escalated once", map[string]string{oldNo: "received valid"},
		"platform_entry/platform_entry_emergency legal_clerk@tianshan due 2026-02-28")
	if len(sc.everOverdue) != 1 {
		t.Fatalf("the late platform task was not seen overdue: %v", sc.everOverdue)
	}
	sc.day("2026-03-02")
	sc.check("two days late: still escalated once", map[string]string{oldNo: "received valid"},
		"platform_entry/platform_entry_emergency legal_clerk@tianshan due 2026-02-28")
	w.MustFire("clerk", plat, workflow.EvCompleteEmergency, "", "")
	sc.check("both platforms entered", map[string]string{oldNo: "received valid"})

	// Loss (Art. 19): the officer reports it himself.
	sc.day("2026-03-10")
	loss := w.openAs("officer", workflow.OpenCaseInput{Path: workflow.PathLoss, CertificateID: app.CertificateID,
		Data: []byte(`{"lost_on":"2026-03-09","lost_place":"乌鲁木齐市公交1路车上","circumstances":"乘坐公交车时连同钱包一并遗失"}`)})
	sc.check("loss reported", map[string]string{oldNo: "lost invalid"},
		"loss/publish_loss_notice legal_clerk@tianshan due 2026-03-17")

	sc.day("2026-03-12")
	loss = w.MustFire("clerk", loss, workflow.EvPublishNotice, "", `{"medium":"新疆日报","published_on":"2026-03-12"}`)
	sc.check("loss notice published: the certificate is void", map[string]string{oldNo: "voided invalid"},
		"loss/apply_reissue legal_clerk@tianshan due 2026-03-19")

	sc.day("2026-03-13")
	loss = w.MustFire("clerk", loss, workflow.EvApplyReissue, "", "")
	sc.check("补发 applied for", map[string]string{oldNo: "voided invalid"},
		"loss/record_issuer_decision justice_liaison@tianshan due -")

	// Reissue: a new number, linked to the lost certificate.
	sc.day("2026-03-20")
	loss = w.MustFire("justice", loss, workflow.EvIssue, "", `{"number":"`+newNo+`"}`)
	sc.check("reissued", map[string]string{oldNo: "voided invalid", newNo: "issued invalid"},
		"loss/record_receipt legal_clerk@tianshan due -")
	certs := sc.certs()
	if n, o := certs[newNo], certs[oldNo]; n.Replaces != o.ID || n.ValidUntil != o.ValidUntil || n.ID == o.ID || loss.CertificateID != n.ID {
		t.Fatalf("reissued %+v\nlost %+v", n, o)
	}

	sc.day("2026-03-23")
	loss = w.MustFire("clerk", loss, workflow.EvRecordReceipt, "", "")
	sc.check("reissued certificate received: it is valid, its predecessor is not",
		map[string]string{oldNo: "voided invalid", newNo: "received valid"},
		"platform_entry/platform_entry_emergency legal_clerk@tianshan due 2026-04-23",
		"platform_entry/platform_entry_random legal_clerk@tianshan due 2026-04-23")
	plat2 := w.view("clerk", w.casesOf(sc.person, workflow.PathPlatformEntry)[1].ID)
	sc.day("2026-03-30")
	plat2 = w.MustFire("clerk", plat2, workflow.EvEnterEmergency, "", "")
	w.MustFire("clerk", plat2, workflow.EvCompleteRandom, "", "")
	sc.check("the new number entered into both platforms", map[string]string{oldNo: "voided invalid", newNo: "received valid"})

	// Suspension (Art. 17): the legal office proposes, the principal leader decides.
	sc.day("2026-04-01")
	sus := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathSuspension, CertificateID: loss.CertificateID,
		Data: []byte(`{"ground":1,"facts":"将证件转借他人使用"}`)})
	sc.check("suspension proposed", map[string]string{oldNo: "voided invalid", newNo: "received valid"},
		"suspension/decide_suspension principal_leader@tianshan due -")
	if _, err := w.Fire("officer", sus, workflow.EvSuspend, "", ""); !isForbidden(err) {
		t.Fatalf("the holder decides on his own suspension: %v", err)
	}

	sc.day("2026-04-02")
	sus = w.MustFire("leader", sus, workflow.EvSuspend, "", "")
	sc.check("暂扣: suspended, reviewed in 90 days; the platforms to be told within a month (Art. 14)",
		map[string]string{oldNo: "voided invalid", newNo: "suspended invalid"},
		"platform_entry/platform_entry_emergency legal_clerk@tianshan due 2026-05-02",
		"platform_entry/platform_entry_random legal_clerk@tianshan due 2026-05-02",
		"suspension/review_suspension legal_clerk@tianshan due 2026-07-01")
	// The change reported is the certificate's, by number.
	enterChange := func(i int, details string) {
		t.Helper()
		c := w.view("clerk", w.casesOf(sc.person, workflow.PathPlatformEntry)[i].ID)
		var d workflow.PlatformData
		if err := json.Unmarshal(c.Data, &d); err != nil || d.Change != workflow.ChangeOther || d.Details != details || d.ChangedOn != sc.Engine.Today() {
			t.Fatalf("change report %+v (%v), want 其他 %q on %s", d, err, details, sc.Engine.Today())
		}
		c = w.MustFire("clerk", c, workflow.EvEnterEmergency, "", "")
		w.MustFire("clerk", c, workflow.EvCompleteRandom, "", "")
	}
	enterChange(2, "行政执法证暂扣（证号："+newNo+"）")

	sc.day("2026-04-15")
	w.MustFire("leader", sus, workflow.EvRestore, "整改到位", "")
	sc.check("恢复: valid again, and the platforms to be told",
		map[string]string{oldNo: "voided invalid", newNo: "received valid"},
		"platform_entry/platform_entry_emergency legal_clerk@tianshan due 2026-05-15",
		"platform_entry/platform_entry_random legal_clerk@tianshan due 2026-05-15")
	enterChange(3, "行政执法证恢复使用（证号："+newNo+"）")

	// Departure (Art. 18): HR opens it; the voided certificate needs no return.
	sc.day("2026-05-06")
	dep := w.openAs("hr", workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: sc.person,
		Data: []byte(`{"reason":"辞职","effective_on":"2026-05-09"}`)})
	sc.check("departure opened: one return task, 5 working days from Saturday 9 May",
		map[string]string{oldNo: "voided invalid", newNo: "received valid"},
		"departure/return_certificate legal_clerk@tianshan due 2026-05-15 cert "+newNo)
	bs, err := w.Engine.DepartureBlockers(w.Ctx, w.Actor("hr"), sc.person)
	if err != nil || len(bs) != 1 || len(bs[0].Certificates) != 1 {
		t.Fatalf("blockers %+v %v", bs, err)
	}
	if b := bs[0].Certificates[0]; b.Number != newNo || b.ReturnTo != workflow.RoleLegalClerk || b.TaskDueOn != workflow.MustDate("2026-05-15") || b.TaskID == 0 {
		t.Fatalf("blocking certificate %+v", b)
	}
	before := w.Counts()
	_, err = w.Fire("hr", dep, workflow.EvComplete, "", "")
	var ge *workflow.GuardError
	if !isGuard(err, "Art. 18") || !errors.As(err, &ge) || len(ge.Violations) != 1 || !strings.Contains(ge.Violations[0].Condition, newNo) ||
		!strings.Contains(ge.Violations[0].Condition, "法制机构") {
		t.Fatalf("completing with the certificate out: %v", err)
	}
	if fmt.Sprint(w.Counts()) != fmt.Sprint(before) {
		t.Fatal("the refused completion wrote rows")
	}
	if p, _ := w.Engine.Person(w.Ctx, w.Actor("hr"), sc.person); p.Employment != workflow.EmploymentLeaving {
		t.Fatalf("employment %s", p.Employment)
	}

	// Return: the legal office takes it back and sends it for 注销.
	sc.day("2026-05-11")
	if _, err := w.Fire("hr", dep, workflow.EvRecordReturn, "", fmt.Sprintf(`{"certificate_id":%d}`, loss.CertificateID)); !isForbidden(err) {
		t.Fatalf("HR takes back a justice-issued certificate: %v", err)
	}
	dep = w.MustFire("clerk", dep, workflow.EvRecordReturn, "", fmt.Sprintf(`{"certificate_id":%d}`, loss.CertificateID))
	sc.check("returned: a cancellation case, the departure unblocked",
		map[string]string{oldNo: "voided invalid", newNo: "returned invalid"},
		"cancellation/send_for_cancellation legal_clerk@tianshan due 2026-05-18")
	if bs, _ := w.Engine.DepartureBlockers(w.Ctx, w.Actor("hr"), sc.person); len(bs) != 0 {
		t.Fatalf("blockers after the return: %+v", bs)
	}
	can := w.view("clerk", w.casesOf(sc.person, workflow.PathCancellation)[0].ID)

	sc.day("2026-05-12")
	can = w.MustFire("clerk", can, workflow.EvSendForCancellation, "", "")
	sc.check("sent to justice for 注销", map[string]string{oldNo: "voided invalid", newNo: "returned invalid"},
		"cancellation/record_cancellation justice_liaison@tianshan due -")

	sc.day("2026-05-14")
	w.MustFire("justice", can, workflow.EvRecordCancellation, "", "")
	sc.check("注销 by justice", map[string]string{oldNo: "voided invalid", newNo: "cancelled invalid"})

	sc.day("2026-05-15")
	dep = w.MustFire("hr", dep, workflow.EvComplete, "", "")
	if dep.State != workflow.DepCompleted {
		t.Fatalf("departure %s", dep.State)
	}
	// Gone from the department, and so is the officer's account.
	if _, err := w.Data.Actor(w.Ctx, w.Store, "officer"); !errors.Is(err, workflow.ErrUnauthenticated) {
		t.Fatalf("the departed officer's token: %v", err)
	}
	sc.departed = true
	// Art. 14: the departure is a change the platforms must show within
	// a month of its effective date (辞职 on 2026-05-09).
	sc.check("departure completed: the Art. 14 change report", map[string]string{oldNo: "voided invalid", newNo: "cancelled invalid"},
		"platform_entry/platform_entry_emergency legal_clerk@tianshan due 2026-06-09",
		"platform_entry/platform_entry_random legal_clerk@tianshan due 2026-06-09")
	ps := w.casesOf(sc.person, workflow.PathPlatformEntry)
	var pd workflow.PlatformData
	if err := json.Unmarshal(ps[len(ps)-1].Data, &pd); err != nil || pd.Reason != "change" ||
		pd.Change != workflow.ChangeResignment || pd.ChangedOn != workflow.MustDate("2026-05-09") {
		t.Fatalf("platform change after the departure: %+v %v", pd, err)
	}
	if p, _ := w.Engine.Person(w.Ctx, w.Actor("hr"), sc.person); p.Employment != workflow.EmploymentDeparted {
		t.Fatalf("employment %s", p.Employment)
	}
	sc.states(
		"application:received",
		"platform_entry:entered",
		"loss:received",
		"platform_entry:entered",
		"suspension:restored",
		"platform_entry:entered", // 暂扣
		"platform_entry:entered", // 恢复
		"departure:completed",
		"cancellation:cancelled", // no report of its own: the departure's says it
		"platform_entry:pending",
	)
}
