package workflow

import (
	"context"
	"fmt"
	"time"
)

// Deadlines the regulation keeps by reminding someone, each reminder
// fired once. A background job (internal/jobs, on River) runs
// Engine.SweepDeadlines daily; the engine's clock decides what "today" is,
// so tests move the clock instead of waiting for days.
//
//   - Expiry (Art. 15, 16): a certificate past its valid-until date is
//     invalid for every check, so the office that manages it is reminded
//     90 and 30 days before: the legal office of the managing department
//     for justice-issued certificates, 自治区 HR for the Ministry's (Art. 3).
//     Certificates in use only: received or suspended (a suspended one may
//     be restored and must not lapse unnoticed).
//   - Overdue tasks (rules.md "Deadlines"): an open task past its due date
//     is escalated once to the principal leader (主要负责人) of the task's
//     department. The suspension review recurs as a task every 90 days, so
//     a missed review escalates the same way.

// ReminderKind says what a reminder is about.
type ReminderKind string

const (
	// ReminderExpiry: a certificate in use nears its valid-until date.
	ReminderExpiry ReminderKind = "certificate_expiry"
	// ReminderOverdue: an open task is past its due date (escalation).
	ReminderOverdue ReminderKind = "task_overdue"
)

// ExpiryThresholds are the days before valid_until at which an expiry
// reminder fires, largest first (issue "Validity": 90 and 30).
var ExpiryThresholds = []int{90, 30}

// ThresholdOverdue is the threshold of an overdue-task reminder.
const ThresholdOverdue = "overdue"

// ExpiryThreshold names the threshold of days before expiry, e.g. "90d".
func ExpiryThreshold(days int) string { return fmt.Sprintf("%dd", days) }

