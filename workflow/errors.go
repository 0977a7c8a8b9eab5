package workflow

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Stores and the engine wrap them with %w; the HTTP layer
// maps them to status codes with errors.Is / errors.As.
var (
	// ErrNotFound: the object does not exist or is out of the caller's scope
	// (the API never tells the two apart).
	ErrNotFound = errors.New("workflow: not found")
	// ErrConflict: a stale version, a duplicate, or a concurrent change.
	ErrConflict = errors.New("workflow: conflict")
	// ErrForbidden: the caller sees the object but may not do this to it.
	ErrForbidden = errors.New("workflow: forbidden")
	// ErrUnauthenticated: no valid credentials.
	ErrUnauthenticated = errors.New("workflow: unauthenticated")
)

// The kinds of ErrConflict, which the API answers each with its own problem
// type and title. errors.Is(err, ErrConflict) holds for every one of them,
// and their text is ErrConflict's, so wrapping one reads as before.
var (
	// ErrStale: the object changed since the version the caller read, or a
	// concurrent transaction changed it first; reading it again and
	// retrying may succeed.
	ErrStale error = &conflictKind{"stale"}
	// ErrTaskHeld: the task is held by someone else, not held at all, or
	// already closed.
	ErrTaskHeld error = &conflictKind{"task"}
	// ErrDuplicate: what the request would create exists already, or its
	// idempotency key is taken by a request still running.
	ErrDuplicate error = &conflictKind{"duplicate"}
	// ErrNotReady: the document asked for is not rendered (yet).
	ErrNotReady error = &conflictKind{"not ready"}
)

// conflictKind is one kind of ErrConflict; kind tells them apart when
// printed with %#v.
type conflictKind struct{ kind string }

func (k *conflictKind) Error() string        { return ErrConflict.Error() }
func (k *conflictKind) Is(target error) bool { return target == ErrConflict }

// InvalidTransitionError says an event is not allowed in the case's state.
type InvalidTransitionError struct {
	Event EventName
	State State
}

func (e *InvalidTransitionError) Error() string {
	return "workflow: event " + string(e.Event) + " is not allowed in state " + string(e.State)
}

// Is makes errors.Is(err, ErrConflict) true: the HTTP layer answers 409.
func (e *InvalidTransitionError) Is(target error) bool { return target == ErrConflict }

// InputError says a command's input is wrong; Field names what, when known.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return "workflow: invalid input: " + e.Reason
	}
	return "workflow: invalid input: " + e.Field + ": " + e.Reason
}

// Invalid returns an *InputError for field.
func Invalid(field, reason string) error { return &InputError{Field: field, Reason: reason} }

// positiveID refuses a negative ID of the input, which names nothing; 0
// is the ID left out, which each caller treats as required or optional.
func positiveID(field string, id int64) error {
	if id < 0 {
		return Invalid(field, "must be a positive ID, not "+strconv.FormatInt(id, 10))
	}
	return nil
}

// Violation is one failed condition of the regulation.
type Violation struct {
	Article   string `json:"article"`
	Condition string `json:"condition"`
}

func (v Violation) String() string { return v.Article + ": " + v.Condition }

// GuardError is a refusal by the regulation: every condition that failed,
// each with its article, e.g. "Art. 9(1)(4): education below 大专".
type GuardError struct {
	Violations []Violation
}

func (e *GuardError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.String()
	}
	return strings.Join(parts, "; ")
}

// Articles lists the cited articles, in order, without repeats.
func (e *GuardError) Articles() []string {
	var out []string
	for _, v := range e.Violations {
		if len(out) == 0 || out[len(out)-1] != v.Article {
			out = append(out, v.Article)
		}
	}
	return out
}
