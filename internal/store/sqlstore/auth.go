package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"certflow/internal/auth"
	"certflow/workflow"
)

var _ auth.UserStore = (*tx)(nil)

func (t *tx) Credentials(ctx context.Context, name string) (auth.Credentials, error) {
	var c auth.Credentials
	var hash sql.NullString
	var locked sql.NullTime
	err := t.queryRow(ctx, `SELECT id, name, password_hash, disabled, failed_logins, lockouts, locked_until FROM users WHERE name = $1`, name).
		Scan(&c.UserID, &c.Name, &hash, &c.Disabled, &c.Failures, &c.Lockouts, &locked)
	if err != nil {
		return c, fmt.Errorf("user %q: %w", name, t.s.interpret(err))
	}
	c.PasswordHash = hash.String
	if locked.Valid {
		c.LockedUntil = locked.Time.UTC()
	}
	return c, nil
}

func (t *tx) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	var h any
	if hash != "" {
		h = hash
	}
	return t.execOne(ctx, "user", userID,
		`UPDATE users SET password_hash = $1, failed_logins = 0, lockouts = 0, locked_until = NULL WHERE id = $2`, h, userID)
}

func (t *tx) RecordLoginFailure(ctx context.Context, userID int64) (failures, lockouts int, err error) {
	err = t.queryRow(ctx, `UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins, lockouts`, userID).
		Scan(&failures, &lockouts)
	return failures, lockouts, notFound(t.s.interpret(err), "user", userID)
}

func (t *tx) LockUser(ctx context.Context, userID int64, until time.Time) error {
	return t.execOne(ctx, "user", userID,
		`UPDATE users SET failed_logins = 0, lockouts = lockouts + 1, locked_until = $1 WHERE id = $2`, utc(until), userID)
}

func (t *tx) RecordLoginSuccess(ctx context.Context, userID int64, hash string, now time.Time) (bool, error) {
	r, err := t.exec(ctx, `UPDATE users SET failed_logins = 0, lockouts = 0, locked_until = NULL, last_login_at = $1
		WHERE id = $2 AND NOT disabled AND password_hash = $3 AND (locked_until IS NULL OR locked_until <= $1)`, utc(now), userID, hash)
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

func (t *tx) SetUserDisabled(ctx context.Context, userID int64, disabled bool) error {
	if disabled {
		return t.execOne(ctx, "user", userID, `UPDATE users SET disabled = TRUE WHERE id = $1`, userID)
	}
	return t.execOne(ctx, "user", userID,
		`UPDATE users SET disabled = FALSE, failed_logins = 0, lockouts = 0, locked_until = NULL WHERE id = $1`, userID)
}

// DisableUsersOf disables the accounts of person (a departure completed)
// and ends their sessions, as certflow user disable does.
func (t *tx) DisableUsersOf(ctx context.Context, person int64) (int, error) {
	r, err := t.exec(ctx, `UPDATE users SET disabled = TRUE WHERE person_id = $1 AND NOT disabled`, person)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := t.exec(ctx, `DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE person_id = $1)`, person); err != nil {
		return 0, err
	}
	return int(n), nil
}

func (t *tx) CreateSession(ctx context.Context, userID int64, hash []byte, created, expires time.Time) error {
	_, err := t.exec(ctx, `INSERT INTO sessions (user_id, hash, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		userID, hash, utc(created), utc(expires))
	return err
}

func (t *tx) ActorBySessionHash(ctx context.Context, hash []byte, now time.Time) (workflow.Actor, time.Time, error) {
	var a workflow.Actor
	var person sql.NullInt64
	var expires time.Time
	var p pipeline
	p.scanRow([]any{&a.UserID, &a.Name, &person, &expires}, sqlActorBySessionHash, hash, utc(now))
	pipeRoles(&p, &a, sqlRolesBySessionHash, hash)
	if err := p.run(ctx, t); err != nil {
		return workflow.Actor{}, time.Time{}, unauthenticated(err)
	}
	a.PersonID = person.Int64
	return a, expires.UTC(), nil
}

func (t *tx) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := t.exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
	return err
}

func (t *tx) DeleteSessions(ctx context.Context, userID int64, expiredOnly bool, now time.Time) error {
	if expiredOnly {
		_, err := t.exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2`, userID, utc(now))
		return err
	}
	_, err := t.exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	return err
}

