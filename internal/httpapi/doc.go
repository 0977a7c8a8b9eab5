// Package httpapi is certflow's HTTP JSON API under /api/v1, on
// github.com/go-chi/chi/v5.
//
// Handlers stay thin: decode the request, call one workflow.Engine method,
// encode the answer. Every error leaves through one writer that turns the
// workflow sentinels and typed errors into RFC 9457 problem+json with a
// Chinese title for the UI: not found 404, conflict or a transition the
// state does not allow 409, a refusal by the regulation 422 (with the
// articles), bad input 400 (with the field), forbidden 403, an act
// repeated too soon 429 (with Retry-After: 催办, inbox.go), and anything
// else 500 with the real error only in the log.
//
// Callers authenticate with "Authorization: Bearer <token>", or with the
// session cookie POST /api/v1/session sets after a password login; a
// request the cookie authenticates that changes something must also carry
// the session's CSRF token in X-CSRF-Token (session.go, and
// certflow/internal/auth). The API describes itself at /api/v1/openapi.json;
// a test keeps that document and the routes in step.
package httpapi
