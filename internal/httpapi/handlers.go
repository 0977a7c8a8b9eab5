package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"certflow/workflow"
)

// Lists page by keyset: after is the last ID seen, limit at most maxLimit.
const (
	defaultLimit = 100
	maxLimit     = 500
)

// page is the envelope of every list: NextAfter is the cursor for the next
// page, present only when this page is full.
type page[T any] struct {
	Items     []T    `json:"items"`
	NextAfter *int64 `json:"next_after,omitempty"`
}

// newPage wraps items; when there may be more (a full page), next_after is
// the ID of the last one.
func newPage[T any](items []T, limit int, id func(T) int64) page[T] {
	if items == nil {
		items = []T{}
	}
	p := page[T]{Items: items}
	if limit > 0 && len(items) >= limit {
		last := id(items[len(items)-1])
		p.NextAfter = &last
	}
	return p
}

// pathID parses the URL parameter name as a positive ID.
func pathID(r *http.Request, name string) (int64, error) {
	s := chi.URLParam(r, name)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, badRequest(name, "%s: %q is not an ID (a positive integer)", name, s)
	}
	return id, nil
}

// queryID parses the optional query parameter name as a positive ID (0 when
// absent).
func queryID(r *http.Request, name string) (int64, error) {
	s, err := queryOne(r, name)
	if s == "" || err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, badRequest(name, "%s: %q is not an ID (a positive integer)", name, s)
	}
	return id, nil
}

// queryAll is every value of the query parameter name. A query string
// that does not parse (a bad %-escape) is a 400, not parameters dropped
// silently; so is a value that is not UTF-8 or holds a control or
// invisible character (checkText).
func queryAll(r *http.Request, name string) ([]string, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("", "malformed query string: %v", err)
	}
	for _, v := range q[name] {
		if !utf8.ValidString(v) {
			return nil, badRequest(name, "%s: not valid UTF-8", name)
		}
		if bad := badRune(v); bad >= 0 {
			return nil, badRequest(name, "%s: holds %U, a control character", name, bad)
		}
	}
	return q[name], nil
}

// queryOne is the query parameter name, "" when absent; given more than
// once it is a 400, never one of the values picked silently.
func queryOne(r *http.Request, name string) (string, error) {
	vs, err := queryAll(r, name)
	if err != nil {
		return "", err
	}
	if len(vs) > 1 {
		return "", badRequest(name, "%s: given %d times; it takes one value", name, len(vs))
	}
	if len(vs) == 0 {
		return "", nil
	}
	return vs[0], nil
}

// queryLimit parses the optional page size, def when absent.
func queryLimit(r *http.Request, def int) (int, error) {
	s, err := queryOne(r, "limit")
	if s == "" || err != nil {
		return def, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badRequest("limit", "limit: %q is not a number from 1 to %d", s, maxLimit)
	}
	return n, nil
}

// cursor parses the after and limit query parameters.
func cursor(r *http.Request) (after int64, limit int, err error) {
	s, err := queryOne(r, "after")
	if err != nil {
		return 0, 0, err
	}
	if s != "" {
		after, err = strconv.ParseInt(s, 10, 64)
		if err != nil || after < 0 {
			return 0, 0, badRequest("after", "after: %q is not an ID", s)
		}
	}
	if limit, err = queryLimit(r, defaultLimit); err != nil {
		return 0, 0, err
	}
	return after, limit, nil
}

// oneOf checks the optional query parameter name against the allowed values.
func oneOf[T ~string](r *http.Request, name string, allowed []T) (T, error) {
	s, err := queryOne(r, name)
	if err != nil {
		return "", err
	}
	v := T(s)
	if v == "" || slices.Contains(allowed, v) {
		return v, nil
	}
	return "", badRequest(name, "%s: unknown value %q (one of %v)", name, v, allowed)
}

func (a *api) listOrgUnits(w http.ResponseWriter, r *http.Request) {
	units, err := a.engine.OrgUnits(r.Context(), actor(r.Context()))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, newPage(units, 0, nil))
}

func personID(p workflow.Person) int64 { return p.ID }

