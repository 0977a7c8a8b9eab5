package workflow

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Retention decision (Art. 9(1)(4), Art. 18; rules.md "Departure"): an
// officer moved (转岗) to a post without enforcement duty no longer meets
// the enforcement-post condition, but 转岗 inside the department is no
// departure. The change report (platform.go) opens this case when the
// officer holds a justice-issued certificate; the legal office decides
// within "及时" whether the officer keeps it or returns it, and a returned
// certificate goes on to 注销 on the cancellation path. The Ministry
// certificate is 自治区 HR's (Art. 3), not decided here.
const PathRetention PathName = "retention"

// Retention states and events.
const (
	RetPending  State = "pending"
	RetKept     State = "kept"
	RetReturned State = "returned"
	RetEnded    State = "ended"

	EvKeep         EventName = "keep"
	EvRecover      EventName = "recover"
	EvEndRetention EventName = "end_retention"
)

// RetentionData is the case data of a retention decision.
type RetentionData struct {
	ChangedOn Date   `json:"changed_on"`
	Details   string `json:"details,omitempty"`
	// CertificateID is the certificate taken back, once recovered.
	CertificateID int64 `json:"certificate_id,omitempty"`
	ReturnedOn    Date  `json:"returned_on,omitempty"`
}

func retentionPath() Path {
	return Path{
		Name: PathRetention, Title: "转岗后证件保留或收回（Art. 9, 18）", Initial: RetPending,
		Subject: SubjectPerson, Department: DeptOfPerson,
		SpawnedBy: "a change report (platform_entry with change 转岗 to a post without enforcement duty)",
		OneOpen:   "Art. 18",
		States: []StateDef{
			{RetPending, "转岗至非执法岗位，待决定是否收回证件", false, false},
			{RetKept, "决定保留证件", true, false},
			{RetReturned, "已收回证件，送交注销", true, false},
			{RetEnded, "证件已另行交回，无需决定", true, false},
		},
		Events: []EventDef{
			{
				Name: EvOpen, Label: "转岗至非执法岗位", From: []State{StateNew}, To: RetPending,
				Actors: []Role{RoleLegalClerk}, Effect: openRetention,
			},
			{
				Name: EvKeep, Label: "保留证件", From: []State{RetPending}, To: RetKept,
				Actors: []Role{RoleLegalClerk}, CommentRequired: true,
				Closes: []TaskKind{TaskDecideRetention},
			},
			{
				Name: EvRecover, Label: "收回证件", From: []State{RetPending}, To: RetReturned,
				Actors: []Role{RoleLegalClerk}, Effect: recoverCertificate,
				Closes: []TaskKind{TaskDecideRetention},
			},
			{
				// Another case took the justice-issued certificate back
				// while the decision waited (a departure): there is nothing
				// left to keep or recover.
				Name: EvEndRetention, Label: "结案（证件已另行交回）", From: []State{RetPending}, To: RetEnded,
				Follows: FollowCertificateReturned, Guards: []Guard{guardNothingToDecide},
				Closes: []TaskKind{TaskDecideRetention},
			},
		},
	}
}

// guardNothingToDecide: the person holds no justice-issued certificate
// still out, so the retention decision has nothing to decide.
var guardNothingToDecide = Guard{Article: "Art. 18", Check: func(s *Snapshot) string {
	if holdsJusticeCertificate(s.Certificates) {
		return "a justice-issued certificate is still out: keep it or recover it"
	}
	return ""
}}

// holdsJusticeCertificate reports whether certs hold a justice-issued
// certificate still out: what a 转岗 off enforcement puts in question.
func holdsJusticeCertificate(certs []Certificate) bool {
	return slices.ContainsFunc(certs, func(c Certificate) bool { return c.Kind.Family() == FamilyJustice && c.Outstanding() })
}

// RetentionOnTransfer is the retention case a 转岗 to a post without
// enforcement duty opens, when the officer holds a justice-issued
// certificate still out.
func RetentionOnTransfer(s *Snapshot, changedOn Date, details string) (OpenCaseInput, bool) {
	if !holdsJusticeCertificate(s.Certificates) {
		return OpenCaseInput{}, false
	}
	data, _ := json.Marshal(RetentionData{ChangedOn: changedOn, Details: details})
	// A decision already pending for the person covers this 转岗 too.
	return OpenCaseInput{Path: PathRetention, PersonID: s.Person.ID, Data: data, joinOpen: true}, true
}

func openRetention(t *Transition) error {
	var d RetentionData
	if err := decodeInput(t.Input, &d); err != nil {
		return err
	}
	var err error
	if d.ChangedOn, err = inputDate("changed_on", d.ChangedOn, t.Snap.Today); err != nil {
		return err
	}
	if !holdsJusticeCertificate(t.Snap.Certificates) {
		return &GuardError{[]Violation{{"Art. 18", "the person holds no justice-issued certificate: nothing to keep or return"}}}
	}
	d.Details = strings.TrimSpace(d.Details)
	d.CertificateID, d.ReturnedOn = 0, Date{}
	t.Tasks = append(t.Tasks, Task{Kind: TaskDecideRetention, Role: RoleLegalClerk, OrgUnitID: t.Snap.Case.OrgUnitID,
		DueOn: d.ChangedOn.AddWorkingDays(t.Snap.Settings.TimelyWorkingDays)})
	b, err := json.Marshal(&d)
	t.Data = b
	return err
}

// recoverCertificate records the justice-issued certificate taken back
// and opens its cancellation case, as a return on departure does.
func recoverCertificate(t *Transition) error {
	c, returned, err := returning(t, func(c *Certificate) error {
		if c.Kind.Family() != FamilyJustice {
			return &GuardError{[]Violation{{"Art. 3", fmt.Sprintf("%s is managed by %s", c.Kind.Label(), returnOfficeText(c))}}}
		}
		return nil
	})
	if err != nil {
		return err
	}
	data, _ := json.Marshal(map[string]any{"reason": "转岗至非执法岗位，收回证件", "returned_on": returned})
	t.Spawn = append(t.Spawn, OpenCaseInput{Path: PathCancellation, CertificateID: c.ID, Data: data})
	return updateData(t, func(d *RetentionData) error {
		if returned.Before(d.ChangedOn) {
			return Invalid("returned_on", "before the 转岗 ("+d.ChangedOn.String()+") it follows")
		}
		d.CertificateID, d.ReturnedOn = c.ID, returned
		return nil
	})
}
