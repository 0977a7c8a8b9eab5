package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"certflow/internal/auth"
	"certflow/internal/demo"
	"certflow/internal/store/storetest"
)

// testClock is a settable time source.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// cheapParams hash fast; the demo passwords are rehashed with them at the
// first login.
var cheapParams = auth.Params{Time: 1, Memory: 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

// sessionFixture is the API over the demo data on one store, with a clock
// the sessions and tokens follow.
type sessionFixture struct {
	*fixture
	world *storetest.World
	clock *testClock
}

func sessionSetup(t *testing.T, open storetest.Opener, s Sessions) *sessionFixture {
	t.Helper()
	w := storetest.NewWorld(t, open)
	clk := &testClock{now: storetest.Now}
	s.Auth.Params, s.Auth.Clock = cheapParams, clk.Now
	a := newAPIWith(w.Engine, nil, Options{Sessions: s})
	srv := httptest.NewServer(a.router)
	t.Cleanup(srv.Close)
	return &sessionFixture{fixture: &fixture{srv: srv, engine: w.Engine, api: a}, world: w, clock: clk}
}

// eachSessionStore runs fn as a parallel subtest on every store.
func eachSessionStore(t *testing.T, s Sessions, fn func(t *testing.T, f *sessionFixture)) {
	for _, st := range testStores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			fn(t, sessionSetup(t, st.open, s))
		})
	}
}

// login logs demo user name in and returns the answer and the cookie.
func (f *sessionFixture) login(t *testing.T, name string) (sessionAnswer, *http.Cookie) {
	t.Helper()
	r := f.do(t, "POST", "/api/v1/session", "", loginBody(name, demo.Password(name)))
	var v sessionAnswer
	r.decode(t, http.StatusOK, &v)
	c := r.cookie(t, f.api.sessions.cookie)
	if c == nil || c.Value == "" {
		t.Fatalf("login set no session cookie: %v", r.header["Set-Cookie"])
	}
	return v, c
}

func loginBody(name, password string) string {
	b, _ := json.Marshal(loginRequest{Name: name, Password: password})
	return string(b)
}

