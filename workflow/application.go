package workflow

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Application path (Art. 5, 6, 9, 10, 13, 14): the legal office (or, for the
// Ministry certificate, 自治区 HR) prepares the 登记表; the principal leader
// approves, sends back or rejects; the office submits to the issuer; the
// issuer's decision is recorded; the holder's receipt opens the Art. 14 tasks.
const (
	PathApplication         PathName = "application"
	PathMinistryApplication PathName = "ministry_application"
)

// Application states.
const (
	AppDraft           State = "draft"
	AppPendingApproval State = "pending_approval"
	AppApproved        State = "approved"
	AppSubmitted       State = "submitted"
	AppIssued          State = "issued"
	AppReceived        State = "received"
	AppRejected        State = "rejected"
	AppRefused         State = "refused"
	AppWithdrawn       State = "withdrawn"
	// AppReturnedUnreceived: the issued certificate was taken back before
	// its holder received it (their departure).
	AppReturnedUnreceived State = "returned_unreceived"
)

// Application events.
const (
	EvSubmitForApproval EventName = "submit_for_approval"
	EvApprove           EventName = "approve"
	EvSendBack          EventName = "send_back"
	EvReject            EventName = "reject"
	EvSubmitToIssuer    EventName = "submit_to_issuer"
	EvIssue             EventName = "issue"
	EvRefuse            EventName = "refuse"
	EvRecordReceipt     EventName = "record_receipt"
	EvWithdraw          EventName = "withdraw"
	// EvEndUnreceived: certflow's own (EventDef.Follows), when another
	// case takes back a certificate issued but not yet received.
	EvEndUnreceived EventName = "end_unreceived"
)

// Application tasks.
const (
	TaskApprove           TaskKind = "approve_application"
	TaskRevise            TaskKind = "revise_application"
	TaskSubmitToIssuer    TaskKind = "submit_to_issuer"
	TaskRecordDecision    TaskKind = "record_issuer_decision"
	TaskRecordReceipt     TaskKind = "record_receipt"
	TaskPlatformEmergency TaskKind = "platform_entry_emergency" // 自治区应急管理信息平台 (Art. 14)
	TaskPlatformRandom    TaskKind = "platform_entry_random"    // 自治区“双随机一公开”监管平台 (Art. 14)
)

// Documents of the application path (rules.md, documents table).
const (
	DocRegistrationForm DocKind = "registration_form" // 行政执法证件登记表
	DocCategoryProposal DocKind = "category_proposal" // 执法类别建议审批表
	DocReceipt          DocKind = "receipt_form"      // 证件领取签收单
)

// ApplicationData is the case data of an application.
type ApplicationData struct {
	Kind                CertificateKind `json:"kind"`
	ProposedCategories  []Category      `json:"proposed_categories"`
	AgreedCategories    []Category      `json:"agreed_categories,omitempty"`
	ConfirmedCategories []Category      `json:"confirmed_categories,omitempty"`
	Region              string          `json:"region,omitempty"`       // 执法区域
	Specialities        string          `json:"specialities,omitempty"` // 擅长执法领域 (Art. 14(5))
	SubmittedOn         Date            `json:"submitted_on,omitempty"`
	CertificateNumber   string          `json:"certificate_number,omitempty"`
	ReceivedOn          Date            `json:"received_on,omitempty"`
}

// ApplicationInput is what the preparer supplies when opening the case and
// may correct when submitting for approval.
type ApplicationInput struct {
	Kind               CertificateKind `json:"kind,omitempty"`
	ProposedCategories []Category      `json:"proposed_categories,omitempty"`
	Region             string          `json:"region,omitempty"`
	Specialities       string          `json:"specialities,omitempty"`
}

// applyTo merges in into d, validating it: a kind must be one family
// issues, the family of the case's path. Which of them Art. 5 gives the
// person is a guard at submission (guardKind), where the draft can still
// be corrected.
func (in ApplicationInput) applyTo(d *ApplicationData, family Family) error {
	if in.Kind != "" {
		kinds := family.Kinds()
		if !slices.Contains(kinds, in.Kind) {
			allowed := make([]string, len(kinds))
			for i, k := range kinds {
				allowed[i] = fmt.Sprintf("%s (%s)", k, k.Label())
			}
			return Invalid("kind", fmt.Sprintf("%q is not a certificate kind this path applies for: one of %s", in.Kind, strings.Join(allowed, ", ")))
		}
		d.Kind = in.Kind
	}
	if in.ProposedCategories != nil {
		cats, err := validCategories("proposed_categories", in.ProposedCategories)
		if err != nil {
			return err
		}
		d.ProposedCategories = cats
	}
	if in.Region != "" {
		d.Region = strings.TrimSpace(in.Region)
	}
	if in.Specialities != "" {
		d.Specialities = strings.TrimSpace(in.Specialities)
	}
	return nil
}

// validCategories checks a list of 执法类别: each known (Art. 6), and
// listed once — a category named twice is a slip of the form, not a
// request.
func validCategories(field string, cats []Category) ([]Category, error) {
	out := make([]Category, 0, len(cats))
	for _, c := range cats {
		if !c.Valid() {
			return nil, Invalid(field, fmt.Sprintf("unknown 执法类别 %q (Art. 6: 安全生产监督管理, 消防监督管理, 应急管理)", c))
		}
		if slices.Contains(out, c) {
			return nil, Invalid(field, fmt.Sprintf("执法类别 %q is listed twice", c))
		}
		out = append(out, c)
	}
	return out, nil
}

// narrowedCategories checks the 执法类别 a decision keeps of those before
// it (from): at least one, each valid and listed once — an input error —
// and none outside from, which Art. 6 refuses with condition. An empty
// list is not "none of them": the decision that keeps none is a refusal,
// which has its own event.
func narrowedCategories(field string, cats, from []Category, condition string) ([]Category, error) {
	if len(cats) == 0 {
		return nil, Invalid(field, "name at least one 执法类别, or leave it out to keep them all ("+joinCategories(from)+")")
	}
	cats, err := validCategories(field, cats)
	if err != nil {
		return nil, err
	}
	if !subset(cats, from) {
		return nil, &GuardError{[]Violation{{"Art. 6", condition}}}
	}
	return cats, nil
}

func joinCategories(cats []Category) string {
	s := make([]string, len(cats))
	for i, c := range cats {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

func subset(a, b []Category) bool {
	for _, c := range a {
		if !slices.Contains(b, c) {
			return false
		}
	}
	return true
}

// decideKind applies Art. 5: the certificate kind a person's unit receives
// from justice, or "" when Art. 5 assigns none.
func decideKind(unit *OrgUnit, dept *OrgUnit) CertificateKind {
	switch unit.Kind {
	case UnitLeadership:
		if dept.LeadershipKind != "" {
			return dept.LeadershipKind
		}
		return KindSupervision
	case UnitLegal:
		return KindSupervision
	case UnitBusiness, UnitInstitution, UnitTownship:
		return KindEnforcement
	}
	return ""
}

func unitLabel(k UnitKind) string {
	switch k {
	case UnitLeadership:
		return "领导班子"
	case UnitLegal:
		return "法制机构"
	case UnitHR:
		return "组织人事机构"
	case UnitBusiness:
		return "业务机构"
	case UnitInstitution:
		return "直属事业单位"
	case UnitTownship:
		return "派出机关"
	case UnitDepartment:
		return "部门本级"
	}
	return string(k)
}

func (s *Snapshot) passed(k TrainingKind) bool {
	return slices.ContainsFunc(s.Trainings, func(t Training) bool { return t.Kind == k && t.Passed })
}

// Eligibility guards, shared by the events that must re-check them.
var (
	// guardIssueInService: justice's 核发 is not recorded for someone leaving
	// or gone, as no 补发 is (loss.go): a certificate issued to them would
	// be out with nobody to recover it once the departure completes
	// (Art. 18). The office records justice's decision as 不予核发 instead,
	// or waits for a withdrawn departure.
	guardIssueInService = Guard{Article: "Art. 18", Check: func(s *Snapshot) string {
		if s.Person.Employment != EmploymentActive {
			return "the applicant is " + string(s.Person.Employment) + ": no certificate is issued; record 不予核发"
		}
		return ""
	}}
	// guardReceiptInService: a certificate issued to someone since
	// leaving is not handed over (领取): it stays with the office and is
	// returned on the departure (Art. 18), and no platform entry opens
	// for an officer on the way out.
	guardReceiptInService = Guard{Article: "Art. 18", Check: func(s *Snapshot) string {
		if s.Person.Employment != EmploymentActive {
			return "the holder is " + string(s.Person.Employment) + ": the certificate is not handed over; record its return on the departure"
		}
		return ""
	}}
	// guardOpenNotLeaving: no application is opened for someone whose
	// departure is open: their certificates are being returned (Art. 18),
	// and a new one would be out with nobody to recover it.
	guardOpenNotLeaving = Guard{Article: "Art. 18", Check: func(s *Snapshot) string {
		if s.Person.Employment == EmploymentLeaving {
			return "the person is leaving (a departure is open): no certificate is applied for while theirs are being returned"
		}
		return ""
	}}
	// guardTakenBack: the case's certificate was taken back (Art. 18).
	guardTakenBack = Guard{Article: "Art. 18", Check: func(s *Snapshot) string {
		if c := s.Certificate; c == nil || !c.TakenBack() {
			return "the certificate has not been taken back"
		}
		return ""
	}}
	guardStaffed = Guard{Article: "Art. 9(1)(1)", Check: func(s *Snapshot) string {
		if !s.Person.Staffed {
			return "not 在编 in the department, a public institution or a 派出机关"
		}
		return ""
	}}
	guardEmergencyTraining = Guard{Article: "Art. 9(1)(2)", Check: func(s *Snapshot) string {
		if !s.passed(TrainingEmergency) {
			return "no passed 应急管理业务培训 exam"
		}
		return ""
	}}
	guardLawTraining = Guard{Article: "Art. 9(1)(3)", Check: func(s *Snapshot) string {
		if !s.passed(TrainingLaw) {
			return "no passed 综合法律知识培训 by 司法部门"
		}
		return ""
	}}
	guardEducation = Guard{Article: "Art. 9(1)(4)", Check: func(s *Snapshot) string {
		if !s.Person.Education.AtLeastCollege() {
			return "education below 大专"
		}
		return ""
	}}
	guardPost = Guard{Article: "Art. 9(1)(4)", Check: func(s *Snapshot) string {
		if !s.Person.Post {
			return "not working in an enforcement post"
		}
		return ""
	}}
	guardTownshipTraining = Guard{Article: "Art. 10", Check: func(s *Snapshot) string {
		if s.Unit.Kind == UnitTownship && !s.passed(TrainingEmergency) {
			return "派出机关 staff may apply only after passing 应急管理业务培训"
		}
		return ""
	}}
	guardKind = Guard{Article: "Art. 5", Check: func(s *Snapshot) string {
		want := decideKind(&s.Unit, &s.Department)
		if want == "" {
			return unitLabel(s.Unit.Kind) + " staff are given no justice-issued certificate"
		}
		if k := s.application().Kind; k != want {
			return fmt.Sprintf("%s staff receive %s, not %s", unitLabel(s.Unit.Kind), want.Label(), k.Label())
		}
		return ""
	}}
	guardTownshipByCounty = Guard{Article: "Art. 5", Check: func(s *Snapshot) string {
		if s.Unit.Kind == UnitTownship && s.Department.Level != LevelCounty {
			return "派出机关 staff are applied for by the county department"
		}
		return ""
	}}
	guardCategories = Guard{Article: "Art. 6", Check: func(s *Snapshot) string {
		if len(s.application().ProposedCategories) == 0 {
			return "no 执法类别 proposed by the legal office"
		}
		return ""
	}}
	guardNoOutstanding = Guard{Article: "Art. 4", Check: func(s *Snapshot) string {
		fam := s.application().Kind.Family()
		for _, c := range s.Certificates {
			if c.Kind.Family() == fam && c.Outstanding() && c.CaseID != s.Case.ID {
				return fmt.Sprintf("already holds %s No. %s (%s)", c.Kind.Label(), c.Number, c.State)
			}
		}
		return ""
	}}
	guardMinistryStaffed = Guard{Article: "Art. 9(2)(1)", Check: func(s *Snapshot) string {
		switch {
		case s.Unit.Kind == UnitTownship:
			return "派出机关 staff are not eligible for 应急管理部行政执法证"
		case !s.Person.Staffed:
			return "not 在编 in the department or a public institution"
		}
		return ""
	}}
	guardMinistryTraining = Guard{Article: "Art. 9(2)(2)", Check: func(s *Snapshot) string {
		if !s.passed(TrainingEmergency) {
			return "no passed 应急管理业务培训 assessment"
		}
		return ""
	}}
	guardMinistryKind = Guard{Article: "Art. 13", Check: func(s *Snapshot) string {
		if s.application().Kind != KindMinistry {
			return "the Ministry path applies only for 应急管理部行政执法证"
		}
		return ""
	}}
)

// application decodes the case data; the engine validated it on entry.
func (s *Snapshot) application() *ApplicationData {
	if s.appData == nil {
		s.appData = new(ApplicationData)
		_ = json.Unmarshal(s.Case.Data, s.appData)
	}
	return s.appData
}

// guardOpenNotDeparted: no application is opened for someone who has
// left (退休、辞职、辞退、调离): they are no longer 在编 in the department,
// the first condition of Art. 9 — its first paragraph for justice's
// certificates, its second for the Ministry's.
func guardOpenNotDeparted(family Family) Guard {
	article := "Art. 9(1)(1)"
	if family == FamilyMinistry {
		article = "Art. 9(2)(1)"
	}
	return Guard{Article: article, Check: func(s *Snapshot) string {
		if s.Person.Employment == EmploymentDeparted {
			return "the person has departed (退休、辞职、辞退或调离): no longer 在编 in the department"
		}
		return ""
	}}
}

func applicationPath(family Family) Path {
	var (
		name        = PathApplication
		title       = "行政执法证件申领"
		office      = RoleLegalClerk
		deciders    = []Role{RoleJustice, RoleLegalClerk}
		decideRole  = RoleJustice
		eligibility = []Guard{guardOpenNotDeparted(family), guardOpenNotLeaving, guardKind, guardTownshipByCounty, guardStaffed, guardEmergencyTraining,
			guardLawTraining, guardEducation, guardPost, guardTownshipTraining, guardCategories, guardNoOutstanding}
		issuer = "司法部门"
		dept   = DeptOfPerson
	)
	if family == FamilyMinistry {
		name, title, office, dept = PathMinistryApplication, "应急管理部行政执法证申领", RoleHR, DeptRegion
		deciders, decideRole = []Role{RoleHR}, RoleHR
		eligibility = []Guard{guardOpenNotDeparted(family), guardOpenNotLeaving, guardMinistryKind, guardMinistryStaffed, guardMinistryTraining, guardCategories, guardNoOutstanding}
		issuer = "应急管理部"
	}
	return Path{
		Name:       name,
		Title:      title,
		Initial:    AppDraft,
		Subject:    SubjectPerson,
		Department: dept,
		OneOpen:    "Art. 4",
		States: []StateDef{
			{AppDraft, "制表中", false, false},
			{AppPendingApproval, "待主要负责人审批", false, false},
			{AppApproved, "已同意，待报送" + issuer, false, false},
			{AppSubmitted, "已报送" + issuer, false, true},
			{AppIssued, "已核发，待领取", false, true},
			{AppReceived, "已领取", true, true},
			{AppRejected, "主要负责人不同意", true, false},
			{AppRefused, issuer + "不予核发", true, true},
			{AppWithdrawn, "已撤回", true, false},
			{AppReturnedUnreceived, "未领取即交回", true, true},
		},
		Events: []EventDef{
			{
				Name: EvOpen, Label: "制作登记表", From: []State{StateNew}, To: AppDraft,
				Actors: []Role{office}, Effect: openApplication(family),
				Guards: []Guard{guardOpenNotDeparted(family), guardOpenNotLeaving},
			},
			{
				Name: EvSubmitForApproval, Label: "提交审批", From: []State{AppDraft}, To: AppPendingApproval,
				Actors: []Role{office}, Guards: eligibility, Effect: applyApplicationInput(family), Prepares: true,
				Opens:  []TaskSpec{{Kind: TaskApprove, Role: RolePrincipal}},
				Closes: []TaskKind{TaskRevise},
				Docs:   []DocSpec{{DocRegistrationForm, "Art. 13"}, {DocCategoryProposal, "Art. 6"}},
			},
			{
				Name: EvApprove, Label: "同意", From: []State{AppPendingApproval}, To: AppApproved,
				Actors: []Role{RolePrincipal}, NotByPreparer: true, Guards: eligibility, Effect: agreeCategories,
				Opens:  []TaskSpec{{Kind: TaskSubmitToIssuer, Role: office}},
				Closes: []TaskKind{TaskApprove},
				// The 审批表 again, with the categories the leader agreed:
				// the one that goes to the issuer (Art. 6).
				Docs: []DocSpec{{DocCategoryProposal, "Art. 6"}},
			},
			{
				Name: EvSendBack, Label: "退回修改", From: []State{AppPendingApproval}, To: AppDraft,
				Actors: []Role{RolePrincipal}, NotByPreparer: true, CommentRequired: true,
				Opens:  []TaskSpec{{Kind: TaskRevise, Role: office, ToPreparer: true}},
				Closes: []TaskKind{TaskApprove},
			},
			{
				Name: EvReject, Label: "不同意", From: []State{AppPendingApproval}, To: AppRejected,
				Actors: []Role{RolePrincipal}, NotByPreparer: true, CommentRequired: true,
				Closes: []TaskKind{TaskApprove},
			},
			{
				Name: EvWithdraw, Label: "撤回", From: []State{AppDraft, AppPendingApproval}, To: AppWithdrawn,
				Actors: []Role{office}, ByPreparer: true, CommentRequired: true,
				Closes: []TaskKind{TaskApprove, TaskRevise},
			},
			{
				Name: EvSubmitToIssuer, Label: "报送" + issuer, From: []State{AppApproved}, To: AppSubmitted,
				Actors: []Role{office}, Effect: recordSubmission,
				Opens:  []TaskSpec{{Kind: TaskRecordDecision, Role: decideRole}},
				Closes: []TaskKind{TaskSubmitToIssuer},
			},
			{
				Name: EvIssue, Label: issuer + "核发", From: []State{AppSubmitted}, To: AppIssued,
				Actors: deciders, Effect: issueCertificate(issuer), Guards: []Guard{guardIssueInService, guardNoOutstanding},
				Opens:  []TaskSpec{{Kind: TaskRecordReceipt, Role: office}},
				Closes: []TaskKind{TaskRecordDecision},
			},
			{
				Name: EvRefuse, Label: issuer + "不予核发", From: []State{AppSubmitted}, To: AppRefused,
				Actors: deciders, CommentRequired: true,
				Closes: []TaskKind{TaskRecordDecision},
			},
			{
				// The holder's departure took back the certificate before
				// 领取: the receipt will never come.
				Name: EvEndUnreceived, Label: "结案（证件未领取即交回）", From: []State{AppIssued}, To: AppReturnedUnreceived,
				Follows: FollowCertificateReturned, Guards: []Guard{guardTakenBack},
				Closes: []TaskKind{TaskRecordReceipt},
			},
			{
				Name: EvRecordReceipt, Label: "登记领取", From: []State{AppIssued}, To: AppReceived,
				Actors: []Role{office}, Effect: recordReceipt, Guards: []Guard{guardReceiptInService},
				Closes: []TaskKind{TaskRecordReceipt},
				Docs:   []DocSpec{{DocReceipt, "Art. 14"}},
			},
		},
	}
}

// updateApplication decodes the case data, lets fn change it and stores it
// back on the transition.
func updateApplication(t *Transition, fn func(*ApplicationData) error) error {
	d := *t.Snap.application()
	if err := fn(&d); err != nil {
		return err
	}
	b, err := json.Marshal(&d)
	if err != nil {
		return err
	}
	t.Data = b
	*t.Snap.appData = d
	return nil
}

// openApplication records the preparer's input and, unless given, the
// kind Art. 5 (or Art. 13 for the Ministry path) assigns.
func openApplication(family Family) func(*Transition) error {
	return func(t *Transition) error {
		var in ApplicationInput
		if err := decodeInput(t.Input, &in); err != nil {
			return err
		}
		return updateApplication(t, func(d *ApplicationData) error {
			if err := in.applyTo(d, family); err != nil {
				return err
			}
			switch {
			case d.Kind != "":
			case family == FamilyMinistry:
				d.Kind = KindMinistry
			default:
				d.Kind = decideKind(&t.Snap.Unit, &t.Snap.Department)
			}
			return nil
		})
	}
}

// applyApplicationInput records the preparer's corrections on submission.
func applyApplicationInput(family Family) func(*Transition) error {
	return func(t *Transition) error {
		var in ApplicationInput
		if err := decodeInput(t.Input, &in); err != nil {
			return err
		}
		return updateApplication(t, func(d *ApplicationData) error { return in.applyTo(d, family) })
	}
}

func agreeCategories(t *Transition) error {
	var in struct {
		AgreedCategories []Category `json:"agreed_categories"`
	}
	if err := decodeInput(t.Input, &in); err != nil {
		return err
	}
	return updateApplication(t, func(d *ApplicationData) error {
		agreed := d.ProposedCategories
		if in.AgreedCategories != nil {
			cats, err := narrowedCategories("agreed_categories", in.AgreedCategories, d.ProposedCategories,
				"the principal leader agrees to some or all of the proposed 执法类别, never others")
			if err != nil {
				return err
			}
			agreed = cats
		}
		d.AgreedCategories = agreed
		return nil
	})
}

func recordSubmission(t *Transition) error {
	var in struct {
		SubmittedOn Date `json:"submitted_on"`
	}
	if err := decodeInput(t.Input, &in); err != nil {
		return err
	}
	var err error
	if in.SubmittedOn, err = inputDate("submitted_on", in.SubmittedOn, t.Snap.Today); err != nil {
		return err
	}
	return updateApplication(t, func(d *ApplicationData) error { d.SubmittedOn = in.SubmittedOn; return nil })
}

// IssueInput is the issuer's decision as recorded.
type IssueInput struct {
	Number     string     `json:"number"`
	IssuedOn   Date       `json:"issued_on"`
	ValidUntil Date       `json:"valid_until"`
	Categories []Category `json:"categories"` // confirmed (核定); default: as agreed
	Issuer     string     `json:"issuer"`
}

func issueCertificate(issuer string) func(*Transition) error {
	return func(t *Transition) error {
		var in IssueInput
		if err := decodeInput(t.Input, &in); err != nil {
			return err
		}
		in.Number = strings.TrimSpace(in.Number)
		switch {
		case in.Number == "":
			return Invalid("number", "the certificate number is required")
		case len(in.Number) > 64:
			return Invalid("number", "longer than 64 characters")
		case in.ValidUntil.IsZero():
			return Invalid("valid_until", "the validity (有效期) is required")
		}
		var err error
		if in.IssuedOn, err = inputDate("issued_on", in.IssuedOn, t.Snap.Today); err != nil {
			return err
		}
		if err := checkValidity(in.ValidUntil, in.IssuedOn, t.Snap.Today); err != nil {
			return err
		}
		if sub := t.Snap.application().SubmittedOn; !sub.IsZero() && in.IssuedOn.Before(sub) {
			return Invalid("issued_on", "before the submission to the issuer ("+sub.String()+")")
		}
		if in.Issuer, err = inputText("issuer", in.Issuer, false, MaxIssuerLength); err != nil {
			return err
		}
		if in.Issuer == "" {
			in.Issuer = issuer
		}
		return updateApplication(t, func(d *ApplicationData) error {
			confirmed := d.AgreedCategories
			if in.Categories != nil {
				cats, err := narrowedCategories("categories", in.Categories, d.AgreedCategories,
					"the issuer confirms (核定) some or all of the agreed 执法类别, never others")
				if err != nil {
					return err
				}
				confirmed = cats
			}
			d.ConfirmedCategories = confirmed
			d.CertificateNumber = in.Number
			region := d.Region
			if region == "" {
				region = t.Snap.Department.Name + "行政区域"
			}
			t.NewCertificate = &Certificate{
				PersonID: t.Snap.Person.ID, Kind: d.Kind, Number: in.Number, Issuer: in.Issuer,
				Categories: confirmed, Region: region, IssuedOn: in.IssuedOn, ValidUntil: in.ValidUntil,
				State: CertIssued, CaseID: t.Snap.Case.ID, OrgUnitID: t.Snap.Case.OrgUnitID,
			}
			return nil
		})
	}
}

func recordReceipt(t *Transition) error {
	var in struct {
		ReceivedOn Date `json:"received_on"`
	}
	if err := decodeInput(t.Input, &in); err != nil {
		return err
	}
	var err error
	if in.ReceivedOn, err = inputDate("received_on", in.ReceivedOn, t.Snap.Today); err != nil {
		return err
	}
	return updateApplication(t, func(d *ApplicationData) error {
		cert := t.Snap.certificateByID(t.Snap.Case.CertificateID)
		if cert == nil {
			return fmt.Errorf("workflow: application %d has no certificate", t.Snap.Case.ID)
		}
		if in.ReceivedOn.Before(cert.IssuedOn) {
			return Invalid("received_on", "before the issue date "+cert.IssuedOn.String())
		}
		d.ReceivedOn = in.ReceivedOn
		t.CertificateChange = &CertificateChange{CertificateID: cert.ID, Event: CertEventReceive, ReceivedOn: in.ReceivedOn}
		t.Spawn = append(t.Spawn, PlatformEntryOnReceipt(t.Snap.Person.ID, cert.ID, in.ReceivedOn))
		return nil
	})
}

func (s *Snapshot) certificateByID(id int64) *Certificate {
	for i := range s.Certificates {
		if s.Certificates[i].ID == id {
			return &s.Certificates[i]
		}
	}
	return nil
}
