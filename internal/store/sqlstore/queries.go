package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"certflow/workflow"
)

const orgUnitCols = `id, COALESCE(parent_id, 0), kind, level, name, region_code, leadership_kind, dept_id, path, version`

func scanOrgUnit(r interface{ Scan(...any) error }) (workflow.OrgUnit, error) {
	var u workflow.OrgUnit
	err := r.Scan(&u.ID, &u.ParentID, &u.Kind, &u.Level, &u.Name, &u.Region, &u.LeadershipKind, &u.DeptID, &u.Path, &u.Version)
	return u, err
}

func (t *tx) OrgUnit(ctx context.Context, id int64) (workflow.OrgUnit, error) {
	u, err := scanOrgUnit(t.queryRow(ctx, sqlOrgUnit, id))
	return u, notFound(t.s.interpret(err), "org unit", id)
}

func (t *tx) OrgChain(ctx context.Context, id int64) ([]int64, error) {
	var path string
	err := t.queryRow(ctx, sqlOrgChain, id).Scan(&path)
	if err != nil {
		return nil, notFound(t.s.interpret(err), "org unit", id)
	}
	return parsePath(path)
}

func parsePath(p string) ([]int64, error) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	out := make([]int64, 0, len(parts))
	for _, s := range parts {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: bad org path %q", p)
		}
		out = append(out, n)
	}
	return out, nil
}

func (t *tx) ListOrgUnits(ctx context.Context, sc workflow.Scope) ([]workflow.OrgUnit, error) {
	var args []any
	q := `SELECT u.id, COALESCE(u.parent_id, 0), u.kind, u.level, u.name, u.region_code, u.leadership_kind, u.dept_id, u.path, u.version
	      FROM org_units u JOIN org_units d ON d.id = u.dept_id WHERE ` + scopeClause(sc, "d", &args) + ` ORDER BY u.path, u.id`
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	var out []workflow.OrgUnit
	for rows.Next() {
		u, err := scanOrgUnit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, t.s.interpret(rows.Err())
}

// CreateOrgUnit inserts u and derives its department and path: a
// department's path extends its parent department's; any other unit belongs
// to its parent's department.
func (t *tx) CreateOrgUnit(ctx context.Context, u *workflow.OrgUnit) error {
	var parentPath string
	var parentDept int64
	if u.ParentID != 0 {
		p, err := t.OrgUnit(ctx, u.ParentID)
		if err != nil {
			return err
		}
		parentDept = p.DeptID
		d, err := t.OrgUnit(ctx, p.DeptID)
		if err != nil {
			return err
		}
		parentPath = d.Path
	} else {
		parentPath = "/"
	}
	var parent any
	if u.ParentID != 0 {
		parent = u.ParentID
	}
	id, err := t.insert(ctx, sqlCreateOrgUnit, parent, u.Kind, u.Level, u.Name, u.Region, u.LeadershipKind)
	if err != nil {
		return err
	}
	u.ID, u.Version = id, 1
	if u.Kind == workflow.UnitDepartment {
		u.DeptID, u.Path = id, parentPath+strconv.FormatInt(id, 10)+"/"
	} else {
		u.DeptID, u.Path = parentDept, ""
	}
	_, err = t.exec(ctx, sqlSetOrgUnitPath, u.DeptID, u.Path, id)
	return err
}

const personCols = `p.id, p.name, p.sex, p.birth_date, p.id_number, p.title, p.education, p.major, p.staffed, p.enforcement_post, p.org_unit_id, p.employment, p.version`

func scanPerson(r interface{ Scan(...any) error }) (workflow.Person, error) {
	var p workflow.Person
	err := r.Scan(&p.ID, &p.Name, &p.Sex, &p.BirthDate, &p.IDNumber, &p.Title, &p.Education, &p.Major, &p.Staffed, &p.Post, &p.OrgUnitID, &p.Employment, &p.Version)
	return p, err
}

func (t *tx) Person(ctx context.Context, id int64) (workflow.Person, error) {
	p, err := scanPerson(t.queryRow(ctx, sqlPerson, id))
	return p, notFound(t.s.interpret(err), "person", id)
}

// likeEscaper makes a search text a literal LIKE pattern: its % and _
// match only themselves, under ESCAPE '\' (written out on both databases:
// SQLite has no default escape character).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func (t *tx) ListPeople(ctx context.Context, f workflow.PersonFilter) ([]workflow.Person, error) {
	args := []any{f.After}
	q := `SELECT ` + personCols + ` FROM people p JOIN org_units u ON u.id = p.org_unit_id JOIN org_units d ON d.id = u.dept_id
	      WHERE p.id > $1 AND ` + scopeClause(f.Scope, "d", &args)
	if f.OrgUnitID != 0 {
		args = append(args, f.OrgUnitID)
		q += fmt.Sprintf(" AND p.org_unit_id = $%d", len(args))
	}
	if f.Name != "" {
		args = append(args, "%"+likeEscaper.Replace(f.Name)+"%")
		q += fmt.Sprintf(` AND p.name LIKE $%d ESCAPE '\'`, len(args))
	}
	if f.IDNumber != "" {
		args = append(args, f.IDNumber)
		q += fmt.Sprintf(" AND p.id_number = $%d", len(args))
	}
	args = append(args, limit(f.Limit))
	q += fmt.Sprintf(" ORDER BY p.id LIMIT $%d", len(args))
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	out := []workflow.Person{}
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, t.s.interpret(rows.Err())
}

