package workflow

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/looplab/fsm"
)

// PathName names a path: "application", "ministry_application", ...
type PathName string

// State is a state of a path.
type State string

// EventName is an event of a path.
type EventName string

// TaskKind names a kind of task.
type TaskKind string

// DocKind names a kind of generated document.
type DocKind string

// StateNew is the state of a case before its opening event: every path
// opens with an event from StateNew, so opening runs through the same
// guards, effects, tasks and documents as every other step.
const StateNew State = ""

// EvOpen is the event that opens a case of any path.
const EvOpen EventName = "open"

// Subject is what a path's cases are about.
type Subject string

const (
	// SubjectPerson: the case is about a person (application, departure).
	SubjectPerson Subject = "person"
	// SubjectCertificate: the case is about one certificate (suspension, loss).
	SubjectCertificate Subject = "certificate"
	// SubjectAny: the person or certificate may be unknown at intake (complaint).
	SubjectAny Subject = "any"
)

// DeptRule says which department runs a path's cases.
type DeptRule string

const (
	// DeptOfPerson: the department the person belongs to (for 派出机关 staff,
	// the county department above it, Art. 5).
	DeptOfPerson DeptRule = "person"
	// DeptRegion: the 自治区 department (Ministry certificates, Art. 3, 13).
	DeptRegion DeptRule = "region"
	// DeptOfCertificate: the department that manages the certificate;
	// 自治区 for Ministry certificates (Art. 3).
	DeptOfCertificate DeptRule = "certificate"
)

// Path is one certificate path as data: the same table drives looplab/fsm,
// the Mermaid diagram, the events a caller may fire now and the API's enums.
type Path struct {
	Name       PathName
	Title      string // Chinese, for the UI
	Initial    State  // the state the open event leads to
	Subject    Subject
	Department DeptRule
	// States lists every state with its Chinese label, in display order.
	States []StateDef
	Events []EventDef
	// OneOpen, when set, is the article that allows one case of this path
	// in progress per subject (person, or certificate for a path about
	// one): opening a second one is refused with it.
	OneOpen string
	// SpawnedBy, when set, says which paths open cases of this one: nobody
	// opens one by hand (a certificate is taken back only by a departure,
	// a surrender or a retention decision).
	SpawnedBy string
	// HiddenFromSubject: the person a case is about does not read it by
	// being its subject (a complaint about an officer: who complained, and
	// how to reach them, stays with the office handling it).
	HiddenFromSubject bool
}

// StateDef labels a state.
type StateDef struct {
	Name  State
	Label string
	Final bool
	// Justice: the 司法部门 liaison sees cases in this state (they reached
	// justice, or wait for justice's decision).
	Justice bool
}

// EventDef is one row of a path's table.
type EventDef struct {
	Name   EventName
	Label  string // Chinese, for buttons and history
	From   []State
	To     State
	Actors []Role // who may fire it; scope is checked separately
	// Follows, when set, makes the event certflow's own: nobody fires it
	// by hand (Actors stays empty); the engine fires it, in the same
	// transaction, on every case of the path in one of From when another
	// case's transition does what Follows names to the case's certificate
	// (a path about a person: to a certificate of theirs).
	Follows Follow
	// NotByPreparer: the users who prepared the case — its opener and
	// whoever fired one of its Prepares events, in their own name or for
	// someone — may not fire it (separation of duties: nobody approves
	// their own application).
	NotByPreparer bool
	// Prepares: firing it makes the actor, and whoever they stand in for,
	// one of the case's preparers (提交审批 by another clerk than the one
	// who opened the case).
	Prepares bool
	// ByPreparer: only the user who prepared the case — its initiator —
	// fires it, or whoever stands in for them (撤回: the initiator
	// withdraws what they sent, before any decision).
	ByPreparer bool
	// ByHolder: the certificate holder may fire it on their own case (a
	// loss report, Art. 19), which otherwise nobody may.
	ByHolder bool
	// Scoped: the role is checked by the effect against the unit the input
	// names (a certificate returned to the office that manages it), not at
	// the case's department; the engine only asks that the actor holds one
	// of Actors somewhere and sees the case.
	Scoped          bool
	CommentRequired bool
	Guards          []Guard
	// Effect applies the command's input to the transition: case data,
	// certificate changes, due-date bases. Pure: no I/O.
	Effect func(*Transition) error
	Opens  []TaskSpec
	Closes []TaskKind // closes the case's open tasks of these kinds
	// Discards closes the case's open tasks of these kinds that the event
	// leaves moot, whoever holds them: a claim on one does not stop the
	// event (a departure completed while a return task is open for a
	// certificate that left by another path).
	Discards []TaskKind
	Docs     []DocSpec
}

