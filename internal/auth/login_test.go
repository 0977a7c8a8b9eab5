package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"certflow/internal/auth"
	"certflow/internal/store/postgres"
	"certflow/internal/store/sqlite"
	"certflow/internal/store/sqlstore"
	"certflow/workflow"
)

// stores are the databases every test here runs on.
var stores = []struct {
	name string
	open func(testing.TB) *sqlstore.Store
}{
	{"sqlite", func(t testing.TB) *sqlstore.Store {
		s, _, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "auth.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", postgres.OpenTest}, // skipped without a server, never under CI=true
}

// eachStore runs fn as a parallel subtest on every store.
func eachStore(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			fn(t, setup(t, s.open))
		})
	}
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var start = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)

// fixture is one test's store, clock and authenticator, with a unit to
// bind roles to.
type fixture struct {
	ctx   context.Context
	store *sqlstore.Store
	clock *clock
	auth  *auth.Authenticator
	unit  int64
}

const password = "correct horse battery"

func setup(t *testing.T, open func(testing.TB) *sqlstore.Store) *fixture {
	t.Helper()
	f := &fixture{ctx: context.Background(), store: open(t), clock: &clock{now: start}}
	f.auth = auth.New(f.store, auth.Options{Params: cheap, Clock: f.clock.Now})
	err := f.store.Update(f.ctx, func(tx workflow.Tx) error {
		u := workflow.OrgUnit{Kind: workflow.UnitDepartment, Level: workflow.LevelRegion, Name: "新疆维吾尔自治区应急管理厅", Region: "650000"}
		err := tx.CreateOrgUnit(f.ctx, &u)
		f.unit = u.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// user creates name with password (none when ""), a legal_clerk role and a
// token, and returns the token.
func (f *fixture) user(t *testing.T, name, pw string) string {
	t.Helper()
	var hash string
	if pw != "" {
		var err error
		if hash, err = auth.HashPassword(pw, cheap); err != nil {
			t.Fatal(err)
		}
	}
	_, token, err := auth.CreateUser(f.ctx, f.store, auth.NewUser{Name: name, Roles: []workflow.RoleBinding{{Role: workflow.RoleLegalClerk, OrgUnitID: f.unit}},
		Token: auth.NewToken(), PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// credentials reads what a login checks about name.
func (f *fixture) credentials(t *testing.T, name string) auth.Credentials {
	t.Helper()
	var c auth.Credentials
	err := f.store.View(f.ctx, func(tx workflow.Tx) (err error) {
		c, err = tx.(auth.UserStore).Credentials(f.ctx, name)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// login logs name in and reports whether it worked; an error other than
// ErrBadLogin fails the test.
func (f *fixture) login(t *testing.T, name, pw string) *auth.Session {
	t.Helper()
	s, err := f.auth.Login(f.ctx, name, pw)
	if err != nil && !errors.Is(err, auth.ErrBadLogin) {
		t.Fatalf("login %s: %v", name, err)
	}
	if err != nil && !errors.Is(err, workflow.ErrUnauthenticated) {
		t.Fatalf("ErrBadLogin does not wrap workflow.ErrUnauthenticated")
	}
	return s
}

func TestLogin(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		f.user(t, "clerk", password)
		s := f.login(t, "clerk", password)
		if s == nil {
			t.Fatal("the right password was refused")
		}
		if s.Actor.Name != "clerk" || !s.Actor.Has(workflow.RoleLegalClerk, f.unit) {
			t.Errorf("actor %+v", s.Actor)
		}
		if len(s.ID) < 40 || s.CSRFToken != auth.CSRFToken(s.ID) || !s.ExpiresAt.Equal(start.Add(auth.DefaultSessionTTL)) {
			t.Errorf("session %+v", s)
		}
		act, exp, err := f.auth.Session(f.ctx, s.ID)
		if err != nil || act.Name != "clerk" || !exp.Equal(s.ExpiresAt) || len(act.Roles) != 1 {
			t.Fatalf("session lookup: %+v %v %v", act, exp, err)
		}
		// The store keeps only the ID's hash.
		var stored []byte
		if err := f.store.DB().QueryRow(`SELECT hash FROM sessions`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if string(stored) == s.ID || !slices.Equal(stored, auth.HashToken(s.ID)) {
			t.Errorf("sessions.hash %x is not the ID's SHA-256", stored)
		}

		for _, c := range []struct{ name, pw string }{
			{"clerk", "wrong password!"}, {"clerk", ""}, {"nobody", password}, {"", password}, {"Clerk", password},
		} {
			if f.login(t, c.name, c.pw) != nil {
				t.Errorf("login %q with %q worked", c.name, c.pw)
			}
		}
	})
}

func TestSessionExpiryAndLogout(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		f.user(t, "clerk", password)
		s1 := f.login(t, "clerk", password)
		s2 := f.login(t, "clerk", password)
		if s1 == nil || s2 == nil || s1.ID == s2.ID {
			t.Fatal("two logins, two sessions")
		}
		if err := f.auth.Logout(f.ctx, s1.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.auth.Session(f.ctx, s1.ID); !errors.Is(err, workflow.ErrUnauthenticated) {
			t.Errorf("session after logout: %v", err)
		}
		if _, _, err := f.auth.Session(f.ctx, s2.ID); err != nil {
			t.Errorf("logout ended the other session too: %v", err)
		}
		if err := f.auth.Logout(f.ctx, s1.ID); err != nil {
			t.Errorf("second logout: %v", err)
		}
		f.clock.Add(auth.DefaultSessionTTL - time.Second)
		if _, _, err := f.auth.Session(f.ctx, s2.ID); err != nil {
			t.Errorf("session a second before expiry: %v", err)
		}
		f.clock.Add(time.Second)
		if _, _, err := f.auth.Session(f.ctx, s2.ID); !errors.Is(err, workflow.ErrUnauthenticated) {
			t.Errorf("session at expiry: %v", err)
		}
		// The next login clears the expired rows.
		f.login(t, "clerk", password)
		var n int
		if err := f.store.DB().QueryRow(`SELECT count(*) FROM sessions`).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d session rows (%v), want 1", n, err)
		}
		for _, id := range []string{"", "x", string(make([]byte, 4096))} {
			if _, _, err := f.auth.Session(f.ctx, id); !errors.Is(err, workflow.ErrUnauthenticated) {
				t.Errorf("session %.10q: %v", id, err)
			}
		}
	})
}

func TestLockout(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		f.user(t, "clerk", password)
		fail := func(n int) {
			t.Helper()
			for range n {
				if f.login(t, "clerk", "wrong password!") != nil {
					t.Fatal("a wrong password worked")
				}
			}
		}
		locked := func(want bool) {
			t.Helper()
			c := f.credentials(t, "clerk")
			if got := f.clock.Now().Before(c.LockedUntil); got != want {
				t.Fatalf("at %s locked until %s: locked %v, want %v", f.clock.Now(), c.LockedUntil, got, want)
			}
		}

		// Four failures, then success: the count starts over.
		fail(4)
		if f.login(t, "clerk", password) == nil {
			t.Fatal("the right password after 4 failures was refused")
		}
		if c := f.credentials(t, "clerk"); c.Failures != 0 || c.Lockouts != 0 {
			t.Fatalf("after success: %+v", c)
		}
		fail(4)
		locked(false)
		fail(1)
		locked(true)

		// The back-off doubles: 1, 2, 4 minutes. The right password fails
		// throughout a lockout, and attempts then do not extend it.
		for i, d := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
			if i > 0 {
				fail(5)
			}
			c := f.credentials(t, "clerk")
			if want := f.clock.Now().Add(d); !c.LockedUntil.Equal(want) || c.Lockouts != i+1 {
				t.Fatalf("lockout %d: until %s (lockouts %d), want %s", i+1, c.LockedUntil, c.Lockouts, want)
			}
			f.clock.Add(d - time.Second)
			if f.login(t, "clerk", password) != nil {
				t.Fatalf("lockout %d: the right password worked a second before the end", i+1)
			}
			fail(3)
			locked(true)
			f.clock.Add(time.Second)
			locked(false)
		}
		// Success clears the lockout count: the next lockout is 1 minute.
		if f.login(t, "clerk", password) == nil {
			t.Fatal("the right password after the lockout was refused")
		}
		fail(5)
		if c := f.credentials(t, "clerk"); !c.LockedUntil.Equal(f.clock.Now().Add(time.Minute)) || c.Lockouts != 1 {
			t.Fatalf("after success and 5 failures: %+v", c)
		}
		// A password reset unlocks.
		if err := auth.SetPassword(f.ctx, f.store, "clerk", "another good password", cheap); err != nil {
			t.Fatal(err)
		}
		if f.login(t, "clerk", "another good password") == nil {
			t.Fatal("the new password was refused")
		}
	})
}

func TestBackoffCapped(t *testing.T) {
	t.Parallel()
	a := auth.New(nil, auth.Options{LockoutBase: time.Minute, LockoutMax: time.Hour})
	var got []time.Duration
	for n := 1; n <= 9; n++ {
		got = append(got, a.Backoff(n))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	for i := range want {
		want[i] *= time.Minute
	}
	if !slices.Equal(got, want) {
		t.Errorf("back-off %v, want %v", got, want)
	}
	if d := a.Backoff(1 << 20); d != time.Hour {
		t.Errorf("back-off of a huge count %s", d)
	}
}

// TestLoginTellsNothing: an unknown name, a user without a password, a
// disabled and a locked user all get ErrBadLogin after the same work as a
// wrong password: one argon2id hash. The work is measured with costly
// parameters, where the hash dominates a database round trip.
func TestLoginTellsNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		costly := auth.Params{Time: 1, Memory: 24 * 1024, Threads: 1, SaltLen: 16, KeyLen: 32}
		a := auth.New(f.store, auth.Options{Params: costly, MaxFailures: 1000, Clock: f.clock.Now, MaxHashing: 1})
		for _, name := range []string{"known", "disabled"} {
			if _, _, err := auth.CreateUser(f.ctx, f.store, auth.NewUser{Name: name}); err != nil {
				t.Fatal(err)
			}
			if err := auth.SetPassword(f.ctx, f.store, name, password, costly); err != nil {
				t.Fatal(err)
			}
		}
		f.user(t, "token-only", "")
		if err := auth.Disable(f.ctx, f.store, "disabled"); err != nil {
			t.Fatal(err)
		}
		// Rounds interleave the cases, so a busy machine slows them alike,
		// and the fastest of each is its work without waiting. Without the
		// dummy hash an unknown name answers a hundred times faster than a
		// wrong password; a factor of 5 either way is noise (a wrong
		// password also writes its failure, which a loaded machine may
		// make slow).
		cases := []struct{ name, pw string }{
			{"known", "wrong password!"}, {"nobody", password}, {"token-only", password}, {"disabled", password},
		}
		times := make([][]time.Duration, len(cases))
		for range 9 {
			for i, c := range cases {
				t0 := time.Now()
				s, err := a.Login(f.ctx, c.name, c.pw)
				times[i] = append(times[i], time.Since(t0))
				if s != nil || !errors.Is(err, auth.ErrBadLogin) {
					t.Fatalf("login %s: %v, %v; want ErrBadLogin", c.name, s, err)
				}
			}
		}
		wrong := slices.Min(times[0])
		for i, c := range cases[1:] {
			if d := slices.Min(times[i+1]); d < wrong/5 || d > wrong*5 {
				t.Errorf("login as %s took %s, a wrong password %s: the time tells them apart", c.name, d, wrong)
			}
		}
	})
}

func TestRehashOnLogin(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		f.user(t, "clerk", password)
		stronger := cheap
		stronger.Time = 2
		a := auth.New(f.store, auth.Options{Params: stronger, Clock: f.clock.Now})
		if s, err := a.Login(f.ctx, "clerk", password); err != nil || s == nil {
			t.Fatalf("login: %v", err)
		}
		_, p, err := auth.VerifyPassword(f.credentials(t, "clerk").PasswordHash, password)
		if err != nil || p != stronger {
			t.Errorf("after login the hash has %+v (%v), want %+v", p, err, stronger)
		}
		if s, err := a.Login(f.ctx, "clerk", password); err != nil || s == nil {
			t.Fatalf("login with the rehashed password: %v", err)
		}
	})
}

