package httpapi

import (
	"net/http"
	"testing"

	"certflow/workflow"
)

// TestReminders: an expiry reminder fired by the sweep is listed to the
// legal office of the certificate's department only, and acknowledged by
// it; another region's clerk gets 404.
func TestReminders(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.openCase(t, f.ready)
	path := "/api/v1/cases/" + itoa(c.ID) + "/events"
	for i, s := range []struct{ token, body string }{
		{clerkToken, `{"event":"submit_for_approval","expected_version":1}`},
		{principalToken, `{"event":"approve","expected_version":2}`},
		{clerkToken, `{"event":"submit_to_issuer","expected_version":3,"data":{"submitted_on":"2026-03-09"}}`},
		{clerkToken, `{"event":"issue","expected_version":4,"data":{"number":"新应执 650100-0090","valid_until":"2026-06-08"}}`},
		{clerkToken, `{"event":"record_receipt","expected_version":5}`},
	} {
		if r := f.do(t, "POST", path, s.token, s.body); r.status != http.StatusOK {
			t.Fatalf("step %d: %d %s", i, r.status, r.body)
		}
	}
	res, err := f.engine.SweepDeadlines(t.Context())
	if err != nil || res.Expiry != 1 {
		t.Fatalf("sweep: %+v %v", res, err)
	}
	type list struct {
		Items     []workflow.Reminder `json:"items"`
		NextAfter int64               `json:"next_after"`
	}
	var mine, theirs list
	f.do(t, "GET", "/api/v1/reminders", clerkToken, "").decode(t, http.StatusOK, &mine)
	if len(mine.Items) != 1 || mine.Items[0].Kind != workflow.ReminderExpiry || mine.Items[0].Threshold != "90d" {
		t.Fatalf("clerk's reminders %+v", mine.Items)
	}
	f.do(t, "GET", "/api/v1/reminders", outsiderToken, "").decode(t, http.StatusOK, &theirs)
	if len(theirs.Items) != 0 {
		t.Fatalf("outsider's reminders %+v", theirs.Items)
	}
	ack := "/api/v1/reminders/" + itoa(mine.Items[0].ID) + "/acknowledge"
	f.do(t, "POST", ack, outsiderToken, "").problemOf(t, http.StatusNotFound, ack)
	f.do(t, "POST", "/api/v1/reminders/x/acknowledge", clerkToken, "").problemOf(t, http.StatusBadRequest, "/api/v1/reminders/x/acknowledge")
	var got workflow.Reminder
	f.do(t, "POST", ack, clerkToken, "").decode(t, http.StatusOK, &got)
	if got.AcknowledgedAt == nil || !got.AcknowledgedAt.Equal(testNow) {
		t.Fatalf("acknowledged %+v", got)
	}
	mine = list{}
	f.do(t, "GET", "/api/v1/reminders", clerkToken, "").decode(t, http.StatusOK, &mine)
	if len(mine.Items) != 0 {
		t.Fatalf("after acknowledging: %+v", mine.Items)
	}
}
