package httpapi

import (
	"net/http"
	"strconv"

	"certflow/workflow"
)

// batchRequest is the body of POST /batches.
type batchRequest struct {
	// OrgUnitID is the county department, or one of its 派出机关 to limit
	// the batch to its staff; left out: the one county department where
	// the caller is a legal clerk.
	OrgUnitID int64 `json:"org_unit_id,omitempty"`
	// CaseIDs names the applications, in list order; left out: every
	// application of the county's 派出机关 staff pending approval or
	// approved. An empty list is refused (400).
	CaseIDs []int64 `json:"case_ids,omitempty"`
	Comment string  `json:"comment,omitempty"`
}

// compileBatch compiles a township 申领汇总 (Art. 5): a case of its own whose
// one document is the summary list with each person's forms, rendered in
// the background and downloaded from /documents/{id} like any other.
func (a *api) compileBatch(w http.ResponseWriter, r *http.Request) {
	var req batchRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	view, err := a.engine.CompileBatch(r.Context(), actor(r.Context()), workflow.BatchInput{
		OrgUnitID: req.OrgUnitID, CaseIDs: req.CaseIDs, Comment: req.Comment, IdempotencyKey: r.Header.Get("Idempotency-Key"),
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", Prefix+"/cases/"+strconv.FormatInt(view.ID, 10))
	a.writeJSON(w, r, http.StatusCreated, view)
}
