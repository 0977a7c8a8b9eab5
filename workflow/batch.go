package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Township batch (Art. 5(3)): 县级人民政府应急管理部门统一为派出机关中的应急管理
// 工作人员申领行政执法证. The county's legal office compiles the applications
// of its 派出机关 staff into one 申领汇总表, which the principal leader signs
// and the department seals and sends to justice with each person's 登记表
// and 执法类别建议审批表. A batch is a case of its own: it carries a case
// number, its department decides who may read it, its history records who
// compiled it, and its one document (DocBatchList) is stored like every
// other: the summary list followed by each person's forms, one PDF.
//
// Which applications: those of the county department's 派出机关 staff
// (optionally of one 派出机关) whose 登记表 exists and which have not gone
// to justice yet: pending the principal leader's approval or approved. By
// default all of them; or the ones the clerk names, each checked the same
// way. The applications themselves go on along their own path; the batch
// only lists them.
const PathTownshipBatch PathName = "township_batch"

// BatchCompiled is the one state of a batch: compiled, its 汇总表 rendered
// once and kept. A batch that turns out wrong is replaced by compiling
// another.
const BatchCompiled State = "compiled"

// MaxBatchSize caps the applications of one batch: a county's 派出机关 staff
// number in the dozens.
const MaxBatchSize = 200

// batchStates are the application states a batch takes: the 登记表 exists
// (submit_for_approval produced it) and the application has not been sent
// to justice.
var batchStates = []State{AppPendingApproval, AppApproved}

// BatchData is the case data of a township batch.
type BatchData struct {
	// Applications are the application cases the list covers, in the
	// order of the list.
	Applications []int64 `json:"applications"`
	// TownshipID is the 派出机关 the batch was limited to; 0: all of the
	// county's.
	TownshipID int64 `json:"township_id,omitempty"`
}

// BatchInput asks for a township batch.
type BatchInput struct {
	// OrgUnitID is the county department, or one of its 派出机关 to limit
	// the batch to that unit's staff. 0: the one county department where
	// the caller is a legal clerk.
	OrgUnitID int64 `json:"org_unit_id,omitempty"`
	// CaseIDs names the applications, in list order; nil (left out):
	// every application of the county's 派出机关 staff pending approval
	// or approved, by 派出机关 then case. An empty list names none, and is
	// refused.
	CaseIDs        []int64 `json:"case_ids,omitempty"`
	Comment        string  `json:"comment,omitempty"`
	IdempotencyKey string  `json:"-"`
}

func townshipBatchPath() Path {
	return Path{
		Name:       PathTownshipBatch,
		Title:      "派出机关人员行政执法证统一申领汇总",
		Initial:    BatchCompiled,
		Subject:    SubjectAny,
		Department: DeptOfPerson,
		States:     []StateDef{{Name: BatchCompiled, Label: "已汇总", Final: true}},
		Events: []EventDef{{
			Name: EvOpen, Label: "编制申领汇总表", From: []State{StateNew}, To: BatchCompiled,
			Actors: []Role{RoleLegalClerk}, Effect: openBatch,
			Guards: []Guard{{Article: "Art. 5", Check: func(s *Snapshot) string { return batchDepartmentProblem(&s.Department) }}},
			Docs:   []DocSpec{{Kind: DocBatchList, Article: "Art. 5"}},
		}},
	}
}

// batchDepartmentProblem says why dept cannot compile a township batch, or "".
func batchDepartmentProblem(dept *OrgUnit) string {
	if dept.Kind != UnitDepartment || dept.Level != LevelCounty {
		return "only a county department applies for its 派出机关 staff (" + dept.Name + " is not one)"
	}
	return ""
}

// openBatch checks the list CompileBatch built; the applications were
// checked against the store there.
func openBatch(t *Transition) error {
	var d BatchData
	if err := decodeInput(t.Input, &d); err != nil {
		return err
	}
	switch {
	case len(d.Applications) == 0:
		return Invalid("case_ids", "a batch lists at least one application")
	case len(d.Applications) > MaxBatchSize:
		return Invalid("case_ids", fmt.Sprintf("more than %d applications in one batch", MaxBatchSize))
	}
	seen := map[int64]bool{}
	for _, id := range d.Applications {
		if id <= 0 || seen[id] {
			return Invalid("case_ids", fmt.Sprintf("case %d is not a case ID, or listed twice", id))
		}
		seen[id] = true
	}
	b, err := json.Marshal(d)
	t.Data = b
	return err
}

