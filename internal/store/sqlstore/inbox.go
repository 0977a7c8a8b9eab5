package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"certflow/workflow"
)

var _ workflow.InboxTx = (*tx)(nil)

// noDue is where tasks without a due date sort (workflow.NoDueDate): the
// databases disagree on where NULL goes, so the inbox never sorts on it.
const noDue = "'9999-12-31'"

// dueKey is the due-date sort key of a task row.
const dueKey = "COALESCE(t.due_on, " + noDue + ")"

// sqlArgs numbers the parameters of a statement as it is built.
type sqlArgs []any

func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

func (a *sqlArgs) list(vs []int64) string { return argList(a, vs) }

// argList adds vs to a and returns their placeholders, comma-separated.
func argList[T any](a *sqlArgs, vs []T) string {
	marks := make([]string, len(vs))
	for i, v := range vs {
		marks[i] = a.add(v)
	}
	return strings.Join(marks, ", ")
}

// inboxWhere is the filter of one source of an inbox on the tasks row t:
// its (role, department), its conflicts and the caller's, and, unless
// counting, the page's filters and keyset. For the priority order a
// branch reads one priority level (level ≥ 0). Every column it reads is
// in the partial indexes of migration 003, so the database reads an index
// alone (the case-state filter aside, which looks at the case).
func inboxWhere(q workflow.InboxQuery, s workflow.InboxSource, counting bool, level int, args *sqlArgs) string {
	w := "t.status = 'open' AND t.role = " + args.add(s.Role) + " AND t.org_unit_id = " + args.add(s.OrgUnitID)
	for _, c := range [][2]int64{{q.ExcludePerson, q.ExcludePreparer}, {s.ExcludePerson, s.ExcludePreparer}} {
		if c[0] != 0 {
			w += " AND COALESCE(t.subject_person_id, 0) <> " + args.add(c[0])
		}
		if c[1] != 0 && len(q.BarredKinds) > 0 {
			kinds := make([]string, len(q.BarredKinds))
			for i, k := range q.BarredKinds {
				kinds[i] = args.add(k)
			}
			who := args.add(c[1])
			w += " AND NOT ((COALESCE(t.preparer_user_id, 0) = " + who + " OR COALESCE(t.submitter_user_id, 0) = " + who +
				") AND t.kind IN (" + strings.Join(kinds, ", ") + "))"
		}
	}
	if counting {
		return w
	}
	f := q.Filter
	if f.Path != "" {
		w += " AND t.path = " + args.add(f.Path)
	}
	if f.Kind != "" {
		w += " AND t.kind = " + args.add(f.Kind)
	}
	if f.OrgUnitID != 0 {
		w += " AND t.org_unit_id = " + args.add(f.OrgUnitID)
	}
	if !f.DueBefore.IsZero() {
		w += " AND t.due_on < " + args.add(f.DueBefore)
	}
	if f.Overdue {
		w += " AND t.due_on < " + args.add(q.Today)
	}
	switch f.Claimed {
	case workflow.ClaimedByMe:
		w += " AND t.assignee_user_id IN (" + args.list(q.Holders) + ")"
	case workflow.Unclaimed:
		w += " AND t.assignee_user_id IS NULL"
	case workflow.ClaimedByOthers:
		w += " AND t.assignee_user_id NOT IN (" + args.list(q.Holders) + ")"
	}
	if f.State != "" {
		w += " AND EXISTS (SELECT 1 FROM cases cs WHERE cs.id = t.case_id AND cs.state = " + args.add(f.State) + ")"
	}
	if level >= 0 {
		w += " AND t.priority = " + strconv.Itoa(level)
	}
	if k := q.After; k != nil {
		switch {
		case f.Sort == workflow.SortAge:
			w += " AND t.id > " + args.add(k.ID)
		case f.Sort == workflow.SortPriority && level < k.Priority:
			// a lower level than the cursor's: not reached yet
		default:
			w += fmt.Sprintf(" AND (%s, t.id) > (%s, %s)", dueKey, args.add(k.Due), args.add(k.ID))
		}
	}
	return w
}

