package workflow

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Departure (Art. 18): an officer retires, resigns, is dismissed or moves
// out of the emergency-management department. Every certificate still out
// gets a return task — justice-issued ones to the legal office that manages
// them, the Ministry one to 自治区 HR — and HR cannot complete the
// departure while any certificate is not returned. The second paragraph:
// when 派出机关 staff stop emergency-management work, the county legal
// office opens the same path and recovers the certificate.
const (
	PathDeparture            PathName = "departure"
	PathCancellation         PathName = "cancellation"
	PathMinistryCancellation PathName = "ministry_cancellation"
)

// Departure states and events.
const (
	DepOpen      State = "open"
	DepCompleted State = "completed"
	DepWithdrawn State = "withdrawn"

	EvRecordReturn EventName = "record_return"
	EvComplete     EventName = "complete"

	TaskReturnCertificate TaskKind = "return_certificate"
)

// DepartureReason is why a person leaves (Art. 18).
type DepartureReason string

const (
	DepartRetire  DepartureReason = "退休"
	DepartResign  DepartureReason = "辞职"
	DepartDismiss DepartureReason = "辞退"
	DepartMove    DepartureReason = "调离"
	// DepartStopDuty: 派出机关 staff no longer doing emergency-management work (Art. 18 second paragraph).
	DepartStopDuty DepartureReason = "不再承担应急管理职责"
)

// DepartureData is the case data of a departure.
type DepartureData struct {
	Reason      DepartureReason `json:"reason"`
	EffectiveOn Date            `json:"effective_on"`
	Details     string          `json:"details,omitempty"`
}

// ReturnOffice says where a certificate must be returned (Art. 18): the
// legal office of the department that manages it, or 自治区 HR for the
// Ministry certificate.
func ReturnOffice(c *Certificate) Role {
	if c.Kind.Family() == FamilyMinistry {
		return RoleHR
	}
	return RoleLegalClerk
}

func returnOfficeText(c *Certificate) string {
	if c.Kind.Family() == FamilyMinistry {
		return "自治区应急管理厅组织人事机构"
	}
	return "证件管理部门法制机构"
}

// guardAllReturned is Art. 18's block: one violation per certificate out.
var guardAllReturned = Guard{Article: "Art. 18", Each: func(s *Snapshot) []string {
	var out []string
	for _, c := range s.Certificates {
		if c.Outstanding() {
			out = append(out, fmt.Sprintf("%s No. %s (%s) not returned: return to %s", c.Kind.Label(), c.Number, c.State, returnOfficeText(&c)))
		}
	}
	return out
}}

func departurePath() Path {
	return Path{
		Name: PathDeparture, Title: "离岗证件清退（Art. 18）", Initial: DepOpen,
		Subject: SubjectPerson, Department: DeptOfPerson,
		States: []StateDef{
			{DepOpen, "离岗办理中，待交回证件", false, false},
			{DepCompleted, "已办结", true, false},
			{DepWithdrawn, "已撤销", true, false},
		},
		Events: []EventDef{
			{
				Name: EvOpen, Label: "办理离岗", From: []State{StateNew}, To: DepOpen,
				Actors: []Role{RoleHR, RoleLegalClerk}, Effect: openDeparture,
			},
			{
				Name: EvRecordReturn, Label: "登记证件交回", From: []State{DepOpen}, To: DepOpen,
				Actors: []Role{RoleLegalClerk, RoleHR}, Scoped: true, Effect: recordReturn,
			},
			{
				Name: EvComplete, Label: "办结离岗手续", From: []State{DepOpen}, To: DepCompleted,
				Actors: []Role{RoleHR, RoleLegalClerk}, Effect: completeDeparture, Guards: []Guard{guardAllReturned},
				// The guard passed, so nothing is out: a return task still open
				// is for a certificate that left by another path (surrendered
				// under Art. 17, voided by a loss notice under Art. 19).
				Discards: []TaskKind{TaskReturnCertificate},
				Docs:     []DocSpec{{DocDepartureClearance, "Art. 18"}},
			},
			{
				Name: EvWithdraw, Label: "撤销离岗", From: []State{DepOpen}, To: DepWithdrawn,
				Actors: []Role{RoleHR, RoleLegalClerk}, CommentRequired: true, Effect: withdrawDeparture,
				Discards: []TaskKind{TaskReturnCertificate},
			},
		},
	}
}