// CompileBatch compiles a township batch (Art. 5): in one transaction it
// picks the department, checks the caller is its legal clerk, selects or
// checks the applications, and opens the batch case, whose 汇总表 document
// is queued like any transition's. A department or case out of the
// caller's scope is ErrNotFound; an application that does not belong in
// the batch is a GuardError naming it; nothing to compile is an
// InputError. A retry with the same IdempotencyKey returns the first
// answer.
func (e *Engine) CompileBatch(ctx context.Context, actor *Actor, in BatchInput) (CaseView, error) {
	if actor == nil {
		return CaseView{}, ErrUnauthenticated
	}
	if err := positiveID("org_unit_id", in.OrgUnitID); err != nil {
		return CaseView{}, err
	}
	if in.CaseIDs != nil && len(in.CaseIDs) == 0 {
		// Read as "all of them", [] would compile what nobody named.
		return CaseView{}, Invalid("case_ids", "an empty list names no application: name at least one, or leave case_ids out for every one pending approval or approved")
	}
	ids := make([]string, len(in.CaseIDs))
	for i, id := range in.CaseIDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	fp := fingerprint("batch", in.OrgUnitID, strings.Join(ids, ","), 0, in.Comment, nil)
	return e.openOnce(ctx, actor, in.IdempotencyKey, fp, func(tx Tx) (OpenCaseInput, error) {
		dept, township, err := e.batchDepartment(ctx, tx, actor, in.OrgUnitID)
		if err != nil {
			return OpenCaseInput{}, err
		}
		apps, err := e.batchApplications(ctx, tx, actor, dept, township, in.CaseIDs)
		if err != nil {
			return OpenCaseInput{}, err
		}
		data, err := json.Marshal(BatchData{Applications: apps, TownshipID: township.ID})
		if err != nil {
			return OpenCaseInput{}, err
		}
		return OpenCaseInput{Path: PathTownshipBatch, OrgUnitID: dept.ID, Data: data, Comment: in.Comment}, nil
	})
}

// batchDepartment resolves the department of a batch, and the 派出机关 it
// is limited to (zero when it is not), and checks the caller compiles
// there.
func (e *Engine) batchDepartment(ctx context.Context, tx Tx, actor *Actor, unitID int64) (OrgUnit, OrgUnit, error) {
	if unitID == 0 {
		if !slices.ContainsFunc(actor.Roles, func(b RoleBinding) bool { return b.Role == RoleLegalClerk }) {
			return OrgUnit{}, OrgUnit{}, fmt.Errorf("%w: a county legal office compiles a batch (Art. 5)", ErrForbidden)
		}
		var counties []OrgUnit
		for _, b := range actor.Roles {
			if b.Role != RoleLegalClerk {
				continue
			}
			u, err := tx.OrgUnit(ctx, b.OrgUnitID)
			if err != nil {
				return OrgUnit{}, OrgUnit{}, err
			}
			if batchDepartmentProblem(&u) == "" {
				counties = append(counties, u)
			}
		}
		if len(counties) != 1 {
			return OrgUnit{}, OrgUnit{}, Invalid("org_unit_id", fmt.Sprintf(
				"required: the county department (or one of its 派出机关) the batch is for; the caller is a legal clerk at %d county departments", len(counties)))
		}
		return counties[0], OrgUnit{}, nil
	}
	unit, err := tx.OrgUnit(ctx, unitID)
	if errors.Is(err, ErrNotFound) {
		return OrgUnit{}, OrgUnit{}, fmt.Errorf("org unit %d: %w", unitID, ErrNotFound)
	}
	if err != nil {
		return OrgUnit{}, OrgUnit{}, err
	}
	chain, err := tx.OrgChain(ctx, unit.ID)
	if err != nil {
		return OrgUnit{}, OrgUnit{}, err
	}
	if !actor.CanSeeUnit(chain) {
		return OrgUnit{}, OrgUnit{}, fmt.Errorf("org unit %d: %w", unitID, ErrNotFound)
	}
	var township OrgUnit
	switch unit.Kind {
	case UnitDepartment:
	case UnitTownship:
		township = unit
		if unit, err = tx.OrgUnit(ctx, unit.DeptID); err != nil {
			return OrgUnit{}, OrgUnit{}, err
		}
	default:
		return OrgUnit{}, OrgUnit{}, Invalid("org_unit_id", fmt.Sprintf("%s is neither a department nor a 派出机关", unit.Name))
	}
	if !actor.Has(RoleLegalClerk, unit.ID) {
		return OrgUnit{}, OrgUnit{}, fmt.Errorf("%w: compiling a 申领汇总表 needs the role legal_clerk at %s", ErrForbidden, unit.Name)
	}
	if p := batchDepartmentProblem(&unit); p != "" {
		return OrgUnit{}, OrgUnit{}, &GuardError{[]Violation{{"Art. 5", p}}}
	}
	return unit, township, nil
}

