package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"certflow/internal/auth"
	"certflow/internal/demo"
	"certflow/internal/store/postgres"
	"certflow/workflow"
)

// userDatabases returns a migrated database with the demo data per store,
// as --database values.
func userDatabases(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}

	lite := filepath.Join(t.TempDir(), "c.db")
	s, _, closeStore, err := openStore(ctx, lite)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, s, workflow.DateOf(time.Now())); err != nil {
		t.Fatal(err)
	}
	closeStore()
	out["sqlite"] = lite

	pg := postgres.OpenTest(t) // a fresh schema, skipped without a server (never under CI=true)
	if _, err := demo.Load(ctx, pg, workflow.DateOf(time.Now())); err != nil {
		t.Fatal(err)
	}
	out["postgres"] = schemaURL(t, pg)
	return out
}

// cli runs certflow with args against database and returns its output.
type cli struct {
	t        *testing.T
	database string
}

func (c cli) run(args ...string) (string, error) {
	c.t.Helper()
	var out, errb bytes.Buffer
	// Flags before the user's name: the flag package stops at the first
	// argument.
	n := min(2, len(args))
	args = append(append(append([]string{}, args[:n]...), "--database", c.database), args[n:]...)
	err := run(context.Background(), args, &out, &errb)
	return out.String(), err
}