// Follow is what, done to a certificate by another case, makes the engine
// fire an event (EventDef.Follows) on the certificate's own cases.
type Follow string

// FollowCertificateReturned: another case's transition took the
// certificate back (returned: a departure, a retention decision), so it
// leaves its holder for 注销. A loss does not count: a lost certificate
// may be found, or replaced by a reissue, and what was pending about its
// holder's conduct stays pending.
const FollowCertificateReturned Follow = "certificate_returned"

// FollowHolderDeparted: the departure of the person the case is about
// completed (employment departed).
const FollowHolderDeparted Follow = "holder_departed"

// Follows lists what the engine follows.
var Follows = []Follow{FollowCertificateReturned, FollowHolderDeparted}

// Text says in words what the engine follows.
func (f Follow) Text() string {
	switch f {
	case FollowCertificateReturned:
		return "another case takes the certificate back"
	case FollowHolderDeparted:
		return "the holder's departure completes"
	}
	return string(f)
}

// settled is the history comment of an event the nightly sweep fires
// because what it follows happened without firing it.
func (f Follow) settled() string {
	if f == FollowHolderDeparted {
		return "持证人已离岗，本案随之结束（certflow 核对时补记）"
	}
	return "证件已交回，本案随之结束（certflow 核对时补记）"
}

// Guard is one condition of the regulation, checked before an event.
type Guard struct {
	Article string
	// Check returns "" when the condition holds, else what is missing.
	Check func(*Snapshot) string
	// Each, instead, returns one failed condition per offending item (each
	// certificate still out, Art. 18).
	Each func(*Snapshot) []string
}

// TaskSpec is a task an event opens, for Role at the case's department.
type TaskSpec struct {
	Kind TaskKind
	Role Role
	// Due computes the due date; nil means no due date.
	Due func(*Transition) Date
	// ToPreparer gives the task to the case's preparer personally, as if
	// they had claimed it: 退回 sends an application back to whoever
	// prepared it, not to the whole office. The others of Role see it held
	// by them; the preparer may 转交 it. A preparer who no longer holds
	// Role at the department leaves it a group task, so it never strands.
	ToPreparer bool
}

// DocSpec is a document an event produces, with the article it rests on.
type DocSpec struct {
	Kind    DocKind
	Article string
}

// Event returns the definition of name.
func (p *Path) Event(name EventName) (*EventDef, bool) {
	for i := range p.Events {
		if p.Events[i].Name == name {
			return &p.Events[i], true
		}
	}
	return nil, false
}

// Final reports whether s is one of p's final states.
func (p *Path) Final(s State) bool {
	for _, d := range p.States {
		if d.Name == s {
			return d.Final
		}
	}
	return false
}

// StateLabel returns the Chinese label of s.
func (p *Path) StateLabel(s State) string {
	for _, d := range p.States {
		if d.Name == s {
			return d.Label
		}
	}
	return string(s)
}

// fsmEvents converts the table into looplab/fsm's form.
func (p *Path) fsmEvents() fsm.Events {
	evs := make(fsm.Events, 0, len(p.Events))
	for _, e := range p.Events {
		src := make([]string, len(e.From))
		for i, s := range e.From {
			src[i] = string(s)
		}
		evs = append(evs, fsm.EventDesc{Name: string(e.Name), Src: src, Dst: string(e.To)})
	}
	return evs
}

