package workflow

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/looplab/fsm"
)

// Snapshot is everything a command's rules may look at, loaded once inside
// the command's transaction. Guards and effects read it and do no I/O.
type Snapshot struct {
	Now   time.Time
	Today Date
	Actor *Actor
	// Spawned: the case is being opened by another path's transition
	// (OpenCaseInput in Transition.Spawn), not by hand.
	Spawned      bool
	Case         Case
	Person       Person
	Unit         OrgUnit // the person's unit
	Department   OrgUnit // the department that runs the case
	Chain        []int64 // root … Department
	Trainings    []Training
	Certificates []Certificate // the person's
	// Certificate is the certificate the case is about, if any.
	Certificate *Certificate
	Settings    Settings

	appData *ApplicationData
}

// Options configures an Engine.
type Options struct {
	// Clock returns now; tests inject a fixed one. Default time.Now.
	Clock func() time.Time
	// Location is where "today" is counted. Default Asia/Urumqi… as China
	// keeps one time zone, Asia/Shanghai.
	Location *time.Location
	Logger   *slog.Logger
	// Settings are the deadlines the regulation leaves to configuration.
	Settings Settings
}

// Settings are the configurable deadlines (rules.md).
type Settings struct {
	// SuspensionReviewDays: a suspended certificate's case is reviewed this
	// often (Art. 17 sets no end to 暂扣; decided: 90 days).
	SuspensionReviewDays int
	// ComplaintDays: a complaint is handled within this many days (Art. 20; decided: 60).
	ComplaintDays int
	// TimelyWorkingDays: "及时" (Art. 14, 18), in working days (decided: 5).
	TimelyWorkingDays int
}

// DefaultSettings are the decisions of rules.md.
var DefaultSettings = Settings{SuspensionReviewDays: 90, ComplaintDays: 60, TimelyWorkingDays: 5}

// Engine runs commands against a Store.
type Engine struct {
	store    Store
	settings Settings
	clock    func() time.Time
	loc      *time.Location
	log      *slog.Logger
	paths    map[PathName]*compiledPath
	order    []PathName
	// followers are the events the engine fires itself, by what they
	// follow (EventDef.Follows).
	followers map[Follow][]follower
	// places caches where each org unit sits in the tree (unitPlace by
	// ID). Org units are created, never moved or deleted, so a place once
	// read stays true on every instance sharing the database.
	places sync.Map
}

// follower is an event the engine fires itself, and its path.
type follower struct {
	path *compiledPath
	def  *EventDef
}

// unitPlace is where an org unit sits: its department, and that
// department's path.
type unitPlace struct {
	deptID   int64
	deptPath string
}

// place returns where the org unit id sits, from the cache or tx.
func (e *Engine) place(ctx context.Context, tx Tx, id int64) (unitPlace, error) {
	if p, ok := e.places.Load(id); ok {
		return p.(unitPlace), nil
	}
	u, err := tx.OrgUnit(ctx, id)
	if err != nil {
		return unitPlace{}, err
	}
	d := u
	if u.DeptID != u.ID {
		if d, err = tx.OrgUnit(ctx, u.DeptID); err != nil {
			return unitPlace{}, err
		}
	}
	p := unitPlace{deptID: d.ID, deptPath: d.Path}
	e.places.Store(id, p)
	return p, nil
}

type compiledPath struct {
	*Path
	fsm fsm.Events
}

// Paths returns the registered paths in display order.
func (e *Engine) Paths() []*Path {
	out := make([]*Path, len(e.order))
	for i, n := range e.order {
		out[i] = e.paths[n].Path
	}
	return out
}

// Path returns the path named n.
func (e *Engine) Path(n PathName) (*Path, bool) {
	p, ok := e.paths[n]
	if !ok {
		return nil, false
	}
	return p.Path, true
}

// NewEngine returns an engine over store with every path registered.
func NewEngine(store Store, opt Options) (*Engine, error) {
	e := &Engine{store: store, clock: opt.Clock, loc: opt.Location, log: opt.Logger, paths: map[PathName]*compiledPath{}, settings: opt.Settings}
	if e.settings.SuspensionReviewDays <= 0 {
		e.settings.SuspensionReviewDays = DefaultSettings.SuspensionReviewDays
	}
	if e.settings.ComplaintDays <= 0 {
		e.settings.ComplaintDays = DefaultSettings.ComplaintDays
	}
	if e.settings.TimelyWorkingDays <= 0 {
		e.settings.TimelyWorkingDays = DefaultSettings.TimelyWorkingDays
	}
	if e.clock == nil {
		e.clock = time.Now
	}
	if e.loc == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		e.loc = loc
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	for _, p := range AllPaths() {
		if err := p.validate(); err != nil {
			return nil, err
		}
		cp := &compiledPath{Path: &p, fsm: p.fsmEvents()}
		e.paths[p.Name] = cp
		e.order = append(e.order, p.Name)
		for i := range p.Events {
			if f := p.Events[i].Follows; f != "" {
				if e.followers == nil {
					e.followers = map[Follow][]follower{}
				}
				e.followers[f] = append(e.followers[f], follower{cp, &p.Events[i]})
			}
		}
	}
	return e, nil
}

// Store returns the engine's store.
func (e *Engine) Store() Store { return e.store }

// Now returns the engine clock's time, in UTC.
func (e *Engine) Now() time.Time { return e.clock().UTC() }

func (e *Engine) today(now time.Time) Date { return DateOf(now.In(e.loc)) }

// MaxCommentLength caps, in characters, the comment of everything that
// takes one: an event (opening a case, compiling a batch included), an act
// on a task, a copy. inputComment checks it.
const MaxCommentLength = 2000