// byRightOffice refuses an act by an actor without the departure's office:
// HR runs departures, the legal office only the 派出机关 case of Art. 18(2).
func byRightOffice(t *Transition, reason DepartureReason) error {
	s := t.Snap
	if reason == DepartStopDuty {
		if s.Unit.Kind != UnitTownship {
			return &GuardError{[]Violation{{"Art. 18", "only 派出机关 staff stop emergency-management work without leaving the department"}}}
		}
		if !s.Actor.Has(RoleLegalClerk, s.Case.OrgUnitID) {
			return fmt.Errorf("%w: the county legal office recovers a 派出机关 officer's certificate (Art. 18)", ErrForbidden)
		}
		return nil
	}
	if !s.Actor.Has(RoleHR, s.Case.OrgUnitID) {
		return fmt.Errorf("%w: HR (组织人事机构) handles departures (Art. 18)", ErrForbidden)
	}
	return nil
}

func openDeparture(t *Transition) error {
	var d DepartureData
	if err := decodeInput(t.Input, &d); err != nil {
		return err
	}
	switch d.Reason {
	case DepartRetire, DepartResign, DepartDismiss, DepartMove, DepartStopDuty:
	default:
		return Invalid("reason", "one of 退休, 辞职, 辞退, 调离, 不再承担应急管理职责 (Art. 18)")
	}
	if d.EffectiveOn.Before(MeasuresEffective) && !d.EffectiveOn.IsZero() {
		// May lie ahead (a retirement announced), never before the
		// measures: the change report it files dates from it.
		return Invalid("effective_on", "before "+MeasuresEffective.String()+", when the measures took effect (Art. 21)")
	}
	if d.EffectiveOn.IsZero() {
		d.EffectiveOn = t.Snap.Today
	}
	d.Details = strings.TrimSpace(d.Details)
	if err := byRightOffice(t, d.Reason); err != nil {
		return err
	}
	if t.Snap.Person.Employment != EmploymentActive {
		return &GuardError{[]Violation{{"Art. 18", "a departure of this person is already open or done (" + string(t.Snap.Person.Employment) + ")"}}}
	}
	t.Employment = EmploymentLeaving
	for _, c := range t.Snap.Certificates {
		if c.Outstanding() {
			t.Tasks = append(t.Tasks, Task{Kind: TaskReturnCertificate, Role: ReturnOffice(&c), OrgUnitID: c.OrgUnitID, CertificateID: c.ID,
				DueOn: d.EffectiveOn.AddWorkingDays(t.Snap.Settings.TimelyWorkingDays)})
		}
	}
	b, err := json.Marshal(&d)
	t.Data = b
	return err
}

// recordReturn records that one certificate came back: the office it is
// returned to acts (the legal office that manages it, or 自治区 HR), and a
// cancellation case takes it from there.
func recordReturn(t *Transition) error {
	c, returnedOn, err := returning(t, nil)
	if err != nil {
		return err
	}
	if !t.Snap.Actor.Has(ReturnOffice(c), c.OrgUnitID) {
		return fmt.Errorf("%w: %s No. %s is returned to %s (Art. 18)", ErrForbidden, c.Kind.Label(), c.Number, returnOfficeText(c))
	}
	path := PathCancellation
	if c.Kind.Family() == FamilyMinistry {
		path = PathMinistryCancellation
	}
	data, _ := json.Marshal(map[string]any{"reason": "离岗交回", "returned_on": returnedOn})
	t.Spawn = append(t.Spawn, OpenCaseInput{Path: path, CertificateID: c.ID, Data: data})
	t.Close = append(t.Close, TaskRef{Kind: TaskReturnCertificate, CertificateID: c.ID})
	return nil
}

// ReturnInput is the data of a certificate coming back (record_return on
// a departure, recover on a retention decision): which one, and the day;
// today when not given.
type ReturnInput struct {
	CertificateID int64 `json:"certificate_id"`
	ReturnedOn    Date  `json:"returned_on"`
}

