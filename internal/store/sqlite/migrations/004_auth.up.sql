-- Passwords, lockout and web sessions (internal/auth).
--
-- password_hash is an argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)
-- that carries its own parameters, so they can be raised later; NULL means
-- the user cannot log in with a password (a token-only or service user).
-- failed_logins counts consecutive failures since the last success or
-- lockout; lockouts counts lockouts since the last success and doubles the
-- next one (1 min, 2, 4, … capped); locked_until refuses every login,
-- the right password too, until it passes.
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN lockouts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMP;
ALTER TABLE users ADD COLUMN last_login_at TIMESTAMP;

CREATE INDEX api_tokens_user ON api_tokens(user_id, id);

-- A web session: the cookie holds a random ID, the table only its SHA-256.
-- Logout, a password reset and disabling the user delete the rows.
CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    hash       BLOB NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id, expires_at);