// sessionAnswer is sessionView as a client reads it.
type sessionAnswer struct {
	User struct {
		UserID int64  `json:"user_id"`
		Name   string `json:"name"`
		Roles  []struct {
			Role      string `json:"role"`
			OrgUnitID int64  `json:"org_unit_id"`
		} `json:"roles"`
		PersonID int64 `json:"person_id"`
	} `json:"user"`
	Via       string     `json:"via"`
	CSRFToken string     `json:"csrf_token"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// cookie returns the Set-Cookie of name in r, or nil.
func (r response) cookie(t *testing.T, name string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func cookieHeader(c *http.Cookie) string { return "Cookie: " + c.Name + "=" + c.Value }

// count counts the rows of table.
func (f *sessionFixture) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.world.Store.DB().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// newPersonBody is a staff member the demo clerk may record.
func (f *sessionFixture) newPersonBody(first17 string) string {
	return `{"name":"赵六","id_number":"` + string(idNumber(first17)) + `","education":"大专","staffed":true,"enforcement_post":true,"org_unit_id":` +
		itoa(f.world.Data.Units["tianshan.business"]) + `}`
}

func TestSessionLogin(t *testing.T) {
	eachSessionStore(t, Sessions{}, func(t *testing.T, f *sessionFixture) {
		r := f.do(t, "POST", "/api/v1/session", "", loginBody("clerk", demo.Password("clerk")))
		var v sessionAnswer
		r.decode(t, http.StatusOK, &v)
		if v.User.Name != "clerk" || len(v.User.Roles) != 1 || v.User.Roles[0].Role != "legal_clerk" || v.Via != "session" || v.CSRFToken == "" {
			t.Fatalf("login answer %+v", v)
		}
		if v.ExpiresAt == nil || !v.ExpiresAt.Equal(storetest.Now.Add(auth.DefaultSessionTTL)) {
			t.Errorf("expires_at %v", v.ExpiresAt)
		}
		if cc := r.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		sc := r.header.Values("Set-Cookie")
		if len(sc) != 1 {
			t.Fatalf("Set-Cookie %q", sc)
		}
		c := r.cookie(t, SessionCookie)
		if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" ||
			c.MaxAge != int(auth.DefaultSessionTTL.Seconds()) || !c.Expires.Equal(storetest.Now.Add(auth.DefaultSessionTTL)) {
			t.Fatalf("cookie %+v from %q", c, sc)
		}
		for _, attr := range []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age=43200"} {
			if !strings.Contains(sc[0], attr) {
				t.Errorf("Set-Cookie %q lacks %s", sc[0], attr)
			}
		}
		if strings.Contains(sc[0], v.CSRFToken) {
			t.Error("the cookie holds the CSRF token")
		}
		// The store keeps the ID's hash, not the ID.
		var n int
		if err := f.world.Store.DB().QueryRow(`SELECT count(*) FROM sessions WHERE hash = $1`, auth.HashToken(c.Value)).Scan(&n); err != nil || n != 1 {
			t.Errorf("sessions with the ID's hash: %d %v", n, err)
		}

		// GET /api/v1/session repeats the CSRF token.
		var again sessionAnswer
		f.do(t, "GET", "/api/v1/session", "", "", cookieHeader(c)).decode(t, http.StatusOK, &again)
		if again.CSRFToken != v.CSRFToken || again.User.Name != "clerk" || again.Via != "session" || again.ExpiresAt == nil || !again.ExpiresAt.Equal(*v.ExpiresAt) {
			t.Errorf("GET session %+v, want the login's %+v", again, v)
		}
		// With a bearer token: who, but no CSRF token.
		var viaToken sessionAnswer
		f.do(t, "GET", "/api/v1/session", demo.Token("leader"), "").decode(t, http.StatusOK, &viaToken)
		if viaToken.User.Name != "leader" || viaToken.Via != "token" || viaToken.CSRFToken != "" || viaToken.ExpiresAt != nil {
			t.Errorf("GET session with a token %+v", viaToken)
		}
	})
}

// TestSessionCSRF: with the cookie, reads need no CSRF token; every
// state-changing request without the session's token is refused with 403
// and writes nothing. A bearer token needs none.
func TestSessionCSRF(t *testing.T) {
	eachSessionStore(t, Sessions{}, func(t *testing.T, f *sessionFixture) {
		v, c := f.login(t, "clerk")
		other, _ := f.login(t, "hr")

		var people struct {
			Items []json.RawMessage `json:"items"`
		}
		f.do(t, "GET", "/api/v1/people", "", "", cookieHeader(c)).decode(t, http.StatusOK, &people)
		if len(people.Items) == 0 {
			t.Fatal("the clerk sees no one")
		}
		if r := f.do(t, "HEAD", "/api/v1/org-units", "", "", cookieHeader(c)); r.status != http.StatusOK {
			t.Errorf("HEAD with the cookie: %d", r.status)
		}

		before := map[string]int{"people": f.count(t, "people"), "cases": f.count(t, "cases"), "events": f.count(t, "events"), "sessions": f.count(t, "sessions")}
		openCase := `{"path":"application","person_id":` + itoa(f.world.Data.People["zhangwei"]) + `,"data":{"proposed_categories":["安全生产监督管理"]}}`
		for _, req := range []struct{ method, path, body string }{
			{"POST", "/api/v1/people", f.newPersonBody("65010219950404006")},
			{"PUT", "/api/v1/people/" + itoa(f.world.Data.People["zhangwei"]), `{"name":"张伟","version":1}`},
			{"POST", "/api/v1/cases", openCase},
			{"DELETE", "/api/v1/session", ""},
		} {
			for name, hdr := range map[string][]string{
				"no token":               {cookieHeader(c)},
				"empty token":            {cookieHeader(c), CSRFHeader + ": "},
				"wrong token":            {cookieHeader(c), CSRFHeader + ": " + v.CSRFToken + "x"},
				"another session's":      {cookieHeader(c), CSRFHeader + ": " + other.CSRFToken},
				"the session ID instead": {cookieHeader(c), CSRFHeader + ": " + c.Value},
			} {
				r := f.do(t, req.method, req.path, "", req.body, hdr...)
				p := r.problemOf(t, http.StatusForbidden, req.path)
				if p.Type != problemCSRF || p.Field != CSRFHeader {
					t.Errorf("%s %s, %s: problem %+v", req.method, req.path, name, p)
				}
			}
		}
		for table, n := range before {
			if got := f.count(t, table); got != n {
				t.Errorf("%s: %d rows after refused requests, want %d", table, got, n)
			}
		}
		// The session still works; with its token the write goes through.
		f.do(t, "POST", "/api/v1/people", "", f.newPersonBody("65010219950404006"), cookieHeader(c), CSRFHeader+": "+v.CSRFToken).
			decode(t, http.StatusCreated, nil)
		// A bearer token needs no CSRF token, even beside a cookie: it wins.
		f.do(t, "POST", "/api/v1/people", demo.Token("clerk"), f.newPersonBody("65010219960505007"), cookieHeader(c)).
			decode(t, http.StatusCreated, nil)
		if got := f.count(t, "people"); got != before["people"]+2 {
			t.Errorf("people %d, want %d", got, before["people"]+2)
		}
	})
}

func TestSessionLogout(t *testing.T) {
	eachSessionStore(t, Sessions{}, func(t *testing.T, f *sessionFixture) {
		v, c := f.login(t, "clerk")
		_, c2 := f.login(t, "clerk")
		r := f.do(t, "DELETE", "/api/v1/session", "", "", cookieHeader(c), CSRFHeader+": "+v.CSRFToken)
		if r.status != http.StatusNoContent {
			t.Fatalf("logout: %d %s", r.status, r.body)
		}
		if gone := r.cookie(t, SessionCookie); gone == nil || gone.MaxAge >= 0 || gone.Value != "" || !gone.Secure || !gone.HttpOnly {
			t.Errorf("logout's Set-Cookie %+v, want a deletion", gone)
		}
		// The server forgot the session: the old cookie, sent again, is refused.
		r = f.do(t, "GET", "/api/v1/people", "", "", cookieHeader(c))
		r.problemOf(t, http.StatusUnauthorized, "/api/v1/people")
		if gone := r.cookie(t, SessionCookie); gone == nil || gone.MaxAge >= 0 {
			t.Errorf("a dead session's cookie is not deleted: %v", r.header["Set-Cookie"])
		}
		// The other session of the same user lives on.
		f.do(t, "GET", "/api/v1/people", "", "", cookieHeader(c2)).decode(t, http.StatusOK, nil)
		// Logging out with a bearer token ends nothing, and says so with 204.
		if r := f.do(t, "DELETE", "/api/v1/session", demo.Token("clerk"), ""); r.status != http.StatusNoContent {
			t.Errorf("logout with a token: %d %s", r.status, r.body)
		}
		f.do(t, "GET", "/api/v1/people", "", "", cookieHeader(c2)).decode(t, http.StatusOK, nil)
		// A login while holding a session ends the old one.
		r = f.do(t, "POST", "/api/v1/session", "", loginBody("clerk", demo.Password("clerk")), cookieHeader(c2))
		r.decode(t, http.StatusOK, nil)
		f.do(t, "GET", "/api/v1/people", "", "", cookieHeader(c2)).problemOf(t, http.StatusUnauthorized, "/api/v1/people")
	})
}

func TestSessionExpires(t *testing.T) {
	eachSessionStore(t, Sessions{Auth: auth.Options{SessionTTL: time.Hour}}, func(t *testing.T, f *sessionFixture) {
		_, c := f.login(t, "clerk")
		if c.MaxAge != 3600 {
			t.Errorf("Max-Age %d, want 3600", c.MaxAge)
		}
		f.clock.Add(time.Hour - time.Second)
		f.do(t, "GET", "/api/v1/people", "", "", cookieHeader(c)).decode(t, http.StatusOK, nil)
		f.clock.Add(time.Second)
		f.do(t, "GET", "/api/v1/people", "", "", cookieHeader(c)).problemOf(t, http.StatusUnauthorized, "/api/v1/people")
	})
}

func TestSessionLoginRefused(t *testing.T) {
	eachSessionStore(t, Sessions{}, func(t *testing.T, f *sessionFixture) {
		refused := func(name, password string) []byte {
			t.Helper()
			r := f.do(t, "POST", "/api/v1/session", "", loginBody(name, password))
			p := r.problemOf(t, http.StatusUnauthorized, "/api/v1/session")
			if p.Title != "用户名或密码错误" || len(r.header.Values("Set-Cookie")) != 0 {
				t.Errorf("login %s: %+v, Set-Cookie %q", name, p, r.header.Values("Set-Cookie"))
			}
			return r.body
		}
		wrong := refused("clerk", "not the password")
		// The same answer, byte for byte, whether the user exists, has no
		// password or is disabled.
		if err := auth.Disable(f.world.Ctx, f.world.Store, "hr"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := auth.CreateUser(f.world.Ctx, f.world.Store, auth.NewUser{Name: "public-intake"}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ name, password string }{
			{"nobody", "not the password"}, {"public-intake", "not the password"}, {"hr", demo.Password("hr")},
		} {
			if got := refused(c.name, c.password); string(got) != string(wrong) {
				t.Errorf("login %s answers %s, a wrong password %s", c.name, got, wrong)
			}
		}

		// Locked after 5 failures in a row (one is above): the right
		// password fails the same way until the minute is over.
		for range 4 {
			refused("clerk", "not the password")
		}
		if got := refused("clerk", demo.Password("clerk")); string(got) != string(wrong) {
			t.Errorf("locked: %s", got)
		}
		f.clock.Add(time.Minute)
		f.login(t, "clerk")

		// Malformed logins.
		for _, c := range []struct {
			name   string
			body   string
			hdr    []string
			status int
		}{
			{"form", "name=clerk&password=x", []string{"Content-Type: application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
			{"text/plain", loginBody("clerk", demo.Password("clerk")), []string{"Content-Type: text/plain"}, http.StatusUnsupportedMediaType},
			{"problem+json", loginBody("clerk", demo.Password("clerk")), []string{"Content-Type: application/problem+json"}, http.StatusUnsupportedMediaType},
			{"no name", `{"password":"x"}`, nil, http.StatusBadRequest},
			{"no password", `{"name":"clerk"}`, nil, http.StatusBadRequest},
			{"unknown member", `{"name":"clerk","password":"x","remember":true}`, nil, http.StatusBadRequest},
		} {
			r := f.do(t, "POST", "/api/v1/session", "", c.body, c.hdr...)
			r.problemOf(t, c.status, "/api/v1/session")
		}
		// No body at all: no Content-Type either.
		r := f.do(t, "POST", "/api/v1/session", "", "")
		r.problemOf(t, http.StatusUnsupportedMediaType, "/api/v1/session")
	})
}

func TestSessionCookieSettings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		s        Sessions
		cookie   string
		secure   bool
		sameSite http.SameSite
	}{
		{"default", Sessions{}, SessionCookie, true, http.SameSiteLaxMode},
		{"insecure", Sessions{Insecure: true}, InsecureSessionCookie, false, http.SameSiteLaxMode},
		{"strict", Sessions{Strict: true}, SessionCookie, true, http.SameSiteStrictMode},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := sessionSetup(t, testStores[0].open, c.s)
			v, ck := f.login(t, "clerk")
			if ck.Name != c.cookie || ck.Secure != c.secure || ck.SameSite != c.sameSite || !ck.HttpOnly || ck.Path != "/" {
				t.Errorf("cookie %+v", ck)
			}
			f.do(t, "GET", "/api/v1/org-units", "", "", cookieHeader(ck)).decode(t, http.StatusOK, nil)
			// Only the configured name counts.
			other := &http.Cookie{Name: SessionCookie, Value: ck.Value}
			if c.cookie == SessionCookie {
				other.Name = InsecureSessionCookie
			}
			f.do(t, "GET", "/api/v1/org-units", "", "", cookieHeader(other)).problemOf(t, http.StatusUnauthorized, "/api/v1/org-units")
			r := f.do(t, "DELETE", "/api/v1/session", "", "", cookieHeader(ck), CSRFHeader+": "+v.CSRFToken)
			if gone := r.cookie(t, c.cookie); r.status != http.StatusNoContent || gone == nil || gone.MaxAge >= 0 || gone.Secure != c.secure {
				t.Errorf("logout %d, cookie %+v", r.status, gone)
			}
		})
	}
}

// TestCredentialsRefused: a disabled user's token and session, an expired
// and a revoked token all get 401.
func TestCredentialsRefused(t *testing.T) {
	eachSessionStore(t, Sessions{}, func(t *testing.T, f *sessionFixture) {
		w := f.world
		_, c := f.login(t, "clerk")
		exp := f.clock.Now().Add(time.Hour)
		_, expiring, err := auth.IssueToken(w.Ctx, w.Store, "leader", &exp, false, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		revokedID, revoked, err := auth.IssueToken(w.Ctx, w.Store, "leader", nil, false, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{demo.Token("clerk"), expiring, revoked} {
			f.do(t, "GET", "/api/v1/org-units", tok, "").decode(t, http.StatusOK, nil)
		}

		if err := auth.Disable(w.Ctx, w.Store, "clerk"); err != nil {
			t.Fatal(err)
		}
		if _, err := auth.RevokeToken(w.Ctx, w.Store, "leader", revokedID, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(time.Hour)
		for name, hdr := range map[string][]string{
			"disabled user's token":   {"Authorization: Bearer " + demo.Token("clerk")},
			"disabled user's session": {cookieHeader(c)},
			"expired token":           {"Authorization: Bearer " + expiring},
			"revoked token":           {"Authorization: Bearer " + revoked},
		} {
			r := f.do(t, "GET", "/api/v1/org-units", "", "", hdr...)
			if r.status != http.StatusUnauthorized {
				t.Errorf("%s: %d %s", name, r.status, r.body)
				continue
			}
			r.problemOf(t, http.StatusUnauthorized, "/api/v1/org-units")
		}
		// The leader's demo token is untouched by the other two.
		f.do(t, "GET", "/api/v1/org-units", demo.Token("leader"), "").decode(t, http.StatusOK, nil)
	})
}

// TestDemoPasswords: every demo user can log in with demo.Password.
func TestDemoPasswords(t *testing.T) {
	t.Parallel()
	f := sessionSetup(t, testStores[0].open, Sessions{})
	for _, name := range demo.UserNames() {
		v, _ := f.login(t, name)
		if v.User.Name != name {
			t.Errorf("logged in as %s, got %s", name, v.User.Name)
		}
	}
	if n := f.count(t, "sessions"); n != len(demo.UserNames()) {
		t.Errorf("%d sessions, want %d", n, len(demo.UserNames()))
	}
}

// TestLoginRateLimited: failed logins are limited per client address,
// whatever the account, with 429 and Retry-After; successful ones do not
// count (one office behind one address logs in at nine). A limited attempt
// is not even read, so the right password does not get through and
// nothing is written.
func TestLoginRateLimited(t *testing.T) {
	s := Sessions{LoginLimit: 3, LoginWindow: time.Minute, ClientIP: func(r *http.Request) string { return r.Header.Get("X-Test-Client") }}
	eachSessionStore(t, s, func(t *testing.T, f *sessionFixture) {
		login := func(client, name, password string) response {
			return f.do(t, "POST", "/api/v1/session", "", loginBody(name, password), "X-Test-Client: "+client)
		}
		// Three failures, on different accounts; successes between them
		// are not counted.
		login("192.0.2.1", "clerk", "not the password").problemOf(t, http.StatusUnauthorized, "/api/v1/session")
		login("192.0.2.1", "hr", "not the password").problemOf(t, http.StatusUnauthorized, "/api/v1/session")
		for range 5 {
			login("192.0.2.1", "leader", demo.Password("leader")).decode(t, http.StatusOK, nil)
		}
		login("192.0.2.1", "hr", "not the password either").problemOf(t, http.StatusUnauthorized, "/api/v1/session")
		sessions := f.count(t, "sessions")
		r := login("192.0.2.1", "clerk", demo.Password("clerk"))
		p := r.problemOf(t, http.StatusTooManyRequests, "/api/v1/session")
		if p.Type != problemRateLimited || r.header.Get("Retry-After") != "20" || len(r.header.Values("Set-Cookie")) != 0 {
			t.Fatalf("limited: %+v, Retry-After %q, Set-Cookie %q", p, r.header.Get("Retry-After"), r.header.Values("Set-Cookie"))
		}
		// A malformed attempt is refused before it is read.
		f.do(t, "POST", "/api/v1/session", "", "{", "X-Test-Client: 192.0.2.1").problemOf(t, http.StatusTooManyRequests, "/api/v1/session")
		if n := f.count(t, "sessions"); n != sessions {
			t.Errorf("sessions %d after limited logins, want %d", n, sessions)
		}
		// Another address is not affected.
		login("192.0.2.2", "clerk", demo.Password("clerk")).decode(t, http.StatusOK, nil)
		// One attempt comes back every window/limit; a success keeps it.
		f.clock.Add(20 * time.Second)
		login("192.0.2.1", "clerk", demo.Password("clerk")).decode(t, http.StatusOK, nil)
		login("192.0.2.1", "clerk", demo.Password("clerk")).decode(t, http.StatusOK, nil)
		login("192.0.2.1", "clerk", "wrong").problemOf(t, http.StatusUnauthorized, "/api/v1/session")
		login("192.0.2.1", "clerk", demo.Password("clerk")).problemOf(t, http.StatusTooManyRequests, "/api/v1/session")
	})
}
