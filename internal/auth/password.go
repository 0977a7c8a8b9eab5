package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"certflow/workflow"
)

// Params are argon2id's cost parameters and sizes. A hash records the ones
// it was made with, so changing DefaultParams leaves existing hashes valid.
type Params struct {
	Time    uint32 // passes over memory
	Memory  uint32 // KiB
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams cost about 80 ms and 64 MiB per hash on one of certflow's
// two-core machines: RFC 9106 §4's second recommendation (64 MiB) with two
// passes instead of three, since a login holds the memory for its duration.
var DefaultParams = Params{Time: 2, Memory: 64 * 1024, Threads: 2, SaltLen: 16, KeyLen: 32}

// Bounds a stored hash's parameters must respect before certflow spends
// time and memory verifying against it.
const (
	maxTime    = 10
	maxMemory  = 1 << 20 // 1 GiB
	maxThreads = 16
	minSaltLen = 8
	minKeyLen  = 16
	maxLen     = 64
)

// Password lengths certflow accepts.
const (
	MinPasswordLength = 12   // characters
	MaxPasswordBytes  = 1024 // an upper bound keeps hashing cheap to refuse
)

// ErrMalformedHash: a stored password hash certflow cannot read.
var ErrMalformedHash = errors.New("auth: malformed password hash")

func (p Params) valid() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("auth: argon2id time %d outside 1..%d", p.Time, maxTime)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("auth: argon2id threads %d outside 1..%d", p.Threads, maxThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("auth: argon2id memory %d KiB outside %d..%d", p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxLen:
		return fmt.Errorf("auth: salt length %d outside %d..%d", p.SaltLen, minSaltLen, maxLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxLen:
		return fmt.Errorf("auth: key length %d outside %d..%d", p.KeyLen, minKeyLen, maxLen)
	}
	return nil
}

// sameCost reports whether p and q make hashes of the same cost and size.
func (p Params) sameCost(q Params) bool {
	return p.Time == q.Time && p.Memory == q.Memory && p.Threads == q.Threads && p.SaltLen == q.SaltLen && p.KeyLen == q.KeyLen
}

// HashPassword returns password's argon2id hash with a fresh salt, in the
// PHC string format: $argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash>.
func HashPassword(password string, p Params) (string, error) {
	if err := p.valid(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// b64 is the PHC format's base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// VerifyPassword reports whether password matches encoded, comparing in
// constant time, and returns the parameters encoded was made with (so a
// caller can tell an outdated hash).
func VerifyPassword(encoded, password string) (bool, Params, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, p, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, p, nil
}

// decodeHash parses a PHC argon2id string and checks its parameters are
// within bounds.
func decodeHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: version %q", ErrMalformedHash, parts[2])
	}
	var threads uint32
	_, err = fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads)
	if err != nil || threads > maxThreads || fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, threads) != parts[3] {
		return p, nil, nil, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
	}
	p.Threads = uint8(threads)
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, fmt.Errorf("%w: salt", ErrMalformedHash)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return p, nil, nil, fmt.Errorf("%w: hash", ErrMalformedHash)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.valid(); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}

// CheckPassword enforces the password policy on a new password: at least
// MinPasswordLength characters, at most MaxPasswordBytes bytes, valid UTF-8.
// Length beats composition rules (NIST SP 800-63B §3.1.1.2).
func CheckPassword(password string) error {
	switch {
	case !utf8.ValidString(password):
		return workflow.Invalid("password", "not valid UTF-8")
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return workflow.Invalid("password", fmt.Sprintf("at least %d characters", MinPasswordLength))
	case len(password) > MaxPasswordBytes:
		return workflow.Invalid("password", fmt.Sprintf("at most %d bytes", MaxPasswordBytes))
	}
	return nil
}

// NewPassword returns a random password of 20 characters (120 bits), for
// `certflow user reset` to hand out once.
func NewPassword() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
