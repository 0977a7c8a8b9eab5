package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// scope returns the directory actor reaches, as a store filter: each
// binding's department, and its whole subtree for supervising roles (Art.
// 8). The officer and the justice liaison reach no department's directory
// (Role.reachesUnits).
func (e *Engine) scope(ctx context.Context, tx Tx, actor *Actor) (Scope, error) {
	return e.scopeOf(ctx, tx, actor, false)
}

// scopeOf is scope, with the justice liaison's departments when justice:
// the cases it may list are among theirs (Cases narrows them to those that
// reached justice).
func (e *Engine) scopeOf(ctx context.Context, tx Tx, actor *Actor, justice bool) (Scope, error) {
	var sc Scope
	for _, b := range actor.Roles {
		if !b.Role.reachesUnits() && !(justice && b.Role == RoleJustice) {
			continue
		}
		p, err := e.place(ctx, tx, b.OrgUnitID)
		if err != nil {
			return sc, err
		}
		if b.Role.supervises() {
			sc.Prefixes = append(sc.Prefixes, p.deptPath)
		} else {
			sc.Exact = append(sc.Exact, p.deptID)
		}
	}
	return sc, nil
}

// OrgUnits lists the org units actor reaches.
func (e *Engine) OrgUnits(ctx context.Context, actor *Actor) ([]OrgUnit, error) {
	var out []OrgUnit
	err := e.store.View(ctx, func(tx Tx) error {
		sc, err := e.scope(ctx, tx, actor)
		if err != nil {
			return err
		}
		out, err = tx.ListOrgUnits(ctx, sc)
		return err
	})
	if out == nil {
		out = []OrgUnit{}
	}
	return out, err
}

// mayManagePeople: the legal office, HR and admins keep the staff records
// of the departments they reach.
func mayManagePeople(a *Actor) bool {
	return a.HasRole(RoleLegalClerk) || a.HasRole(RoleHR) || a.HasRole(RoleAdmin)
}

// visiblePerson loads person id if actor reaches them: officers see
// themselves, other roles the people of the departments they reach.
func (e *Engine) visiblePerson(ctx context.Context, tx Tx, actor *Actor, id int64) (Person, error) {
	p, err := tx.Person(ctx, id)
	if err != nil {
		return p, err
	}
	if actor.PersonID == p.ID {
		return p, nil
	}
	chain, err := tx.OrgChain(ctx, p.OrgUnitID)
	if err != nil {
		return p, err
	}
	if !actor.CanSeeUnit(chain) {
		return Person{}, fmt.Errorf("person %d: %w", id, ErrNotFound)
	}
	return p, nil
}

// Person returns person id as actor may see them.
func (e *Engine) Person(ctx context.Context, actor *Actor, id int64) (Person, error) {
	var p Person
	err := e.store.View(ctx, func(tx Tx) (err error) {
		p, err = e.visiblePerson(ctx, tx, actor, id)
		return err
	})
	return p, err
}

// People lists the people actor reaches, filtered, by ascending ID.
func (e *Engine) People(ctx context.Context, actor *Actor, f PersonFilter) ([]Person, error) {
	var out []Person
	err := e.store.View(ctx, func(tx Tx) error {
		sc, err := e.scope(ctx, tx, actor)
		if err != nil {
			return err
		}
		f.Scope = sc
		f.IDNumber = strings.ToUpper(strings.TrimSpace(f.IDNumber))
		if sc.Empty() && actor.PersonID != 0 {
			p, err := tx.Person(ctx, actor.PersonID)
			if err != nil {
				return err
			}
			if p.ID > f.After {
				out = []Person{p}
			}
			return nil
		}
		out, err = tx.ListPeople(ctx, f)
		return err
	})
	if out == nil {
		out = []Person{}
	}
	return out, err
}

// MaxAgeOnRecord is the oldest a person may be when their birth date is
// recorded: staff of an emergency-management department are of working
// age, and 80 leaves room for any record kept after retirement.
const MaxAgeOnRecord = 80

