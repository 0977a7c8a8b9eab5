package jobs_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"certflow/internal/jobs"
	"certflow/internal/store/storetest"
	"certflow/workflow"
)

// TestExpiryDaily sweeps every day from 92 days before a certificate's
// valid-until date to the day after it: the 90-day reminder appears on the
// 90th day before (not the 91st, and the 89th adds nothing), the 30-day
// one on the 30th, each once, however often the sweep runs.
func TestExpiryDaily(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		f := setup(t, b)
		until := storetest.Today.AddDays(92)
		c := f.certificate(justice, until)
		first := map[string]workflow.Date{}
		for d := until.AddDays(-92); !d.After(until.AddDays(1)); d = d.AddDays(1) {
			f.sweep(d)
			if d == until.AddDays(-90) || d == until.AddDays(-30) {
				f.sweep(d) // twice the same day
			}
			for th, rs := range f.expiryOf(c.ID) {
				if len(rs) != 1 {
					t.Fatalf("on %s: %d reminders of %s, want 1", d, len(rs), th)
				}
				if _, ok := first[th]; !ok {
					first[th] = d
				}
			}
		}
		want := map[string]workflow.Date{"90d": until.AddDays(-90), "30d": until.AddDays(-30)}
		if len(first) != 2 || first["90d"] != want["90d"] || first["30d"] != want["30d"] {
			t.Fatalf("reminders first appeared %v, want %v", first, want)
		}
		rs := f.expiryOf(c.ID)
		for th, day := range want {
			r := rs[th][0]
			if r.RemindOn != day || r.Deadline != until || r.Role != workflow.RoleLegalClerk || r.OrgUnitID != f.Data.Units["tianshan"] {
				t.Errorf("%s: %+v", th, r)
			}
			if !strings.Contains(r.Message, c.Number) || !strings.Contains(r.Message, "Art. 15") {
				t.Errorf("%s message %q", th, r.Message)
			}
		}
		if !strings.Contains(rs["90d"][0].Message, "还有 90 天") || !strings.Contains(rs["30d"][0].Message, "还有 30 天") {
			t.Errorf("messages %q / %q", rs["90d"][0].Message, rs["30d"][0].Message)
		}
	})
}

// TestExpiryWindows: one sweep on day D and certificates ending at D+n.
// Each threshold is due on its day and, when that sweep was missed, caught
// up on the next sweep within its window (dated the day it was due); a
// certificate only ever gets the window it is in, and an expired one none.
func TestExpiryWindows(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		f := setup(t, b)
		day := workflow.MustDate("2027-01-15")
		cases := []struct {
			left int
			want string // "" none
		}{
			{120, ""},
			{91, ""},
			{90, "90d"},
			{89, "90d"}, // the 90-day sweep was missed: caught up a day late
			{31, "90d"},
			{30, "30d"},
			{29, "30d"},
			{0, "30d"}, // last valid day (ValidOn includes valid_until)
			{-1, ""},   // expired: invalid already, nothing to remind
		}
		certs := make([]workflow.Certificate, len(cases))
		for i, tc := range cases {
			certs[i] = f.certificate(justice, day.AddDays(tc.left))
		}
		res := f.sweep(day)
		if res.Expiry != 6 {
			t.Errorf("sweep fired %d expiry reminders, want 6", res.Expiry)
		}
		for i, tc := range cases {
			rs := f.expiryOf(certs[i].ID)
			var got []string
			for th := range rs {
				got = append(got, th)
			}
			if tc.want == "" && len(got) != 0 || tc.want != "" && (len(got) != 1 || got[0] != tc.want) {
				t.Errorf("%d days left: reminders %v, want %q", tc.left, got, tc.want)
				continue
			}
			if tc.want != "" {
				days := 90
				if tc.want == "30d" {
					days = 30
				}
				if r := rs[tc.want][0]; r.RemindOn != certs[i].ValidUntil.AddDays(-days) {
					t.Errorf("%d days left: remind_on %s", tc.left, r.RemindOn)
				}
			}
		}
		if res := f.sweep(day); res.Expiry != 0 {
			t.Errorf("second sweep fired %d", res.Expiry)
		}
		// The next day the 91-day certificate reaches its 90-day mark and
		// the 31-day one its 30-day mark.
		if res := f.sweep(day.AddDays(1)); res.Expiry != 2 || len(f.expiryOf(certs[1].ID)["90d"]) != 1 || len(f.expiryOf(certs[4].ID)["30d"]) != 1 {
			t.Errorf("next day: %+v, %v, %v", res, f.expiryOf(certs[1].ID), f.expiryOf(certs[4].ID))
		}
	})
}