func inboxOrder(s workflow.InboxSort) string {
	switch s {
	case workflow.SortAge:
		return "t.id"
	case workflow.SortPriority:
		return "t.priority DESC, " + dueKey + ", t.id"
	}
	return dueKey + ", t.id"
}

// openTaskCols is taskCols from the index tasks_inbox_queue: an open
// task's status and closed_at go without saying.
var openTaskCols = strings.NewReplacer("t.status", "'open'", "t.closed_at", "NULL").Replace(taskCols)

// openTaskRow is the columns of an open task that openTaskCols reads, as
// they are stored: a branch of a merged inbox page carries them out of
// the index, so the page's rows are read once and the table not at all.
const openTaskRow = `t.id, t.case_id, t.kind, t.role, t.org_unit_id, t.certificate_id, t.due_on, t.created_at,
	t.assignee_user_id, t.assigned_at, t.priority, t.reminded_at`

// deputyGuard is, for q.DelegatorsOf, the condition that its user stands
// in for nobody, and the delegations that would make them a deputy
// (runningDelegations, its parameters added to args once); both "" when
// DelegatorsOf is unset. InboxRead reads a caller's own inbox with their
// delegators, and the page and counts are only worth reading if there are
// none. The condition does not depend on the row, so the databases test it
// once, before they read any task.
func deputyGuard(q workflow.InboxQuery, args *sqlArgs) (guard, running string) {
	if q.DelegatorsOf == 0 {
		return "", ""
	}
	running = runningDelegations(args.add(q.DelegatorsOf), args.add(q.Today))
	return " AND NOT EXISTS (SELECT 1 FROM " + running + ")", running
}

// runningDelegations is the tables and condition of the delegations to
// deputy running on day, with their delegators u (enabled users): the
// delegators sqlDelegators lists, and deputyGuard looks for.
func runningDelegations(deputy, day string) string {
	return `delegations d JOIN users u ON u.id = d.delegator_user_id AND NOT u.disabled
		WHERE d.deputy_user_id = ` + deputy + ` AND d.revoked_at IS NULL AND d.starts_on <= ` + day + ` AND d.ends_on >= ` + day
}

// sqlDelegators: one row per (delegator, role binding); a delegator
// without bindings comes with an empty role.
var sqlDelegators = `SELECT u.id, u.name, u.person_id, COALESCE(rb.role, ''), COALESCE(rb.org_unit_id, 0)
	FROM (SELECT DISTINCT u.id, u.name, u.person_id FROM ` + runningDelegations("$1", "$2") + `) u
	LEFT JOIN role_bindings rb ON rb.user_id = u.id
	ORDER BY u.id, rb.role, rb.org_unit_id`

// inboxCols is what an inbox page shows of an open task t of case c. The
// names are read by scalar subqueries, one index probe per row of the
// page: joined, a generic plan that cannot see how few rows a merged page
// has may hash the whole users table instead.
var inboxCols = openTaskCols + `, c.number, c.path, c.state, c.version,
	COALESCE((SELECT p.name FROM people p WHERE p.id = c.person_id), ''),
	COALESCE((SELECT u.name FROM users u WHERE u.id = t.assignee_user_id), '')`

// inboxSQL is the statement of an inbox page. The page size is written
// into the text, so the planner sees it (PostgreSQL's generic plans
// otherwise guess at a parameter's LIMIT).
//
// The common inbox — one role at one department, by due date — reads the
// index range in its order, so the joins run for the page's rows only and
// nothing is sorted. Otherwise each source (and, by priority, each
// priority level of each source, urgent first) cuts its page of tasks
// from the index: by due date in index order, by age sorting its entries;
// the pages are merged and cut to one, and only its rows are joined to
// their cases. (Urgent tasks' index, migration 005, leaves a few columns
// to the table: there are few of them.)
// inboxLimit is the rows an inbox read returns: the page the engine asks,
// which is one more than it shows (to know whether another follows).
func inboxLimit(n int) int {
	if n <= 0 || n > workflow.MaxInboxLimit+1 {
		return workflow.DefaultInboxLimit + 1
	}
	return n
}

