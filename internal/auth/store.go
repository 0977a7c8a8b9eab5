package auth

import (
	"context"
	"fmt"
	"time"

	"certflow/workflow"
)

// UserStore is what auth needs of a store transaction beyond workflow.Tx:
// passwords, lockout, sessions and the token and user listings. The SQL
// stores' transactions implement it; auth asserts it from workflow.Tx.
type UserStore interface {
	// Credentials returns the user called name, disabled or not, with what
	// a login checks; an error wrapping workflow.ErrNotFound when none.
	Credentials(ctx context.Context, name string) (Credentials, error)
	// SetPasswordHash stores hash ("" removes the password) and clears the
	// user's failures and lockout.
	SetPasswordHash(ctx context.Context, userID int64, hash string) error
	// RecordLoginFailure counts one failed login and returns the failures
	// since the last success or lockout, and the lockouts since the last
	// success.
	RecordLoginFailure(ctx context.Context, userID int64) (failures, lockouts int, err error)
	// LockUser locks the user until then, counts a lockout and restarts
	// the failure count.
	LockUser(ctx context.Context, userID int64, until time.Time) error
	// RecordLoginSuccess clears the user's failures and lockout and notes
	// the login, provided that at now the user is still enabled, not locked
	// and has password hash; it reports whether it did. The condition is
	// checked in the same statement, so a concurrent lockout, disable or
	// password change wins over a login verified just before it.
	RecordLoginSuccess(ctx context.Context, userID int64, hash string, now time.Time) (bool, error)
	// SetUserDisabled disables or enables the user; enabling also clears
	// the failures and lockout.
	SetUserDisabled(ctx context.Context, userID int64, disabled bool) error

	// CreateSession stores a session by the SHA-256 of its ID.
	CreateSession(ctx context.Context, userID int64, hash []byte, created, expires time.Time) error
	// ActorBySessionHash returns the enabled user whose session has hash and
	// has not expired at now, and when it expires; workflow.ErrUnauthenticated
	// when there is none.
	ActorBySessionHash(ctx context.Context, hash []byte, now time.Time) (workflow.Actor, time.Time, error)
	// DeleteSession deletes the session with hash, if any.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteSessions deletes the user's sessions: all of them, or with
	// expiredOnly those expired at now.
	DeleteSessions(ctx context.Context, userID int64, expiredOnly bool, now time.Time) error

	// IssueToken stores a token by its hash and returns its ID.
	IssueToken(ctx context.Context, userID int64, hash []byte, created time.Time, expires *time.Time) (int64, error)
	// Tokens lists the user's tokens, oldest first, without secrets.
	Tokens(ctx context.Context, userID int64) ([]TokenInfo, error)
	// TokenByHash returns the token with hash, revoked or expired too.
	TokenByHash(ctx context.Context, hash []byte) (TokenInfo, error)
	// RevokeTokens revokes the user's token tokenID (0: every one of the
	// user's tokens) that is not revoked yet, and returns how many it
	// revoked.
	RevokeTokens(ctx context.Context, userID, tokenID int64, now time.Time) (int, error)
	// Users lists every user by name, with roles and the number of tokens
	// usable at now.
	Users(ctx context.Context, now time.Time) ([]UserInfo, error)
}

// Credentials is what a login checks about a user.
type Credentials struct {
	UserID       int64
	Name         string
	PasswordHash string // "": no password; the user cannot log in with one
	Disabled     bool
	Failures     int       // consecutive failed logins since the last success or lockout
	Lockouts     int       // lockouts since the last success: the back-off's exponent
	LockedUntil  time.Time // zero: not locked
}

// TokenInfo describes an API token without its secret.
type TokenInfo struct {
	ID        int64
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	RevokedAt time.Time // zero: not revoked
}

// Usable reports whether the token authenticates at now.
func (t TokenInfo) Usable(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || t.ExpiresAt.After(now))
}

// UserInfo is a user as `certflow user list` shows one: never a secret.
type UserInfo struct {
	ID          int64
	Name        string
	PersonID    int64
	Roles       []workflow.RoleBinding
	Disabled    bool
	HasPassword bool
	LockedUntil time.Time // zero: not locked
	Tokens      int       // usable now
	CreatedAt   time.Time
	LastLoginAt time.Time // zero: never logged in with a password
}

// userStore asserts tx's UserStore side.
func userStore(tx workflow.Tx) (UserStore, error) {
	us, ok := tx.(UserStore)
	if !ok {
		return nil, fmt.Errorf("auth: store %T keeps no passwords or sessions", tx)
	}
	return us, nil
}
