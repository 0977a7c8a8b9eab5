// Package storetest is the conformance suite every workflow.Store runs: the
// application path's full (state, event) matrix, every eligibility
// condition, concurrency, idempotency, scope, and "a refused command writes
// nothing", all through workflow.Engine on a real database.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"certflow/internal/demo"
	"certflow/internal/store/sqlstore"
	"certflow/workflow"
)

// Opener returns a fresh, migrated, empty store with River wired; the
// opener cleans it up with t.Cleanup.
type Opener func(t testing.TB) *sqlstore.Store

// Now is the suite's fixed clock: 2026-03-10 10:00 in Xinjiang's offices
// (China Standard Time).
var Now = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)

// Today is Now's civil date in China.
var Today = workflow.MustDate("2026-03-10")

// World is one test's store, engine and demo data.
type World struct {
	T      testing.TB
	Ctx    context.Context
	Store  *sqlstore.Store
	Engine *workflow.Engine
	Data   *demo.Data
	seq    atomic.Int64
}

// NewWorld opens a store and loads the demo data into it.
func NewWorld(t testing.TB, open Opener) *World {
	t.Helper()
	ctx := context.Background()
	s := open(t)
	e, err := workflow.NewEngine(s, workflow.Options{Clock: func() time.Time { return Now }})
	if err != nil {
		t.Fatal(err)
	}
	d, err := demo.Load(ctx, s, Today)
	if err != nil {
		t.Fatal(err)
	}
	return &World{T: t, Ctx: ctx, Store: s, Engine: e, Data: d}
}

// Actor returns demo user name as an actor.
func (w *World) Actor(name string) *workflow.Actor {
	w.T.Helper()
	a, err := w.Data.Actor(w.Ctx, w.Store, name)
	if err != nil {
		w.T.Fatalf("actor %s: %v", name, err)
	}
	return a
}

// ClonePerson creates a new person like demo person key (same unit,
// trainings and record), with a fresh 公民身份号码, and returns its ID.
// Each matrix cell needs its own applicant: an issued certificate makes
// further applications of the same family fail Art. 4.
func (w *World) ClonePerson(key string, change func(*workflow.Person)) int64 {
	w.T.Helper()
	var id int64
	err := w.Store.Update(w.Ctx, func(tx workflow.Tx) error {
		p, err := tx.Person(w.Ctx, w.Data.People[key])
		if err != nil {
			return err
		}
		trs, err := tx.Trainings(w.Ctx, p.ID)
		if err != nil {
			return err
		}
		// A fresh odd sequence number (male, as the demo people cloned
		// are) on a birth date that moves a day every 400 clones.
		n := w.seq.Add(1)
		p.BirthDate = p.BirthDate.AddDays(int(n / 400))
		first17 := fmt.Sprintf("%s%04d%02d%02d%03d", string(p.IDNumber[:6]), p.BirthDate.Year, p.BirthDate.Month, p.BirthDate.Day, 100+2*(n%400)+1)
		p.IDNumber = workflow.IDNumber(first17 + string(workflow.IDCheckChar(first17)))
		p.Sex = p.IDNumber.Sex()
		p.Name = fmt.Sprintf("%s%d", p.Name, n)
		if change != nil {
			change(&p)
		}
		if err := tx.CreatePerson(w.Ctx, &p); err != nil {
			return err
		}
		for _, tr := range trs {
			tr.PersonID = p.ID
			if err := tx.CreateTraining(w.Ctx, &tr); err != nil {
				return err
			}
		}
		id = p.ID
		return nil
	})
	if err != nil {
		w.T.Fatal(err)
	}
	return id
}

// Open opens a case as user; it fails the test on error.
func (w *World) Open(user string, path workflow.PathName, personID int64, data string) workflow.CaseView {
	w.T.Helper()
	v, err := w.Engine.OpenCase(w.Ctx, w.Actor(user), workflow.OpenCaseInput{Path: path, PersonID: personID, Data: raw(data)})
	if err != nil {
		w.T.Fatalf("open %s for person %d as %s: %v", path, personID, user, err)
	}
	return v
}