func inboxSQL(q workflow.InboxQuery) (string, sqlArgs) {
	var args sqlArgs
	order := inboxOrder(q.Filter.Sort)
	n := inboxLimit(q.Limit)
	guard, _ := deputyGuard(q, &args)
	if len(q.Sources) == 1 && q.Filter.Sort != workflow.SortPriority && q.Filter.Sort != workflow.SortAge {
		where := inboxWhere(q, q.Sources[0], false, -1, &args) + guard
		return `SELECT ` + inboxCols + ` FROM tasks t JOIN cases c ON c.id = t.case_id
			WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ` + strconv.Itoa(n), args
	}
	levels := []int{-1}
	branchOrder := dueKey + ", t.id"
	switch q.Filter.Sort {
	case workflow.SortPriority:
		levels = nil
		for l := workflow.PriorityUrgent; l >= workflow.PriorityNormal; l-- {
			if q.After == nil || l <= q.After.Priority {
				levels = append(levels, l)
			}
		}
	case workflow.SortAge:
		branchOrder = "t.id"
	}
	var branches []string
	for _, s := range q.Sources {
		for _, l := range levels {
			where := inboxWhere(q, s, false, l, &args) + guard
			branches = append(branches, fmt.Sprintf("SELECT * FROM (SELECT %s FROM tasks t WHERE %s ORDER BY %s LIMIT %d) s%d",
				openTaskRow, where, branchOrder, n, len(branches)))
		}
	}
	page := `SELECT * FROM (` + strings.Join(branches, " UNION ALL ") + `) t ORDER BY ` + order + ` LIMIT ` + strconv.Itoa(n)
	return `SELECT ` + inboxCols + ` FROM (` + page + `) t JOIN cases c ON c.id = t.case_id
		ORDER BY ` + order + ` LIMIT ` + strconv.Itoa(n), args
}

// Inbox returns a page of q's tasks (inboxSQL says how).
func (t *tx) Inbox(ctx context.Context, q workflow.InboxQuery) ([]workflow.InboxTask, error) {
	out := []workflow.InboxTask{}
	var p pipeline
	q.DelegatorsOf = 0 // InboxRead's alone
	pipeInbox(&p, q, &out)
	return out, p.run(ctx, t)
}

// pipeInbox queues the statement of q's page, its tasks going to out.
func pipeInbox(p *pipeline, q workflow.InboxQuery, out *[]workflow.InboxTask) {
	if len(q.Sources) == 0 {
		return
	}
	query, args := inboxSQL(q)
	*out = slices.Grow(*out, inboxLimit(q.Limit))
	p.queryAll(func(r row) error {
		// Scanned in place: a task scanned into a local escaped to the heap.
		*out = append(*out, workflow.InboxTask{})
		it := &(*out)[len(*out)-1]
		tk, err := scanTask(r, &it.CaseNumber, &it.Path, &it.State, &it.CaseVersion, &it.PersonName, &it.AssigneeName)
		it.Task = tk
		return err
	}, query, args...)
}

// inboxCountsSQL is the statement of an inbox's counts.
func inboxCountsSQL(q workflow.InboxQuery) (string, sqlArgs) {
	var args sqlArgs
	today, mine := args.add(q.Today), args.list(q.Holders)
	forDelegators := "0"
	if len(q.Holders) > 1 {
		forDelegators = `COALESCE(sum(CASE WHEN t.assignee_user_id IN (` + args.list(q.Holders[1:]) + `) THEN 1 ELSE 0 END), 0)`
	}
	guard, running := deputyGuard(q, &args)
	branches := make([]string, len(q.Sources), len(q.Sources)+1)
	for i, s := range q.Sources {
		where := inboxWhere(q, s, true, -1, &args) + guard
		branches[i] = `SELECT ` + strconv.Itoa(i) + `, t.path, t.kind, count(*),
			COALESCE(sum(CASE WHEN t.due_on < ` + today + ` THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN t.assignee_user_id IN (` + mine + `) THEN 1 ELSE 0 END), 0), ` + forDelegators + `,
			COALESCE(sum(CASE WHEN t.assignee_user_id IS NULL THEN 1 ELSE 0 END), 0)
			FROM tasks t WHERE ` + where + ` GROUP BY t.path, t.kind`
	}
	if running != "" {
		// The guard's other face: a row that says it held the counts back.
		branches = append(branches, `SELECT -1, '', '', 0, 0, 0, 0, 0 WHERE EXISTS (SELECT 1 FROM `+running+`)`)
	}
	return strings.Join(branches, " UNION ALL "), args
}

