package workflow

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Store keeps everything certflow knows. Update runs fn in one write
// transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: read committed with
// version checks) and commits only if fn returns nil; View runs fn read-only.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
}

// Tx is the store inside one transaction. Lookups return ErrNotFound
// (wrapped) for missing rows, never a zero value.
type Tx interface {
	OrgUnit(ctx context.Context, id int64) (OrgUnit, error)
	// OrgChain returns the IDs from the root down to the department that
	// owns unit id (the unit itself when it is a department).
	OrgChain(ctx context.Context, id int64) ([]int64, error)
	ListOrgUnits(ctx context.Context, scope Scope) ([]OrgUnit, error)
	CreateOrgUnit(ctx context.Context, u *OrgUnit) error

	Person(ctx context.Context, id int64) (Person, error)
	ListPeople(ctx context.Context, f PersonFilter) ([]Person, error)
	CreatePerson(ctx context.Context, p *Person) error
	UpdatePerson(ctx context.Context, p *Person) error

	Trainings(ctx context.Context, personID int64) ([]Training, error)
	Training(ctx context.Context, id int64) (Training, error)
	CreateTraining(ctx context.Context, t *Training) error
	UpdateTraining(ctx context.Context, t *Training) error

	CertificatesOf(ctx context.Context, personID int64) ([]Certificate, error)
	Certificate(ctx context.Context, id int64) (Certificate, error)
	ListCertificates(ctx context.Context, f CertificateFilter) ([]Certificate, error)

	Case(ctx context.Context, id int64) (Case, error)
	// CaseContext loads a case with its department, its person and the
	// person's unit in one query: every command and view starts with it.
	CaseContext(ctx context.Context, id int64) (CaseContext, error)
	// FireContext is CaseContext with what firing an event reads besides:
	// the person's trainings and certificates and the case's tasks. The
	// stores read them together (PostgreSQL in one round trip).
	FireContext(ctx context.Context, id int64) (FireContext, error)
	// LockCase holds case id against other writers until the transaction
	// ends, so that what is read of it next is what the transaction's
	// version check will find (PostgreSQL: FOR UPDATE; a SQLite write
	// transaction holds the whole database already).
	LockCase(ctx context.Context, id int64) error
	CreateCase(ctx context.Context, c *Case) error
	ListCases(ctx context.Context, f CaseFilter) ([]Case, error)
	CaseEvents(ctx context.Context, caseID int64) ([]Event, error)
	CaseTasks(ctx context.Context, caseID int64) ([]Task, error)
	CaseDocuments(ctx context.Context, caseID int64) ([]DocumentStatus, error)
	// Apply writes one transition: the case state with a version check
	// (ErrConflict when stale), the event row, the certificate change, the
	// tasks opened and closed, and the document jobs.
	Apply(ctx context.Context, ch *Change) error

	Inbox(ctx context.Context, q InboxQuery) ([]InboxTask, error)

	// SaveComplaintLookup keys complaint case caseID by hash, the SHA-256
	// of the lookup code its complainant was given (ComplaintLookupHash).
	SaveComplaintLookup(ctx context.Context, hash string, caseID int64) error
	// ComplaintByLookup returns the complaint case keyed by hash.
	ComplaintByLookup(ctx context.Context, hash string) (Case, error)

	Idempotency(ctx context.Context, userID int64, key string) (IdempotencyRecord, error)
	SaveIdempotency(ctx context.Context, r *IdempotencyRecord) error

	ActorByTokenHash(ctx context.Context, hash []byte, now time.Time) (Actor, error)
	// ActorByName returns the enabled user called name, with roles.
	ActorByName(ctx context.Context, name string) (Actor, error)
	CreateUser(ctx context.Context, name string, personID int64, roles []RoleBinding) (int64, error)
	// ServiceActor returns the user called name, enabled or disabled, with
	// roles, creating it without person, roles or credentials when there
	// is none (a transaction creating it at the same time wins, and its
	// user is returned): an identity certflow records acts under that no
	// signed-in user did, such as SystemUserName.
	ServiceActor(ctx context.Context, name string) (Actor, error)
	CreateToken(ctx context.Context, userID int64, hash []byte, expires *time.Time) error
	// DisableUsersOf disables every account linked to person and ends
	// their web sessions; it returns how many it disabled.
	DisableUsersOf(ctx context.Context, person int64) (int, error)
}

