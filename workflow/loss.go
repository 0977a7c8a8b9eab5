package workflow

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Loss and reissue (Art. 19): the holder reports the loss to the legal
// office at once (or the office records the report for them); the 遗失声明
// is published as justice requires and its medium and date recorded, which
// voids the lost certificate; the office applies for 补发; justice issues a
// new certificate with a new number, linked to the one it replaces; the
// holder's receipt of it starts the Art. 14 month like any 领取.
//
// The Ministry certificate follows the same path with 自治区 HR acting and
// the Ministry issuing (Art. 19 second paragraph, Art. 3): a second table,
// PathMinistryLoss, built by the same function, as the application path
// does. Each table refuses, at opening, a certificate of the other family.
//
// Decided where the regulation is silent (rules.md):
//   - A certificate found again before the notice is published goes back to
//     its holder and the case ends (found); after the notice it is void for
//     good, even if found.
//   - The reissued certificate keeps the lost one's kind, 执法类别, 执法区域
//     and validity unless the issuer records otherwise; its 执法类别 can only
//     be the lost one's or fewer (Art. 6: new categories need a new proposal).
//   - No 补发 for someone leaving or gone (Art. 18): the office closes the case
//     instead, with a reason; the same close ends a case whose holder no
//     longer needs a certificate.
const (
	PathLoss         PathName = "loss"
	PathMinistryLoss PathName = "ministry_loss"
)

// Loss states.
const (
	// LossReported: the loss is reported, the certificate is lost; the
	// 遗失声明 is to be published.
	LossReported State = "reported"
	// LossVoided: the notice is published, the lost certificate void; the
	// office is to apply for 补发.
	LossVoided State = "voided"
	// LossSubmitted: the 补发申请 is with the issuer.
	LossSubmitted State = "reissue_submitted"
	// LossReissued: the issuer issued the new certificate; not yet handed over.
	LossReissued State = "reissued"
	// LossReceived: the holder signed for the new certificate. Final.
	LossReceived State = "received"
	// LossFound: the certificate turned up before the notice. Final.
	LossFound State = "found"
	// LossRefused: the issuer refused the 补发. Final.
	LossRefused State = "refused"
	// LossClosed: closed without 补发 (the holder is leaving, say). Final.
	LossClosed State = "closed"
)

// Loss events. The issuer's decision and the receipt reuse the application
// path's EvIssue, EvRefuse and EvRecordReceipt.
const (
	// EvPublishNotice records the published 遗失声明 and voids the certificate.
	EvPublishNotice EventName = "publish_notice"
	// EvFound records that the lost certificate turned up before the notice.
	EvFound EventName = "found"
	// EvApplyReissue sends the 补发申请 to the issuer.
	EvApplyReissue EventName = "apply_reissue"
	// EvCloseLoss ends the case without 补发.
	EvCloseLoss EventName = "close"
	// EvEndLoss is certflow's own (EventDef.Follows): the holder's
	// departure completed before 补发 was applied for.
	EvEndLoss EventName = "end_loss"
)

// Loss tasks. The issuer's decision and the receipt reuse the application
// path's TaskRecordDecision and TaskRecordReceipt.
const (
	// TaskPublishLossNotice: have the 遗失声明 published and record it.
	TaskPublishLossNotice TaskKind = "publish_loss_notice"
	// TaskApplyReissue: apply to the issuer for 补发.
	TaskApplyReissue TaskKind = "apply_reissue"
)

// LossData is the case data of a loss. The case's CertificateID is the lost
// certificate until the new one is issued, then the new one (the store
// repoints it); LostCertificateID keeps the lost one.
type LossData struct {
	LostCertificateID int64           `json:"lost_certificate_id"`
	LostNumber        string          `json:"lost_number"`
	Kind              CertificateKind `json:"kind"`
	LostOn            Date            `json:"lost_on"`
	LostPlace         string          `json:"lost_place,omitempty"`
	Circumstances     string          `json:"circumstances"`
	ReportedOn        Date            `json:"reported_on"`
	// ReportedByHolder: the holder reported it themselves, not the office for them.
	ReportedByHolder bool   `json:"reported_by_holder"`
	NoticeMedium     string `json:"notice_medium,omitempty"` // where the 遗失声明 appeared
	NoticeOn         Date   `json:"notice_on,omitempty"`
	FoundOn          Date   `json:"found_on,omitempty"`
	SubmittedOn      Date   `json:"submitted_on,omitempty"`
	NewCertificateID int64  `json:"new_certificate_id,omitempty"`
	NewNumber        string `json:"new_number,omitempty"`
	ReceivedOn       Date   `json:"received_on,omitempty"`
}