// batchApplications selects the applications of a batch (ids nil) or
// checks the ones named, in their order.
func (e *Engine) batchApplications(ctx context.Context, tx Tx, actor *Actor, dept, township OrgUnit, ids []int64) ([]int64, error) {
	if len(ids) > MaxBatchSize {
		return nil, Invalid("case_ids", fmt.Sprintf("more than %d applications in one batch", MaxBatchSize))
	}
	if len(ids) == 0 {
		return e.selectBatch(ctx, tx, dept, township)
	}
	var v []Violation
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			return nil, Invalid("case_ids", fmt.Sprintf("case %d is listed twice", id))
		}
		seen[id] = true
		cc, err := e.visibleCase(ctx, tx, actor, id)
		if err != nil {
			return nil, err
		}
		if p := batchMemberProblem(&cc, dept, township); p != "" {
			v = append(v, Violation{"Art. 5", p})
		}
	}
	if v != nil {
		return nil, &GuardError{Violations: v}
	}
	return ids, nil
}

// selectBatch lists every application a batch of dept (and township) takes
// by default, by 派出机关 then case.
func (e *Engine) selectBatch(ctx context.Context, tx Tx, dept, township OrgUnit) ([]int64, error) {
	type member struct{ unit, id int64 }
	var found []member
	for _, st := range batchStates {
		cases, err := tx.ListCases(ctx, CaseFilter{Scope: Scope{Exact: []int64{dept.ID}}, Path: PathApplication, State: st, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, c := range cases {
			cc, err := tx.CaseContext(ctx, c.ID)
			if err != nil {
				return nil, err
			}
			if batchMemberProblem(&cc, dept, township) == "" {
				found = append(found, member{cc.Unit.ID, c.ID})
			}
		}
	}
	where := dept.Name + "的派出机关"
	if township.ID != 0 {
		where = township.Name
	}
	switch {
	case len(found) == 0:
		return nil, Invalid("case_ids", "no application of "+where+" staff is pending approval or approved: nothing to compile")
	case len(found) > MaxBatchSize:
		return nil, Invalid("case_ids", fmt.Sprintf("%d applications of %s staff are open, more than %d: name case_ids or one 派出机关", len(found), where, MaxBatchSize))
	}
	slices.SortFunc(found, func(a, b member) int {
		return cmp.Or(cmp.Compare(a.unit, b.unit), cmp.Compare(a.id, b.id))
	})
	out := make([]int64, len(found))
	for i, m := range found {
		out[i] = m.id
	}
	return out, nil
}

// batchMemberProblem says why case cc does not belong in a batch of dept
// (limited to township when it is set), or "".
func batchMemberProblem(cc *CaseContext, dept, township OrgUnit) string {
	c := &cc.Case
	name := c.Number
	if cc.Person.Name != "" {
		name += " (" + cc.Person.Name + ")"
	}
	switch {
	case c.Path != PathApplication:
		return fmt.Sprintf("case %s is a %s case, not an application for a justice-issued certificate", name, c.Path)
	case c.OrgUnitID != dept.ID:
		return fmt.Sprintf("case %s is run by %s, not %s", name, cc.Department.Name, dept.Name)
	case cc.Unit.Kind != UnitTownship:
		return fmt.Sprintf("case %s: %s is not 派出机关 staff", name, cc.Person.Name)
	case township.ID != 0 && cc.Unit.ID != township.ID:
		return fmt.Sprintf("case %s: %s works at %s, not %s", name, cc.Person.Name, cc.Unit.Name, township.Name)
	case !slices.Contains(batchStates, c.State):
		return fmt.Sprintf("case %s is in state %s: a batch takes applications with a 登记表 not yet sent to justice (%s or %s)",
			name, c.State, AppPendingApproval, AppApproved)
	}
	return ""
}
