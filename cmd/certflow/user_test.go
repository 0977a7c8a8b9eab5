package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// userDatabase is a migrated database with the demo data: its --database
// value and what the demo created there.
type userDatabase struct {
	url  string
	demo *demo.Data
}

// userDatabases returns a userDatabase per store.
func userDatabases(t *testing.T) map[string]userDatabase {
	t.Helper()
	ctx := context.Background()
	out := map[string]userDatabase{}

	lite := filepath.Join(t.TempDir(), "c.db")
	s, _, closeStore, err := openStore(ctx, lite)
	if err != nil {
		t.Fatal(err)
	}
	d, err := demo.Load(ctx, s, workflow.DateOf(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	closeStore()
	out["sqlite"] = userDatabase{lite, d}

	pg := postgres.OpenTest(t) // a fresh schema, skipped without a server (never under CI=true)
	if d, err = demo.Load(ctx, pg, workflow.DateOf(time.Now())); err != nil {
		t.Fatal(err)
	}
	out["postgres"] = userDatabase{schemaURL(t, pg), d}
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
	for name, db := range userDatabases(t) {
		t.Run(name, func(t *testing.T) {
			database := db.url
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
			out = c.ok("user", "add", "--name", "web-only", "--role", "officer@650102", "--person", itoa(db.demo.People["zhangwei"]), "--no-token", "--password")
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

// TestUserAddRefusals: `user add` grants only bindings that access
// honours (workflow.CheckRoleBindings) and names what is wrong in words;
// a refused add writes nothing.
func TestUserAddRefusals(t *testing.T) {
	for name, db := range userDatabases(t) {
		t.Run(name, func(t *testing.T) {
			c := cli{t, db.url}
			ctx := context.Background()
			store, _, closeStore, err := openStore(ctx, db.url)
			if err != nil {
				t.Fatal(err)
			}
			defer closeStore()
			counts := func() string {
				t.Helper()
				var users, bindings, tokens int
				err := store.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM role_bindings),
					(SELECT count(*) FROM api_tokens)`).Scan(&users, &bindings, &tokens)
				if err != nil {
					t.Fatal(err)
				}
				return fmt.Sprintf("%d users, %d bindings, %d tokens", users, bindings, tokens)
			}
			unit := func(key string) string { return itoa(db.demo.Units[key]) }
			person := func(key string) string { return itoa(db.demo.People[key]) }
			isInput := func(err error) bool { var ie *workflow.InputError; return errors.As(err, &ie) }
			isConflict := func(err error) bool { return errors.Is(err, workflow.ErrConflict) }
			c.ok("user", "add", "--name", "retired", "--role", "hr@650102")
			c.ok("user", "disable", "--name", "retired")

			for _, tc := range []struct {
				name string
				args []string
				want []string // in the message
				kind func(error) bool
			}{
				{"an office role at an internal unit", []string{"--name", "x5", "--role", "legal_clerk@" + unit("tianshan.business")},
					[]string{"legal_clerk@" + unit("tianshan.business"), "安全生产执法大队", "not a department", "乌鲁木齐市天山区应急管理局"}, isInput},
				{"an office role at a 派出机关", []string{"--name", "x5", "--role", "principal_leader@" + unit("yanerwo")},
					[]string{"天山区燕儿窝街道办事处", "派出机关", "not a department"}, isInput},
				{"hr at the 自治区 人事处", []string{"--name", "x5", "--role", "hr@" + unit("region.hr")},
					[]string{"人事处", "not a department", "新疆维吾尔自治区应急管理厅"}, isInput},
				{"justice at the legal office", []string{"--name", "x5", "--role", "justice_liaison@" + unit("tianshan.legal")}, []string{"法制股", "not a department"}, isInput},
				{"supervisor at a section", []string{"--name", "x5", "--role", "supervisor@" + unit("urumqi.business")}, []string{"not a department"}, isInput},
				{"admin at a section", []string{"--name", "x5", "--role", "admin@" + unit("region.legal")}, []string{"not a department"}, isInput},
				{"one good binding, one bad", []string{"--name", "x5", "--role", "legal_clerk@650102", "--role", "hr@" + unit("tianshan.hr")},
					[]string{"hr@" + unit("tianshan.hr"), "not a department"}, isInput},
				{"an officer of another region", []string{"--name", "x7", "--role", "officer@" + unit("tacheng"), "--person", person("zhangwei")},
					[]string{"officer@" + unit("tacheng"), "张伟", "乌鲁木齐市天山区应急管理局", "塔城地区应急管理局"}, isInput},
				{"an officer at the department above theirs", []string{"--name", "x7", "--role", "officer@650100", "--person", person("zhangwei")},
					[]string{"张伟", "乌鲁木齐市天山区应急管理局"}, isInput},
				{"an officer at their own section", []string{"--name", "x7", "--role", "officer@" + unit("tianshan.business"), "--person", person("zhangwei")},
					[]string{"not a department"}, isInput},
				{"an officer of nobody", []string{"--name", "x8", "--role", "officer@650102"}, []string{"officer@" + unit("tianshan"), "needs the person"}, isInput},
				{"an officer of a person who does not exist", []string{"--name", "x8", "--role", "officer@650102", "--person", "999"}, []string{"no person 999"}, isInput},
				{"a person who does not exist", []string{"--name", "x9", "--role", "hr@650102", "--person", "999"}, []string{"no person 999"}, isInput},
				{"a name taken", []string{"--name", "clerk", "--role", "hr@650102", "--password"}, []string{"a user named clerk already exists"}, isConflict},
				{"a name taken by a disabled user", []string{"--name", "retired", "--role", "hr@650102"}, []string{"a user named retired already exists"}, isConflict},
			} {
				before := counts()
				out, err := c.run(append([]string{"user", "add"}, tc.args...)...)
				switch {
				case err == nil:
					t.Errorf("%s: accepted:\n%s", tc.name, out)
				case !tc.kind(err):
					t.Errorf("%s: %v (%T)", tc.name, err, err)
				}
				for _, w := range tc.want {
					if err != nil && !strings.Contains(err.Error(), w) {
						t.Errorf("%s: %q does not say %q", tc.name, err, w)
					}
				}
				if err != nil && regexp.MustCompile(`constraint|UNIQUE|FOREIGN KEY|SQLSTATE`).MatchString(err.Error()) {
					t.Errorf("%s: a database error: %v", tc.name, err)
				}
				if after := counts(); after != before {
					t.Errorf("%s: wrote something: %s, then %s", tc.name, before, after)
				}
			}

			// What the rule lets through: office roles at any department,
			// the 自治区 one included; an officer at their own department,
			// from an internal unit or a 派出机关 of it; a person linked to
			// any role.
			for _, args := range [][]string{
				{"--name", "ok-region", "--role", "legal_clerk@650000", "--role", "supervisor@" + unit("yili")},
				{"--name", "ok-justice", "--role", "justice_liaison@650102"},
				{"--name", "ok-officer", "--role", "officer@650102", "--person", person("zhangwei")},
				{"--name", "ok-township", "--role", "officer@" + unit("tianshan"), "--person", person("chenjing")},
				{"--name", "ok-tacheng", "--role", "officer@654200", "--person", person("aili")},
				{"--name", "ok-hr", "--role", "hr@650102", "--person", person("maxin")},
			} {
				c.ok(append([]string{"user", "add"}, args...)...)
			}
		})
	}
}

// TestUserSystemUser: the user certflow records its own acts under is no
// account: user disable, add and reset refuse it, saying why, and leave
// it enabled; enable works (it repairs one disabled before).
func TestUserSystemUser(t *testing.T) {
	for name, db := range userDatabases(t) {
		t.Run(name, func(t *testing.T) {
			c := cli{t, db.url}
			ctx := context.Background()
			store, _, closeStore, err := openStore(ctx, db.url)
			if err != nil {
				t.Fatal(err)
			}
			defer closeStore()
			refused := func(args ...string) {
				t.Helper()
				out, err := c.run(args...)
				if !errors.Is(err, workflow.ErrForbidden) || !strings.Contains(err.Error(), "user certflow is certflow's own") {
					t.Errorf("certflow %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}
			refused("user", "add", "--name", "certflow", "--role", "hr@650102")
			// The nightly sweep creates it the first time it settles a case.
			if err := store.Update(ctx, func(tx workflow.Tx) error { _, err := tx.ServiceActor(ctx, workflow.SystemUserName); return err }); err != nil {
				t.Fatal(err)
			}
			refused("user", "disable", "--name", "certflow")
			refused("user", "disable", "certflow")
			refused("user", "reset", "--name", "certflow", "--token")
			refused("user", "reset", "--name", "certflow", "--password")
			if got := listed(t, c.ok("user", "list"), "certflow"); strings.Join(got, " ") != "certflow - no no - 0 -" {
				t.Errorf("certflow listed as %q", got)
			}
			c.ok("user", "enable", "certflow")
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