// inputComment trims a comment and refuses one longer than
// MaxCommentLength.
func inputComment(s string) (string, error) {
	return inputText("comment", s, false, MaxCommentLength)
}

// Command fires one event on one case.
type Command struct {
	Actor           *Actor
	OnBehalfOf      int64 // the user the actor acts for, recorded in history
	CaseID          int64
	Event           EventName
	ExpectedVersion int64
	Comment         string
	Input           json.RawMessage
	IdempotencyKey  string
}

// AllowedEvent is an event the caller may fire now.
type AllowedEvent struct {
	Name  EventName `json:"name"`
	Label string    `json:"label"`
	// CommentRequired: the event needs a reason (send back, reject, refuse…).
	CommentRequired bool `json:"comment_required"`
}

// CaseView is a case as its reader sees it.
type CaseView struct {
	Case
	StateLabel string         `json:"state_label"`
	PersonName string         `json:"person_name"`
	Allowed    []AllowedEvent `json:"allowed_events"`
	// OnBehalf: what the caller may fire as a deputy (代理), per delegator.
	OnBehalf  []OnBehalfEvents `json:"allowed_on_behalf,omitempty"`
	History   []Event          `json:"history"`
	Tasks     []Task           `json:"tasks"`
	Documents []DocumentStatus `json:"documents"`
}

// Result is what one command did: the case as it left it, the event it
// wrote, the tasks it opened and the documents it queued. A retry with the
// same Idempotency-Key gets the same Result back, with Replayed set.
type Result struct {
	Case      Case             `json:"case"`
	Event     Event            `json:"event"`
	Opened    []Task           `json:"opened_tasks"`
	Closed    []TaskRef        `json:"closed_tasks"`
	Documents []DocumentStatus `json:"documents"`
	Replayed  bool             `json:"replayed"`
}

// snapshot completes cc with what the rules need besides: the person's
// trainings and certificates.
func (e *Engine) snapshot(ctx context.Context, tx Tx, actor *Actor, cc CaseContext, now time.Time) (*Snapshot, error) {
	trainings, err := tx.Trainings(ctx, cc.Case.PersonID)
	if err != nil {
		return nil, err
	}
	certs, err := tx.CertificatesOf(ctx, cc.Case.PersonID)
	if err != nil {
		return nil, err
	}
	return e.snapshotOf(actor, cc, trainings, certs, now), nil
}

// snapshotOf is the snapshot of cc with the person's trainings and
// certificates already read.
func (e *Engine) snapshotOf(actor *Actor, cc CaseContext, trainings []Training, certs []Certificate, now time.Time) *Snapshot {
	s := &Snapshot{Now: now, Today: e.today(now), Actor: actor, Case: cc.Case, Chain: cc.Chain,
		Person: cc.Person, Unit: cc.Unit, Department: cc.Department, Settings: e.settings,
		Trainings: trainings, Certificates: certs}
	s.Certificate = s.certificateByID(cc.Case.CertificateID)
	return s
}

// subjectReads reports whether the person c is about reads it: not a case
// of a path hidden from its subject (Path.HiddenFromSubject).
func (e *Engine) subjectReads(c *Case) bool {
	p := e.paths[c.Path]
	return p == nil || !p.HiddenFromSubject
}

// hiddenFromSubject reports whether c is hidden from a as its subject (a
// complaint about them), whatever else lets them read cases.
func (e *Engine) hiddenFromSubject(a *Actor, c *Case) bool {
	return a.PersonID != 0 && a.PersonID == c.PersonID && !e.subjectReads(c)
}

// justiceSees reports whether the justice liaison may see c in its state.
func (e *Engine) justiceSees(c *Case) bool {
	p := e.paths[c.Path]
	if p == nil {
		return false
	}
	for _, d := range p.States {
		if d.Name == c.State {
			return d.Justice
		}
	}
	return false
}

// preparers are the users who prepared c (EventDef.NotByPreparer): its
// opener and the actors of its Prepares events in history, with whoever
// they stood in for.
func (e *Engine) preparers(c *Case, history []Event) []int64 {
	out := []int64{c.Preparer}
	p := e.paths[c.Path]
	if p == nil {
		return out
	}
	for i := range history {
		if def, ok := p.Event(history[i].Event); ok && def.Prepares {
			out = append(out, history[i].Actor)
			if history[i].OnBehalfOf != 0 {
				out = append(out, history[i].OnBehalfOf)
			}
		}
	}
	return out
}

// mayFire says why actor may not fire def on the case, or nil. preparers
// are the case's (Engine.preparers); only NotByPreparer events need them.
func (e *Engine) mayFire(actor *Actor, c *Case, def *EventDef, preparers []int64) error {
	if def.Follows != "" {
		return fmt.Errorf("%w: nobody fires %s: certflow records it itself when %s", ErrForbidden, def.Name, def.Follows.Text())
	}
	if err := actor.delegationConflict(c, def, preparers); err != nil {
		return err
	}
	if actor.PersonID != 0 && actor.PersonID == c.PersonID {
		if def.ByHolder {
			return nil
		}
		return fmt.Errorf("%w: nobody acts on a case about their own certificate", ErrForbidden)
	}
	// The role first: whoever lacks it learns that, not a conflict.
	if !slices.ContainsFunc(def.Actors, func(r Role) bool { return actor.Has(r, c.OrgUnitID) || def.Scoped && actor.HasRole(r) }) {
		return fmt.Errorf("%w: %s needs the role %s at this case's department", ErrForbidden, def.Name, rolesText(def.Actors))
	}
	if def.NotByPreparer && slices.Contains(preparers, actor.UserID) {
		return fmt.Errorf("%w: whoever prepared or submitted a case may not %s it", ErrForbidden, def.Name)
	}
	if def.ByPreparer && c.Preparer != actor.UserID && (actor.delegator == nil || actor.delegator.UserID != c.Preparer) {
		return fmt.Errorf("%w: only the preparer of a case, or their deputy, may %s it", ErrForbidden, def.Name)
	}
	return nil
}

