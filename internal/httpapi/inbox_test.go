package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"certflow/internal/auth"
	"certflow/internal/store/postgres"
	"certflow/internal/store/sqlite"
	"certflow/internal/store/sqlstore"
	"certflow/internal/store/storetest"
	"certflow/internal/tune"
	"certflow/workflow"
)

const (
	principal2Token = "cf_test_principal2" // principal_leader at 乌鲁木齐
	liaisonToken    = "cf_test_liaison"    // justice_liaison at 乌鲁木齐
)

// userID returns the ID of user name.
func (f *fixture) userID(t *testing.T, name string) int64 {
	t.Helper()
	var id int64
	err := f.engine.Store().View(context.Background(), func(tx workflow.Tx) error {
		a, err := tx.ActorByName(context.Background(), name)
		id = a.UserID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// pendingTask opens and submits an application for person; it returns the
// case and its approval task.
func (f *fixture) pendingTask(t *testing.T, person int64) (workflow.CaseView, workflow.Task) {
	t.Helper()
	c := f.openCase(t, person)
	var v workflow.CaseView
	f.do(t, "POST", "/api/v1/cases/"+itoa(c.ID)+"/events", clerkToken, `{"event":"submit_for_approval","expected_version":1}`).decode(t, http.StatusOK, &v)
	for _, tk := range v.Tasks {
		if tk.Kind == workflow.TaskApprove && tk.Status == workflow.TaskOpen {
			return v, tk
		}
	}
	t.Fatalf("no approval task: %+v", v.Tasks)
	return v, workflow.Task{}
}

func TestInboxAPI(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	for _, u := range []struct {
		name, token string
		role        workflow.Role
	}{{"principal2", principal2Token, workflow.RolePrincipal}, {"liaison", liaisonToken, workflow.RoleJustice}} {
		if _, _, err := auth.AddUser(ctx, f.engine.Store(), u.name, 0, []workflow.RoleBinding{{Role: u.role, OrgUnitID: f.pref}}, u.token, nil); err != nil {
			t.Fatal(err)
		}
	}
	c1, t1 := f.pendingTask(t, f.ready)
	c2, t2 := f.pendingTask(t, f.colleague(t))
	principal, principal2, clerk := f.userID(t, "principal"), f.userID(t, "principal2"), f.userID(t, "clerk")

	t.Run("list, filters, pages, badges", func(t *testing.T) {
		var p workflow.InboxPage
		f.do(t, "GET", "/api/v1/inbox", principalToken, "").decode(t, http.StatusOK, &p)
		if len(p.Items) != 2 || p.Counts.Total != 2 || p.Counts.Unclaimed != 2 || len(p.Counts.ByPath) != 1 || p.NextCursor != "" {
			t.Fatalf("inbox %+v", p)
		}
		if p.Items[0].KindLabel != "审批申领" {
			t.Fatalf("kind_label %q", p.Items[0].KindLabel)
		}
		var page1, page2 workflow.InboxPage
		f.do(t, "GET", "/api/v1/inbox?sort=age&limit=1", principalToken, "").decode(t, http.StatusOK, &page1)
		f.do(t, "GET", "/api/v1/inbox?sort=age&limit=1&cursor="+page1.NextCursor, principalToken, "").decode(t, http.StatusOK, &page2)
		if len(page1.Items) != 1 || len(page2.Items) != 1 || page1.Items[0].ID != t1.ID || page2.Items[0].ID != t2.ID {
			t.Fatalf("pages %+v / %+v", page1.Items, page2.Items)
		}
		var none workflow.InboxPage
		f.do(t, "GET", "/api/v1/inbox?path=departure&overdue=true&claimed=me&due_before=2026-03-01&org_unit_id="+itoa(f.pref), principalToken, "").decode(t, http.StatusOK, &none)
		if len(none.Items) != 0 || none.Counts.Total != 2 {
			t.Fatalf("filtered %+v", none)
		}
		for query, field := range map[string]string{
			"sort=random": "sort", "claimed=maybe": "claimed", "path=nowhere": "path", "due_before=2026-13-01": "due_before",
			"overdue=maybe": "overdue", "limit=0": "limit", "cursor=@@": "cursor", "org_unit_id=x": "org_unit_id",
			"sort=due&cursor=" + page1.NextCursor: "cursor",
			"overdue=false":                       "overdue", "state=nowhere": "state", "kind=bogus": "kind",
			"path=complaint&path=platform_entry": "path",
			// One value each: a repeated parameter is refused, never
			// one of its values taken silently.
			"limit=5&limit=6": "limit", "cursor=a&cursor=b": "cursor", "org_unit_id=1&org_unit_id=2": "org_unit_id",
			"overdue=true&overdue=true": "overdue", "due_before=2026-03-01&due_before=2026-03-02": "due_before",
		} {
			if p := f.do(t, "GET", "/api/v1/inbox?"+query, principalToken, "").problemOf(t, http.StatusBadRequest, "/api/v1/inbox"); p.Field != field {
				t.Errorf("%s: field %q, want %q", query, p.Field, field)
			}
		}
		f.do(t, "GET", "/api/v1/inbox", "", "").problemOf(t, http.StatusUnauthorized, "/api/v1/inbox")
	})

	t.Run("claim, conflict, unclaim", func(t *testing.T) {
		path := "/api/v1/tasks/" + itoa(t1.ID)
		var res workflow.TaskActResult
		f.do(t, "POST", path+"/claim", principalToken, "").decode(t, http.StatusOK, &res)
		if res.Task.AssigneeID != principal || res.Event == nil || res.Event.Event != workflow.ActClaim || res.Event.Seq != c1.Version+1 ||
			res.CaseVersion != c1.Version+1 {
			t.Fatalf("claim %+v", res)
		}
		claimed := res.CaseVersion // what the next event on the case expects
		// Claiming again changes nothing, and says the version as it is.
		res = workflow.TaskActResult{}
		f.do(t, "POST", path+"/claim", principalToken, "").decode(t, http.StatusOK, &res)
		if res.Event != nil || res.CaseVersion != claimed {
			t.Fatalf("claim again %+v, want case_version %d", res, claimed)
		}
		f.do(t, "POST", path+"/claim", principal2Token, `{}`).problemTyped(t, http.StatusConflict, path+"/claim", problemTaskHeld)
		f.do(t, "POST", path+"/unclaim", principal2Token, "").problemTyped(t, http.StatusConflict, path+"/unclaim", problemTaskHeld)
		f.do(t, "POST", path+"/claim", clerkToken, "").problemOf(t, http.StatusForbidden, path+"/claim")
		f.do(t, "POST", path+"/claim", outsiderToken, "").problemOf(t, http.StatusNotFound, path+"/claim")
		f.do(t, "POST", "/api/v1/tasks/999999/claim", principalToken, "").problemOf(t, http.StatusNotFound, "/api/v1/tasks/999999/claim")
		f.do(t, "POST", path+"/claim", principalToken, `{"comment":1}`).problemOf(t, http.StatusBadRequest, path+"/claim")
		var theirs workflow.InboxPage
		f.do(t, "GET", "/api/v1/inbox?claimed=others", principal2Token, "").decode(t, http.StatusOK, &theirs)
		if len(theirs.Items) != 1 || theirs.Items[0].AssigneeName != "principal" || theirs.Counts.ClaimedByOthers != 1 {
			t.Fatalf("principal2 sees %+v", theirs)
		}
		// Completing the task is firing its event; only the holder may,
		// and only the holder is offered it.
		v := f.caseView(t, c1.ID)
		for tok, want := range map[string]bool{principalToken: true, principal2Token: false} {
			var seen workflow.CaseView
			f.do(t, "GET", "/api/v1/cases/"+itoa(c1.ID), tok, "").decode(t, http.StatusOK, &seen)
			if got := slices.ContainsFunc(seen.Allowed, func(a workflow.AllowedEvent) bool { return a.Name == workflow.EvApprove }); got != want {
				t.Errorf("%s is offered approve: %v, want %v (%+v)", tok, got, want, seen.Allowed)
			}
		}
		if v.Version != claimed {
			t.Fatalf("case at version %d after the claim answered %d", v.Version, claimed)
		}
		body := `{"event":"approve","expected_version":` + itoa(v.Version) + `}`
		f.do(t, "POST", "/api/v1/cases/"+itoa(c1.ID)+"/events", principal2Token, body).problemTyped(t, http.StatusConflict, "/api/v1/cases/"+itoa(c1.ID)+"/events", problemTaskHeld)
		res = workflow.TaskActResult{}
		f.do(t, "POST", path+"/unclaim", principalToken, "").decode(t, http.StatusOK, &res)
		if res.Task.AssigneeID != 0 || res.Event.Event != workflow.ActUnclaim {
			t.Fatalf("unclaim %+v", res)
		}
	})

	t.Run("reassign", func(t *testing.T) {
		path := "/api/v1/tasks/" + itoa(t1.ID) + "/reassign"
		if p := f.do(t, "POST", path, principalToken, fmt.Sprintf(`{"user_id":%d,"comment":"出差"}`, clerk)).problemOf(t, http.StatusBadRequest, path); p.Field != "user_id" {
			t.Fatalf("to the clerk: %+v", p)
		}
		if p := f.do(t, "POST", path, principalToken, fmt.Sprintf(`{"user_id":%d}`, principal2)).problemOf(t, http.StatusBadRequest, path); p.Field != "comment" {
			t.Fatalf("without a reason: %+v", p)
		}
		f.do(t, "POST", path, principalToken, "").problemOf(t, http.StatusBadRequest, path)
		var res workflow.TaskActResult
		f.do(t, "POST", path, principalToken, fmt.Sprintf(`{"user_id":%d,"comment":"本人出差"}`, principal2)).decode(t, http.StatusOK, &res)
		if res.Task.AssigneeID != principal2 || res.Event.Comment != "本人出差" {
			t.Fatalf("reassigned %+v", res)
		}
	})

	t.Run("remind, rate limited", func(t *testing.T) {
		path := "/api/v1/tasks/" + itoa(t2.ID) + "/remind"
		var res workflow.TaskActResult
		f.do(t, "POST", path, clerkToken, `{"comment":"请尽快审批"}`).decode(t, http.StatusOK, &res)
		if res.Task.Priority != workflow.PriorityUrgent || res.Event.Event != workflow.ActRemind {
			t.Fatalf("remind %+v", res)
		}
		r := f.do(t, "POST", path, clerkToken, "")
		if p := r.problemOf(t, http.StatusTooManyRequests, path); p.Type != problemRateLimited {
			t.Fatalf("again: %+v", p)
		}
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 86000 || s > 86400 {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
	})

	t.Run("copy: read, never act", func(t *testing.T) {
		path := "/api/v1/cases/" + itoa(c2.ID) + "/copies"
		outsider, liaison := f.userID(t, "outsider"), f.userID(t, "liaison")
		f.do(t, "GET", "/api/v1/cases/"+itoa(c2.ID), liaisonToken, "").problemOf(t, http.StatusNotFound, "/api/v1/cases/"+itoa(c2.ID))
		if p := f.do(t, "POST", path, principalToken, fmt.Sprintf(`{"user_ids":[%d]}`, outsider)).problemOf(t, http.StatusBadRequest, path); p.Field != "user_ids" {
			t.Fatalf("to another city: %+v", p)
		}
		f.do(t, "POST", path, officerToken, fmt.Sprintf(`{"user_ids":[%d]}`, liaison)).problemOf(t, http.StatusNotFound, path)
		own := "/api/v1/cases/" + itoa(c1.ID) + "/copies" // about the officer: read, not copied
		f.do(t, "POST", own, officerToken, fmt.Sprintf(`{"user_ids":[%d]}`, liaison)).problemOf(t, http.StatusForbidden, own)
		var res workflow.CopyResult
		f.do(t, "POST", path, principalToken, fmt.Sprintf(`{"user_ids":[%d],"comment":"请知悉"}`, liaison)).decode(t, http.StatusOK, &res)
		if len(res.UserIDs) != 1 || res.Event == nil {
			t.Fatalf("copy %+v", res)
		}
		var copies page[workflow.CopiedCase]
		f.do(t, "GET", "/api/v1/copies", liaisonToken, "").decode(t, http.StatusOK, &copies)
		if len(copies.Items) != 1 || copies.Items[0].CaseID != c2.ID || copies.Items[0].CopiedByName != "principal" {
			t.Fatalf("copies %+v", copies)
		}
		var v workflow.CaseView
		f.do(t, "GET", "/api/v1/cases/"+itoa(c2.ID), liaisonToken, "").decode(t, http.StatusOK, &v)
		if len(v.Allowed) != 0 {
			t.Fatalf("a copy may %v", v.Allowed)
		}
		// The copy lets them read the case, so they learn why they may not
		// act: 403, not the 404 of a case they could not read.
		p := f.do(t, "POST", "/api/v1/cases/"+itoa(c2.ID)+"/events", liaisonToken, `{"event":"withdraw","expected_version":`+itoa(v.Version)+`,"comment":"x"}`).
			problemOf(t, http.StatusForbidden, "/api/v1/cases/"+itoa(c2.ID)+"/events")
		if !strings.Contains(p.Detail, "抄送") {
			t.Errorf("detail %q does not say the case was copied", p.Detail)
		}
		if got := f.caseView(t, c2.ID); got.Version != v.Version {
			t.Errorf("the refused act moved the case from v%d to v%d", v.Version, got.Version)
		}
		f.do(t, "POST", "/api/v1/cases/"+itoa(c2.ID)+"/events", outsiderToken, `{"event":"withdraw","expected_version":`+itoa(v.Version)+`,"comment":"x"}`).
			problemOf(t, http.StatusNotFound, "/api/v1/cases/"+itoa(c2.ID)+"/events")
	})

	t.Run("delegation", func(t *testing.T) {
		// The clerk prepared every case here, so may approve none, not even
		// as a deputy: the liaison stands in for the principal.
		liaison := f.userID(t, "liaison")
		var d workflow.Delegation
		f.do(t, "POST", "/api/v1/delegations", principalToken, fmt.Sprintf(`{"deputy_user_id":%d,"ends_on":"2026-03-20","reason":"出差"}`, clerk)).
			decode(t, http.StatusCreated, &d)
		var p workflow.InboxPage
		f.do(t, "GET", "/api/v1/inbox", clerkToken, "").decode(t, http.StatusOK, &p)
		if len(p.Items) != 0 {
			t.Fatalf("the preparer, as deputy, is given approvals: %+v", p.Items)
		}
		f.do(t, "POST", "/api/v1/delegations", principalToken, fmt.Sprintf(`{"deputy_user_id":%d,"ends_on":"2026-03-20","reason":"出差"}`, liaison)).
			decode(t, http.StatusCreated, &d)
		if !d.Active || d.StartsOn != workflow.MustDate("2026-03-10") || d.DelegatorID != principal {
			t.Fatalf("delegation %+v", d)
		}
		// The same absence posted again is a duplicate, naming the first.
		dup := f.do(t, "POST", "/api/v1/delegations", principalToken, fmt.Sprintf(`{"deputy_user_id":%d,"ends_on":"2026-03-20","reason":"出差"}`, liaison)).
			problemTyped(t, http.StatusConflict, "/api/v1/delegations", problemDuplicate)
		if !strings.HasPrefix(dup.Detail, "delegation "+itoa(d.ID)+" already names") {
			t.Errorf("duplicate delegation: detail %q", dup.Detail)
		}
		if p := f.do(t, "POST", "/api/v1/delegations", principalToken, `{"deputy_user_id":1,"ends_on":"2026-03-01"}`).problemOf(t, http.StatusBadRequest, "/api/v1/delegations"); p.Field != "ends_on" {
			t.Fatalf("in the past: %+v", p)
		}
		var list page[workflow.Delegation]
		f.do(t, "GET", "/api/v1/delegations", liaisonToken, "").decode(t, http.StatusOK, &list)
		if len(list.Items) != 1 || list.Items[0].ID != d.ID {
			t.Fatalf("the liaison's delegations %+v", list)
		}
		f.do(t, "GET", "/api/v1/inbox", liaisonToken, "").decode(t, http.StatusOK, &p)
		var it *workflow.InboxTask
		for i := range p.Items {
			if p.Items[i].ID == t2.ID {
				it = &p.Items[i]
			}
		}
		if it == nil || it.OnBehalfOf != principal || p.Counts.Delegated == 0 {
			t.Fatalf("the deputy's inbox %+v", p)
		}
		events := "/api/v1/cases/" + itoa(c2.ID) + "/events"
		// The deputy reads the case only through the delegation: acting in
		// their own name is 403, saying whom to name.
		if p := f.do(t, "POST", events, liaisonToken, `{"event":"approve","expected_version":`+itoa(it.CaseVersion)+`}`).problemOf(t, http.StatusForbidden, events); !strings.Contains(p.Detail, "on_behalf_of_user_id") {
			t.Errorf("detail %q does not say how to act for the delegator", p.Detail)
		}
		var v workflow.CaseView
		f.do(t, "POST", events, liaisonToken, fmt.Sprintf(`{"event":"approve","expected_version":%d,"comment":"同意（代）","on_behalf_of_user_id":%d}`, it.CaseVersion, principal)).
			decode(t, http.StatusOK, &v)
		last := v.History[len(v.History)-1]
		if v.State != workflow.AppApproved || last.Actor != liaison || last.OnBehalfOf != principal {
			t.Fatalf("approved on behalf: %s, %+v", v.State, last)
		}
		revoke := "/api/v1/delegations/" + itoa(d.ID) + "/revoke"
		f.do(t, "POST", revoke, outsiderToken, `{}`).problemOf(t, http.StatusNotFound, revoke)
		f.do(t, "POST", revoke, principalToken, `{}`).decode(t, http.StatusOK, &d)
		if d.Active || d.RevokedBy != principal {
			t.Fatalf("revoked %+v", d)
		}
	})
}

// BenchmarkInboxHTTP measures the whole GET /api/v1/inbox — bearer token,
// inbox, JSON — over loopback HTTP on the region data set of
// storetest.NewInboxRegion (1,000,000 tasks, 5,000 users), on both stores:
// one client and 50 clients in a closed loop (each sends its next request
// when the last answer arrived: the latency alone, then the server's
// capacity), and 50 clients at fixed arrival rates from 50 to 2,000
// requests/s (latency measured from when a request was due, so queueing
// is counted): the rate up to which p99 stays within 10 ms.
func BenchmarkInboxHTTP(b *testing.B) {
	tune.GC() // the runtime as certflow serve sets it
	ctx := context.Background()
	stores := []struct {
		name string
		open storetest.Opener
	}{
		{"sqlite", func(tb testing.TB) *sqlstore.Store {
			s, _, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "bench.db"))
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { s.Close() })
			return s
		}},
		{"postgres", postgres.OpenTest},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			rg := storetest.NewInboxRegion(b, st.open, 5000)
			srv := httptest.NewServer(newAPI(rg.Engine, nil).router)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100, MaxConnsPerHost: 100}}
			var tokens []string
			for _, u := range rg.Users {
				tokens = append(tokens, rg.Tokens[u.UserID])
			}
			get := func(i int) error {
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/inbox", nil)
				req.Header.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err == nil && res.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %d", res.StatusCode)
				}
				return err
			}
			const clients = 50
			// Warm the connections and caches: every inbox once, 50 at a time.
			if _, _, err := runLoad(len(tokens), clients, 0, get); err != nil {
				b.Fatal(err)
			}
			b.Run("closed-loop/clients=1", func(b *testing.B) {
				loadHTTP(b, 1, 0, get)
			})
			b.Run("closed-loop/clients=50", func(b *testing.B) {
				loadHTTP(b, clients, 0, get)
			})
			for _, rate := range []int{50, 500, 1000, 2000} {
				b.Run(fmt.Sprintf("open-loop/clients=50/rate=%d", rate), func(b *testing.B) {
					loadHTTP(b, clients, rate, get)
				})
			}
		})
	}
}