// InboxCounts counts q's tasks, without the page's filters, by source,
// path and kind: one range of the index tasks_inbox_counts per source.
func (t *tx) InboxCounts(ctx context.Context, q workflow.InboxQuery) ([]workflow.InboxCountRow, error) {
	var out []workflow.InboxCountRow
	var p pipeline
	q.DelegatorsOf = 0 // InboxRead's alone
	pipeInboxCounts(&p, q, &out, nil)
	return out, p.run(ctx, t)
}

// pipeInboxCounts queues the statement of q's counts, its rows going to
// out; *deputy is set if it found the caller stands in for someone
// (deputyGuard).
func pipeInboxCounts(p *pipeline, q workflow.InboxQuery, out *[]workflow.InboxCountRow, deputy *bool) {
	if len(q.Sources) == 0 {
		return
	}
	query, args := inboxCountsSQL(q)
	p.queryAll(func(rs row) error {
		var r workflow.InboxCountRow
		var source int
		if err := rs.Scan(&source, &r.Path, &r.Kind, &r.Total, &r.Overdue, &r.Mine, &r.ForDelegators, &r.Unclaimed); err != nil {
			return err
		}
		if source == -1 && deputy != nil {
			*deputy = true
			return nil
		}
		if source < 0 || source >= len(q.Sources) {
			return fmt.Errorf("sqlstore: inbox counts: source %d", source)
		}
		r.Role, r.OrgUnitID = q.Sources[source].Role, q.Sources[source].OrgUnitID
		*out = append(*out, r)
		return nil
	}, query, args...)
}

// InboxRead reads q's page and counts as one pipeline.
func (t *tx) InboxRead(ctx context.Context, q workflow.InboxQuery) (workflow.InboxRead, error) {
	r := workflow.InboxRead{Items: []workflow.InboxTask{}}
	var p pipeline
	if q.DelegatorsOf != 0 {
		pipeDelegators(&p, q.DelegatorsOf, q.Today, &r.Delegators)
	}
	pipeInbox(&p, q, &r.Items)
	pipeInboxCounts(&p, q, &r.Counts, &r.Deputy)
	return r, p.run(ctx, t)
}

// Task reads task id.
func (t *tx) Task(ctx context.Context, id int64) (workflow.Task, error) {
	tk, err := scanTask(t.queryRow(ctx, sqlTask, id))
	return tk, notFound(t.s.interpret(err), "task", id)
}

// BumpCase increments the case's version: on PostgreSQL the row lock is
// held to commit, so acts and events on one case run one after another.
func (t *tx) BumpCase(ctx context.Context, caseID int64, at time.Time) (int64, error) {
	var v int64
	err := t.queryRow(ctx, sqlBumpCase, utc(at), caseID).Scan(&v)
	return v, notFound(t.s.interpret(err), "case", caseID)
}

// AddEvent writes a history row.
func (t *tx) AddEvent(ctx context.Context, e *workflow.Event) error {
	var data any
	if len(e.Data) > 0 {
		data = string(e.Data)
	}
	id, err := t.insert(ctx, sqlInsertEvent, e.CaseID, e.Seq, e.Event, e.From, e.To, e.Actor, nullID(e.OnBehalfOf), utc(e.At), e.Comment, data)
	e.ID = id
	return err
}

// SetAssignee sets or clears the task's holder.
func (t *tx) SetAssignee(ctx context.Context, taskID, userID int64, at time.Time) error {
	var when any
	if userID != 0 {
		when = utc(at)
	}
	_, err := t.exec(ctx, sqlSetAssignee, nullID(userID), when, taskID)
	return err
}