// returning reads the input of a certificate coming back (on departure, or
// recovered on 转岗): which of the person's certificates — checked first by
// check, when given, then outstanding (Art. 18) and not lost (Art. 19:
// the loss notice voids it) — and the day it came back, today when not
// given, never in the future.
func returning(t *Transition, check func(*Certificate) error) (*Certificate, Date, error) {
	var in ReturnInput
	if err := decodeInput(t.Input, &in); err != nil {
		return nil, Date{}, err
	}
	if err := positiveID("certificate_id", in.CertificateID); err != nil {
		return nil, Date{}, err
	}
	if in.CertificateID == 0 {
		return nil, Date{}, Invalid("certificate_id", "required: which certificate came back")
	}
	i := slices.IndexFunc(t.Snap.Certificates, func(c Certificate) bool { return c.ID == in.CertificateID })
	if i < 0 {
		return nil, Date{}, Invalid("certificate_id", "not a certificate of this person")
	}
	c := &t.Snap.Certificates[i]
	if check != nil {
		if err := check(c); err != nil {
			return nil, Date{}, err
		}
	}
	if !c.Outstanding() {
		return nil, Date{}, &GuardError{[]Violation{{"Art. 18", fmt.Sprintf("%s No. %s is already %s", c.Kind.Label(), c.Number, c.State)}}}
	}
	if c.State == CertLost {
		return nil, Date{}, &GuardError{[]Violation{{"Art. 19", fmt.Sprintf("%s No. %s is reported lost: it is voided by the loss notice, not returned", c.Kind.Label(), c.Number)}}}
	}
	returned, err := inputDate("returned_on", in.ReturnedOn, t.Snap.Today)
	if err == nil && returned.Before(c.IssuedOn) {
		err = Invalid("returned_on", fmt.Sprintf("before %s No. %s was issued (%s)", c.Kind.Label(), c.Number, c.IssuedOn))
	}
	return c, returned, err
}

func completeDeparture(t *Transition) error {
	var d DepartureData
	if err := json.Unmarshal(t.Snap.Case.Data, &d); err != nil {
		return err
	}
	if err := byRightOffice(t, d.Reason); err != nil {
		return err
	}
	if len(t.Input) > 0 && string(t.Input) != "null" && string(t.Input) != "{}" {
		return Invalid("data", "complete takes no data")
	}
	if d.Reason != DepartStopDuty {
		t.Employment = EmploymentDeparted
	} else {
		t.Employment = EmploymentActive
	}
	if len(t.Snap.Certificates) > 0 {
		t.Spawn = append(t.Spawn, platformChange(d, t.Snap.Person.ID, t.Snap.Today))
	}
	return nil
}

// platformChange is the Art. 14 change report a completed departure makes
// for a person who held certificates: the legal office updates both
// platforms within a month of the departure (rules.md, platform entry: 退休,
// 辞职, 辞退, 调离 and other changes). A departure completed before its
// effective date counts from the day it completed: early, never late.
func platformChange(d DepartureData, personID int64, today Date) OpenCaseInput {
	pd := PlatformData{Change: ChangeKind(d.Reason), ChangedOn: d.EffectiveOn}
	if d.Reason == DepartStopDuty {
		pd.Change, pd.Details = ChangeOther, string(DepartStopDuty)
	}
	if pd.ChangedOn.IsZero() || pd.ChangedOn.After(today) {
		pd.ChangedOn = today
	}
	if pd.ChangedOn.Before(MeasuresEffective) { // a departure opened before effective_on was checked
		pd.ChangedOn = MeasuresEffective
	}
	return changeReport(personID, pd)
}

func withdrawDeparture(t *Transition) error {
	var d DepartureData
	if err := json.Unmarshal(t.Snap.Case.Data, &d); err != nil {
		return err
	}
	if err := byRightOffice(t, d.Reason); err != nil {
		return err
	}
	t.Employment = EmploymentActive
	return nil
}

// Cancellation (Art. 17, 18): a returned certificate goes to its issuer for
// 注销. The justice table runs at the legal office; the Ministry table at
// 自治区 HR, which follows the Ministry's rules.
const (
	CanReturned  State = "returned"
	CanSent      State = "sent"
	CanCancelled State = "cancelled"

	EvSendForCancellation EventName = "send_for_cancellation"

	TaskSendForCancellation TaskKind = "send_for_cancellation"
)

