package httpapi

import (
	"net/http"

	"certflow/workflow"
)

func reminderID(r workflow.Reminder) int64 { return r.ID }

// reminders lists the caller's unacknowledged reminders: certificate
// expiry for the office that manages the certificate, overdue tasks for
// the principal leader (workflow.Engine.SweepDeadlines fires them).
func (a *api) reminders(w http.ResponseWriter, r *http.Request) {
	after, limit, err := cursor(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	rs, err := a.engine.Reminders(r.Context(), actor(r.Context()), after, limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, newPage(rs, limit, reminderID))
}

// acknowledgeReminder marks one reminder read; a reminder the caller does
// not see is 404.
func (a *api) acknowledgeReminder(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	rem, err := a.engine.AcknowledgeReminder(r.Context(), actor(r.Context()), id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, rem)
}