// MarkReminded records a 催办 and makes the task urgent.
func (t *tx) MarkReminded(ctx context.Context, taskID int64, at time.Time) error {
	_, err := t.exec(ctx, sqlMarkReminded, utc(at), workflow.PriorityUrgent, taskID)
	return err
}

// ActorByID returns the enabled user id with roles.
func (t *tx) ActorByID(ctx context.Context, id int64) (workflow.Actor, error) {
	var a workflow.Actor
	var person sql.NullInt64
	err := t.queryRow(ctx, sqlActorByID, id).Scan(&a.UserID, &a.Name, &person)
	if err != nil {
		return a, notFound(t.s.interpret(err), "user", id)
	}
	a.PersonID = person.Int64
	return a, t.loadRoles(ctx, &a)
}

// Delegators returns the enabled users whose delegation to deputy runs on
// day, each with their role bindings.
func (t *tx) Delegators(ctx context.Context, deputy int64, day workflow.Date) ([]workflow.Actor, error) {
	var out []workflow.Actor
	var p pipeline
	pipeDelegators(&p, deputy, day, &out)
	return out, p.run(ctx, t)
}

// pipeDelegators queues the statement of deputy's delegators on day, who
// go to out with their roles.
func pipeDelegators(p *pipeline, deputy int64, day workflow.Date, out *[]workflow.Actor) {
	p.queryAll(func(r row) error {
		var a workflow.Actor
		var person sql.NullInt64
		var b workflow.RoleBinding
		if err := r.Scan(&a.UserID, &a.Name, &person, &b.Role, &b.OrgUnitID); err != nil {
			return err
		}
		if n := len(*out); n == 0 || (*out)[n-1].UserID != a.UserID {
			a.PersonID = person.Int64
			*out = append(*out, a)
		}
		last := &(*out)[len(*out)-1]
		if b.Role != "" && (len(last.Roles) == 0 || last.Roles[len(last.Roles)-1] != b) {
			last.Roles = append(last.Roles, b)
		}
		return nil
	}, sqlDelegators, deputy, day)
}

const delegationCols = `d.id, d.delegator_user_id, a.name, d.deputy_user_id, b.name, d.starts_on, d.ends_on, d.reason, d.created_at, d.revoked_at, COALESCE(d.revoked_by, 0), a.disabled, b.disabled`

func scanDelegation(r interface{ Scan(...any) error }) (workflow.Delegation, error) {
	var d workflow.Delegation
	var revoked sql.NullTime
	err := r.Scan(&d.ID, &d.DelegatorID, &d.DelegatorName, &d.DeputyID, &d.DeputyName, &d.StartsOn, &d.EndsOn, &d.Reason, &d.CreatedAt, &revoked, &d.RevokedBy, &d.DelegatorDisabled, &d.DeputyDisabled)
	d.CreatedAt = d.CreatedAt.UTC()
	d.RevokedAt = utcPtr(revoked)
	return d, err
}

// CreateDelegation inserts d and sets its ID.
// HoldUser locks user id's row until the transaction ends. On PostgreSQL
// FOR NO KEY UPDATE: lockers wait for each other, while rows that refer to
// the user (an event, a task) are still written beside it. SQLite runs
// one writing transaction at a time anyway: the read is all it needs.
func (t *tx) HoldUser(ctx context.Context, id int64) error {
	q := `SELECT id FROM users WHERE id = $1`
	if t.s.dialect.Name == "postgres" {
		q += ` FOR NO KEY UPDATE`
	}
	var got int64
	return notFound(t.s.interpret(t.queryRow(ctx, q, id).Scan(&got)), "user", id)
}