// LossReport is the input of a loss case's open event.
type LossReport struct {
	LostOn        Date   `json:"lost_on"`
	LostPlace     string `json:"lost_place,omitempty"`
	Circumstances string `json:"circumstances"`
}

// LossNotice is the input of publish_notice: where and when the 遗失声明 appeared.
type LossNotice struct {
	Medium      string `json:"medium"`
	PublishedOn Date   `json:"published_on"`
}

// lossPath is the loss and reissue path of justice-issued certificates.
func lossPath() Path { return lossPathFor(FamilyJustice) }

// ministryLossPath is the loss and reissue path of the Ministry certificate,
// run by 自治区 HR (Art. 19 second paragraph).
func ministryLossPath() Path { return lossPathFor(FamilyMinistry) }

func lossPathFor(family Family) Path {
	var (
		name     = PathLoss
		title    = "行政执法证件遗失补发"
		office   = RoleLegalClerk
		deciders = []Role{RoleJustice, RoleLegalClerk}
		decider  = RoleJustice
		issuer   = "司法部门"
		justice  = true // the 司法部门 liaison sees the case once it reached justice
	)
	if family == FamilyMinistry {
		name, title, office = PathMinistryLoss, "应急管理部行政执法证遗失补发", RoleHR
		deciders, decider, issuer, justice = []Role{RoleHR}, RoleHR, "应急管理部", false
	}
	timely := func(t *Transition) Date { return t.DueBase.AddWorkingDays(t.Snap.Settings.TimelyWorkingDays) }
	return Path{
		Name:       name,
		Title:      title,
		Initial:    LossReported,
		Subject:    SubjectCertificate,
		Department: DeptOfCertificate,
		States: []StateDef{
			{Name: LossReported, Label: "已报告遗失，待发布遗失声明"},
			{Name: LossVoided, Label: "已声明作废，待申请补发"},
			{Name: LossSubmitted, Label: "已向" + issuer + "申请补发", Justice: justice},
			{Name: LossReissued, Label: "已补发，待领取", Justice: justice},
			{Name: LossReceived, Label: "已领取新证", Final: true, Justice: justice},
			{Name: LossFound, Label: "证件已找回", Final: true},
			{Name: LossRefused, Label: issuer + "不予补发", Final: true, Justice: justice},
			{Name: LossClosed, Label: "未申请补发，已办结", Final: true},
		},
		Events: []EventDef{
			{
				Name: EvOpen, Label: "报告遗失", From: []State{StateNew}, To: LossReported,
				Actors: []Role{office}, ByHolder: true, Effect: reportLoss,
				Guards: []Guard{guardLossFamily(family), guardLossInHand},
				Opens:  []TaskSpec{{Kind: TaskPublishLossNotice, Role: office, Due: timely}},
				Docs:   []DocSpec{{Kind: DocLossReport, Article: "Art. 19"}},
			},
			{
				Name: EvPublishNotice, Label: "登记遗失声明", From: []State{LossReported}, To: LossVoided,
				Actors: []Role{office}, Effect: recordLossNotice,
				Closes: []TaskKind{TaskPublishLossNotice},
				Opens:  []TaskSpec{{Kind: TaskApplyReissue, Role: office, Due: timely}},
				Docs:   []DocSpec{{Kind: DocLossNotice, Article: "Art. 19"}},
			},
			{
				Name: EvFound, Label: "证件已找回", From: []State{LossReported}, To: LossFound,
				Actors: []Role{office}, Effect: recordFound,
				Closes: []TaskKind{TaskPublishLossNotice},
			},
			{
				Name: EvApplyReissue, Label: "申请补发", From: []State{LossVoided}, To: LossSubmitted,
				Actors: []Role{office}, Effect: applyReissue, Guards: []Guard{guardReissueInService},
				Closes: []TaskKind{TaskApplyReissue},
				Opens:  []TaskSpec{{Kind: TaskRecordDecision, Role: decider}},
				Docs:   []DocSpec{{Kind: DocReissueApplication, Article: "Art. 19"}},
			},
			{
				// The holder left before 补发 was applied for: nobody will
				// apply, so certflow closes the case in the departure's
				// transaction.
				Name: EvEndLoss, Label: "结案（持证人已离岗）", From: []State{LossVoided}, To: LossClosed,
				Follows: FollowHolderDeparted, Guards: []Guard{guardHolderGone},
				Closes: []TaskKind{TaskApplyReissue},
			},
			{
				Name: EvCloseLoss, Label: "不申请补发，办结", From: []State{LossVoided}, To: LossClosed,
				Actors: []Role{office}, CommentRequired: true,
				Closes: []TaskKind{TaskApplyReissue},
			},
			{
				Name: EvIssue, Label: issuer + "补发新证", From: []State{LossSubmitted}, To: LossReissued,
				Actors: deciders, Effect: reissueCertificate(issuer), Guards: []Guard{guardReissueInService},
				Closes: []TaskKind{TaskRecordDecision},
				Opens:  []TaskSpec{{Kind: TaskRecordReceipt, Role: office}},
			},
			{
				Name: EvRefuse, Label: issuer + "不予补发", From: []State{LossSubmitted}, To: LossRefused,
				Actors: deciders, CommentRequired: true,
				Closes: []TaskKind{TaskRecordDecision},
			},
			{
				Name: EvRecordReceipt, Label: "登记领取新证", From: []State{LossReissued}, To: LossReceived,
				Actors: []Role{office}, Effect: receiveReissued, Guards: []Guard{guardReceiptInService},
				Closes: []TaskKind{TaskRecordReceipt},
				Docs:   []DocSpec{{Kind: DocReceipt, Article: "Art. 14"}},
			},
		},
	}
}