// CaseContext is a case with what every command and view needs about it.
type CaseContext struct {
	Case       Case
	Chain      []int64 // root … the case's department
	Department OrgUnit
	Person     Person
	Unit       OrgUnit // the person's unit

	// preparers, when the engine needs them, are Engine.preparers of Case.
	preparers []int64
}

// FireContext is what Engine.Fire reads about a case before it runs the
// event: the case context, the rules' facts about the person, and the
// case's tasks (whose holders may complete them).
type FireContext struct {
	CaseContext
	Trainings    []Training
	Certificates []Certificate
	Tasks        []Task
}

// Scope limits a query to the departments a caller reaches: departments in
// Exact (and their internal units and 派出机关), and every department whose
// path starts with one of Prefixes. All lifts the limit.
type Scope struct {
	All      bool
	Exact    []int64
	Prefixes []string
}

// Empty reports whether the scope reaches nothing.
func (s Scope) Empty() bool { return !s.All && len(s.Exact) == 0 && len(s.Prefixes) == 0 }

// Reaches reports whether the scope reaches the department u, as the
// stores' scope clause does: exactly by ID, or by a prefix of its path.
func (s Scope) Reaches(u OrgUnit) bool {
	if s.All || slices.Contains(s.Exact, u.ID) {
		return true
	}
	return slices.ContainsFunc(s.Prefixes, func(p string) bool { return strings.HasPrefix(u.Path, p) })
}

// Unit is the scope of the one department dept.
func Unit(dept int64) Scope { return Scope{Exact: []int64{dept}} }

// PersonFilter selects people. After is the keyset cursor (the last ID seen).
type PersonFilter struct {
	Scope     Scope
	OrgUnitID int64
	Name      string // substring
	IDNumber  string
	After     int64
	Limit     int
}

// CaseFilter selects cases.
type CaseFilter struct {
	Scope         Scope
	PersonID      int64
	CertificateID int64
	Path          PathName
	State         State
	After         int64
	Limit         int
}

// CertificateFilter selects certificates.
type CertificateFilter struct {
	Scope    Scope
	PersonID int64
	State    CertificateState
	Kind     CertificateKind
	Number   string
	After    int64
	Limit    int
}

// DocumentStatus is a document job as the case view shows it.
type DocumentStatus struct {
	JobID   int64   `json:"job_id"`
	Doc     DocKind `json:"doc"`
	EventID int64   `json:"event_id"`
	State   string  `json:"state"`
	Error   string  `json:"error,omitempty"`
}

// Change is everything one transition writes.
type Change struct {
	// Case has the new state, data and certificate; Version is the
	// expected one, 0 for a case the change opens.
	Case            Case
	Event           Event
	NewCertificate  *Certificate
	CertificateMove *CertificateMove
	// Person, when set, bumps the person's version with a check (and sets
	// the employment): every change to a person's certificates or
	// employment goes through it, so two such changes for one person
	// never commit side by side (Art. 18: a departure cannot complete
	// while a certificate is being issued or returned).
	Person     *PersonTouch
	CloseTasks []TaskRef
	OpenTasks  []Task
	Documents  []DocumentJob
	Now        time.Time
}

// PersonTouch serialises changes to one person.
type PersonTouch struct {
	ID         int64
	Version    int64
	Employment Employment
	// Post, when set, is whether the person now holds an enforcement post
	// (a 转岗 change report says so); nil leaves it as it is.
	Post *bool
}

// CertificateMove is a certificate state change with a version check.
type CertificateMove struct {
	ID         int64
	Version    int64
	To         CertificateState
	ReceivedOn Date
}

// IdempotencyRecord remembers a command's result under the caller's
// Idempotency-Key, so a retry returns it and writes nothing.
type IdempotencyRecord struct {
	UserID      int64
	Key         string
	Fingerprint string
	CaseID      int64
	Result      json.RawMessage
	CreatedAt   time.Time
}
