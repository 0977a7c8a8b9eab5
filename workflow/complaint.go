package workflow

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Complaints (Art. 20): 公民、法人或者其他组织 may 举报、控告、申诉 an
// officer's breach of the measures. The legal office records the complaint
// (received by letter, phone or visit; or filed by the public online, with
// no login), handles it within Settings.ComplaintDays (decided: 60 days from
// receipt), records the outcome with a 处理结果告知书 and tells the
// complainant. A substantiated complaint can open an Art. 17 suspension case
// about the officer's certificate.
//
// A complaint is about an officer when it names a certificate on record (or
// the office links the person): it then runs at the department the officer
// belongs to, like any case about them (DeptOfPerson). A complaint naming
// nobody on record runs at the department it was addressed to; the public
// intake defaults to the 自治区 department.
const PathComplaint PathName = "complaint"

// Complaint states.
const (
	// ComplaintHandling: received, the legal office is handling it.
	ComplaintHandling State = "handling"
	// ComplaintDecided: the outcome is recorded; the complainant is to be told.
	ComplaintDecided State = "decided"
	// ComplaintReferred: a suspension case was opened; the complainant is to be told.
	ComplaintReferred State = "referred"
	// ComplaintClosed: the complainant was told (or cannot be). Final.
	ComplaintClosed State = "closed"
)

// Complaint events.
const (
	// EvRecordOutcome records the outcome: substantiated or not, and what was done.
	EvRecordOutcome EventName = "record_outcome"
	// EvProposeSuspension opens an Art. 17 suspension case from a
	// substantiated complaint.
	EvProposeSuspension EventName = "propose_suspension"
	// EvNotify records how and when the complainant was told.
	EvNotify EventName = "notify"
)

// Complaint tasks.
const (
	// TaskHandleComplaint: handle the complaint, due Settings.ComplaintDays after receipt.
	TaskHandleComplaint TaskKind = "handle_complaint"
	// TaskNotifyComplainant: tell the complainant the outcome, "及时".
	TaskNotifyComplainant TaskKind = "notify_complainant"
)

// ComplaintKind is Art. 20's 举报, 控告 or 申诉.
type ComplaintKind string

// Complaint kinds (Art. 20).
const (
	ComplaintReport     ComplaintKind = "举报"
	ComplaintAccusation ComplaintKind = "控告"
	ComplaintAppeal     ComplaintKind = "申诉"
)

// ComplaintKinds lists the kinds of Art. 20.
var ComplaintKinds = []ComplaintKind{ComplaintReport, ComplaintAccusation, ComplaintAppeal}

// Channel is how a complaint arrived.
type Channel string

// Complaint channels.
const (
	ChannelLetter Channel = "来信"
	ChannelPhone  Channel = "来电"
	ChannelVisit  Channel = "来访"
	ChannelOnline Channel = "网络" // the public intake
	ChannelOther  Channel = "其他"
)

// Channels lists the complaint channels.
var Channels = []Channel{ChannelLetter, ChannelPhone, ChannelVisit, ChannelOnline, ChannelOther}

// NotifyMethods are the ways the complainant may be told the outcome;
// NotifyImpossible only when they left no contact.
var NotifyMethods = []string{"书面", "电话", "当面", "短信", "网络", NotifyImpossible}

// NotifyImpossible records that an anonymous complainant cannot be told.
const NotifyImpossible = "无法告知"

// ComplaintInput is the input of a complaint case's open event: the
// complaint as received. LookupHash is set by the public intake only (the
// SHA-256 of the lookup code the complainant was given): an office's
// opening that sets it is refused.
type ComplaintInput struct {
	Kind               ComplaintKind `json:"kind,omitempty"` // default 举报
	Channel            Channel       `json:"channel"`
	ReceivedOn         Date          `json:"received_on,omitempty"` // default today
	ComplainantName    string        `json:"complainant_name,omitempty"`
	ComplainantContact string        `json:"complainant_contact,omitempty"`
	OfficerName        string        `json:"officer_name,omitempty"`
	CertificateNumber  string        `json:"certificate_number,omitempty"`
	Facts              string        `json:"facts"`
	LookupHash         string        `json:"lookup_hash,omitempty"`
}