func TestDisable(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		token := f.user(t, "clerk", password)
		s := f.login(t, "clerk", password)
		if err := auth.Disable(f.ctx, f.store, "clerk"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Token(f.ctx, token); !errors.Is(err, workflow.ErrUnauthenticated) {
			t.Errorf("token of a disabled user: %v", err)
		}
		if _, _, err := f.auth.Session(f.ctx, s.ID); !errors.Is(err, workflow.ErrUnauthenticated) {
			t.Errorf("session of a disabled user: %v", err)
		}
		if f.login(t, "clerk", password) != nil {
			t.Error("a disabled user logged in")
		}
		if err := auth.Enable(f.ctx, f.store, "clerk"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Token(f.ctx, token); err != nil {
			t.Errorf("token after enable: %v", err)
		}
		if _, _, err := f.auth.Session(f.ctx, s.ID); !errors.Is(err, workflow.ErrUnauthenticated) {
			t.Errorf("disable ended the session for good, yet: %v", err)
		}
		if f.login(t, "clerk", password) == nil {
			t.Error("an enabled user cannot log in")
		}
		for _, err := range []error{auth.Disable(f.ctx, f.store, "nobody"), auth.Enable(f.ctx, f.store, "nobody"),
			auth.SetPassword(f.ctx, f.store, "nobody", password, cheap)} {
			if !errors.Is(err, workflow.ErrNotFound) {
				t.Errorf("on an unknown user: %v, want ErrNotFound", err)
			}
		}
	})
}

