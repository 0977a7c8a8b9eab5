package auth_test

import (
	"errors"
	"strings"
	"testing"

	"certflow/internal/auth"
)

// cheap hashes fast for tests; the encoding and checks are the same.
var cheap = auth.Params{Time: 1, Memory: 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashPassword(t *testing.T) {
	t.Parallel()
	h, err := auth.HashPassword("correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") || strings.Count(h, "$") != 5 {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	ok, p, err := auth.VerifyPassword(h, "correct horse battery")
	if err != nil || !ok {
		t.Fatalf("verify the right password: %v %v", ok, err)
	}
	if p != cheap {
		t.Errorf("parameters read back %+v, want %+v", p, cheap)
	}
	if ok, _, err := auth.VerifyPassword(h, "correct horse batterY"); err != nil || ok {
		t.Errorf("verify a wrong password: %v %v", ok, err)
	}
	h2, _ := auth.HashPassword("correct horse battery", cheap)
	if h2 == h {
		t.Error("two hashes of one password are equal: no fresh salt")
	}

	// The default parameters are sane: argon2id with 1 to 3 passes and at
	// most 64 MiB, a 16-byte salt, a 32-byte key.
	d := auth.DefaultParams
	if d.Time < 1 || d.Time > 3 || d.Memory > 64*1024 || d.Memory < 19*1024 || d.SaltLen < 16 || d.KeyLen < 32 || d.Threads < 1 {
		t.Errorf("DefaultParams %+v", d)
	}
}

func TestVerifyRefusesMalformed(t *testing.T) {
	t.Parallel()
	good, _ := auth.HashPassword("correct horse battery", cheap)
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty":        "",
		"bcrypt":       "$2a$10$abcdefghijklmnopqrstuu5r7X0XoT5y1lD8S2Rl3G5nH1o2q3r4s",
		"argon2i":      strings.Replace(good, "argon2id", "argon2i", 1),
		"version":      strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":  strings.Join([]string{"", parts[1], parts[2], "m=4194304,t=1,p=1", parts[4], parts[5]}, "$"),
		"zero time":    strings.Join([]string{"", parts[1], parts[2], "m=1024,t=0,p=1", parts[4], parts[5]}, "$"),
		"trailing":     strings.Join([]string{"", parts[1], parts[2], "m=1024,t=1,p=1,x=2", parts[4], parts[5]}, "$"),
		"short salt":   strings.Join([]string{"", parts[1], parts[2], parts[3], "c2FsdA", parts[5]}, "$"),
		"bad base64":   strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "!!!"}, "$"),
		"extra fields": good + "$x",
	} {
		ok, _, err := auth.VerifyPassword(h, "correct horse battery")
		if ok || !errors.Is(err, auth.ErrMalformedHash) {
			t.Errorf("%s: %q verified %v, %v; want ErrMalformedHash", name, h, ok, err)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		password string
		ok       bool
	}{
		{"", false},
		{"short-pw", false},
		{"elevenchars", false},
		{"twelve-chars", true},
		{"执法证件管理办法第九条规定", true}, // 13 characters, 39 bytes
		{strings.Repeat("x", auth.MaxPasswordBytes), true},
		{strings.Repeat("x", auth.MaxPasswordBytes+1), false},
		{"invalid utf8 \xff\xfe", false},
	} {
		if err := auth.CheckPassword(c.password); (err == nil) != c.ok {
			t.Errorf("CheckPassword(%.20q) = %v, want ok %v", c.password, err, c.ok)
		}
	}
	if p := auth.NewPassword(); auth.CheckPassword(p) != nil || p == auth.NewPassword() {
		t.Errorf("NewPassword %q", p)
	}
}

func TestCSRFToken(t *testing.T) {
	t.Parallel()
	a, b := "session-a-0123456789", "session-b-0123456789"
	ta := auth.CSRFToken(a)
	if ta == "" || ta != auth.CSRFToken(a) || ta == auth.CSRFToken(b) || strings.Contains(ta, a) {
		t.Fatalf("CSRFToken(a) %q, CSRFToken(b) %q", ta, auth.CSRFToken(b))
	}
	if !auth.ValidCSRF(a, ta) || auth.ValidCSRF(b, ta) || auth.ValidCSRF(a, "") || auth.ValidCSRF(a, ta[1:]) {
		t.Error("ValidCSRF accepts the wrong token or refuses the right one")
	}
}
