package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"certflow/workflow"
)

// TokenPrefix marks certflow tokens, so a leaked one is recognisable.
const TokenPrefix = "cf_"

// NewToken returns a fresh random token.
func NewToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is what the database keeps of a token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Authenticate returns the actor a bearer token belongs to, or
// workflow.ErrUnauthenticated.
func Authenticate(ctx context.Context, store workflow.Store, token string, now time.Time) (*workflow.Actor, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, workflow.ErrUnauthenticated
	}
	var a workflow.Actor
	// Every request runs this: no transaction around the token's and the
	// roles' statements (on PostgreSQL, two round trips fewer).
	err := workflow.ViewLoose(ctx, store, func(tx workflow.Tx) (err error) {
		a, err = tx.ActorByTokenHash(ctx, HashToken(token), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// AddUser creates a user with roles and, when token is empty, a new random
// token; it returns the user's ID and the token (shown once).
func AddUser(ctx context.Context, store workflow.Store, name string, personID int64, roles []workflow.RoleBinding, token string, expires *time.Time) (int64, string, error) {
	if token == "" {
		token = NewToken()
	}
	return CreateUser(ctx, store, NewUser{Name: name, PersonID: personID, Roles: roles, Token: token, TokenExpires: expires})
}

// NewUser is a user to create.
type NewUser struct {
	Name     string
	PersonID int64 // the staff member the user is, if any
	Roles    []workflow.RoleBinding
	// Token is the user's first API token; "": none.
	Token        string
	TokenExpires *time.Time // nil: never
	// PasswordHash is the user's password as HashPassword made it; "":
	// none, the user cannot log in on the web.
	PasswordHash string
}

// UserExistsError refuses a new user whose name another user, disabled or
// not, has. It is a workflow.ErrDuplicate (so a workflow.ErrConflict).
type UserExistsError struct {
	Name string
}

func (e *UserExistsError) Error() string { return "auth: a user named " + e.Name + " already exists" }

// Unwrap makes errors.Is(err, workflow.ErrDuplicate) and ErrConflict true.
func (e *UserExistsError) Unwrap() error { return workflow.ErrDuplicate }

// CreateUser creates u in one transaction and returns its ID and token.
// A name already taken is a *UserExistsError; it grants only the role
// bindings workflow.CheckRoleBindings accepts. Both are checked before
// anything is written, so a refusal names the problem, never a constraint.
func CreateUser(ctx context.Context, store workflow.Store, u NewUser) (int64, string, error) {
	name := strings.TrimSpace(u.Name)
	if name == "" {
		return 0, "", workflow.Invalid("name", "required")
	}
	if err := refuseSystemUser(name, "choose another name"); err != nil {
		return 0, "", err
	}
	if u.PasswordHash != "" {
		if _, _, _, err := decodeHash(u.PasswordHash); err != nil {
			return 0, "", err
		}
	}
	var id int64
	err := store.Update(ctx, func(tx workflow.Tx) error {
		us, err := userStore(tx)
		if err != nil {
			return err
		}
		// Disabled users keep their names: Credentials finds them too.
		if _, err := us.Credentials(ctx, name); err == nil {
			return &UserExistsError{Name: name}
		} else if !errors.Is(err, workflow.ErrNotFound) {
			return err
		}
		if err := workflow.CheckRoleBindings(ctx, tx, u.PersonID, u.Roles); err != nil {
			return err
		}
		if id, err = tx.CreateUser(ctx, name, u.PersonID, u.Roles); errors.Is(err, workflow.ErrDuplicate) {
			return &UserExistsError{Name: name} // created meanwhile by another transaction
		} else if err != nil {
			return err
		}
		if u.PasswordHash != "" {
			if err := us.SetPasswordHash(ctx, id, u.PasswordHash); err != nil {
				return err
			}
		}
		if u.Token == "" {
			return nil
		}
		return tx.CreateToken(ctx, id, HashToken(u.Token), u.TokenExpires)
	})
	if err != nil {
		return 0, "", err
	}
	return id, u.Token, nil
}

// ErrServiceDisabled refuses a service user (ServiceActor) that an
// administrator disabled.
var ErrServiceDisabled = errors.New("auth: service user disabled")

// ServiceActor returns the user called name, creating it without roles and
// without a token when it does not exist: the identity certflow records
// the public's acts under (the complaint intake, Art. 20). A disabled one
// is ErrServiceDisabled: `certflow user disable` is how an administrator
// closes what acts under it, and enable opens it again.
func ServiceActor(ctx context.Context, store workflow.Store, name string) (*workflow.Actor, error) {
	var a workflow.Actor
	err := store.Update(ctx, func(tx workflow.Tx) error {
		us, err := userStore(tx)
		if err != nil {
			return err
		}
		c, err := us.Credentials(ctx, name)
		switch {
		case err == nil && c.Disabled:
			return fmt.Errorf("user %q: %w", name, ErrServiceDisabled)
		case err != nil && !errors.Is(err, workflow.ErrNotFound):
			return err
		}
		a, err = tx.ServiceActor(ctx, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// refuseSystemUser refuses, with reason, what `certflow user` would do to
// certflow's own user (workflow.SystemUserName): it records what certflow
// does by itself (the nightly sweep settling cases), so it is no account
// to add, to sign in as, or to disable.
func refuseSystemUser(name, reason string) error {
	if name != workflow.SystemUserName {
		return nil
	}
	return fmt.Errorf("%w: user %s is certflow's own: certflow records under it what it does by itself (the nightly sweep); %s",
		workflow.ErrForbidden, name, reason)
}