func (t *tx) CreatePerson(ctx context.Context, p *workflow.Person) error {
	id, err := t.insert(ctx, sqlCreatePerson,
		p.Name, p.Sex, p.BirthDate, p.IDNumber, p.Title, p.Education, p.Major, p.Staffed, p.Post, p.OrgUnitID, p.Employment)
	if err != nil {
		return err
	}
	p.ID, p.Version = id, 1
	return nil
}

func (t *tx) UpdatePerson(ctx context.Context, p *workflow.Person) error {
	r, err := t.exec(ctx, sqlUpdatePerson,
		p.Name, p.Sex, p.BirthDate, p.IDNumber, p.Title, p.Education, p.Major, p.Staffed, p.Post, p.OrgUnitID, p.Employment, p.ID, p.Version)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: person %d changed since version %d", workflow.ErrStale, p.ID, p.Version)
	}
	p.Version++
	return nil
}

const trainingCols = `id, person_id, kind, date, passed, score, topics, version`

func scanTraining(r interface{ Scan(...any) error }) (workflow.Training, error) {
	var tr workflow.Training
	var score sql.NullFloat64
	var topics string
	if err := r.Scan(&tr.ID, &tr.PersonID, &tr.Kind, &tr.Date, &tr.Passed, &score, &topics, &tr.Version); err != nil {
		return tr, err
	}
	if score.Valid {
		tr.Score = &score.Float64
	}
	err := json.Unmarshal([]byte(topics), &tr.Topics)
	return tr, err
}

func (t *tx) Trainings(ctx context.Context, personID int64) ([]workflow.Training, error) {
	out := []workflow.Training{}
	var p pipeline
	p.queryAll(collect(&out, scanTraining), sqlTrainings, personID)
	return out, p.run(ctx, t)
}

func (t *tx) Training(ctx context.Context, id int64) (workflow.Training, error) {
	tr, err := scanTraining(t.queryRow(ctx, sqlTraining, id))
	return tr, notFound(t.s.interpret(err), "training", id)
}

func topicsJSON(ts []int) string {
	if ts == nil {
		ts = []int{}
	}
	b, _ := json.Marshal(ts)
	return string(b)
}

func (t *tx) CreateTraining(ctx context.Context, tr *workflow.Training) error {
	id, err := t.insert(ctx, sqlCreateTraining,
		tr.PersonID, tr.Kind, tr.Date, tr.Passed, tr.Score, topicsJSON(tr.Topics))
	if err != nil {
		return err
	}
	tr.ID, tr.Version = id, 1
	return nil
}

func (t *tx) UpdateTraining(ctx context.Context, tr *workflow.Training) error {
	r, err := t.exec(ctx, sqlUpdateTraining,
		tr.Kind, tr.Date, tr.Passed, tr.Score, topicsJSON(tr.Topics), tr.ID, tr.Version)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: training %d changed since version %d", workflow.ErrStale, tr.ID, tr.Version)
	}
	tr.Version++
	return nil
}

const certCols = `c.id, c.person_id, c.kind, c.number, c.issuer, c.categories, c.region, c.issued_on, c.received_on, c.valid_until, c.state, COALESCE(c.replaces, 0), c.case_id, c.org_unit_id, c.version`

func scanCert(r interface{ Scan(...any) error }) (workflow.Certificate, error) {
	var c workflow.Certificate
	var cats string
	if err := r.Scan(&c.ID, &c.PersonID, &c.Kind, &c.Number, &c.Issuer, &cats, &c.Region, &c.IssuedOn, &c.ReceivedOn, &c.ValidUntil, &c.State, &c.Replaces, &c.CaseID, &c.OrgUnitID, &c.Version); err != nil {
		return c, err
	}
	err := json.Unmarshal([]byte(cats), &c.Categories)
	return c, err
}

func (t *tx) certificates(ctx context.Context, q string, args ...any) ([]workflow.Certificate, error) {
	out := []workflow.Certificate{}
	var p pipeline
	p.queryAll(collect(&out, scanCert), q, args...)
	return out, p.run(ctx, t)
}

func (t *tx) CertificatesOf(ctx context.Context, personID int64) ([]workflow.Certificate, error) {
	return t.certificates(ctx, `SELECT `+certCols+` FROM certificates c WHERE c.person_id = $1 ORDER BY c.id`, personID)
}

func (t *tx) Certificate(ctx context.Context, id int64) (workflow.Certificate, error) {
	c, err := scanCert(t.queryRow(ctx, sqlCertificate, id))
	return c, notFound(t.s.interpret(err), "certificate", id)
}

