package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"certflow/internal/auth"
	"certflow/internal/tune"
	"certflow/workflow"
)

// inboxItems returns the first limit tasks of actor's inbox, by due date.
func (w *World) inboxItems(actor *workflow.Actor, limit int) ([]workflow.InboxTask, error) {
	p, err := w.Engine.Inbox(w.Ctx, actor, workflow.InboxFilter{Limit: limit})
	return p.Items, err
}

// inbox returns user's whole inbox (every page) with its counts.
func (w *World) inbox(user string, f workflow.InboxFilter) ([]workflow.InboxTask, workflow.InboxCounts) {
	w.T.Helper()
	var all []workflow.InboxTask
	var counts workflow.InboxCounts
	for {
		p, err := w.Engine.Inbox(w.Ctx, w.Actor(user), f)
		if err != nil {
			w.T.Fatalf("inbox of %s: %v", user, err)
		}
		all, counts = append(all, p.Items...), p.Counts
		if p.NextCursor == "" {
			return all, counts
		}
		f.Cursor = p.NextCursor
	}
}

// openTask returns c's open task of kind, as user's inbox lists it or not.
func (w *World) openTask(c workflow.CaseView, kind workflow.TaskKind) workflow.Task {
	w.T.Helper()
	t, ok := openTasks(w.view("admin", c.ID))[kind]
	if !ok {
		w.T.Fatalf("case %d has no open %s task", c.ID, kind)
	}
	return t
}

// taskIn finds task id in items.
func taskIn(items []workflow.InboxTask, id int64) (workflow.InboxTask, bool) {
	i := slices.IndexFunc(items, func(t workflow.InboxTask) bool { return t.ID == id })
	if i < 0 {
		return workflow.InboxTask{}, false
	}
	return items[i], true
}

// inboxState is what a refused inbox command must leave as it was: every
// table's row count, and the columns task acts change.
func (w *World) inboxState() string {
	w.T.Helper()
	var extra [6]int64
	for i, q := range []string{
		"SELECT COALESCE(sum(version), 0) FROM cases",
		"SELECT count(*) FROM tasks WHERE assignee_user_id IS NOT NULL",
		"SELECT COALESCE(sum(COALESCE(assignee_user_id, 0)), 0) FROM tasks",
		"SELECT count(*) FROM tasks WHERE reminded_at IS NOT NULL",
		"SELECT COALESCE(sum(priority), 0) FROM tasks",
		"SELECT count(*) FROM delegations WHERE revoked_at IS NOT NULL",
	} {
		if err := w.Store.DB().QueryRowContext(w.Ctx, q).Scan(&extra[i]); err != nil {
			w.T.Fatalf("%s: %v", q, err)
		}
	}
	return fmt.Sprint(w.Counts(), extra)
}

// refused runs do, checks its error with want and that it wrote nothing.
func (w *World) refused(t *testing.T, name string, do func() error, want func(error) bool) {
	t.Helper()
	before := w.inboxState()
	err := do()
	if !want(err) {
		t.Fatalf("%s: unexpected answer %v", name, err)
	}
	if after := w.inboxState(); after != before {
		t.Fatalf("%s: refused, yet rows changed: %s → %s", name, before, after)
	}
}

func isConflict(err error) bool { return errors.Is(err, workflow.ErrConflict) }
func isNotFound(err error) bool { return errors.Is(err, workflow.ErrNotFound) }
func isRateLimited(err error) bool {
	var rl *workflow.RateLimitError
	return errors.As(err, &rl) && rl.RetryAfter > 0 && rl.RetryAfter <= workflow.RemindEvery
}

func isInputOn(field string) func(error) bool {
	return func(err error) bool {
		var in *workflow.InputError
		return errors.As(err, &in) && in.Field == field
	}
}

// fireFor fires ev on c as user standing in for delegator.
func (w *World) fireFor(user, delegator string, c workflow.CaseView, ev workflow.EventName, comment string) (workflow.Result, error) {
	return w.Engine.Fire(w.Ctx, workflow.Command{Actor: w.Actor(user), OnBehalfOf: w.Data.Users[delegator].ID, CaseID: c.ID,
		Event: ev, ExpectedVersion: w.view("admin", c.ID).Version, Comment: comment})
}

// act runs a task act as user.
func (w *World) act(do func(context.Context, *workflow.Actor, int64, workflow.TaskActInput) (workflow.TaskActResult, error),
	user string, task int64, in workflow.TaskActInput) (workflow.TaskActResult, error) {
	return do(w.Ctx, w.Actor(user), task, in)
}

// pending opens an application for a fresh applicant, prepared by office
// (clerk or clerk-leader), and submits it for approval.
func (w *World) pending(office string) workflow.CaseView {
	w.T.Helper()
	v := w.Open(office, workflow.PathApplication, w.ClonePerson("zhangwei", nil), categories)
	return w.MustFire(office, v, workflow.EvSubmitForApproval, "", "")
}

// history returns the rows of c's history named ev.
func (w *World) history(c workflow.CaseView, ev workflow.EventName) []workflow.Event {
	w.T.Helper()
	var out []workflow.Event
	for _, e := range w.view("admin", c.ID).History {
		if e.Event == ev {
			out = append(out, e)
		}
	}
	return out
}

// testInbox: filters, sorts and pages, badges, claims, 转交, 催办, 抄送 and
// 代理, on a real store; every refusal writes nothing.
func testInbox(t *testing.T, open Opener) {
	t.Run("ListFiltersSortsPages", func(t *testing.T) { testInboxList(t, open) })
	t.Run("Claim", func(t *testing.T) { testInboxClaim(t, open) })
	t.Run("Reassign", func(t *testing.T) { testInboxReassign(t, open) })
	t.Run("Remind", func(t *testing.T) { testInboxRemind(t, open) })
	t.Run("Copy", func(t *testing.T) { testInboxCopy(t, open) })
	t.Run("Delegation", func(t *testing.T) { testInboxDelegation(t, open) })
}

// clerkRow is an open legal-office task at 天山区 as the database has it.
type clerkRow struct {
	id       int64
	kind     workflow.TaskKind
	path     workflow.PathName
	state    workflow.State
	due      workflow.Date
	priority int
	assignee int64
}

func (r clerkRow) dueKey() workflow.Date {
	if r.due.IsZero() {
		return workflow.NoDueDate
	}
	return r.due
}

func dateCmp(a, b workflow.Date) int { return a.Time().Compare(b.Time()) }