func rolesText(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, " or ")
}

// allowed lists the events actor may fire on c now (guards not evaluated).
// An event that would complete one of tasks (c's) that someone else holds
// is not: Fire refuses it (checkClaims). Closes a transition decides as it
// runs are not known here, only the event's own (EventDef.Closes).
func (e *Engine) allowed(actor *Actor, c *Case, tasks []Task, preparers []int64) []AllowedEvent {
	p := e.paths[c.Path]
	out := []AllowedEvent{}
	if p == nil {
		return out
	}
	for _, def := range p.EventsFrom(c.State) {
		if e.mayFire(actor, c, def, preparers) == nil && heldElsewhere(tasks, actor, def, nil) == nil {
			out = append(out, AllowedEvent{def.Name, def.Label, def.CommentRequired})
		}
	}
	return out
}

// visibleCase loads case id if actor may read it; ErrNotFound otherwise.
func (e *Engine) visibleCase(ctx context.Context, tx Tx, actor *Actor, id int64) (CaseContext, error) {
	cc, err := tx.CaseContext(ctx, id)
	if err != nil {
		return CaseContext{}, err
	}
	if err := e.mayRead(actor, &cc); err != nil {
		return CaseContext{}, err
	}
	return cc, nil
}

// readerOnly is the refusal of a command on case id whose actor may not
// read it (notFound): still ErrNotFound to a caller who may not read it at
// all, ErrForbidden, saying why, to one who reads it — by a copy (抄送), or
// only as someone's deputy, or in their own name while acting for a
// delegator (onBehalfOf) who does not reach it.
func (e *Engine) readerOnly(ctx context.Context, tx Tx, caller *Actor, onBehalfOf, id int64, notFound error) error {
	_, copied, err := e.readableCase(ctx, tx, caller, id)
	switch {
	case err != nil:
		return notFound
	case copied:
		return fmt.Errorf("%w: case %d was copied to you (抄送): a copy reads the case, it never acts on it", ErrForbidden, id)
	case onBehalfOf != 0:
		return fmt.Errorf("%w: user %d, for whom you act, does not reach case %d", ErrForbidden, onBehalfOf, id)
	}
	return fmt.Errorf("%w: you reach case %d only as a deputy: name whom you stand in for in on_behalf_of_user_id", ErrForbidden, id)
}

// mayRead is ErrNotFound unless actor may read the case of cc.
func (e *Engine) mayRead(actor *Actor, cc *CaseContext) error {
	if !actor.canSeeCase(&cc.Case, cc.Chain, e.justiceSees(&cc.Case), e.subjectReads(&cc.Case)) {
		return fmt.Errorf("case %d: %w", cc.Case.ID, ErrNotFound)
	}
	return nil
}

// Fire runs cmd: in one transaction it checks the idempotency key, loads the
// snapshot, authorizes, runs the event through looplab/fsm with its guards,
// and writes state, history, tasks, certificate and document jobs.
//
// Fire reads only what the rules need and returns what it wrote; callers
// that show the whole case read it afterwards with CaseView.
func (e *Engine) Fire(ctx context.Context, cmd Command) (Result, error) {
	if cmd.Actor == nil {
		return Result{}, ErrUnauthenticated
	}
	// The key is the caller's, acting for whomever: on_behalf_of is part
	// of the request it names.
	caller := cmd.Actor
	fp := fingerprint("fire", cmd.CaseID, string(cmd.Event), cmd.ExpectedVersion, cmd.Comment+"\x00"+strconv.FormatInt(cmd.OnBehalfOf, 10), cmd.Input)
	var res Result
	err := e.store.Update(ctx, func(tx Tx) error {
		cmd := cmd // the delegator acts below; caller stays who asked
		if done, err := replay(ctx, tx, caller.UserID, cmd.IdempotencyKey, fp, &res); done || err != nil {
			res.Replayed = done && err == nil
			return err
		}
		now := e.Now()
		act, err := e.acting(ctx, tx, cmd.Actor, cmd.OnBehalfOf, now)
		if err != nil {
			return err
		}
		cmd.Actor = act
		fc, err := tx.FireContext(ctx, cmd.CaseID)
		if err != nil {
			return err
		}
		cc := fc.CaseContext
		if err := e.mayRead(cmd.Actor, &cc); err != nil {
			return e.readerOnly(ctx, tx, caller, cmd.OnBehalfOf, cc.Case.ID, err)
		}
		c := cc.Case
		p := e.paths[c.Path]
		def, ok := p.Event(cmd.Event)
		if !ok {
			return Invalid("event", fmt.Sprintf("unknown event %q of path %s", cmd.Event, c.Path))
		}
		var preparers []int64
		if def.NotByPreparer {
			history, err := tx.CaseEvents(ctx, c.ID)
			if err != nil {
				return err
			}
			preparers = e.preparers(&c, history)
		}
		if err := e.mayFire(cmd.Actor, &c, def, preparers); err != nil {
			return err
		}
		if cmd.ExpectedVersion != c.Version {
			return fmt.Errorf("%w: case %d is at version %d, not %d", ErrStale, c.ID, c.Version, cmd.ExpectedVersion)
		}
		if cmd.Comment, err = inputComment(cmd.Comment); err != nil {
			return err
		}
		if def.CommentRequired && cmd.Comment == "" {
			return Invalid("comment", string(def.Name)+" needs a comment giving the reason")
		}
		snap := e.snapshotOf(cmd.Actor, cc, fc.Trainings, fc.Certificates, now)
		tr, err := e.run(ctx, p, def, snap, cmd.Input)
		if err != nil {
			return err
		}
		if err := dropGoneHolders(ctx, tx, fc.Tasks); err != nil {
			return err
		}
		if err := checkClaims(ctx, tx, fc.Tasks, cmd.Actor, def, tr); err != nil {
			return err
		}
		ch, err := e.commit(ctx, tx, tr, cmd, now)
		if err != nil {
			return err
		}
		res = Result{Case: ch.Case, Event: ch.Event, Opened: ch.OpenTasks, Closed: ch.CloseTasks, Documents: []DocumentStatus{}}
		for _, d := range ch.Documents {
			res.Documents = append(res.Documents, DocumentStatus{JobID: d.ID, Doc: d.Doc, EventID: ch.Event.ID, State: "pending"})
		}
		return remember(ctx, tx, caller.UserID, cmd.IdempotencyKey, fp, c.ID, &res, now)
	})
	if err != nil {
		var first Result
		if err = e.retried(ctx, caller.UserID, cmd.IdempotencyKey, fp, &first, err); err == nil {
			res = first
			res.Replayed = true
		}
	}
	return res, err
}