func (a *api) listPeople(w http.ResponseWriter, r *http.Request) {
	var f workflow.PersonFilter
	var err error
	if f.Name, err = queryOne(r, "name"); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.IDNumber, err = queryOne(r, "id_number"); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.OrgUnitID, err = queryID(r, "org_unit_id"); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.After, f.Limit, err = cursor(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	people, err := a.engine.People(r.Context(), actor(r.Context()), f)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, newPage(people, f.Limit, personID))
}

func (a *api) createPerson(w http.ResponseWriter, r *http.Request) {
	var p workflow.Person
	if err := decodeBody(w, r, &p); err != nil {
		a.writeError(w, r, err)
		return
	}
	p, err := a.engine.CreatePerson(r.Context(), actor(r.Context()), p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", Prefix+"/people/"+strconv.FormatInt(p.ID, 10))
	a.writeJSON(w, r, http.StatusCreated, p)
}

func (a *api) getPerson(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	p, err := a.engine.Person(r.Context(), actor(r.Context()), id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, p)
}

func (a *api) updatePerson(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var p workflow.Person
	if err := decodeBody(w, r, &p); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := sameID("id", p.ID, id); err != nil {
		a.writeError(w, r, err)
		return
	}
	if p.Version < 1 {
		a.writeError(w, r, badRequest("version", "version: required, the version you read (optimistic locking)"))
		return
	}
	p.ID = id
	p, err = a.engine.UpdatePerson(r.Context(), actor(r.Context()), p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, p)
}

// sameID refuses a body whose field names another object than the URL.
func sameID(field string, body, url int64) error {
	if body != 0 && body != url {
		return badRequest(field, "%s: the body says %d, the URL %d", field, body, url)
	}
	return nil
}

func (a *api) listTrainings(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ts, err := a.engine.Trainings(r.Context(), actor(r.Context()), id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, newPage(ts, 0, nil))
}

func (a *api) getTraining(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	tid, err := pathID(r, "tid")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ts, err := a.engine.Trainings(r.Context(), actor(r.Context()), id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	i := slices.IndexFunc(ts, func(t workflow.Training) bool { return t.ID == tid })
	if i < 0 {
		a.writeError(w, r, fmt.Errorf("training %d: %w", tid, workflow.ErrNotFound))
		return
	}
	a.writeJSON(w, r, http.StatusOK, ts[i])
}

func (a *api) createTraining(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var t workflow.Training
	if err := decodeBody(w, r, &t); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := sameID("person_id", t.PersonID, id); err != nil {
		a.writeError(w, r, err)
		return
	}
	t.ID, t.PersonID, t.Version = 0, id, 0
	t, err = a.engine.SaveTraining(r.Context(), actor(r.Context()), t)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", Prefix+"/people/"+strconv.FormatInt(id, 10)+"/trainings/"+strconv.FormatInt(t.ID, 10))
	a.writeJSON(w, r, http.StatusCreated, t)
}

func (a *api) updateTraining(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	tid, err := pathID(r, "tid")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var t workflow.Training
	if err := decodeBody(w, r, &t); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := sameID("person_id", t.PersonID, id); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := sameID("id", t.ID, tid); err != nil {
		a.writeError(w, r, err)
		return
	}
	if t.Version < 1 {
		a.writeError(w, r, badRequest("version", "version: required, the version you read (optimistic locking)"))
		return
	}
	t.ID, t.PersonID = tid, id
	t, err = a.engine.SaveTraining(r.Context(), actor(r.Context()), t)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, t)
}

// openCaseRequest is the body of POST /cases.
type openCaseRequest struct {
	Path workflow.PathName `json:"path" openapi:"required"`
	// PersonID is whom the case is about: required by the paths about a
	// person (application, departure, platform entry, retention).
	PersonID int64 `json:"person_id,omitempty"`
	// CertificateID is the certificate the case is about: required by the
	// paths about a certificate (suspension, loss, cancellation); its
	// holder is the case's person.
	CertificateID int64 `json:"certificate_id,omitempty"`
	// OrgUnitID is the department of a case about nobody known yet: a
	// complaint naming no known officer, HR's notice.
	OrgUnitID int64 `json:"org_unit_id,omitempty"`
	// Data is the input of the path's open event: for an application the
	// proposed categories (workflow.ApplicationInput), for a complaint the
	// complaint as received (workflow.ComplaintInput), for a suspension the
	// Art. 17 ground and facts (workflow.SuspensionData).
	Data    json.RawMessage `json:"data,omitempty"`
	Comment string          `json:"comment,omitempty"`
}

func (a *api) openCase(w http.ResponseWriter, r *http.Request) {
	var req openCaseRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	view, err := a.engine.OpenCase(r.Context(), actor(r.Context()), workflow.OpenCaseInput{
		Path: req.Path, PersonID: req.PersonID, CertificateID: req.CertificateID, OrgUnitID: req.OrgUnitID,
		Data: req.Data, Comment: req.Comment, IdempotencyKey: r.Header.Get("Idempotency-Key"),
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", Prefix+"/cases/"+strconv.FormatInt(view.ID, 10))
	a.writeJSON(w, r, http.StatusCreated, view)
}

func (a *api) getCase(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	view, err := a.engine.CaseView(r.Context(), actor(r.Context()), id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, view)
}

// fireRequest is the body of POST /cases/{id}/events.
type fireRequest struct {
	Event workflow.EventName `json:"event" openapi:"required"`
	// ExpectedVersion is the case version the caller read; a pointer, so a
	// missing one is told from zero.
	ExpectedVersion *int64          `json:"expected_version" openapi:"required,minimum=1"`
	Comment         string          `json:"comment,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
	// OnBehalfOf: a deputy (代理) fires the event for this delegator.
	OnBehalfOf int64 `json:"on_behalf_of_user_id,omitempty"`
}

func (a *api) fireEvent(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var req fireRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	switch {
	case req.Event == "":
		err = badRequest("event", "event: required")
	case req.ExpectedVersion == nil:
		err = badRequest("expected_version", "expected_version: required, the case version you read")
	case *req.ExpectedVersion < 1:
		err = badRequest("expected_version", "expected_version: must be at least 1")
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	res, err := a.engine.Fire(r.Context(), workflow.Command{
		Actor: actor(r.Context()), OnBehalfOf: req.OnBehalfOf, CaseID: id, Event: req.Event, ExpectedVersion: *req.ExpectedVersion,
		Comment: req.Comment, Input: req.Data, IdempotencyKey: r.Header.Get("Idempotency-Key"),
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	// The answer is the case as it stands after the command; a replayed
	// retry says so, and its event is the first attempt's.
	view, err := a.engine.CaseView(r.Context(), actor(r.Context()), id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Certflow-Event-Id", strconv.FormatInt(res.Event.ID, 10))
	a.writeJSON(w, r, http.StatusOK, view)
}

func certificateID(c workflow.Certificate) int64 { return c.ID }

func (a *api) listCertificates(w http.ResponseWriter, r *http.Request) {
	var f workflow.CertificateFilter
	var err error
	if f.Number, err = queryOne(r, "number"); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.PersonID, err = queryID(r, "person_id"); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.State, err = oneOf(r, "state", certificateStates); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.Kind, err = oneOf(r, "kind", certificateKinds); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.After, f.Limit, err = cursor(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	certs, err := a.engine.Certificates(r.Context(), actor(r.Context()), f)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, newPage(certs, f.Limit, certificateID))
}

// workflowPath is a path's table as the API shows it: enough for a UI to
// draw the diagram and explain each button.
type workflowPath struct {
	Name    workflow.PathName `json:"name" openapi:"required"`
	Title   string            `json:"title" openapi:"required"`
	Initial workflow.State    `json:"initial" openapi:"required"`
	States  []workflowState   `json:"states" openapi:"required"`
	Events  []workflowEvent   `json:"events" openapi:"required"`
	// Mermaid is the state diagram, in GET /workflows/{name} only.
	Mermaid string `json:"mermaid,omitempty"`
}

// workflowState is one state of a path.
type workflowState struct {
	Name  workflow.State `json:"name" openapi:"required"`
	Label string         `json:"label" openapi:"required"`
	Final bool           `json:"final" openapi:"required"`
}

// workflowEvent is one row of a path's table.
type workflowEvent struct {
	Name  workflow.EventName `json:"name" openapi:"required"`
	Label string             `json:"label" openapi:"required"`
	From  []workflow.State   `json:"from" openapi:"required"`
	To    workflow.State     `json:"to" openapi:"required"`
	// Actors is empty for an event certflow fires itself (Follows).
	Actors []workflow.Role `json:"actors" openapi:"required"`
	// Follows says what, done to the case's certificate by another case,
	// makes certflow fire the event; absent for events fired by hand.
	Follows         workflow.Follow `json:"follows,omitempty"`
	NotByPreparer   bool            `json:"not_by_preparer"`
	ByPreparer      bool            `json:"by_preparer"`
	CommentRequired bool            `json:"comment_required"`
	// GuardArticles are the articles the event's guards cite, in table
	// order, without repeats.
	GuardArticles []string            `json:"guard_articles" openapi:"required"`
	Docs          []workflowDoc       `json:"docs" openapi:"required"`
	Opens         []workflowTask      `json:"opens" openapi:"required"`
	Closes        []workflow.TaskKind `json:"closes" openapi:"required"`
}

// workflowDoc is a document an event produces.
type workflowDoc struct {
	Kind    workflow.DocKind `json:"kind" openapi:"required"`
	Article string           `json:"article" openapi:"required"`
}

// workflowTask is a task an event opens.
type workflowTask struct {
	Kind workflow.TaskKind `json:"kind" openapi:"required"`
	Role workflow.Role     `json:"role" openapi:"required"`
}

// describePath turns a path's table into its API form.
func describePath(p *workflow.Path) workflowPath {
	out := workflowPath{Name: p.Name, Title: p.Title, Initial: p.Initial,
		States: make([]workflowState, len(p.States)), Events: make([]workflowEvent, len(p.Events))}
	for i, s := range p.States {
		out.States[i] = workflowState{s.Name, s.Label, s.Final}
	}
	for i := range p.Events {
		e := &p.Events[i]
		ev := workflowEvent{Name: e.Name, Label: e.Label, From: slices.Clone(e.From), To: e.To, Actors: append([]workflow.Role{}, e.Actors...),
			Follows: e.Follows, NotByPreparer: e.NotByPreparer, ByPreparer: e.ByPreparer, CommentRequired: e.CommentRequired,
			GuardArticles: []string{}, Docs: []workflowDoc{}, Opens: []workflowTask{}, Closes: slices.Concat(e.Closes, e.Discards)}
		for _, g := range e.Guards {
			if !slices.Contains(ev.GuardArticles, g.Article) {
				ev.GuardArticles = append(ev.GuardArticles, g.Article)
			}
		}
		for _, d := range e.Docs {
			ev.Docs = append(ev.Docs, workflowDoc{d.Kind, d.Article})
		}
		for _, t := range e.Opens {
			ev.Opens = append(ev.Opens, workflowTask{t.Kind, t.Role})
		}
		if ev.Closes == nil {
			ev.Closes = []workflow.TaskKind{}
		}
		out.Events[i] = ev
	}
	return out
}

func (a *api) listWorkflows(w http.ResponseWriter, r *http.Request) {
	paths := a.engine.Paths()
	out := make([]workflowPath, len(paths))
	for i, p := range paths {
		out[i] = describePath(p)
	}
	a.writeJSON(w, r, http.StatusOK, newPage(out, 0, nil))
}

func (a *api) getWorkflow(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	p, ok := a.engine.Path(workflow.PathName(name))
	if !ok {
		a.writeError(w, r, fmt.Errorf("workflow %q: %w", name, workflow.ErrNotFound))
		return
	}
	out := describePath(p)
	out.Mermaid = p.Mermaid()
	a.writeJSON(w, r, http.StatusOK, out)
}