// guardLossFamily keeps each certificate on its own family's table: the
// Ministry certificate is 自治区 HR's (Art. 19 second paragraph).
func guardLossFamily(family Family) Guard {
	return Guard{Article: "Art. 19", Check: func(s *Snapshot) string {
		c := s.Certificate
		switch {
		case c == nil || c.Kind.Family() == family:
			return ""
		case family == FamilyJustice:
			return "a lost 应急管理部行政执法证 is handled by 自治区 HR under the Ministry's rules: open " + string(PathMinistryLoss)
		}
		return c.Kind.Label() + " is handled by the legal office that manages it: open " + string(PathLoss)
	}}
}

// guardLossInHand: only a certificate in its holder's hands can be lost; a
// suspended one is held by the department (Art. 17), a returned, cancelled
// or voided one is no longer the holder's.
var guardLossInHand = Guard{Article: "Art. 19", Check: func(s *Snapshot) string {
	if c := s.Certificate; c != nil && c.State != CertReceived {
		return fmt.Sprintf("%s No. %s is %s, not in its holder's hands", c.Kind.Label(), c.Number, c.State)
	}
	return ""
}}

// guardHolderGone: the holder has departed (Art. 18): no 补发 will be
// applied for.
var guardHolderGone = Guard{Article: "Art. 18", Check: func(s *Snapshot) string {
	if s.Person.Employment != EmploymentDeparted {
		return "the holder has not departed (" + string(s.Person.Employment) + ")"
	}
	return ""
}}

// guardReissueInService: no 补发 for someone leaving or gone; their
// certificates are being recovered (Art. 18).
var guardReissueInService = Guard{Article: "Art. 18", Check: func(s *Snapshot) string {
	if s.Person.Employment != EmploymentActive {
		return "the holder is " + string(s.Person.Employment) + ": no 补发; close the case"
	}
	return ""
}}

