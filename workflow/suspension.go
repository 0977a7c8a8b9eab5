package workflow

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Suspension and surrender (Art. 17): on a ground (1) 涂改、转借, (2) private
// gain or illegal use, (3) other breaches, the legal office proposes and
// the principal leader decides: 暂扣 (suspended, no fixed end; decided: a
// review every Settings.SuspensionReviewDays) ending in 恢复 or 交回 to
// justice, which cancels the certificate. Justice-issued certificates only:
// the Ministry certificate is handled by 自治区 HR under the Ministry's own
// rules (Art. 3), which the regulation does not spell out.
const PathSuspension PathName = "suspension"

// Suspension states.
const (
	SusProposed    State = "proposed"
	SusSuspended   State = "suspended"
	SusSurrendered State = "surrendered"
	SusRestored    State = "restored"
	SusCancelled   State = "cancelled"
	SusDismissed   State = "dismissed"
	SusEnded       State = "ended"
)

// Suspension events.
const (
	EvSuspend            EventName = "suspend"
	EvSurrender          EventName = "surrender"
	EvRestore            EventName = "restore"
	EvDismiss            EventName = "dismiss"
	EvReview             EventName = "review"
	EvRecordCancellation EventName = "record_cancellation"
	EvEndSuspension      EventName = "end_suspension"
)

// Suspension tasks.
const (
	TaskDecideSuspension   TaskKind = "decide_suspension"
	TaskReviewSuspension   TaskKind = "review_suspension"
	TaskRecordCancellation TaskKind = "record_cancellation"
)

// SuspensionData is the case data of a suspension.
type SuspensionData struct {
	Ground int    `json:"ground"` // Art. 17 item (1)–(3)
	Facts  string `json:"facts"`
	// Reviews counts the periodic reviews while suspended.
	Reviews int `json:"reviews,omitempty"`
}

// GroundText is the Chinese wording of an Art. 17 ground.
func GroundText(g int) string {
	switch g {
	case 1:
		return "涂改、转借行政执法证件"
	case 2:
		return "利用行政执法证件谋取私利或者从事其他违法活动"
	case 3:
		return "其他违反行政执法证件管理的行为"
	}
	return ""
}

var guardJusticeIssued = Guard{Article: "Art. 17", Check: func(s *Snapshot) string {
	if s.Certificate != nil && s.Certificate.Kind.Family() != FamilyJustice {
		return "the 应急管理部行政执法证 is handled by 自治区 HR under the Ministry's rules (Art. 3), not by this path"
	}
	return ""
}}

// guardLeftOtherwise: another path took the certificate back (returned
// on departure, recovered after a 转岗), so the proposal or suspension has
// nothing left to decide.
var guardLeftOtherwise = Guard{Article: "Art. 17", Check: func(s *Snapshot) string {
	if c := s.Certificate; c != nil && !c.TakenBack() {
		return fmt.Sprintf("%s No. %s has not been taken back (%s)", c.Kind.Label(), c.Number, c.State.Label())
	}
	return ""
}}

// guardInHand: 暂扣 or 交回 takes the certificate from its holder, so it
// must be in their hands (or held under 暂扣): not reported lost, which
// the loss path settles first (found again, or voided and reissued).
var guardInHand = Guard{Article: "Art. 17", Check: func(s *Snapshot) string {
	if c := s.Certificate; c != nil && c.State != CertReceived && c.State != CertSuspended {
		return fmt.Sprintf("%s No. %s is %s: it cannot be taken from its holder; decide once the loss case settles, or dismiss the proposal",
			c.Kind.Label(), c.Number, c.State.Label())
	}
	return ""
}}

var guardInUse = Guard{Article: "Art. 17", Check: func(s *Snapshot) string {
	if c := s.Certificate; c != nil && c.State != CertReceived {
		return fmt.Sprintf("%s No. %s is not in use (%s)", c.Kind.Label(), c.Number, c.State)
	}
	return ""
}}

