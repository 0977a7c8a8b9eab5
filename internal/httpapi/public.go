package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"certflow/internal/auth"
	"certflow/workflow"
)

// The public complaint intake (Art. 20): POST /api/v1/public/complaints, with
// no login. Anyone may file; what stops a flood is a rate limit per client
// address. The answer is a receipt (a lookup code) and nothing else: never
// anything about the officer or whether the certificate number matched.
// With the code, POST /api/v1/public/complaints/status tells how far the
// complaint got (workflow.ComplaintStatus).

// Problem types of the public intake.
const (
	problemRateLimited = problemBase + "rate-limited"
	problemUnavailable = problemBase + "unavailable"
)

// PublicIntake configures the public complaint intake.
type PublicIntake struct {
	// Actor returns the dedicated user public complaints are recorded as:
	// a user with no roles and no staff record, so it can read and do
	// nothing else (workflow.Engine.FileComplaint refuses any other). nil
	// leaves the intake closed: it answers 503; so does an error that is
	// auth.ErrServiceDisabled (auth.ServiceActor of a disabled user).
	Actor func(ctx context.Context) (*workflow.Actor, error)
	// Limit complaints per Window from one client address; default 5 per
	// 10 minutes. Every request counts, malformed ones too.
	Limit  int
	Window time.Duration
	// LookupLimit status lookups per Window from one client address;
	// default 30. A lookup code has 60 random bits: the limit keeps
	// guessing slow and cheap to refuse, not merely hopeless.
	LookupLimit int
	// MaxClients caps the addresses the limiter remembers (default 10000).
	// When every one of them is still limited, new addresses are refused
	// too: a flood from that many addresses is an attack, and complaints
	// still arrive by letter, phone and visit.
	MaxClients int
	// ClientIP returns the client's address; default the connection's
	// peer. Behind a reverse proxy, return the address the proxy reports
	// (and only a trusted proxy's). IPv6 addresses are limited per /64.
	ClientIP func(*http.Request) string
}

// Defaults of PublicIntake.
const (
	defaultIntakeLimit   = 5
	defaultLookupLimit   = 30
	defaultIntakeWindow  = 10 * time.Minute
	defaultIntakeClients = 10000
)

// NewWithPublicIntake is New with the public complaint intake open.
func NewWithPublicIntake(engine *workflow.Engine, logger *slog.Logger, intake PublicIntake) http.Handler {
	a := newAPI(engine, logger)
	a.public = newPublicIntake(intake)
	return a.router
}

// publicIntake is the intake's configuration and limiter.
type publicIntake struct {
	actor    func(ctx context.Context) (*workflow.Actor, error)
	clientIP func(*http.Request) string
	limiter  *rateLimiter // complaints filed
	lookups  *rateLimiter // status lookups
}

func newPublicIntake(c PublicIntake) *publicIntake {
	if c.Limit <= 0 {
		c.Limit = defaultIntakeLimit
	}
	if c.Window <= 0 {
		c.Window = defaultIntakeWindow
	}
	if c.LookupLimit <= 0 {
		c.LookupLimit = defaultLookupLimit
	}
	if c.MaxClients <= 0 {
		c.MaxClients = defaultIntakeClients
	}
	if c.ClientIP == nil {
		c.ClientIP = func(r *http.Request) string { return r.RemoteAddr }
	}
	return &publicIntake{actor: c.Actor, clientIP: c.ClientIP, limiter: newRateLimiter(c.Limit, c.Window, c.MaxClients),
		lookups: newRateLimiter(c.LookupLimit, c.Window, c.MaxClients)}
}

// intakeClosed answers 503: the server does not open the public intake.
func (a *api) intakeClosed(w http.ResponseWriter, r *http.Request) {
	a.writeProblem(w, r, problem{Type: problemUnavailable, Title: "暂不受理网上举报", Status: http.StatusServiceUnavailable,
		Detail: "the public complaint intake is not open on this server; complaints are received by letter, phone or visit"})
}

// limited takes a token from l for r's client, or answers 429 with
// Retry-After saying what per what and returns false.
func (a *api) limited(w http.ResponseWriter, r *http.Request, l *rateLimiter, what string) bool {
	ok, wait := l.allow(clientKey(a.public.clientIP(r)))
	if ok {
		return false
	}
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	a.writeProblem(w, r, problem{Type: problemRateLimited, Title: "提交过于频繁", Status: http.StatusTooManyRequests,
		Detail: fmt.Sprintf("at most %d %s per %s from one address; retry in %d seconds", l.limit, what, l.window, secs)})
	return true
}