// Reminder is one notice to a role at an org unit. The store keeps at most
// one per (kind, subject, threshold): a sweep run twice, or on a later
// day, never repeats it.
type Reminder struct {
	ID        int64        `json:"id"`
	Kind      ReminderKind `json:"kind"`
	OrgUnitID int64        `json:"org_unit_id"`
	Role      Role         `json:"role"`
	// CaseID and TaskID are set for an overdue task; CertificateID for an
	// expiry, and for an overdue task about one certificate.
	CaseID        int64 `json:"case_id,omitempty"`
	CertificateID int64 `json:"certificate_id,omitempty"`
	TaskID        int64 `json:"task_id,omitempty"`
	// Threshold is "90d", "30d" or "overdue".
	Threshold string `json:"threshold"`
	// Deadline is the certificate's valid-until date or the task's due date.
	Deadline Date `json:"deadline"`
	// RemindOn is the day the reminder was due: valid_until minus the
	// threshold, or the first day a task was overdue. A sweep that ran late
	// (the service was down that day) keeps this date.
	RemindOn       Date       `json:"remind_on"`
	Message        string     `json:"message"`
	CreatedAt      time.Time  `json:"created_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy int64      `json:"acknowledged_by_user_id,omitempty"`
}

// ExpiryQuery selects certificates in use (received or suspended) whose
// valid_until lies in [From, To] and that have no expiry reminder of
// Threshold yet, by ascending ID after After.
type ExpiryQuery struct {
	From, To  Date
	Threshold string
	After     int64
	Limit     int
}

// ExpiringCertificate is a certificate an expiry reminder is about.
type ExpiringCertificate struct {
	Certificate Certificate
	PersonName  string
}

// LateTaskQuery selects open tasks due before Today that have no overdue
// reminder yet, by ascending ID after After.
type LateTaskQuery struct {
	Today Date
	After int64
	Limit int
}

// LateTask is an open task past its due date, with what its reminder names.
type LateTask struct {
	Task       Task
	CaseNumber string
	Path       PathName
	PersonName string
}

// ReminderQuery selects the unacknowledged reminders of the given role
// bindings (exact role at exact unit, as the inbox does for tasks), by
// ascending ID after After.
type ReminderQuery struct {
	Roles  []RoleBinding
	After  int64
	Limit  int
	Hidden Hidden
}

// DeadlineTx is what the deadline sweep and the reminder list need of a
// store transaction, besides Tx. A store whose Tx implements it keeps
// reminders; Engine methods find it by type assertion, as the supervision
// questions do.
type DeadlineTx interface {
	ExpiringCertificates(ctx context.Context, q ExpiryQuery) ([]ExpiringCertificate, error)
	LateTasks(ctx context.Context, q LateTaskQuery) ([]LateTask, error)
	// AddReminder inserts r and sets its ID, unless a reminder of the same
	// kind, subject and threshold exists: then it reports false and writes
	// nothing. Concurrent sweeps therefore never duplicate a reminder.
	AddReminder(ctx context.Context, r *Reminder) (bool, error)
	Reminders(ctx context.Context, q ReminderQuery) ([]Reminder, error)
	Reminder(ctx context.Context, id int64) (Reminder, error)
	AcknowledgeReminder(ctx context.Context, id, userID int64, at time.Time) error
}

func deadlineTx(tx Tx) (DeadlineTx, error) {
	d, ok := tx.(DeadlineTx)
	if !ok {
		return nil, fmt.Errorf("workflow: store %T keeps no reminders", tx)
	}
	return d, nil
}

// Today returns the civil date of the engine's clock where "today" is
// counted (China time).
func (e *Engine) Today() Date { return e.today(e.Now()) }

// Location returns where the engine counts days.
func (e *Engine) Location() *time.Location { return e.loc }

// SweepResult is what one sweep did.
type SweepResult struct {
	Today   Date `json:"today"`
	Expiry  int  `json:"expiry_reminders"`
	Overdue int  `json:"overdue_reminders"`
	// Settled counts the cases the sweep ended by an event certflow fires
	// itself that had not fired (EventDef.Follows): cases left from
	// before it existed, or one opened in a race with its cause.
	Settled int `json:"settled_cases"`
}

// sweepBatch bounds one sweep transaction, so a first sweep over a large
// backlog never holds SQLite's single writer for long.
const sweepBatch = 500

// SweepDeadlines fires the reminders due today (by the engine's clock, in
// China time) that were not fired before. It is idempotent: a second run,
// the same day or later, adds only what became due since.
//
// Expiry thresholds are windows, not single days: the 90-day reminder is
// due on valid_until−90 and fires on the first sweep from that day until
// the 30-day window starts, so a day the sweep did not run (the service
// was down) is caught up the next day, with RemindOn still the day it was
// due. A certificate that enters a window late (issued or reissued with a
// short validity) gets that window's reminder only, never an earlier one.
// An expired certificate gets none: it is already invalid.
func (e *Engine) SweepDeadlines(ctx context.Context) (SweepResult, error) {
	now := e.Now()
	today := e.today(now)
	res := SweepResult{Today: today}
	for i, days := range ExpiryThresholds {
		from := today // the last window runs until the day of expiry
		if i+1 < len(ExpiryThresholds) {
			from = today.AddDays(ExpiryThresholds[i+1] + 1)
		}
		q := ExpiryQuery{From: from, To: today.AddDays(days), Threshold: ExpiryThreshold(days), Limit: sweepBatch}
		n, err := e.sweepExpiry(ctx, q, days, today, now)
		res.Expiry += n
		if err != nil {
			return res, err
		}
	}
	n, err := e.sweepOverdue(ctx, today, now)
	res.Overdue = n
	if err != nil {
		return res, err
	}
	res.Settled, err = e.settleFollowers(ctx, now)
	return res, err
}

// SystemUserName is the user certflow records its own acts under when no
// user's act caused them (settleFollowers). It holds no role, no token and
// no password: nobody signs in as it, and `certflow user` neither creates,
// disables nor gives credentials to a user of that name.
const SystemUserName = "certflow"

// systemActor is the SystemUserName user, created the first time. A
// disabled one (by an older certflow user disable) serves all the same:
// disabling refuses credentials, and it has none, while the sweep that
// records under it must not fail every night for it.
func systemActor(ctx context.Context, tx Tx) (*Actor, error) {
	a, err := tx.ServiceActor(ctx, SystemUserName)
	if err != nil {
		return nil, fmt.Errorf("workflow: system user %s: %w", SystemUserName, err)
	}
	return &a, nil
}

// settleFollowers fires, on every case in one of their From states, the
// events certflow fires itself (EventDef.Follows) whose rule now holds but
// which never fired: a case opened in a race with the transition that
// should have ended it (PostgreSQL, two instances), or one left from
// before the event existed. A case whose guard still refuses is left as it
// is; most do, every night, so the guards are first run in a read-only
// transaction, and only a case they let through gets a write transaction
// of its own, which loads it again and runs them again: it may have moved
// on meanwhile.
func (e *Engine) settleFollowers(ctx context.Context, now time.Time) (int, error) {
	// The read runs the guards as a system user not yet looked up (nor
	// created): the events certflow fires itself have no actors, and
	// their guards read the case, its person and certificates, never who
	// fires. The write runs them again as the real one.
	reader := &Actor{Name: SystemUserName}
	n := 0
	for _, what := range Follows {
		for _, fl := range e.followers[what] {
			for _, st := range fl.def.From {
				var due []int64
				err := e.store.View(ctx, func(tx Tx) error {
					return eachCase(ctx, tx, CaseFilter{Scope: Scope{All: true}, Path: fl.path.Name, State: st}, func(c Case) error {
						fc, err := tx.FireContext(ctx, c.ID)
						if err != nil {
							return err
						}
						_, fires, err := e.followerTransition(ctx, fl, fc, reader, now)
						if fires {
							due = append(due, c.ID)
						}
						return err
					})
				})
				if err != nil {
					return n, err
				}
				for _, id := range due {
					settled := false
					err := e.store.Update(ctx, func(tx Tx) error {
						actor, err := systemActor(ctx, tx)
						if err != nil {
							return err
						}
						settled, err = e.fireFollower(ctx, tx, fl, id, Command{Actor: actor, Comment: what.settled()}, now)
						return err
					})
					if err != nil {
						return n, err
					}
					if settled {
						n++
					}
				}
			}
		}
	}
	return n, nil
}

func (e *Engine) sweepExpiry(ctx context.Context, q ExpiryQuery, days int, today Date, now time.Time) (int, error) {
	return e.sweepBatches(ctx, q.Limit, func(dt DeadlineTx) ([]Reminder, error) {
		certs, err := dt.ExpiringCertificates(ctx, q)
		rs := make([]Reminder, len(certs))
		for i, ec := range certs {
			q.After = ec.Certificate.ID
			rs[i] = expiryReminder(ec, days, today, now)
		}
		return rs, err
	})
}

// sweepBatches adds reminders batch by batch, each batch in its own short
// write transaction (SQLite has one writer), until next returns fewer than
// limit. next advances its own cursor.
func (e *Engine) sweepBatches(ctx context.Context, limit int, next func(DeadlineTx) ([]Reminder, error)) (int, error) {
	added := 0
	for {
		var got int
		err := e.store.Update(ctx, func(tx Tx) error {
			dt, err := deadlineTx(tx)
			if err != nil {
				return err
			}
			rs, err := next(dt)
			if err != nil {
				return err
			}
			got = len(rs)
			for i := range rs {
				ok, err := dt.AddReminder(ctx, &rs[i])
				if err != nil {
					return err
				}
				if ok {
					added++
				}
			}
			return nil
		})
		if err != nil {
			return added, err
		}
		if got < limit {
			return added, nil
		}
	}
}

func expiryReminder(ec ExpiringCertificate, days int, today Date, now time.Time) Reminder {
	c := ec.Certificate
	left := int(c.ValidUntil.Time().Sub(today.Time()).Hours() / 24)
	state := ""
	if c.State == CertSuspended {
		state = "（现暂扣中）"
	}
	return Reminder{
		Kind: ReminderExpiry, OrgUnitID: c.OrgUnitID, Role: ReturnOffice(&c), CertificateID: c.ID,
		Threshold: ExpiryThreshold(days), Deadline: c.ValidUntil, RemindOn: c.ValidUntil.AddDays(-days), CreatedAt: now,
		Message: fmt.Sprintf("%s的%s（证号 %s）%s将于 %s 到期，还有 %d 天。到期后证件失效，不得用于执法（Art. 15, 16），请及时办理。",
			ec.PersonName, c.Kind.Label(), c.Number, state, c.ValidUntil, left),
	}
}

func (e *Engine) sweepOverdue(ctx context.Context, today Date, now time.Time) (int, error) {
	q := LateTaskQuery{Today: today, Limit: sweepBatch}
	return e.sweepBatches(ctx, q.Limit, func(dt DeadlineTx) ([]Reminder, error) {
		tasks, err := dt.LateTasks(ctx, q)
		rs := make([]Reminder, len(tasks))
		for i, lt := range tasks {
			q.After = lt.Task.ID
			rs[i] = e.overdueReminder(lt, today, now)
		}
		return rs, err
	})
}

// overdueReminder escalates lt to the principal leader of its department.
func (e *Engine) overdueReminder(lt LateTask, today Date, now time.Time) Reminder {
	t := lt.Task
	late := int(today.Time().Sub(t.DueOn.Time()).Hours() / 24)
	title := string(lt.Path)
	if p := e.paths[lt.Path]; p != nil {
		title = p.Title
	}
	who := ""
	if lt.PersonName != "" {
		who = "（" + lt.PersonName + "）"
	}
	return Reminder{
		Kind: ReminderOverdue, OrgUnitID: t.OrgUnitID, Role: RolePrincipal, CaseID: t.CaseID, CertificateID: t.CertificateID, TaskID: t.ID,
		Threshold: ThresholdOverdue, Deadline: t.DueOn, RemindOn: t.DueOn.AddDays(1), CreatedAt: now,
		Message: fmt.Sprintf("「%s」案件 %s%s的任务 %s（%s）应于 %s 前完成，已逾期 %d 天，请督办。",
			title, lt.CaseNumber, who, t.Kind.Label(), t.Role.Label(), t.DueOn, late),
	}
}

// Reminders lists the unacknowledged reminders of the roles actor holds,
// each at the unit it holds it (like Inbox), by ascending ID after after.
func (e *Engine) Reminders(ctx context.Context, actor *Actor, after int64, limit int) ([]Reminder, error) {
	if actor == nil {
		return nil, ErrUnauthenticated
	}
	out := []Reminder{}
	if len(actor.Roles) == 0 {
		return out, nil
	}
	err := e.store.View(ctx, func(tx Tx) error {
		dt, err := deadlineTx(tx)
		if err != nil {
			return err
		}
		out, err = dt.Reminders(ctx, ReminderQuery{Roles: actor.Roles, After: after, Limit: limit, Hidden: e.hiddenFrom(actor)})
		return err
	})
	return out, err
}

// AcknowledgeReminder marks reminder id read by actor, who must hold its
// role at its unit; anyone else gets ErrNotFound, which tells nothing
// about reminders they may not see. Acknowledging twice keeps the first.
func (e *Engine) AcknowledgeReminder(ctx context.Context, actor *Actor, id int64) (Reminder, error) {
	if actor == nil {
		return Reminder{}, ErrUnauthenticated
	}
	var r Reminder
	err := e.store.Update(ctx, func(tx Tx) error {
		dt, err := deadlineTx(tx)
		if err != nil {
			return err
		}
		if r, err = dt.Reminder(ctx, id); err != nil {
			return err
		}
		if !actor.Has(r.Role, r.OrgUnitID) {
			return fmt.Errorf("reminder %d: %w", id, ErrNotFound)
		}
		if r.AcknowledgedAt != nil {
			return nil
		}
		now := e.Now()
		if err := dt.AcknowledgeReminder(ctx, id, actor.UserID, now); err != nil {
			return err
		}
		r.AcknowledgedAt, r.AcknowledgedBy = &now, actor.UserID
		return nil
	})
	return r, err
}