// testInboxList gives the clerk tasks of several paths, kinds, states, due
// dates, priorities and holders, then pages every filter in every sort and
// compares with the same selection made from the rows themselves.
func testInboxList(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	var cases []workflow.CaseView
	for _, st := range []workflow.State{workflow.AppApproved, workflow.AppApproved, workflow.AppApproved, workflow.AppIssued, workflow.AppIssued, workflow.AppReceived} {
		cases = append(cases, w.reach(casts[0], st))
	}
	// 李娜's own application: in the clerk's inbox, never in hers.
	lina := w.Open("clerk", workflow.PathApplication, w.Data.People["lina"], categories)
	lina = w.MustFire("clerk", lina, workflow.EvSubmitForApproval, "", "")
	lina = w.MustFire("leader", lina, workflow.EvApprove, "同意", "")
	// Vary due dates (ties included) directly: the paths give most tasks none.
	dues := []string{"", "2026-03-05", "2026-03-09", "2026-03-10", "2026-03-13", "2026-03-13", "", "2026-02-01", "2026-04-30"}
	// Approvals for the principal leaders: clerk-leader's inbox has two
	// sources (legal office and principal leader at 天山区).
	for range 3 {
		w.pending("clerk")
	}
	var ids []int64
	rows, err := w.Store.DB().QueryContext(w.Ctx, `SELECT id FROM tasks WHERE status = 'open' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) < 8 {
		t.Fatalf("only %d clerk tasks", len(ids))
	}
	for i, id := range ids {
		var due any
		if d := dues[i%len(dues)]; d != "" {
			due = workflow.MustDate(d)
		}
		if _, err := w.Store.DB().ExecContext(w.Ctx, `UPDATE tasks SET due_on = $1 WHERE id = $2`, due, id); err != nil {
			t.Fatal(err)
		}
	}
	// Holders and urgency through the engine.
	mustAct := func(do func(context.Context, *workflow.Actor, int64, workflow.TaskActInput) (workflow.TaskActResult, error), user string, id int64) {
		t.Helper()
		if _, err := w.act(do, user, id, workflow.TaskActInput{Comment: "请尽快办理"}); err != nil {
			t.Fatalf("act on task %d as %s: %v", id, user, err)
		}
	}
	mustAct(w.Engine.ClaimTask, "clerk", ids[1])
	mustAct(w.Engine.ClaimTask, "clerk", ids[4])
	mustAct(w.Engine.ClaimTask, "lina", ids[2])
	mustAct(w.Engine.RemindTask, "leader", ids[2])
	mustAct(w.Engine.RemindTask, "leader", ids[5])
	mustAct(w.Engine.RemindTask, "leader", ids[len(ids)-5])
	mustAct(w.Engine.RemindTask, "clerk", ids[len(ids)-1])
	mustAct(w.Engine.ClaimTask, "clerk-leader", ids[len(ids)-2])

	// The rows as they are: the open tasks of roles at 天山区.
	rowsOf := func(roles ...workflow.Role) []clerkRow {
		var out []clerkRow
		for _, role := range roles {
			rows, err := w.Store.DB().QueryContext(w.Ctx, `SELECT t.id, t.kind, c.path, c.state, t.due_on, t.priority, COALESCE(t.assignee_user_id, 0)
				FROM tasks t JOIN cases c ON c.id = t.case_id WHERE t.status = 'open' AND t.role = $1 AND t.org_unit_id = $2`, role, w.Data.Units["tianshan"])
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var r clerkRow
				if err := rows.Scan(&r.id, &r.kind, &r.path, &r.state, &r.due, &r.priority, &r.assignee); err != nil {
					t.Fatal(err)
				}
				out = append(out, r)
			}
			rows.Close()
		}
		return out
	}
	want := rowsOf(workflow.RoleLegalClerk)
	clerk := w.Data.Users["clerk"].ID
	users := []struct {
		name string
		rows []clerkRow
	}{{"clerk", want}, {"clerk-leader", rowsOf(workflow.RoleLegalClerk, workflow.RolePrincipal)}}
	sorts := map[workflow.InboxSort]func(a, b clerkRow) int{
		workflow.SortDue: func(a, b clerkRow) int {
			return cmp.Or(dateCmp(a.dueKey(), b.dueKey()), cmp.Compare(a.id, b.id))
		},
		workflow.SortPriority: func(a, b clerkRow) int {
			return cmp.Or(cmp.Compare(b.priority, a.priority), dateCmp(a.dueKey(), b.dueKey()), cmp.Compare(a.id, b.id))
		},
		workflow.SortAge: func(a, b clerkRow) int { return cmp.Compare(a.id, b.id) },
	}
	overdue := func(r clerkRow) bool { return !r.due.IsZero() && r.due.Before(Today) }
	var me int64 // the user the filters run for
	filters := []struct {
		name string
		f    workflow.InboxFilter
		keep func(clerkRow) bool
	}{
		{"all", workflow.InboxFilter{}, func(clerkRow) bool { return true }},
		{"path application", workflow.InboxFilter{Path: workflow.PathApplication}, func(r clerkRow) bool { return r.path == workflow.PathApplication }},
		{"path platform entry", workflow.InboxFilter{Path: workflow.PathPlatformEntry}, func(r clerkRow) bool { return r.path == workflow.PathPlatformEntry }},
		{"kind", workflow.InboxFilter{Kind: workflow.TaskRecordReceipt}, func(r clerkRow) bool { return r.kind == workflow.TaskRecordReceipt }},
		{"case state", workflow.InboxFilter{State: workflow.AppIssued}, func(r clerkRow) bool { return r.state == workflow.AppIssued }},
		{"org unit", workflow.InboxFilter{OrgUnitID: w.Data.Units["tianshan"]}, func(clerkRow) bool { return true }},
		{"another org unit", workflow.InboxFilter{OrgUnitID: w.Data.Units["urumqi"]}, func(clerkRow) bool { return false }},
		{"due before", workflow.InboxFilter{DueBefore: workflow.MustDate("2026-03-13")}, func(r clerkRow) bool {
			return !r.due.IsZero() && r.due.Before(workflow.MustDate("2026-03-13"))
		}},
		{"overdue", workflow.InboxFilter{Overdue: true}, overdue},
		{"claimed by me", workflow.InboxFilter{Claimed: workflow.ClaimedByMe}, func(r clerkRow) bool { return r.assignee == me }},
		{"unclaimed", workflow.InboxFilter{Claimed: workflow.Unclaimed}, func(r clerkRow) bool { return r.assignee == 0 }},
		{"claimed by others", workflow.InboxFilter{Claimed: workflow.ClaimedByOthers}, func(r clerkRow) bool { return r.assignee != 0 && r.assignee != me }},
		{"application and overdue", workflow.InboxFilter{Path: workflow.PathApplication, Overdue: true}, func(r clerkRow) bool {
			return r.path == workflow.PathApplication && overdue(r)
		}},
	}
	for _, u := range users {
		me = w.Data.Users[u.name].ID
		for _, tc := range filters {
			for _, sort := range workflow.InboxSorts {
				t.Run(u.name+"/"+tc.name+"/"+string(sort), func(t *testing.T) {
					w.T = t
					var exp []int64
					sorted := slices.Clone(u.rows)
					slices.SortFunc(sorted, sorts[sort])
					for _, r := range sorted {
						if tc.keep(r) {
							exp = append(exp, r.id)
						}
					}
					f := tc.f
					f.Sort, f.Limit = sort, 3
					var got []int64
					pages := 0
					for {
						p, err := w.Engine.Inbox(w.Ctx, w.Actor(u.name), f)
						if err != nil {
							t.Fatal(err)
						}
						pages++
						for _, it := range p.Items {
							if slices.Contains(got, it.ID) {
								t.Fatalf("task %d twice", it.ID)
							}
							got = append(got, it.ID)
							if it.Overdue != (!it.DueOn.IsZero() && it.DueOn.Before(Today)) || it.ClaimedByMe != (it.AssigneeID == me) || it.CaseVersion == 0 {
								t.Fatalf("row %+v", it)
							}
						}
						if p.NextCursor == "" {
							break
						}
						if len(p.Items) != 3 || pages > 20 {
							t.Fatalf("cursor after a page of %d", len(p.Items))
						}
						f.Cursor = p.NextCursor
					}
					if fmt.Sprint(got) != fmt.Sprint(exp) {
						t.Fatalf("got %v, want %v", got, exp)
					}
					// A cursor only when more follow: no empty last page.
					if want := max(1, (len(exp)+2)/3); pages != want {
						t.Fatalf("%d items in %d pages, want %d", len(exp), pages, want)
					}
				})
			}
		}
	}
	w.T = t
	t.Run("badges", func(t *testing.T) {
		w.T = t
		_, c := w.inbox("clerk", workflow.InboxFilter{Path: workflow.PathPlatformEntry}) // counts ignore the filters
		var exp workflow.InboxCounts
		paths := map[workflow.PathName]int{}
		for _, r := range want {
			exp.Total++
			paths[r.path]++
			switch {
			case r.assignee == 0:
				exp.Unclaimed++
			case r.assignee == clerk:
				exp.ClaimedByMe++
			default:
				exp.ClaimedByOthers++
			}
			if overdue(r) {
				exp.Overdue++
			}
		}
		badges := func(c workflow.InboxCounts) [6]int {
			return [6]int{c.Total, c.Overdue, c.ClaimedByMe, c.Unclaimed, c.ClaimedByOthers, c.Delegated}
		}
		if badges(c) != badges(exp) || exp.Overdue == 0 || exp.ClaimedByOthers == 0 || exp.ClaimedByMe == 0 {
			t.Fatalf("counts %+v, want %+v", c, exp)
		}
		for _, pc := range c.ByPath {
			if paths[pc.Path] != pc.Count {
				t.Fatalf("by path %+v, want %v", c.ByPath, paths)
			}
			delete(paths, pc.Path)
		}
		if len(paths) != 0 || len(c.ByOrgUnit) != 1 || c.ByOrgUnit[0].Count != exp.Total {
			t.Fatalf("by path %+v, by unit %+v", c.ByPath, c.ByOrgUnit)
		}
	})
	t.Run("own case left out", func(t *testing.T) {
		w.T = t
		task := w.openTask(lina, workflow.TaskSubmitToIssuer)
		mine, _ := w.inbox("lina", workflow.InboxFilter{})
		theirs, _ := w.inbox("clerk", workflow.InboxFilter{})
		if _, ok := taskIn(mine, task.ID); ok {
			t.Fatal("李娜 sees the task of her own application")
		}
		if _, ok := taskIn(theirs, task.ID); !ok || len(mine) != len(theirs)-1 {
			t.Fatalf("clerk %d tasks, 李娜 %d", len(theirs), len(mine))
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		w.T = t
		p, _ := w.Engine.Inbox(w.Ctx, w.Actor("clerk"), workflow.InboxFilter{Limit: 2})
		for name, f := range map[string]workflow.InboxFilter{
			"sort":                   {Sort: "random"},
			"claimed":                {Claimed: "maybe"},
			"cursor garbage":         {Cursor: "!!"},
			"cursor of another sort": {Cursor: p.NextCursor, Sort: workflow.SortAge},
		} {
			if _, err := w.Engine.Inbox(w.Ctx, w.Actor("clerk"), f); !isInput(err) {
				t.Fatalf("%s: %v", name, err)
			}
		}
		// Nothing for someone without a role; nothing out of scope.
		if items, c := w.inbox("officer", workflow.InboxFilter{}); len(items) != 0 || c.Total != 0 {
			t.Fatalf("officer's inbox %v %+v", items, c)
		}
		if items, _ := w.inbox("tacheng-clerk", workflow.InboxFilter{}); len(items) != 0 {
			t.Fatalf("塔城's clerk sees %v", items)
		}
	})
}

// testInboxClaim: two concurrent claims, one wins, the other is 409; the
// holder alone completes the task, and the claim goes with it.
func testInboxClaim(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	for round := range 4 {
		v := w.pending("clerk")
		task := w.openTask(v, workflow.TaskApprove)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		users := []string{"leader", "deputy"}
		for i, user := range users {
			actor := w.Actor(user)
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = w.Engine.ClaimTask(context.Background(), actor, task.ID, workflow.TaskActInput{})
			}()
		}
		wg.Wait()
		winner, loser := -1, -1
		for i, err := range errs {
			switch {
			case err == nil:
				winner = i
			case isConflict(err):
				loser = i
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if winner < 0 || loser < 0 {
			t.Fatalf("round %d: %v", round, errs)
		}
		if n := len(w.history(v, workflow.ActClaim)); n != 1 {
			t.Fatalf("round %d: %d claims in history", round, n)
		}
		win, lose := users[winner], users[loser]
		// The history reads who did what, in words.
		if h := w.history(v, workflow.ActClaim)[0]; h.ActorName != win || h.Label != "认领任务" {
			t.Fatalf("round %d: claim in history %+v", round, h)
		}
		if h := w.history(v, workflow.EvSubmitForApproval)[0]; h.ActorName != "clerk" || h.Label != "提交审批" {
			t.Fatalf("round %d: submission in history %+v", round, h)
		}
		theirs, _ := w.inbox(lose, workflow.InboxFilter{})
		if it, ok := taskIn(theirs, task.ID); !ok || it.AssigneeID != w.Data.Users[win].ID || it.ClaimedByMe || it.AssigneeName != win {
			t.Fatalf("the loser's inbox shows %+v", it)
		}
		mine, c := w.inbox(win, workflow.InboxFilter{Claimed: workflow.ClaimedByMe})
		if it, ok := taskIn(mine, task.ID); !ok || !it.ClaimedByMe || c.ClaimedByMe == 0 {
			t.Fatalf("the winner's inbox shows %+v", it)
		}
		cur := w.view("admin", v.ID)
		w.refused(t, "the loser approves", func() error { _, err := w.Fire(lose, cur, workflow.EvApprove, "同意", ""); return err }, func(err error) bool {
			return isConflict(err) && strings.Contains(err.Error(), "held by "+win+":") // named as everywhere, not by ID
		})
		w.refused(t, "the loser unclaims", func() error {
			_, err := w.act(w.Engine.UnclaimTask, lose, task.ID, workflow.TaskActInput{})
			return err
		}, isConflict)
		if round%2 == 1 { // hand over: unclaim, the other claims
			if _, err := w.act(w.Engine.UnclaimTask, win, task.ID, workflow.TaskActInput{}); err != nil {
				t.Fatal(err)
			}
			w.refused(t, "unclaim what nobody holds", func() error {
				_, err := w.act(w.Engine.UnclaimTask, win, task.ID, workflow.TaskActInput{})
				return err
			}, isConflict)
			if _, err := w.act(w.Engine.ClaimTask, lose, task.ID, workflow.TaskActInput{}); err != nil {
				t.Fatal(err)
			}
			win, lose = lose, win
		}
		// Claiming one's own again changes nothing.
		before := w.inboxState()
		if res, err := w.act(w.Engine.ClaimTask, win, task.ID, workflow.TaskActInput{}); err != nil || res.Event != nil {
			t.Fatalf("claim again: %+v %v", res, err)
		}
		if w.inboxState() != before {
			t.Fatal("claiming again wrote")
		}
		done := w.MustFire(win, w.view("admin", v.ID), workflow.EvApprove, "同意", "")
		if _, open := openTasks(done)[workflow.TaskApprove]; open {
			t.Fatal("approval task still open")
		}
		if items, _ := w.inbox(win, workflow.InboxFilter{}); func() bool { _, ok := taskIn(items, task.ID); return ok }() {
			t.Fatal("a closed task stays in the inbox")
		}
	}
	prepared := w.pending("clerk-leader")
	pt := w.openTask(prepared, workflow.TaskApprove)
	other := w.openTask(w.pending("clerk"), workflow.TaskApprove)
	for _, tc := range []struct {
		name, user string
		task       int64
		want       func(error) bool
	}{
		{"without the role", "clerk", other.ID, isForbidden},
		{"the preparer", "clerk-leader", pt.ID, isForbidden},
		{"out of scope", "tacheng-clerk", other.ID, isNotFound},
		{"no such task", "leader", 1 << 40, isNotFound},
		{"closed task", "leader", closedTask(w, workflow.TaskApprove), isConflict},
	} {
		w.refused(t, tc.name, func() error {
			_, err := w.act(w.Engine.ClaimTask, tc.user, tc.task, workflow.TaskActInput{})
			return err
		}, tc.want)
	}
	// A holder who is disabled holds nothing: a colleague claims the task,
	// the history saying whose hold ended, or completes it at once.
	claimed, completed := w.pending("clerk"), w.pending("clerk")
	for _, v := range []workflow.CaseView{claimed, completed} {
		if _, err := w.act(w.Engine.ClaimTask, "deputy", w.openTask(v, workflow.TaskApprove).ID, workflow.TaskActInput{}); err != nil {
			t.Fatal(err)
		}
	}
	w.setDisabled("deputy", true)
	defer w.setDisabled("deputy", false)
	res, err := w.act(w.Engine.ClaimTask, "leader", w.openTask(claimed, workflow.TaskApprove).ID, workflow.TaskActInput{})
	if err != nil || res.Task.AssigneeID != w.Data.Users["leader"].ID || res.Event == nil ||
		!strings.Contains(string(res.Event.Data), fmt.Sprintf(`"released_from_user_id":%d`, w.Data.Users["deputy"].ID)) {
		t.Fatalf("claiming the disabled deputy's task: %+v %v", res, err)
	}
	if _, err := w.Fire("leader", w.view("admin", completed.ID), workflow.EvApprove, "同意", ""); err != nil {
		t.Fatalf("approving what the disabled deputy held: %v", err)
	}
	// The legal office records justice's decision, but not over the
	// liaison who claimed the task to record it.
	sub := w.submittedOn(casts[0], "2026-03-09")
	if _, err := w.act(w.Engine.ClaimTask, "justice", w.openTask(sub, workflow.TaskRecordDecision).ID, workflow.TaskActInput{}); err != nil {
		t.Fatal(err)
	}
	issue := fmt.Sprintf(`{"number":"H-%d","valid_until":"2031-03-09"}`, w.seq.Add(1))
	w.refused(t, "the clerk records the decision the liaison holds", func() error {
		_, err := w.Fire("clerk", w.view("admin", sub.ID), workflow.EvIssue, "", issue)
		return err
	}, isConflict)
	w.MustFire("justice", w.view("admin", sub.ID), workflow.EvIssue, "", issue)
}

// setDisabled disables or enables demo user name, as certflow user does.
func (w *World) setDisabled(name string, disabled bool) {
	w.T.Helper()
	err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error {
		return tx.(interface {
			SetUserDisabled(context.Context, int64, bool) error
		}).SetUserDisabled(w.Ctx, w.Data.Users[name].ID, disabled)
	})
	if err != nil {
		w.T.Fatal(err)
	}
}

// closedTask returns the ID of a closed task of kind.
func closedTask(w *World, kind workflow.TaskKind) int64 {
	w.T.Helper()
	var id int64
	if err := w.Store.DB().QueryRowContext(w.Ctx, `SELECT min(id) FROM tasks WHERE status = 'closed' AND kind = $1`, kind).Scan(&id); err != nil {
		w.T.Fatal(err)
	}
	return id
}

// testInboxReassign: 转交 to whoever may do it, with a reason.
func testInboxReassign(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	v := w.pending("clerk")
	task := w.openTask(v, workflow.TaskApprove)
	prepared := w.pending("clerk-leader")
	pt := w.openTask(prepared, workflow.TaskApprove)
	id := func(user string) int64 { return w.Data.Users[user].ID }
	reassign := func(user string, task, to int64, reason string) error {
		_, err := w.act(w.Engine.ReassignTask, user, task, workflow.TaskActInput{UserID: to, Comment: reason})
		return err
	}
	for _, tc := range []struct {
		name, user string
		task, to   int64
		reason     string
		want       func(error) bool
	}{
		{"to someone without the role", "leader", task.ID, id("clerk"), "出差", isInputOn("user_id")},
		{"to the supervisor above", "leader", task.ID, id("region-leader"), "出差", isInputOn("user_id")},
		{"to the preparer", "leader", pt.ID, id("clerk-leader"), "出差", isInputOn("user_id")},
		{"to nobody", "leader", task.ID, 1 << 40, "出差", isInputOn("user_id")},
		{"without a reason", "leader", task.ID, id("deputy"), " ", isInputOn("comment")},
		{"by someone without the role", "clerk", task.ID, id("deputy"), "出差", isForbidden},
		{"out of scope", "tacheng-clerk", task.ID, id("deputy"), "出差", isNotFound},
	} {
		w.refused(t, tc.name, func() error { return reassign(tc.user, tc.task, tc.to, tc.reason) }, tc.want)
	}
	if err := reassign("leader", task.ID, id("deputy"), "本人出差，请副职审批"); err != nil {
		t.Fatal(err)
	}
	ev := w.history(v, workflow.ActReassign)
	if len(ev) != 1 || ev[0].Actor != id("leader") || ev[0].Comment != "本人出差，请副职审批" || ev[0].From != workflow.AppPendingApproval || ev[0].To != ev[0].From {
		t.Fatalf("history %+v", ev)
	}
	cur := w.view("admin", v.ID)
	if ev[0].Seq != cur.Version || openTasks(cur)[workflow.TaskApprove].AssigneeID != id("deputy") {
		t.Fatalf("seq %d, version %d, tasks %+v", ev[0].Seq, cur.Version, cur.Tasks)
	}
	w.refused(t, "the former holder approves", func() error { _, err := w.Fire("leader", cur, workflow.EvApprove, "同意", ""); return err }, isConflict)
	w.refused(t, "the former holder reassigns", func() error { return reassign("leader", task.ID, id("clerk-leader"), "x") }, isConflict)
	// The holder may pass it on.
	if err := reassign("deputy", task.ID, id("clerk-leader"), "请另一位领导审批"); err != nil {
		t.Fatal(err)
	}
	w.MustFire("clerk-leader", w.view("admin", v.ID), workflow.EvApprove, "同意", "")
}

// testInboxRemind: 催办 is recorded, makes the task urgent, and is
// rate-limited to once per task per day.
func testInboxRemind(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	v := w.pending("clerk")
	task := w.openTask(v, workflow.TaskApprove)
	res, err := w.act(w.Engine.RemindTask, "clerk", task.ID, workflow.TaskActInput{Comment: "申请人急需上岗"})
	if err != nil || res.Task.Priority != workflow.PriorityUrgent || res.Task.RemindedAt == nil || res.Event == nil || res.Event.Event != workflow.ActRemind {
		t.Fatalf("remind: %+v %v", res, err)
	}
	items, _ := w.inbox("leader", workflow.InboxFilter{Sort: workflow.SortPriority})
	if len(items) == 0 || items[0].ID != task.ID || items[0].RemindedAt == nil {
		t.Fatalf("the urged task does not lead the leader's inbox: %+v", items)
	}
	w.refused(t, "again within a day", func() error {
		_, err := w.act(w.Engine.RemindTask, "clerk", task.ID, workflow.TaskActInput{})
		return err
	}, isRateLimited)
	w.refused(t, "by someone else within a day", func() error {
		_, err := w.act(w.Engine.RemindTask, "city-clerk", task.ID, workflow.TaskActInput{})
		return err
	}, isRateLimited)
	w.refused(t, "out of scope", func() error {
		_, err := w.act(w.Engine.RemindTask, "tacheng-clerk", task.ID, workflow.TaskActInput{})
		return err
	}, isNotFound)
	own := w.Open("clerk", workflow.PathApplication, w.Data.People["zhangwei"], categories)
	own = w.MustFire("clerk", own, workflow.EvSubmitForApproval, "", "")
	w.refused(t, "the officer urges his own application", func() error {
		_, err := w.act(w.Engine.RemindTask, "officer", w.openTask(own, workflow.TaskApprove).ID, workflow.TaskActInput{})
		return err
	}, isForbidden)
	ownTask := w.openTask(own, workflow.TaskApprove)
	if _, err := w.act(w.Engine.ClaimTask, "leader", ownTask.ID, workflow.TaskActInput{}); err != nil {
		t.Fatal(err)
	}
	w.refused(t, "the holder urges himself", func() error {
		_, err := w.act(w.Engine.RemindTask, "leader", ownTask.ID, workflow.TaskActInput{})
		return err
	}, isInputOn("task"))
	// A day later it may be urged again.
	later, err := workflow.NewEngine(w.Store, workflow.Options{Clock: func() time.Time { return Now.Add(workflow.RemindEvery + time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := later.RemindTask(w.Ctx, w.Actor("clerk"), task.ID, workflow.TaskActInput{}); err != nil {
		t.Fatal(err)
	}
	if n := len(w.history(v, workflow.ActRemind)); n != 2 {
		t.Fatalf("%d reminders in history", n)
	}
}

// testInboxCopy: 抄送 lets users of the case's line read it, never act.
func testInboxCopy(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	v := w.pending("clerk")
	task := w.openTask(v, workflow.TaskApprove)
	id := func(user string) int64 { return w.Data.Users[user].ID }
	cp := func(user string, ids ...int64) (workflow.CopyResult, error) {
		return w.Engine.CopyCase(w.Ctx, w.Actor(user), v.ID, workflow.CopyInput{UserIDs: ids, Comment: "请知悉"})
	}
	if _, err := w.Engine.CaseView(w.Ctx, w.Actor("justice"), v.ID); !isNotFound(err) {
		t.Fatalf("the liaison reads a case not yet submitted: %v", err)
	}
	for _, tc := range []struct {
		name, user string
		to         int64
		want       func(error) bool
	}{
		{"to another region", "leader", id("tacheng-clerk"), isInputOn("user_ids")},
		{"to an officer account", "leader", id("officer"), isInputOn("user_ids")},
		{"to nobody", "leader", 1 << 40, isInputOn("user_ids")},
		{"to oneself", "leader", id("leader"), isInputOn("user_ids")},
		{"by someone who may not act", "hr", id("justice"), isForbidden},
		{"out of scope", "tacheng-clerk", id("justice"), isNotFound},
	} {
		w.refused(t, tc.name, func() error { _, err := cp(tc.user, tc.to); return err }, tc.want)
	}
	res, err := cp("leader", id("justice"), id("region-clerk"))
	if err != nil || len(res.UserIDs) != 2 || res.Event == nil || res.Event.Event != workflow.ActCopy {
		t.Fatalf("copy: %+v %v", res, err)
	}
	if again, err := cp("leader", id("justice")); err != nil || again.Event != nil || len(again.UserIDs) != 0 || fmt.Sprint(again.AlreadyCopied) != fmt.Sprint([]int64{id("justice")}) {
		t.Fatalf("copy again: %+v %v", again, err)
	}
	rv, err := w.Engine.CaseView(w.Ctx, w.Actor("justice"), v.ID)
	if err != nil || len(rv.Allowed) != 0 || len(rv.History) == 0 {
		t.Fatalf("the copied liaison reads %+v, %v", rv.Allowed, err)
	}
	copies, err := w.Engine.Copies(w.Ctx, w.Actor("justice"), 0, 10)
	if err != nil || len(copies) != 1 || copies[0].CaseID != v.ID || copies[0].CopiedBy != id("leader") || copies[0].Comment != "请知悉" {
		t.Fatalf("copies %+v %v", copies, err)
	}
	cur := w.view("admin", v.ID)
	// The copy lets them read the case: they are told why they may not
	// act (403), not that it does not exist.
	w.refused(t, "the copied withdraws", func() error { _, err := w.Fire("justice", cur, workflow.EvWithdraw, "x", ""); return err }, isForbidden)
	w.refused(t, "the copied claims", func() error {
		_, err := w.act(w.Engine.ClaimTask, "justice", task.ID, workflow.TaskActInput{})
		return err
	}, isForbidden)
	w.refused(t, "the copied urges", func() error {
		_, err := w.act(w.Engine.RemindTask, "justice", task.ID, workflow.TaskActInput{})
		return err
	}, isForbidden)
	if other, err := w.Engine.Copies(w.Ctx, w.Actor("clerk"), 0, 10); err != nil || len(other) != 0 {
		t.Fatalf("the clerk's copies %+v", other)
	}
}

// testInboxDelegation: a deputy sees and completes the delegator's tasks,
// recorded on their behalf, only while the delegation runs and never where
// either has a conflict.
func testInboxDelegation(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	id := func(user string) int64 { return w.Data.Users[user].ID }
	delegate := func(from, to string, start, end workflow.Date) workflow.Delegation {
		t.Helper()
		d, err := w.Engine.CreateDelegation(w.Ctx, w.Actor(from), workflow.DelegationInput{DeputyID: id(to), StartsOn: start, EndsOn: end, Reason: "出差"})
		if err != nil {
			t.Fatalf("%s → %s: %v", from, to, err)
		}
		return d
	}
	week := Today.AddDays(7)
	p1, p2 := w.pending("clerk"), w.pending("clerk")
	t1 := w.openTask(p1, workflow.TaskApprove)
	if d := delegate("leader", "hr", Today, week); !d.Active || d.DeputyName != "hr" {
		t.Fatalf("delegation %+v", d)
	}

	t.Run("deputy sees and fires on behalf", func(t *testing.T) {
		w.T = t
		items, c := w.inbox("hr", workflow.InboxFilter{})
		it, ok := taskIn(items, t1.ID)
		if !ok || it.OnBehalfOf != id("leader") || it.OnBehalfOfName != "leader" || c.Delegated != len(items) || c.Total != len(items) {
			t.Fatalf("hr's inbox %+v, counts %+v", items, c)
		}
		view := w.view("hr", p1.ID)
		if len(view.OnBehalf) != 1 || view.OnBehalf[0].UserID != id("leader") || fmt.Sprint(eventNames(view.OnBehalf[0].Events)) != "[approve reject send_back]" {
			t.Fatalf("hr may fire on behalf %+v", view.OnBehalf)
		}
		w.refused(t, "hr approves as himself", func() error { _, err := w.Fire("hr", view, workflow.EvApprove, "同意", ""); return err }, isForbidden)
		res, err := w.act(w.Engine.ClaimTask, "hr", t1.ID, workflow.TaskActInput{OnBehalfOf: id("leader")})
		if err != nil || res.Task.AssigneeID != id("leader") || res.Event.Actor != id("hr") || res.Event.OnBehalfOf != id("leader") {
			t.Fatalf("claim on behalf: %+v %v", res, err)
		}
		mine, _ := w.inbox("leader", workflow.InboxFilter{Claimed: workflow.ClaimedByMe})
		if _, ok := taskIn(mine, t1.ID); !ok {
			t.Fatal("the claim made on behalf is not the leader's")
		}
		w.refused(t, "the other principal approves", func() error {
			_, err := w.Fire("deputy", w.view("admin", p1.ID), workflow.EvApprove, "同意", "")
			return err
		}, isConflict)
		if _, err := w.fireFor("hr", "leader", p1, workflow.EvApprove, "同意（代）"); err != nil {
			t.Fatal(err)
		}
		ev := w.history(p1, workflow.EvApprove)
		if len(ev) != 1 || ev[0].Actor != id("hr") || ev[0].OnBehalfOf != id("leader") {
			t.Fatalf("history says %+v", ev)
		}
	})

	t.Run("a deputy of the same role: what the delegator holds is delegated", func(t *testing.T) {
		w.T = t
		// Another principal leader of the county stands in: the group
		// tasks are theirs already, the one the leader claimed is not.
		p := w.pending("clerk")
		task := w.openTask(p, workflow.TaskApprove)
		if _, err := w.act(w.Engine.ClaimTask, "leader", task.ID, workflow.TaskActInput{}); err != nil {
			t.Fatal(err)
		}
		d := delegate("leader", "deputy", Today, week)
		items, c := w.inbox("deputy", workflow.InboxFilter{})
		it, ok := taskIn(items, task.ID)
		if !ok || it.OnBehalfOf != id("leader") || c.Delegated != 1 {
			t.Fatalf("the deputy's inbox: task %+v (%t), delegated %d, want 1", it, ok, c.Delegated)
		}
		if _, err := w.Engine.RevokeDelegation(w.Ctx, w.Actor("leader"), d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.act(w.Engine.UnclaimTask, "leader", task.ID, workflow.TaskActInput{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("outside the date range or revoked: nothing", func(t *testing.T) {
		w.T = t
		delegate("leader", "justice", Today.AddDays(1), week)
		d := delegate("leader", "region-clerk", Today, week)
		if _, err := w.Engine.RevokeDelegation(w.Ctx, w.Actor("leader"), d.ID); err != nil {
			t.Fatal(err)
		}
		w.refused(t, "revoke someone else's", func() error { _, err := w.Engine.RevokeDelegation(w.Ctx, w.Actor("clerk"), d.ID); return err }, isNotFound)
		for _, user := range []string{"justice", "region-clerk"} {
			items, c := w.inbox(user, workflow.InboxFilter{})
			if _, ok := taskIn(items, w.openTask(p2, workflow.TaskApprove).ID); ok || c.Delegated != 0 {
				t.Fatalf("%s sees the leader's tasks: %+v", user, c)
			}
			w.refused(t, user+" fires on behalf", func() error { _, err := w.fireFor(user, "leader", p2, workflow.EvApprove, "同意"); return err }, isForbidden)
		}
		// Later, the delegation to the liaison runs.
		later, err := workflow.NewEngine(w.Store, workflow.Options{Clock: func() time.Time { return Now.Add(24 * time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		p, err := later.Inbox(w.Ctx, w.Actor("justice"), workflow.InboxFilter{})
		if err != nil || p.Counts.Delegated == 0 {
			t.Fatalf("tomorrow the liaison's inbox %+v %v", p.Counts, err)
		}
	})

	t.Run("deputy with a conflict is refused", func(t *testing.T) {
		w.T = t
		delegate("leader", "lina", Today, week) // a legal clerk, and 李娜 the officer
		delegate("clerk-leader", "region-hr", Today, week)
		own := w.Open("clerk", workflow.PathApplication, w.Data.People["lina"], categories)
		own = w.MustFire("clerk", own, workflow.EvSubmitForApproval, "", "")
		byLina := w.pending("lina")
		byClerkLeader := w.pending("clerk-leader")
		// Opened by another clerk, submitted by the deputy as a clerk.
		submittedByLina := w.Open("clerk", workflow.PathApplication, w.ClonePerson("zhangwei", nil), categories)
		submittedByLina = w.MustFire("lina", submittedByLina, workflow.EvSubmitForApproval, "", "")
		for _, tc := range []struct {
			name, deputy, delegator string
			c                       workflow.CaseView
		}{
			{"own certificate", "lina", "leader", own},
			{"application the deputy prepared", "lina", "leader", byLina},
			{"application the delegator prepared", "region-hr", "clerk-leader", byClerkLeader},
			{"application the deputy submitted", "lina", "leader", submittedByLina},
		} {
			task := w.openTask(tc.c, workflow.TaskApprove)
			items, c := w.inbox(tc.deputy, workflow.InboxFilter{})
			if _, ok := taskIn(items, task.ID); ok || c.Delegated == 0 {
				t.Fatalf("%s: the deputy's inbox holds the task %t (or nothing delegated: %+v)", tc.name, ok, c)
			}
			for _, ob := range w.view(tc.deputy, tc.c.ID).OnBehalf {
				if slices.Contains(eventNames(ob.Events), workflow.EvApprove) {
					t.Fatalf("%s: the deputy is offered %+v", tc.name, ob)
				}
			}
			w.refused(t, tc.name+": approve", func() error {
				_, err := w.fireFor(tc.deputy, tc.delegator, tc.c, workflow.EvApprove, "同意")
				return err
			}, isForbidden)
			w.refused(t, tc.name+": claim", func() error {
				_, err := w.act(w.Engine.ClaimTask, tc.deputy, task.ID, workflow.TaskActInput{OnBehalfOf: id(tc.delegator)})
				return err
			}, isForbidden)
		}
		// Elsewhere the same deputies may act.
		if _, err := w.fireFor("lina", "leader", p2, workflow.EvApprove, "同意"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("bad delegations", func(t *testing.T) {
		w.T = t
		for _, tc := range []struct {
			name, from string
			in         workflow.DelegationInput
			want       func(error) bool
		}{
			{"to oneself", "leader", workflow.DelegationInput{DeputyID: id("leader"), EndsOn: week, Reason: "出差"}, isInputOn("deputy_user_id")},
			{"to nobody", "leader", workflow.DelegationInput{DeputyID: 1 << 40, EndsOn: week, Reason: "出差"}, isInputOn("deputy_user_id")},
			{"no end", "leader", workflow.DelegationInput{DeputyID: id("deputy"), Reason: "出差"}, isInputOn("ends_on")},
			{"in the past", "leader", workflow.DelegationInput{DeputyID: id("deputy"), StartsOn: Today.AddDays(-9), EndsOn: Today.AddDays(-1), Reason: "出差"}, isInputOn("ends_on")},
			{"backwards", "leader", workflow.DelegationInput{DeputyID: id("deputy"), StartsOn: week, EndsOn: Today, Reason: "出差"}, isInputOn("ends_on")},
			{"starting in the past", "leader", workflow.DelegationInput{DeputyID: id("deputy"), StartsOn: Today.AddDays(-1), EndsOn: week, Reason: "出差"}, isInputOn("starts_on")},
			{"no reason", "leader", workflow.DelegationInput{DeputyID: id("deputy"), EndsOn: week, Reason: " "}, isInputOn("reason")},
			{"too long", "leader", workflow.DelegationInput{DeputyID: id("deputy"), EndsOn: Today.AddDays(400), Reason: "出差"}, isInputOn("ends_on")},
			{"nothing to delegate", "officer", workflow.DelegationInput{DeputyID: id("deputy"), EndsOn: week, Reason: "出差"}, isForbidden},
			{"to an officer", "leader", workflow.DelegationInput{DeputyID: id("officer"), EndsOn: week, Reason: "出差"}, isInputOn("deputy_user_id")},
			{"again, the days meeting", "leader", workflow.DelegationInput{DeputyID: id("hr"), StartsOn: week, EndsOn: week.AddDays(3), Reason: "出差"}, isConflict},
		} {
			w.refused(t, tc.name, func() error { _, err := w.Engine.CreateDelegation(w.Ctx, w.Actor(tc.from), tc.in); return err }, tc.want)
		}
		w.refused(t, "on behalf of oneself", func() error { _, err := w.fireFor("leader", "leader", p2, workflow.EvReject, "x"); return err }, isInput)
		ds, err := w.Engine.Delegations(w.Ctx, w.Actor("leader"), 0, 50)
		if err != nil || len(ds) != 5 {
			t.Fatalf("the leader's delegations: %d %v", len(ds), err)
		}
		got, _ := w.Engine.Delegations(w.Ctx, w.Actor("hr"), 0, 50)
		if len(got) != 1 || !got[0].Active || got[0].DelegatorName != "leader" {
			t.Fatalf("hr's delegations %+v", got)
		}
		// The next absence, after the running one ends, is a delegation of its own.
		if d := delegate("leader", "hr", week.AddDays(1), week.AddDays(5)); d.Active {
			t.Fatalf("a later delegation runs today: %+v", d)
		}
	})

	// The same absence posted several times at once (a double click, a
	// retry while the first is still running) makes one delegation: the
	// overlap check and the insert of one delegator run one at a time.
	t.Run("the same delegation at once", func(t *testing.T) {
		w.T = t
		start := week.AddDays(20)
		in := workflow.DelegationInput{DeputyID: id("hr"), StartsOn: start, EndsOn: start.AddDays(2), Reason: "培训"}
		leader := w.Actor("leader")
		const n = 8
		errs := make([]error, n)
		// All at once: a first round of reads opens the pool's
		// connections, so no post waits for one while the others run.
		at := func(do func(i int)) {
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					do(i)
				}()
			}
			close(gate)
			wg.Wait()
		}
		at(func(int) { _, _ = w.Engine.Delegations(w.Ctx, leader, 0, 1) })
		at(func(i int) { _, errs[i] = w.Engine.CreateDelegation(w.Ctx, leader, in) })
		made := 0
		for _, err := range errs {
			switch {
			case err == nil:
				made++
			case !errors.Is(err, workflow.ErrDuplicate):
				t.Errorf("unexpected error: %v", err)
			}
		}
		ds, err := w.Engine.Delegations(w.Ctx, leader, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		rows := 0
		for _, d := range ds {
			if d.StartsOn == start {
				rows++
			}
		}
		if made != 1 || rows != 1 {
			t.Fatalf("%d of %d posts made a delegation, %d rows: want 1 and 1", made, n, rows)
		}
	})

	// The engine reads a caller's own inbox together with their delegators
	// (InboxQuery.DelegatorsOf); the store reads the page and counts only
	// for a caller who stands in for nobody, by the same rule as
	// Delegators: a disabled delegator's delegation does not run.
	t.Run("store reads the own inbox only of a non-deputy", func(t *testing.T) {
		w.T = t
		read := func(user string, with bool) workflow.InboxRead {
			t.Helper()
			a := w.Actor(user)
			q := workflow.InboxQuery{Holders: []int64{a.UserID}, Today: Today, Limit: 20, Filter: workflow.InboxFilter{Sort: workflow.SortDue}}
			for _, b := range a.Roles {
				q.Sources = append(q.Sources, workflow.InboxSource{Role: b.Role, OrgUnitID: b.OrgUnitID})
			}
			if with {
				q.DelegatorsOf = a.UserID
			}
			var r workflow.InboxRead
			err := workflow.ViewLoose(w.Ctx, w.Store, func(tx workflow.Tx) error {
				var err error
				r, err = tx.(workflow.InboxTx).InboxRead(w.Ctx, q)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		// deputy holds one role; clerk-leader two, whose pages are merged.
		for _, user := range []string{"clerk-leader", "deputy"} {
			plain, with := read(user, false), read(user, true)
			if len(plain.Items) == 0 || with.Deputy || len(with.Delegators) != 0 ||
				fmt.Sprint(with.Items) != fmt.Sprint(plain.Items) || fmt.Sprint(with.Counts) != fmt.Sprint(plain.Counts) {
				t.Fatalf("%s: a non-deputy's inbox read with the check differs:\n%+v\n%+v", user, plain, with)
			}
		}
		plain := read("deputy", false)
		delegate("clerk-leader", "deputy", Today, week)
		got := read("deputy", true)
		if !got.Deputy || len(got.Items) != 0 || len(got.Counts) != 0 || len(got.Delegators) != 1 || got.Delegators[0].UserID != id("clerk-leader") {
			t.Fatalf("deputy, now clerk-leader's deputy: %+v", got)
		}
		active := func() bool {
			ds, err := w.Engine.Delegations(w.Ctx, w.Actor("deputy"), 0, 50)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(ds, func(d workflow.Delegation) bool { return d.DelegatorID == id("clerk-leader") && d.RevokedAt == nil })
			return i >= 0 && ds[i].Active && !ds[i].DelegatorDisabled
		}
		if !active() {
			t.Fatal("the running delegation is not listed active")
		}
		w.setDisabled("clerk-leader", true)
		defer w.setDisabled("clerk-leader", false)
		if active() {
			t.Fatal("the delegation of a disabled user is listed active")
		}
		if got := read("deputy", true); got.Deputy || len(got.Delegators) != 0 || fmt.Sprint(got.Items) != fmt.Sprint(plain.Items) {
			t.Fatalf("deputy of a disabled user: %+v", got)
		}
	})
}

func eventNames(evs []workflow.AllowedEvent) []workflow.EventName {
	out := make([]workflow.EventName, len(evs))
	for i, e := range evs {
		out[i] = e.Name
	}
	return out
}

// InboxRegion is a Region with its people at work: users with roles at the
// county departments, each with an API token, a share of the open tasks
// held, some urged, and delegations running.
type InboxRegion struct {
	*Region
	Users    []*workflow.Actor // with roles that have tasks (legal office, principal leader, justice liaison)
	Deputies []*workflow.Actor // users with a delegation running to them
	Tokens   map[int64]string  // API token by user ID
}

// NewInboxRegion generates a Region of 1,000,000 tasks (100,000 open) over
// 98 county departments, and users on it: per county, legal clerks,
// principal leaders, justice liaisons and HR in the ratio 2:1:1:1, one in
// ten legal clerks also a principal leader; every fiftieth user delegates
// to a colleague of the county; a fifth of the open tasks is held by one of
// its role's users, a twentieth urged.
func NewInboxRegion(tb testing.TB, open Opener, users int) *InboxRegion {
	tb.Helper()
	rg := &InboxRegion{Region: NewRegion(tb, open, 20000, 25000, 1_000_000), Tokens: map[int64]string{}}
	ctx := context.Background()
	s := rg.Store
	now := Now
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	perRow := s.Dialect().Name == "sqlite"
	tx, err := s.DB().BeginTx(ctx, nil)
	must(err)
	defer tx.Rollback()
	roles := []workflow.Role{workflow.RoleLegalClerk, workflow.RoleLegalClerk, workflow.RolePrincipal, workflow.RoleJustice, workflow.RoleHR}
	holders := map[workflow.RoleBinding][]int64{}
	actors := map[int64]*workflow.Actor{}
	var userRows, bindingRows, tokenRows, delegationRows [][]any
	n := len(rg.Counties)
	for i := range users {
		id := int64(i + 2) // 1 is the generator
		county := rg.Counties[i%n]
		a := &workflow.Actor{UserID: id, Name: fmt.Sprintf("user%d", id)}
		a.Roles = append(a.Roles, workflow.RoleBinding{Role: roles[(i/n)%len(roles)], OrgUnitID: county})
		if a.Roles[0].Role == workflow.RoleLegalClerk && i%10 == 9 {
			a.Roles = append(a.Roles, workflow.RoleBinding{Role: workflow.RolePrincipal, OrgUnitID: county})
		}
		token := fmt.Sprintf("cf_bench_%d", id)
		rg.Tokens[id] = token
		actors[id] = a
		userRows = append(userRows, []any{id, a.Name, false, now})
		tokenRows = append(tokenRows, []any{id, id, auth.HashToken(token), now})
		for _, b := range a.Roles {
			bindingRows = append(bindingRows, []any{id, string(b.Role), b.OrgUnitID})
			holders[b] = append(holders[b], id)
		}
		if a.Roles[0].Role != workflow.RoleHR {
			rg.Users = append(rg.Users, a)
		}
		if i%50 == 0 && i+2*n < users { // to a colleague of another role at the county
			delegationRows = append(delegationRows, []any{len(delegationRows) + 1, id, id + int64(2*n), Today.AddDays(-1), Today.AddDays(30), "出差", now})
		}
	}
	must(batchInsert(ctx, tx, perRow, "users", []string{"id", "name", "disabled", "created_at"}, userRows))
	must(batchInsert(ctx, tx, perRow, "role_bindings", []string{"user_id", "role", "org_unit_id"}, bindingRows))
	must(batchInsert(ctx, tx, perRow, "api_tokens", []string{"id", "user_id", "hash", "created_at"}, tokenRows))
	must(batchInsert(ctx, tx, perRow, "delegations", []string{"id", "delegator_user_id", "deputy_user_id", "starts_on", "ends_on", "reason", "created_at"}, delegationRows))
	for _, d := range delegationRows {
		from, to := actors[d[1].(int64)], actors[d[2].(int64)]
		if r := from.Roles[0].Role; r != workflow.RoleHR && r != to.Roles[0].Role {
			rg.Deputies = append(rg.Deputies, to)
		}
	}
	// Hold a fifth of the open tasks, urge a twentieth.
	rows, err := tx.QueryContext(ctx, `SELECT id, role, org_unit_id FROM tasks WHERE status = 'open' AND id % 5 = 0`)
	must(err)
	var held [][2]int64
	for rows.Next() {
		var id int64
		var b workflow.RoleBinding
		must(rows.Scan(&id, &b.Role, &b.OrgUnitID))
		if hs := holders[b]; len(hs) > 0 {
			held = append(held, [2]int64{id, hs[int(id)%len(hs)]})
		}
	}
	must(rows.Err())
	rows.Close()
	st, err := tx.PrepareContext(ctx, `UPDATE tasks SET assignee_user_id = $1, assigned_at = $2 WHERE id = $3`)
	must(err)
	for _, h := range held {
		_, err := st.ExecContext(ctx, h[1], now, h[0])
		must(err)
	}
	st.Close()
	_, err = tx.ExecContext(ctx, `UPDATE tasks SET priority = 1, reminded_at = $1 WHERE status = 'open' AND id % 20 = 3`, now)
	must(err)
	must(tx.Commit())
	if s.Dialect().Name == "postgres" {
		atRest(tb, s)
		return rg
	}
	// certflow never runs ANALYZE on SQLite, so a real file has no
	// statistics: drop those NewRegion gathered. With STAT4 samples
	// (modernc builds SQLite with SQLITE_ENABLE_STAT4) SQLite recompiles a
	// statement whenever a parameter compared with an indexed column
	// changes, which would make every prepared statement cost a compile.
	for _, q := range []string{"DELETE FROM sqlite_stat1", "DELETE FROM sqlite_stat4", "ANALYZE sqlite_schema"} {
		_, err = s.DB().ExecContext(ctx, q)
		must(err)
	}
	return rg
}

// BenchInbox measures Engine.Inbox — the delegations in force, one page
// (20 tasks unless said otherwise) and the badge counts — on an
// InboxRegion of 5,000 users, each user in turn.
func BenchInbox(b *testing.B, open Opener) {
	tune.GC() // the runtime as certflow serve sets it
	rg := NewInboxRegion(b, open, 5000)
	ctx := context.Background()
	// Warm the caches as a running server has them: every inbox once.
	for _, u := range append(slices.Clone(rg.Users), rg.Deputies...) {
		if _, err := rg.Engine.Inbox(ctx, u, workflow.InboxFilter{}); err != nil {
			b.Fatal(err)
		}
	}
	run := func(name string, users []*workflow.Actor, f workflow.InboxFilter, check func(workflow.InboxPage) error) {
		b.Run(name, func(b *testing.B) {
			latency(b, func(i int) error {
				p, err := rg.Engine.Inbox(ctx, users[i%len(users)], f)
				if err == nil && check != nil {
					err = check(p)
				}
				return err
			})
		})
	}
	// The floor: one trivial statement through the same pool.
	b.Run("baseline/select-1", func(b *testing.B) {
		latency(b, func(int) error {
			var one int
			return rg.Store.DB().QueryRowContext(ctx, "SELECT 1").Scan(&one)
		})
	})
	nonEmpty := func(p workflow.InboxPage) error {
		if len(p.Items) == 0 || p.Counts.Total == 0 {
			return fmt.Errorf("empty inbox")
		}
		return nil
	}
	run("first-page/due", rg.Users, workflow.InboxFilter{}, nonEmpty)
	run("first-page/due/limit=50", rg.Users, workflow.InboxFilter{Limit: 50}, nonEmpty)
	run("first-page/priority", rg.Users, workflow.InboxFilter{Sort: workflow.SortPriority}, nonEmpty)
	run("first-page/age", rg.Users, workflow.InboxFilter{Sort: workflow.SortAge}, nonEmpty)
	run("filtered/overdue-unclaimed", rg.Users, workflow.InboxFilter{Overdue: true, Claimed: workflow.Unclaimed}, nil)
	run("filtered/path-state", rg.Users, workflow.InboxFilter{Path: workflow.PathApplication, State: workflow.AppReceived}, nil)
	run("claimed-by-me", rg.Users, workflow.InboxFilter{Claimed: workflow.ClaimedByMe}, nil)
	run("deputy", rg.Deputies, workflow.InboxFilter{}, func(p workflow.InboxPage) error {
		if p.Counts.Delegated == 0 {
			return fmt.Errorf("nothing delegated")
		}
		return nil
	})
	// Page 3 of each user's inbox: the cursors are taken before the clock runs.
	users := rg.Users[:500]
	cursors := make([]string, len(users))
	for i, u := range users {
		f := workflow.InboxFilter{}
		for range 2 {
			p, err := rg.Engine.Inbox(ctx, u, f)
			if err != nil {
				b.Fatal(err)
			}
			f.Cursor = p.NextCursor
		}
		cursors[i] = f.Cursor
	}
	b.Run("page-3/due", func(b *testing.B) {
		latency(b, func(i int) error {
			_, err := rg.Engine.Inbox(ctx, users[i%len(users)], workflow.InboxFilter{Cursor: cursors[i%len(users)]})
			return err
		})
	})
}