// ComplaintOutcome is the input of record_outcome.
type ComplaintOutcome struct {
	Substantiated *bool  `json:"substantiated"`
	Outcome       string `json:"outcome"`
	DecidedOn     Date   `json:"decided_on,omitempty"` // default today
}

// SuspensionProposal is the input of propose_suspension: the Art. 17
// ground and facts the suspension case opens with, and the certificate when
// the complaint names none (one of the officer's).
type SuspensionProposal struct {
	Ground        int    `json:"ground"`
	Facts         string `json:"facts"`
	CertificateID int64  `json:"certificate_id,omitempty"`
}

// ComplaintNotice is the input of notify.
type ComplaintNotice struct {
	Method string `json:"method"`
	ToldOn Date   `json:"told_on,omitempty"` // default today
}

// ComplaintData is the case data of a complaint.
type ComplaintData struct {
	Kind               ComplaintKind `json:"kind"`
	Channel            Channel       `json:"channel"`
	ReceivedOn         Date          `json:"received_on"`
	ComplainantName    string        `json:"complainant_name,omitempty"`
	ComplainantContact string        `json:"complainant_contact,omitempty"`
	OfficerName        string        `json:"officer_name,omitempty"`
	CertificateNumber  string        `json:"certificate_number,omitempty"`
	Facts              string        `json:"facts"`
	LookupHash         string        `json:"lookup_hash,omitempty"`

	Substantiated *bool  `json:"substantiated,omitempty"`
	Outcome       string `json:"outcome,omitempty"`
	DecidedOn     Date   `json:"decided_on,omitempty"`

	SuspensionGround        int   `json:"suspension_ground,omitempty"`
	SuspensionCertificateID int64 `json:"suspension_certificate_id,omitempty"`

	NotifyMethod string `json:"notify_method,omitempty"`
	ToldOn       Date   `json:"told_on,omitempty"`
}

func complaintPath() Path {
	return Path{
		Name:       PathComplaint,
		Title:      "举报、控告、申诉处理",
		Initial:    ComplaintHandling,
		Subject:    SubjectAny,
		Department: DeptOfPerson,
		// The officer complained about does not read who complained.
		HiddenFromSubject: true,
		States: []StateDef{
			{Name: ComplaintHandling, Label: "已受理，法制机构处理中"},
			{Name: ComplaintDecided, Label: "已作出处理结果，待告知"},
			{Name: ComplaintReferred, Label: "已提出暂扣，待告知"},
			{Name: ComplaintClosed, Label: "已告知，办结", Final: true},
		},
		Events: []EventDef{
			{
				Name: EvOpen, Label: "受理登记", From: []State{StateNew}, To: ComplaintHandling,
				Actors: []Role{RoleLegalClerk}, Effect: openComplaint,
				Opens: []TaskSpec{{Kind: TaskHandleComplaint, Role: RoleLegalClerk,
					Due: func(t *Transition) Date { return t.DueBase.AddDays(t.Snap.Settings.ComplaintDays) }}},
				Docs: []DocSpec{{Kind: DocComplaintForm, Article: "Art. 20"}},
			},
			{
				Name: EvRecordOutcome, Label: "记录处理结果", From: []State{ComplaintHandling}, To: ComplaintDecided,
				Actors: []Role{RoleLegalClerk}, Effect: recordOutcome,
				Closes: []TaskKind{TaskHandleComplaint},
				Opens: []TaskSpec{{Kind: TaskNotifyComplainant, Role: RoleLegalClerk,
					Due: func(t *Transition) Date { return t.DueBase.AddWorkingDays(t.Snap.Settings.TimelyWorkingDays) }}},
				Docs: []DocSpec{{Kind: DocOutcomeNotice, Article: "Art. 20"}},
			},
			{
				Name: EvProposeSuspension, Label: "提出暂扣建议", From: []State{ComplaintDecided}, To: ComplaintReferred,
				Actors: []Role{RoleLegalClerk}, Effect: proposeSuspension, Guards: []Guard{guardSubstantiated},
			},
			{
				Name: EvNotify, Label: "告知处理结果", From: []State{ComplaintDecided, ComplaintReferred}, To: ComplaintClosed,
				Actors: []Role{RoleLegalClerk}, Effect: notifyComplainant,
				Closes: []TaskKind{TaskNotifyComplainant},
			},
		},
	}
}

