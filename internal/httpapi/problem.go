package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"certflow/documents"
	"certflow/workflow"
)

// Problem types: stable URIs a client may switch on (RFC 9457 §3.1.1). They
// identify, they do not resolve.
const (
	problemBase       = "https://certflow.invalid/problems/"
	problemMalformed  = problemBase + "malformed-request"
	problemInvalid    = problemBase + "invalid-input"
	problemUnauth     = problemBase + "unauthenticated"
	problemForbidden  = problemBase + "forbidden"
	problemNotFound   = problemBase + "not-found"
	problemMethod     = problemBase + "method-not-allowed"
	problemConflict   = problemBase + "conflict"
	problemStale      = problemBase + "stale-version"
	problemTaskHeld   = problemBase + "task-held"
	problemDuplicate  = problemBase + "duplicate"
	problemNotReady   = problemBase + "document-not-ready"
	problemTransition = problemBase + "invalid-transition"
	problemTooLarge   = problemBase + "body-too-large"
	problemMediaType  = problemBase + "unsupported-media-type"
	problemGuard      = problemBase + "guard-refused"
	problemInternal   = problemBase + "internal"
	problemDocLost    = problemBase + "document-lost"
)

// internalDetail is all a client learns of an unexpected error.
const internalDetail = "服务器内部错误，已记录；请稍后再试或联系管理员。"

// problem is an RFC 9457 problem details object with certflow's extension
// members.
type problem struct {
	Type     string `json:"type" openapi:"required"`
	Title    string `json:"title" openapi:"required"`
	Status   int    `json:"status" openapi:"required"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Field names the input at fault (a JSON member, query parameter or
	// header), for 400s.
	Field string `json:"field,omitempty"`
	// Violations and Articles explain a refusal by the regulation (422).
	Violations []workflow.Violation `json:"violations,omitempty"`
	Articles   []string             `json:"articles,omitempty"`
	// State and Event name what the case's state does not allow (409).
	State workflow.State     `json:"state,omitempty"`
	Event workflow.EventName `json:"event,omitempty"`
}

// requestError is a request the API cannot read: a malformed body or query
// parameter, a body too large, a content type it does not speak.
type requestError struct {
	status int
	field  string
	detail string
}

func (e *requestError) Error() string { return e.detail }

// badRequest returns a 400 requestError about field.
func badRequest(field, format string, args ...any) error {
	return &requestError{status: http.StatusBadRequest, field: field, detail: fmt.Sprintf(format, args...)}
}

// writeError is the one place errors become responses.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		req   *requestError
		guard *workflow.GuardError
		input *workflow.InputError
		trans *workflow.InvalidTransitionError
		rate  *workflow.RateLimitError
		p     problem
	)
	switch {
	case errors.As(err, &req):
		p = problem{Type: problemMalformed, Title: "请求有误", Status: req.status, Detail: req.detail, Field: req.field}
		switch req.status {
		case http.StatusRequestEntityTooLarge:
			p.Type, p.Title = problemTooLarge, "请求内容过大"
		case http.StatusUnsupportedMediaType:
			p.Type, p.Title = problemMediaType, "不支持的内容类型"
		}
	case errors.As(err, &guard):
		p = problem{Type: problemGuard, Title: "不符合办法规定", Status: http.StatusUnprocessableEntity,
			Detail: guard.Error(), Violations: guard.Violations, Articles: guard.Articles()}
	case errors.As(err, &input):
		detail := input.Reason
		if input.Field != "" {
			detail = input.Field + ": " + input.Reason
		}
		p = problem{Type: problemInvalid, Title: "请求有误", Status: http.StatusBadRequest, Detail: detail, Field: input.Field}
	case errors.As(err, &rate):
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(rate.RetryAfter.Seconds())))))
		p = problem{Type: problemRateLimited, Title: "操作过于频繁", Status: http.StatusTooManyRequests, Detail: detail(err)}
	case errors.Is(err, workflow.ErrUnauthenticated):
		p = problem{Type: problemUnauth, Title: "未登录", Status: http.StatusUnauthorized, Detail: detail(err)}
		if w.Header().Get("WWW-Authenticate") == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="certflow"`)
		}
	case errors.Is(err, workflow.ErrForbidden):
		p = problem{Type: problemForbidden, Title: "无权操作", Status: http.StatusForbidden, Detail: detail(err)}
	case errors.Is(err, workflow.ErrNotFound):
		p = problem{Type: problemNotFound, Title: "未找到", Status: http.StatusNotFound, Detail: detail(err)}
	case errors.As(err, &trans):
		p = problem{Type: problemTransition, Title: "当前状态不允许此操作", Status: http.StatusConflict,
			Detail: detail(err), State: trans.State, Event: trans.Event}
	case errors.Is(err, workflow.ErrConflict):
		p = conflictProblem(err)
	case errors.Is(err, documents.ErrContentLost):
		// The record stands, its bytes do not: say so rather than serve
		// a PDF that is not the document on record.
		a.log.ErrorContext(r.Context(), "httpapi: stored document lost", "method", r.Method, "path", r.URL.Path, "err", err)
		p = problem{Type: problemDocLost, Title: "文书文件缺失或已被改动", Status: http.StatusInternalServerError,
			Detail: detail(err) + "; restore it from a backup"}
	default:
		a.log.ErrorContext(r.Context(), "httpapi: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p = problem{Type: problemInternal, Title: "服务器内部错误", Status: http.StatusInternalServerError, Detail: internalDetail}
	}
	a.writeProblem(w, r, p)
}

