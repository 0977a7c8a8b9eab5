package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"certflow/workflow"
)

// Defaults of Options.
const (
	DefaultMaxFailures = 5
	DefaultLockoutBase = time.Minute
	DefaultLockoutMax  = time.Hour
	DefaultSessionTTL  = 12 * time.Hour
)

// ErrBadLogin is every failed login's error, whatever the cause, so the
// answer never tells whether the user exists, is disabled or is locked.
var ErrBadLogin = fmt.Errorf("auth: wrong name or password, or the account is locked for a while: %w", workflow.ErrUnauthenticated)

// Options configure an Authenticator; zero fields take the defaults.
type Options struct {
	// Params hash new passwords (default DefaultParams); a login whose
	// stored hash has other parameters rehashes it with these.
	Params Params
	// MaxFailures consecutive failed logins lock the account (default 5).
	MaxFailures int
	// LockoutBase is the first lockout's length (default 1 min); each
	// further one without a success between doubles, up to LockoutMax
	// (default 1 h).
	LockoutBase, LockoutMax time.Duration
	// SessionTTL is a web session's lifetime from login (default 12 h).
	SessionTTL time.Duration
	// MaxHashing caps the password hashes computed at once (default the
	// number of CPUs): each holds Params.Memory, and a burst of logins must
	// not exhaust the machine.
	MaxHashing int
	// Clock is the time source (default time.Now).
	Clock func() time.Time
	// Logger records lockouts and failed logins (nil: discard).
	Logger *slog.Logger
}

// Authenticator logs users in with a password and keeps their web
// sessions.
type Authenticator struct {
	store workflow.Store
	o     Options
	slots chan struct{}
	dummy string // a hash no password matches, with o.Params' cost
}