// CancellationData is the case data of a cancellation.
type CancellationData struct {
	Reason     string `json:"reason"`
	ReturnedOn Date   `json:"returned_on"`
	SentOn     Date   `json:"sent_on,omitempty"`
}

func cancellationPath(family Family) Path {
	name, office, recorder, issuer := PathCancellation, RoleLegalClerk, []Role{RoleJustice, RoleLegalClerk}, "司法部门"
	sendDocs := []DocSpec{{DocCancellationTransmittal, "Art. 18"}}
	recordRole := RoleJustice
	if family == FamilyMinistry {
		name, office, recorder, issuer, sendDocs, recordRole = PathMinistryCancellation, RoleHR, []Role{RoleHR}, "应急管理部", nil, RoleHR
	}
	timely := func(t *Transition) Date { return t.Snap.Today.AddWorkingDays(t.Snap.Settings.TimelyWorkingDays) }
	return Path{
		Name: name, Title: "证件交回注销（" + issuer + "）", Initial: CanReturned,
		Subject: SubjectCertificate, Department: DeptOfCertificate,
		SpawnedBy: "a departure (离岗) or a retention decision (转岗) that takes the certificate back",
		States: []StateDef{
			{CanReturned, "已交回，待送交" + issuer, false, false},
			{CanSent, "已送交" + issuer + "注销", false, true},
			{CanCancelled, issuer + "已注销", true, true},
		},
		Events: []EventDef{
			{
				Name: EvOpen, Label: "登记证件交回", From: []State{StateNew}, To: CanReturned,
				Actors: []Role{office}, Effect: openCancellation(family),
				Opens: []TaskSpec{{Kind: TaskSendForCancellation, Role: office, Due: timely}},
				Docs:  []DocSpec{{DocReturnReceipt, "Art. 18"}},
			},
			{
				Name: EvSendForCancellation, Label: "送交" + issuer + "注销", From: []State{CanReturned}, To: CanSent,
				Actors: []Role{office}, Effect: recordSending,
				Closes: []TaskKind{TaskSendForCancellation},
				Opens:  []TaskSpec{{Kind: TaskRecordCancellation, Role: recordRole}},
				Docs:   sendDocs,
			},
			{
				Name: EvRecordCancellation, Label: "登记" + issuer + "注销", From: []State{CanSent}, To: CanCancelled,
				Actors: recorder, Effect: moveCertificate(CertEventCancel),
				Closes: []TaskKind{TaskRecordCancellation},
			},
		},
	}
}

func openCancellation(family Family) func(*Transition) error {
	return func(t *Transition) error {
		var d CancellationData
		if err := decodeInput(t.Input, &d); err != nil {
			return err
		}
		c := t.Snap.Certificate
		if c == nil {
			return Invalid("certificate_id", "required")
		}
		if c.Kind.Family() != family {
			return &GuardError{[]Violation{{"Art. 3", fmt.Sprintf("%s is managed by %s", c.Kind.Label(), returnOfficeText(c))}}}
		}
		d.Reason = strings.TrimSpace(d.Reason)
		if d.Reason == "" {
			return Invalid("reason", "required: why the certificate is returned")
		}
		var err error
		if d.ReturnedOn, err = inputDate("returned_on", d.ReturnedOn, t.Snap.Today); err != nil {
			return err
		}
		t.CertificateChange = &CertificateChange{CertificateID: c.ID, Event: CertEventReturn}
		b, err := json.Marshal(&d)
		t.Data = b
		return err
	}
}

func recordSending(t *Transition) error {
	var in struct {
		SentOn Date `json:"sent_on"`
	}
	if err := decodeInput(t.Input, &in); err != nil {
		return err
	}
	sent, err := inputDate("sent_on", in.SentOn, t.Snap.Today)
	if err != nil {
		return err
	}
	return updateData(t, func(d *CancellationData) error {
		if sent.Before(d.ReturnedOn) {
			return Invalid("sent_on", "before the certificate was returned ("+d.ReturnedOn.String()+")")
		}
		d.SentOn = sent
		return nil
	})
}