func TestPasswordResetEndsSessions(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		f.user(t, "clerk", password)
		s := f.login(t, "clerk", password)
		if err := auth.SetPassword(f.ctx, f.store, "clerk", "short", cheap); err == nil {
			t.Error("a short password was accepted")
		}
		if _, _, err := f.auth.Session(f.ctx, s.ID); err != nil {
			t.Fatalf("a refused reset ended the session: %v", err)
		}
		if err := auth.SetPassword(f.ctx, f.store, "clerk", "a new long password", cheap); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.auth.Session(f.ctx, s.ID); !errors.Is(err, workflow.ErrUnauthenticated) {
			t.Errorf("session after a password reset: %v", err)
		}
		if f.login(t, "clerk", password) != nil {
			t.Error("the old password still works")
		}
	})
}

func TestTokens(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		first := f.user(t, "clerk", "")
		now := f.clock.Now()
		exp := now.Add(time.Hour)
		id2, second, err := auth.IssueToken(f.ctx, f.store, "clerk", &exp, false, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := auth.IssueToken(f.ctx, f.store, "clerk", &now, false, now); err == nil {
			t.Error("a token expiring now was issued")
		}
		for _, tok := range []string{first, second} {
			if _, err := f.auth.Token(f.ctx, tok); err != nil {
				t.Errorf("fresh token: %v", err)
			}
		}
		// Expired: 401 from its expiry on.
		f.clock.Add(time.Hour - time.Second)
		if _, err := f.auth.Token(f.ctx, second); err != nil {
			t.Errorf("token a second before expiry: %v", err)
		}
		f.clock.Add(time.Second)
		if _, err := f.auth.Token(f.ctx, second); !errors.Is(err, workflow.ErrUnauthenticated) {
			t.Errorf("expired token: %v", err)
		}
		users, err := auth.Users(f.ctx, f.store, f.clock.Now())
		if err != nil || len(users) != 1 || users[0].Tokens != 1 {
			t.Fatalf("users %+v %v; want clerk with 1 usable token", users, err)
		}

		// Revoked by ID, by value, all at once.
		id3, third, err := auth.IssueToken(f.ctx, f.store, "clerk", nil, false, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if n, err := auth.RevokeToken(f.ctx, f.store, "clerk", id3, f.clock.Now()); err != nil || n != 1 {
			t.Fatalf("revoke %d: %d %v", id3, n, err)
		}
		if _, err := f.auth.Token(f.ctx, third); !errors.Is(err, workflow.ErrUnauthenticated) {
			t.Errorf("revoked token: %v", err)
		}
		if _, err := auth.RevokeToken(f.ctx, f.store, "clerk", id3, f.clock.Now()); !errors.Is(err, workflow.ErrNotFound) {
			t.Errorf("revoke twice: %v", err)
		}
		ti, err := auth.RevokeTokenValue(f.ctx, f.store, first, f.clock.Now())
		if err != nil || ti.RevokedAt.IsZero() {
			t.Fatalf("revoke by value: %+v %v", ti, err)
		}
		if _, err := f.auth.Token(f.ctx, first); !errors.Is(err, workflow.ErrUnauthenticated) {
			t.Errorf("token revoked by value: %v", err)
		}
		if _, err := auth.RevokeTokenValue(f.ctx, f.store, "cf_unknown", f.clock.Now()); !errors.Is(err, workflow.ErrNotFound) {
			t.Errorf("revoke an unknown value: %v", err)
		}
		_, fourth, _ := auth.IssueToken(f.ctx, f.store, "clerk", nil, false, f.clock.Now())
		_, fifth, _ := auth.IssueToken(f.ctx, f.store, "clerk", nil, false, f.clock.Now())
		// The expired one counts too: revoked is final, expired is not.
		if n, err := auth.RevokeToken(f.ctx, f.store, "clerk", 0, f.clock.Now()); err != nil || n != 3 {
			t.Fatalf("revoke all: %d %v, want 3", n, err)
		}
		for _, tok := range []string{fourth, fifth} {
			if _, err := f.auth.Token(f.ctx, tok); !errors.Is(err, workflow.ErrUnauthenticated) {
				t.Errorf("token after revoke all: %v", err)
			}
		}
		// Replace: a new token, every other one revoked.
		_, sixth, _ := auth.IssueToken(f.ctx, f.store, "clerk", nil, false, f.clock.Now())
		_, seventh, err := auth.IssueToken(f.ctx, f.store, "clerk", nil, true, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Token(f.ctx, sixth); !errors.Is(err, workflow.ErrUnauthenticated) {
			t.Errorf("token replaced: %v", err)
		}
		if _, err := f.auth.Token(f.ctx, seventh); err != nil {
			t.Errorf("replacing token: %v", err)
		}

		list, err := auth.Tokens(f.ctx, f.store, "clerk")
		if err != nil || len(list) != 7 || list[1].ID != id2 || !list[1].ExpiresAt.Equal(exp) {
			t.Fatalf("tokens %+v %v", list, err)
		}
		var usable []int64
		for _, ti := range list {
			if ti.Usable(f.clock.Now()) {
				usable = append(usable, ti.ID)
			}
		}
		if len(usable) != 1 || usable[0] != list[6].ID {
			t.Errorf("usable tokens %v, want only the last", usable)
		}
	})
}

func TestUsersList(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		f.user(t, "b-clerk", password)
		f.user(t, "a-service", "")
		if err := auth.Disable(f.ctx, f.store, "a-service"); err != nil {
			t.Fatal(err)
		}
		f.login(t, "b-clerk", password)
		users, err := auth.Users(f.ctx, f.store, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 2 || users[0].Name != "a-service" || users[1].Name != "b-clerk" {
			t.Fatalf("users %+v", users)
		}
		a, b := users[0], users[1]
		if !a.Disabled || a.HasPassword || a.Tokens != 1 || !a.LastLoginAt.IsZero() {
			t.Errorf("a-service %+v", a)
		}
		if b.Disabled || !b.HasPassword || b.Tokens != 1 || !b.LastLoginAt.Equal(start) || len(b.Roles) != 1 || b.Roles[0].Role != workflow.RoleLegalClerk {
			t.Errorf("b-clerk %+v", b)
		}
	})
}