// TestExpiryStates: certificates in use (received, suspended) are
// reminded; returned, cancelled and voided ones are not. A Ministry
// certificate reminds 自治区 HR.
func TestExpiryStates(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		f := setup(t, b)
		day := workflow.MustDate("2027-01-15")
		until := day.AddDays(90)
		received := f.certificate(justice, until)

		suspended := f.certificate(justice, until)
		v := f.openCase("clerk", workflow.PathSuspension, suspended.ID, `{"ground":1,"facts":"涂改证件"}`)
		f.MustFire("leader", v, workflow.EvSuspend, "", "")

		returned := f.certificate(justice, until)
		v = f.openCase("clerk", workflow.PathSuspension, returned.ID, `{"ground":2,"facts":"利用证件谋利"}`)
		f.MustFire("leader", v, workflow.EvSurrender, "", "")

		cancelled := f.certificate(justice, until)
		v = f.openCase("clerk", workflow.PathSuspension, cancelled.ID, `{"ground":2,"facts":"利用证件谋利"}`)
		v = f.MustFire("leader", v, workflow.EvSurrender, "", "")
		f.MustFire("clerk", v, workflow.EvRecordCancellation, "", "")

		voided := f.certificate(justice, until)
		v = f.openCase("clerk", workflow.PathLoss, voided.ID, `{"lost_on":"2026-03-10","circumstances":"乘坐公交车时连同钱包一并遗失"}`)
		f.MustFire("clerk", v, workflow.EvPublishNotice, "", `{"medium":"新疆日报","published_on":"2026-03-10"}`)

		min := f.certificate(ministry, until)

		for _, tc := range []struct {
			name  string
			id    int64
			state workflow.CertificateState
			want  bool
		}{
			{"received", received.ID, workflow.CertReceived, true},
			{"suspended", suspended.ID, workflow.CertSuspended, true},
			{"returned", returned.ID, workflow.CertReturned, false},
			{"cancelled", cancelled.ID, workflow.CertCancelled, false},
			{"voided", voided.ID, workflow.CertVoided, false},
			{"ministry", min.ID, workflow.CertReceived, true},
		} {
			if st := f.cert(tc.id).State; st != tc.state {
				t.Fatalf("%s: certificate is %s", tc.name, st)
			}
			f.sweep(day)
			rs := f.expiryOf(tc.id)["90d"]
			if got := len(rs) == 1; got != tc.want || len(rs) > 1 {
				t.Errorf("%s: %d reminders, want %v", tc.name, len(rs), tc.want)
			}
		}
		if r := f.expiryOf(suspended.ID)["90d"][0]; !strings.Contains(r.Message, "暂扣") {
			t.Errorf("suspended message %q", r.Message)
		}
		if r := f.expiryOf(min.ID)["90d"][0]; r.Role != workflow.RoleHR || r.OrgUnitID != f.Data.Units["region"] {
			t.Errorf("Ministry reminder to %s@%d, want hr@region", r.Role, r.OrgUnitID)
		}
	})
}