// guardSubstantiated: only a substantiated complaint leads to 暂扣 (Art. 17, 20).
var guardSubstantiated = Guard{Article: "Art. 20", Check: func(s *Snapshot) string {
	d, err := caseData[ComplaintData](s)
	if err != nil || d.Substantiated == nil || !*d.Substantiated {
		return "the complaint was not found substantiated: no suspension follows from it"
	}
	return ""
}}

func openComplaint(t *Transition) error {
	var in ComplaintInput
	if err := decodeInput(t.Input, &in); err != nil {
		return err
	}
	d := ComplaintData{Kind: in.Kind, Channel: in.Channel, LookupHash: strings.ToLower(in.LookupHash)}
	if _, err := hex.DecodeString(d.LookupHash); err != nil || (d.LookupHash != "" && len(d.LookupHash) != sha256.Size*2) {
		return Invalid("lookup_hash", "a SHA-256 in hex, as the public intake sets it")
	}
	if d.LookupHash != "" && !t.Snap.Spawned {
		return Invalid("lookup_hash", "set by the public intake only, with the code it gives the complainant")
	}
	if d.Kind == "" {
		d.Kind = ComplaintReport
	}
	if !slices.Contains(ComplaintKinds, d.Kind) {
		return Invalid("kind", "one of 举报, 控告, 申诉 (Art. 20)")
	}
	if !slices.Contains(Channels, d.Channel) {
		return Invalid("channel", "one of 来信, 来电, 来访, 网络, 其他")
	}
	var err error
	if d.ReceivedOn, err = inputDate("received_on", in.ReceivedOn, t.Snap.Today); err != nil {
		return err
	}
	for _, f := range []struct {
		field    string
		in       string
		out      *string
		required bool
		max      int
	}{
		{"complainant_name", in.ComplainantName, &d.ComplainantName, false, 50},
		{"complainant_contact", in.ComplainantContact, &d.ComplainantContact, false, 100},
		{"officer_name", in.OfficerName, &d.OfficerName, false, 50},
		{"certificate_number", in.CertificateNumber, &d.CertificateNumber, false, 64},
		{"facts", in.Facts, &d.Facts, true, 5000},
	} {
		if *f.out, err = inputText(f.field, f.in, f.required, f.max); err != nil {
			return err
		}
	}
	if c := t.Snap.Certificate; c != nil {
		if d.CertificateNumber != "" && d.CertificateNumber != c.Number {
			return Invalid("certificate_number", "is not the number of certificate_id")
		}
		d.CertificateNumber = c.Number
	}
	if d.OfficerName == "" && d.CertificateNumber == "" && t.Snap.Person.ID == 0 {
		return Invalid("officer_name", "name the officer or the certificate number (Art. 20 complaints are about an officer)")
	}
	t.DueBase = d.ReceivedOn
	b, err := json.Marshal(&d)
	t.Data = b
	return err
}

func recordOutcome(t *Transition) error {
	var in ComplaintOutcome
	if err := decodeInput(t.Input, &in); err != nil {
		return err
	}
	if in.Substantiated == nil {
		return Invalid("substantiated", "required: true or false")
	}
	outcome, err := inputText("outcome", in.Outcome, true, 5000)
	if err != nil {
		return err
	}
	on, err := inputDate("decided_on", in.DecidedOn, t.Snap.Today)
	if err != nil {
		return err
	}
	return updateData(t, func(d *ComplaintData) error {
		if on.Before(d.ReceivedOn) {
			return Invalid("decided_on", "before the complaint was received ("+d.ReceivedOn.String()+")")
		}
		d.Substantiated, d.Outcome, d.DecidedOn = in.Substantiated, outcome, on
		t.DueBase = on
		return nil
	})
}

