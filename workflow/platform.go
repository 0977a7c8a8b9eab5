package workflow

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Platform entry (Art. 14): within one calendar month of 领取, and of any
// change (转岗, 退休, 辞职, 辞退, 调离, other), the legal office enters the
// officer's data into the 自治区应急管理信息平台 and the 自治区“双随机一公开”
// 监管平台. One case per receipt or change; one task per platform.
const PathPlatformEntry PathName = "platform_entry"

// Platform-entry states: which platforms have the entry.
const (
	PlatPending          State = "pending"
	PlatEmergencyEntered State = "emergency_entered"
	PlatRandomEntered    State = "random_entered"
	PlatEntered          State = "entered"
)

// Platform-entry events. Each platform has two events, one for each order
// in which the entries may come, because a looplab/fsm event has one target.
const (
	EvEnterEmergency    EventName = "enter_emergency"
	EvEnterRandom       EventName = "enter_random"
	EvCompleteEmergency EventName = "complete_emergency"
	EvCompleteRandom    EventName = "complete_random"
)

// TaskDecideRetention asks the legal office whether an officer moved to a
// post without enforcement duty keeps the certificate (Art. 18, rules.md);
// it belongs to the retention case the change report opens (retention.go),
// whose keep or recover closes it.
const TaskDecideRetention TaskKind = "decide_retention"

// ChangeKind is what changed about an officer (Art. 14 second paragraph).
type ChangeKind string

const (
	ChangeTransfer   ChangeKind = "转岗"
	ChangeRetirement ChangeKind = "退休"
	ChangeResignment ChangeKind = "辞职"
	ChangeDismissal  ChangeKind = "辞退"
	ChangeMove       ChangeKind = "调离"
	ChangeOther      ChangeKind = "其他"
)

// Valid reports whether k is one of Art. 14's changes.
func (k ChangeKind) Valid() bool {
	switch k {
	case ChangeTransfer, ChangeRetirement, ChangeResignment, ChangeDismissal, ChangeMove, ChangeOther:
		return true
	}
	return false
}

// PlatformData is the case data of a platform entry.
type PlatformData struct {
	Reason          string     `json:"reason"` // "receipt" or "change"
	ReceivedOn      Date       `json:"received_on,omitempty"`
	Change          ChangeKind `json:"change,omitempty"`
	ChangedOn       Date       `json:"changed_on,omitempty"`
	Details         string     `json:"details,omitempty"`
	EnforcementPost *bool      `json:"enforcement_post,omitempty"` // after a 转岗: does the new post carry enforcement duty?
	EmergencyOn     Date       `json:"emergency_entered_on,omitempty"`
	RandomOn        Date       `json:"random_entered_on,omitempty"`
}

// changeReport is the platform-entry case reporting pd, a change about
// person, that certflow opens itself (Art. 14 second paragraph).
func changeReport(person int64, pd PlatformData) OpenCaseInput {
	pd.Reason = "change"
	data, _ := json.Marshal(&pd) // dates and strings: it always encodes
	return OpenCaseInput{Path: PathPlatformEntry, PersonID: person, Data: data}
}

// PlatformEntryOnReceipt is the platform-entry case a receipt (领取) opens:
// the Art. 14 month counts from receivedOn.
func PlatformEntryOnReceipt(personID, certificateID int64, receivedOn Date) OpenCaseInput {
	data, _ := json.Marshal(map[string]any{"reason": "receipt", "received_on": receivedOn})
	return OpenCaseInput{Path: PathPlatformEntry, PersonID: personID, Data: data}
}

func platformPath() Path {
	enter := func(name EventName, label string, from, to State, task TaskKind, emergency bool) EventDef {
		return EventDef{
			Name: name, Label: label, From: []State{from}, To: to, Actors: []Role{RoleLegalClerk},
			Effect: recordEntry(emergency), Closes: []TaskKind{task},
		}
	}
	return Path{
		Name: PathPlatformEntry, Title: "执法人员信息录入（Art. 14）", Initial: PlatPending,
		Subject: SubjectPerson, Department: DeptOfPerson,
		States: []StateDef{
			{PlatPending, "待录入两平台", false, false},
			{PlatEmergencyEntered, "已录入应急管理信息平台，待录入双随机一公开平台", false, false},
			{PlatRandomEntered, "已录入双随机一公开平台，待录入应急管理信息平台", false, false},
			{PlatEntered, "两平台均已录入", true, false},
		},
		Events: []EventDef{
			{
				Name: EvOpen, Label: "报告信息变化", From: []State{StateNew}, To: PlatPending,
				Actors: []Role{RoleLegalClerk}, Effect: openPlatformEntry,
				Docs: []DocSpec{{DocInfoChange, "Art. 14"}},
				Opens: []TaskSpec{
					{Kind: TaskPlatformEmergency, Role: RoleLegalClerk, Due: func(t *Transition) Date { return t.DueBase.AddMonths(1) }},
					{Kind: TaskPlatformRandom, Role: RoleLegalClerk, Due: func(t *Transition) Date { return t.DueBase.AddMonths(1) }},
				},
			},
			enter(EvEnterEmergency, "录入应急管理信息平台", PlatPending, PlatEmergencyEntered, TaskPlatformEmergency, true),
			enter(EvEnterRandom, "录入双随机一公开平台", PlatPending, PlatRandomEntered, TaskPlatformRandom, false),
			enter(EvCompleteEmergency, "录入应急管理信息平台", PlatRandomEntered, PlatEntered, TaskPlatformEmergency, true),
			enter(EvCompleteRandom, "录入双随机一公开平台", PlatEmergencyEntered, PlatEntered, TaskPlatformRandom, false),
		},
	}
}

