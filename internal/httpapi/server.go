package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"certflow/workflow"
)

// Prefix is where the API lives.
const Prefix = "/api/v1"

// maxBodyBytes caps a request body: the largest legitimate one, a person or
// a case's data, is a few kilobytes.
const maxBodyBytes = 1 << 20

// api holds what the handlers share.
type api struct {
	engine   *workflow.Engine
	log      *slog.Logger
	router   *chi.Mux
	openapi  []byte        // the OpenAPI document, built once
	filters  filterNames   // what the inbox's path, state and kind filters accept
	public   *publicIntake // nil: the public complaint intake answers 503
	sessions *sessions     // web sessions and password logins: session.go
}

// New returns the HTTP handler of the API: GET /healthz without
// credentials, and every route under /api/v1, which needs a bearer token or
// a session cookie (except the OpenAPI document itself, which holds no
// data, the public complaint intake and the login). A nil logger discards.
func New(engine *workflow.Engine, logger *slog.Logger) http.Handler {
	return newAPI(engine, logger).router
}

func newAPI(engine *workflow.Engine, logger *slog.Logger) *api {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &api{engine: engine, log: logger, filters: newFilterNames(engine)}
	doc, err := buildOpenAPI()
	if err != nil {
		// The document is built from static tables; failing here is a bug
		// caught by the tests, never a runtime condition.
		panic(fmt.Sprintf("httpapi: openapi: %v", err))
	}
	a.openapi = doc
	a.sessions = newSessions(engine, logger, Sessions{})
	a.router = a.routes()
	return a
}

// routes wires every endpoint. The OpenAPI document in openapi.go lists the
// same (method, path) pairs; TestOpenAPIMatchesRoutes keeps them in step.
func (a *api) routes() *chi.Mux {
	r := chi.NewRouter()
	// Set before any sub-router exists, so every one inherits them.
	r.NotFound(a.notFound)
	r.MethodNotAllowed(a.methodNotAllowed)
	r.Use(a.recoverer, middleware.GetHead)

	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})

	r.Route(Prefix, func(r chi.Router) {
		r.Get("/openapi.json", a.getOpenAPI)
		r.Post("/public/complaints", a.fileComplaint) // no login (Art. 20), rate limited: public.go
		r.Post("/public/complaints/status", a.complaintStatus)
		r.Post("/session", a.login) // log in: session.go
		r.Group(func(r chi.Router) {
			r.Use(a.authenticate)

			r.Get("/session", a.getSession)
			r.Delete("/session", a.logout)

			r.Get("/org-units", a.listOrgUnits)

			r.Get("/people", a.listPeople)
			r.Post("/people", a.createPerson)
			r.Get("/people/{id}", a.getPerson)
			r.Put("/people/{id}", a.updatePerson)
			r.Get("/people/{id}/trainings", a.listTrainings)
			r.Post("/people/{id}/trainings", a.createTraining)
			r.Get("/people/{id}/trainings/{tid}", a.getTraining)
			r.Put("/people/{id}/trainings/{tid}", a.updateTraining)

			r.Get("/cases", a.listCases)
			r.Post("/cases", a.openCase)
			r.Get("/cases/{id}", a.getCase)
			r.Get("/cases/{id}/documents", a.listDocuments)
			r.Get("/cases/{id}/documents.pdf", a.mergedDocuments)
			r.Get("/people/{id}/documents", a.listDocuments)
			r.Get("/documents/{id}", a.downloadDocument)
			r.Get("/documents/{id}/preview", a.previewDocument)
			r.Post("/batches", a.compileBatch)
			r.Post("/cases/{id}/events", a.fireEvent)

			r.Get("/certificates", a.listCertificates)

			r.Get("/workflows", a.listWorkflows)
			r.Get("/workflows/{name}", a.getWorkflow)

			r.Get("/inbox", a.inbox)
			r.Post("/tasks/{id}/claim", a.taskAct((*workflow.Engine).ClaimTask, true))
			r.Post("/tasks/{id}/unclaim", a.taskAct((*workflow.Engine).UnclaimTask, true))
			r.Post("/tasks/{id}/reassign", a.taskAct((*workflow.Engine).ReassignTask, false))
			r.Post("/tasks/{id}/remind", a.taskAct((*workflow.Engine).RemindTask, true))
			r.Post("/cases/{id}/copies", a.copyCase)
			r.Get("/copies", a.listCopies)
			r.Get("/delegations", a.listDelegations)
			r.Post("/delegations", a.createDelegation)
			r.Post("/delegations/{id}/revoke", a.revokeDelegation)
			r.Get("/reminders", a.reminders)
			r.Post("/reminders/{id}/acknowledge", a.acknowledgeReminder)

			r.Get("/departure-blockers", a.departureBlockers)
			r.Get("/overdue", a.overdue)
			r.Get("/exports/platform", a.platformExport)
		})
	})
	return r
}

