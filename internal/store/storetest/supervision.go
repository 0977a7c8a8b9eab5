package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"certflow/workflow"
)

// testSupervision: HR's and supervisors' questions, in scope.
func testSupervision(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	t.Run("departure blockers", func(t *testing.T) {
		w.T = t
		app := w.receivedCertificate(casts[0])
		dep := w.openAs("hr", workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: app.PersonID, Data: json.RawMessage(`{"reason":"退休","effective_on":"2026-03-02"}`)})
		// Another person leaving with nothing out is no blocker.
		w.openAs("hr", workflow.OpenCaseInput{Path: workflow.PathDeparture, PersonID: w.ClonePerson("lina", nil), Data: json.RawMessage(`{"reason":"辞职"}`)})
		for _, tc := range []struct {
			user   string
			person int64
			want   int
		}{{"hr", 0, 1}, {"hr", app.PersonID, 1}, {"supervisor", 0, 1}, {"tacheng-clerk", 0, 0}, {"officer", 0, 0}} {
			bs, err := w.Engine.DepartureBlockers(w.Ctx, w.Actor(tc.user), tc.person)
			if err != nil || len(bs) != tc.want {
				t.Fatalf("%s: %d blockers, want %d (%v)", tc.user, len(bs), tc.want, err)
			}
			if tc.want == 0 {
				continue
			}
			b := bs[0]
			if b.CaseID != dep.ID || b.Reason != workflow.DepartRetire || b.Since != workflow.MustDate("2026-03-02") || len(b.Certificates) != 1 {
				t.Fatalf("blocker %+v", b)
			}
			c := b.Certificates[0]
			if c.CertificateID != app.CertificateID || c.ReturnTo != workflow.RoleLegalClerk || c.TaskID == 0 || c.TaskDueOn != workflow.MustDate("2026-03-09") {
				t.Fatalf("blocking certificate %+v", c)
			}
		}
		w.MustFire("clerk", dep, workflow.EvRecordReturn, "", fmt.Sprintf(`{"certificate_id":%d}`, app.CertificateID))
		if bs, _ := w.Engine.DepartureBlockers(w.Ctx, w.Actor("hr"), 0); len(bs) != 0 {
			t.Fatalf("after return: %+v", bs)
		}
	})
	t.Run("overdue", func(t *testing.T) {
		w.T = t
		// A platform-entry case whose month ran out on 2026-03-01.
		v := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathPlatformEntry, PersonID: w.ClonePerson("zhangwei", nil),
			Data: json.RawMessage(`{"change":"转岗","changed_on":"2026-02-01"}`)})
		due := workflow.MustDate("2026-03-01")
		for _, tc := range []struct {
			user string
			unit int64
			want int
		}{{"leader", 0, 2}, {"supervisor", 0, 2}, {"supervisor", w.Data.Units["tianshan"], 2}, {"supervisor", w.Data.Units["urumqi"], 0}, {"tacheng-clerk", 0, 0},
			// A department out of scope, or none at all, shows nothing.
			{"tacheng-clerk", w.Data.Units["tianshan"], 0}, {"supervisor", 1 << 40, 0}} {
			tasks, counts, err := w.Engine.Overdue(w.Ctx, w.Actor(tc.user), tc.unit, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, tk := range tasks {
				if tk.CaseID == v.ID {
					n++
					if tk.DueOn != due || tk.DaysOverdue != 9 || tk.OrgUnitName == "" || tk.KindLabel != tk.Kind.Label() {
						t.Fatalf("overdue %+v", tk)
					}
				}
			}
			if n != tc.want {
				t.Fatalf("%s/%d: %d overdue of the case, want %d", tc.user, tc.unit, n, tc.want)
			}
			if tc.want > 0 && !slices.ContainsFunc(counts, func(c workflow.OverdueCount) bool {
				return c.OrgUnitID == w.Data.Units["tianshan"] && c.Kind == workflow.TaskPlatformEmergency && c.Count >= 1 && c.OrgUnitName != "" &&
					c.KindLabel == c.Kind.Label()
			}) {
				t.Fatalf("%s/%d: counts %+v", tc.user, tc.unit, counts)
			}
			if (tc.user == "tacheng-clerk" || tc.unit == 1<<40) && len(counts)+len(tasks) != 0 {
				t.Fatalf("%s/%d: sees %+v %+v", tc.user, tc.unit, tasks, counts)
			}
		}
		// Not overdue on its due date.
		w2 := w.openAs("clerk", workflow.OpenCaseInput{Path: workflow.PathPlatformEntry, PersonID: w.ClonePerson("zhangwei", nil),
			Data: json.RawMessage(`{"change":"转岗","changed_on":"2026-02-10"}`)})
		tasks, _, _ := w.Engine.Overdue(w.Ctx, w.Actor("leader"), 0, 0, 100)
		for _, tk := range tasks {
			if tk.CaseID == w2.ID {
				t.Fatalf("task due today is overdue: %+v", tk)
			}
		}
	})
	t.Run("platform export", func(t *testing.T) {
		w.T = t
		app := w.reach(casts[0], workflow.AppReceived)
		rows, err := w.Engine.PlatformExport(w.Ctx, w.Actor("clerk"), []int64{app.PersonID})
		if err != nil || len(rows) != 1 {
			t.Fatalf("%v %v", rows, err)
		}
		r := rows[0]
		if r.Kind != "行政执法证" || r.Law == "未参加" || r.Region != "天山区行政区域" || r.Age != 40 || r.Categories != "安全生产监督管理、应急管理" || len(r.Cells()) != len(workflow.PlatformHeader) {
			t.Fatalf("row %+v", r)
		}
		if _, err := w.Engine.PlatformExport(w.Ctx, w.Actor("tacheng-clerk"), []int64{app.PersonID}); err == nil {
			t.Fatal("another region exported the person")
		}
	})
}