// proposeSuspension opens the Art. 17 suspension case about the officer's
// certificate, in this transaction; the suspension path's own guards (a
// justice-issued certificate in use) decide whether it may open.
func proposeSuspension(t *Transition) error {
	var in SuspensionProposal
	if err := decodeInput(t.Input, &in); err != nil {
		return err
	}
	// The table's guard runs after the effect; a complaint not found
	// substantiated is refused for that, before what the input lacks.
	if err := checkGuards([]Guard{guardSubstantiated}, t.Snap); err != nil {
		return err
	}
	facts, err := inputText("facts", in.Facts, true, 5000)
	if err != nil {
		return err
	}
	if GroundText(in.Ground) == "" {
		return Invalid("ground", "Art. 17 ground (1), (2) or (3)")
	}
	cert := t.Snap.Certificate
	if in.CertificateID != 0 {
		// Only one of the officer's own certificates: the spawned case opens
		// without a role check of its own.
		if cert = t.Snap.certificateByID(in.CertificateID); cert == nil {
			return Invalid("certificate_id", "not a certificate of the officer the complaint is about")
		}
	}
	if cert == nil {
		return &GuardError{Violations: []Violation{{Article: "Art. 17",
			Condition: "the complaint names no certificate on record: give certificate_id, or open the suspension case directly"}}}
	}
	return updateData(t, func(d *ComplaintData) error {
		d.SuspensionGround, d.SuspensionCertificateID = in.Ground, cert.ID
		data, err := json.Marshal(SuspensionData{Ground: in.Ground, Facts: facts})
		if err != nil {
			return err
		}
		t.Spawn = append(t.Spawn, OpenCaseInput{Path: PathSuspension, CertificateID: cert.ID, Data: data,
			Comment: "举报、控告、申诉查实（Art. 20），案件 " + t.Snap.Case.Number})
		return nil
	})
}

func notifyComplainant(t *Transition) error {
	var in ComplaintNotice
	if err := decodeInput(t.Input, &in); err != nil {
		return err
	}
	in.Method = strings.TrimSpace(in.Method)
	if !slices.Contains(NotifyMethods, in.Method) {
		return Invalid("method", "one of "+strings.Join(NotifyMethods, ", "))
	}
	on, err := inputDate("told_on", in.ToldOn, t.Snap.Today)
	if err != nil {
		return err
	}
	return updateData(t, func(d *ComplaintData) error {
		if in.Method == NotifyImpossible && d.ComplainantContact != "" {
			return Invalid("method", "the complainant left a contact: tell them")
		}
		if d.ComplainantContact == "" && in.Method != NotifyImpossible && in.Method != "当面" {
			return Invalid("method", "the complainant left no contact: they were told 当面 (in person), or record "+NotifyImpossible)
		}
		if on.Before(d.DecidedOn) {
			return Invalid("told_on", "before the outcome ("+d.DecidedOn.String()+")")
		}
		d.NotifyMethod, d.ToldOn = in.Method, on
		return nil
	})
}

// PublicComplaint is what the public intake accepts (Art. 20): no login, the
// complainant's name and contact optional. The channel (网络) and the date
// of receipt are the intake's own.
type PublicComplaint struct {
	Kind               ComplaintKind `json:"kind,omitempty"`
	ComplainantName    string        `json:"complainant_name,omitempty"`
	ComplainantContact string        `json:"complainant_contact,omitempty"`
	OfficerName        string        `json:"officer_name,omitempty"`
	CertificateNumber  string        `json:"certificate_number,omitempty"`
	// OrgUnitID is the department the complaint is addressed to when it
	// names no certificate on record; default the 自治区 department.
	OrgUnitID int64  `json:"org_unit_id,omitempty"`
	Facts     string `json:"facts" openapi:"required"`
}

