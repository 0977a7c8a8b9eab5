package jobs_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"certflow/internal/store/postgres"
	"certflow/internal/store/sqlite"
	"certflow/internal/store/sqlstore"
	"certflow/internal/store/storetest"
	"certflow/workflow"
)

// backend opens a fresh, migrated store with its River queue; it cleans up
// with t.Cleanup. Under CI=true postgres.OpenTestQueue fails instead of
// skipping when the server is unreachable.
type backend struct {
	name string
	open func(t testing.TB) (*sqlstore.Store, *sqlstore.Queue)
}

var backends = []backend{
	{"sqlite", func(t testing.TB) (*sqlstore.Store, *sqlstore.Queue) {
		s, q, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "certflow.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, q
	}},
	{"postgres", postgres.OpenTestQueue},
}

// eachBackend runs fn as a parallel subtest on every backend.
func eachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

// clock is the sweep engine's movable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// SetDay moves the clock to 10:00 China time on d.
func (c *clock) SetDay(d workflow.Date) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = time.Date(d.Year, d.Month, d.Day, 2, 0, 0, 0, time.UTC)
}

// fixture is a demo world (its engine at storetest.Now, for the flows
// that make certificates and tasks) and a second engine on the same store
// whose clock the test moves, for the sweep.
type fixture struct {
	*storetest.World
	Queue *sqlstore.Queue
	Clock *clock
	Sweep *workflow.Engine
	seq   atomic.Int64
}

func setup(t *testing.T, b backend) *fixture {
	t.Helper()
	s, q := b.open(t)
	w := storetest.NewWorld(t, func(testing.TB) *sqlstore.Store { return s })
	c := &clock{now: storetest.Now}
	e, err := workflow.NewEngine(s, workflow.Options{Clock: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{World: w, Queue: q, Clock: c, Sweep: e}
}

// sweep sweeps on day d.
func (f *fixture) sweep(d workflow.Date) workflow.SweepResult {
	f.T.Helper()
	f.Clock.SetDay(d)
	res, err := f.Sweep.SweepDeadlines(f.Ctx)
	if err != nil {
		f.T.Fatalf("sweep on %s: %v", d, err)
	}
	if res.Today != d {
		f.T.Fatalf("sweep counted today as %s, want %s", res.Today, d)
	}
	return res
}

// cast plays an application path: who prepares, approves and issues.
type cast struct {
	path                      workflow.PathName
	person                    string
	office, principal, issuer string
}

var (
	justice  = cast{workflow.PathApplication, "zhangwei", "clerk", "leader", "clerk"}
	ministry = cast{workflow.PathMinistryApplication, "zhoujie", "region-hr", "region-leader", "region-hr"}
)

const categories = `{"proposed_categories":["安全生产监督管理","应急管理"],"region":"天山区行政区域"}`

// certificate gives a fresh applicant a received certificate valid until
// validUntil and returns it.
func (f *fixture) certificate(c cast, validUntil workflow.Date) workflow.Certificate {
	f.T.Helper()
	v := f.Open(c.office, c.path, f.ClonePerson(c.person, nil), categories)
	v = f.MustFire(c.office, v, workflow.EvSubmitForApproval, "", "")
	v = f.MustFire(c.principal, v, workflow.EvApprove, "同意", "")
	v = f.MustFire(c.office, v, workflow.EvSubmitToIssuer, "", `{"submitted_on":"2026-03-09"}`)
	v = f.MustFire(c.issuer, v, workflow.EvIssue, "",
		fmt.Sprintf(`{"number":"DL-%d","issued_on":"2026-03-09","valid_until":"%s"}`, f.seq.Add(1), validUntil))
	v = f.MustFire(c.office, v, workflow.EvRecordReceipt, "", `{"received_on":"2026-03-10"}`)
	return f.cert(v.CertificateID)
}

// cert reads certificate id.
func (f *fixture) cert(id int64) workflow.Certificate {
	f.T.Helper()
	var c workflow.Certificate
	err := f.Store.View(f.Ctx, func(tx workflow.Tx) (err error) {
		c, err = tx.Certificate(f.Ctx, id)
		return err
	})
	if err != nil {
		f.T.Fatal(err)
	}
	return c
}

// openCase opens a case about a certificate as user.
func (f *fixture) openCase(user string, path workflow.PathName, certID int64, data string) workflow.CaseView {
	f.T.Helper()
	v, err := f.Engine.OpenCase(f.Ctx, f.Actor(user), workflow.OpenCaseInput{Path: path, CertificateID: certID, Data: []byte(data)})
	if err != nil {
		f.T.Fatalf("open %s on certificate %d as %s: %v", path, certID, user, err)
	}
	return v
}

// reminders lists every reminder in the store (acknowledged or not),
// straight from the table, by ID.
func (f *fixture) reminders() []workflow.Reminder {
	f.T.Helper()
	rows, err := f.Store.DB().QueryContext(f.Ctx, `SELECT id, kind, org_unit_id, role, COALESCE(case_id, 0), COALESCE(certificate_id, 0),
		COALESCE(task_id, 0), threshold, deadline, remind_on, message FROM reminders ORDER BY id`)
	if err != nil {
		f.T.Fatal(err)
	}
	defer rows.Close()
	var out []workflow.Reminder
	for rows.Next() {
		var r workflow.Reminder
		if err := rows.Scan(&r.ID, &r.Kind, &r.OrgUnitID, &r.Role, &r.CaseID, &r.CertificateID, &r.TaskID,
			&r.Threshold, &r.Deadline, &r.RemindOn, &r.Message); err != nil {
			f.T.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		f.T.Fatal(err)
	}
	return out
}

// expiryOf returns the expiry reminders of certificate id, by threshold.
func (f *fixture) expiryOf(id int64) map[string][]workflow.Reminder {
	f.T.Helper()
	out := map[string][]workflow.Reminder{}
	for _, r := range f.reminders() {
		if r.Kind == workflow.ReminderExpiry && r.CertificateID == id {
			out[r.Threshold] = append(out[r.Threshold], r)
		}
	}
	return out
}

// overdueOf returns the overdue reminders of task id.
func (f *fixture) overdueOf(id int64) []workflow.Reminder {
	f.T.Helper()
	var out []workflow.Reminder
	for _, r := range f.reminders() {
		if r.Kind == workflow.ReminderOverdue && r.TaskID == id {
			out = append(out, r)
		}
	}
	return out
}

// listed returns the reminders user sees, all pages.
func (f *fixture) listed(user string) []workflow.Reminder {
	f.T.Helper()
	var out []workflow.Reminder
	after := int64(0)
	for {
		page, err := f.Sweep.Reminders(f.Ctx, f.Actor(user), after, 2)
		if err != nil {
			f.T.Fatalf("reminders of %s: %v", user, err)
		}
		out = append(out, page...)
		if len(page) < 2 {
			return out
		}
		after = page[len(page)-1].ID
	}
}
