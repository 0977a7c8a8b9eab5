// Package auth holds certflow's credentials: API tokens, passwords and web
// sessions, and the users they belong to.
//
// Every secret is stored only as a hash, so a leaked database holds no usable
// credentials. API tokens and session IDs are 144 and 256 random bits, so a
// plain SHA-256 is enough; passwords are chosen by people and get argon2id
// (RFC 9106), encoded as a PHC string that carries its parameters and salt,
// so the parameters can be raised later: a login with an older hash rehashes
// it with the current ones.
//
// A login that fails — unknown name, wrong password, disabled or locked
// account — always gets the same error after the same work (an unknown name
// is hashed against a dummy), so the answer never tells whether the user
// exists. After Options.MaxFailures consecutive failures the account is
// locked for a back-off that doubles with each lockout (1 min, 2, 4, … up to
// Options.LockoutMax); during a lockout even the right password fails, and
// a success clears it all.
//
// A web session is a random ID in a cookie; the database keeps its SHA-256
// and expiry. Its CSRF token is derived from the ID (CSRFToken), so the
// server stores nothing more and a page can be handed the token without the
// cookie's secret.
//
// The SQL lives in the stores: UserStore is what this package needs of a
// transaction beyond workflow.Tx, asserted at run time.
package auth