// platformCase opens an Art. 14 change report: two tasks for the legal
// office, due one calendar month after the change.
func (f *fixture) platformCase(changedOn string) workflow.CaseView {
	f.T.Helper()
	v, err := f.Engine.OpenCase(f.Ctx, f.Actor("clerk"), workflow.OpenCaseInput{Path: workflow.PathPlatformEntry,
		PersonID: f.ClonePerson("zhangwei", nil), Data: []byte(`{"change":"转岗","changed_on":"` + changedOn + `"}`)})
	if err != nil {
		f.T.Fatal(err)
	}
	return v
}

// TestOverdue: an open task due yesterday is escalated once to the
// principal leader of its department; one due today is not; one closed
// before the sweep never is.
func TestOverdue(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		f := setup(t, b)
		open := f.platformCase("2026-03-01")
		closed := f.platformCase("2026-03-01")
		closed = f.MustFire("clerk", closed, workflow.EvEnterEmergency, "", `{"entered_on":"2026-03-09"}`)
		closed = f.MustFire("clerk", closed, workflow.EvCompleteRandom, "", `{"entered_on":"2026-03-09"}`)
		due := workflow.MustDate("2026-04-01")
		var tasks []workflow.Task
		for _, tk := range open.Tasks {
			if tk.Status != workflow.TaskOpen || tk.DueOn != due {
				t.Fatalf("task %+v, want open and due %s", tk, due)
			}
			tasks = append(tasks, tk)
		}
		if len(tasks) != 2 {
			t.Fatalf("%d tasks", len(tasks))
		}

		f.sweep(due) // due today: not overdue
		for _, tk := range tasks {
			if rs := f.overdueOf(tk.ID); len(rs) != 0 {
				t.Fatalf("task due today escalated: %+v", rs)
			}
		}
		for _, d := range []workflow.Date{due.AddDays(1), due.AddDays(1), due.AddDays(2), due.AddDays(40)} {
			f.sweep(d)
			for _, tk := range tasks {
				rs := f.overdueOf(tk.ID)
				if len(rs) != 1 {
					t.Fatalf("on %s task %d has %d overdue reminders, want 1", d, tk.ID, len(rs))
				}
				r := rs[0]
				if r.Role != workflow.RolePrincipal || r.OrgUnitID != f.Data.Units["tianshan"] || r.CaseID != open.ID ||
					r.RemindOn != due.AddDays(1) || r.Deadline != due || r.Threshold != workflow.ThresholdOverdue {
					t.Fatalf("reminder %+v", r)
				}
				if !strings.Contains(r.Message, open.Number) || !strings.Contains(r.Message, "已逾期 1 天") ||
					!strings.Contains(r.Message, tk.Kind.Label()+"（"+tk.Role.Label()+"）") || strings.Contains(r.Message, string(tk.Kind)) {
					t.Fatalf("message %q", r.Message)
				}
			}
		}
		for _, r := range f.reminders() {
			if r.CaseID == closed.ID {
				t.Fatalf("closed task escalated: %+v", r)
			}
		}
		// The principal leader sees them; nobody else, not even the
		// legal office of the same department or a supervising one.
		got := 0
		for _, r := range f.listed("leader") {
			if r.CaseID == open.ID {
				got++
			}
		}
		if got != 2 {
			t.Errorf("leader sees %d of the 2 escalations", got)
		}
		for _, user := range []string{"clerk", "tacheng-clerk", "region-leader", "city-clerk", "supervisor"} {
			for _, r := range f.listed(user) {
				if r.Kind == workflow.ReminderOverdue {
					t.Errorf("%s sees escalation %+v", user, r)
				}
			}
		}
	})
}

