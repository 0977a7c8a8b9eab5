package jobs_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"certflow/internal/jobs"
	"certflow/internal/store/storetest"
	"certflow/workflow"
)

// startClient starts a working River client on f's queue with the sweep
// engine, and stops it before the store closes.
func startClient(t *testing.T, f *fixture) (*river.Client[*sql.Tx], <-chan *river.Event) {
	t.Helper()
	client, err := f.Queue.Work(jobs.Config(f.Sweep, jobs.Options{Logger: slog.New(slog.DiscardHandler)}))
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
		defer stop()
		if err := client.Stop(ctx); err != nil {
			t.Errorf("stop River: %v", err)
		}
		cancel()
	})
	return client, events
}

// waitSweep waits for the next deadlines job to finish and fails on a
// failed one.
func waitSweep(t *testing.T, events <-chan *river.Event) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Job.Kind != (jobs.DeadlinesArgs{}).Kind() {
				continue
			}
			if ev.Kind != river.EventKindJobCompleted {
				t.Fatalf("deadlines job %d %s: %v", ev.Job.ID, ev.Kind, ev.Job.Errors)
			}
			return
		case <-timeout:
			t.Fatal("no deadlines job completed within 30s")
		}
	}
}

// TestPeriodicJobThroughRiver: a started client runs the periodic sweep at
// once (RunOnStart) with the engine's fake clock; a sweep job inserted on
// a later (fake) day fires that day's threshold, and nothing twice.
func TestPeriodicJobThroughRiver(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		f := setup(t, b)
		until := storetest.Today.AddDays(90)
		c := f.certificate(justice, until)
		m := f.certificate(ministry, until)
		client, events := startClient(t, f)

		waitSweep(t, events)
		for _, id := range []int64{c.ID, m.ID} {
			if rs := f.expiryOf(id); len(rs) != 1 || len(rs["90d"]) != 1 {
				t.Fatalf("after the start-up sweep, certificate %d: %v", id, rs)
			}
		}

		f.Clock.SetDay(until.AddDays(-30))
		for range 2 {
			if _, err := client.Insert(f.Ctx, jobs.DeadlinesArgs{}, nil); err != nil {
				t.Fatal(err)
			}
			waitSweep(t, events)
		}
		for _, id := range []int64{c.ID, m.ID} {
			if rs := f.expiryOf(id); len(rs) != 2 || len(rs["90d"]) != 1 || len(rs["30d"]) != 1 {
				t.Fatalf("after the day-30 sweeps, certificate %d: %v", id, rs)
			}
		}
		var n int
		if err := f.Store.DB().QueryRowContext(f.Ctx, `SELECT count(*) FROM river_job WHERE kind = 'deadlines' AND state = 'completed'`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("%d completed deadlines jobs (%v), want 3", n, err)
		}
	})
}

// TestRiverAlongsideTransactions: with River started on the store's own
// database (on SQLite: its one connection), engine commands that enqueue
// document jobs in their transactions and sweeps run side by side, and
// everything finishes. The document jobs are inserted by the working
// client although no render worker is registered here, and wait on their
// queue instead of failing.
func TestRiverAlongsideTransactions(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		f := setup(t, b)
		const n = 24
		cases := make([]workflow.CaseView, n)
		for i := range cases {
			cases[i] = f.Open("clerk", workflow.PathApplication, f.ClonePerson("zhangwei", nil), categories)
		}
		client, events := startClient(t, f)
		waitSweep(t, events)

		ctx, cancel := context.WithTimeout(f.Ctx, 60*time.Second)
		defer cancel()
		clerk := f.Actor("clerk")
		var wg sync.WaitGroup
		errs := make(chan error, n+8)
		for _, v := range cases {
			wg.Go(func() {
				_, err := f.Engine.Fire(ctx, workflow.Command{Actor: clerk, CaseID: v.ID, Event: workflow.EvSubmitForApproval, ExpectedVersion: v.Version})
				if err != nil {
					errs <- fmt.Errorf("case %d: %w", v.ID, err)
				}
			})
		}
		for range 4 {
			wg.Go(func() {
				if _, err := client.Insert(ctx, jobs.DeadlinesArgs{}, nil); err != nil {
					errs <- err
				}
				if _, err := f.Sweep.SweepDeadlines(ctx); err != nil {
					errs <- err
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatal("commands and River did not finish within 60s: deadlock?")
		}
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for range 4 {
			waitSweep(t, events)
		}
		var docs, waiting int
		if err := f.Store.DB().QueryRowContext(f.Ctx, `SELECT count(*) FROM documents`).Scan(&docs); err != nil {
			t.Fatal(err)
		}
		if err := f.Store.DB().QueryRowContext(f.Ctx, `SELECT count(*) FROM river_job WHERE kind = 'render_document' AND state = 'available'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if docs == 0 || waiting != docs {
			t.Fatalf("%d documents, %d render jobs waiting", docs, waiting)
		}
	})
}