// run fires def through looplab/fsm: the effect and the guards run in the
// before_<event> callback and cancel the transition on any failure.
func (e *Engine) run(ctx context.Context, p *compiledPath, def *EventDef, snap *Snapshot, input json.RawMessage) (*Transition, error) {
	tr := &Transition{Snap: snap, Def: def, Input: input, Data: snap.Case.Data, DueBase: snap.Today}
	f := fsm.NewFSM(string(snap.Case.State), p.fsm, fsm.Callbacks{
		"before_" + string(def.Name): func(_ context.Context, ev *fsm.Event) {
			if def.Effect != nil {
				if err := def.Effect(tr); err != nil {
					ev.Cancel(err)
					return
				}
			} else if len(input) > 0 && string(input) != "null" && string(input) != "{}" {
				ev.Cancel(Invalid("data", string(def.Name)+" takes no data"))
				return
			}
			if err := checkGuards(def.Guards, snap); err != nil {
				ev.Cancel(err)
				return
			}
			if err := tr.checkCertificateChange(); err != nil {
				ev.Cancel(err)
			}
		},
	})
	err := f.Event(ctx, string(def.Name))
	if err == nil && snap.Case.State == StateNew && f.Current() != string(def.To) {
		err = fmt.Errorf("workflow: open event of %s ended in %s", p.Name, f.Current())
	}
	var (
		inv      fsm.InvalidEventError
		canceled fsm.CanceledError
		same     fsm.NoTransitionError
	)
	switch {
	case err == nil, errors.As(err, &same) && same.Err == nil:
		return tr, nil
	case errors.As(err, &inv):
		return nil, &InvalidTransitionError{Event: def.Name, State: snap.Case.State}
	case errors.As(err, &canceled) && canceled.Err != nil:
		return nil, canceled.Err
	}
	return nil, fmt.Errorf("workflow: fsm: %w", err)
}

// checkCertificateChange runs the certificate's own lifecycle table on the
// change the effect asks for: a case cannot move a certificate where its
// lifecycle does not go (a cancelled certificate is never suspended).
func (t *Transition) checkCertificateChange() error {
	m := t.CertificateChange
	if m == nil {
		return nil
	}
	cert := t.Snap.certificateByID(m.CertificateID)
	if cert == nil {
		return fmt.Errorf("workflow: certificate %d is not the person's", m.CertificateID)
	}
	to, err := NextCertificateState(cert.State, m.Event)
	if err != nil {
		return err
	}
	m.to = to
	return nil
}

// checkGuards runs every guard and reports every failed condition at once,
// so the preparer learns all that is missing in one answer.
func checkGuards(gs []Guard, s *Snapshot) error {
	var v []Violation
	for _, g := range gs {
		if g.Check != nil {
			if cond := g.Check(s); cond != "" {
				v = append(v, Violation{g.Article, cond})
			}
		}
		if g.Each != nil {
			for _, cond := range g.Each(s) {
				v = append(v, Violation{g.Article, cond})
			}
		}
	}
	if v != nil {
		return &GuardError{Violations: v}
	}
	return nil
}