// New returns an Authenticator on store.
func New(store workflow.Store, o Options) *Authenticator {
	if o.Params == (Params{}) {
		o.Params = DefaultParams
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	if o.LockoutBase <= 0 {
		o.LockoutBase = DefaultLockoutBase
	}
	if o.LockoutMax < o.LockoutBase {
		o.LockoutMax = max(DefaultLockoutMax, o.LockoutBase)
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.MaxHashing <= 0 {
		o.MaxHashing = runtime.NumCPU()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Authenticator{store: store, o: o, slots: make(chan struct{}, o.MaxHashing), dummy: dummyHash(o.Params)}
}

// dummyHash returns a well-formed hash with p's cost that no password
// matches: random bytes in place of a derived key. Verifying against it
// costs what verifying against a real one does.
func dummyHash(p Params) string {
	salt, key := make([]byte, p.SaltLen), make([]byte, p.KeyLen)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(key)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Params returns the parameters new hashes get.
func (a *Authenticator) Params() Params { return a.o.Params }

// Session is a web session just opened.
type Session struct {
	// ID is the cookie's value, shown this once: the store keeps its
	// SHA-256.
	ID        string
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
	Actor     workflow.Actor
}

// Login checks name and password and opens a session. Every failure is
// ErrBadLogin after the same work: an unknown name, or one without a
// password, is hashed against a dummy.
func (a *Authenticator) Login(ctx context.Context, name, password string) (*Session, error) {
	name = strings.TrimSpace(name)
	if name == "" || password == "" || len(password) > MaxPasswordBytes {
		return nil, ErrBadLogin
	}
	var c Credentials
	err := a.store.View(ctx, func(tx workflow.Tx) error {
		us, err := userStore(tx)
		if err != nil {
			return err
		}
		c, err = us.Credentials(ctx, name)
		return err
	})
	known := err == nil && c.PasswordHash != ""
	if err != nil && !errors.Is(err, workflow.ErrNotFound) {
		return nil, err
	}
	hash := c.PasswordHash
	if !known {
		hash = a.dummy
	}
	ok, params, err := a.verify(ctx, hash, password)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		a.o.Logger.ErrorContext(ctx, "auth: stored password hash unreadable", "user", name, "err", err)
		ok = false
	}
	now := a.o.Clock().UTC()
	switch {
	case !known:
		a.o.Logger.InfoContext(ctx, "auth: login failed", "user", name, "reason", "unknown user or no password")
		return nil, ErrBadLogin
	case c.Disabled:
		a.o.Logger.InfoContext(ctx, "auth: login failed", "user", name, "reason", "disabled")
		return nil, ErrBadLogin
	case now.Before(c.LockedUntil):
		// Not counted: a lockout must not grow by itself while someone
		// keeps trying.
		a.o.Logger.InfoContext(ctx, "auth: login failed", "user", name, "reason", "locked", "until", c.LockedUntil)
		return nil, ErrBadLogin
	case !ok:
		return nil, a.recordFailure(ctx, c, now)
	}

	var rehash string
	if !params.sameCost(a.o.Params) {
		if rehash, err = a.hash(ctx, password); err != nil {
			return nil, err
		}
	}
	s := &Session{ID: newSecret(32), CreatedAt: now, ExpiresAt: now.Add(a.o.SessionTTL)}
	s.CSRFToken = CSRFToken(s.ID)
	err = a.store.Update(ctx, func(tx workflow.Tx) error {
		us, err := userStore(tx)
		if err != nil {
			return err
		}
		done, err := us.RecordLoginSuccess(ctx, c.UserID, c.PasswordHash, now)
		if err != nil {
			return err
		}
		if !done {
			// Locked, disabled or given a new password since we read it.
			return ErrBadLogin
		}
		if rehash != "" {
			if err := us.SetPasswordHash(ctx, c.UserID, rehash); err != nil {
				return err
			}
		}
		if err := us.DeleteSessions(ctx, c.UserID, true, now); err != nil {
			return err
		}
		if err := us.CreateSession(ctx, c.UserID, HashToken(s.ID), now, s.ExpiresAt); err != nil {
			return err
		}
		s.Actor, err = tx.ActorByName(ctx, c.Name)
		return err
	})
	if err != nil {
		return nil, err
	}
	a.o.Logger.InfoContext(ctx, "auth: login", "user", c.Name, "rehashed", rehash != "")
	return s, nil
}

// recordFailure counts a failed login and locks the account when it is the
// MaxFailures-th in a row; it returns ErrBadLogin.
func (a *Authenticator) recordFailure(ctx context.Context, c Credentials, now time.Time) error {
	err := a.store.Update(ctx, func(tx workflow.Tx) error {
		us, err := userStore(tx)
		if err != nil {
			return err
		}
		failures, lockouts, err := us.RecordLoginFailure(ctx, c.UserID)
		if err != nil || failures < a.o.MaxFailures {
			return err
		}
		until := now.Add(a.Backoff(lockouts + 1))
		a.o.Logger.WarnContext(ctx, "auth: account locked", "user", c.Name, "failures", failures, "lockout", lockouts+1, "until", until)
		return us.LockUser(ctx, c.UserID, until)
	})
	if err != nil {
		return err
	}
	a.o.Logger.InfoContext(ctx, "auth: login failed", "user", c.Name, "reason", "wrong password")
	return ErrBadLogin
}

// Backoff is the length of the nth lockout (n ≥ 1) without a success
// between: LockoutBase doubled n-1 times, at most LockoutMax.
func (a *Authenticator) Backoff(n int) time.Duration {
	d := a.o.LockoutBase
	for i := 1; i < n && d < a.o.LockoutMax; i++ {
		d *= 2
	}
	return min(d, a.o.LockoutMax)
}

// verify is VerifyPassword within the cap on concurrent hashes.
func (a *Authenticator) verify(ctx context.Context, encoded, password string) (bool, Params, error) {
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		return false, Params{}, ctx.Err()
	}
	defer func() { <-a.slots }()
	return VerifyPassword(encoded, password)
}

// hash is HashPassword with the Authenticator's parameters, within the cap.
func (a *Authenticator) hash(ctx context.Context, password string) (string, error) {
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-a.slots }()
	return HashPassword(password, a.o.Params)
}

// maxSessionID bounds a cookie value worth looking up.
const maxSessionID = 128

// Session returns the user of the session with id and when it expires, or
// workflow.ErrUnauthenticated when it is unknown, expired, logged out or
// its user disabled.
func (a *Authenticator) Session(ctx context.Context, id string) (*workflow.Actor, time.Time, error) {
	if id == "" || len(id) > maxSessionID {
		return nil, time.Time{}, workflow.ErrUnauthenticated
	}
	var act workflow.Actor
	var expires time.Time
	// As Authenticate: every request of a web session runs this.
	err := workflow.ViewLoose(ctx, a.store, func(tx workflow.Tx) error {
		us, err := userStore(tx)
		if err != nil {
			return err
		}
		act, expires, err = us.ActorBySessionHash(ctx, HashToken(id), a.o.Clock().UTC())
		return err
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	return &act, expires, nil
}

// Logout ends the session with id; an unknown one is already ended.
func (a *Authenticator) Logout(ctx context.Context, id string) error {
	if id == "" || len(id) > maxSessionID {
		return nil
	}
	return a.store.Update(ctx, func(tx workflow.Tx) error {
		us, err := userStore(tx)
		if err != nil {
			return err
		}
		return us.DeleteSession(ctx, HashToken(id))
	})
}

// Token returns the user of an API token, or workflow.ErrUnauthenticated.
func (a *Authenticator) Token(ctx context.Context, token string) (*workflow.Actor, error) {
	return Authenticate(ctx, a.store, token, a.o.Clock())
}

// csrfLabel separates the CSRF token from any other use of the session ID.
const csrfLabel = "certflow csrf v1"

// CSRFToken is the synchronizer token of the session with id: an HMAC
// keyed by the session's secret ID, so only someone who holds the cookie
// (or was handed the token by the server) has it, and a token reveals
// nothing of the ID. A cross-site page can make the browser send the
// cookie but cannot read it, nor any answer, so it cannot send the token.
func CSRFToken(sessionID string) string {
	m := hmac.New(sha256.New, []byte(sessionID))
	m.Write([]byte(csrfLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ValidCSRF reports, in constant time, whether token is the CSRF token of
// the session with id.
func ValidCSRF(sessionID, token string) bool {
	return token != "" && hmac.Equal([]byte(CSRFToken(sessionID)), []byte(token))
}

// newSecret returns n random bytes, base64url-encoded.
func newSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
