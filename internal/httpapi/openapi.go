package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"certflow/workflow"
)

// The value sets workflow defines as constants without a list. The API
// checks query parameters against them and the OpenAPI document shows them
// as enums; TestEnumsValid checks each against the type's Valid method
// where there is one.
var (
	certificateStates = []workflow.CertificateState{workflow.CertIssued, workflow.CertReceived, workflow.CertSuspended,
		workflow.CertReturned, workflow.CertCancelled, workflow.CertLost, workflow.CertVoided}
	certificateKinds = []workflow.CertificateKind{workflow.KindSupervision, workflow.KindEnforcement, workflow.KindMinistry}
	unitKinds        = []workflow.UnitKind{workflow.UnitDepartment, workflow.UnitLeadership, workflow.UnitLegal, workflow.UnitHR,
		workflow.UnitBusiness, workflow.UnitInstitution, workflow.UnitTownship}
	levels      = []workflow.Level{workflow.LevelRegion, workflow.LevelPrefecture, workflow.LevelCounty}
	sexes       = []workflow.Sex{workflow.SexMale, workflow.SexFemale}
	educations  = []workflow.Education{workflow.EduJuniorHigh, workflow.EduHighSchool, workflow.EduSecondary, workflow.EduCollege, workflow.EduBachelor, workflow.EduMaster, workflow.EduDoctor}
	employments = []workflow.Employment{workflow.EmploymentActive, workflow.EmploymentLeaving, workflow.EmploymentDeparted}
	trainings   = []workflow.TrainingKind{workflow.TrainingEmergency, workflow.TrainingLaw, workflow.TrainingAcademy}
	categories  = []workflow.Category{workflow.CategorySafety, workflow.CategoryFire, workflow.CategoryEmergency}
	taskStates  = []workflow.TaskStatus{workflow.TaskOpen, workflow.TaskClosed}
)

// tableEnums collects the names the path tables use: paths, states, events,
// task and document kinds, in table order without repeats.
type tableEnums struct {
	paths  []string
	states []string
	events []string
	tasks  []string
	docs   []string
}