// conflicts title each kind of workflow.ErrConflict; the first that err
// is wins, and a conflict of no kind is the plain one.
var conflicts = []struct {
	kind       error
	typ, title string
}{
	{workflow.ErrStale, problemStale, "版本冲突"},
	{workflow.ErrTaskHeld, problemTaskHeld, "任务已由他人办理或已关闭"},
	{workflow.ErrDuplicate, problemDuplicate, "重复提交"},
	{workflow.ErrNotReady, problemNotReady, "文书尚未生成"},
}

// conflictProblem is the 409 of err, an ErrConflict.
func conflictProblem(err error) problem {
	p := problem{Type: problemConflict, Title: "冲突", Status: http.StatusConflict, Detail: detail(err)}
	for _, c := range conflicts {
		if errors.Is(err, c.kind) {
			p.Type, p.Title = c.typ, c.title
			break
		}
	}
	return p
}

// detail is err's text for a client: without the "workflow: " of the
// package that made it, nor the sentinel's word that the problem's title
// and status already say ("forbidden: the preparer of a case may not …"
// reads "the preparer of a case may not …").
func detail(err error) string {
	d := strings.ReplaceAll(err.Error(), "workflow: ", "")
	for _, word := range []string{"conflict: ", "forbidden: ", "unauthenticated: "} {
		d = strings.TrimPrefix(d, word)
	}
	return d
}

// writeProblem sends p as application/problem+json.
func (a *api) writeProblem(w http.ResponseWriter, r *http.Request, p problem) {
	p.Instance = r.URL.EscapedPath() // a URI reference (RFC 9457 §3.1.5), not the decoded path
	a.writeBody(w, r, "application/problem+json", p.Status, p)
}

// writeJSON sends v as JSON with status.
func (a *api) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	a.writeBody(w, r, "application/json", status, v)
}