// inputDate validates an input date: today when unset, never in the future.
func inputDate(field string, d, today Date) (Date, error) {
	if d.IsZero() {
		return today, nil
	}
	switch {
	case d.After(today):
		return d, Invalid(field, "lies in the future")
	case d.Before(MeasuresEffective):
		return d, Invalid(field, "before "+MeasuresEffective.String()+", when the measures took effect (Art. 21)")
	}
	return d, nil
}

// MeasuresEffective is the day the measures took effect (Art. 21): no act
// they govern is dated earlier, so an earlier date is a typing error.
var MeasuresEffective = MustDate("2020-07-01")

// inputText trims s and checks it is present (when required) and at most max
// characters long.
func inputText(field, s string, required bool, max int) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		return s, Invalid(field, "required")
	case utf8.RuneCountInString(s) > max:
		return s, Invalid(field, fmt.Sprintf("longer than %d characters", max))
	}
	return s, nil
}

func reportLoss(t *Transition) error {
	var in LossReport
	if err := decodeInput(t.Input, &in); err != nil {
		return err
	}
	cert := t.Snap.Certificate
	if cert == nil {
		return fmt.Errorf("workflow: loss case without a certificate")
	}
	var err error
	if in.Circumstances, err = inputText("circumstances", in.Circumstances, true, 2000); err != nil {
		return err
	}
	if in.LostPlace, err = inputText("lost_place", in.LostPlace, false, 200); err != nil {
		return err
	}
	if in.LostOn.IsZero() {
		return Invalid("lost_on", "required: the day the certificate was lost")
	}
	if in.LostOn, err = inputDate("lost_on", in.LostOn, t.Snap.Today); err != nil {
		return err
	}
	if in.LostOn.Before(cert.IssuedOn) {
		return Invalid("lost_on", "before the certificate was issued ("+cert.IssuedOn.String()+")")
	}
	return updateData(t, func(d *LossData) error {
		*d = LossData{
			LostCertificateID: cert.ID, LostNumber: cert.Number, Kind: cert.Kind,
			LostOn: in.LostOn, LostPlace: in.LostPlace, Circumstances: in.Circumstances, ReportedOn: t.Snap.Today,
			ReportedByHolder: t.Snap.Actor.PersonID != 0 && t.Snap.Actor.PersonID == cert.PersonID,
		}
		t.CertificateChange = &CertificateChange{CertificateID: cert.ID, Event: CertEventLose}
		return nil
	})
}

func recordLossNotice(t *Transition) error {
	var in LossNotice
	if err := decodeInput(t.Input, &in); err != nil {
		return err
	}
	var err error
	if in.Medium, err = inputText("medium", in.Medium, true, 200); err != nil {
		return err
	}
	if in.PublishedOn.IsZero() {
		return Invalid("published_on", "required: the day the 遗失声明 appeared")
	}
	if in.PublishedOn, err = inputDate("published_on", in.PublishedOn, t.Snap.Today); err != nil {
		return err
	}
	return updateData(t, func(d *LossData) error {
		if in.PublishedOn.Before(d.LostOn) {
			return Invalid("published_on", "before the loss ("+d.LostOn.String()+")")
		}
		d.NoticeMedium, d.NoticeOn = in.Medium, in.PublishedOn
		t.DueBase = in.PublishedOn
		t.CertificateChange = &CertificateChange{CertificateID: d.LostCertificateID, Event: CertEventVoid}
		return nil
	})
}

func recordFound(t *Transition) error {
	var in struct {
		FoundOn Date `json:"found_on"`
	}
	if err := decodeInput(t.Input, &in); err != nil {
		return err
	}
	found, err := inputDate("found_on", in.FoundOn, t.Snap.Today)
	if err != nil {
		return err
	}
	return updateData(t, func(d *LossData) error {
		if found.Before(d.LostOn) {
			return Invalid("found_on", "before the loss ("+d.LostOn.String()+")")
		}
		d.FoundOn = found
		t.CertificateChange = &CertificateChange{CertificateID: d.LostCertificateID, Event: CertEventRecovery}
		return nil
	})
}

