package sqlstore

import (
	"context"
	"fmt"

	"certflow/workflow"
)

var _ workflow.SupervisionTx = (*tx)(nil)

// DepartureBlockers lists (open departure, outstanding certificate) pairs
// in scope, with the open return task of each certificate.
func (t *tx) DepartureBlockers(ctx context.Context, sc workflow.Scope, personID int64) ([]workflow.BlockerRow, error) {
	var args []any
	q := `SELECT c.id, c.number, c.org_unit_id, p.id, p.name, c.data, ` + certColsAs("ct") + `, COALESCE(tk.id, 0), tk.due_on
	FROM cases c
	JOIN org_units d ON d.id = c.org_unit_id
	JOIN people p ON p.id = c.person_id
	JOIN certificates ct ON ct.person_id = c.person_id AND ct.state IN ('issued', 'received', 'suspended', 'lost')
	LEFT JOIN tasks tk ON tk.case_id = c.id AND tk.certificate_id = ct.id AND tk.status = 'open'
	WHERE c.path = 'departure' AND c.state = 'open' AND ` + scopeClause(sc, "d", &args)
	if personID != 0 {
		args = append(args, personID)
		q += fmt.Sprintf(" AND c.person_id = $%d", len(args))
	}
	q += " ORDER BY c.id, ct.id"
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	var out []workflow.BlockerRow
	for rows.Next() {
		var r workflow.BlockerRow
		var cats string
		c := &r.Certificate
		if err := rows.Scan(&r.CaseID, &r.CaseNumber, &r.OrgUnitID, &r.PersonID, &r.PersonName, &r.CaseData,
			&c.ID, &c.PersonID, &c.Kind, &c.Number, &c.Issuer, &cats, &c.Region, &c.IssuedOn, &c.ReceivedOn, &c.ValidUntil, &c.State, &c.Replaces, &c.CaseID, &c.OrgUnitID, &c.Version,
			&r.TaskID, &r.TaskDueOn); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, t.s.interpret(rows.Err())
}

func certColsAs(a string) string {
	return fmt.Sprintf(`%[1]s.id, %[1]s.person_id, %[1]s.kind, %[1]s.number, %[1]s.issuer, %[1]s.categories, %[1]s.region, %[1]s.issued_on, %[1]s.received_on, %[1]s.valid_until, %[1]s.state, COALESCE(%[1]s.replaces, 0), %[1]s.case_id, %[1]s.org_unit_id, %[1]s.version`, a)
}

// overdueWhere is the shared filter of the overdue questions.
// The department alias is d, joined only when the scope needs it (see
// overdueJoin): a scope of one department is a filter on the task's own
// column, read from the index tasks_overdue alone.
func overdueWhere(q workflow.OverdueQuery, args *[]any) string {
	*args = append(*args, q.Today)
	w := fmt.Sprintf("t.status = 'open' AND t.due_on < $%d", len(*args))
	if id, ok := oneUnit(q.Scope); ok {
		*args = append(*args, id)
		w += fmt.Sprintf(" AND t.org_unit_id = $%d", len(*args))
	} else {
		w += " AND " + scopeClause(q.Scope, "d", args)
	}
	if h := q.Hidden; h.PersonID != 0 && len(h.Paths) > 0 {
		*args = append(*args, h.PersonID)
		w += fmt.Sprintf(" AND NOT (COALESCE(t.subject_person_id, 0) = $%d AND t.path IN (%s))", len(*args), argList((*sqlArgs)(args), h.Paths))
	}
	return w
}

// overdueJoin joins the task's department when overdueWhere filters on it.
func overdueJoin(sc workflow.Scope) string {
	if _, ok := oneUnit(sc); ok {
		return ""
	}
	return " JOIN org_units d ON d.id = t.org_unit_id"
}

// oneUnit reports whether sc is exactly one department, and which.
func oneUnit(sc workflow.Scope) (int64, bool) {
	if !sc.All && len(sc.Exact) == 1 && len(sc.Prefixes) == 0 {
		return sc.Exact[0], true
	}
	return 0, false
}

// OverdueTasks lists open tasks past due, the longest overdue first (by
// due date, then ID), in the order of the partial index tasks_overdue, so a
// page reads only its own rows. After is the last task ID of the previous
// page; the next page starts after that task's (due date, ID).
func (t *tx) OverdueTasks(ctx context.Context, q workflow.OverdueQuery) ([]workflow.OverdueTask, error) {
	var args []any
	where := overdueWhere(q, &args)
	if q.After != 0 {
		args = append(args, q.After)
		where += fmt.Sprintf(" AND (t.due_on, t.id) > (SELECT due_on, id FROM tasks WHERE id = $%d)", len(args))
	}
	args = append(args, limit(q.Limit))
	rows, err := t.query(ctx, `SELECT `+taskCols+`, c.number, c.path, c.state, COALESCE(p.name, ''), u.name
		FROM tasks t`+overdueJoin(q.Scope)+` JOIN org_units u ON u.id = t.org_unit_id JOIN cases c ON c.id = t.case_id LEFT JOIN people p ON p.id = c.person_id
		WHERE `+where+fmt.Sprintf(" ORDER BY t.due_on, t.id LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	out := []workflow.OverdueTask{}
	for rows.Next() {
		var o workflow.OverdueTask
		tk, err := scanTask(rows, &o.CaseNumber, &o.Path, &o.State, &o.PersonName, &o.OrgUnitName)
		if err != nil {
			return nil, err
		}
		o.Task = tk
		o.Overdue = true
		o.DaysOverdue = int(q.Today.Time().Sub(tk.DueOn.Time()).Hours() / 24)
		out = append(out, o)
	}
	return out, t.s.interpret(rows.Err())
}

// OverdueCounts counts overdue tasks by org unit and kind.
func (t *tx) OverdueCounts(ctx context.Context, q workflow.OverdueQuery) ([]workflow.OverdueCount, error) {
	var args []any
	where := overdueWhere(q, &args)
	// Count first, name after: the department's name is read once per
	// group, not once per task.
	rows, err := t.query(ctx, `SELECT g.org_unit_id, u.name, g.kind, g.n FROM (
		SELECT t.org_unit_id, t.kind, count(*) AS n FROM tasks t`+overdueJoin(q.Scope)+`
		WHERE `+where+` GROUP BY t.org_unit_id, t.kind) g
		JOIN org_units u ON u.id = g.org_unit_id ORDER BY g.org_unit_id, g.kind`, args...)
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	out := []workflow.OverdueCount{}
	for rows.Next() {
		var c workflow.OverdueCount
		if err := rows.Scan(&c.OrgUnitID, &c.OrgUnitName, &c.Kind, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, t.s.interpret(rows.Err())
}
