package workflow

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// The inbox (待办) and what approvers do to a task besides completing it.
//
// Whose tasks: an open task is for a role at a department. The caller's
// inbox holds the tasks of every (role, department) they hold, and, while a
// delegation (代理) to them runs, those of the delegator. A task someone
// holds — claimed, or given to them by 转交 — still shows to the others of
// its role, marked with who holds it: they can see its case anyway, and
// they learn not to start on it. Only the holder (or their deputy, acting
// for them) completes it; Fire refuses the others with ErrConflict.
//
// Conflicts: a task is left out of the inbox of whoever may not complete
// it: the person the case is about (nobody acts on their own certificate)
// and, for tasks only NotByPreparer events complete, the case's preparer.
// A deputy carries the delegator's roles and both their conflicts: the
// deputy's own, and the delegator's, whose authority never reached those
// cases either.
//
// Completing a task is firing its case's event (Fire); the events close
// their tasks, and a claim on a closed task no longer matters: the
// assignee stays on the closed row as who held it. Overdue tasks are
// escalated to the principal leader by the deadline sweep (deadlines.go);
// the inbox only marks them.
//
// History: every act on a task (claim, unclaim, 转交, 催办) and every copy
// (抄送) is a row of the case's history, from and to the case's current
// state, with actor, on whose behalf, time and comment. Each bumps the case
// version as an event does, so a history row's seq stays the version it
// produced (unique, one order), and a claim that races an approval is
// caught by the version check the approval already makes. The price: an
// act makes the version others read stale, and their next event answers
// 409 until they read the case again — which then shows them the act.

// Acts on a task or a case that are not events of its path.
const (
	// ActClaim: a user took a group task (认领).
	ActClaim EventName = "task.claim"
	// ActUnclaim: the holder gave the task back to its role.
	ActUnclaim EventName = "task.unclaim"
	// ActReassign: 转交, the task given to a named user, with a reason.
	ActReassign EventName = "task.reassign"
	// ActRemind: 催办, the task's holder (or its role) urged; at most once
	// per task per RemindEvery.
	ActRemind EventName = "task.remind"
	// ActCopy: 抄送, the case copied to users who may then read it.
	ActCopy EventName = "case.copy"
)

// TaskActs lists the acts, for the history's vocabulary.
var TaskActs = []EventName{ActClaim, ActUnclaim, ActReassign, ActRemind, ActCopy}

// Task priorities.
const (
	PriorityNormal = 0
	// PriorityUrgent: someone urged the task (催办); it sorts first.
	PriorityUrgent = 1
)

// RemindEvery is how often a task may be urged.
const RemindEvery = 24 * time.Hour

// NoDueDate is where tasks without a due date sort: after every real one.
var NoDueDate = Date{9999, time.December, 31}

// RateLimitError refuses an act repeated too soon; RetryAfter says when it
// may be repeated.
type RateLimitError struct {
	What       string
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("workflow: %s; again after %s", e.What, e.RetryAfter.Round(time.Second))
}

// InboxSort orders an inbox.
type InboxSort string

const (
	// SortDue: earliest due date first; tasks without one last.
	SortDue InboxSort = "due"
	// SortPriority: urgent first, then by due date.
	SortPriority InboxSort = "priority"
	// SortAge: oldest first. Task IDs are assigned as tasks open, so this
	// is ID order.
	SortAge InboxSort = "age"
)

// InboxSorts lists the sort orders.
var InboxSorts = []InboxSort{SortDue, SortPriority, SortAge}

// ClaimFilter selects tasks by who holds them.
type ClaimFilter string

const (
	// ClaimedByMe: tasks the caller holds, or a delegator of theirs does.
	ClaimedByMe ClaimFilter = "me"
	// Unclaimed: group tasks nobody holds.
	Unclaimed ClaimFilter = "none"
	// ClaimedByOthers: tasks someone else holds.
	ClaimedByOthers ClaimFilter = "others"
)

// ClaimFilters lists the claim filters.
var ClaimFilters = []ClaimFilter{ClaimedByMe, Unclaimed, ClaimedByOthers}

// InboxFilter is what a caller asks of their inbox. Zero values select
// everything.
type InboxFilter struct {
	Path      PathName
	State     State // the case's state
	Kind      TaskKind
	OrgUnitID int64 // the task's department
	DueBefore Date  // due strictly before
	Overdue   bool
	Claimed   ClaimFilter
	Sort      InboxSort // default SortDue
	// Cursor is the NextCursor of the previous page, of the same sort.
	Cursor string
	Limit  int // 1 to 500, default DefaultInboxLimit
}

// DefaultInboxLimit is an inbox page's size unless asked otherwise: a
// screenful, as the approval tools approvers know show (DingTalk and
// Feishu list 20 to-dos at a time).
const DefaultInboxLimit = 20

// MaxInboxLimit is the largest inbox page.
const MaxInboxLimit = 500

// InboxSource is one (role, department) an inbox draws from: the caller's
// own, or a delegator's.
type InboxSource struct {
	Role      Role
	OrgUnitID int64
	// Via is the delegator whose binding this is; 0 for the caller's own.
	Via int64
	// ExcludePerson and ExcludePreparer are the delegator's conflicts.
	ExcludePerson   int64
	ExcludePreparer int64
}

// InboxKey is a row's place in its sort order: what a cursor holds.
type InboxKey struct {
	Priority int
	Due      Date // NoDueDate for a task without one
	ID       int64
}

// InboxQuery is an inbox as the store runs it.
type InboxQuery struct {
	Sources []InboxSource
	// The caller's conflicts: tasks about ExcludePerson, and tasks of a
	// BarredKinds kind on cases ExcludePreparer opened, or opened by an
	// event of theirs that prepared the case (Task.Submitter), are left
	// out. Earlier submissions of a case sent back and submitted again by
	// someone else are not known to the inbox: acting on the task is
	// refused all the same.
	ExcludePerson   int64
	ExcludePreparer int64
	BarredKinds     []TaskKind
	// Holders are the users whose claims are the caller's: the caller and
	// the delegators they stand in for.
	Holders []int64
	Today   Date
	Filter  InboxFilter
	After   *InboxKey
	Limit   int
	// DelegatorsOf, if set, has InboxRead also read that user's
	// delegators on Today (InboxTx.Delegators) in the same trip, and read
	// the page and counts only if there are none (InboxRead.Deputy).
	DelegatorsOf int64
}

// InboxTask is an open task with what an inbox shows about its case.
type InboxTask struct {
	Task
	KindLabel  string   `json:"kind_label"` // the kind in Chinese
	CaseNumber string   `json:"case_number"`
	Path       PathName `json:"path"`
	State      State    `json:"state"`
	PersonName string   `json:"person_name"`
	// CaseVersion lets the caller fire the case's event from the inbox.
	CaseVersion int64 `json:"case_version,omitempty"`
	// Overdue: the due date has passed (China time). The deadline sweep
	// escalates such tasks to the principal leader (GET /reminders).
	Overdue      bool   `json:"overdue"`
	AssigneeName string `json:"assignee_name,omitempty"`
	// ClaimedByMe: the caller holds the task, or a delegator of theirs does.
	ClaimedByMe bool `json:"claimed_by_me,omitempty"`
	// OnBehalfOf is the delegator the caller works on this task for: pass
	// it with the event (on_behalf_of_user_id). 0: the caller's own.
	OnBehalfOf     int64  `json:"on_behalf_of_user_id,omitempty"`
	OnBehalfOfName string `json:"on_behalf_of_name,omitempty"`
}