// openPlatformEntry starts the Art. 14 clock: from 领取 (a case spawned by
// the receipt) or from the change the legal office reports. A 转岗 to a
// post without enforcement duty also opens a retention case, where the
// legal office decides whether the justice-issued certificate is returned.
func openPlatformEntry(t *Transition) error {
	var d PlatformData
	if err := decodeInput(t.Input, &d); err != nil {
		return err
	}
	d.Details = strings.TrimSpace(d.Details)
	switch d.Reason {
	case "receipt":
		if !t.Snap.Spawned {
			return Invalid("reason", `"receipt": the receipt (领取) itself opens that entry; report a change with "change"`)
		}
		if d.ReceivedOn.IsZero() {
			return Invalid("received_on", "required")
		}
		t.DueBase = d.ReceivedOn
	case "change", "":
		d.Reason = "change"
		if !d.Change.Valid() {
			return Invalid("change", "one of 转岗, 退休, 辞职, 辞退, 调离, 其他 (Art. 14)")
		}
		if d.ChangedOn.IsZero() {
			return Invalid("changed_on", "required: the Art. 14 month counts from it")
		}
		if _, err := inputDate("changed_on", d.ChangedOn, t.Snap.Today); err != nil {
			return err
		}
		if d.Change == ChangeOther && d.Details == "" {
			return Invalid("details", "say what changed")
		}
		switch d.Change {
		case ChangeRetirement, ChangeResignment, ChangeDismissal, ChangeMove:
			if !t.Snap.Spawned {
				return Invalid("change", fmt.Sprintf("a %s is a departure (离岗, Art. 18): HR opens it, and completing it files this report", d.Change))
			}
		}
		if utf8.RuneCountInString(d.Details) > 500 {
			return Invalid("details", "longer than 500 characters")
		}
		t.DueBase = d.ChangedOn
		if d.Change == ChangeTransfer && d.EnforcementPost != nil && *d.EnforcementPost != t.Snap.Person.Post {
			t.Post = d.EnforcementPost // the report and the staff record say the same
		}
		if d.Change == ChangeTransfer && d.EnforcementPost != nil && !*d.EnforcementPost {
			if in, ok := RetentionOnTransfer(t.Snap, d.ChangedOn, d.Details); ok {
				t.Spawn = append(t.Spawn, in)
			}
		}
	default:
		return Invalid("reason", `"receipt" or "change"`)
	}
	b, err := json.Marshal(&d)
	t.Data = b
	return err
}

// recordEntry records the date an entry was made on one platform.
func recordEntry(emergency bool) func(*Transition) error {
	return func(t *Transition) error {
		var in struct {
			EnteredOn Date `json:"entered_on"`
		}
		if err := decodeInput(t.Input, &in); err != nil {
			return err
		}
		var err error
		if in.EnteredOn, err = inputDate("entered_on", in.EnteredOn, t.Snap.Today); err != nil {
			return err
		}
		return updateData(t, func(d *PlatformData) error {
			// Nothing is entered before what it reports happened.
			if from := d.ReceivedOn; d.Reason == "receipt" && in.EnteredOn.Before(from) {
				return Invalid("entered_on", "before the receipt ("+from.String()+") it enters")
			}
			if from := d.ChangedOn; d.Reason == "change" && in.EnteredOn.Before(from) {
				return Invalid("entered_on", "before the change ("+from.String()+") it enters")
			}
			if emergency {
				d.EmergencyOn = in.EnteredOn
			} else {
				d.RandomOn = in.EnteredOn
			}
			return nil
		})
	}
}