func (t *tx) CreateDelegation(ctx context.Context, d *workflow.Delegation) error {
	id, err := t.insert(ctx, `INSERT INTO delegations (delegator_user_id, deputy_user_id, starts_on, ends_on, reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, d.DelegatorID, d.DeputyID, d.StartsOn, d.EndsOn, d.Reason, utc(d.CreatedAt))
	d.ID = id
	return err
}

// Delegation reads delegation id.
func (t *tx) Delegation(ctx context.Context, id int64) (workflow.Delegation, error) {
	d, err := scanDelegation(t.queryRow(ctx, `SELECT `+delegationCols+` FROM delegations d
		JOIN users a ON a.id = d.delegator_user_id JOIN users b ON b.id = d.deputy_user_id WHERE d.id = $1`, id))
	return d, notFound(t.s.interpret(err), "delegation", id)
}

// Delegations lists the delegations userID gave or received, by ID.
func (t *tx) Delegations(ctx context.Context, userID, after int64, n int) ([]workflow.Delegation, error) {
	rows, err := t.query(ctx, `SELECT `+delegationCols+` FROM delegations d
		JOIN users a ON a.id = d.delegator_user_id JOIN users b ON b.id = d.deputy_user_id
		WHERE d.id > $1 AND d.id IN (SELECT id FROM delegations WHERE delegator_user_id = $2 UNION SELECT id FROM delegations WHERE deputy_user_id = $2)
		ORDER BY d.id LIMIT $3`, after, userID, limit(n))
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	out := []workflow.Delegation{}
	for rows.Next() {
		d, err := scanDelegation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, t.s.interpret(rows.Err())
}

// RevokeDelegation ends delegation id; a revoked one keeps its first revocation.
func (t *tx) RevokeDelegation(ctx context.Context, id, by int64, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE delegations SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL`, utc(at), by, id)
	return err
}

// AddWatcher records a copy of a case to a user.
func (t *tx) AddWatcher(ctx context.Context, w *workflow.Watcher) error {
	id, err := t.insert(ctx, `INSERT INTO case_watchers (case_id, user_id, added_by, event_id, added_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		w.CaseID, w.UserID, w.AddedBy, w.EventID, utc(w.AddedAt))
	w.ID = id
	return err
}

// IsWatcher reports whether the case was copied to userID.
func (t *tx) IsWatcher(ctx context.Context, caseID, userID int64) (bool, error) {
	var n int
	err := t.queryRow(ctx, sqlIsWatcher, caseID, userID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, t.s.interpret(err)
}

// Copies lists the cases copied to userID.
func (t *tx) Copies(ctx context.Context, userID, after int64, n int) ([]workflow.CopiedCase, error) {
	rows, err := t.query(ctx, `SELECT w.id, c.id, c.number, c.path, c.state, COALESCE(p.name, ''), w.added_by, u.name, w.added_at, e.comment
		FROM case_watchers w JOIN cases c ON c.id = w.case_id LEFT JOIN people p ON p.id = c.person_id
		JOIN users u ON u.id = w.added_by JOIN events e ON e.id = w.event_id
		WHERE w.user_id = $1 AND w.id > $2 ORDER BY w.id LIMIT $3`, userID, after, limit(n))
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	out := []workflow.CopiedCase{}
	for rows.Next() {
		var c workflow.CopiedCase
		if err := rows.Scan(&c.ID, &c.CaseID, &c.CaseNumber, &c.Path, &c.State, &c.PersonName, &c.CopiedBy, &c.CopiedByName, &c.CopiedAt, &c.Comment); err != nil {
			return nil, err
		}
		c.CopiedAt = c.CopiedAt.UTC()
		out = append(out, c)
	}
	return out, t.s.interpret(rows.Err())
}

const (
	sqlTask         = `SELECT ` + taskCols + ` FROM tasks t WHERE t.id = $1`
	sqlBumpCase     = `UPDATE cases SET version = version + 1, updated_at = $1 WHERE id = $2 RETURNING version`
	sqlSetAssignee  = `UPDATE tasks SET assignee_user_id = $1, assigned_at = $2 WHERE id = $3`
	sqlMarkReminded = `UPDATE tasks SET reminded_at = $1, priority = $2 WHERE id = $3`
	sqlActorByID    = `SELECT id, name, person_id FROM users WHERE id = $1 AND NOT disabled`
	sqlIsWatcher    = `SELECT 1 FROM case_watchers WHERE case_id = $1 AND user_id = $2`
)
