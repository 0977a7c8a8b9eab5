package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"certflow/workflow"
)

// inbox lists the caller's open tasks, filtered and sorted, with the
// badges of the whole inbox (workflow.Engine.Inbox).
func (a *api) inbox(w http.ResponseWriter, r *http.Request) {
	var f workflow.InboxFilter
	var err error
	if f.Cursor, err = queryOne(r, "cursor"); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.Path, err = oneOf(r, "path", a.filters.paths); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.State, err = oneOf(r, "state", a.filters.states); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.Kind, err = oneOf(r, "kind", a.filters.kinds); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.Sort, err = oneOf(r, "sort", workflow.InboxSorts); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.Claimed, err = oneOf(r, "claimed", workflow.ClaimFilters); err != nil {
		a.writeError(w, r, err)
		return
	}
	if f.OrgUnitID, err = queryID(r, "org_unit_id"); err != nil {
		a.writeError(w, r, err)
		return
	}
	dueBefore, err := queryOne(r, "due_before")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if s := dueBefore; s != "" {
		if f.DueBefore, err = workflow.ParseDate(s); err != nil {
			a.writeError(w, r, badRequest("due_before", "due_before: %q is not a date YYYY-MM-DD", s))
			return
		}
	}
	overdue, err := queryOne(r, "overdue")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if s := overdue; s != "" {
		// A filter, not a choice of two lists: true keeps the overdue
		// tasks; leaving it out keeps every task.
		if f.Overdue, err = strconv.ParseBool(s); err != nil || !f.Overdue {
			a.writeError(w, r, badRequest("overdue", "overdue: %q: only true filters (the overdue tasks); leave it out for every task", s))
			return
		}
	}
	if f.Limit, err = queryLimit(r, workflow.DefaultInboxLimit); err != nil {
		a.writeError(w, r, err)
		return
	}
	page, err := a.engine.Inbox(r.Context(), actor(r.Context()), f)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, page)
}

// typed converts names to their string type.
func typed[T ~string](names []string) []T {
	out := make([]T, len(names))
	for i, n := range names {
		out[i] = T(n)
	}
	return out
}

// decodeOptionalBody is decodeBody for requests whose body may be left out.
func decodeOptionalBody(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decodeBody(w, r, v)
}

// taskActFunc is one of the engine's acts on a task, as a method expression.
type taskActFunc func(*workflow.Engine, context.Context, *workflow.Actor, int64, workflow.TaskActInput) (workflow.TaskActResult, error)

// taskAct serves POST /tasks/{id}/{act} with act: the body is a
// workflow.TaskActInput, which may be left out when optional.
func (a *api) taskAct(act taskActFunc, optional bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		var in workflow.TaskActInput
		if optional {
			err = decodeOptionalBody(w, r, &in)
		} else {
			err = decodeBody(w, r, &in)
		}
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		res, err := act(a.engine, r.Context(), actor(r.Context()), id, in)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		a.writeJSON(w, r, http.StatusOK, res)
	}
}

// copyCase is 抄送: the case is copied to users who may then read it.
func (a *api) copyCase(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var in workflow.CopyInput
	if err := decodeBody(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	res, err := a.engine.CopyCase(r.Context(), actor(r.Context()), id, in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, res)
}

// listCopies lists the cases copied to the caller (抄送我的).
func (a *api) listCopies(w http.ResponseWriter, r *http.Request) {
	after, limit, err := cursor(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	cs, err := a.engine.Copies(r.Context(), actor(r.Context()), after, limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, newPage(cs, limit, func(c workflow.CopiedCase) int64 { return c.ID }))
}

// createDelegation names a deputy (代理) for a date range.
func (a *api) createDelegation(w http.ResponseWriter, r *http.Request) {
	var in workflow.DelegationInput
	if err := decodeBody(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	d, err := a.engine.CreateDelegation(r.Context(), actor(r.Context()), in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusCreated, d)
}

// listDelegations lists the delegations the caller gave or received.
func (a *api) listDelegations(w http.ResponseWriter, r *http.Request) {
	after, limit, err := cursor(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ds, err := a.engine.Delegations(r.Context(), actor(r.Context()), after, limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, newPage(ds, limit, func(d workflow.Delegation) int64 { return d.ID }))
}

// revokeDelegation ends a delegation; the body is ignored.
func (a *api) revokeDelegation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	d, err := a.engine.RevokeDelegation(r.Context(), actor(r.Context()), id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, d)
}
