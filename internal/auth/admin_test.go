package auth_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"certflow/internal/auth"
	"certflow/workflow"
)

// TestCreateUserNameTaken: of several administrators adding the same name
// at once, one creates the user; the others hear that it exists, in words,
// however their transactions interleave (on PostgreSQL a late one passes
// the check and meets the unique index).
func TestCreateUserNameTaken(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, _, errs[i] = auth.CreateUser(f.ctx, f.store, auth.NewUser{Name: "wang",
					Roles: []workflow.RoleBinding{{Role: workflow.RoleLegalClerk, OrgUnitID: f.unit}}, Token: auth.NewToken()})
			})
		}
		wg.Wait()
		created := 0
		for _, err := range errs {
			var exists *auth.UserExistsError
			switch {
			case err == nil:
				created++
			case errors.As(err, &exists) && errors.Is(err, workflow.ErrConflict) && err.Error() == "auth: a user named wang already exists":
			default:
				t.Errorf("%v (%T)", err, err)
			}
		}
		var users int
		if err := f.store.DB().QueryRowContext(f.ctx, `SELECT count(*) FROM users WHERE name = 'wang'`).Scan(&users); err != nil {
			t.Fatal(err)
		}
		if created != 1 || users != 1 {
			t.Errorf("%d created, %d users named wang; want 1", created, users)
		}
	})
}

// TestSystemUserIsNoAccount: certflow's own user (workflow.SystemUserName),
// which the nightly sweep records under, is neither added, disabled, nor
// given a password or token; enable, which repairs one disabled before,
// works.
func TestSystemUserIsNoAccount(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		name := workflow.SystemUserName
		forbidden := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, workflow.ErrForbidden) || !strings.Contains(err.Error(), "user certflow is certflow's own") {
				t.Errorf("%s: %v, want ErrForbidden naming certflow's own user", what, err)
			}
		}
		_, _, err := auth.CreateUser(f.ctx, f.store, auth.NewUser{Name: " " + name,
			Roles: []workflow.RoleBinding{{Role: workflow.RoleLegalClerk, OrgUnitID: f.unit}}, Token: auth.NewToken()})
		forbidden("add", err)
		if users, err := auth.Users(f.ctx, f.store, start); err != nil || len(users) != 0 {
			t.Fatalf("after a refused add: %v %v", users, err)
		}
		// The sweep creates it.
		if err := f.store.Update(f.ctx, func(tx workflow.Tx) error { _, err := tx.ServiceActor(f.ctx, name); return err }); err != nil {
			t.Fatal(err)
		}
		forbidden("disable", auth.Disable(f.ctx, f.store, name))
		forbidden("reset --password", auth.SetPassword(f.ctx, f.store, name, password, cheap))
		_, _, err = auth.IssueToken(f.ctx, f.store, name, nil, false, start)
		forbidden("reset --token", err)
		if c := f.credentials(t, name); c.Disabled || c.PasswordHash != "" {
			t.Errorf("after the refusals: %+v", c)
		}
		if err := auth.Enable(f.ctx, f.store, name); err != nil {
			t.Errorf("enable: %v", err)
		}
	})
}

// TestServiceActorDisabled: the public intake's user is created once and
// found again; disabled, it is ErrServiceDisabled (the intake closed), not
// a second user that its taken name refuses; enabled, the same user again.
func TestServiceActorDisabled(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		const name = "public-intake"
		first, err := auth.ServiceActor(f.ctx, f.store, name)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := auth.ServiceActor(f.ctx, f.store, name); err != nil || again.UserID != first.UserID || len(again.Roles) != 0 {
			t.Fatalf("again: %+v %v; first %+v", again, err, first)
		}
		if err := auth.Disable(f.ctx, f.store, name); err != nil {
			t.Fatal(err)
		}
		if a, err := auth.ServiceActor(f.ctx, f.store, name); !errors.Is(err, auth.ErrServiceDisabled) {
			t.Fatalf("disabled: %+v %v, want ErrServiceDisabled", a, err)
		}
		if err := auth.Enable(f.ctx, f.store, name); err != nil {
			t.Fatal(err)
		}
		if again, err := auth.ServiceActor(f.ctx, f.store, name); err != nil || again.UserID != first.UserID {
			t.Fatalf("enabled again: %+v %v; first %+v", again, err, first)
		}
	})
}