// ComplaintReceipt is what the public intake answers: the code the
// complainant keeps to ask after the complaint. Nothing about the officer,
// not even the case number: its region prefix would tell whether the
// certificate number named matched one, and whose department holds it.
type ComplaintReceipt struct {
	CaseNumber string `json:"-"` // for the staff side and tests only
	LookupCode string `json:"lookup_code" openapi:"required"`
}

// FileComplaint records a complaint from the public intake. actor is the
// dedicated public-intake user: it holds no role and is nobody's staff
// record, so it can read and do nothing else; the case opens as a system
// opening (no role check), which is what lets the public in. A certificate
// number matching exactly one certificate makes the case about its holder;
// otherwise the case runs at in.OrgUnitID's department, or the 自治区
// department. Only the code's SHA-256 is kept.
func (e *Engine) FileComplaint(ctx context.Context, actor *Actor, in PublicComplaint) (ComplaintReceipt, error) {
	if actor == nil {
		return ComplaintReceipt{}, ErrUnauthenticated
	}
	if len(actor.Roles) > 0 || actor.PersonID != 0 {
		return ComplaintReceipt{}, fmt.Errorf("%w: the public intake records complaints as a dedicated user with no roles", ErrForbidden)
	}
	code, hash, err := newLookupCode()
	if err != nil {
		return ComplaintReceipt{}, err
	}
	data, err := json.Marshal(ComplaintInput{
		Kind: in.Kind, Channel: ChannelOnline, ComplainantName: in.ComplainantName, ComplainantContact: in.ComplainantContact,
		OfficerName: in.OfficerName, CertificateNumber: in.CertificateNumber, Facts: in.Facts, LookupHash: hash,
	})
	if err != nil {
		return ComplaintReceipt{}, err
	}
	// The unit is checked before, and whether or not, a certificate
	// matches: an answer that differed would tell whether the number is
	// on record.
	if err := positiveID("org_unit_id", in.OrgUnitID); err != nil {
		return ComplaintReceipt{}, err
	}
	var receipt ComplaintReceipt
	err = e.store.Update(ctx, func(tx Tx) error {
		if in.OrgUnitID != 0 {
			if _, err := tx.OrgUnit(ctx, in.OrgUnitID); errors.Is(err, ErrNotFound) {
				return Invalid("org_unit_id", fmt.Sprintf("no org unit %d", in.OrgUnitID))
			} else if err != nil {
				return err
			}
		}
		open := OpenCaseInput{Path: PathComplaint, OrgUnitID: in.OrgUnitID, Data: data}
		if n := strings.TrimSpace(in.CertificateNumber); n != "" {
			certs, err := tx.ListCertificates(ctx, CertificateFilter{Scope: Scope{All: true}, Number: n, Limit: 2})
			if err != nil {
				return err
			}
			if len(certs) == 1 { // two issuers may share a number: then the office matches it
				open.CertificateID = certs[0].ID
			}
		}
		if open.CertificateID == 0 && open.OrgUnitID <= 0 {
			units, err := tx.ListOrgUnits(ctx, Scope{All: true})
			if err != nil {
				return err
			}
			for _, u := range units {
				if u.ParentID == 0 && u.Kind == UnitDepartment {
					open.OrgUnitID = u.ID
					break
				}
			}
		}
		c, err := e.open(ctx, tx, actor, open, true, e.Now())
		if err != nil {
			return err
		}
		receipt = ComplaintReceipt{CaseNumber: c.Number, LookupCode: code}
		return tx.SaveComplaintLookup(ctx, hash, c.ID)
	})
	return receipt, err
}

// ComplaintStatus is what the public status lookup tells the holder of a
// lookup code about their complaint: how far it got and when. Nothing
// about the officer, the department handling it, the outcome or whether
// a suspension was proposed: the outcome reaches the complainant as the
// 处理结果告知书, and a code may be shown to others.
type ComplaintStatus struct {
	Kind       ComplaintKind `json:"kind" openapi:"required"`
	ReceivedOn Date          `json:"received_on" openapi:"required"`
	// Status is handling (受理, being handled), decided (the outcome is
	// recorded and the complainant is to be told) or closed (told, or
	// recorded as impossible to tell). StatusLabel says it in Chinese.
	Status      string `json:"status" openapi:"required"`
	StatusLabel string `json:"status_label" openapi:"required"`
	// DueOn is the handling deadline (Art. 20, Settings.ComplaintDays)
	// while the complaint is handled.
	DueOn     *Date `json:"due_on,omitempty"`
	DecidedOn *Date `json:"decided_on,omitempty"`
	ToldOn    *Date `json:"told_on,omitempty"`
}