func applyReissue(t *Transition) error {
	var in struct {
		SubmittedOn Date `json:"submitted_on"`
	}
	if err := decodeInput(t.Input, &in); err != nil {
		return err
	}
	on, err := inputDate("submitted_on", in.SubmittedOn, t.Snap.Today)
	if err != nil {
		return err
	}
	return updateData(t, func(d *LossData) error {
		if on.Before(d.NoticeOn) {
			return Invalid("submitted_on", "before the 遗失声明 ("+d.NoticeOn.String()+")")
		}
		d.SubmittedOn = on
		return nil
	})
}

// reissueCertificate records the issuer's 补发: a new certificate with a new
// number that Replaces the lost one.
func reissueCertificate(issuer string) func(*Transition) error {
	return func(t *Transition) error {
		var in IssueInput
		if err := decodeInput(t.Input, &in); err != nil {
			return err
		}
		return updateData(t, func(d *LossData) error {
			old := t.Snap.certificateByID(d.LostCertificateID)
			if old == nil {
				return fmt.Errorf("workflow: loss case %d: lost certificate %d not found", t.Snap.Case.ID, d.LostCertificateID)
			}
			in.Number = strings.TrimSpace(in.Number)
			switch {
			case in.Number == "":
				return Invalid("number", "the new certificate's number is required")
			case len(in.Number) > 64:
				return Invalid("number", "longer than 64 characters")
			case in.Number == old.Number:
				return Invalid("number", "a reissued certificate carries a new number, not the lost one's (Art. 19)")
			}
			var err error
			if in.IssuedOn, err = inputDate("issued_on", in.IssuedOn, t.Snap.Today); err != nil {
				return err
			}
			if in.IssuedOn.Before(d.NoticeOn) {
				return Invalid("issued_on", "before the lost certificate was declared void ("+d.NoticeOn.String()+")")
			}
			if in.ValidUntil.IsZero() {
				in.ValidUntil = old.ValidUntil
			}
			if err := checkValidity(in.ValidUntil, in.IssuedOn, t.Snap.Today); err != nil {
				return err
			}
			cats := old.Categories
			if in.Categories != nil {
				if cats, err = narrowedCategories("categories", in.Categories, old.Categories,
					"a reissued certificate carries some or all of the lost one's 执法类别, never others"); err != nil {
					return err
				}
			}
			if in.Issuer, err = inputText("issuer", in.Issuer, false, MaxIssuerLength); err != nil {
				return err
			}
			if in.Issuer == "" {
				in.Issuer = old.Issuer
			}
			if in.Issuer == "" {
				in.Issuer = issuer
			}
			d.NewNumber = in.Number
			t.NewCertificate = &Certificate{
				PersonID: old.PersonID, Kind: old.Kind, Number: in.Number, Issuer: in.Issuer,
				Categories: cats, Region: old.Region, IssuedOn: in.IssuedOn, ValidUntil: in.ValidUntil,
				State: CertIssued, Replaces: old.ID, CaseID: t.Snap.Case.ID, OrgUnitID: old.OrgUnitID,
			}
			return nil
		})
	}
}

// receiveReissued records the holder's receipt of the new certificate,
// which starts the Art. 14 month: it opens the platform-entry case.
func receiveReissued(t *Transition) error {
	var in struct {
		ReceivedOn Date `json:"received_on"`
	}
	if err := decodeInput(t.Input, &in); err != nil {
		return err
	}
	on, err := inputDate("received_on", in.ReceivedOn, t.Snap.Today)
	if err != nil {
		return err
	}
	return updateData(t, func(d *LossData) error {
		cert := t.Snap.Certificate // the store pointed the case at the new certificate when it was issued
		if cert == nil || cert.ID == d.LostCertificateID {
			return fmt.Errorf("workflow: loss case %d has no reissued certificate", t.Snap.Case.ID)
		}
		if on.Before(cert.IssuedOn) {
			return Invalid("received_on", "before the issue date "+cert.IssuedOn.String())
		}
		d.NewCertificateID, d.ReceivedOn = cert.ID, on
		t.CertificateChange = &CertificateChange{CertificateID: cert.ID, Event: CertEventReceive, ReceivedOn: on}
		t.Spawn = append(t.Spawn, PlatformEntryOnReceipt(cert.PersonID, cert.ID, on))
		return nil
	})
}