// loadHTTP sends b.N requests from clients goroutines (runLoad) and
// reports p50, p99 and requests/s.
func loadHTTP(b *testing.B, clients, rate int, get func(i int) error) {
	b.ResetTimer()
	lat, elapsed, err := runLoad(b.N, clients, rate, get)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	storetest.ReportLatencies(b, lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
}

// runLoad sends n requests from clients goroutines: back to back when rate
// is 0 (a closed loop), else at rate requests per second in all, each
// client on its own schedule, the latency counted from when a request was
// due, so queueing behind a slow answer counts. It returns the latencies
// and the time it took.
func runLoad(n, clients, rate int, get func(i int) error) ([]time.Duration, time.Duration, error) {
	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			due := start.Add(time.Duration(c) * time.Second / time.Duration(max(rate, 1)))
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				if rate > 0 {
					time.Sleep(time.Until(due))
					t0 = due
					due = due.Add(time.Duration(clients) * time.Second / time.Duration(rate))
				}
				if err := get(i); err != nil {
					errs[c] = err
					return
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, elapsed, err
	}
	return all, elapsed, nil
}

// TestSendBackToPreparer: 退回 gives the revise task to whoever prepared
// the application, not to the whole legal office; the others of the office
// see it held by them and may not complete it. A preparer who is gone
// leaves it to the office.
func TestSendBackToPreparer(t *testing.T) {
	t.Parallel()
	for _, st := range testStores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			f := setupOn(t, st.open, Options{})
			ctx := context.Background()
			const clerk2Token = "cf_test_clerk2"
			if _, _, err := auth.AddUser(ctx, f.store, "clerk2", 0, []workflow.RoleBinding{{Role: workflow.RoleLegalClerk, OrgUnitID: f.pref}}, clerk2Token, nil); err != nil {
				t.Fatal(err)
			}
			clerk, clerk2 := f.userID(t, "clerk"), f.userID(t, "clerk2")
			sendBack := func(c workflow.CaseView) (workflow.CaseView, workflow.Task) {
				t.Helper()
				var v workflow.CaseView
				f.do(t, "POST", "/api/v1/cases/"+itoa(c.ID)+"/events", principalToken, `{"event":"send_back","expected_version":`+itoa(c.Version)+`,"comment":"请补充执法区域"}`).
					decode(t, http.StatusOK, &v)
				return v, openTask(t, v, workflow.TaskRevise)
			}

			c, _ := f.pendingTask(t, f.ready) // prepared by the clerk
			c, revise := sendBack(c)
			if revise.AssigneeID != clerk || revise.AssignedAt == nil || revise.Role != workflow.RoleLegalClerk {
				t.Fatalf("revise task %+v: want it held by the preparer %d", revise, clerk)
			}
			var mine, theirs workflow.InboxPage
			f.do(t, "GET", "/api/v1/inbox?claimed=me&kind=revise_application", clerkToken, "").decode(t, http.StatusOK, &mine)
			if len(mine.Items) != 1 || mine.Items[0].ID != revise.ID || !mine.Items[0].ClaimedByMe {
				t.Fatalf("the preparer's inbox %+v", mine.Items)
			}
			f.do(t, "GET", "/api/v1/inbox?kind=revise_application", clerk2Token, "").decode(t, http.StatusOK, &theirs)
			if len(theirs.Items) != 1 || theirs.Items[0].ClaimedByMe || theirs.Items[0].AssigneeName != "clerk" {
				t.Fatalf("the other clerk's inbox %+v", theirs.Items)
			}
			// The other clerk neither takes it nor resubmits nor withdraws.
			claim := "/api/v1/tasks/" + itoa(revise.ID) + "/claim"
			f.do(t, "POST", claim, clerk2Token, "").problemOf(t, http.StatusConflict, claim)
			events := "/api/v1/cases/" + itoa(c.ID) + "/events"
			f.do(t, "POST", events, clerk2Token, `{"event":"submit_for_approval","expected_version":`+itoa(c.Version)+`}`).problemOf(t, http.StatusConflict, events)
			f.do(t, "POST", events, clerk2Token, `{"event":"withdraw","expected_version":`+itoa(c.Version)+`,"comment":"x"}`).problemOf(t, http.StatusForbidden, events) // 撤回 is the preparer's
			// The preparer may pass it on (转交) or resubmit.
			var v workflow.CaseView
			f.do(t, "POST", events, clerkToken, `{"event":"submit_for_approval","expected_version":`+itoa(c.Version)+`}`).decode(t, http.StatusOK, &v)
			if v.State != workflow.AppPendingApproval {
				t.Fatalf("resubmitted: %s", v.State)
			}

			// A preparer gone (disabled) strands nothing: the task goes to the office.
			var c2 workflow.CaseView
			f.do(t, "POST", "/api/v1/cases", clerk2Token, `{"path":"application","person_id":`+itoa(f.colleague(t))+`,"data":{"proposed_categories":["应急管理"]}}`).
				decode(t, http.StatusCreated, &c2)
			f.do(t, "POST", "/api/v1/cases/"+itoa(c2.ID)+"/events", clerk2Token, `{"event":"submit_for_approval","expected_version":1}`).decode(t, http.StatusOK, &c2)
			if err := auth.Disable(ctx, f.store, "clerk2"); err != nil {
				t.Fatal(err)
			}
			c2, revise2 := sendBack(c2)
			if revise2.AssigneeID != 0 {
				t.Fatalf("revise task %+v held by the disabled preparer %d", revise2, clerk2)
			}
			f.do(t, "POST", "/api/v1/cases/"+itoa(c2.ID)+"/events", clerkToken, `{"event":"submit_for_approval","expected_version":`+itoa(c2.Version)+`}`).
				decode(t, http.StatusOK, nil)
		})
	}
}