// Public statuses of a complaint (ComplaintStatus.Status).
const (
	PublicHandling = "handling"
	PublicDecided  = "decided"
	PublicClosed   = "closed"
)

var publicStatusLabels = map[string]string{
	PublicHandling: "已受理，正在处理",
	PublicDecided:  "已作出处理结果，待告知",
	PublicClosed:   "已告知处理结果，办结",
}

// ComplaintStatusOf answers the public status lookup for code, the lookup
// code the public intake gave. A code that is malformed is an input error
// on lookup_code; one that names no complaint is ErrNotFound. It needs no
// actor: holding the code is the authority.
func (e *Engine) ComplaintStatusOf(ctx context.Context, code string) (ComplaintStatus, error) {
	norm, ok := normalLookupCode(code)
	if !ok {
		return ComplaintStatus{}, Invalid("lookup_code", "the 12-character code the receipt gave, as XXXX-XXXX-XXXX")
	}
	var st ComplaintStatus
	err := e.store.View(ctx, func(tx Tx) error {
		c, err := tx.ComplaintByLookup(ctx, ComplaintLookupHash(norm))
		if err != nil {
			return err
		}
		var d ComplaintData
		if err := json.Unmarshal(c.Data, &d); err != nil {
			return fmt.Errorf("workflow: complaint %d data: %w", c.ID, err)
		}
		st = ComplaintStatus{Kind: d.Kind, ReceivedOn: d.ReceivedOn}
		switch c.State {
		case ComplaintHandling:
			st.Status = PublicHandling
			tasks, err := tx.CaseTasks(ctx, c.ID)
			if err != nil {
				return err
			}
			for _, t := range tasks {
				if t.Kind == TaskHandleComplaint && t.Status == TaskOpen && !t.DueOn.IsZero() {
					st.DueOn = &t.DueOn
				}
			}
		case ComplaintDecided, ComplaintReferred:
			st.Status = PublicDecided
		default:
			st.Status = PublicClosed
		}
		if !d.DecidedOn.IsZero() {
			st.DecidedOn = &d.DecidedOn
		}
		if !d.ToldOn.IsZero() {
			st.ToldOn = &d.ToldOn
		}
		st.StatusLabel = publicStatusLabels[st.Status]
		return nil
	})
	return st, err
}

// normalLookupCode is code as newLookupCode wrote it, read the way
// Crockford's base32 is read: dashes and spaces dropped, any case, O as
// 0, I and L as 1. ok is false unless 12 characters of the alphabet remain.
func normalLookupCode(code string) (norm string, ok bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch r {
		case '-', ' ':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if !strings.ContainsRune(lookupAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	return b.String(), b.Len() == 12
}

// lookupAlphabet is Crockford's base32: no I, L, O or U to misread.
const lookupAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newLookupCode returns a random code of 12 characters (60 bits), grouped
// XXXX-XXXX-XXXX, and its hash as kept in the case data.
func newLookupCode() (code, hash string, err error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("workflow: lookup code: %w", err)
	}
	var s strings.Builder
	for i, v := range b {
		if i > 0 && i%4 == 0 {
			s.WriteByte('-')
		}
		s.WriteByte(lookupAlphabet[int(v)%len(lookupAlphabet)])
	}
	code = s.String()
	return code, ComplaintLookupHash(code), nil
}

// ComplaintLookupHash is what the case data keeps of a lookup code: the
// SHA-256 of the code without dashes, upper-case.
func ComplaintLookupHash(code string) string {
	norm := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	h := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(h[:])
}