// EventsFrom returns the events the table allows in state s, sorted by name.
func (p *Path) EventsFrom(s State) []*EventDef {
	var out []*EventDef
	for i := range p.Events {
		if slices.Contains(p.Events[i].From, s) {
			out = append(out, &p.Events[i])
		}
	}
	slices.SortFunc(out, func(a, b *EventDef) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Mermaid draws the path as a Mermaid state diagram, from the same table.
func (p *Path) Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	for _, s := range p.States {
		fmt.Fprintf(&b, "    %s: %s\n", s.Name, s.Label)
	}
	for _, e := range p.Events {
		for _, from := range e.From {
			src := string(from)
			if from == StateNew {
				src = "[*]"
			}
			fmt.Fprintf(&b, "    %s --> %s: %s\n", src, e.To, e.Name)
		}
	}
	for _, s := range p.States {
		if s.Final {
			fmt.Fprintf(&b, "    %s --> [*]\n", s.Name)
		}
	}
	return b.String()
}

// validate checks the table is consistent: every state named is declared,
// every event reachable from a declared state. Called once for each path
// when the registry is built, so a typo fails at start-up and in tests.
func (p *Path) validate() error {
	known := map[State]bool{StateNew: true}
	for _, s := range p.States {
		known[s.Name] = true
	}
	if open, ok := p.Event(EvOpen); !ok || len(open.From) != 1 || open.From[0] != StateNew || open.To != p.Initial {
		return fmt.Errorf("path %s: needs an open event from StateNew to its initial state %s", p.Name, p.Initial)
	}
	if p.Subject == "" || p.Department == "" {
		return fmt.Errorf("path %s: subject and department rule required", p.Name)
	}
	seen := map[EventName]bool{}
	for _, e := range p.Events {
		if seen[e.Name] {
			return fmt.Errorf("path %s: event %s declared twice", p.Name, e.Name)
		}
		seen[e.Name] = true
		if !known[e.To] {
			return fmt.Errorf("path %s: event %s goes to undeclared state %s", p.Name, e.Name, e.To)
		}
		for _, s := range e.From {
			if !known[s] {
				return fmt.Errorf("path %s: event %s leaves undeclared state %s", p.Name, e.Name, s)
			}
		}
		switch {
		case e.Follows != "" && (len(e.Actors) > 0 || e.Name == EvOpen || len(e.Opens) > 0 || len(e.Docs) > 0 || e.CommentRequired):
			return fmt.Errorf("path %s: event %s follows %s: it takes no actors, opens no task or document and needs no comment", p.Name, e.Name, e.Follows)
		case e.Follows != "" && e.Follows.Text() == string(e.Follows):
			return fmt.Errorf("path %s: event %s follows unknown %q", p.Name, e.Name, e.Follows)
		case e.Follows != "" && p.Subject != SubjectCertificate && p.Subject != SubjectPerson:
			return fmt.Errorf("path %s: event %s follows a certificate, but the path is about neither one nor its holder", p.Name, e.Name)
		case e.Follows == "" && len(e.Actors) == 0:
			return fmt.Errorf("path %s: event %s has no actors", p.Name, e.Name)
		}
	}
	return nil
}

// Transition is what one event does, computed purely from the snapshot and
// the command's input before anything is written.
type Transition struct {
	Snap  *Snapshot
	Def   *EventDef
	Input json.RawMessage
	// Data is the case data after the event (the path's own struct, encoded).
	Data json.RawMessage
	// NewCertificate is set when the event issues a certificate.
	NewCertificate *Certificate
	// CertificateChange is set when the event moves an existing certificate.
	CertificateChange *CertificateChange
	// DueBase is the date deadlines of opened tasks count from.
	DueBase Date
	// Tasks are opened besides the table's, computed by the effect (one
	// return task per outstanding certificate on departure).
	Tasks []Task
	// Close are closed besides the table's kinds.
	Close []TaskRef
	// Employment, when set, is the person's new employment status.
	Employment Employment
	// Post, when set, is whether the person now holds an enforcement post
	// (the 转岗 change report records the new post).
	Post *bool
	// Spawn opens further cases in the same transaction (receipt opens the
	// Art. 14 platform-entry case).
	Spawn []OpenCaseInput
}

// TaskRef names the open tasks of a kind on a case, or only the one for
// CertificateID when it is set.
type TaskRef struct {
	Kind          TaskKind
	CertificateID int64
}

// CertificateChange moves a certificate along its own lifecycle.
type CertificateChange struct {
	CertificateID int64
	Event         CertificateEvent
	ReceivedOn    Date // set by "receive"
	to            CertificateState
}

// decodeInput decodes the command's input strictly into v.
func decodeInput(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if field, reason, ok := JSONFault(err); ok {
			if field != "" {
				return &InputError{Field: "data." + field, Reason: reason}
			}
			return &InputError{Field: "data", Reason: reason}
		}
		return &InputError{Field: "data", Reason: err.Error()}
	}
	return nil
}

// caseData decodes the case's data as its path's own struct.
func caseData[T any](s *Snapshot) (T, error) {
	var d T
	if len(s.Case.Data) == 0 {
		return d, nil
	}
	err := json.Unmarshal(s.Case.Data, &d)
	return d, err
}

// updateData decodes the case data as T, lets fn change it and stores it
// back on the transition.
func updateData[T any](t *Transition, fn func(*T) error) error {
	d, err := caseData[T](t.Snap)
	if err != nil {
		return err
	}
	if err := fn(&d); err != nil {
		return err
	}
	b, err := json.Marshal(&d)
	t.Data = b
	return err
}