func suspensionPath() Path {
	review := func(t *Transition) Date { return t.Snap.Today.AddDays(t.Snap.Settings.SuspensionReviewDays) }
	return Path{
		Name: PathSuspension, Title: "证件暂扣、交回（Art. 17）", Initial: SusProposed,
		Subject: SubjectCertificate, Department: DeptOfCertificate,
		OneOpen: "Art. 17",
		States: []StateDef{
			{SusProposed, "法制机构已提出，待主要负责人决定", false, false},
			{SusSuspended, "已暂扣", false, false},
			{SusSurrendered, "已决定交回司法部门，待注销", false, true},
			{SusRestored, "已恢复使用", true, false},
			{SusCancelled, "司法部门已注销", true, true},
			{SusDismissed, "不予暂扣", true, false},
			{SusEnded, "证件已另行交回，本案结束", true, false},
		},
		Events: []EventDef{
			{
				Name: EvOpen, Label: "提出暂扣（交回）建议", From: []State{StateNew}, To: SusProposed,
				Actors: []Role{RoleLegalClerk}, Effect: openSuspension, Guards: []Guard{guardJusticeIssued, guardInUse},
				Opens: []TaskSpec{{Kind: TaskDecideSuspension, Role: RolePrincipal}},
			},
			{
				Name: EvSuspend, Label: "决定暂扣", From: []State{SusProposed}, To: SusSuspended,
				Actors: []Role{RolePrincipal}, NotByPreparer: true, Effect: reported(moveCertificate(CertEventSuspend), "暂扣"), Guards: []Guard{guardInHand},
				Closes: []TaskKind{TaskDecideSuspension},
				Opens:  []TaskSpec{{Kind: TaskReviewSuspension, Role: RoleLegalClerk, Due: review}},
				Docs:   []DocSpec{{DocSuspensionDecision, "Art. 17"}},
			},
			{
				Name: EvSurrender, Label: "决定交回司法部门", From: []State{SusProposed, SusSuspended}, To: SusSurrendered,
				Actors: []Role{RolePrincipal}, NotByPreparer: true, Effect: reported(moveCertificate(CertEventReturn), "交回司法部门注销"), Guards: []Guard{guardInHand},
				Closes: []TaskKind{TaskDecideSuspension, TaskReviewSuspension},
				Opens:  []TaskSpec{{Kind: TaskRecordCancellation, Role: RoleJustice}},
				Docs:   []DocSpec{{DocSurrenderLetter, "Art. 17"}},
			},
			{
				Name: EvDismiss, Label: "不予暂扣", From: []State{SusProposed}, To: SusDismissed,
				Actors: []Role{RolePrincipal}, NotByPreparer: true, CommentRequired: true,
				Closes: []TaskKind{TaskDecideSuspension},
			},
			{
				Name: EvRestore, Label: "恢复使用", From: []State{SusSuspended}, To: SusRestored,
				Actors: []Role{RolePrincipal}, NotByPreparer: true, CommentRequired: true, Effect: reported(moveCertificate(CertEventRestore), "恢复使用"),
				Closes: []TaskKind{TaskReviewSuspension},
				Docs:   []DocSpec{{DocRestorationNotice, "Art. 17"}},
			},
			{
				Name: EvReview, Label: "定期复查", From: []State{SusSuspended}, To: SusSuspended,
				Actors: []Role{RoleLegalClerk}, CommentRequired: true, Effect: countReview,
				Closes: []TaskKind{TaskReviewSuspension},
				Opens:  []TaskSpec{{Kind: TaskReviewSuspension, Role: RoleLegalClerk, Due: review}},
			},
			{
				// Another case took the certificate back while this one was
				// open (a departure, a retention decision): nothing is left
				// to decide or review, so certflow ends the case in the same
				// transaction.
				Name: EvEndSuspension, Label: "结案（证件已另行交回）", From: []State{SusProposed, SusSuspended}, To: SusEnded,
				Follows: FollowCertificateReturned, Guards: []Guard{guardLeftOtherwise},
				Closes: []TaskKind{TaskDecideSuspension, TaskReviewSuspension},
			},
			{
				Name: EvRecordCancellation, Label: "登记司法部门注销", From: []State{SusSurrendered}, To: SusCancelled,
				Actors: []Role{RoleJustice, RoleLegalClerk}, Effect: moveCertificate(CertEventCancel),
				Closes: []TaskKind{TaskRecordCancellation},
			},
		},
	}
}

// reported is effect, then the Art. 14 change report of what it did to the
// certificate: the platforms list who may enforce (the 双随机一公开 platform
// draws inspectors from them), so a certificate 暂扣, restored or taken
// back for 注销 is a change (其他) the legal office enters within a month,
// counted from the decision: the officer stops enforcing that day, not
// when justice records the 注销. A departure's cancellation needs none:
// completing the departure files its report.
func reported(effect func(*Transition) error, what string) func(*Transition) error {
	return func(t *Transition) error {
		if err := effect(t); err != nil {
			return err
		}
		c := t.Snap.Certificate
		t.Spawn = append(t.Spawn, changeReport(c.PersonID, PlatformData{Change: ChangeOther, ChangedOn: t.Snap.Today,
			Details: fmt.Sprintf("%s%s（证号：%s）", c.Kind.Label(), what, c.Number)}))
		return nil
	}
}

func openSuspension(t *Transition) error {
	var d SuspensionData
	if err := decodeInput(t.Input, &d); err != nil {
		return err
	}
	d.Facts = strings.TrimSpace(d.Facts)
	switch {
	case GroundText(d.Ground) == "":
		return Invalid("ground", "Art. 17 ground (1), (2) or (3)")
	case d.Facts == "":
		return Invalid("facts", "required: what the officer did")
	case utf8.RuneCountInString(d.Facts) > 5000:
		return Invalid("facts", "longer than 5000 characters")
	}
	b, err := json.Marshal(&d)
	t.Data = b
	return err
}

func countReview(t *Transition) error {
	return updateData(t, func(d *SuspensionData) error { d.Reviews++; return nil })
}

// moveCertificate moves the case's certificate along its lifecycle; events
// that take no input use it as their effect.
func moveCertificate(ev CertificateEvent) func(*Transition) error {
	return func(t *Transition) error {
		if len(t.Input) > 0 && string(t.Input) != "null" && string(t.Input) != "{}" {
			return Invalid("data", string(t.Def.Name)+" takes no data")
		}
		if t.Snap.Certificate == nil {
			return fmt.Errorf("workflow: case %d has no certificate", t.Snap.Case.ID)
		}
		t.CertificateChange = &CertificateChange{CertificateID: t.Snap.Certificate.ID, Event: ev}
		return nil
	}
}