func (c cli) ok(args ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("certflow %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

var (
	tokenLine    = regexp.MustCompile(`(?m)^token: (cf_\S+)$`)
	passwordLine = regexp.MustCompile(`(?m)^password: (\S+)$`)
)

func secret(t *testing.T, re *regexp.Regexp, out string) string {
	t.Helper()
	m := re.FindAllStringSubmatch(out, -1)
	if len(m) != 1 {
		t.Fatalf("want one %s in:\n%s", re, out)
	}
	return m[0][1]
}

// listed returns the `user list` row of name as fields.
func listed(t *testing.T, list, name string) []string {
	t.Helper()
	for _, line := range strings.Split(list, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return f
		}
	}
	t.Fatalf("%s not in:\n%s", name, list)
	return nil
}

func TestUserCommands(t *testing.T) {
	for name, database := range userDatabases(t) {
		t.Run(name, func(t *testing.T) {
			c := cli{t, database}
			ctx := context.Background()
			store, _, closeStore, err := openStore(ctx, database)
			if err != nil {
				t.Fatal(err)
			}
			defer closeStore()
			login := func(name, password string) bool {
				t.Helper()
				a := auth.New(store, auth.Options{})
				s, err := a.Login(ctx, name, password)
				if err != nil && !errors.Is(err, auth.ErrBadLogin) {
					t.Fatal(err)
				}
				return s != nil
			}
			tokenWorks := func(token string) bool {
				t.Helper()
				_, err := auth.Authenticate(ctx, store, token, time.Now())
				if err != nil && !errors.Is(err, workflow.ErrUnauthenticated) {
					t.Fatal(err)
				}
				return err == nil
			}

			// add: a token (90 days by default) and a generated password, printed once.
			out := c.ok("user", "add", "--name", "alice", "--role", "legal_clerk@650102", "--role", "hr@650102", "--password")
			token, password := secret(t, tokenLine, out), secret(t, passwordLine, out)
			if !strings.Contains(out, "token expires: "+time.Now().Add(defaultTokenLifetime).UTC().Format("2006-01-02")) {
				t.Errorf("add: no 90-day expiry in\n%s", out)
			}
			if !tokenWorks(token) || !login("alice", password) {
				t.Fatal("the new user's token or password does not work")
			}
			if _, err := c.run("user", "add", "--name", "alice", "--role", "hr@650102"); !errors.Is(err, workflow.ErrConflict) {
				t.Errorf("add twice: %v", err)
			}
			out = c.ok("user", "add", "--name", "web-only", "--role", "officer@650102", "--no-token", "--password")
			if tokenLine.MatchString(out) || !login("web-only", secret(t, passwordLine, out)) {
				t.Errorf("add --no-token:\n%s", out)
			}

			// list: name, roles, disabled, password, lockout, token count; no secrets.
			list := c.ok("user", "list")
			if got := listed(t, list, "alice"); len(got) != 7 || strings.Join(got[:6], " ") != "alice hr@650102,legal_clerk@650102 no yes - 1" || got[6] == "-" {
				t.Errorf("alice listed as %q", got)
			}
			if got := listed(t, list, "web-only"); got[2] != "no" || got[5] != "0" {
				t.Errorf("web-only listed as %q", got)
			}
			if got := listed(t, list, "clerk"); got[1] != "legal_clerk@650102" || got[5] != "1" {
				t.Errorf("demo clerk listed as %q", got)
			}
			if !strings.HasPrefix(list, "NAME") || strings.Count(list, "\n") != len(demo.UserNames())+3 {
				t.Errorf("list:\n%s", list)
			}
			withTokens := c.ok("user", "list", "--tokens")
			for _, s := range []string{token, password, demo.Token("clerk"), "argon2", "cf_"} {
				if strings.Contains(list, s) || strings.Contains(withTokens, s) {
					t.Errorf("user list shows a secret %q", s)
				}
			}
			if !regexp.MustCompile(`(?m)^TOKEN\s+USER\s+CREATED\s+EXPIRES\s+STATE$`).MatchString(withTokens) ||
				!regexp.MustCompile(`(?m)^\d+\s+alice\s+\S+Z\s+\S+Z\s+usable$`).MatchString(withTokens) {
				t.Errorf("list --tokens:\n%s", withTokens)
			}

			// disable: token and password refused; enable: back.
			c.ok("user", "disable", "--name", "alice")
			if got := listed(t, c.ok("user", "list"), "alice"); got[2] != "yes" {
				t.Errorf("disabled alice listed as %q", got)
			}
			if tokenWorks(token) || login("alice", password) {
				t.Error("a disabled user's credentials work")
			}
			c.ok("user", "enable", "alice") // the name as the argument works too
			if !tokenWorks(token) || !login("alice", password) {
				t.Error("an enabled user's credentials do not work")
			}

			// reset --token: a new token, the old ones revoked.
			out = c.ok("user", "reset", "--name", "alice", "--token", "--expires", "1h")
			token2 := secret(t, tokenLine, out)
			if tokenWorks(token) || !tokenWorks(token2) || passwordLine.MatchString(out) {
				t.Errorf("reset --token:\n%s", out)
			}
			// reset --password-stdin: the old password stops working.
			stdin = strings.NewReader("a brand new password\n")
			defer func() { stdin = os.Stdin }()
			out = c.ok("user", "reset", "--name", "alice", "--password-stdin")
			if login("alice", password) || !login("alice", "a brand new password") || strings.Contains(out, "a brand new password") {
				t.Errorf("reset --password-stdin:\n%s", out)
			}
			stdin = strings.NewReader("short\n")
			if _, err := c.run("user", "reset", "--name", "alice", "--password-stdin"); err == nil {
				t.Error("a short password was accepted")
			}
			// reset both: printed once each.
			out = c.ok("user", "reset", "--name", "alice", "--password", "--token", "--keep-tokens")
			token3, password3 := secret(t, tokenLine, out), secret(t, passwordLine, out)
			if !tokenWorks(token2) || !tokenWorks(token3) || !login("alice", password3) {
				t.Errorf("reset --password --token --keep-tokens:\n%s", out)
			}

			// revoke by value, by ID, all.
			c.ok("user", "revoke", "--token", token2)
			if tokenWorks(token2) || !tokenWorks(token3) {
				t.Error("revoke --token")
			}
			tokens, err := auth.Tokens(ctx, store, "alice")
			if err != nil {
				t.Fatal(err)
			}
			last := tokens[len(tokens)-1]
			c.ok("user", "revoke", "--name", "alice", "--token-id", itoa(last.ID))
			if tokenWorks(token3) {
				t.Error("revoke --token-id")
			}
			if _, err := c.run("user", "revoke", "--name", "alice", "--token-id", itoa(last.ID)); !errors.Is(err, workflow.ErrNotFound) {
				t.Errorf("revoke a revoked token: %v", err)
			}
			c.ok("user", "revoke", "--name", "clerk", "--all")
			if tokenWorks(demo.Token("clerk")) {
				t.Error("revoke --all")
			}
			if got := listed(t, c.ok("user", "list"), "clerk"); got[5] != "0" {
				t.Errorf("clerk after revoke --all: %q", got)
			}

			// Refusals.
			for _, args := range [][]string{
				{"user"},
				{"user", "frobnicate"},
				{"user", "disable"},
				{"user", "reset", "--name", "alice"},
				{"user", "reset", "--name", "alice", "--password", "--password-stdin"},
				{"user", "revoke", "--name", "alice"},
				{"user", "revoke", "--name", "alice", "--all", "--token-id", "1"},
				{"user", "revoke", "--name", "alice", "--token", "cf_x"},
				{"user", "add", "--name", "bob", "--role", "hr@650102", "--expires", "-1h"},
			} {
				if _, err := c.run(args...); err == nil {
					t.Errorf("certflow %s: no error", strings.Join(args, " "))
				}
			}
			for _, sub := range []string{"disable", "enable"} {
				if _, err := c.run("user", sub, "--name", "nobody"); !errors.Is(err, workflow.ErrNotFound) {
					t.Errorf("%s an unknown user: %v", sub, err)
				}
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// webLogin logs a demo user in on the running server with their demo
// password, as the web UI will: the session cookie reads, and writes only
// with the CSRF token.
func webLogin(t *testing.T, base string) {
	t.Helper()
	send := func(method, path, body string, hdr ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for _, h := range hdr {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/session", strings.NewReader(`{"name":"clerk","password":"`+demo.Password("clerk")+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var session struct {
		CSRFToken string `json:"csrf_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&session)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || session.CSRFToken == "" {
		t.Fatalf("web login: %d %v %+v", resp.StatusCode, err, session)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-certflow_session" && c.Secure && c.HttpOnly && c.SameSite == http.SameSiteLaxMode && c.Path == "/" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatalf("web login set no secure session cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	ck := "Cookie: " + cookie.Name + "=" + cookie.Value
	if r := send("GET", "/api/v1/people", "", ck); r.StatusCode != http.StatusOK {
		t.Errorf("GET with the session cookie: %d", r.StatusCode)
	}
	if r := send("DELETE", "/api/v1/session", "", ck); r.StatusCode != http.StatusForbidden {
		t.Errorf("logout without the CSRF token: %d, want 403", r.StatusCode)
	}
	if r := send("DELETE", "/api/v1/session", "", ck, "X-CSRF-Token: "+session.CSRFToken); r.StatusCode != http.StatusNoContent {
		t.Errorf("logout: %d", r.StatusCode)
	}
	if r := send("GET", "/api/v1/people", "", ck); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET after logout: %d, want 401", r.StatusCode)
	}
}