// change turns a computed transition into the rows to write.
func (e *Engine) change(tr *Transition, cmd Command, now time.Time) *Change {
	c := tr.Snap.Case
	def := tr.Def
	next := c
	next.State = def.To
	next.Data = tr.Data
	next.UpdatedAt = now
	ch := &Change{
		Case: next,
		Event: Event{
			CaseID: c.ID, Seq: c.Version + 1, Event: def.Name, From: c.State, To: def.To,
			Actor: cmd.Actor.UserID, OnBehalfOf: cmd.OnBehalfOf, At: now, Comment: cmd.Comment, Data: compactJSON(cmd.Input),
		},
		NewCertificate: tr.NewCertificate,
		CloseTasks:     tr.Close,
		Now:            now,
	}
	for _, k := range slices.Concat(def.Closes, def.Discards) {
		ch.CloseTasks = append(ch.CloseTasks, TaskRef{Kind: k})
	}
	if m := tr.CertificateChange; m != nil {
		cert := tr.Snap.certificateByID(m.CertificateID)
		ch.CertificateMove = &CertificateMove{ID: cert.ID, Version: cert.Version, To: m.to, ReceivedOn: m.ReceivedOn}
	}
	for _, spec := range def.Opens {
		t := Task{CaseID: c.ID, Kind: spec.Kind, Role: spec.Role, OrgUnitID: c.OrgUnitID, Status: TaskOpen, CreatedAt: now}
		if spec.Due != nil {
			t.DueOn = spec.Due(tr)
		}
		if spec.ToPreparer && c.Preparer != 0 {
			t.AssigneeID, t.AssignedAt = c.Preparer, &now // commit checks they still may
		}
		if def.Prepares {
			t.Submitter = cmd.Actor.UserID
		}
		ch.OpenTasks = append(ch.OpenTasks, t)
	}
	for _, t := range tr.Tasks {
		t.CaseID, t.Status, t.CreatedAt = c.ID, TaskOpen, now
		ch.OpenTasks = append(ch.OpenTasks, t)
	}
	for _, d := range def.Docs {
		ch.Documents = append(ch.Documents, DocumentJob{Doc: d.Kind, CaseID: c.ID, Article: d.Article})
	}
	if p := tr.Snap.Person; p.ID != 0 && (tr.Employment != "" || tr.Post != nil || ch.NewCertificate != nil || ch.CertificateMove != nil) {
		emp := tr.Employment
		if emp == "" {
			emp = p.Employment
		}
		ch.Person = &PersonTouch{ID: p.ID, Version: p.Version, Employment: emp, Post: tr.Post}
	}
	return ch
}

// commit writes the transition and opens the cases it spawns, in the
// caller's transaction.
func (e *Engine) commit(ctx context.Context, tx Tx, tr *Transition, cmd Command, now time.Time) (*Change, error) {
	ch := e.change(tr, cmd, now)
	// Tasks to open for a holder (TaskSpec.ToPreparer) who is gone go to
	// their role: nobody else could complete or pass them on.
	if err := dropGoneHolders(ctx, tx, ch.OpenTasks); err != nil {
		return nil, err
	}
	if err := tx.Apply(ctx, ch); err != nil {
		return nil, err
	}
	for _, in := range tr.Spawn {
		if _, err := e.open(ctx, tx, cmd.Actor, in, true, now); err != nil {
			return nil, fmt.Errorf("workflow: opening %s after %s: %w", in.Path, tr.Def.Name, err)
		}
	}
	if m := ch.CertificateMove; m != nil && m.To == CertReturned {
		why := fmt.Sprintf("证件已由%s案件 %s 处理，现为“%s”，本案随之结束（certflow 自动记录）", e.paths[ch.Case.Path].Title, ch.Case.Number, m.To.Label())
		if err := e.follow(ctx, tx, cmd, FollowCertificateReturned, m.ID, tr.Snap.certificateByID(m.ID).PersonID, why, &ch.Case, now); err != nil {
			return nil, err
		}
	}
	if pt := ch.Person; pt != nil && pt.Employment == EmploymentDeparted && tr.Snap.Person.Employment != EmploymentDeparted {
		// Gone from the department: so is their access (Art. 18). An
		// administrator enables the account again if they come back.
		if _, err := tx.DisableUsersOf(ctx, pt.ID); err != nil {
			return nil, err
		}
		why := fmt.Sprintf("持证人已离岗（%s案件 %s），本案随之结束（certflow 自动记录）", e.paths[ch.Case.Path].Title, ch.Case.Number)
		if err := e.follow(ctx, tx, cmd, FollowHolderDeparted, 0, pt.ID, why, &ch.Case, now); err != nil {
			return nil, err
		}
	}
	return ch, nil
}