func (t *tx) ListCertificates(ctx context.Context, f workflow.CertificateFilter) ([]workflow.Certificate, error) {
	args := []any{f.After}
	q := `SELECT ` + certCols + ` FROM certificates c JOIN org_units d ON d.id = c.org_unit_id WHERE c.id > $1 AND ` + scopeClause(f.Scope, "d", &args)
	for _, cond := range []struct {
		col string
		val any
		set bool
	}{
		{"c.person_id", f.PersonID, f.PersonID != 0},
		{"c.state", f.State, f.State != ""},
		{"c.kind", f.Kind, f.Kind != ""},
		{"c.number", f.Number, f.Number != ""},
	} {
		if cond.set {
			args = append(args, cond.val)
			q += fmt.Sprintf(" AND %s = $%d", cond.col, len(args))
		}
	}
	args = append(args, limit(f.Limit))
	q += fmt.Sprintf(" ORDER BY c.id LIMIT $%d", len(args))
	return t.certificates(ctx, q, args...)
}

const caseCols = `id, number, path, state, version, COALESCE(person_id, 0), COALESCE(certificate_id, 0), org_unit_id, preparer_user_id, data, created_at, updated_at`

func scanCase(r interface{ Scan(...any) error }) (workflow.Case, error) {
	var c workflow.Case
	var data []byte
	err := r.Scan(&c.ID, &c.Number, &c.Path, &c.State, &c.Version, &c.PersonID, &c.CertificateID, &c.OrgUnitID, &c.Preparer, &data, &c.CreatedAt, &c.UpdatedAt)
	c.Data = data
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

func (t *tx) LockCase(ctx context.Context, id int64) error {
	if t.s.dialect.Name != "postgres" {
		return nil
	}
	var got int64
	err := t.queryRow(ctx, `SELECT id FROM cases WHERE id = $1 FOR UPDATE`, id).Scan(&got)
	return notFound(t.s.interpret(err), "case", id)
}

func (t *tx) Case(ctx context.Context, id int64) (workflow.Case, error) {
	c, err := scanCase(t.queryRow(ctx, sqlCase, id))
	return c, notFound(t.s.interpret(err), "case", id)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (t *tx) CaseContext(ctx context.Context, id int64) (workflow.CaseContext, error) {
	var cc workflow.CaseContext
	var data []byte
	err := t.queryRow(ctx, sqlCaseContext, id).Scan(caseContextDest(&cc, &data)...)
	if err != nil {
		return cc, notFound(t.s.interpret(err), "case", id)
	}
	return cc, finishCaseContext(&cc, data)
}

// caseContextDest is where sqlCaseContext's row goes; the case's data
// goes to data, for finishCaseContext.
func caseContextDest(cc *workflow.CaseContext, data *[]byte) []any {
	c, d, p, u := &cc.Case, &cc.Department, &cc.Person, &cc.Unit
	return []any{&c.ID, &c.Number, &c.Path, &c.State, &c.Version, &c.PersonID, &c.CertificateID, &c.OrgUnitID, &c.Preparer, data, &c.CreatedAt, &c.UpdatedAt,
		&d.ID, &d.ParentID, &d.Kind, &d.Level, &d.Name, &d.Region, &d.LeadershipKind, &d.DeptID, &d.Path, &d.Version,
		&p.ID, &p.Name, &p.Sex, &p.BirthDate, &p.IDNumber, &p.Title, &p.Education, &p.Major, &p.Staffed, &p.Post, &p.OrgUnitID, &p.Employment, &p.Version,
		&u.ID, &u.ParentID, &u.Kind, &u.Level, &u.Name, &u.Region, &u.LeadershipKind, &u.DeptID, &u.Path, &u.Version}
}

func finishCaseContext(cc *workflow.CaseContext, data []byte) error {
	c := &cc.Case
	c.Data = data
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	var err error
	cc.Chain, err = parsePath(cc.Department.Path)
	return err
}

// FireContext reads the case context, the person's trainings and
// certificates and the case's tasks in one pipeline: every statement is
// keyed by the case, so none waits for another.
func (t *tx) FireContext(ctx context.Context, id int64) (workflow.FireContext, error) {
	fc := workflow.FireContext{Trainings: []workflow.Training{}, Certificates: []workflow.Certificate{}, Tasks: []workflow.Task{}}
	var data []byte
	var p pipeline
	p.scanRow(caseContextDest(&fc.CaseContext, &data), sqlCaseContext, id)
	p.queryAll(collect(&fc.Trainings, scanTraining), sqlCaseTrainings, id)
	p.queryAll(collect(&fc.Certificates, scanCert), sqlCaseCertificates, id)
	p.queryAll(collect(&fc.Tasks, scanPlainTask), sqlCaseTasks, id)
	if err := p.run(ctx, t); err != nil {
		return fc, notFound(err, "case", id)
	}
	return fc, finishCaseContext(&fc.CaseContext, data)
}

// CreateCase inserts c and numbers it region-year-id, e.g. 650100-2026-000012.
func (t *tx) CreateCase(ctx context.Context, c *workflow.Case) error {
	id, err := t.insert(ctx, sqlCreateCase,
		c.Path, c.State, c.Version, nullID(c.PersonID), nullID(c.CertificateID), c.OrgUnitID, c.Preparer, string(c.Data), utc(c.CreatedAt), utc(c.UpdatedAt))
	if err != nil {
		return err
	}
	dept, err := t.OrgUnit(ctx, c.OrgUnitID)
	if err != nil {
		return err
	}
	c.ID = id
	c.Number = fmt.Sprintf("%s-%d-%06d", dept.Region, c.CreatedAt.Year(), id)
	_, err = t.exec(ctx, sqlSetCaseNumber, c.Number, id)
	return err
}

func (t *tx) ListCases(ctx context.Context, f workflow.CaseFilter) ([]workflow.Case, error) {
	q, args := listCasesSQL(f)
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	out := []workflow.Case{}
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, t.s.interpret(rows.Err())
}

// listCasesSQL is the statement of ListCases for f, and its arguments.
func listCasesSQL(f workflow.CaseFilter) (string, []any) {
	args := []any{f.After}
	q := `SELECT c.id, c.number, c.path, c.state, c.version, COALESCE(c.person_id, 0), COALESCE(c.certificate_id, 0), c.org_unit_id, c.preparer_user_id, c.data, c.created_at, c.updated_at
	      FROM cases c JOIN org_units d ON d.id = c.org_unit_id WHERE c.id > $1 AND ` + scopeClause(f.Scope, "d", &args)
	for _, cond := range []struct {
		col string
		val any
		set bool
	}{
		{"c.person_id", f.PersonID, f.PersonID != 0},
		{"c.certificate_id", f.CertificateID, f.CertificateID != 0},
		{"c.path", f.Path, f.Path != ""},
		{"c.state", f.State, f.State != ""},
	} {
		if cond.set {
			args = append(args, cond.val)
			q += fmt.Sprintf(" AND %s = $%d", cond.col, len(args))
		}
	}
	args = append(args, limit(f.Limit))
	q += fmt.Sprintf(" ORDER BY c.id LIMIT $%d", len(args))
	return q, args
}

func (t *tx) CaseEvents(ctx context.Context, caseID int64) ([]workflow.Event, error) {
	rows, err := t.query(ctx, sqlCaseEvents, caseID)
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	out := []workflow.Event{}
	for rows.Next() {
		var e workflow.Event
		var data []byte
		if err := rows.Scan(&e.ID, &e.CaseID, &e.Seq, &e.Event, &e.From, &e.To, &e.Actor, &e.OnBehalfOf, &e.At, &e.Comment, &data,
			&e.ActorName, &e.OnBehalfOfName); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		if len(data) > 0 {
			e.Data = data
		}
		out = append(out, e)
	}
	return out, t.s.interpret(rows.Err())
}

func scanTask(r interface{ Scan(...any) error }, extra ...any) (workflow.Task, error) {
	var tk workflow.Task
	var closed, assigned, reminded sql.NullTime
	dst := append([]any{&tk.ID, &tk.CaseID, &tk.Kind, &tk.Role, &tk.OrgUnitID, &tk.CertificateID, &tk.Status, &tk.DueOn, &tk.CreatedAt, &closed,
		&tk.AssigneeID, &assigned, &tk.Priority, &reminded}, extra...)
	if err := r.Scan(dst...); err != nil {
		return tk, err
	}
	tk.CreatedAt = tk.CreatedAt.UTC()
	tk.ClosedAt, tk.AssignedAt, tk.RemindedAt = utcPtr(closed), utcPtr(assigned), utcPtr(reminded)
	return tk, nil
}

func utcPtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	at := t.Time.UTC()
	return &at
}

const taskCols = `t.id, t.case_id, t.kind, t.role, t.org_unit_id, COALESCE(t.certificate_id, 0), t.status, t.due_on, t.created_at, t.closed_at,
	COALESCE(t.assignee_user_id, 0), t.assigned_at, t.priority, t.reminded_at`

func (t *tx) CaseTasks(ctx context.Context, caseID int64) ([]workflow.Task, error) {
	out := []workflow.Task{}
	var p pipeline
	p.queryAll(collect(&out, scanPlainTask), sqlCaseTasks, caseID)
	return out, p.run(ctx, t)
}

// scanPlainTask is scanTask of a row with the task's columns alone.
func scanPlainTask(r interface{ Scan(...any) error }) (workflow.Task, error) { return scanTask(r) }

func (t *tx) CaseDocuments(ctx context.Context, caseID int64) ([]workflow.DocumentStatus, error) {
	rows, err := t.query(ctx, sqlCaseDocuments, caseID)
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	out := []workflow.DocumentStatus{}
	for rows.Next() {
		var d workflow.DocumentStatus
		if err := rows.Scan(&d.JobID, &d.Doc, &d.EventID, &d.State, &d.Error); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, t.s.interpret(rows.Err())
}

// Apply writes one transition. The version check makes a concurrent
// transition on the same case fail with ErrConflict instead of overwriting.
func (t *tx) Apply(ctx context.Context, ch *workflow.Change) error {
	c := &ch.Case
	if c.Version == 0 {
		return t.applyOpen(ctx, ch)
	}
	if ch.NewCertificate != nil {
		nc := ch.NewCertificate
		cats, _ := json.Marshal(nc.Categories)
		id, err := t.insert(ctx, sqlInsertCertificate,
			nc.PersonID, nc.Kind, nc.Number, nc.Issuer, string(cats), nc.Region, nc.IssuedOn, nc.ReceivedOn, nc.ValidUntil, nc.State, nullID(nc.Replaces), nc.CaseID, nc.OrgUnitID)
		if err != nil {
			if errors.Is(err, workflow.ErrConflict) {
				return workflow.Invalid("number", fmt.Sprintf("%s already issued a certificate numbered %s", nc.Issuer, nc.Number))
			}
			return err
		}
		nc.ID, nc.Version = id, 1
		c.CertificateID = id
	}
	var p pipeline
	p.exec(versionCheck("case", c.ID, c.Version), sqlUpdateCaseState,
		c.State, string(c.Data), nullID(c.CertificateID), utc(ch.Now), c.ID, c.Version)
	c.Version++
	return t.applyRest(ctx, ch, &p)
}

// versionCheck is the check of an update guarded by a version: exactly one
// row, or the row changed since it was read.
func versionCheck(what string, id, version int64) func(int64) error {
	return func(n int64) error {
		if n != 1 {
			return fmt.Errorf("%w: %s %d changed since version %d", workflow.ErrStale, what, id, version)
		}
		return nil
	}
}

// applyOpen writes a change that opens a case: the case row first, then
// everything else refers to its ID.
func (t *tx) applyOpen(ctx context.Context, ch *workflow.Change) error {
	c := &ch.Case
	if ch.NewCertificate != nil || ch.CertificateMove != nil && c.CertificateID == 0 {
		return fmt.Errorf("sqlstore: an opening change cannot issue a certificate")
	}
	c.Version = 1
	if err := t.CreateCase(ctx, c); err != nil {
		return err
	}
	ch.Event.CaseID = c.ID
	for i := range ch.OpenTasks {
		ch.OpenTasks[i].CaseID = c.ID
	}
	for i := range ch.Documents {
		ch.Documents[i].CaseID = c.ID
	}
	return t.applyRest(ctx, ch, &pipeline{})
}

// applyRest writes, after what p holds already, what follows the case
// row: event, person, certificate, tasks and documents. None of these
// statements reads another's result (a document finds its event by the
// case and sequence number), so they go to the database together; then
// the documents' jobs are enqueued.
func (t *tx) applyRest(ctx context.Context, ch *workflow.Change, p *pipeline) error {
	c := &ch.Case
	now := utc(ch.Now)
	if pt := ch.Person; pt != nil {
		p.exec(versionCheck("person", pt.ID, pt.Version), sqlTouchPerson, pt.Employment, pt.Post, pt.ID, pt.Version)
	}
	e := &ch.Event
	var data any
	if len(e.Data) > 0 {
		data = string(e.Data)
	}
	p.scanRow([]any{&e.ID}, sqlInsertEvent,
		e.CaseID, e.Seq, e.Event, e.From, e.To, e.Actor, nullID(e.OnBehalfOf), utc(e.At), e.Comment, data)
	if m := ch.CertificateMove; m != nil {
		p.exec(versionCheck("certificate", m.ID, m.Version), sqlMoveCertificate, m.To, m.ReceivedOn, m.ID, m.Version)
	}
	for _, ref := range ch.CloseTasks {
		if ref.CertificateID != 0 {
			p.exec(nil, sqlCloseCertificateTasks, now, c.ID, ref.Kind, ref.CertificateID, workflow.TaskOpen)
		} else {
			p.exec(nil, sqlCloseTasks, now, c.ID, ref.Kind, workflow.TaskOpen)
		}
	}
	for i := range ch.OpenTasks {
		tk := &ch.OpenTasks[i]
		var assigned any // a task given to someone as it opens (TaskSpec.ToPreparer)
		if tk.AssigneeID != 0 {
			assigned = now
		}
		p.scanRow([]any{&tk.ID}, sqlOpenTask,
			tk.CaseID, tk.Kind, tk.Role, tk.OrgUnitID, nullID(tk.CertificateID), tk.DueOn, now, c.Path, nullID(c.PersonID), c.Preparer,
			nullID(tk.AssigneeID), assigned, nullID(tk.Submitter))
	}
	for i := range ch.Documents {
		p.scanRow([]any{&ch.Documents[i].ID}, sqlInsertDocument,
			ch.Documents[i].CaseID, e.CaseID, e.Seq, ch.Documents[i].Doc, ch.Documents[i].Article, now,
			string(c.Data), nullID(c.CertificateID)) // the case as this event leaves it
	}
	if err := p.run(ctx, t); err != nil {
		return err
	}
	if len(ch.Documents) == 0 {
		return nil
	}
	for i := range ch.Documents {
		ch.Documents[i].EventID = e.ID
	}
	return t.EnqueueDocuments(ctx, ch.Documents)
}

// EnqueueDocuments enqueues the render jobs of documents stored in t (or
// stored before: a failed document rendered again), with whichever River
// client matches t's driver.
func (t *tx) EnqueueDocuments(ctx context.Context, jobs []workflow.DocumentJob) error {
	if t.pgTx != nil {
		if t.s.pgxJobs == nil {
			return nil
		}
		return t.s.pgxJobs(ctx, t.pgTx, jobs)
	}
	if t.s.jobs == nil {
		return nil
	}
	return t.s.jobs(ctx, t.sqlTx, jobs)
}

func (t *tx) SaveComplaintLookup(ctx context.Context, hash string, caseID int64) error {
	_, err := t.exec(ctx, sqlSaveComplaintLookup, hash, caseID)
	return err
}

func (t *tx) ComplaintByLookup(ctx context.Context, hash string) (workflow.Case, error) {
	c, err := scanCase(t.queryRow(ctx, sqlComplaintByLookup, hash))
	if err = t.s.interpret(err); errors.Is(err, workflow.ErrNotFound) {
		return c, fmt.Errorf("%w: no complaint with that lookup code", workflow.ErrNotFound)
	}
	return c, err
}

func (t *tx) Idempotency(ctx context.Context, userID int64, key string) (workflow.IdempotencyRecord, error) {
	r := workflow.IdempotencyRecord{UserID: userID, Key: key}
	var result []byte
	err := t.queryRow(ctx, sqlIdempotency, userID, key).
		Scan(&r.Fingerprint, &r.CaseID, &result, &r.CreatedAt)
	r.Result = result
	if err != nil {
		return r, t.s.interpret(err)
	}
	return r, nil
}

func (t *tx) SaveIdempotency(ctx context.Context, r *workflow.IdempotencyRecord) error {
	_, err := t.exec(ctx, sqlSaveIdempotency,
		r.UserID, r.Key, r.Fingerprint, r.CaseID, string(r.Result), utc(r.CreatedAt))
	if errors.Is(err, workflow.ErrConflict) {
		return workflow.ErrDuplicateIdempotencyKey
	}
	return err
}

func (t *tx) ActorByTokenHash(ctx context.Context, hash []byte, now time.Time) (workflow.Actor, error) {
	var a workflow.Actor
	var person sql.NullInt64
	var p pipeline
	p.scanRow([]any{&a.UserID, &a.Name, &person}, sqlActorByTokenHash, hash, utc(now))
	pipeRoles(&p, &a, sqlRolesByTokenHash, hash)
	if err := p.run(ctx, t); err != nil {
		return workflow.Actor{}, unauthenticated(err)
	}
	a.PersonID = person.Int64
	return a, nil
}

// unauthenticated reports a credential that matched no row as
// workflow.ErrUnauthenticated.
func unauthenticated(err error) error {
	if errors.Is(err, workflow.ErrNotFound) {
		return workflow.ErrUnauthenticated
	}
	return err
}

// pipeRoles queues q, which selects role and org unit by its one
// parameter arg, its bindings going to a.Roles. Every request
// authenticates: the roles go with the credential's row (keyed by the
// credential, not the user it finds), one round trip for both.
func pipeRoles(p *pipeline, a *workflow.Actor, q string, arg any) {
	p.queryAll(collect(&a.Roles, scanRole), q, arg)
}

func scanRole(r interface{ Scan(...any) error }) (b workflow.RoleBinding, err error) {
	err = r.Scan(&b.Role, &b.OrgUnitID)
	return b, err
}

func (t *tx) loadRoles(ctx context.Context, a *workflow.Actor) error {
	var p pipeline
	pipeRoles(&p, a, sqlUserRoles, a.UserID)
	return p.run(ctx, t)
}

func (t *tx) ActorByName(ctx context.Context, name string) (workflow.Actor, error) {
	var a workflow.Actor
	var person sql.NullInt64
	err := t.queryRow(ctx, `SELECT id, name, person_id FROM users WHERE name = $1 AND NOT disabled`, name).Scan(&a.UserID, &a.Name, &person)
	if err != nil {
		return a, fmt.Errorf("user %q: %w", name, t.s.interpret(err))
	}
	a.PersonID = person.Int64
	return a, t.loadRoles(ctx, &a)
}

func (t *tx) ServiceActor(ctx context.Context, name string) (workflow.Actor, error) {
	const find = `SELECT id, name, person_id FROM users WHERE name = $1`
	var a workflow.Actor
	var person sql.NullInt64
	err := t.queryRow(ctx, find, name).Scan(&a.UserID, &a.Name, &person)
	if errors.Is(err, sql.ErrNoRows) {
		// DO NOTHING: a concurrent transaction that created it first
		// wins; read committed lets the second look find its row.
		_, err = t.exec(ctx, `INSERT INTO users (name, person_id, disabled, created_at) VALUES ($1, NULL, FALSE, $2) ON CONFLICT (name) DO NOTHING`,
			name, time.Now().UTC())
		if err == nil {
			err = t.queryRow(ctx, find, name).Scan(&a.UserID, &a.Name, &person)
		}
	}
	if err != nil {
		return a, fmt.Errorf("user %q: %w", name, t.s.interpret(err))
	}
	a.PersonID = person.Int64
	return a, t.loadRoles(ctx, &a)
}

func (t *tx) CreateUser(ctx context.Context, name string, personID int64, roles []workflow.RoleBinding) (int64, error) {
	id, err := t.insert(ctx, sqlCreateUser, name, nullID(personID), time.Now().UTC())
	if err != nil {
		return 0, err
	}
	for _, b := range joinRoles(roles) {
		if _, err := t.exec(ctx, sqlInsertRoleBinding, id, b.Role, b.OrgUnitID); err != nil {
			return 0, err
		}
	}
	return id, nil
}

func (t *tx) CreateToken(ctx context.Context, userID int64, hash []byte, expires *time.Time) error {
	_, err := t.exec(ctx, sqlCreateToken, userID, hash, time.Now().UTC(), nullTime(expires))
	return err
}

const sqlCertificate = `SELECT ` + certCols + ` FROM certificates c WHERE c.id = $1`

// sqlCaseContext joins a case with its department, person and the person's unit.
const sqlCaseContext = `SELECT c.id, c.number, c.path, c.state, c.version, COALESCE(c.person_id, 0), COALESCE(c.certificate_id, 0), c.org_unit_id, c.preparer_user_id, c.data, c.created_at, c.updated_at,
	d.id, COALESCE(d.parent_id, 0), d.kind, d.level, d.name, d.region_code, d.leadership_kind, d.dept_id, d.path, d.version,
	COALESCE(p.id, 0), COALESCE(p.name, ''), COALESCE(p.sex, ''), p.birth_date, COALESCE(p.id_number, ''), COALESCE(p.title, ''), COALESCE(p.education, ''), COALESCE(p.major, ''),
	COALESCE(p.staffed, FALSE), COALESCE(p.enforcement_post, FALSE), COALESCE(p.org_unit_id, 0), COALESCE(p.employment, ''), COALESCE(p.version, 0),
	COALESCE(u.id, 0), COALESCE(u.parent_id, 0), COALESCE(u.kind, ''), COALESCE(u.level, ''), COALESCE(u.name, ''), COALESCE(u.region_code, ''), COALESCE(u.leadership_kind, ''), COALESCE(u.dept_id, 0), COALESCE(u.path, ''), COALESCE(u.version, 0)
	FROM cases c JOIN org_units d ON d.id = c.org_unit_id LEFT JOIN people p ON p.id = c.person_id LEFT JOIN org_units u ON u.id = p.org_unit_id
	WHERE c.id = $1`

// The statements the hot paths run.
const (
	sqlOrgUnit       = `SELECT ` + orgUnitCols + ` FROM org_units WHERE id = $1`
	sqlOrgChain      = `SELECT d.path FROM org_units u JOIN org_units d ON d.id = u.dept_id WHERE u.id = $1`
	sqlCreateOrgUnit = `INSERT INTO org_units (parent_id, kind, level, name, region_code, leadership_kind, path, version)
		VALUES ($1, $2, $3, $4, $5, $6, '', 1) RETURNING id`
	sqlSetOrgUnitPath = `UPDATE org_units SET dept_id = $1, path = $2 WHERE id = $3`
	sqlPerson         = `SELECT ` + personCols + ` FROM people p WHERE p.id = $1`
	sqlCreatePerson   = `INSERT INTO people (name, sex, birth_date, id_number, title, education, major, staffed, enforcement_post, org_unit_id, employment, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1) RETURNING id`
	sqlUpdatePerson = `UPDATE people SET name = $1, sex = $2, birth_date = $3, id_number = $4, title = $5, education = $6, major = $7,
		staffed = $8, enforcement_post = $9, org_unit_id = $10, employment = $11, version = version + 1
		WHERE id = $12 AND version = $13`
	sqlTrainings = `SELECT ` + trainingCols + ` FROM trainings WHERE person_id = $1 ORDER BY date, id`
	// The trainings and certificates of a case's person, by the case.
	sqlCaseTrainings    = `SELECT ` + trainingCols + ` FROM trainings WHERE person_id = (SELECT person_id FROM cases WHERE id = $1) ORDER BY date, id`
	sqlCaseCertificates = `SELECT ` + certCols + ` FROM certificates c WHERE c.person_id = (SELECT person_id FROM cases WHERE id = $1) ORDER BY c.id`
	sqlTraining         = `SELECT ` + trainingCols + ` FROM trainings WHERE id = $1`
	sqlCreateTraining   = `INSERT INTO trainings (person_id, kind, date, passed, score, topics, version) VALUES ($1, $2, $3, $4, $5, $6, 1) RETURNING id`
	sqlUpdateTraining   = `UPDATE trainings SET kind = $1, date = $2, passed = $3, score = $4, topics = $5, version = version + 1 WHERE id = $6 AND version = $7`
	sqlCase             = `SELECT ` + caseCols + ` FROM cases WHERE id = $1`
	sqlCreateCase       = `INSERT INTO cases (path, state, version, person_id, certificate_id, org_unit_id, preparer_user_id, data, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`
	sqlSetCaseNumber = `UPDATE cases SET number = $1 WHERE id = $2`
	sqlCaseEvents    = `SELECT e.id, e.case_id, e.seq, e.event, e.from_state, e.to_state, e.actor_user_id, COALESCE(e.on_behalf_of_user_id, 0), e.at, e.comment, e.data,
		COALESCE(u.name, ''), COALESCE(b.name, '')
		FROM events e LEFT JOIN users u ON u.id = e.actor_user_id LEFT JOIN users b ON b.id = e.on_behalf_of_user_id
		WHERE e.case_id = $1 ORDER BY e.seq`
	sqlCaseTasks         = `SELECT ` + taskCols + ` FROM tasks t WHERE t.case_id = $1 ORDER BY t.id`
	sqlCaseDocuments     = `SELECT id, doc, event_id, state, error FROM documents WHERE case_id = $1 ORDER BY id`
	sqlInsertCertificate = `INSERT INTO certificates (person_id, kind, number, issuer, categories, region, issued_on, received_on, valid_until, state, replaces, case_id, org_unit_id, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1) RETURNING id`
	sqlUpdateCaseState = `UPDATE cases SET state = $1, version = version + 1, data = $2, certificate_id = $3, updated_at = $4 WHERE id = $5 AND version = $6`
	sqlInsertEvent     = `INSERT INTO events (case_id, seq, event, from_state, to_state, actor_user_id, on_behalf_of_user_id, at, comment, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`
	sqlMoveCertificate = `UPDATE certificates SET state = $1, received_on = COALESCE($2, received_on), version = version + 1 WHERE id = $3 AND version = $4`
	// The close statements bind the open status ($4, $5 = TaskOpen) rather
	// than spell it: every inbox index is partial on status = 'open' and
	// holds kind, and a planner without statistics — a fresh database, a
	// table still small — rated scanning one of those, checking kind on
	// every open task, as cheap as tasks_case. PostgreSQL kept that generic
	// plan for the connection's life: 0.2–0.3 ms per transition, growing
	// with the open tasks. A bound status proves no partial index's
	// predicate, so tasks_case is left (and, for a certificate's tasks,
	// tasks_certificate): IndexedStatements.
	sqlCloseTasks = `UPDATE tasks SET status = 'closed', closed_at = $1 WHERE case_id = $2 AND kind = $3 AND status = $4`
	sqlOpenTask   = `INSERT INTO tasks (case_id, kind, role, org_unit_id, certificate_id, status, due_on, created_at, path, subject_person_id, preparer_user_id, assignee_user_id, assigned_at, submitter_user_id)
		VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`
	sqlCloseCertificateTasks = `UPDATE tasks SET status = 'closed', closed_at = $1 WHERE case_id = $2 AND kind = $3 AND certificate_id = $4 AND status = $5`
	sqlTouchPerson           = `UPDATE people SET employment = $1, enforcement_post = COALESCE($2, enforcement_post), version = version + 1 WHERE id = $3 AND version = $4`
	sqlInsertDocument        = `INSERT INTO documents (case_id, event_id, doc, article, state, created_at, case_data, case_certificate_id)
		VALUES ($1, (SELECT id FROM events WHERE case_id = $2 AND seq = $3), $4, $5, 'pending', $6, $7, $8) RETURNING id`
	sqlSaveComplaintLookup = `INSERT INTO complaint_lookups (hash, case_id) VALUES ($1, $2)`
	sqlComplaintByLookup   = `SELECT ` + caseCols + ` FROM cases WHERE id = (SELECT case_id FROM complaint_lookups WHERE hash = $1)`
	sqlIdempotency         = `SELECT fingerprint, case_id, result, created_at FROM idempotency WHERE user_id = $1 AND key = $2`
	sqlSaveIdempotency     = `INSERT INTO idempotency (user_id, key, fingerprint, case_id, result, created_at) VALUES ($1, $2, $3, $4, $5, $6)`
	sqlActorByTokenHash    = `SELECT u.id, u.name, u.person_id FROM api_tokens k JOIN users u ON u.id = k.user_id
		WHERE k.hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2) AND NOT u.disabled`
	sqlUserRoles         = `SELECT role, org_unit_id FROM role_bindings WHERE user_id = $1 ORDER BY role, org_unit_id`
	sqlRolesByTokenHash  = `SELECT role, org_unit_id FROM role_bindings WHERE user_id = (SELECT user_id FROM api_tokens WHERE hash = $1) ORDER BY role, org_unit_id`
	sqlCreateUser        = `INSERT INTO users (name, person_id, disabled, created_at) VALUES ($1, $2, FALSE, $3) RETURNING id`
	sqlInsertRoleBinding = `INSERT INTO role_bindings (user_id, role, org_unit_id) VALUES ($1, $2, $3)`
	sqlCreateToken       = `INSERT INTO api_tokens (user_id, hash, created_at, expires_at) VALUES ($1, $2, $3, $4)`
)