// InboxCountRow counts a caller's open tasks of one (role, department,
// path, kind), as the store groups them.
type InboxCountRow struct {
	Role      Role
	OrgUnitID int64
	Path      PathName
	Kind      TaskKind
	Total     int
	Overdue   int
	Mine      int // held by one of the Holders
	// ForDelegators: held by one of the Holders after the first (the
	// caller's delegators), whatever role brought the task in.
	ForDelegators int
	Unclaimed     int
}

// InboxCounts are the badges of an inbox: counts over all of it, whatever
// the page's filters.
type InboxCounts struct {
	Total           int         `json:"total"`
	Overdue         int         `json:"overdue"`
	ClaimedByMe     int         `json:"claimed_by_me"`
	Unclaimed       int         `json:"unclaimed"`
	ClaimedByOthers int         `json:"claimed_by_others"`
	Delegated       int         `json:"delegated"` // tasks the caller sees as someone's deputy
	ByPath          []PathCount `json:"by_path"`
	ByKind          []KindCount `json:"by_kind"`
	ByOrgUnit       []UnitCount `json:"by_org_unit"`
}

// PathCount is a badge per path.
type PathCount struct {
	Path  PathName `json:"path"`
	Count int      `json:"count"`
}

// KindCount is a badge per task kind.
type KindCount struct {
	Kind  TaskKind `json:"kind"`
	Count int      `json:"count"`
}

// UnitCount is a badge per department.
type UnitCount struct {
	OrgUnitID int64 `json:"org_unit_id"`
	Count     int   `json:"count"`
}

// InboxPage is one page of an inbox with its badges.
type InboxPage struct {
	Items []InboxTask `json:"items"`
	// NextCursor is present when another page follows: pass it as cursor,
	// with the same sort, for the next page.
	NextCursor string      `json:"next_cursor,omitempty"`
	Counts     InboxCounts `json:"counts"`
}

