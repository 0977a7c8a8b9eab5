package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"certflow/internal/auth"
	"certflow/workflow"
)

// Web sessions: POST /api/v1/session logs in with a name and password and
// sets a cookie holding a random session ID (the store keeps its SHA-256);
// GET /api/v1/session tells who is logged in; DELETE /api/v1/session logs
// out. A request authenticated by the cookie that may change something
// (any method but GET, HEAD and OPTIONS) must carry the session's CSRF
// token, which login and GET /api/v1/session return, in X-CSRF-Token:
// without it, 403 and nothing is done. A request with a bearer token needs
// no CSRF token: a cross-site page cannot make a browser send one.

// CSRFHeader is the header a cookie-authenticated, state-changing request
// carries its CSRF token in.
const CSRFHeader = "X-CSRF-Token"

// Session cookie names. The __Host- prefix makes a browser accept the
// cookie only with Secure, Path=/ and no Domain, so neither a sibling
// subdomain nor a plain-HTTP page can plant or overwrite it; without Secure
// (development on http://localhost) the prefix would be refused.
const (
	SessionCookie         = "__Host-certflow_session"
	InsecureSessionCookie = "certflow_session"
)

// problemCSRF is the problem type of a refused CSRF check.
const problemCSRF = problemBase + "csrf"

// Sessions configures web sessions and password logins.
type Sessions struct {
	// Insecure sends the session cookie without Secure (and so without the
	// __Host- prefix): only for plain-HTTP development on localhost, where
	// a browser would not send a Secure cookie back.
	Insecure bool
	// Strict sends the cookie SameSite=Strict instead of Lax: following a
	// link to certflow from elsewhere then arrives logged out.
	Strict bool
	// Auth configures password hashing, lockout and the session lifetime;
	// its Clock defaults to the engine's and its Logger to the API's.
	Auth auth.Options
	// LoginLimit failed logins per LoginWindow from one client address
	// (default 20 per minute: a burst of 20, then one every 3 s), whatever
	// the account; more attempts answer 429. A successful login does not
	// count. The lockout
	// guards each account; this guards against one address trying many.
	// The limiter follows Auth.Clock.
	LoginLimit  int
	LoginWindow time.Duration
	// ClientIP returns the client's address; default the connection's
	// peer. Behind a reverse proxy, return the address a trusted proxy
	// reports. IPv6 addresses are limited per /64, as the public intake's.
	ClientIP func(*http.Request) string
}

// Defaults of the login limit.
const (
	defaultLoginLimit  = 20
	defaultLoginWindow = time.Minute
)

// Options configure the API beyond its engine.
type Options struct {
	// PublicIntake opens the public complaint intake; nil: it answers 503.
	PublicIntake *PublicIntake
	Sessions     Sessions
}

// NewWithOptions is New configured by o.
func NewWithOptions(engine *workflow.Engine, logger *slog.Logger, o Options) http.Handler {
	return newAPIWith(engine, logger, o).router
}

func newAPIWith(engine *workflow.Engine, logger *slog.Logger, o Options) *api {
	a := newAPI(engine, logger)
	a.sessions = newSessions(engine, a.log, o.Sessions)
	if o.PublicIntake != nil {
		a.public = newPublicIntake(*o.PublicIntake)
	}
	return a
}

// sessions is the API's side of web sessions.
type sessions struct {
	auth     *auth.Authenticator
	cookie   string
	secure   bool
	sameSite http.SameSite
	// logins limits login attempts per client address (clientIP).
	logins   *rateLimiter
	clientIP func(*http.Request) string
}

func newSessions(engine *workflow.Engine, logger *slog.Logger, c Sessions) *sessions {
	if c.Auth.Clock == nil {
		c.Auth.Clock = engine.Now
	}
	if c.Auth.Logger == nil {
		c.Auth.Logger = logger
	}
	if c.LoginLimit <= 0 {
		c.LoginLimit = defaultLoginLimit
	}
	if c.LoginWindow <= 0 {
		c.LoginWindow = defaultLoginWindow
	}
	if c.ClientIP == nil {
		c.ClientIP = func(r *http.Request) string { return r.RemoteAddr }
	}
	s := &sessions{auth: auth.New(engine.Store(), c.Auth), cookie: SessionCookie, secure: true, sameSite: http.SameSiteLaxMode,
		logins: newRateLimiter(c.LoginLimit, c.LoginWindow, defaultIntakeClients), clientIP: c.ClientIP}
	s.logins.now = c.Auth.Clock
	if c.Insecure {
		s.cookie, s.secure = InsecureSessionCookie, false
	}
	if c.Strict {
		s.sameSite = http.SameSiteStrictMode
	}
	return s
}

// setCookie sends the session cookie: value until expires, or (value "")
// an order to delete it.
func (s *sessions) setCookie(w http.ResponseWriter, value string, expires, now time.Time) {
	c := &http.Cookie{Name: s.cookie, Value: value, Path: "/", Secure: s.secure, HttpOnly: true, SameSite: s.sameSite}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
		c.MaxAge = max(1, int(expires.Sub(now).Seconds()))
	}
	http.SetCookie(w, c)
}

type sessionKey struct{}

// cookieSession is the session that authenticated a request.
type cookieSession struct {
	id      string
	expires time.Time
}

