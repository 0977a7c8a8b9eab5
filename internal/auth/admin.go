package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"certflow/workflow"
)

// The administration `certflow user` runs: each function is one
// transaction on the user called name.

// withUser runs fn in a write transaction on the user called name.
func withUser(ctx context.Context, store workflow.Store, name string, fn func(UserStore, Credentials) error) error {
	return store.Update(ctx, func(tx workflow.Tx) error {
		us, err := userStore(tx)
		if err != nil {
			return err
		}
		c, err := us.Credentials(ctx, name)
		if err != nil {
			return err
		}
		return fn(us, c)
	})
}

// SetPassword checks password against the policy, hashes it with p and
// makes it the user's password. It clears the user's lockout and ends
// their web sessions: a reset is what one does when a password leaked.
func SetPassword(ctx context.Context, store workflow.Store, name, password string, p Params) error {
	if err := refuseSystemUser(name, "nobody signs in as it, so it takes no password"); err != nil {
		return err
	}
	if err := CheckPassword(password); err != nil {
		return err
	}
	hash, err := HashPassword(password, p)
	if err != nil {
		return err
	}
	return withUser(ctx, store, name, func(us UserStore, c Credentials) error {
		if err := us.SetPasswordHash(ctx, c.UserID, hash); err != nil {
			return err
		}
		return us.DeleteSessions(ctx, c.UserID, false, time.Time{})
	})
}

// Disable refuses the user's tokens, password and sessions until Enable,
// and ends their web sessions at once. certflow's own user
// (workflow.SystemUserName) has none to refuse and is not disabled.
func Disable(ctx context.Context, store workflow.Store, name string) error {
	if err := refuseSystemUser(name, "it has no password or token to refuse, and is not disabled"); err != nil {
		return err
	}
	return withUser(ctx, store, name, func(us UserStore, c Credentials) error {
		if err := us.SetUserDisabled(ctx, c.UserID, true); err != nil {
			return err
		}
		return us.DeleteSessions(ctx, c.UserID, false, time.Time{})
	})
}

// Enable lets a disabled user in again, with the tokens they had (those
// not revoked or expired meanwhile), and clears any lockout.
func Enable(ctx context.Context, store workflow.Store, name string) error {
	return withUser(ctx, store, name, func(us UserStore, c Credentials) error {
		return us.SetUserDisabled(ctx, c.UserID, false)
	})
}

// IssueToken gives the user a new API token valid until expires (nil:
// never) and returns it (shown once) with its ID. With replace, the user's
// other tokens are revoked in the same transaction.
func IssueToken(ctx context.Context, store workflow.Store, name string, expires *time.Time, replace bool, now time.Time) (int64, string, error) {
	if err := refuseSystemUser(name, "nobody signs in as it, so it takes no token"); err != nil {
		return 0, "", err
	}
	if expires != nil && !expires.After(now) {
		return 0, "", workflow.Invalid("expires", "must lie in the future")
	}
	token := NewToken()
	var id int64
	err := withUser(ctx, store, name, func(us UserStore, c Credentials) error {
		if replace {
			if _, err := us.RevokeTokens(ctx, c.UserID, 0, now); err != nil {
				return err
			}
		}
		var err error
		id, err = us.IssueToken(ctx, c.UserID, HashToken(token), now, expires)
		return err
	})
	if err != nil {
		return 0, "", err
	}
	return id, token, nil
}

// RevokeToken revokes the user's token tokenID, or with tokenID 0 every
// token of theirs, and returns how many it revoked. A token that is not the
// user's, or already revoked, is workflow.ErrNotFound.
func RevokeToken(ctx context.Context, store workflow.Store, name string, tokenID int64, now time.Time) (int, error) {
	var n int
	err := withUser(ctx, store, name, func(us UserStore, c Credentials) error {
		var err error
		n, err = us.RevokeTokens(ctx, c.UserID, tokenID, now)
		if err == nil && n == 0 && tokenID != 0 {
			err = fmt.Errorf("auth: user %q has no unrevoked token %d: %w", name, tokenID, workflow.ErrNotFound)
		}
		return err
	})
	return n, err
}

// RevokeTokenValue revokes the token whose secret is token (a leaked one,
// say) and returns what it was.
func RevokeTokenValue(ctx context.Context, store workflow.Store, token string, now time.Time) (TokenInfo, error) {
	var ti TokenInfo
	err := store.Update(ctx, func(tx workflow.Tx) error {
		us, err := userStore(tx)
		if err != nil {
			return err
		}
		if ti, err = us.TokenByHash(ctx, HashToken(token)); err != nil {
			if errors.Is(err, workflow.ErrNotFound) {
				return fmt.Errorf("auth: no such token: %w", workflow.ErrNotFound)
			}
			return err
		}
		if !ti.RevokedAt.IsZero() {
			return nil
		}
		ti.RevokedAt = now.UTC()
		_, err = us.RevokeTokens(ctx, ti.UserID, ti.ID, now)
		return err
	})
	return ti, err
}

// Users lists every user, by name, with the number of tokens usable at now.
func Users(ctx context.Context, store workflow.Store, now time.Time) ([]UserInfo, error) {
	var out []UserInfo
	err := store.View(ctx, func(tx workflow.Tx) error {
		us, err := userStore(tx)
		if err != nil {
			return err
		}
		out, err = us.Users(ctx, now)
		return err
	})
	return out, err
}

// Tokens lists the tokens of the user called name, without secrets.
func Tokens(ctx context.Context, store workflow.Store, name string) ([]TokenInfo, error) {
	var out []TokenInfo
	err := store.View(ctx, func(tx workflow.Tx) error {
		us, err := userStore(tx)
		if err != nil {
			return err
		}
		c, err := us.Credentials(ctx, name)
		if err != nil {
			return err
		}
		out, err = us.Tokens(ctx, c.UserID)
		return err
	})
	return out, err
}
