package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Role is what a user may do at an org unit.
type Role string

const (
	// RoleLegalClerk works in a department's 法制机构: prepares applications,
	// records submissions and receipts (Art. 3, 13, 14).
	RoleLegalClerk Role = "legal_clerk"
	// RolePrincipal is a department's 主要负责人: approves (Art. 6, 13).
	RolePrincipal Role = "principal_leader"
	// RoleHR works in a department's 组织人事机构; at 自治区 it runs Ministry
	// certificates (Art. 3, 13, 18, 19).
	RoleHR Role = "hr"
	// RoleOfficer is an 执法人员: sees own certificates and cases.
	RoleOfficer Role = "officer"
	// RoleJustice is the 司法部门 liaison who records justice's decisions.
	RoleJustice Role = "justice_liaison"
	// RoleSupervisor reads a subtree for supervision (Art. 8).
	RoleSupervisor Role = "supervisor"
	// RoleAdmin manages users, org units and people.
	RoleAdmin Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleLegalClerk, RolePrincipal, RoleHR, RoleOfficer, RoleJustice, RoleSupervisor, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// supervises reports whether r, held at a department, reaches the
// departments below it. Art. 8: 执法监督证 holders supervise their own and
// lower departments; the legal office and the principal leader carry that
// supervision, and the supervisor role reads for them.
func (r Role) supervises() bool {
	return r == RoleLegalClerk || r == RolePrincipal || r == RoleSupervisor || r == RoleHR || r == RoleAdmin
}

// reachesUnits reports whether r, held at a unit, reaches the unit's
// directory (org units, staff, trainings, certificates, supervision
// questions). The officer reaches only their own records; the justice
// liaison only the cases that reached justice (Actor.canSeeCase): the
// 司法部门 is outside the department, and its liaison sees what was
// submitted to it, not the staff records it was not sent.
func (r Role) reachesUnits() bool { return r != RoleOfficer && r != RoleJustice }

// RoleBinding grants a role at an org unit.
type RoleBinding struct {
	Role      Role  `json:"role"`
	OrgUnitID int64 `json:"org_unit_id"`
}

// Actor is an authenticated user with their role bindings.
type Actor struct {
	UserID   int64         `json:"user_id"`
	Name     string        `json:"name"`
	PersonID int64         `json:"person_id,omitempty"` // the staff member the user is, if any
	Roles    []RoleBinding `json:"roles"`
	// delegator is set while the actor stands in for someone (代理): Roles
	// are then the delegator's (workflow/inbox.go).
	delegator *Actor
}

// Has reports whether a holds role at unit.
func (a *Actor) Has(role Role, unit int64) bool {
	return slices.Contains(a.Roles, RoleBinding{role, unit})
}

// HasRole reports whether a holds role anywhere.
func (a *Actor) HasRole(role Role) bool {
	return slices.ContainsFunc(a.Roles, func(b RoleBinding) bool { return b.Role == role })
}

// reaches reports whether a binding at unit reaches chain's last unit:
// the same unit, or an ancestor when the role supervises. chain runs from
// the root to the unit in question.
func reaches(b RoleBinding, chain []int64) bool {
	if len(chain) == 0 {
		return false
	}
	if chain[len(chain)-1] == b.OrgUnitID {
		return true
	}
	return b.Role.supervises() && slices.Contains(chain, b.OrgUnitID)
}

// CanSeeUnit reports whether a reaches the unit whose ancestor chain (root
// first, the unit last) is chain: its staff records, trainings and
// certificates. Neither the officer (who reaches only their own records)
// nor the justice liaison (who reaches only cases submitted to justice,
// canSeeCase) reaches a unit.
func (a *Actor) CanSeeUnit(chain []int64) bool {
	for _, b := range a.Roles {
		if b.Role.reachesUnits() && reaches(b, chain) {
			return true
		}
	}
	return false
}

// canSeeCase reports whether a may read c: a role reaching the case's
// department; the justice liaison only once the case reached justice; the
// officer only cases about themselves. A case hidden from its subject
// (subjectReads false: a complaint about them) they do not read at all,
// whatever office role they also hold.
func (a *Actor) canSeeCase(c *Case, chain []int64, submitted, subjectReads bool) bool {
	if a.PersonID != 0 && a.PersonID == c.PersonID {
		return subjectReads
	}
	for _, b := range a.Roles {
		switch b.Role {
		case RoleOfficer:
			continue
		case RoleJustice:
			if submitted && reaches(RoleBinding{RoleJustice, b.OrgUnitID}, chain) {
				return true
			}
		default:
			if reaches(b, chain) {
				return true
			}
		}
	}
	return false
}

// CheckRoleBindings refuses, with an *InputError naming the binding, its
// unit and what is expected, role bindings that access would not honour,
// for a user who is person (0: nobody in the staff records):
//
//   - Every role is held at a department (UnitDepartment), the 自治区 one
//     included. Cases and tasks belong to departments and Has compares a
//     binding with theirs; OrgChain, which CanSeeUnit and canSeeCase
//     walk, lists departments only; yet the directory's scope (Engine.scope)
//     widens a binding at an internal unit or a 派出机关 to its whole
//     department. Such a binding would list a department's staff, read
//     none of them and hold none of its tasks.
//   - An officer reaches only their own records (Actor.PersonID), so an
//     officer binding needs the person, and is held at the person's own
//     department: the officer does not supervise (Role.supervises), and
//     a binding that does not supervise reaches its department alone.
//   - The person, when given, exists.
func CheckRoleBindings(ctx context.Context, tx Tx, person int64, roles []RoleBinding) error {
	var p Person
	if person != 0 {
		var err error
		if p, err = tx.Person(ctx, person); errors.Is(err, ErrNotFound) {
			return Invalid("person", fmt.Sprintf("no person %d", person))
		} else if err != nil {
			return err
		}
	}
	for _, b := range roles {
		label := fmt.Sprintf("%s@%d", b.Role, b.OrgUnitID)
		if !b.Role.Valid() {
			return Invalid("role", fmt.Sprintf("%s: unknown role %q", label, b.Role))
		}
		u, err := tx.OrgUnit(ctx, b.OrgUnitID)
		if errors.Is(err, ErrNotFound) {
			return Invalid("role", fmt.Sprintf("%s: no org unit %d", label, b.OrgUnitID))
		} else if err != nil {
			return err
		}
		if u.Kind != UnitDepartment {
			d, err := tx.OrgUnit(ctx, u.DeptID)
			if err != nil {
				return err
			}
			return Invalid("role", fmt.Sprintf("%s: %s (org unit %d) is a %s of %s, not a department; roles are held at a department, "+
				"whose cases and tasks they act on (here %s@%d)", label, u.Name, u.ID, unitLabel(u.Kind), d.Name, b.Role, d.ID))
		}
		if b.Role != RoleOfficer {
			continue
		}
		if person == 0 {
			return Invalid("person", fmt.Sprintf("%s: an officer account reads only its own person's certificates and cases, "+
				"so it needs the person (staff member) it is", label))
		}
		pu, err := tx.OrgUnit(ctx, p.OrgUnitID)
		if err != nil {
			return err
		}
		if pu.DeptID != u.ID {
			d, err := tx.OrgUnit(ctx, pu.DeptID)
			if err != nil {
				return err
			}
			return Invalid("role", fmt.Sprintf("%s: %s (person %d) belongs to %s (org unit %d), not to %s; "+
				"an officer is held at their own department: officer@%d", label, p.Name, p.ID, d.Name, d.ID, u.Name, d.ID))
		}
	}
	return nil
}