// sessionOf returns the session that authenticated the request, nil when
// it was a bearer token.
func sessionOf(ctx context.Context) *cookieSession {
	s, _ := ctx.Value(sessionKey{}).(*cookieSession)
	return s
}

// safeMethod reports whether a request with method changes nothing (RFC
// 9110 §9.2.1), so needs no CSRF token.
func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// authenticateSession resolves the session cookie and checks the CSRF
// token of a state-changing request; it reports false when it answered.
func (a *api) authenticateSession(w http.ResponseWriter, r *http.Request, id string) (context.Context, bool) {
	act, expires, err := a.sessions.auth.Session(r.Context(), id)
	if err != nil {
		if errors.Is(err, workflow.ErrUnauthenticated) {
			a.sessions.setCookie(w, "", time.Time{}, time.Time{})
			err = fmt.Errorf("%w: the session is unknown, expired or ended; log in again", workflow.ErrUnauthenticated)
		}
		a.writeError(w, r, err)
		return nil, false
	}
	if !safeMethod(r.Method) && !auth.ValidCSRF(id, r.Header.Get(CSRFHeader)) {
		a.writeProblem(w, r, problem{Type: problemCSRF, Title: "请求校验失败", Status: http.StatusForbidden, Field: CSRFHeader,
			Detail: "a request authenticated by the session cookie that changes something must carry the session's CSRF token in " +
				CSRFHeader + " (POST and GET " + Prefix + "/session return it)"})
		return nil, false
	}
	ctx := context.WithValue(r.Context(), actorKey{}, act)
	return context.WithValue(ctx, sessionKey{}, &cookieSession{id: id, expires: expires}), true
}

// loginRequest is the body of POST /api/v1/session.
type loginRequest struct {
	Name     string `json:"name" openapi:"required"`
	Password string `json:"password" openapi:"required"`
}

// sessionView answers the session endpoints.
type sessionView struct {
	User workflow.Actor `json:"user" openapi:"required"`
	// Via says how the request was authenticated: "session" or "token".
	Via string `json:"via" openapi:"required"`
	// CSRFToken and ExpiresAt describe a cookie session.
	CSRFToken string     `json:"csrf_token,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func (a *api) login(w http.ResponseWriter, r *http.Request) {
	// Every attempt is limited before anything is read or hashed; a
	// successful one gives its token back, so that one office behind one
	// address logging in at nine is not held up: failures count.
	key := clientKey(a.sessions.clientIP(r))
	if ok, wait := a.sessions.logins.allow(key); !ok {
		secs := max(1, int(math.Ceil(wait.Seconds())))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		w.Header().Set("Cache-Control", "no-store")
		a.writeProblem(w, r, problem{Type: problemRateLimited, Title: "登录尝试过于频繁", Status: http.StatusTooManyRequests,
			Detail: fmt.Sprintf("at most %d logins per %s from one address; retry in %d seconds",
				a.sessions.logins.limit, a.sessions.logins.window, secs)})
		return
	}
	// JSON only, strictly: a cross-site form or no-cors fetch cannot send
	// application/json without a CORS preflight, which certflow never
	// answers, so no other site can log a browser in (login CSRF).
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		a.writeError(w, r, &requestError{status: http.StatusUnsupportedMediaType, field: "Content-Type",
			detail: "log in with Content-Type: application/json"})
		return
	}
	var req loginRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	switch {
	case req.Name == "":
		a.writeError(w, r, badRequest("name", "name: required"))
		return
	case req.Password == "":
		a.writeError(w, r, badRequest("password", "password: required"))
		return
	}
	s, err := a.sessions.auth.Login(r.Context(), req.Name, req.Password)
	if err != nil {
		if errors.Is(err, auth.ErrBadLogin) {
			w.Header().Set("Cache-Control", "no-store")
			a.writeProblem(w, r, problem{Type: problemUnauth, Title: "用户名或密码错误", Status: http.StatusUnauthorized,
				Detail: "wrong name or password, or the account is locked for a while after repeated failures"})
			return
		}
		a.writeError(w, r, err)
		return
	}
	a.sessions.logins.refund(key)
	// A session the browser held before is ended: a login always starts a
	// new ID, never adopts one (session fixation).
	if c, err := r.Cookie(a.sessions.cookie); err == nil && c.Value != "" {
		if err := a.sessions.auth.Logout(r.Context(), c.Value); err != nil {
			a.log.WarnContext(r.Context(), "httpapi: end the previous session", "err", err)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	a.sessions.setCookie(w, s.ID, s.ExpiresAt, s.CreatedAt)
	a.writeJSON(w, r, http.StatusOK, sessionView{User: s.Actor, Via: "session", CSRFToken: s.CSRFToken, ExpiresAt: &s.ExpiresAt})
}

func (a *api) getSession(w http.ResponseWriter, r *http.Request) {
	v := sessionView{User: *actor(r.Context()), Via: "token"}
	if s := sessionOf(r.Context()); s != nil {
		v.Via, v.CSRFToken, v.ExpiresAt = "session", auth.CSRFToken(s.id), &s.expires
	}
	a.writeJSON(w, r, http.StatusOK, v)
}

func (a *api) logout(w http.ResponseWriter, r *http.Request) {
	if s := sessionOf(r.Context()); s != nil {
		if err := a.sessions.auth.Logout(r.Context(), s.id); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	a.sessions.setCookie(w, "", time.Time{}, time.Time{})
	w.WriteHeader(http.StatusNoContent)
}