// fileComplaint records a complaint from the public and answers 201 with the
// receipt.
func (a *api) fileComplaint(w http.ResponseWriter, r *http.Request) {
	// The receipt's lookup code is for the complainant only.
	w.Header().Set("Cache-Control", "no-store")
	p := a.public
	if p == nil || p.actor == nil {
		a.intakeClosed(w, r)
		return
	}
	if a.limited(w, r, p.limiter, "complaints") {
		return
	}
	var in workflow.PublicComplaint
	if err := decodeBody(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	act, err := p.actor(r.Context())
	if errors.Is(err, auth.ErrServiceDisabled) {
		// An administrator closed the intake (certflow user disable).
		a.intakeClosed(w, r)
		return
	}
	if err != nil {
		a.writeError(w, r, fmt.Errorf("httpapi: public intake actor: %v", err)) // a server fault: 500, logged
		return
	}
	receipt, err := a.engine.FileComplaint(r.Context(), act, in)
	switch {
	case err == nil:
		a.writeJSON(w, r, http.StatusCreated, receipt)
	case isClientFault(err):
		a.writeError(w, r, publicWording(err))
	default:
		// A misconfigured actor (forbidden) or a store failure is the
		// server's fault; the complainant learns only that.
		a.writeError(w, r, fmt.Errorf("httpapi: public intake: %v", err))
	}
}

// lookupRequest is the body of a status lookup. The code travels in the
// body, not the URL, so that it stays out of access logs, proxies and
// browser history.
type lookupRequest struct {
	LookupCode string `json:"lookup_code" openapi:"required"`
}

// complaintStatus answers a complainant's status lookup: 200 with
// workflow.ComplaintStatus, 404 for a code that names no complaint.
func (a *api) complaintStatus(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if a.public == nil {
		a.intakeClosed(w, r)
		return
	}
	if a.limited(w, r, a.public.lookups, "status lookups") {
		return
	}
	var in lookupRequest
	if err := decodeBody(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	st, err := a.engine.ComplaintStatusOf(r.Context(), in.LookupCode)
	switch {
	case err == nil:
		a.writeJSON(w, r, http.StatusOK, st)
	case errors.Is(err, workflow.ErrNotFound):
		a.writeProblem(w, r, problem{Type: problemNotFound, Title: "未找到该举报", Status: http.StatusNotFound,
			Detail: "没有与该查询码对应的举报，请核对回执上的查询码"})
	case isClientFault(err):
		a.writeError(w, r, publicWording(err))
	default:
		a.writeError(w, r, fmt.Errorf("httpapi: complaint status: %v", err))
	}
}

// publicFields say, in Chinese, what a member of the public got wrong in
// a complaint field; the field and status stay as the API's.
var publicFields = map[string]string{
	"kind":                "请选择举报、控告或申诉（《办法》第二十条）",
	"complainant_name":    "姓名不超过50个字",
	"complainant_contact": "联系方式不超过100个字",
	"officer_name":        "请填写被举报执法人员的姓名或其执法证件编号（不超过50个字）",
	"certificate_number":  "执法证件编号不超过64个字符",
	"facts":               "请填写举报的事实和理由（不超过5000字）",
	"org_unit_id":         "请选择受理的应急管理部门",
	"lookup_code":         "查询码为回执上的12位字母和数字，形如XXXX-XXXX-XXXX",
}

// publicWording is err as a complainant reads it: an input error on a
// field of the complaint in Chinese, anything else as it is.
func publicWording(err error) error {
	var in *workflow.InputError
	if errors.As(err, &in) {
		if text, ok := publicFields[in.Field]; ok {
			return workflow.Invalid(in.Field, text)
		}
	}
	return err
}

// isClientFault reports whether err is about the complaint as filed (400).
func isClientFault(err error) bool {
	var in *workflow.InputError
	var req *requestError
	return errors.As(err, &in) || errors.As(err, &req)
}

// clientKey is what the limiter counts by: the address without its port,
// an IPv6 address's /64 (one subscriber's network), an IPv4-mapped IPv6
// address as IPv4. What does not parse is counted as given.
func clientKey(addr string) string {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}

// rateLimiter is a token bucket per key: limit tokens, refilled evenly over
// window, so a client may file limit complaints at once and then one every
// window/limit. It remembers at most max keys.
type rateLimiter struct {
	limit  int
	window time.Duration
	max    int
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(limit int, window time.Duration, maxKeys int) *rateLimiter {
	return &rateLimiter{limit: limit, window: window, max: maxKeys, now: time.Now, buckets: map[string]*bucket{}}
}

// refilled returns b's tokens at now.
func (l *rateLimiter) refilled(b *bucket, now time.Time) float64 {
	elapsed := float64(max(0, now.Sub(b.at)))
	return min(float64(l.limit), b.tokens+elapsed*float64(l.limit)/float64(l.window))
}

// until returns how long a bucket holding tokens waits for a whole one.
func (l *rateLimiter) until(tokens float64) time.Duration {
	return time.Duration((1 - tokens) * float64(l.window) / float64(l.limit))
}

// allow takes a token from key's bucket, or says how long until one is due.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.sweep(now)
		}
		if len(l.buckets) >= l.max {
			return false, l.until(0)
		}
		b = &bucket{tokens: float64(l.limit), at: now}
		l.buckets[key] = b
	}
	b.tokens, b.at = l.refilled(b, now), now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, l.until(b.tokens)
}

// refund gives back a token allow took from key's bucket.
func (l *rateLimiter) refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		b.tokens = min(float64(l.limit), b.tokens+1)
	}
}

// sweep forgets the buckets that are full again: a fresh bucket is the
// same. At most once a second, so a full table of busy clients costs no
// more than that.
func (l *rateLimiter) sweep(now time.Time) {
	if !l.swept.IsZero() && now.Sub(l.swept) < time.Second {
		return
	}
	l.swept = now
	for k, b := range l.buckets {
		if l.refilled(b, now) >= float64(l.limit) {
			delete(l.buckets, k)
		}
	}
}
