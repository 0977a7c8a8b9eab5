package auth_test

import (
	"errors"
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