// TestRemindersAccess: the listing follows exact role bindings, and
// acknowledging is for those who see the reminder.
func TestRemindersAccess(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		f := setup(t, b)
		day := workflow.MustDate("2027-01-15")
		a := f.certificate(justice, day.AddDays(90))
		a2 := f.certificate(justice, day.AddDays(30))
		m := f.certificate(ministry, day.AddDays(90))
		f.sweep(day)
		ids := func(user string) []int64 {
			var out []int64
			for _, r := range f.listed(user) {
				if r.Kind == workflow.ReminderExpiry {
					out = append(out, r.CertificateID)
				}
			}
			return out
		}
		for _, tc := range []struct {
			user string
			want []int64
		}{
			{"clerk", []int64{a.ID, a2.ID}},
			{"lina", []int64{a.ID, a2.ID}}, // also legal_clerk@天山区
			{"tacheng-clerk", nil},         // the clerk of another region
			{"city-clerk", nil},            // a supervising legal office: not its own certificates
			{"hr", nil},
			{"officer", nil}, // 张伟 himself holds officer only
			{"region-hr", []int64{m.ID}},
		} {
			if got := ids(tc.user); !slices.Equal(got, tc.want) {
				t.Errorf("%s sees %v, want %v", tc.user, got, tc.want)
			}
		}

		r := f.listed("clerk")[0]
		if _, err := f.Sweep.AcknowledgeReminder(f.Ctx, f.Actor("tacheng-clerk"), r.ID); !errors.Is(err, workflow.ErrNotFound) {
			t.Fatalf("another region's clerk acknowledges: %v", err)
		}
		if _, err := f.Sweep.AcknowledgeReminder(f.Ctx, f.Actor("clerk"), 1<<40); !errors.Is(err, workflow.ErrNotFound) {
			t.Fatalf("unknown reminder: %v", err)
		}
		f.Clock.SetDay(day)
		got, err := f.Sweep.AcknowledgeReminder(f.Ctx, f.Actor("clerk"), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.AcknowledgedAt == nil || got.AcknowledgedBy != f.Data.Users["clerk"].ID {
			t.Fatalf("acknowledged %+v", got)
		}
		first := *got.AcknowledgedAt
		f.Clock.SetDay(day.AddDays(1))
		again, err := f.Sweep.AcknowledgeReminder(f.Ctx, f.Actor("lina"), r.ID)
		if err != nil || again.AcknowledgedAt == nil || !again.AcknowledgedAt.Equal(first) || again.AcknowledgedBy != got.AcknowledgedBy {
			t.Fatalf("second acknowledgement: %+v %v", again, err)
		}
		for _, user := range []string{"clerk", "lina"} {
			for _, l := range f.listed(user) {
				if l.ID == r.ID {
					t.Errorf("%s still lists the acknowledged reminder", user)
				}
			}
		}
		// A later sweep does not bring it back.
		f.sweep(day.AddDays(1))
		if rs := f.expiryOf(r.CertificateID)[r.Threshold]; len(rs) != 1 {
			t.Errorf("after acknowledgement and a new sweep: %d reminders", len(rs))
		}
		if _, err := f.Sweep.Reminders(f.Ctx, nil, 0, 10); !errors.Is(err, workflow.ErrUnauthenticated) {
			t.Errorf("nil actor: %v", err)
		}
	})
}

// TestDaily: the schedule fires at 00:05 China time, the first after t.
func TestDaily(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	d := jobs.Daily{Hour: 0, Minute: 5, Location: cst}
	for _, tc := range []struct{ now, want string }{
		{"2026-03-10T00:04:59+08:00", "2026-03-10T00:05:00+08:00"},
		{"2026-03-10T00:05:00+08:00", "2026-03-11T00:05:00+08:00"},
		{"2026-03-10T16:30:00Z", "2026-03-12T00:05:00+08:00"}, // 00:30 CST on the 11th
		{"2026-03-10T15:00:00Z", "2026-03-11T00:05:00+08:00"}, // 23:00 CST on the 10th
		{"2026-02-28T23:00:00+08:00", "2026-03-01T00:05:00+08:00"},
		{"2026-12-31T12:00:00+08:00", "2027-01-01T00:05:00+08:00"},
	} {
		now, _ := time.Parse(time.RFC3339, tc.now)
		want, _ := time.Parse(time.RFC3339, tc.want)
		if got := d.Next(now); !got.Equal(want) {
			t.Errorf("Next(%s) = %s, want %s", tc.now, got.In(cst), tc.want)
		}
	}
}