// Fire fires ev on c as user at c's current version and returns the case
// as user then sees it.
func (w *World) Fire(user string, c workflow.CaseView, ev workflow.EventName, comment, data string) (workflow.CaseView, error) {
	actor := w.Actor(user)
	res, err := w.Engine.Fire(w.Ctx, workflow.Command{
		Actor: actor, CaseID: c.ID, Event: ev, ExpectedVersion: c.Version, Comment: comment, Input: raw(data),
	})
	if err != nil {
		return workflow.CaseView{}, err
	}
	v, err := w.Engine.CaseView(w.Ctx, actor, c.ID)
	if err == nil && (v.Version != res.Case.Version || v.State != res.Case.State) {
		w.T.Fatalf("Fire said %s v%d, the case is %s v%d", res.Case.State, res.Case.Version, v.State, v.Version)
	}
	return v, err
}

// MustFire is Fire that fails the test on error.
func (w *World) MustFire(user string, c workflow.CaseView, ev workflow.EventName, comment, data string) workflow.CaseView {
	w.T.Helper()
	v, err := w.Fire(user, c, ev, comment, data)
	if err != nil {
		w.T.Fatalf("%s on case %d (%s) as %s: %v", ev, c.ID, c.State, user, err)
	}
	return v
}

func raw(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// Counts returns the number of rows of every table a command may write.
func (w *World) Counts() map[string]int {
	w.T.Helper()
	out := map[string]int{}
	for _, table := range []string{"cases", "events", "tasks", "documents", "certificates", "idempotency", "people", "trainings", "river_job", "delegations", "case_watchers"} {
		var n int
		if err := w.Store.DB().QueryRowContext(w.Ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			w.T.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// countingStore counts the write transactions an engine on it opens.
type countingStore struct {
	workflow.Store
	updates atomic.Int64
}

func (s *countingStore) Update(ctx context.Context, fn func(workflow.Tx) error) error {
	s.updates.Add(1)
	return s.Store.Update(ctx, fn)
}

// Run runs the whole suite against stores from open.
func Run(t *testing.T, open Opener) {
	t.Run("ApplicationMatrix", func(t *testing.T) { testApplicationMatrix(t, open) })
	t.Run("PathMatrix", func(t *testing.T) { testPathMatrix(t, open) })
	t.Run("Eligibility", func(t *testing.T) { testEligibility(t, open) })
	t.Run("HappyPath", func(t *testing.T) { testHappyPath(t, open) })
	t.Run("ConcurrentApproval", func(t *testing.T) { testConcurrentApproval(t, open) })
	t.Run("RefusedWritesNothing", func(t *testing.T) { testRefusedWritesNothing(t, open) })
	t.Run("ApplyVersionChecks", func(t *testing.T) { testApplyVersionChecks(t, open) })
	t.Run("FireContext", func(t *testing.T) { testFireContext(t, open) })
	t.Run("TransactionEdges", func(t *testing.T) { testTransactionEdges(t, open) })
	t.Run("MissingRows", func(t *testing.T) { testMissingRows(t, open) })
	t.Run("CanceledCommands", func(t *testing.T) { testCanceledCommands(t, open) })
	t.Run("Idempotency", func(t *testing.T) { testIdempotency(t, open) })
	t.Run("Access", func(t *testing.T) { testAccess(t, open) })
	t.Run("Directory", func(t *testing.T) { testDirectory(t, open) })
	t.Run("Platform", func(t *testing.T) { testPlatform(t, open) })
	t.Run("Suspension", func(t *testing.T) { testSuspension(t, open) })
	t.Run("Departure", func(t *testing.T) { testDeparture(t, open) })
	t.Run("Supervision", func(t *testing.T) { testSupervision(t, open) })
	t.Run("Loss", func(t *testing.T) { testLoss(t, open) })
	t.Run("Complaint", func(t *testing.T) { testComplaint(t, open) })
	t.Run("Inbox", func(t *testing.T) { testInbox(t, open) })
	t.Run("Withdraw", func(t *testing.T) { testWithdraw(t, open) })
	t.Run("Validity", func(t *testing.T) { testValidity(t, open) })
	t.Run("Deadlines", func(t *testing.T) { testDeadlines(t, open) })
	t.Run("Scenario", func(t *testing.T) { testScenario(t, open) })
	t.Run("Validation", func(t *testing.T) { testValidation(t, open) })
}
