package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"certflow/workflow"
)

// QueueDeadlines is the queue of the deadline sweep. It is its own queue,
// so a client that runs only the sweep never fetches (and fails) jobs of
// kinds it has no worker for, such as documents waiting for a renderer.
const QueueDeadlines = "deadlines"

// DeadlinesArgs is the job that sweeps deadlines once.
type DeadlinesArgs struct{}

// Kind names the job in River's tables.
func (DeadlinesArgs) Kind() string { return "deadlines" }

// InsertOpts puts the sweep on its own queue. Retries are cheap: the sweep
// is idempotent.
func (DeadlinesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDeadlines, MaxAttempts: 5}
}

// DeadlinesWorker runs Engine.SweepDeadlines.
type DeadlinesWorker struct {
	river.WorkerDefaults[DeadlinesArgs]
	Engine *workflow.Engine
	Logger *slog.Logger
}

// Timeout lets a first sweep over a large backlog finish: it works in
// batches of short transactions, far below River's rescue threshold.
func (w *DeadlinesWorker) Timeout(*river.Job[DeadlinesArgs]) time.Duration { return 30 * time.Minute }

// Work sweeps and logs what it fired.
func (w *DeadlinesWorker) Work(ctx context.Context, job *river.Job[DeadlinesArgs]) error {
	res, err := w.Engine.SweepDeadlines(ctx)
	log := w.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err != nil {
		log.ErrorContext(ctx, "deadline sweep failed", "job", job.ID, "attempt", job.Attempt, "today", res.Today.String(),
			"expiry_reminders", res.Expiry, "overdue_reminders", res.Overdue, "settled_cases", res.Settled, "err", err)
		return err
	}
	log.InfoContext(ctx, "deadline sweep", "job", job.ID, "today", res.Today.String(),
		"expiry_reminders", res.Expiry, "overdue_reminders", res.Overdue, "settled_cases", res.Settled)
	return nil
}

// Daily is a river.PeriodicSchedule that fires once a day at Hour:Minute
// in Location (China time for certflow: "today" turns at local midnight).
type Daily struct {
	Hour, Minute int
	Location     *time.Location
}

// Next returns the first Hour:Minute in Location strictly after t.
func (d Daily) Next(t time.Time) time.Time {
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	local := t.In(loc)
	next := time.Date(local.Year(), local.Month(), local.Day(), d.Hour, d.Minute, 0, 0, loc)
	if !next.After(local) {
		next = time.Date(local.Year(), local.Month(), local.Day()+1, d.Hour, d.Minute, 0, 0, loc)
	}
	return next.UTC()
}

// DeadlinesJob is the periodic job of the sweep: daily at 00:05 where the
// engine counts days, just after "today" turned, and once when the client
// starts, so a restart after a missed night catches up at once.
func DeadlinesJob(engine *workflow.Engine) *river.PeriodicJob {
	return river.NewPeriodicJob(
		Daily{Hour: 0, Minute: 5, Location: engine.Location()},
		func() (river.JobArgs, *river.InsertOpts) { return DeadlinesArgs{}, nil },
		&river.PeriodicJobOpts{ID: "deadlines", RunOnStart: true},
	)
}