type actorKey struct{}

// actor returns the caller the authenticate middleware put in ctx.
func actor(ctx context.Context) *workflow.Actor {
	a, _ := ctx.Value(actorKey{}).(*workflow.Actor)
	return a
}

// authenticate resolves the caller, or answers 401: a bearer token when
// the request has an Authorization header, else the session cookie, whose
// state-changing requests must also carry the CSRF token (403 without).
func (a *api) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answers carry personal data (公民身份号码): never cache them.
		w.Header().Set("Cache-Control", "no-store")
		if h := r.Header.Get("Authorization"); h != "" {
			token, ok := bearerToken(h)
			if !ok {
				a.writeError(w, r, fmt.Errorf("%w: send Authorization: Bearer <token>", workflow.ErrUnauthenticated))
				return
			}
			act, err := a.sessions.auth.Token(r.Context(), token)
			if err != nil {
				if errors.Is(err, workflow.ErrUnauthenticated) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="certflow", error="invalid_token"`)
					err = fmt.Errorf("%w: the token is unknown, expired or revoked", workflow.ErrUnauthenticated)
				}
				a.writeError(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, act)))
			return
		}
		if c, err := r.Cookie(a.sessions.cookie); err == nil && c.Value != "" {
			if ctx, ok := a.authenticateSession(w, r, c.Value); ok {
				next.ServeHTTP(w, r.WithContext(ctx))
			}
			return
		}
		a.writeError(w, r, fmt.Errorf("%w: send Authorization: Bearer <token>, or log in (POST %s/session)", workflow.ErrUnauthenticated, Prefix))
	})
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header; the scheme is case-insensitive (RFC 9110 §11.1).
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// recoverer turns a panicking handler into a logged 500.
func (a *api) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec)
			}
			a.log.ErrorContext(r.Context(), "httpapi: panic", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
			a.writeProblem(w, r, problem{Type: problemInternal, Title: "服务器内部错误", Status: http.StatusInternalServerError,
				Detail: internalDetail})
		}()
		next.ServeHTTP(w, r)
	})
}

func (a *api) notFound(w http.ResponseWriter, r *http.Request) {
	a.writeProblem(w, r, problem{Type: problemNotFound, Title: "未找到", Status: http.StatusNotFound,
		Detail: "no route " + r.URL.Path})
}

// methodNotAllowed answers 405 with the Allow header chi's default handler
// would set (a custom handler does not get the list, so it is recomputed).
func (a *api) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if a.router.Match(chi.NewRouteContext(), m, r.URL.Path) {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
	}
	a.writeProblem(w, r, problem{Type: problemMethod, Title: "不支持的请求方法", Status: http.StatusMethodNotAllowed,
		Detail: fmt.Sprintf("%s %s is not supported; allowed: %s", r.Method, r.URL.Path, strings.Join(allowed, ", "))})
}

func (a *api) getOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(a.openapi)
}

// filterNames are the names engine's path tables use, typed for oneOf.
type filterNames struct {
	paths  []workflow.PathName
	states []workflow.State
	kinds  []workflow.TaskKind
}

func newFilterNames(engine *workflow.Engine) filterNames {
	var paths []workflow.Path
	for _, p := range engine.Paths() {
		paths = append(paths, *p)
	}
	te := collectTableEnums(paths)
	return filterNames{typed[workflow.PathName](te.paths), typed[workflow.State](te.states), typed[workflow.TaskKind](te.tasks)}
}