func (t *tx) IssueToken(ctx context.Context, userID int64, hash []byte, created time.Time, expires *time.Time) (int64, error) {
	return t.insert(ctx, `INSERT INTO api_tokens (user_id, hash, created_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		userID, hash, utc(created), nullTime(expires))
}

const tokenCols = `id, user_id, created_at, expires_at, revoked_at`

func scanToken(sc interface{ Scan(...any) error }) (auth.TokenInfo, error) {
	var ti auth.TokenInfo
	var expires, revoked sql.NullTime
	if err := sc.Scan(&ti.ID, &ti.UserID, &ti.CreatedAt, &expires, &revoked); err != nil {
		return ti, err
	}
	ti.CreatedAt = ti.CreatedAt.UTC()
	if expires.Valid {
		ti.ExpiresAt = expires.Time.UTC()
	}
	if revoked.Valid {
		ti.RevokedAt = revoked.Time.UTC()
	}
	return ti, nil
}

func (t *tx) Tokens(ctx context.Context, userID int64) ([]auth.TokenInfo, error) {
	rows, err := t.query(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, t.s.interpret(err)
	}
	defer rows.Close()
	var out []auth.TokenInfo
	for rows.Next() {
		ti, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ti)
	}
	return out, t.s.interpret(rows.Err())
}

func (t *tx) TokenByHash(ctx context.Context, hash []byte) (auth.TokenInfo, error) {
	ti, err := scanToken(t.queryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE hash = $1`, hash))
	return ti, t.s.interpret(err)
}

func (t *tx) RevokeTokens(ctx context.Context, userID, tokenID int64, now time.Time) (int, error) {
	q := `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`
	args := []any{utc(now), userID}
	if tokenID != 0 {
		q += ` AND id = $3`
		args = append(args, tokenID)
	}
	r, err := t.exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}

func (t *tx) Users(ctx context.Context, now time.Time) ([]auth.UserInfo, error) {
	rows, err := t.query(ctx, `SELECT u.id, u.name, COALESCE(u.person_id, 0), u.disabled, u.password_hash IS NOT NULL, u.locked_until, u.created_at, u.last_login_at,
		(SELECT count(*) FROM api_tokens k WHERE k.user_id = u.id AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $1))
		FROM users u ORDER BY u.name`, utc(now))
	if err != nil {
		return nil, t.s.interpret(err)
	}
	var out []auth.UserInfo
	for rows.Next() {
		var u auth.UserInfo
		var locked, last sql.NullTime
		if err := rows.Scan(&u.ID, &u.Name, &u.PersonID, &u.Disabled, &u.HasPassword, &locked, &u.CreatedAt, &last, &u.Tokens); err != nil {
			rows.Close()
			return nil, err
		}
		u.CreatedAt = u.CreatedAt.UTC()
		if locked.Valid && locked.Time.After(now) {
			u.LockedUntil = locked.Time.UTC()
		}
		if last.Valid {
			u.LastLoginAt = last.Time.UTC()
		}
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, t.s.interpret(err)
	}
	// The roles after the rows are closed: a pgx connection runs one query
	// at a time.
	for i := range out {
		a := workflow.Actor{UserID: out[i].ID}
		if err := t.loadRoles(ctx, &a); err != nil {
			return nil, err
		}
		out[i].Roles = a.Roles
	}
	return out, nil
}

// execOne runs an UPDATE that must touch the one row of what id names.
func (t *tx) execOne(ctx context.Context, what string, id int64, q string, args ...any) error {
	r, err := t.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s %d: %w", what, id, workflow.ErrNotFound)
	}
	return nil
}

const sqlRolesBySessionHash = `SELECT role, org_unit_id FROM role_bindings WHERE user_id = (SELECT user_id FROM sessions WHERE hash = $1) ORDER BY role, org_unit_id`

const sqlActorBySessionHash = `SELECT u.id, u.name, u.person_id, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
	WHERE s.hash = $1 AND s.expires_at > $2 AND NOT u.disabled`