// Delegation (代理) passes a user's authority to a deputy for a date range.
type Delegation struct {
	ID            int64      `json:"id"`
	DelegatorID   int64      `json:"delegator_user_id"`
	DelegatorName string     `json:"delegator_name"`
	DeputyID      int64      `json:"deputy_user_id"`
	DeputyName    string     `json:"deputy_name"`
	StartsOn      Date       `json:"starts_on"`
	EndsOn        Date       `json:"ends_on"` // included
	Reason        string     `json:"reason,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	RevokedBy     int64      `json:"revoked_by_user_id,omitempty"`
	// DelegatorDisabled: the delegator's account is disabled, which
	// suspends the delegation (a deputy stands in for an active user).
	DelegatorDisabled bool `json:"delegator_disabled,omitempty"`
	// DeputyDisabled: the deputy's account is disabled, which suspends
	// the delegation too: nobody can act on it, and the delegator should
	// see that their work is not covered.
	DeputyDisabled bool `json:"deputy_disabled,omitempty"`
	// Active: in force today (China time): not revoked, within its dates
	// and both accounts enabled.
	Active bool `json:"active"`
}

// DelegationInput names a deputy for a date range.
type DelegationInput struct {
	DeputyID int64  `json:"deputy_user_id"`
	StartsOn Date   `json:"starts_on"` // default today
	EndsOn   Date   `json:"ends_on"`
	Reason   string `json:"reason,omitempty"`
}

// MaxDelegationDays bounds a delegation: an absence, not a standing transfer.
const MaxDelegationDays = 366

// Watcher is one copy (抄送) of a case to a user.
type Watcher struct {
	ID      int64
	CaseID  int64
	UserID  int64
	AddedBy int64
	EventID int64
	AddedAt time.Time
}

// CopiedCase is a case copied to the caller (抄送我的).
type CopiedCase struct {
	ID           int64     `json:"id"`
	CaseID       int64     `json:"case_id"`
	CaseNumber   string    `json:"case_number"`
	Path         PathName  `json:"path"`
	State        State     `json:"state"`
	PersonName   string    `json:"person_name"`
	CopiedBy     int64     `json:"copied_by_user_id"`
	CopiedByName string    `json:"copied_by"`
	CopiedAt     time.Time `json:"copied_at"`
	Comment      string    `json:"comment,omitempty"`
}

// InboxRead is what InboxTx.InboxRead reads.
type InboxRead struct {
	Items  []InboxTask
	Counts []InboxCountRow
	// Delegators of InboxQuery.DelegatorsOf, when it is set.
	Delegators []Actor
	// Deputy: with InboxQuery.DelegatorsOf set, the store found that user
	// stands in for someone and read no page or counts: the inbox is read
	// again with the delegators' sources. (Set even if Delegators is empty,
	// when a delegation began between the two reads.)
	Deputy bool
}

// InboxTx is what the inbox, task acts, delegations and copies need of a
// store transaction, besides Tx.
type InboxTx interface {
	InboxCounts(ctx context.Context, q InboxQuery) ([]InboxCountRow, error)
	// InboxRead reads q's page (Tx.Inbox) and counts (InboxCounts) at
	// once, and the delegators q asks for: the stores send the statements
	// together.
	InboxRead(ctx context.Context, q InboxQuery) (InboxRead, error)
	Task(ctx context.Context, id int64) (Task, error)
	// BumpCase increments the case's version (and sets updated_at), which
	// serialises every act on the case's tasks with its events, and
	// returns the new version.
	BumpCase(ctx context.Context, caseID int64, at time.Time) (int64, error)
	// AddEvent writes a history row and sets its ID.
	AddEvent(ctx context.Context, e *Event) error
	// SetAssignee makes userID the task's holder; 0 gives it back to its role.
	SetAssignee(ctx context.Context, taskID, userID int64, at time.Time) error
	// MarkReminded records a 催办 and makes the task urgent.
	MarkReminded(ctx context.Context, taskID int64, at time.Time) error
	// ActorByID returns the enabled user id with their roles.
	ActorByID(ctx context.Context, id int64) (Actor, error)
	// Delegators returns, with their roles, the enabled users whose
	// delegation to deputy runs on day.
	Delegators(ctx context.Context, deputy int64, day Date) ([]Actor, error)
	// HoldUser holds user id's row until the transaction ends: a second
	// transaction that holds it waits, then reads what the first wrote.
	// CreateDelegation checks and writes a delegator's delegations under it.
	// (Not the login lockout, auth's LockUser.)
	HoldUser(ctx context.Context, id int64) error
	CreateDelegation(ctx context.Context, d *Delegation) error
	Delegation(ctx context.Context, id int64) (Delegation, error)
	// Delegations lists the delegations userID gave or received, by ID.
	Delegations(ctx context.Context, userID, after int64, limit int) ([]Delegation, error)
	RevokeDelegation(ctx context.Context, id, by int64, at time.Time) error
	AddWatcher(ctx context.Context, w *Watcher) error
	IsWatcher(ctx context.Context, caseID, userID int64) (bool, error)
	// Copies lists the cases copied to userID, by copy ID.
	Copies(ctx context.Context, userID, after int64, limit int) ([]CopiedCase, error)
}

// LooseViewer is a Store that can also read without a transaction, each
// statement on its own snapshot. The inbox reads that way where the store
// offers it: a page and its badges a moment apart are still a sound
// inbox, and on PostgreSQL it saves the COMMIT round trip.
type LooseViewer interface {
	ViewLoose(ctx context.Context, fn func(Tx) error) error
}

// ViewLoose reads with s's ViewLoose where it has one, else in a read
// transaction. For reads whose statements need not share a snapshot.
func ViewLoose(ctx context.Context, s Store, fn func(Tx) error) error {
	if lv, ok := s.(LooseViewer); ok {
		return lv.ViewLoose(ctx, fn)
	}
	return s.View(ctx, fn)
}

func inboxTx(tx Tx) (InboxTx, error) {
	it, ok := tx.(InboxTx)
	if !ok {
		return nil, fmt.Errorf("workflow: store %T keeps no inbox", tx)
	}
	return it, nil
}

// preparerBarred lists the task kinds only NotByPreparer events complete:
// every event that closes the kind and is fired by the task's role refuses
// the case's preparer (the approval of an application). Their preparer
// never sees them in the inbox, nor may be given them.
var preparerBarred = sync.OnceValue(func() []TaskKind {
	barred := map[TaskKind]bool{} // false once any occurrence is not barred
	for _, p := range AllPaths() {
		for _, ev := range p.Events {
			for _, spec := range ev.Opens {
				completers, guarded := 0, 0
				for _, closer := range p.Events {
					if slices.Contains(closer.Closes, spec.Kind) && slices.Contains(closer.Actors, spec.Role) {
						completers++
						if closer.NotByPreparer {
							guarded++
						}
					}
				}
				b, seen := barred[spec.Kind]
				barred[spec.Kind] = (!seen || b) && completers > 0 && guarded == completers
			}
		}
	}
	var out []TaskKind
	for k, b := range barred {
		if b {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
})

// holder is who holds a task the actor claims: the delegator when acting
// for one (the claim is theirs, the deputy only acted), else the actor.
func (a *Actor) holder() int64 {
	if a.delegator != nil {
		return a.delegator.UserID
	}
	return a.UserID
}

// holds reports whether a task held by user is the actor's to work on.
func (a *Actor) holds(user int64) bool {
	return user == a.UserID || a.delegator != nil && user == a.delegator.UserID
}

// asDeputyOf returns a acting for d: d's roles (officer aside: it reaches
// nothing but the officer's own records), a's identity, and both their
// conflicts (mayFire, conflictWith).
func (a *Actor) asDeputyOf(d *Actor) *Actor {
	dep := &Actor{UserID: a.UserID, Name: a.Name, PersonID: a.PersonID, delegator: d}
	for _, b := range d.Roles {
		if b.Role != RoleOfficer {
			dep.Roles = append(dep.Roles, b)
		}
	}
	return dep
}

// conflictWith says why a may not work on a task of kind on c, or "": the
// case is about a (or, for a deputy, the delegator), or a (or the
// delegator) is one of preparers and the kind is only completed by events the
// preparer may not fire. kind "" checks the case alone.
func (a *Actor) conflictWith(c *Case, kind TaskKind, preparers []int64) string {
	barred := kind != "" && slices.Contains(preparerBarred(), kind)
	for _, who := range []*Actor{a, a.delegator} {
		if who == nil {
			continue
		}
		name := "you"
		if who != a {
			name = "the delegator " + who.Name
		}
		if who.PersonID != 0 && who.PersonID == c.PersonID {
			return "the case is about " + name
		}
		if barred && slices.Contains(preparers, who.UserID) {
			return "the case was prepared or submitted by " + name
		}
	}
	return ""
}

// delegationConflict is mayFire's first check for a deputy: the
// delegator's authority never reached a case where the deputy or the
// delegator has a conflict (their own case; an approval of what either
// prepared).
func (a *Actor) delegationConflict(c *Case, def *EventDef, preparers []int64) error {
	d := a.delegator
	if d == nil {
		return nil
	}
	switch {
	case a.PersonID != 0 && a.PersonID == c.PersonID:
		return fmt.Errorf("%w: a deputy never acts on a case about their own certificate", ErrForbidden)
	case d.PersonID != 0 && d.PersonID == c.PersonID:
		return fmt.Errorf("%w: the case is about %s, whom you stand in for", ErrForbidden, d.Name)
	case def.NotByPreparer && (slices.Contains(preparers, a.UserID) || slices.Contains(preparers, d.UserID)):
		return fmt.Errorf("%w: the preparer of a case may not %s it, nor stand in for whoever does", ErrForbidden, def.Name)
	}
	return nil
}

// acting returns who acts: actor, or, with onBehalfOf, actor standing in
// for the user whose delegation to them runs today.
func (e *Engine) acting(ctx context.Context, tx Tx, actor *Actor, onBehalfOf int64, now time.Time) (*Actor, error) {
	if onBehalfOf == 0 {
		return actor, nil
	}
	if err := positiveID("on_behalf_of_user_id", onBehalfOf); err != nil {
		return nil, err
	}
	if onBehalfOf == actor.UserID {
		return nil, Invalid("on_behalf_of_user_id", "names yourself")
	}
	it, err := inboxTx(tx)
	if err != nil {
		return nil, err
	}
	ds, err := it.Delegators(ctx, actor.UserID, e.today(now))
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if ds[i].UserID == onBehalfOf {
			return actor.asDeputyOf(&ds[i]), nil
		}
	}
	return nil, fmt.Errorf("%w: user %d has no delegation to you in force today", ErrForbidden, onBehalfOf)
}

// checkClaims refuses an event that would complete a task someone else
// holds: the task's kind is among what the event closes and the event is
// the task role's to fire, whichever of its roles the actor fires it in
// (heldElsewhere). Claims are written under a version bump, so the version
// check of Fire makes this race-free.
func checkClaims(ctx context.Context, tx Tx, tasks []Task, actor *Actor, def *EventDef, tr *Transition) error {
	if tr.Snap.Case.ID == 0 {
		return nil
	}
	if t := heldElsewhere(tasks, actor, def, tr.Close); t != nil {
		return fmt.Errorf("%w: task %d (%s) is held by %s: only they complete it, or they give it back first", ErrTaskHeld, t.ID, t.Kind, holderName(ctx, tx, t))
	}
	return nil
}

// holderName is the name of who holds t, or "user <id>" when the store
// cannot tell.
func holderName(ctx context.Context, tx any, t *Task) string {
	if it, ok := tx.(interface {
		ActorByID(context.Context, int64) (Actor, error)
	}); ok {
		if u, err := it.ActorByID(ctx, t.AssigneeID); err == nil {
			return u.Name
		}
	}
	return fmt.Sprintf("user %d", t.AssigneeID)
}

// holderGone reports whether the user holding t can no longer work on it:
// disabled (ActorByID finds only enabled users), or no longer holding its
// role at its department. Their hold binds nobody: the task is their
// role's again (dropGoneHolders, actOnTask), so a colleague never finds
// it stranded.
func holderGone(ctx context.Context, tx Tx, t *Task) (bool, error) {
	if t.AssigneeID == 0 || t.Status != TaskOpen {
		return false, nil
	}
	it, err := inboxTx(tx)
	if err != nil {
		return false, err
	}
	u, err := it.ActorByID(ctx, t.AssigneeID)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !u.Has(t.Role, t.OrgUnitID), nil
}

// dropGoneHolders clears, in tasks as read or about to be opened, the hold
// of every holder who is gone (holderGone): an event completes such a task
// as if nobody held it, the case offers the event to the role, and a task
// opened for a gone preparer opens for their role.
func dropGoneHolders(ctx context.Context, tx Tx, tasks []Task) error {
	for i := range tasks {
		gone, err := holderGone(ctx, tx, &tasks[i])
		if err != nil {
			return err
		}
		if gone {
			tasks[i].AssigneeID, tasks[i].AssignedAt = 0, nil
		}
	}
	return nil
}

// heldElsewhere is the open task among tasks that firing def would complete
// — one of def.Closes, or of refs, the transition's own closes — while
// someone other than actor holds it, or nil. A task counts when its role
// may fire def, whichever of def's roles actor fires it in: the legal
// office records justice's decision, but not over the liaison who
// claimed the task to record it.
func heldElsewhere(tasks []Task, actor *Actor, def *EventDef, refs []TaskRef) *Task {
	for i := range tasks {
		t := &tasks[i]
		if t.Status != TaskOpen || t.AssigneeID == 0 || actor.holds(t.AssigneeID) || !slices.Contains(def.Actors, t.Role) {
			continue
		}
		if slices.Contains(def.Closes, t.Kind) || slices.ContainsFunc(refs, func(r TaskRef) bool {
			return r.Kind == t.Kind && (r.CertificateID == 0 || r.CertificateID == t.CertificateID)
		}) {
			return t
		}
	}
	return nil
}

// readableCase loads case id for reading: as visibleCase, or for the deputy
// of someone who reaches it today, or for a user it was copied to (抄送).
// copied reports that only the copy lets actor read it: they may not act.
func (e *Engine) readableCase(ctx context.Context, tx Tx, actor *Actor, id int64) (cc CaseContext, copied bool, err error) {
	cc, err = e.visibleCase(ctx, tx, actor, id)
	if !errors.Is(err, ErrNotFound) {
		return cc, false, err
	}
	it, ok := tx.(InboxTx)
	if !ok {
		return cc, false, err
	}
	full, lerr := tx.CaseContext(ctx, id)
	if lerr != nil {
		return cc, false, err
	}
	ds, lerr := it.Delegators(ctx, actor.UserID, e.Today())
	if lerr != nil {
		return cc, false, lerr
	}
	for i := range ds {
		if actor.asDeputyOf(&ds[i]).canSeeCase(&full.Case, full.Chain, e.justiceSees(&full.Case), e.subjectReads(&full.Case)) {
			return full, false, nil
		}
	}
	watching, lerr := it.IsWatcher(ctx, id, actor.UserID)
	if lerr != nil {
		return cc, false, lerr
	}
	if watching && !e.hiddenFromSubject(actor, &full.Case) {
		return full, true, nil
	}
	return cc, false, err
}

// OnBehalfEvents are the events a deputy may fire on a case for one
// delegator (pass the delegator as on_behalf_of_user_id).
type OnBehalfEvents struct {
	UserID int64          `json:"user_id"`
	Name   string         `json:"name"`
	Events []AllowedEvent `json:"events"`
}

// onBehalfAllowed lists, per delegator whose delegation to actor runs
// today, the events actor may fire on c for them.
func (e *Engine) onBehalfAllowed(ctx context.Context, tx Tx, actor *Actor, c *Case, tasks []Task, preparers []int64) ([]OnBehalfEvents, error) {
	it, ok := tx.(InboxTx)
	if !ok {
		return nil, nil
	}
	ds, err := it.Delegators(ctx, actor.UserID, e.Today())
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	var out []OnBehalfEvents
	for i := range ds {
		if evs := e.allowed(actor.asDeputyOf(&ds[i]), c, tasks, preparers); len(evs) > 0 {
			out = append(out, OnBehalfEvents{UserID: ds[i].UserID, Name: ds[i].Name, Events: evs})
		}
	}
	return out, nil
}

// Inbox returns a page of the open tasks actor may work on, filtered and
// sorted, with the badges of the whole inbox.
func (e *Engine) Inbox(ctx context.Context, actor *Actor, f InboxFilter) (InboxPage, error) {
	page := InboxPage{Items: []InboxTask{}, Counts: emptyCounts()}
	if actor == nil {
		return page, ErrUnauthenticated
	}
	if f.Sort == "" {
		f.Sort = SortDue
	}
	if !slices.Contains(InboxSorts, f.Sort) {
		return page, Invalid("sort", fmt.Sprintf("unknown sort %q (due, priority, age)", f.Sort))
	}
	if f.Claimed != "" && !slices.Contains(ClaimFilters, f.Claimed) {
		return page, Invalid("claimed", fmt.Sprintf("unknown value %q (me, none, others)", f.Claimed))
	}
	if f.Limit <= 0 {
		f.Limit = DefaultInboxLimit
	}
	if f.Limit > MaxInboxLimit {
		return page, Invalid("limit", fmt.Sprintf("at most %d", MaxInboxLimit))
	}
	after, err := decodeCursor(f.Cursor, f.Sort)
	if err != nil {
		return page, err
	}
	now := e.Now()
	today := e.today(now)
	err = ViewLoose(ctx, e.store, func(tx Tx) error {
		it, err := inboxTx(tx)
		if err != nil {
			return err
		}
		// Most callers stand in for nobody: their own inbox is read with
		// the check for delegators, and read again only if there are some.
		q := inboxQuery(actor, nil, f, today)
		q.After, q.DelegatorsOf = after, actor.UserID
		r, err := it.InboxRead(ctx, q)
		if err != nil {
			return err
		}
		ds := r.Delegators
		if len(ds) > 0 || r.Deputy {
			q = inboxQuery(actor, ds, f, today)
			q.After = after
			if r, err = it.InboxRead(ctx, q); err != nil {
				return err
			}
		}
		if len(q.Sources) == 0 {
			return nil
		}
		items, rows := r.Items, r.Counts
		via := map[RoleBinding]int64{}
		for _, s := range q.Sources {
			via[RoleBinding{s.Role, s.OrgUnitID}] = s.Via
		}
		names := map[int64]string{}
		for _, d := range ds {
			names[d.UserID] = d.Name
		}
		for i := range items {
			t := &items[i]
			t.Overdue = !t.DueOn.IsZero() && t.DueOn.Before(today)
			t.KindLabel = t.Kind.Label()
			t.ClaimedByMe = t.AssigneeID != 0 && slices.Contains(q.Holders, t.AssigneeID)
			t.OnBehalfOf = via[RoleBinding{t.Role, t.OrgUnitID}]
			if t.ClaimedByMe && t.AssigneeID != actor.UserID {
				t.OnBehalfOf = t.AssigneeID // the delegator's claim: act for them
			}
			t.OnBehalfOfName = names[t.OnBehalfOf]
		}
		// The store read one row more than the page: if it came, another
		// page follows, and the cursor is the page's last row.
		if len(items) > f.Limit {
			items = items[:f.Limit]
			page.NextCursor = encodeCursor(f.Sort, items[len(items)-1].Task)
		}
		page.Items = items
		page.Counts = countInbox(rows, via)
		return nil
	})
	return page, err
}

// inboxQuery builds the store query of actor's inbox: their own role
// bindings, then each delegator's not already their own.
func inboxQuery(actor *Actor, delegators []Actor, f InboxFilter, today Date) InboxQuery {
	q := InboxQuery{ExcludePerson: actor.PersonID, ExcludePreparer: actor.UserID, BarredKinds: preparerBarred(),
		Holders: []int64{actor.UserID}, Today: today, Filter: f, Limit: f.Limit + 1}
	seen := map[RoleBinding]bool{}
	for _, b := range actor.Roles {
		if b.Role != RoleOfficer && !seen[b] {
			seen[b] = true
			q.Sources = append(q.Sources, InboxSource{Role: b.Role, OrgUnitID: b.OrgUnitID})
		}
	}
	for _, d := range delegators {
		q.Holders = append(q.Holders, d.UserID)
		for _, b := range d.Roles {
			if b.Role != RoleOfficer && !seen[b] {
				seen[b] = true
				q.Sources = append(q.Sources, InboxSource{Role: b.Role, OrgUnitID: b.OrgUnitID, Via: d.UserID,
					ExcludePerson: d.PersonID, ExcludePreparer: d.UserID})
			}
		}
	}
	return q
}

func emptyCounts() InboxCounts {
	return InboxCounts{ByPath: []PathCount{}, ByKind: []KindCount{}, ByOrgUnit: []UnitCount{}}
}

func countInbox(rows []InboxCountRow, via map[RoleBinding]int64) InboxCounts {
	c := emptyCounts()
	paths, kinds, units := map[PathName]int{}, map[TaskKind]int{}, map[int64]int{}
	for _, r := range rows {
		c.Total += r.Total
		c.Overdue += r.Overdue
		c.ClaimedByMe += r.Mine
		c.Unclaimed += r.Unclaimed
		c.ClaimedByOthers += r.Total - r.Mine - r.Unclaimed
		if via[RoleBinding{r.Role, r.OrgUnitID}] != 0 {
			c.Delegated += r.Total
		} else {
			// A role the caller shares with the delegator brings its
			// tasks in as the caller's own; those the delegator holds
			// are still delegated.
			c.Delegated += r.ForDelegators
		}
		paths[r.Path] += r.Total
		kinds[r.Kind] += r.Total
		units[r.OrgUnitID] += r.Total
	}
	for p, n := range paths {
		c.ByPath = append(c.ByPath, PathCount{p, n})
	}
	for k, n := range kinds {
		c.ByKind = append(c.ByKind, KindCount{k, n})
	}
	for u, n := range units {
		c.ByOrgUnit = append(c.ByOrgUnit, UnitCount{u, n})
	}
	slices.SortFunc(c.ByPath, func(a, b PathCount) int { return strings.Compare(string(a.Path), string(b.Path)) })
	slices.SortFunc(c.ByKind, func(a, b KindCount) int { return strings.Compare(string(a.Kind), string(b.Kind)) })
	slices.SortFunc(c.ByOrgUnit, func(a, b UnitCount) int { return int(a.OrgUnitID - b.OrgUnitID) })
	return c
}

// encodeCursor returns the cursor after t in sort.
func encodeCursor(sort InboxSort, t Task) string {
	due := t.DueOn
	if due.IsZero() {
		due = NoDueDate
	}
	s := fmt.Sprintf("%s:%d:%s:%d", sort, t.Priority, due, t.ID)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeCursor(c string, sort InboxSort) (*InboxKey, error) {
	if c == "" {
		return nil, nil
	}
	bad := Invalid("cursor", "not a cursor this inbox gave (next_cursor)")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 4 {
		return nil, bad
	}
	if InboxSort(parts[0]) != sort {
		return nil, Invalid("cursor", fmt.Sprintf("belongs to sort %q, not %q", parts[0], sort))
	}
	var k InboxKey
	if k.Priority, err = strconv.Atoi(parts[1]); err != nil {
		return nil, bad
	}
	if k.Due, err = ParseDate(parts[2]); err != nil {
		return nil, bad
	}
	if k.ID, err = strconv.ParseInt(parts[3], 10, 64); err != nil || k.ID < 1 {
		return nil, bad
	}
	return &k, nil
}

// TaskActInput is what an act on a task takes.
type TaskActInput struct {
	// OnBehalfOf: the deputy acts for this delegator.
	OnBehalfOf int64  `json:"on_behalf_of_user_id,omitempty"`
	Comment    string `json:"comment,omitempty"`
	// UserID is whom 转交 gives the task to.
	UserID int64 `json:"user_id,omitempty"`
}

// TaskActResult is the task after an act and the history row it wrote;
// Event is nil when the act changed nothing (claiming a task one holds).
type TaskActResult struct {
	Task  Task   `json:"task"`
	Event *Event `json:"event,omitempty"`
	// CaseVersion is the case's version after the act: an act on a task
	// is in the case's history, so the next event fired on the case
	// expects this version (an inbox that claims, then approves).
	CaseVersion int64 `json:"case_version"`
}

// errUnchanged rolls back an act that changes nothing.
var errUnchanged = errors.New("workflow: unchanged")

// taskAct is what one act decides under the case's lock: it refuses with
// an error, or writes the task and returns the history row's data; nil
// data means nothing changed.
type taskAct func(ctx context.Context, it InboxTx, act *Actor, t *Task, cc *CaseContext, now time.Time) (map[string]any, error)

// actOnTask runs an act in one transaction: who acts (a deputy for their
// delegator), the task and its case as they see it (ErrNotFound for a task
// whose case they may not read), the case's version bumped first — the
// lock that serialises acts and events on the case — then the act on the
// task as it stands, and its history row.
func (e *Engine) actOnTask(ctx context.Context, actor *Actor, taskID int64, in TaskActInput, name EventName, do taskAct) (TaskActResult, error) {
	if actor == nil {
		return TaskActResult{}, ErrUnauthenticated
	}
	comment, err := inputComment(in.Comment)
	if err != nil {
		return TaskActResult{}, err
	}
	var res TaskActResult
	err = e.store.Update(ctx, func(tx Tx) error {
		it, err := inboxTx(tx)
		if err != nil {
			return err
		}
		now := e.Now()
		act, err := e.acting(ctx, tx, actor, in.OnBehalfOf, now)
		if err != nil {
			return err
		}
		t, err := it.Task(ctx, taskID)
		if err != nil {
			return err
		}
		cc, err := e.visibleCase(ctx, tx, act, t.CaseID)
		if errors.Is(err, ErrNotFound) {
			err = e.readerOnly(ctx, tx, actor, in.OnBehalfOf, t.CaseID, fmt.Errorf("task %d: %w", taskID, ErrNotFound))
		}
		if err != nil {
			return err
		}
		// Only a kind its preparers may not work on needs them
		// (conflictWith); other acts read no history.
		if slices.Contains(preparerBarred(), t.Kind) {
			history, err := tx.CaseEvents(ctx, t.CaseID)
			if err != nil {
				return err
			}
			cc.preparers = e.preparers(&cc.Case, history)
		}
		version, err := it.BumpCase(ctx, t.CaseID, now)
		if err != nil {
			return err
		}
		if t, err = it.Task(ctx, taskID); err != nil {
			return err
		}
		if t.Status != TaskOpen {
			return fmt.Errorf("%w: task %d is closed", ErrTaskHeld, taskID)
		}
		// A holder who is gone holds nothing: the task is its role's
		// again before the act, and the act's history row says so.
		var released int64
		if gone, err := holderGone(ctx, tx, &t); err != nil {
			return err
		} else if gone {
			released = t.AssigneeID
			if err := it.SetAssignee(ctx, t.ID, 0, now); err != nil {
				return err
			}
			t.AssigneeID, t.AssignedAt = 0, nil
		}
		data, err := do(ctx, it, act, &t, &cc, now)
		if err != nil {
			return err
		}
		if data == nil && released == 0 {
			// Rolled back: the case stays at the version before the bump
			// (which another instance's event may have moved since cc
			// was read).
			res.Task, res.CaseVersion = t, version-1
			return errUnchanged
		}
		if data == nil {
			data = map[string]any{}
		}
		if released != 0 {
			data["released_from_user_id"] = released
		}
		data["task_id"], data["kind"] = t.ID, t.Kind
		ev := &Event{CaseID: t.CaseID, Seq: version, Event: name, From: cc.Case.State, To: cc.Case.State, Actor: act.UserID,
			OnBehalfOf: in.OnBehalfOf, At: now, Comment: comment}
		if ev.Data, err = json.Marshal(data); err != nil {
			return err
		}
		if err := it.AddEvent(ctx, ev); err != nil {
			return err
		}
		if res.Task, err = it.Task(ctx, taskID); err != nil {
			return err
		}
		res.Event, res.CaseVersion = ev, version
		return nil
	})
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	return res, err
}

// mayWork says why act may not work on t (claim it, be given it,
// complete it), or nil.
func mayWork(act *Actor, t *Task, cc *CaseContext) error {
	if !act.Has(t.Role, t.OrgUnitID) {
		return fmt.Errorf("%w: task %d is for the role %s at its department", ErrForbidden, t.ID, t.Role)
	}
	if why := act.conflictWith(&cc.Case, t.Kind, cc.preparers); why != "" {
		return fmt.Errorf("%w: %s", ErrForbidden, why)
	}
	return nil
}

// heldBy refuses an act on a task someone else holds, naming them.
func heldBy(ctx context.Context, it InboxTx, t *Task) error {
	return fmt.Errorf("%w: task %d is held by %s", ErrTaskHeld, t.ID, holderName(ctx, it, t))
}

// ClaimTask takes a group task (认领): actor must hold its role at its
// department and have no conflict with its case. A task someone else holds
// is refused with ErrConflict; claiming one's own again changes nothing.
func (e *Engine) ClaimTask(ctx context.Context, actor *Actor, taskID int64, in TaskActInput) (TaskActResult, error) {
	return e.actOnTask(ctx, actor, taskID, in, ActClaim, func(ctx context.Context, it InboxTx, act *Actor, t *Task, cc *CaseContext, now time.Time) (map[string]any, error) {
		if err := mayWork(act, t, cc); err != nil {
			return nil, err
		}
		switch {
		case t.AssigneeID == act.holder():
			return nil, nil
		case t.AssigneeID != 0:
			return nil, heldBy(ctx, it, t)
		}
		if err := it.SetAssignee(ctx, t.ID, act.holder(), now); err != nil {
			return nil, err
		}
		return map[string]any{"assignee_user_id": act.holder()}, nil
	})
}

// UnclaimTask gives a task its holder holds back to its role.
func (e *Engine) UnclaimTask(ctx context.Context, actor *Actor, taskID int64, in TaskActInput) (TaskActResult, error) {
	return e.actOnTask(ctx, actor, taskID, in, ActUnclaim, func(ctx context.Context, it InboxTx, act *Actor, t *Task, cc *CaseContext, now time.Time) (map[string]any, error) {
		if t.AssigneeID == 0 || !act.holds(t.AssigneeID) {
			// Only someone who could work on the task learns whether and
			// by whom it is held; anyone else may not act on it at all.
			if err := mayWork(act, t, cc); err != nil {
				return nil, err
			}
			if t.AssigneeID == 0 {
				return nil, fmt.Errorf("%w: task %d is not claimed", ErrTaskHeld, t.ID)
			}
			return nil, heldBy(ctx, it, t)
		}
		from := t.AssigneeID
		if err := it.SetAssignee(ctx, t.ID, 0, now); err != nil {
			return nil, err
		}
		return map[string]any{"from_user_id": from}, nil
	})
}

// ReassignTask is 转交: whoever may work on the task (its holder, or
// anyone of its role while nobody holds it) gives it to in.UserID, with a
// reason. The new holder must hold the task's role at its department and
// have no conflict with its case (not the person it is about, not the
// preparer of what the task approves).
func (e *Engine) ReassignTask(ctx context.Context, actor *Actor, taskID int64, in TaskActInput) (TaskActResult, error) {
	if strings.TrimSpace(in.Comment) == "" {
		return TaskActResult{}, Invalid("comment", "转交 needs a reason")
	}
	if err := positiveID("user_id", in.UserID); err != nil {
		return TaskActResult{}, err
	}
	if in.UserID == 0 {
		return TaskActResult{}, Invalid("user_id", "required: whom the task goes to")
	}
	return e.actOnTask(ctx, actor, taskID, in, ActReassign, func(ctx context.Context, it InboxTx, act *Actor, t *Task, cc *CaseContext, now time.Time) (map[string]any, error) {
		if t.AssigneeID != 0 && !act.holds(t.AssigneeID) {
			return nil, heldBy(ctx, it, t)
		}
		if err := mayWork(act, t, cc); err != nil {
			return nil, err
		}
		// Nobody, and somebody without the role here, get one answer: the
		// refusal tells nothing about users elsewhere, not even that
		// they exist.
		noTaker := Invalid("user_id", fmt.Sprintf("no enabled user %d holds the role %s at the task's department", in.UserID, t.Role))
		to, err := it.ActorByID(ctx, in.UserID)
		if errors.Is(err, ErrNotFound) {
			return nil, noTaker
		}
		if err != nil {
			return nil, err
		}
		if !to.Has(t.Role, t.OrgUnitID) {
			return nil, noTaker
		}
		if to.UserID == t.AssigneeID {
			return nil, Invalid("user_id", to.Name+" already holds the task")
		}
		if why := to.conflictWith(&cc.Case, t.Kind, cc.preparers); why != "" {
			return nil, Invalid("user_id", fmt.Sprintf("%s may not do it: %s", to.Name, strings.Replace(why, "you", "them", 1)))
		}
		from := t.AssigneeID
		if err := it.SetAssignee(ctx, t.ID, to.UserID, now); err != nil {
			return nil, err
		}
		return map[string]any{"from_user_id": from, "to_user_id": to.UserID}, nil
	})
}

// RemindTask is 催办: anyone who reads the case by their own authority
// (or a delegator's), and is not the person it is about, urges the task's
// holder — or its role, while nobody holds it. The task becomes urgent.
// Once per task per RemindEvery: sooner is a *RateLimitError.
func (e *Engine) RemindTask(ctx context.Context, actor *Actor, taskID int64, in TaskActInput) (TaskActResult, error) {
	return e.actOnTask(ctx, actor, taskID, in, ActRemind, func(ctx context.Context, it InboxTx, act *Actor, t *Task, cc *CaseContext, now time.Time) (map[string]any, error) {
		if why := act.conflictWith(&cc.Case, "", cc.preparers); why != "" {
			return nil, fmt.Errorf("%w: %s", ErrForbidden, why)
		}
		if t.AssigneeID != 0 && act.holds(t.AssigneeID) {
			return nil, Invalid("task", fmt.Sprintf("task %d is yours: 催办 urges whoever else holds a task", t.ID))
		}
		if t.RemindedAt != nil {
			if next := t.RemindedAt.Add(RemindEvery); now.Before(next) {
				return nil, &RateLimitError{What: fmt.Sprintf("task %d was urged at %s", t.ID, t.RemindedAt.In(e.loc).Format("2006-01-02 15:04")), RetryAfter: next.Sub(now)}
			}
		}
		if err := it.MarkReminded(ctx, t.ID, now); err != nil {
			return nil, err
		}
		data := map[string]any{"role": t.Role, "org_unit_id": t.OrgUnitID}
		if t.AssigneeID != 0 {
			data["assignee_user_id"] = t.AssigneeID
		}
		return data, nil
	})
}

// CopyInput copies a case (抄送) to users.
type CopyInput struct {
	UserIDs    []int64 `json:"user_ids"`
	Comment    string  `json:"comment,omitempty"`
	OnBehalfOf int64   `json:"on_behalf_of_user_id,omitempty"`
}

// CopyResult lists the users the copy reached and its history row, and
// those named who had it already; Event is nil when every one of them had
// it already.
type CopyResult struct {
	UserIDs       []int64 `json:"user_ids"`
	AlreadyCopied []int64 `json:"already_copied_user_ids,omitempty"`
	Event         *Event  `json:"event,omitempty"`
	// CaseVersion is the case's version after the copy (TaskActResult).
	CaseVersion int64 `json:"case_version"`
}

// maxCopies bounds one copy.
const maxCopies = 20

// CopyCase is 抄送: someone who may act on the case now copies it to users,
// who may then read it (GET /cases/{id}, its history, in their copies
// list) but never act on it. A copy reaches only users who work in the
// case's line: a role other than officer at the case's department or a
// department above it. So a copy never carries a case to another region,
// nor to a colleague's officer account.
func (e *Engine) CopyCase(ctx context.Context, actor *Actor, caseID int64, in CopyInput) (CopyResult, error) {
	if actor == nil {
		return CopyResult{}, ErrUnauthenticated
	}
	var err error
	if in.Comment, err = inputComment(in.Comment); err != nil {
		return CopyResult{}, err
	}
	if len(in.UserIDs) == 0 || len(in.UserIDs) > maxCopies {
		return CopyResult{}, Invalid("user_ids", fmt.Sprintf("name 1 to %d users", maxCopies))
	}
	res := CopyResult{UserIDs: []int64{}}
	err = e.store.Update(ctx, func(tx Tx) error {
		it, err := inboxTx(tx)
		if err != nil {
			return err
		}
		now := e.Now()
		act, err := e.acting(ctx, tx, actor, in.OnBehalfOf, now)
		if err != nil {
			return err
		}
		cc, err := e.visibleCase(ctx, tx, act, caseID)
		if err != nil {
			return err
		}
		if len(e.allowed(act, &cc.Case, nil, e.preparers(&cc.Case, nil))) == 0 {
			return fmt.Errorf("%w: only who may act on the case now copies it", ErrForbidden)
		}
		var add, had []int64
		for _, id := range in.UserIDs {
			if id == act.UserID {
				return Invalid("user_ids", "names yourself: whoever copies a case reads it already")
			}
			if slices.Contains(add, id) || slices.Contains(had, id) {
				continue
			}
			// Nobody, and somebody out of the case's line, get one
			// answer, which tells nothing about users elsewhere.
			noReader := Invalid("user_ids", fmt.Sprintf("no enabled user %d holds an office role in this case's line (its department and those above it); officers get no copies", id))
			u, err := it.ActorByID(ctx, id)
			if errors.Is(err, ErrNotFound) {
				return noReader
			}
			if err != nil {
				return err
			}
			inLine, err := worksInLine(ctx, tx, &u, cc.Chain)
			if err != nil {
				return err
			}
			if !inLine {
				return noReader
			}
			if e.hiddenFromSubject(&u, &cc.Case) {
				return Invalid("user_ids", fmt.Sprintf("user %d is the person this %s is about, who does not read it", id, cc.Case.Path))
			}
			w, err := it.IsWatcher(ctx, caseID, id)
			if err != nil {
				return err
			}
			if w {
				had = append(had, id)
			} else {
				add = append(add, id)
			}
		}
		res.AlreadyCopied, res.CaseVersion = had, cc.Case.Version
		if len(add) == 0 {
			return errUnchanged
		}
		version, err := it.BumpCase(ctx, caseID, now)
		if err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{"user_ids": add})
		ev := &Event{CaseID: caseID, Seq: version, Event: ActCopy, From: cc.Case.State, To: cc.Case.State, Actor: act.UserID,
			OnBehalfOf: in.OnBehalfOf, At: now, Comment: in.Comment, Data: data}
		if err := it.AddEvent(ctx, ev); err != nil {
			return err
		}
		for _, id := range add {
			if err := it.AddWatcher(ctx, &Watcher{CaseID: caseID, UserID: id, AddedBy: act.UserID, EventID: ev.ID, AddedAt: now}); err != nil {
				return err
			}
		}
		res.UserIDs, res.Event, res.CaseVersion = add, ev, version
		return nil
	})
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	return res, err
}

// worksInLine reports whether u holds a role other than officer at a
// department of chain (root … the case's department), or at a unit of one.
func worksInLine(ctx context.Context, tx Tx, u *Actor, chain []int64) (bool, error) {
	for _, b := range u.Roles {
		if b.Role == RoleOfficer {
			continue
		}
		bc, err := tx.OrgChain(ctx, b.OrgUnitID)
		if err != nil {
			return false, err
		}
		if len(bc) > 0 && slices.Contains(chain, bc[len(bc)-1]) {
			return true, nil
		}
	}
	return false, nil
}

// deputyInLine reports whether dep may stand in for delegator: dep holds
// a role (the officer's too: a colleague's own account) at the department
// of one of delegator's bindings or at a department above it. A
// delegation never carries a department's authority to another region.
func deputyInLine(ctx context.Context, tx Tx, dep, delegator *Actor) (bool, error) {
	var lines [][]int64
	for _, b := range delegator.Roles {
		if b.Role == RoleOfficer {
			continue
		}
		chain, err := tx.OrgChain(ctx, b.OrgUnitID)
		if err != nil {
			return false, err
		}
		lines = append(lines, chain)
	}
	for _, b := range dep.Roles {
		u, err := tx.OrgUnit(ctx, b.OrgUnitID)
		if err != nil {
			return false, err
		}
		for _, chain := range lines {
			if slices.Contains(chain, u.DeptID) {
				return true, nil
			}
		}
	}
	return false, nil
}

// Copies lists the cases copied to actor, by ascending copy ID after after.
func (e *Engine) Copies(ctx context.Context, actor *Actor, after int64, limit int) ([]CopiedCase, error) {
	if actor == nil {
		return nil, ErrUnauthenticated
	}
	out := []CopiedCase{}
	err := e.store.View(ctx, func(tx Tx) error {
		it, err := inboxTx(tx)
		if err != nil {
			return err
		}
		out, err = it.Copies(ctx, actor.UserID, after, limit)
		return err
	})
	return out, err
}

// CreateDelegation names a deputy (代理) with actor's authority from
// in.StartsOn (default today) to in.EndsOn, both included. Every act the
// deputy does with it is recorded as theirs on behalf of actor. The deputy
// must work in actor's line (deputyInLine).
func (e *Engine) CreateDelegation(ctx context.Context, actor *Actor, in DelegationInput) (Delegation, error) {
	if actor == nil {
		return Delegation{}, ErrUnauthenticated
	}
	if !slices.ContainsFunc(actor.Roles, func(b RoleBinding) bool { return b.Role != RoleOfficer }) {
		return Delegation{}, fmt.Errorf("%w: you hold no role to delegate", ErrForbidden)
	}
	now := e.Now()
	today := e.today(now)
	in.Reason = strings.TrimSpace(in.Reason)
	if in.StartsOn.IsZero() {
		in.StartsOn = today
	}
	switch {
	case in.DeputyID < 0:
		return Delegation{}, positiveID("deputy_user_id", in.DeputyID)
	case in.DeputyID == 0:
		return Delegation{}, Invalid("deputy_user_id", "required")
	case in.DeputyID == actor.UserID:
		return Delegation{}, Invalid("deputy_user_id", "names yourself")
	case in.EndsOn.IsZero():
		return Delegation{}, Invalid("ends_on", "required: the last day of the absence")
	case in.EndsOn.Before(in.StartsOn):
		return Delegation{}, Invalid("ends_on", "before starts_on")
	case in.EndsOn.Before(today):
		return Delegation{}, Invalid("ends_on", "lies in the past")
	case in.EndsOn.After(in.StartsOn.AddDays(MaxDelegationDays - 1)):
		return Delegation{}, Invalid("ends_on", fmt.Sprintf("a delegation lasts at most %d days", MaxDelegationDays))
	case in.StartsOn.Before(today):
		return Delegation{}, Invalid("starts_on", "lies in the past: a delegation starts today or later")
	case utf8.RuneCountInString(in.Reason) > 500:
		return Delegation{}, Invalid("reason", "longer than 500 characters")
	case in.Reason == "":
		return Delegation{}, Invalid("reason", "required: why you are away (出差, 休假, 外出学习…)")
	}
	d := Delegation{DelegatorID: actor.UserID, DelegatorName: actor.Name, DeputyID: in.DeputyID, StartsOn: in.StartsOn, EndsOn: in.EndsOn,
		Reason: in.Reason, CreatedAt: now}
	err := e.store.Update(ctx, func(tx Tx) error {
		it, err := inboxTx(tx)
		if err != nil {
			return err
		}
		// The deputy works in the delegator's line; nobody, and somebody
		// elsewhere, get one answer, which tells nothing about them.
		noDeputy := Invalid("deputy_user_id", fmt.Sprintf("no enabled user %d works in your department or one above it", in.DeputyID))
		dep, err := it.ActorByID(ctx, in.DeputyID)
		if errors.Is(err, ErrNotFound) {
			return noDeputy
		}
		if err != nil {
			return err
		}
		inLine, err := deputyInLine(ctx, tx, &dep, actor)
		if err != nil {
			return err
		}
		if !inLine {
			return noDeputy
		}
		// A deputy stands in with the delegator's authority; an officer,
		// who holds none of an office's, is nobody's (as with copies).
		if !slices.ContainsFunc(dep.Roles, func(b RoleBinding) bool { return b.Role != RoleOfficer }) {
			return Invalid("deputy_user_id", fmt.Sprintf("%s holds no office role: an officer stands in for nobody", dep.Name))
		}
		// Two posts of one absence at once: the second waits here and
		// then finds the first's delegation.
		if err := it.HoldUser(ctx, d.DelegatorID); err != nil {
			return err
		}
		if prior, err := overlapping(ctx, it, &d); err != nil || prior != nil {
			if err == nil {
				err = fmt.Errorf("%w: delegation %d already names %s from %s to %s; revoke it first", ErrDuplicate, prior.ID, dep.Name, prior.StartsOn, prior.EndsOn)
			}
			return err
		}
		d.DeputyName = dep.Name
		return it.CreateDelegation(ctx, &d)
	})
	d.Active = d.activeOn(today)
	return d, err
}

// overlapping returns the delegator's unrevoked delegation to the same
// deputy whose days meet d's, if there is one: a second adds nothing but
// a second row to revoke.
func overlapping(ctx context.Context, it InboxTx, d *Delegation) (*Delegation, error) {
	const size = 200
	for after := int64(0); ; {
		page, err := it.Delegations(ctx, d.DelegatorID, after, size)
		if err != nil {
			return nil, err
		}
		for i := range page {
			p := &page[i]
			if p.DelegatorID == d.DelegatorID && p.DeputyID == d.DeputyID && p.RevokedAt == nil &&
				!p.EndsOn.Before(d.StartsOn) && !d.EndsOn.Before(p.StartsOn) {
				return p, nil
			}
		}
		if len(page) < size {
			return nil, nil
		}
		after = page[len(page)-1].ID
	}
}

func (d *Delegation) activeOn(day Date) bool {
	return d.RevokedAt == nil && !d.DelegatorDisabled && !d.DeputyDisabled && !day.Before(d.StartsOn) && !day.After(d.EndsOn)
}

// Delegations lists the delegations actor gave or received.
func (e *Engine) Delegations(ctx context.Context, actor *Actor, after int64, limit int) ([]Delegation, error) {
	if actor == nil {
		return nil, ErrUnauthenticated
	}
	today := e.Today()
	var out []Delegation
	err := e.store.View(ctx, func(tx Tx) error {
		it, err := inboxTx(tx)
		if err != nil {
			return err
		}
		out, err = it.Delegations(ctx, actor.UserID, after, limit)
		return err
	})
	for i := range out {
		out[i].Active = out[i].activeOn(today)
	}
	if out == nil {
		out = []Delegation{}
	}
	return out, err
}

// RevokeDelegation ends delegation id now: its delegator or its deputy
// may; to anyone else it does not exist. Revoking twice keeps the first.
func (e *Engine) RevokeDelegation(ctx context.Context, actor *Actor, id int64) (Delegation, error) {
	if actor == nil {
		return Delegation{}, ErrUnauthenticated
	}
	var d Delegation
	now := e.Now()
	err := e.store.Update(ctx, func(tx Tx) error {
		it, err := inboxTx(tx)
		if err != nil {
			return err
		}
		if d, err = it.Delegation(ctx, id); err != nil {
			return err
		}
		if d.DelegatorID != actor.UserID && d.DeputyID != actor.UserID {
			return fmt.Errorf("delegation %d: %w", id, ErrNotFound)
		}
		if d.RevokedAt != nil {
			return nil
		}
		if err := it.RevokeDelegation(ctx, id, actor.UserID, now); err != nil {
			return err
		}
		d.RevokedAt, d.RevokedBy = &now, actor.UserID
		return nil
	})
	d.Active = d.activeOn(e.today(now))
	return d, err
}
