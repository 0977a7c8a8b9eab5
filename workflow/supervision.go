package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// DepartureBlocker is a person whose departure is open while at least one
// certificate is still out (Art. 18): what HR asks before it may complete.
type DepartureBlocker struct {
	PersonID     int64                 `json:"person_id"`
	PersonName   string                `json:"person_name"`
	CaseID       int64                 `json:"case_id"`
	CaseNumber   string                `json:"case_number"`
	OrgUnitID    int64                 `json:"org_unit_id"`
	Reason       DepartureReason       `json:"reason"`
	Since        Date                  `json:"since"` // the departure's effective date
	Certificates []BlockingCertificate `json:"certificates"`
}

// BlockingCertificate is one certificate still out, where it must go, and
// the open return task, if any.
type BlockingCertificate struct {
	CertificateID int64            `json:"certificate_id"`
	Kind          CertificateKind  `json:"kind"`
	KindLabel     string           `json:"kind_label"`
	Number        string           `json:"number"`
	State         CertificateState `json:"state"`
	ReturnTo      Role             `json:"return_to_role"`
	ReturnUnitID  int64            `json:"return_to_org_unit_id"`
	ReturnToText  string           `json:"return_to"`
	TaskID        int64            `json:"task_id,omitempty"`
	TaskDueOn     Date             `json:"task_due_on,omitempty"`
}

// BlockerRow is one (departure, certificate) pair as the store returns it.
type BlockerRow struct {
	CaseID      int64
	CaseNumber  string
	OrgUnitID   int64
	PersonID    int64
	PersonName  string
	CaseData    []byte
	Certificate Certificate
	TaskID      int64
	TaskDueOn   Date
}

// OverdueTask is an open task past its due date.
type OverdueTask struct {
	InboxTask
	OrgUnitName string `json:"org_unit_name"`
	DaysOverdue int    `json:"days_overdue"`
}

// OverdueCount counts overdue tasks of one kind at one org unit.
type OverdueCount struct {
	OrgUnitID   int64    `json:"org_unit_id"`
	OrgUnitName string   `json:"org_unit_name"`
	Kind        TaskKind `json:"kind"`
	KindLabel   string   `json:"kind_label"`
	Count       int      `json:"count"`
}

// OverdueQuery selects overdue tasks in a scope (for one department, the
// scope Unit of it).
type OverdueQuery struct {
	Scope  Scope
	Today  Date
	After  int64
	Limit  int
	Hidden Hidden
}

// Hidden is what a reader does not see of tasks and reminders: those of
// cases about PersonID on Paths, the paths hidden from their subject (a
// complaint about the reader). Zero hides nothing.
type Hidden struct {
	PersonID int64
	Paths    []PathName
}

// hiddenFrom is what actor does not see by being the subject
// (Path.HiddenFromSubject), whatever office role they hold.
func (e *Engine) hiddenFrom(actor *Actor) Hidden {
	if actor.PersonID == 0 {
		return Hidden{}
	}
	h := Hidden{PersonID: actor.PersonID}
	for _, n := range e.order {
		if e.paths[n].HiddenFromSubject {
			h.Paths = append(h.Paths, n)
		}
	}
	return h
}

// SupervisionTx is what the supervision questions need of a store.
type SupervisionTx interface {
	DepartureBlockers(ctx context.Context, scope Scope, personID int64) ([]BlockerRow, error)
	OverdueTasks(ctx context.Context, q OverdueQuery) ([]OverdueTask, error)
	OverdueCounts(ctx context.Context, q OverdueQuery) ([]OverdueCount, error)
}

func supervision(tx Tx) (SupervisionTx, error) {
	s, ok := tx.(SupervisionTx)
	if !ok {
		return nil, fmt.Errorf("workflow: store %T cannot answer supervision questions", tx)
	}
	return s, nil
}

// DepartureBlockers answers HR's question: who, in actor's scope, has an
// open departure and still a certificate out (personID 0: everyone).
func (e *Engine) DepartureBlockers(ctx context.Context, actor *Actor, personID int64) ([]DepartureBlocker, error) {
	out := []DepartureBlocker{}
	// One question, one statement after the scope: no transaction needed
	// (on PostgreSQL that saves the COMMIT round trip).
	err := ViewLoose(ctx, e.store, func(tx Tx) error {
		sc, err := e.scope(ctx, tx, actor)
		if err != nil || sc.Empty() {
			return err
		}
		sup, err := supervision(tx)
		if err != nil {
			return err
		}
		rows, err := sup.DepartureBlockers(ctx, sc, personID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if len(out) == 0 || out[len(out)-1].CaseID != r.CaseID {
				var d DepartureData
				_ = json.Unmarshal(r.CaseData, &d)
				out = append(out, DepartureBlocker{PersonID: r.PersonID, PersonName: r.PersonName, CaseID: r.CaseID, CaseNumber: r.CaseNumber,
					OrgUnitID: r.OrgUnitID, Reason: d.Reason, Since: d.EffectiveOn, Certificates: []BlockingCertificate{}})
			}
			c := r.Certificate
			b := &out[len(out)-1]
			b.Certificates = append(b.Certificates, BlockingCertificate{CertificateID: c.ID, Kind: c.Kind, KindLabel: c.Kind.Label(), Number: c.Number,
				State: c.State, ReturnTo: ReturnOffice(&c), ReturnUnitID: c.OrgUnitID, ReturnToText: returnOfficeText(&c), TaskID: r.TaskID, TaskDueOn: r.TaskDueOn})
		}
		return nil
	})
	return out, err
}

// Overdue lists open tasks past due in actor's scope (optionally one org
// unit), oldest due first, with counts by org unit and kind.
func (e *Engine) Overdue(ctx context.Context, actor *Actor, orgUnitID, after int64, limit int) ([]OverdueTask, []OverdueCount, error) {
	tasks, counts := []OverdueTask{}, []OverdueCount{}
	// The list and its counts are read a moment apart, like the inbox
	// and its badges: no transaction around them.
	err := ViewLoose(ctx, e.store, func(tx Tx) error {
		sc, err := e.scope(ctx, tx, actor)
		if err != nil || sc.Empty() {
			return err
		}
		sup, err := supervision(tx)
		if err != nil {
			return err
		}
		if orgUnitID != 0 {
			// One department asked for: check the scope once here, so the
			// store reads that department's rows without a per-row check.
			// Tasks sit at departments, so another kind of unit has none.
			p, err := e.place(ctx, tx, orgUnitID)
			if errors.Is(err, ErrNotFound) || err == nil && (p.deptID != orgUnitID || !sc.Reaches(OrgUnit{ID: p.deptID, Path: p.deptPath})) {
				return nil // nothing the actor may see
			} else if err != nil {
				return err
			}
			sc = Unit(p.deptID)
		}
		q := OverdueQuery{Scope: sc, Today: e.today(e.Now()), After: after, Limit: limit, Hidden: e.hiddenFrom(actor)}
		if tasks, err = sup.OverdueTasks(ctx, q); err != nil {
			return err
		}
		for i := range tasks {
			tasks[i].KindLabel = tasks[i].Kind.Label()
		}
		if counts, err = sup.OverdueCounts(ctx, q); err != nil {
			return err
		}
		for i := range counts {
			counts[i].KindLabel = counts[i].Kind.Label()
		}
		return nil
	})
	return tasks, counts, err
}