// follow fires the events that follow what cause's transition did (what,
// to certificate cert of holder, or to holder alone: EventDef.Follows) on
// every other case of their paths about the certificate — or about the
// holder, for a path about a person or for what happened to the holder —
// that is in one of their From states: in the same transaction, in the
// name of cmd's actor, with the comment why.
func (e *Engine) follow(ctx context.Context, tx Tx, cmd Command, what Follow, cert, holder int64, why string, cause *Case, now time.Time) error {
	for _, fl := range e.followers[what] {
		def := fl.def
		f := CaseFilter{Scope: Scope{All: true}, Path: fl.path.Name, PersonID: holder}
		if fl.path.Subject == SubjectCertificate && cert != 0 {
			f = CaseFilter{Scope: Scope{All: true}, Path: fl.path.Name, CertificateID: cert}
		}
		err := eachCase(ctx, tx, f, func(o Case) error {
			if o.ID == cause.ID || !slices.Contains(def.From, o.State) {
				return nil
			}
			fc, err := tx.FireContext(ctx, o.ID)
			if err != nil {
				return err
			}
			if _, fires, err := e.followerTransition(ctx, fl, fc, cmd.Actor, now); err != nil || !fires {
				return err // a guard still refuses: not this follower's to end
			}
			if _, err := e.fireFollower(ctx, tx, fl, o.ID, Command{Actor: cmd.Actor, OnBehalfOf: cmd.OnBehalfOf, Comment: why}, now); err != nil {
				return fmt.Errorf("workflow: %s on case %d after %s: %w", def.Name, o.ID, cause.Number, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// fireFollower fires fl's event on case id, as cmd's actor with its
// comment, and reports whether it fired: a case no longer in the event's
// From states, or whose guard still refuses (another certificate is out),
// is not the follower's to end and is left as it is. Its callers found it
// due on a read without a lock; it is locked, then read again, before it
// is written: a task act committed on it meanwhile is waited for rather
// than a version conflict failing the command that triggered this one, or
// the night's sweep. (A deadlock with a transaction locking the same rows
// in another order is still possible, and answers 409.)
func (e *Engine) fireFollower(ctx context.Context, tx Tx, fl follower, id int64, cmd Command, now time.Time) (bool, error) {
	if err := tx.LockCase(ctx, id); err != nil {
		return false, err
	}
	fc, err := tx.FireContext(ctx, id)
	if err != nil || !slices.Contains(fl.def.From, fc.Case.State) {
		return false, err // moved on while it was waited for
	}
	tr, fires, err := e.followerTransition(ctx, fl, fc, cmd.Actor, now)
	if !fires || err != nil {
		return false, err
	}
	cmd.CaseID, cmd.Event, cmd.ExpectedVersion = fc.Case.ID, fl.def.Name, fc.Case.Version
	_, err = e.commit(ctx, tx, tr, cmd, now)
	return err == nil, err
}

// followerTransition runs fl's event on the case of fc as actor without
// writing anything, and reports whether it fires: false when a guard
// refuses. It is what fireFollower commits, and what tells the nightly
// settle (settleFollowers) whether a case is worth a write transaction.
func (e *Engine) followerTransition(ctx context.Context, fl follower, fc FireContext, actor *Actor, now time.Time) (*Transition, bool, error) {
	snap := e.snapshotOf(actor, fc.CaseContext, fc.Trainings, fc.Certificates, now)
	tr, err := e.run(ctx, fl.path, fl.def, snap, nil)
	var ge *GuardError
	if errors.As(err, &ge) {
		return nil, false, nil
	}
	return tr, err == nil, err
}

// eachCase calls fn on every case f matches (f.Limit and f.After are its
// own), in ID order, a page at a time.
func eachCase(ctx context.Context, tx Tx, f CaseFilter, fn func(Case) error) error {
	f.Limit, f.After = 100, 0
	for {
		cases, err := tx.ListCases(ctx, f)
		if err != nil {
			return err
		}
		for _, c := range cases {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(cases) < f.Limit {
			return nil
		}
		f.After = cases[len(cases)-1].ID
	}
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil
	}
	return b.Bytes()
}

// view builds the case view of case id for actor.
func (e *Engine) view(ctx context.Context, tx Tx, actor *Actor, id int64) (CaseView, error) {
	cc, copied, err := e.readableCase(ctx, tx, actor, id)
	if err != nil {
		return CaseView{}, err
	}
	v, err := e.viewOf(ctx, tx, actor, cc.Case, cc.Person.Name)
	if copied {
		v.Allowed, v.OnBehalf = []AllowedEvent{}, nil // a copy reads, never acts
	}
	return v, err
}

// viewOf builds the view of c, already loaded and known to be visible.
func (e *Engine) viewOf(ctx context.Context, tx Tx, actor *Actor, c Case, personName string) (CaseView, error) {
	id := c.ID
	v := CaseView{Case: c, PersonName: personName}
	if p := e.paths[c.Path]; p != nil {
		v.StateLabel = p.StateLabel(c.State)
	}
	var err error
	if v.History, err = tx.CaseEvents(ctx, id); err != nil {
		return CaseView{}, err
	}
	p := e.paths[c.Path]
	for i := range v.History {
		h := &v.History[i]
		h.Label = actLabels[h.Event]
		if p == nil {
			continue
		}
		if def, ok := p.Event(h.Event); ok {
			h.Label = def.Label
		}
	}
	if v.Tasks, err = tx.CaseTasks(ctx, id); err != nil {
		return CaseView{}, err
	}
	if err := dropGoneHolders(ctx, tx, v.Tasks); err != nil {
		return CaseView{}, err
	}
	preparers := e.preparers(&c, v.History)
	v.Allowed = e.allowed(actor, &c, v.Tasks, preparers)
	if v.Documents, err = tx.CaseDocuments(ctx, id); err != nil {
		return CaseView{}, err
	}
	if v.OnBehalf, err = e.onBehalfAllowed(ctx, tx, actor, &c, v.Tasks, preparers); err != nil {
		return CaseView{}, err
	}
	return v, nil
}

// CaseView returns case id as actor sees it.
func (e *Engine) CaseView(ctx context.Context, actor *Actor, id int64) (CaseView, error) {
	var v CaseView
	err := e.store.View(ctx, func(tx Tx) (err error) {
		v, err = e.view(ctx, tx, actor, id)
		return err
	})
	return v, err
}

// OpenCaseInput opens a case of Path about PersonID or CertificateID.
type OpenCaseInput struct {
	Path          PathName `json:"path"`
	PersonID      int64    `json:"person_id,omitempty"`
	CertificateID int64    `json:"certificate_id,omitempty"`
	// OrgUnitID is the department of a case about nobody yet (a complaint
	// naming no known officer, HR's notice).
	OrgUnitID      int64           `json:"org_unit_id,omitempty"`
	Data           json.RawMessage `json:"data,omitempty"`
	Comment        string          `json:"comment,omitempty"`
	IdempotencyKey string          `json:"-"`
	// joinOpen: a spawned case that Path.OneOpen finds already in
	// progress for its subject is not opened; the one in progress covers
	// it (a second 转岗 report while the retention decision is pending).
	joinOpen bool
}

// OpenCase opens a case by firing its path's open event: the same guards,
// effects, tasks and documents as any other event, and the actor must hold
// one of its roles at the department that runs the case.
func (e *Engine) OpenCase(ctx context.Context, actor *Actor, in OpenCaseInput) (CaseView, error) {
	if actor == nil {
		return CaseView{}, ErrUnauthenticated
	}
	if in.Path == PathTownshipBatch {
		return CaseView{}, Invalid("path", "a township_batch is compiled from the applications it lists: CompileBatch (POST /api/v1/batches)")
	}
	subject := fmt.Sprintf("%s\x00%d\x00%d\x00%d", in.Path, in.PersonID, in.CertificateID, in.OrgUnitID)
	fp := fingerprint("open", 0, subject, 0, in.Comment, in.Data)
	return e.openOnce(ctx, actor, in.IdempotencyKey, fp, func(Tx) (OpenCaseInput, error) { return in, nil })
}

// openOnce opens the case that input builds, in one transaction, and
// returns its view; a retry with the same idempotency key (fingerprint
// fp) returns the first view and writes nothing.
func (e *Engine) openOnce(ctx context.Context, actor *Actor, key, fp string, input func(Tx) (OpenCaseInput, error)) (CaseView, error) {
	var view CaseView
	err := e.store.Update(ctx, func(tx Tx) error {
		if done, err := replay(ctx, tx, actor.UserID, key, fp, &view); done || err != nil {
			return err
		}
		now := e.Now()
		in, err := input(tx)
		if err != nil {
			return err
		}
		c, err := e.open(ctx, tx, actor, in, false, now)
		if err != nil {
			return err
		}
		if view, err = e.view(ctx, tx, actor, c.ID); err != nil {
			return err
		}
		return remember(ctx, tx, actor.UserID, key, fp, c.ID, &view, now)
	})
	if err != nil {
		var first CaseView
		if err = e.retried(ctx, actor.UserID, key, fp, &first, err); err == nil {
			view = first
		}
	}
	return view, err
}

// oneOpen refuses a second case of path p in progress about the same
// subject as c: its certificate for a path about one, else its person
// (Path.OneOpen).
func (e *Engine) oneOpen(ctx context.Context, tx Tx, p *Path, c *Case) error {
	if p.OneOpen == "" {
		return nil
	}
	f := CaseFilter{Scope: Scope{All: true}, Path: p.Name}
	about := "this person"
	switch {
	case p.Subject == SubjectCertificate && c.CertificateID > 0:
		f.CertificateID, about = c.CertificateID, "this certificate"
	case c.PersonID > 0:
		f.PersonID = c.PersonID
	default:
		return nil
	}
	return eachCase(ctx, tx, f, func(o Case) error {
		if p.Final(o.State) {
			return nil
		}
		return &GuardError{Violations: []Violation{{Article: p.OneOpen,
			Condition: fmt.Sprintf("%s %s about %s is still in progress (%s)", p.Title, o.Number, about, p.StateLabel(o.State))}}}
	})
}

// open opens a case inside tx. A system opening (a case another transition
// spawns) skips the actor's role check: the spawning event was authorised.
func (e *Engine) open(ctx context.Context, tx Tx, actor *Actor, in OpenCaseInput, system bool, now time.Time) (Case, error) {
	p, ok := e.paths[in.Path]
	if !ok {
		return Case{}, Invalid("path", fmt.Sprintf("unknown path %q", in.Path))
	}
	if p.SpawnedBy != "" && !system {
		return Case{}, Invalid("path", fmt.Sprintf("a %s case is opened by %s, not by hand", p.Name, p.SpawnedBy))
	}
	comment, err := inputComment(in.Comment)
	if err != nil {
		return Case{}, err
	}
	for _, id := range []struct {
		field string
		id    int64
	}{{"person_id", in.PersonID}, {"certificate_id", in.CertificateID}, {"org_unit_id", in.OrgUnitID}} {
		if err := positiveID(id.field, id.id); err != nil {
			return Case{}, err
		}
	}
	def, _ := p.Event(EvOpen)
	c := Case{Path: p.Name, State: StateNew, PersonID: in.PersonID, CertificateID: in.CertificateID,
		Preparer: actor.UserID, Data: json.RawMessage("{}"), CreatedAt: now, UpdatedAt: now}
	var cc CaseContext
	switch {
	case p.Subject == SubjectCertificate && in.CertificateID == 0:
		return Case{}, Invalid("certificate_id", "required")
	case p.Subject == SubjectPerson && in.PersonID == 0:
		return Case{}, Invalid("person_id", "required")
	}
	var cert Certificate
	if in.CertificateID > 0 {
		var err error
		if cert, err = tx.Certificate(ctx, in.CertificateID); err != nil {
			return Case{}, err
		}
		if in.PersonID != 0 && in.PersonID != cert.PersonID {
			return Case{}, Invalid("person_id", "is not the certificate's holder")
		}
		c.PersonID = cert.PersonID
	}
	if c.PersonID > 0 {
		var err error
		if cc.Person, err = tx.Person(ctx, c.PersonID); err != nil {
			return Case{}, err
		}
		if cc.Unit, err = tx.OrgUnit(ctx, cc.Person.OrgUnitID); err != nil {
			return Case{}, err
		}
		chain, err := tx.OrgChain(ctx, cc.Unit.ID)
		if err != nil {
			return Case{}, err
		}
		if !system && actor.PersonID != c.PersonID && !actor.CanSeeUnit(chain) {
			// Named as the caller named it: a certificate out of reach is
			// as unknown as one that does not exist, holder and all.
			if in.CertificateID > 0 {
				return Case{}, fmt.Errorf("certificate %d: %w", in.CertificateID, ErrNotFound)
			}
			return Case{}, fmt.Errorf("person %d: %w", c.PersonID, ErrNotFound)
		}
		c.OrgUnitID = cc.Unit.DeptID
		if p.Department == DeptRegion {
			c.OrgUnitID = chain[0]
		}
	}
	if p.Department == DeptOfCertificate && cert.ID != 0 {
		c.OrgUnitID = cert.OrgUnitID
	}
	if c.OrgUnitID == 0 && in.OrgUnitID > 0 && p.Subject == SubjectAny {
		// A unit out of the actor's reach, where they hold no role
		// either, is as unknown as one that does not exist.
		noUnit := Invalid("org_unit_id", fmt.Sprintf("no org unit %d", in.OrgUnitID))
		u, err := tx.OrgUnit(ctx, in.OrgUnitID)
		if err != nil {
			return Case{}, noUnit
		}
		chain, err := tx.OrgChain(ctx, u.ID)
		if err != nil {
			return Case{}, err
		}
		if !system && !actor.CanSeeUnit(chain) && !slices.ContainsFunc(actor.Roles, func(b RoleBinding) bool { return slices.Contains(chain, b.OrgUnitID) }) {
			return Case{}, noUnit
		}
		c.OrgUnitID = u.DeptID
		if p.Department == DeptRegion {
			if u.DeptID != chain[0] {
				return Case{}, Invalid("org_unit_id", fmt.Sprintf("a %s case is the 自治区 department's: name it (org unit %d)", p.Name, chain[0]))
			}
			c.OrgUnitID = chain[0]
		}
	}
	if c.OrgUnitID == 0 {
		return Case{}, Invalid("person_id", "the case needs a person, a certificate or a department")
	}
	if cc.Department, err = tx.OrgUnit(ctx, c.OrgUnitID); err != nil {
		return Case{}, err
	}
	if cc.Chain, err = tx.OrgChain(ctx, c.OrgUnitID); err != nil {
		return Case{}, err
	}
	cc.Case = c
	if !system {
		if err := e.mayFire(actor, &c, def, e.preparers(&c, nil)); err != nil {
			return Case{}, err
		}
	}
	if err := e.oneOpen(ctx, tx, p.Path, &c); err != nil {
		var ge *GuardError
		if in.joinOpen && errors.As(err, &ge) {
			return Case{}, nil
		}
		return Case{}, err
	}
	snap, err := e.snapshot(ctx, tx, actor, cc, now)
	if err != nil {
		return Case{}, err
	}
	snap.Spawned = system
	tr, err := e.run(ctx, e.paths[p.Name], def, snap, in.Data)
	if err != nil {
		return Case{}, err
	}
	ch, err := e.commit(ctx, tx, tr, Command{Actor: actor, Event: EvOpen, Comment: comment, Input: in.Data}, now)
	if err != nil {
		return Case{}, err
	}
	return ch.Case, nil
}

// errDuplicateKey is what a store returns (wrapped in ErrConflict) when a
// concurrent request saved the same idempotency key first.
var errDuplicateKey = fmt.Errorf("%w: idempotency key in use", ErrDuplicate)

// ErrDuplicateIdempotencyKey lets stores report errDuplicateKey.
var ErrDuplicateIdempotencyKey = errDuplicateKey

func fingerprint(op string, id int64, name string, version int64, comment string, input json.RawMessage) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s\x00%d\x00%s\x00", op, id, name, version, comment)
	h.Write(compactJSON(input))
	return hex.EncodeToString(h.Sum(nil))
}

// replay answers a retried command from its stored result, decoded into out.
func replay(ctx context.Context, tx Tx, user int64, key, fp string, out any) (bool, error) {
	if key == "" {
		return false, nil
	}
	if len(key) > MaxIdempotencyKey || strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		return true, Invalid("Idempotency-Key", fmt.Sprintf("at most %d printable ASCII characters (a UUID, say)", MaxIdempotencyKey))
	}
	rec, err := tx.Idempotency(ctx, user, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if rec.Fingerprint != fp {
		return true, Invalid("Idempotency-Key", "already used for a different request")
	}
	return true, json.Unmarshal(rec.Result, out)
}

// retried answers a keyed command that failed as an earlier attempt of it
// did, if one committed: a concurrent retry took the key first, or, when
// a client retries after its answer was cut off, the first attempt's
// commit became visible between this attempt's replay check and its later
// reads (PostgreSQL's read committed gives each statement its own
// snapshot). Those reads then found the case changed (a conflict) or, for
// an opening, the case the first attempt opened (Art. 4: one in
// progress): any failure, not only a conflict. out gets the first answer.
// A failure the key has no record of stays the failure.
func (e *Engine) retried(ctx context.Context, user int64, key, fp string, out any, err error) error {
	if key == "" || err == nil {
		return err
	}
	rerr := e.replayOutside(ctx, user, key, fp, out)
	if rerr == nil || errors.Is(err, errDuplicateKey) {
		return rerr
	}
	return err
}

func (e *Engine) replayOutside(ctx context.Context, user int64, key, fp string, out any) error {
	return e.store.View(ctx, func(tx Tx) error {
		done, err := replay(ctx, tx, user, key, fp, out)
		if err == nil && !done {
			err = fmt.Errorf("%w: idempotency key %q vanished", ErrStale, key)
		}
		return err
	})
}

// MaxIdempotencyKey is the longest Idempotency-Key taken, checked before
// the command runs (replay).
const MaxIdempotencyKey = 200

func remember(ctx context.Context, tx Tx, user int64, key, fp string, caseID int64, result any, now time.Time) error {
	if key == "" {
		return nil
	}
	b, err := json.Marshal(result)
	if err != nil {
		return err
	}
	return tx.SaveIdempotency(ctx, &IdempotencyRecord{UserID: user, Key: key, Fingerprint: fp, CaseID: caseID, Result: b, CreatedAt: now})
}