// validatePerson checks and normalises a person record. Employment is
// the departure path's (离岗, Art. 18): a new record is active, an update
// keeps the status old has (old nil: a new record).
func validatePerson(p *Person, old *Person, today Date) error {
	p.Name = strings.TrimSpace(p.Name)
	switch n := utf8.RuneCountInString(p.Name); {
	case n == 0:
		return Invalid("name", "required")
	case n > 50:
		return Invalid("name", "longer than 50 characters")
	}
	// A name is what its 公民身份号码's card shows: an invisible
	// character (zero-width, a bidi mark, a BOM) would make it look like
	// another person's, and search would not find it.
	if i := strings.IndexFunc(p.Name, func(r rune) bool { return unicode.Is(unicode.Cf, r) || unicode.IsControl(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(p.Name[i:])
		return Invalid("name", fmt.Sprintf("holds %U, an invisible character", r))
	}
	id, err := ParseIDNumber(string(p.IDNumber))
	if err != nil {
		return Invalid("id_number", err.Error())
	}
	p.IDNumber = id
	if p.BirthDate.IsZero() {
		p.BirthDate = id.BirthDate()
	} else if p.BirthDate != id.BirthDate() {
		return Invalid("birth_date", "does not match the 公民身份号码 ("+id.BirthDate().String()+")")
	}
	if p.BirthDate.AddMonths(16 * 12).After(today) {
		return Invalid("id_number", "its birth date "+p.BirthDate.String()+" makes the person younger than 16, or not yet born")
	}
	// An age past MaxAgeOnRecord is a typing error in the number. Checked
	// when the birth date is entered or changed: a record kept for years
	// (a departed officer's) stays editable as its person ages.
	if (old == nil || old.BirthDate != p.BirthDate) && !p.BirthDate.AddMonths((MaxAgeOnRecord+1)*12).After(today) {
		return Invalid("id_number", fmt.Sprintf("its birth date %s makes the person older than %d", p.BirthDate, MaxAgeOnRecord))
	}
	if p.Sex == "" {
		p.Sex = id.Sex()
	} else if p.Sex != id.Sex() {
		return Invalid("sex", "does not match the 公民身份号码")
	}
	if !p.Education.Valid() {
		return Invalid("education", fmt.Sprintf("unknown level %q (初中, 高中, 中专, 大专, 本科, 硕士研究生, 博士研究生)", p.Education))
	}
	want := EmploymentActive
	if old != nil {
		want = old.Employment
	}
	switch {
	case p.Employment == "":
		p.Employment = want
	case !p.Employment.Valid():
		return Invalid("employment", fmt.Sprintf("unknown status %q (active, leaving, departed)", p.Employment))
	case p.Employment != want:
		return Invalid("employment", fmt.Sprintf("is %s and changes only through a departure case (离岗, Art. 18), not by editing the record", want))
	}
	if err := positiveID("org_unit_id", p.OrgUnitID); err != nil {
		return err
	}
	if p.OrgUnitID == 0 {
		return Invalid("org_unit_id", "required")
	}
	for field, v := range map[string]string{"title": p.Title, "major": p.Major} {
		if utf8.RuneCountInString(v) > 100 {
			return Invalid(field, "longer than 100 characters")
		}
	}
	return nil
}

// checkUnitForPerson makes sure unit exists, is in actor's reach and is a
// unit staff belong to (not a bare department node).
func checkUnitForPerson(ctx context.Context, tx Tx, actor *Actor, unitID int64) error {
	u, err := tx.OrgUnit(ctx, unitID)
	if err != nil {
		return Invalid("org_unit_id", fmt.Sprintf("no org unit %d", unitID))
	}
	chain, err := tx.OrgChain(ctx, u.ID)
	if err != nil {
		return err
	}
	if !actor.CanSeeUnit(chain) {
		return Invalid("org_unit_id", fmt.Sprintf("no org unit %d", unitID))
	}
	if u.Kind == UnitDepartment {
		return Invalid("org_unit_id", "staff belong to an internal unit or a 派出机关, not to the department node")
	}
	return nil
}

// reportLeftPost files the Art. 14 change report when an edit takes a
// holder of a justice-issued certificate off an enforcement post: the
// legal office gets its platform-entry tasks and, through the report,
// the retention decision (Art. 9(1)(4), 18) an edit alone never raised.
func (e *Engine) reportLeftPost(ctx context.Context, tx Tx, actor *Actor, old, now *Person) error {
	if !old.Post || now.Post {
		return nil
	}
	certs, err := tx.CertificatesOf(ctx, now.ID)
	if err != nil {
		return err
	}
	if !holdsJusticeCertificate(certs) {
		return nil
	}
	_, err = e.open(ctx, tx, actor, changeReport(now.ID, PlatformData{Change: ChangeTransfer, ChangedOn: e.Today(), EnforcementPost: new(false),
		Details: "人员信息变更：不再在执法岗位"}), true, e.Now())
	return err
}

// noMoveWithCertificates refuses to record old in unit when that is a
// move to another department while a certificate of theirs is out: that
// move is 调离 (Art. 18, rules.md), a departure case that takes the
// certificates back first. A move inside the department (转岗) is the
// change report's (Art. 14).
func noMoveWithCertificates(ctx context.Context, tx Tx, old *Person, unit int64) error {
	if unit == old.OrgUnitID {
		return nil
	}
	from, err := tx.OrgUnit(ctx, old.OrgUnitID)
	if err != nil {
		return err
	}
	to, err := tx.OrgUnit(ctx, unit)
	if err != nil {
		return err
	}
	if from.DeptID == to.DeptID {
		return nil
	}
	certs, err := tx.CertificatesOf(ctx, old.ID)
	if err != nil {
		return err
	}
	for i := range certs {
		if certs[i].Outstanding() {
			return Invalid("org_unit_id", fmt.Sprintf("a move to another department is 调离 (Art. 18): %s No. %s is still out; "+
				"open a departure case, which takes it back, then record the move", certs[i].Kind.Label(), certs[i].Number))
		}
	}
	return nil
}

// uniqueIDNumber refuses a 公民身份号码 another person already has. The
// unique index still guards the race; this names the field for the user.
func uniqueIDNumber(ctx context.Context, tx Tx, p Person) error {
	same, err := tx.ListPeople(ctx, PersonFilter{Scope: Scope{All: true}, IDNumber: string(p.IDNumber), Limit: 1})
	if err != nil {
		return err
	}
	if len(same) > 0 && same[0].ID != p.ID {
		return Invalid("id_number", "another person is already recorded with this 公民身份号码")
	}
	return nil
}

// CreatePerson records a staff member.
func (e *Engine) CreatePerson(ctx context.Context, actor *Actor, p Person) (Person, error) {
	if !mayManagePeople(actor) {
		return Person{}, fmt.Errorf("%w: only the legal office, HR or an admin keep staff records", ErrForbidden)
	}
	p.ID, p.Version = 0, 0
	if err := validatePerson(&p, nil, e.Today()); err != nil {
		return Person{}, err
	}
	err := e.store.Update(ctx, func(tx Tx) error {
		if err := checkUnitForPerson(ctx, tx, actor, p.OrgUnitID); err != nil {
			return err
		}
		if err := uniqueIDNumber(ctx, tx, p); err != nil {
			return err
		}
		return tx.CreatePerson(ctx, &p)
	})
	return p, err
}

// UpdatePerson changes a staff record; p.Version must be the current one.
// A record out of actor's reach is not found, whatever actor may do; one
// in reach that actor may not keep is forbidden.
func (e *Engine) UpdatePerson(ctx context.Context, actor *Actor, p Person) (Person, error) {
	err := e.store.Update(ctx, func(tx Tx) error {
		old, err := e.visiblePerson(ctx, tx, actor, p.ID)
		if err != nil {
			return err
		}
		if !mayManagePeople(actor) {
			return fmt.Errorf("%w: only the legal office, HR or an admin keep staff records", ErrForbidden)
		}
		if old.ID == actor.PersonID {
			return fmt.Errorf("%w: nobody edits their own staff record", ErrForbidden)
		}
		if err := validatePerson(&p, &old, e.Today()); err != nil {
			return err
		}
		if err := checkUnitForPerson(ctx, tx, actor, p.OrgUnitID); err != nil {
			return err
		}
		if err := noMoveWithCertificates(ctx, tx, &old, p.OrgUnitID); err != nil {
			return err
		}
		if err := uniqueIDNumber(ctx, tx, p); err != nil {
			return err
		}
		if err := tx.UpdatePerson(ctx, &p); err != nil {
			return err
		}
		return e.reportLeftPost(ctx, tx, actor, &old, &p)
	})
	return p, err
}

// Trainings lists a person's training records.
func (e *Engine) Trainings(ctx context.Context, actor *Actor, personID int64) ([]Training, error) {
	var out []Training
	err := e.store.View(ctx, func(tx Tx) error {
		if _, err := e.visiblePerson(ctx, tx, actor, personID); err != nil {
			return err
		}
		var err error
		out, err = tx.Trainings(ctx, personID)
		return err
	})
	return out, err
}

func validateTraining(t *Training, today Date) error {
	if !t.Kind.Valid() {
		return Invalid("kind", fmt.Sprintf("unknown training kind %q (emergency, law, academy)", t.Kind))
	}
	if t.Date.IsZero() {
		return Invalid("date", "required")
	}
	if t.Date.After(today) {
		return Invalid("date", "lies in the future")
	}
	if t.Score != nil && (*t.Score < 0 || *t.Score > 100) {
		return Invalid("score", "must be between 0 and 100")
	}
	for _, n := range t.Topics {
		if n < 1 || n > 12 {
			return Invalid("topics", "Art. 11 topics are numbered 1 to 12")
		}
	}
	return nil
}

// SaveTraining creates (ID 0) or updates a person's training record. As
// with UpdatePerson, a person out of actor's reach is not found first:
// nothing about them, nor about their records' IDs, is told.
func (e *Engine) SaveTraining(ctx context.Context, actor *Actor, t Training) (Training, error) {
	err := e.store.Update(ctx, func(tx Tx) error {
		p, err := e.visiblePerson(ctx, tx, actor, t.PersonID)
		if err != nil {
			return err
		}
		if t.ID != 0 {
			old, err := tx.Training(ctx, t.ID)
			if err != nil {
				return err
			}
			if old.PersonID != t.PersonID {
				return fmt.Errorf("training %d: %w", t.ID, ErrNotFound)
			}
		}
		if !mayManagePeople(actor) {
			return fmt.Errorf("%w: only the legal office, HR or an admin keep training records", ErrForbidden)
		}
		if p.ID == actor.PersonID {
			return fmt.Errorf("%w: nobody records their own training", ErrForbidden)
		}
		if err := validateTraining(&t, e.today(e.Now())); err != nil {
			return err
		}
		if t.ID == 0 {
			return tx.CreateTraining(ctx, &t)
		}
		return tx.UpdateTraining(ctx, &t)
	})
	return t, err
}

// Certificates lists the certificates actor reaches.
func (e *Engine) Certificates(ctx context.Context, actor *Actor, f CertificateFilter) ([]Certificate, error) {
	var out []Certificate
	err := e.store.View(ctx, func(tx Tx) error {
		sc, err := e.scope(ctx, tx, actor)
		if err != nil {
			return err
		}
		if sc.Empty() {
			if actor.PersonID == 0 || (f.PersonID != 0 && f.PersonID != actor.PersonID) {
				out = []Certificate{}
				return nil
			}
			sc.All, f.PersonID = true, actor.PersonID
		}
		f.Scope = sc
		out, err = tx.ListCertificates(ctx, f)
		return err
	})
	today := e.Today()
	for i := range out {
		out[i].Valid = out[i].ValidOn(today)
	}
	return out, err
}

// checkCaseFilter refuses a path or state no path has: a typing error
// would otherwise list nothing, as if there were no such cases. A state
// is checked against the states of f.Path, or of every path when f names
// none.
func (e *Engine) checkCaseFilter(f CaseFilter) error {
	paths := e.order
	if f.Path != "" {
		if _, ok := e.paths[f.Path]; !ok {
			return Invalid("path", fmt.Sprintf("unknown value %q (one of %v)", f.Path, e.order))
		}
		paths = []PathName{f.Path}
	}
	if f.State == "" {
		return nil
	}
	var states []State
	for _, n := range paths {
		for _, s := range e.paths[n].States {
			if s.Name == f.State {
				return nil
			}
			if !slices.Contains(states, s.Name) {
				states = append(states, s.Name)
			}
		}
	}
	if f.Path != "" {
		return Invalid("state", fmt.Sprintf("unknown value %q for path %s (one of %v)", f.State, f.Path, states))
	}
	return Invalid("state", fmt.Sprintf("unknown value %q (one of %v)", f.State, states))
}

// Cases lists the cases actor reaches, filtered, by ascending ID; an
// officer sees the cases about themselves, the justice liaison those that
// reached justice. A page holds f.Limit cases (the store's default when 0)
// whenever that many follow, however many the liaison may not see.
func (e *Engine) Cases(ctx context.Context, actor *Actor, f CaseFilter) ([]Case, error) {
	if err := e.checkCaseFilter(f); err != nil {
		return nil, err
	}
	var out []Case
	err := e.store.View(ctx, func(tx Tx) error {
		sc, err := e.scopeOf(ctx, tx, actor, true)
		if err != nil {
			return err
		}
		if sc.Empty() {
			if actor.PersonID == 0 || (f.PersonID != 0 && f.PersonID != actor.PersonID) {
				return nil
			}
			sc.All, f.PersonID = true, actor.PersonID
		}
		f.Scope = sc
		if f.Limit <= 0 || f.Limit > 500 {
			f.Limit = 100 // the stores' default page
		}
		chains := map[int64][]int64{} // by department: cases share a few
		for {
			cases, err := tx.ListCases(ctx, f)
			if err != nil {
				return err
			}
			// The justice liaison's scope is narrower than its
			// department: only cases that reached justice.
			for _, c := range cases {
				chain, ok := chains[c.OrgUnitID]
				if !ok {
					if chain, err = tx.OrgChain(ctx, c.OrgUnitID); err != nil {
						return err
					}
					chains[c.OrgUnitID] = chain
				}
				if actor.canSeeCase(&c, chain, e.justiceSees(&c), e.subjectReads(&c)) {
					if out = append(out, c); len(out) == f.Limit {
						return nil
					}
				}
				f.After = c.ID
			}
			if len(cases) < f.Limit {
				return nil
			}
		}
	})
	if out == nil {
		out = []Case{}
	}
	return out, err
}
