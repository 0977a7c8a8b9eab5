package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"certflow/workflow"
)

var _ workflow.DeadlineTx = (*tx)(nil)

// ExpiringCertificates lists certificates in use whose validity ends in
// [q.From, q.To] and that have no expiry reminder of q.Threshold yet.
func (t *tx) ExpiringCertificates(ctx context.Context, q workflow.ExpiryQuery) ([]workflow.ExpiringCertificate, error) {
	rows, err := t.query(ctx, sqlExpiringCertificates, q.From, q.To, q.After, workflow.ReminderExpiry, q.Threshold, limit(q.Limit))
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	out := []workflow.ExpiringCertificate{}
	for rows.Next() {
		var ec workflow.ExpiringCertificate
		var cats string
		c := &ec.Certificate
		if err := rows.Scan(&c.ID, &c.PersonID, &c.Kind, &c.Number, &c.Issuer, &cats, &c.Region, &c.IssuedOn, &c.ReceivedOn, &c.ValidUntil,
			&c.State, &c.Replaces, &c.CaseID, &c.OrgUnitID, &c.Version, &ec.PersonName); err != nil {
			return nil, err
		}
		out = append(out, ec)
	}
	return out, t.s.interpret(rows.Err())
}

// LateTasks lists open tasks due before q.Today without an overdue reminder.
func (t *tx) LateTasks(ctx context.Context, q workflow.LateTaskQuery) ([]workflow.LateTask, error) {
	rows, err := t.query(ctx, sqlLateTasks, q.Today, q.After, workflow.ReminderOverdue, workflow.ThresholdOverdue, limit(q.Limit))
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	out := []workflow.LateTask{}
	for rows.Next() {
		var lt workflow.LateTask
		tk, err := scanTask(rows, &lt.CaseNumber, &lt.Path, &lt.PersonName)
		if err != nil {
			return nil, err
		}
		lt.Task = tk
		out = append(out, lt)
	}
	return out, t.s.interpret(rows.Err())
}

// AddReminder inserts r unless its (kind, subject, threshold) exists: the
// partial unique indexes of migration 002 decide, so two sweeps racing on
// PostgreSQL still leave one row.
func (t *tx) AddReminder(ctx context.Context, r *workflow.Reminder) (bool, error) {
	var id int64
	err := t.queryRow(ctx, sqlAddReminder, r.Kind, r.OrgUnitID, r.Role, nullID(r.CaseID), nullID(r.CertificateID), nullID(r.TaskID),
		r.Threshold, r.Deadline, r.RemindOn, r.Message, utc(r.CreatedAt)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, t.s.interpret(err)
	}
	r.ID = id
	return true, nil
}

const reminderCols = `r.id, r.kind, r.org_unit_id, r.role, COALESCE(r.case_id, 0), COALESCE(r.certificate_id, 0), COALESCE(r.task_id, 0),
	r.threshold, r.deadline, r.remind_on, r.message, r.created_at, r.acknowledged_at, COALESCE(r.acknowledged_by, 0)`

func scanReminder(s interface{ Scan(...any) error }) (workflow.Reminder, error) {
	var r workflow.Reminder
	var ack sql.NullTime
	err := s.Scan(&r.ID, &r.Kind, &r.OrgUnitID, &r.Role, &r.CaseID, &r.CertificateID, &r.TaskID,
		&r.Threshold, &r.Deadline, &r.RemindOn, &r.Message, &r.CreatedAt, &ack, &r.AcknowledgedBy)
	r.CreatedAt = r.CreatedAt.UTC()
	if ack.Valid {
		at := ack.Time.UTC()
		r.AcknowledgedAt = &at
	}
	return r, err
}

// Reminders lists unacknowledged reminders of q's exact role bindings.
func (t *tx) Reminders(ctx context.Context, q workflow.ReminderQuery) ([]workflow.Reminder, error) {
	out := []workflow.Reminder{}
	if len(q.Roles) == 0 {
		return out, nil
	}
	args := []any{q.After}
	var ors []string
	for _, b := range joinRoles(q.Roles) {
		args = append(args, b.Role, b.OrgUnitID)
		ors = append(ors, fmt.Sprintf("(r.role = $%d AND r.org_unit_id = $%d)", len(args)-1, len(args)))
	}
	hidden := ""
	if h := q.Hidden; h.PersonID != 0 && len(h.Paths) > 0 {
		args = append(args, h.PersonID)
		hidden = fmt.Sprintf(" AND NOT EXISTS (SELECT 1 FROM cases hc WHERE hc.id = r.case_id AND hc.person_id = $%d AND hc.path IN (%s))",
			len(args), argList((*sqlArgs)(&args), h.Paths))
	}
	args = append(args, limit(q.Limit))
	rows, err := t.query(ctx, `SELECT `+reminderCols+` FROM reminders r
		WHERE r.acknowledged_at IS NULL AND r.id > $1 AND (`+strings.Join(ors, " OR ")+`)`+hidden+`
		ORDER BY r.id LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanReminder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, t.s.interpret(rows.Err())
}

// Reminder reads reminder id.
func (t *tx) Reminder(ctx context.Context, id int64) (workflow.Reminder, error) {
	r, err := scanReminder(t.queryRow(ctx, `SELECT `+reminderCols+` FROM reminders r WHERE r.id = $1`, id))
	return r, notFound(t.s.interpret(err), "reminder", id)
}

// AcknowledgeReminder records that userID read reminder id at at; a
// reminder already acknowledged keeps its first acknowledgement.
func (t *tx) AcknowledgeReminder(ctx context.Context, id, userID int64, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE reminders SET acknowledged_at = $1, acknowledged_by = $2 WHERE id = $3 AND acknowledged_at IS NULL`,
		utc(at), userID, id)
	return err
}

const (
	sqlExpiringCertificates = `SELECT ` + certCols + `, p.name
		FROM certificates c JOIN people p ON p.id = c.person_id
		WHERE c.state IN ('received', 'suspended') AND c.valid_until >= $1 AND c.valid_until <= $2 AND c.id > $3
		AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.kind = $4 AND r.task_id IS NULL AND r.certificate_id = c.id AND r.threshold = $5)
		ORDER BY c.id LIMIT $6`
	sqlLateTasks = `SELECT ` + taskCols + `, c.number, c.path, COALESCE(p.name, '')
		FROM tasks t JOIN cases c ON c.id = t.case_id LEFT JOIN people p ON p.id = c.person_id
		WHERE t.status = 'open' AND t.due_on IS NOT NULL AND t.due_on < $1 AND t.id > $2
		AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.kind = $3 AND r.task_id = t.id AND r.threshold = $4)
		ORDER BY t.id LIMIT $5`
	sqlAddReminder = `INSERT INTO reminders (kind, org_unit_id, role, case_id, certificate_id, task_id, threshold, deadline, remind_on, message, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING RETURNING id`
)