func (a *api) writeBody(w http.ResponseWriter, r *http.Request, contentType string, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// Mermaid arrows and article text stay readable: no \u003e escapes.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		a.log.ErrorContext(r.Context(), "httpapi: encode response", "method", r.Method, "path", r.URL.Path, "err", err)
		http.Error(w, `{"type":"`+problemInternal+`","title":"服务器内部错误","status":500}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// decodeBody reads one JSON value from r's body into v, strictly: a JSON
// content type (or none), at most maxBodyBytes, no unknown members, nothing
// after the value.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &requestError{status: http.StatusUnsupportedMediaType, field: "Content-Type",
				detail: fmt.Sprintf("Content-Type %q: send application/json", ct)}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return bodyError(err)
	}
	if err := checkText(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if err := dec.Decode(&json.RawMessage{}); err != io.EOF {
		if err != nil {
			if e := bodyError(err); isTooLarge(e) {
				return e
			}
		}
		return badRequest("", "the body must hold a single JSON value")
	}
	return nil
}

// checkText refuses, before anything is decoded, what no member of any
// body takes and what a database may refuse: bytes that are not UTF-8,
// control characters other than tab and line breaks (NUL above all:
// PostgreSQL stores no NUL in text or jsonb), the bidi embedding, override
// and isolate controls (they make text read otherwise than it is stored),
// and a member named twice in one object, in any case (encoding/json
// matches names regardless of case and would keep the last silently). It
// reads every string, member names and values, nested in data too. Other
// format characters — zero-width joiners, marks of Arabic-script Uyghur
// and Kazakh, a soft hyphen — are text; names refuse them (workflow).
// Malformed JSON it leaves to the decoder to describe.
func checkText(body []byte) error {
	if !utf8.Valid(body) {
		return badRequest("", "the body is not valid UTF-8")
	}
	type frame struct {
		object  bool
		wantKey bool
		keys    []string
		path    string // the member this container is, dotted
		key     string // in an object: the member being read
	}
	stack := []*frame{{path: ""}}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or malformed: the decoder says which
		}
		top := stack[len(stack)-1]
		member := top.path
		if top.object && !top.wantKey {
			member = join(top.path, top.key)
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				stack = append(stack, &frame{object: tok == '{', wantKey: tok == '{', path: member})
				continue
			default:
				stack = stack[:len(stack)-1]
				top = stack[len(stack)-1]
			}
		case string:
			if top.object && top.wantKey {
				if bad := badRune(tok); bad >= 0 {
					return badRequest(join(top.path, tok), "a member name holds %U, a control character", bad)
				}
				if slices.ContainsFunc(top.keys, func(k string) bool { return strings.EqualFold(k, tok) }) {
					return badRequest(join(top.path, tok), "%s: given twice; it takes one value", join(top.path, tok))
				}
				top.keys, top.key, top.wantKey = append(top.keys, tok), tok, false
				continue
			}
			if bad := badRune(tok); bad >= 0 {
				field := member
				if field == "" {
					field = "body"
				}
				return badRequest(member, "%s: holds %U, a control character; remove it", field, bad)
			}
		}
		if top.object {
			top.wantKey = true // a member's value ended
		}
	}
}

// badRune returns the first rune of s no text may hold (checkText), or -1:
// a control character other than tab and line breaks, or a bidi
// embedding, override or isolate (U+202A–U+202E, U+2066–U+2069).
func badRune(s string) rune {
	for _, r := range s {
		if (unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r') || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return r
		}
	}
	return -1
}

// join is the dotted path of member key in path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isTooLarge(err error) bool {
	var re *requestError
	return errors.As(err, &re) && re.status == http.StatusRequestEntityTooLarge
}

// bodyError says what is wrong with a body encoding/json refused.
func bodyError(err error) error {
	var (
		typ    *json.UnmarshalTypeError
		tooBig *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooBig):
		return &requestError{status: http.StatusRequestEntityTooLarge, detail: fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit)}
	case errors.Is(err, io.EOF):
		return badRequest("", "the body is empty; send a JSON object")
	case errors.As(err, &typ) && typ.Field == "" && typ.Type.Kind() == reflect.Struct:
		return badRequest("", "the body must be a JSON object, not %s", typ.Value)
	}
	if field, reason, ok := workflow.JSONFault(err); ok {
		if field == "" {
			return badRequest("", "%s", reason)
		}
		return badRequest(field, "%s: %s", field, reason)
	}
	return badRequest("", "invalid value: %s", strings.TrimPrefix(err.Error(), "json: "))
}