func collectTableEnums(paths []workflow.Path) tableEnums {
	var t tableEnums
	add := func(list *[]string, s string) {
		if !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	for _, p := range paths {
		add(&t.paths, string(p.Name))
		for _, s := range p.States {
			add(&t.states, string(s.Name))
		}
		for _, e := range p.Events {
			add(&t.events, string(e.Name))
			for _, o := range e.Opens {
				add(&t.tasks, string(o.Kind))
			}
			for _, k := range slices.Concat(e.Closes, e.Discards) {
				add(&t.tasks, string(k))
			}
			for _, d := range e.Docs {
				add(&t.docs, string(d.Kind))
			}
		}
	}
	slices.Sort(t.events)
	slices.Sort(t.tasks)
	slices.Sort(t.docs)
	return t
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// obj is a JSON object of the document.
type obj = map[string]any

var (
	timeType = reflect.TypeFor[time.Time]()
	dateType = reflect.TypeFor[workflow.Date]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// schemaSet derives JSON Schemas from the Go types the API encodes, so the
// document follows the json tags: a field added to workflow.Person shows up
// without touching this file. A field tagged openapi:"required" is
// required; openapi:"minimum=N" sets a minimum.
type schemaSet struct {
	defs  obj
	enums map[reflect.Type][]string
	descr map[string]string
}

func schemaRef(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

// schemaName is the component name of a struct type: its Go name with an
// upper-case first letter.
func schemaName(t reflect.Type) string {
	r, n := utf8.DecodeRuneInString(t.Name())
	return string(unicode.ToUpper(r)) + t.Name()[n:]
}

// of returns the schema of t, registering struct types as components.
func (s *schemaSet) of(t reflect.Type) obj {
	switch t {
	case timeType:
		return obj{"type": "string", "format": "date-time"}
	case dateType:
		return obj{"type": []string{"string", "null"}, "format": "date", "description": "a civil date YYYY-MM-DD, null when unset"}
	case rawType:
		return obj{"description": "any JSON value"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(s.of(t.Elem()))
	case reflect.Struct:
		name := schemaName(t)
		if _, ok := s.defs[name]; !ok {
			s.defs[name] = obj{} // placeholder: a type may refer to itself
			s.defs[name] = s.object(t, name)
		}
		return schemaRef(name)
	case reflect.Slice, reflect.Array:
		return obj{"type": "array", "items": s.of(t.Elem())}
	case reflect.String:
		sc := obj{"type": "string"}
		if e, ok := s.enums[t]; ok {
			sc["enum"] = e
		}
		return sc
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int64:
		return obj{"type": "integer", "format": "int64"}
	case reflect.Int, reflect.Int32:
		return obj{"type": "integer"}
	case reflect.Float64, reflect.Float32:
		return obj{"type": "number"}
	}
	panic(fmt.Sprintf("httpapi: openapi: no schema for %s", t))
}

// nullable allows null besides sc.
func nullable(sc obj) obj {
	if t, ok := sc["type"].(string); ok {
		out := obj{}
		for k, v := range sc {
			out[k] = v
		}
		out["type"] = []string{t, "null"}
		if e, ok := sc["enum"].([]string); ok {
			vals := make([]any, 0, len(e)+1)
			for _, v := range e {
				vals = append(vals, v)
			}
			out["enum"] = append(vals, nil) // enum restricts values: null must be listed too
		}
		return out
	}
	return obj{"anyOf": []any{sc, obj{"type": "null"}}}
}

func (s *schemaSet) object(t reflect.Type, name string) obj {
	props := obj{}
	var required []string
	s.fields(t, props, &required)
	sc := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		sc["required"] = required
	}
	if d := s.descr[name]; d != "" {
		sc["description"] = d
	}
	return sc
}

// fields adds t's JSON members to props, flattening embedded structs as
// encoding/json does.
func (s *schemaSet) fields(t reflect.Type, props obj, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				s.fields(ft, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		ft := f.Type
		opts := strings.Split(f.Tag.Get("openapi"), ",")
		req := slices.Contains(opts, "required")
		if req && ft.Kind() == reflect.Pointer {
			ft = ft.Elem() // a pointer only tells "missing" from zero
		}
		sc := s.of(ft)
		for _, o := range opts {
			if v, ok := strings.CutPrefix(o, "minimum="); ok {
				n, _ := strconv.Atoi(v)
				sc = clone(sc)
				sc["minimum"] = n
			}
		}
		props[name] = sc
		if req {
			*required = append(*required, name)
		}
	}
}

func clone(sc obj) obj {
	out := make(obj, len(sc))
	for k, v := range sc {
		out[k] = v
	}
	return out
}

// schemaDescriptions describe the components whose meaning is not obvious
// from their name.
var schemaDescriptions = map[string]string{
	"Problem": "An RFC 9457 problem. title is Chinese, for the UI. Extension members: field (400), violations and " +
		"articles (422: every condition of the regulation that failed, each with its article), state and event (409 when " +
		"the case's state does not allow the event).",
	"Violation":        "One failed condition of the regulation, with the article it rests on, e.g. \"Art. 9(1)(3)\".",
	"OrgUnit":          "A node of the org tree: a department (应急管理部门) or a unit below one.",
	"Person":           "A staff member. On create, sex and birth_date default to what the 公民身份号码 encodes; id and version are ignored. On update, version must be the one read.",
	"Training":         "A training record. On update, version must be the one read.",
	"Certificate":      "An issued certificate and its lifecycle state.",
	"CaseView":         "A case as the caller sees it: its data, history, tasks, documents and the events the caller may fire now.",
	"AllowedEvent":     "An event the caller may fire in the case's current state (guards are checked when it is fired).",
	"Event":            "One row of a case's history.",
	"Task":             "Work assigned to a role at a department.",
	"InboxTask":        "An open task the caller may work on (their role, or a delegator's: on_behalf_of_user_id), with what an inbox shows about its case.",
	"InboxCounts":      "The badges of the whole inbox, whatever the page's filters: total, overdue, claimed by the caller, unclaimed, claimed by others, delegated, and per path, task kind and department.",
	"TaskActInput":     "An act on a task: comment (the reason, required for 转交), user_id (whom 转交 gives it to), on_behalf_of_user_id (a deputy acting for their delegator).",
	"Delegation":       "A delegation (代理): the deputy has the delegator's roles from starts_on to ends_on, both included, unless revoked; active says whether it is in force today.",
	"Reminder":         "A notice fired once by the deadline sweep: certificate expiry (threshold 90d or 30d) or an overdue task (threshold overdue), for a role at an org unit.",
	"DocumentStatus":   "A document rendered for a case, and its job's state.",
	"OpenCaseRequest":  "Opens a case of a path about a person. data is the path's input (for the application paths: kind, proposed_categories, region, specialities).",
	"FireRequest":      "Fires one event on a case. expected_version is the case version the caller read; a stale one is refused with 409.",
	"WorkflowPath":     "A path's table: states, events, who may fire them, the articles their guards cite, the tasks they open and close and the documents they produce.",
	"PublicComplaint":  "A complaint from the public (Art. 20): kind 举报, 控告 or 申诉 (default 举报); name and contact optional; the officer's name or certificate number (at least one); the facts. org_unit_id: the department it is addressed to when no certificate on record is named.",
	"LookupRequest":    "A complaint status lookup: the lookup code of the receipt, as XXXX-XXXX-XXXX.",
	"ComplaintStatus":  "How far a complaint filed online got: status handling (with the handling deadline due_on), decided (decided_on) or closed (told_on), with its Chinese label.",
	"LoginRequest":     "A login: the user's name and password.",
	"SessionView":      "The caller (user), how they were authenticated (via: session or token) and, for a cookie session, the CSRF token to send in X-CSRF-Token and when the session expires.",
	"BatchRequest":     "A township 申领汇总 (Art. 5): org_unit_id is the county department or one of its 派出机关 (left out: the caller's one county); case_ids the applications in list order (left out: every one pending approval or approved; an empty list is refused).",
	"ComplaintReceipt": "The receipt of a public complaint: a lookup code the complainant keeps (shown once; only its hash is stored). No case number: its region prefix would tell whether a certificate number matched.",
}

// apiOp describes one operation of the document.
type apiOp struct {
	method, path string
	id, summary  string
	descr        string
	tag          string
	params       []obj
	body         obj  // schema of the JSON request body, if any
	bodyOptional bool // the body may be left out
	status       int
	result       obj // schema of the answer
	errors       []int
	public       bool // no bearer token needed
	location     bool // 201 with a Location header
	idempotent   bool // honours Idempotency-Key
}

// problemResponses are the error answers operations refer to.
var problemResponses = map[int]struct{ name, descr string }{
	http.StatusBadRequest:   {"BadRequest", "The request is malformed or its input invalid (请求有误); field names the culprit."},
	http.StatusUnauthorized: {"Unauthorized", "No valid bearer token or session cookie (未登录)."},
	http.StatusForbidden:    {"Forbidden", "The caller may see the object but not do this (无权操作); or a request authenticated by the session cookie lacks its CSRF token in X-CSRF-Token (请求校验失败)."},
	http.StatusNotFound:     {"NotFound", "No such object, or not in the caller's scope (未找到)."},
	http.StatusConflict: {"Conflict", "The request collides with the object's state; type says how: " +
		"stale-version, the object changed since the version sent, or a concurrent change came first: read it again (版本冲突); " +
		"invalid-transition, the case's state does not allow the event (当前状态不允许此操作); " +
		"task-held, the task is held by someone else, by nobody, or closed (任务已由他人办理或已关闭); " +
		"duplicate, what the request creates exists already (重复提交); " +
		"document-not-ready, the document is pending or failed to render (文书尚未生成)."},
	http.StatusRequestEntityTooLarge: {"TooLarge", "The body is larger than 1 MiB."},
	http.StatusUnsupportedMediaType:  {"UnsupportedMediaType", "The body is not application/json."},
	http.StatusUnprocessableEntity:   {"GuardRefused", "Refused by the regulation (不符合办法规定): violations lists every failed condition with its article."},
	http.StatusInternalServerError:   {"Internal", "An unexpected error; the details are only in the server log. Type document-lost: a stored document's bytes are missing or changed (the detail names it)."},
	http.StatusTooManyRequests:       {"TooManyRequests", "Too many requests from this client address, or too soon again (提交过于频繁 / 登录尝试过于频繁 / 操作过于频繁); Retry-After says when to try again."},
	http.StatusServiceUnavailable:    {"Unavailable", "The service is not open on this server (暂不受理)."},
}

// buildOpenAPI returns the OpenAPI 3.1 document of the API.
func buildOpenAPI() ([]byte, error) {
	te := collectTableEnums(workflow.AllPaths())
	s := &schemaSet{defs: obj{}, descr: schemaDescriptions, enums: map[reflect.Type][]string{
		reflect.TypeFor[workflow.PathName]():         te.paths,
		reflect.TypeFor[workflow.State]():            te.states,
		reflect.TypeFor[workflow.EventName]():        te.events,
		reflect.TypeFor[workflow.TaskKind]():         te.tasks,
		reflect.TypeFor[workflow.DocKind]():          te.docs,
		reflect.TypeFor[workflow.Role]():             strs(workflow.Roles),
		reflect.TypeFor[workflow.CertificateState](): strs(certificateStates),
		reflect.TypeFor[workflow.CertificateKind]():  strs(certificateKinds),
		reflect.TypeFor[workflow.UnitKind]():         strs(unitKinds),
		reflect.TypeFor[workflow.Level]():            strs(levels),
		reflect.TypeFor[workflow.Sex]():              strs(sexes),
		reflect.TypeFor[workflow.Education]():        strs(educations),
		reflect.TypeFor[workflow.Employment]():       strs(employments),
		reflect.TypeFor[workflow.TrainingKind]():     strs(trainings),
		reflect.TypeFor[workflow.Category]():         strs(categories),
		reflect.TypeFor[workflow.TaskStatus]():       strs(taskStates),
		reflect.TypeFor[workflow.ComplaintKind]():    strs(workflow.ComplaintKinds),
		reflect.TypeFor[workflow.ReminderKind]():     strs([]workflow.ReminderKind{workflow.ReminderExpiry, workflow.ReminderOverdue}),
	}}
	schema := func(t reflect.Type) obj { return s.of(t) }
	list := func(t reflect.Type) obj {
		item := s.of(t)
		name := strings.TrimPrefix(item["$ref"].(string), "#/components/schemas/") + "List"
		s.defs[name] = obj{
			"type":     "object",
			"required": []string{"items"},
			"properties": obj{
				"items": obj{"type": "array", "items": item},
				"next_after": obj{"type": "integer", "format": "int64",
					"description": "Present when the page is full: pass it as after to get the next page."},
			},
		}
		return schemaRef(name)
	}
	schema(reflect.TypeFor[problem]())

	idParam := func(name, what string) obj {
		return obj{"name": name, "in": "path", "required": true, "description": what,
			"schema": obj{"type": "integer", "format": "int64", "minimum": 1}}
	}
	query := func(name, descr string, sc obj) obj {
		return obj{"name": name, "in": "query", "required": false, "description": descr, "schema": sc}
	}
	idQuery := func(name, descr string) obj {
		return query(name, descr, obj{"type": "integer", "format": "int64", "minimum": 1})
	}
	ref := func(name string) obj { return obj{"$ref": "#/components/parameters/" + name} }
	paging := []obj{ref("after"), ref("limit")}
	personPath := idParam("id", "the person's ID")

	ops := []apiOp{
		{method: "GET", path: "/healthz", id: "healthz", summary: "Liveness check", tag: "meta", public: true, status: 200},
		{method: "GET", path: Prefix + "/openapi.json", id: "openapi", summary: "This document", tag: "meta", public: true,
			status: 200, result: obj{"type": "object"}},
		{method: "POST", path: Prefix + "/public/complaints", id: "fileComplaint", summary: "File a complaint about an officer (Art. 20), without login", tag: "public",
			descr: "举报、控告、申诉 by 公民、法人或者其他组织. No token: the complaint is recorded as the server's public-intake user and handled by " +
				"the legal office within 60 days. A certificate number on record makes the complaint about its holder; otherwise it goes to org_unit_id's " +
				"department, or the 自治区 department. The answer is a lookup code, nothing about the officer nor the case number (its region prefix would tell whether a certificate number matched). " +
				"Rate limited per client address (default 5 per 10 minutes): 429 with Retry-After. 503 when the server does not open the intake.",
			body: schema(reflect.TypeFor[workflow.PublicComplaint]()), public: true, status: 201,
			result: schema(reflect.TypeFor[workflow.ComplaintReceipt]()), errors: []int{400, 413, 415, 429, 503}},
		{method: "POST", path: Prefix + "/public/complaints/status", id: "complaintStatus", summary: "How far a complaint filed online got, by its lookup code", tag: "public",
			descr: "No token: the lookup code is the authority. The code goes in the body, so that it stays out of URLs and logs; it is read as Crockford's base32 " +
				"(any case, dashes and spaces ignored, O as 0, I and L as 1). The answer is the kind, the date received, the status (handling, decided, closed) " +
				"with its Chinese label, the handling deadline while handled, and when it was decided and the complainant told: nothing about the officer, " +
				"the department, the outcome or a suspension. 404 for a code that names no complaint. Rate limited per client address (default 30 per 10 minutes): 429 with Retry-After.",
			body: schema(reflect.TypeFor[lookupRequest]()), public: true, status: 200,
			result: schema(reflect.TypeFor[workflow.ComplaintStatus]()), errors: []int{400, 404, 413, 415, 429, 503}},
		{method: "POST", path: Prefix + "/session", id: "login", summary: "Log in with name and password: a session cookie and its CSRF token", tag: "session",
			descr: "Sets the session cookie (__Host-certflow_session; certflow_session on a plain-HTTP development server): HttpOnly, Secure, " +
				"SameSite=Lax, Path=/, expiring with the session. Every later request that changes something and is authenticated by the cookie must " +
				"send csrf_token in X-CSRF-Token. The body must be application/json. Any failure (unknown name, wrong password, disabled or locked " +
				"account) is the same 401; 5 failures in a row lock the account for 1 minute, doubling with each further lockout up to an hour. " +
				"Failed logins are also rate limited per client address, whatever the account (default 20 per minute; a successful login does not count): 429 with Retry-After.",
			body: schema(reflect.TypeFor[loginRequest]()), public: true, status: 200,
			result: schema(reflect.TypeFor[sessionView]()), errors: []int{400, 401, 413, 415, 429}},
		{method: "GET", path: Prefix + "/session", id: "getSession", summary: "Who is calling; for a cookie session, its CSRF token and expiry", tag: "session",
			status: 200, result: schema(reflect.TypeFor[sessionView]()), errors: []int{401}},
		{method: "DELETE", path: Prefix + "/session", id: "logout", summary: "Log out: end the cookie's session and delete the cookie", tag: "session",
			descr:  "Needs X-CSRF-Token with the cookie. With a bearer token there is no session to end: 204 all the same.",
			status: 204, errors: []int{401, 403}},
		{method: "GET", path: Prefix + "/org-units", id: "listOrgUnits", summary: "List the org units the caller reaches", tag: "directory",
			status: 200, result: list(reflect.TypeFor[workflow.OrgUnit]()), errors: []int{401}},
		{method: "GET", path: Prefix + "/people", id: "listPeople", summary: "List the people the caller reaches, by ascending ID", tag: "people",
			params: append([]obj{
				idQuery("org_unit_id", "only people of this org unit"),
				query("name", "substring of the name", obj{"type": "string"}),
				query("id_number", "exact 公民身份号码", obj{"type": "string"}),
			}, paging...),
			status: 200, result: list(reflect.TypeFor[workflow.Person]()), errors: []int{400, 401}},
		{method: "POST", path: Prefix + "/people", id: "createPerson", summary: "Record a staff member", tag: "people",
			descr: "A new record is active (employment omitted or active); birth date and sex come from the 公民身份号码, and nobody under 16 is staff.",
			body:  schema(reflect.TypeFor[workflow.Person]()), status: 201, location: true,
			result: schema(reflect.TypeFor[workflow.Person]()), errors: []int{400, 401, 403, 409, 413, 415}},
		{method: "GET", path: Prefix + "/people/{id}", id: "getPerson", summary: "Read a staff member", tag: "people",
			params: []obj{personPath}, status: 200, result: schema(reflect.TypeFor[workflow.Person]()), errors: []int{400, 401, 404}},
		{method: "PUT", path: Prefix + "/people/{id}", id: "updatePerson", summary: "Change a staff record (version required)", tag: "people",
			descr: "employment is not edited: omit it or send the current value; it changes only through a departure case (离岗, Art. 18). " +
				"Moving someone who holds a certificate to another department is 调离 (Art. 18): refused (400 org_unit_id) until a departure case took it back. " +
				"Taking a holder of a justice-issued certificate off an enforcement post (enforcement_post false) files the Art. 14 change report (转岗), " +
				"which opens the legal office's retention decision.",
			params: []obj{personPath}, body: schema(reflect.TypeFor[workflow.Person]()), status: 200,
			result: schema(reflect.TypeFor[workflow.Person]()), errors: []int{400, 401, 403, 404, 409, 413, 415}},
		{method: "GET", path: Prefix + "/people/{id}/trainings", id: "listTrainings", summary: "List a person's training records", tag: "people",
			params: []obj{personPath}, status: 200, result: list(reflect.TypeFor[workflow.Training]()), errors: []int{400, 401, 404}},
		{method: "POST", path: Prefix + "/people/{id}/trainings", id: "createTraining", summary: "Record a training", tag: "people",
			params: []obj{personPath}, body: schema(reflect.TypeFor[workflow.Training]()), status: 201, location: true,
			result: schema(reflect.TypeFor[workflow.Training]()), errors: []int{400, 401, 403, 404, 413, 415}},
		{method: "GET", path: Prefix + "/people/{id}/trainings/{tid}", id: "getTraining", summary: "Read a training record", tag: "people",
			params: []obj{personPath, idParam("tid", "the training's ID")}, status: 200,
			result: schema(reflect.TypeFor[workflow.Training]()), errors: []int{400, 401, 404}},
		{method: "PUT", path: Prefix + "/people/{id}/trainings/{tid}", id: "updateTraining", summary: "Change a training record (version required)", tag: "people",
			params: []obj{personPath, idParam("tid", "the training's ID")}, body: schema(reflect.TypeFor[workflow.Training]()), status: 200,
			result: schema(reflect.TypeFor[workflow.Training]()), errors: []int{400, 401, 403, 404, 409, 413, 415}},
		{method: "POST", path: Prefix + "/cases", id: "openCase", summary: "Open a case", tag: "cases",
			descr: "Opens a case of a path: about a person (person_id), a certificate (certificate_id; its holder is the case's person), " +
				"or, for a complaint naming no known officer or HR's notice, a department (org_unit_id). A path that needs one of them and lacks it is 400 naming it. " +
				"Only the path's office (the legal office; 自治区 HR for the Ministry certificate) at that department may. " +
				"retention, cancellation and ministry_cancellation cases, and a platform_entry for a receipt, are opened by the transitions that need them, " +
				"never here (400 on path or reason); township_batch is POST /batches. " +
				"A second application of a family for a person while one is in progress is 422 (Art. 4). " +
				"A retry with the same Idempotency-Key returns the first answer and writes nothing.",
			body: schema(reflect.TypeFor[openCaseRequest]()), idempotent: true, status: 201, location: true,
			result: schema(reflect.TypeFor[workflow.CaseView]()), errors: []int{400, 401, 403, 404, 409, 413, 415}},
		{method: "GET", path: Prefix + "/cases/{id}", id: "getCase", summary: "Read a case", tag: "cases",
			params: []obj{idParam("id", "the case's ID")}, status: 200,
			result: schema(reflect.TypeFor[workflow.CaseView]()), errors: []int{400, 401, 404}},
		{method: "POST", path: Prefix + "/cases/{id}/events", id: "fireEvent", summary: "Fire an event on a case", tag: "cases",
			descr: "Runs one event of the case's path: checks the caller's role and scope, the expected version and every guard of " +
				"the regulation, then writes the new state, history, tasks, certificate and documents in one transaction. " +
				"GET /api/v1/workflows lists each path's events. A retry with the same Idempotency-Key returns the first answer and writes nothing.",
			params: []obj{idParam("id", "the case's ID")}, body: schema(reflect.TypeFor[fireRequest]()), idempotent: true, status: 200,
			result: schema(reflect.TypeFor[workflow.CaseView]()), errors: []int{400, 401, 403, 404, 409, 413, 415, 422}},
		{method: "GET", path: Prefix + "/certificates", id: "listCertificates", summary: "List the certificates the caller reaches", tag: "certificates",
			params: append([]obj{
				idQuery("person_id", "only this person's certificates"),
				query("state", "only certificates in this state", schema(reflect.TypeFor[workflow.CertificateState]())),
				query("kind", "only certificates of this kind", schema(reflect.TypeFor[workflow.CertificateKind]())),
				query("number", "exact certificate number", obj{"type": "string"}),
			}, paging...),
			status: 200, result: list(reflect.TypeFor[workflow.Certificate]()), errors: []int{400, 401}},
		{method: "GET", path: Prefix + "/workflows", id: "listWorkflows", summary: "List the paths and their tables", tag: "workflows",
			status: 200, result: list(reflect.TypeFor[workflowPath]()), errors: []int{401}},
		{method: "GET", path: Prefix + "/workflows/{name}", id: "getWorkflow", summary: "Read one path, with its Mermaid state diagram", tag: "workflows",
			params: []obj{{"name": "name", "in": "path", "required": true, "description": "the path's name",
				"schema": schema(reflect.TypeFor[workflow.PathName]())}},
			status: 200, result: schema(reflect.TypeFor[workflowPath]()), errors: []int{401, 404}},
		{method: "GET", path: Prefix + "/inbox", id: "inbox", summary: "The caller's open tasks (待办), filtered and sorted, with badge counts", tag: "inbox",
			descr: "The open tasks of every role the caller holds at a department, and, while a delegation (代理) to the caller runs, those of the delegator " +
				"(on_behalf_of_user_id: pass it when firing). Left out: tasks of cases about the caller (or the delegator), and approvals of what they prepared. " +
				"A task someone holds (claimed or 转交) shows to the others of its role with assignee_user_id: only its holder completes it. " +
				"overdue marks a passed due date; the deadline sweep escalates those to the principal leader (GET /reminders). " +
				"Keyset pages: next_cursor, with the same sort. counts are the badges of the whole inbox, whatever the filters.",
			params: []obj{
				query("path", "only tasks of cases of this path", schema(reflect.TypeFor[workflow.PathName]())),
				query("state", "only tasks of cases in this state", obj{"type": "string"}),
				query("kind", "only tasks of this kind", schema(reflect.TypeFor[workflow.TaskKind]())),
				idQuery("org_unit_id", "only tasks of this department"),
				query("due_before", "only tasks due before this date", obj{"type": "string", "format": "date"}),
				query("overdue", "true: only tasks past their due date (false is refused; leave it out for every task)", obj{"type": "boolean", "const": true}),
				query("claimed", "me: held by the caller (or a delegator); none: nobody holds them; others: someone else does",
					obj{"type": "string", "enum": strs(workflow.ClaimFilters)}),
				query("sort", "due (default; no due date last), priority (urged first, then due), age (oldest first)",
					obj{"type": "string", "enum": strs(workflow.InboxSorts), "default": "due"}),
				query("cursor", "next_cursor of the previous page, with the same sort", obj{"type": "string"}),
				query("limit", fmt.Sprintf("page size, 1 to %d", maxLimit), obj{"type": "integer", "minimum": 1, "maximum": maxLimit, "default": workflow.DefaultInboxLimit}),
			},
			status: 200, result: schema(reflect.TypeFor[workflow.InboxPage]()), errors: []int{400, 401}},
		{method: "POST", path: Prefix + "/tasks/{id}/claim", id: "claimTask", summary: "Claim a group task (认领)", tag: "inbox",
			descr: "The caller (or, with on_behalf_of_user_id, the delegator they stand in for) becomes the task's holder: only they complete it. " +
				"409 when someone else holds it; claiming one's own again changes nothing (event absent). Recorded in the case history as task.claim. " +
				"The body may be left out.",
			params: []obj{idParam("id", "the task's ID")}, body: schema(reflect.TypeFor[workflow.TaskActInput]()), bodyOptional: true, status: 200,
			result: schema(reflect.TypeFor[workflow.TaskActResult]()), errors: []int{400, 401, 403, 404, 409, 413, 415}},
		{method: "POST", path: Prefix + "/tasks/{id}/unclaim", id: "unclaimTask", summary: "Give a held task back to its role", tag: "inbox",
			descr:  "Only its holder may: 409 to the others of its role (held by someone else, or by nobody), 403 to anyone who could not work on it. Recorded as task.unclaim. The body may be left out.",
			params: []obj{idParam("id", "the task's ID")}, body: schema(reflect.TypeFor[workflow.TaskActInput]()), bodyOptional: true, status: 200,
			result: schema(reflect.TypeFor[workflow.TaskActResult]()), errors: []int{400, 401, 403, 404, 409, 413, 415}},
		{method: "POST", path: Prefix + "/tasks/{id}/reassign", id: "reassignTask", summary: "Give a task to a named user (转交), with a reason", tag: "inbox",
			descr: "user_id and comment (the reason) required. The caller must be able to work on the task (its holder, or of its role while nobody holds it); " +
				"the new holder must hold the task's role at its department and have no conflict with the case (not the person it is about, " +
				"not the preparer of what the task approves): else 400 naming user_id (the same answer as for a user who does not exist when they " +
				"lack the role). Recorded as task.reassign.",
			params: []obj{idParam("id", "the task's ID")}, body: schema(reflect.TypeFor[workflow.TaskActInput]()), status: 200,
			result: schema(reflect.TypeFor[workflow.TaskActResult]()), errors: []int{400, 401, 403, 404, 409, 413, 415}},
		{method: "POST", path: Prefix + "/tasks/{id}/remind", id: "remindTask", summary: "Urge a task (催办)", tag: "inbox",
			descr: "Whoever reads the case by their own authority, and is not the person it is about, urges the task's holder (or its role): " +
				"the task becomes urgent (priority 1) and the act is recorded as task.remind. Once per task per 24 hours: sooner is 429 with Retry-After. " +
				"The body may be left out.",
			params: []obj{idParam("id", "the task's ID")}, body: schema(reflect.TypeFor[workflow.TaskActInput]()), bodyOptional: true, status: 200,
			result: schema(reflect.TypeFor[workflow.TaskActResult]()), errors: []int{400, 401, 403, 404, 409, 413, 415, 429}},
		{method: "POST", path: Prefix + "/cases/{id}/copies", id: "copyCase", summary: "Copy a case to users (抄送), who may then read it", tag: "inbox",
			descr: "Someone who may act on the case now copies it to up to 20 users. They may read it and download its documents (GET /cases/{id}, " +
				"its documents, listed in GET /copies) but never act on it. " +
				"A copy reaches only users with a role other than officer at the case's department or a department above it (anyone else is 400, " +
				"as a user who does not exist). Recorded as case.copy; " +
				"users who had it already are skipped and listed in already_copied_user_ids (event absent when all had); naming yourself is 400.",
			params: []obj{idParam("id", "the case's ID")}, body: schema(reflect.TypeFor[workflow.CopyInput]()), status: 200,
			result: schema(reflect.TypeFor[workflow.CopyResult]()), errors: []int{400, 401, 403, 404, 409, 413, 415}},
		{method: "GET", path: Prefix + "/copies", id: "listCopies", summary: "The cases copied to the caller (抄送我的)", tag: "inbox",
			params: paging, status: 200, result: list(reflect.TypeFor[workflow.CopiedCase]()), errors: []int{400, 401}},
		{method: "GET", path: Prefix + "/delegations", id: "listDelegations", summary: "The delegations (代理) the caller gave or received", tag: "inbox",
			params: paging, status: 200, result: list(reflect.TypeFor[workflow.Delegation]()), errors: []int{400, 401}},
		{method: "POST", path: Prefix + "/delegations", id: "createDelegation", summary: "Name a deputy (代理) for a date range", tag: "inbox",
			descr: "From starts_on (default today; not in the past) to ends_on, both included (China dates, at most 366 days), the deputy has the caller's roles: " +
				"the caller's tasks show in the deputy's inbox, and the deputy fires events and acts on tasks with on_behalf_of_user_id, " +
				"recorded as theirs on behalf of the caller. Never on a case about the deputy or the caller, nor an approval of what either prepared. " +
				"The deputy must hold a role at the department of one of the caller's roles or at a department above it (anyone else is 400, " +
				"as a user who does not exist). reason (why the caller is away) is required.",
			body: schema(reflect.TypeFor[workflow.DelegationInput]()), status: 201,
			result: schema(reflect.TypeFor[workflow.Delegation]()), errors: []int{400, 401, 403, 413, 415}},
		{method: "POST", path: Prefix + "/delegations/{id}/revoke", id: "revokeDelegation", summary: "End a delegation now", tag: "inbox",
			descr:  "Its delegator may, and so may its deputy (who declines it: revoked_by says who). The body is ignored (send {}). Revoking again keeps the first revocation.",
			params: []obj{idParam("id", "the delegation's ID")}, body: obj{"type": "object"}, bodyOptional: true, status: 200,
			result: schema(reflect.TypeFor[workflow.Delegation]()), errors: []int{400, 401, 404}},
		{method: "GET", path: Prefix + "/reminders", id: "reminders", summary: "List the unacknowledged reminders of the caller's roles", tag: "cases",
			descr: "Reminders the daily deadline sweep fired, each once: certificate expiry 90 and 30 days ahead (Art. 15, 16) for the legal office " +
				"of the managing department (自治区 HR for Ministry certificates), and overdue tasks escalated to the principal leader of the task's department. " +
				"A reminder is listed to whoever holds its role at its org unit.",
			params: paging, status: 200, result: list(reflect.TypeFor[workflow.Reminder]()), errors: []int{400, 401}},
		{method: "POST", path: Prefix + "/reminders/{id}/acknowledge", id: "acknowledgeReminder", summary: "Mark a reminder read", tag: "cases",
			descr:  "The body is ignored (send {}). Acknowledging again keeps the first acknowledgement.",
			params: []obj{idParam("id", "the reminder's ID")}, body: obj{"type": "object"}, bodyOptional: true, status: 200,
			result: schema(reflect.TypeFor[workflow.Reminder]()), errors: []int{400, 401, 404}},
		{method: "GET", path: Prefix + "/cases", id: "listCases", summary: "List the cases the caller reaches", tag: "cases",
			params: append([]obj{
				idQuery("person_id", "only cases about this person"),
				idQuery("certificate_id", "only cases about this certificate"),
				query("path", "only cases of this path", schema(reflect.TypeFor[workflow.PathName]())),
				query("state", "only cases in this state: one of the path's states, or of any path's when path is left out (an unknown one is a 400)", obj{"type": "string"}),
			}, paging...),
			status: 200, result: list(reflect.TypeFor[workflow.Case]()), errors: []int{400, 401}},
		{method: "GET", path: Prefix + "/cases/{id}/documents", id: "listCaseDocuments", summary: "List a case's documents and their rendering state", tag: "documents",
			params: []obj{idParam("id", "the case's ID")}, status: 200, result: list(reflect.TypeFor[workflow.Document]()), errors: []int{400, 401, 404}},
		{method: "GET", path: Prefix + "/cases/{id}/documents.pdf", id: "mergedCaseDocuments", summary: "Every rendered document of a case as one PDF", tag: "documents",
			params: []obj{idParam("id", "the case's ID")}, status: 200, result: obj{"type": "string", "format": "binary"}, errors: []int{400, 401, 404, 409}},
		{method: "GET", path: Prefix + "/people/{id}/documents", id: "listPersonDocuments", summary: "List the documents of every case about a person", tag: "documents",
			params: []obj{personPath}, status: 200, result: list(reflect.TypeFor[workflow.Document]()), errors: []int{400, 401, 404}},
		{method: "GET", path: Prefix + "/documents/{id}", id: "downloadDocument", summary: "Download a rendered document (PDF, ETag = SHA-256)", tag: "documents",
			descr: "The bytes are checked against the SHA-256 recorded at rendering, in the database or under --documents-dir: missing or changed " +
				"bytes are a 500 of type document-lost naming the document, never a wrong PDF. 409 while the document is pending or failed.",
			params: []obj{idParam("id", "the document's ID")}, status: 200, result: obj{"type": "string", "format": "binary"}, errors: []int{400, 401, 404, 409}},
		{method: "POST", path: Prefix + "/batches", id: "compileBatch", summary: "Compile a township 申领汇总表 (Art. 5): the list and each person's forms, one stored PDF", tag: "documents",
			descr: "A county's legal clerk compiles the applications of its 派出机关 staff (Art. 5) into a case of path township_batch. " +
				"Without case_ids: every application of the county's 派出机关 staff (or of the 派出机关 org_unit_id names) pending the principal " +
				"leader's approval or approved, not yet sent to justice. With case_ids: those applications in that order, each checked the same way " +
				"(422 naming each that does not belong; 404 for one out of the caller's scope); an empty case_ids is a 400. The batch's one document (batch_list, in the answer's " +
				"documents) renders in the background: the summary list followed, person by person, by the stored 登记表 and 执法类别建议审批表, merged " +
				"into one PDF that is kept like every document (immutable, SHA-256) and downloaded with GET /documents/{id}. " +
				"A retry with the same Idempotency-Key returns the first answer and writes nothing.",
			body: schema(reflect.TypeFor[batchRequest]()), idempotent: true, status: 201, location: true,
			result: schema(reflect.TypeFor[workflow.CaseView]()), errors: []int{400, 401, 403, 404, 413, 415, 422}},
		{method: "GET", path: Prefix + "/documents/{id}/preview", id: "previewDocument", summary: "The document's HTML, as Chromium prints it", tag: "documents",
			params: []obj{idParam("id", "the document's ID")}, status: 200, result: obj{"type": "string"}, errors: []int{400, 401, 404}},
		{method: "GET", path: Prefix + "/departure-blockers", id: "departureBlockers", summary: "Who blocks a departure (Art. 18)", tag: "supervision",
			descr: "Every person with an open departure and at least one certificate not returned, in the caller's scope: the reason, since when, " +
				"and each certificate with where it must be returned and its open return task.",
			params: []obj{idQuery("person_id", "ask about one person")},
			status: 200, result: list(reflect.TypeFor[workflow.DepartureBlocker]()), errors: []int{400, 401}},
		{method: "GET", path: Prefix + "/overdue", id: "overdue", summary: "Open tasks past their due date, with counts by org unit and kind", tag: "supervision",
			params: append([]obj{idQuery("org_unit_id", "only this department's tasks")}, paging...),
			status: 200, result: schema(reflect.TypeFor[overdueList]()), errors: []int{400, 401}},
		{method: "GET", path: Prefix + "/exports/platform", id: "platformExport", summary: "The Art. 14 fields of chosen officers, as .xlsx or CSV", tag: "supervision",
			params: []obj{
				{"name": "person_id", "in": "query", "required": true, "description": "repeat for each person", "schema": obj{"type": "array", "items": obj{"type": "integer"}}},
				query("format", "xlsx (default) or csv", obj{"type": "string", "enum": []string{"xlsx", "csv"}}),
			},
			status: 200, result: obj{"type": "string", "format": "binary"}, errors: []int{400, 401, 404}},
	}

	// History rows are path events or acts on tasks (workflow.TaskActs);
	// only the former may be fired, so the EventName enum stays the paths'.
	if ev, ok := s.defs["Event"].(obj); ok {
		acts := append(slices.Clone(te.events), strs(workflow.TaskActs)...)
		ev["properties"].(obj)["event"] = obj{"type": "string", "enum": acts,
			"description": "a path event, or an act on a task: " + strings.Join(strs(workflow.TaskActs), ", ")}
	}

	paths := obj{}
	for _, o := range ops {
		item, _ := paths[o.path].(obj)
		if item == nil {
			item = obj{}
			paths[o.path] = item
		}
		item[strings.ToLower(o.method)] = o.operation()
	}

	responses := obj{}
	for status, r := range problemResponses {
		resp := obj{"description": r.descr, "content": obj{"application/problem+json": obj{"schema": schemaRef("Problem")}}}
		if status == http.StatusUnauthorized {
			resp["headers"] = obj{"WWW-Authenticate": obj{"description": "Bearer", "schema": obj{"type": "string"}}}
		}
		responses[r.name] = resp
	}

	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "certflow API",
			"version": "1",
			"description": "Administrative enforcement certificates under 《自治区应急管理系统行政执法证件管理办法》: people, trainings, " +
				"certificates, and the cases that move them. Errors are RFC 9457 problem+json with a Chinese title.",
		},
		"servers":  []obj{{"url": "/"}},
		"security": []obj{{"bearerAuth": []string{}}, {"cookieAuth": []string{}}},
		"tags": []obj{
			{"name": "directory"}, {"name": "people"}, {"name": "cases"}, {"name": "inbox"}, {"name": "certificates"}, {"name": "workflows"}, {"name": "public"}, {"name": "session"}, {"name": "meta"},
		},
		"paths": paths,
		"components": obj{
			"securitySchemes": obj{"bearerAuth": obj{"type": "http", "scheme": "bearer",
				"description": "An API token (cf_…) issued with `certflow user`."},
				"cookieAuth": obj{"type": "apiKey", "in": "cookie", "name": SessionCookie,
					"description": "The session cookie POST /api/v1/session sets (" + InsecureSessionCookie + " on a plain-HTTP development server). " +
						"A request that changes something must also send the session's CSRF token in X-CSRF-Token."}},
			"schemas": s.defs,
			"parameters": obj{
				"after": query("after", "keyset cursor: the last ID of the previous page (next_after)",
					obj{"type": "integer", "format": "int64", "minimum": 0}),
				"limit": query("limit", fmt.Sprintf("page size, 1 to %d", maxLimit),
					obj{"type": "integer", "minimum": 1, "maximum": maxLimit, "default": defaultLimit}),
				"csrfToken": obj{"name": CSRFHeader, "in": "header", "required": false,
					"description": "The session's CSRF token (csrf_token of POST or GET /api/v1/session): required when the session cookie authenticates the request, not with a bearer token.",
					"schema":      obj{"type": "string"}},
				"idempotencyKey": obj{"name": "Idempotency-Key", "in": "header", "required": false,
					"description": "A key unique to this command (at most 200 characters): a retry with the same key and body returns the first answer and writes nothing; the same key with another body is refused with 400.",
					"schema":      obj{"type": "string", "maxLength": 200}},
			},
			"responses": responses,
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// operation renders o as an OpenAPI operation object.
func (o apiOp) operation() obj {
	op := obj{"operationId": o.id, "summary": o.summary, "tags": []string{o.tag}}
	if o.descr != "" {
		op["description"] = o.descr
	}
	params := slices.Clone(o.params)
	if o.idempotent {
		params = append(params, obj{"$ref": "#/components/parameters/idempotencyKey"})
	}
	if !o.public && o.method != http.MethodGet {
		params = append(params, obj{"$ref": "#/components/parameters/csrfToken"})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if o.body != nil {
		op["requestBody"] = obj{"required": !o.bodyOptional, "content": obj{"application/json": obj{"schema": o.body}}}
	}
	if o.public {
		op["security"] = []obj{}
	}
	ok := obj{"description": http.StatusText(o.status)}
	switch {
	case o.result != nil:
		ok["content"] = obj{"application/json": obj{"schema": o.result}}
	case o.path == "/healthz":
		ok["content"] = obj{"text/plain": obj{"schema": obj{"type": "string", "const": "ok"}}}
	}
	if o.location {
		ok["headers"] = obj{"Location": obj{"description": "the new object's URL", "schema": obj{"type": "string"}}}
	}
	responses := obj{strconv.Itoa(o.status): ok}
	for _, status := range append(slices.Clone(o.errors), http.StatusInternalServerError) {
		responses[strconv.Itoa(status)] = obj{"$ref": "#/components/responses/" + problemResponses[status].name}
	}
	op["responses"] = responses
	return op
}
