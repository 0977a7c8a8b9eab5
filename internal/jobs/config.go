package jobs

import (
	"log/slog"
	"maps"
	"time"

	"github.com/riverqueue/river"

	"certflow/workflow"
)

// Options configures the River client certflow runs.
type Options struct {
	Logger *slog.Logger
	// Register adds other packages' workers to the bundle, e.g.
	//
	//	func(w *river.Workers) { river.AddWorker(w, renderWorker) }
	Register []func(*river.Workers)
	// Queues adds the queues those workers' jobs are on, e.g.
	// {river.QueueDefault: {MaxWorkers: 4}} for the document jobs, which
	// carry no InsertOpts. The deadlines queue is always there.
	Queues map[string]river.QueueConfig
}

// Workers returns certflow's worker bundle: the deadline sweep, and
// whatever register adds.
func Workers(engine *workflow.Engine, logger *slog.Logger, register ...func(*river.Workers)) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &DeadlinesWorker{Engine: engine, Logger: logger})
	for _, r := range register {
		r(w)
	}
	return w
}

// Config returns the River configuration of a client that works
// certflow's jobs; pass it to sqlstore.Queue.Work.
func Config(engine *workflow.Engine, opt Options) *river.Config {
	queues := map[string]river.QueueConfig{QueueDeadlines: {MaxWorkers: 1}}
	maps.Copy(queues, opt.Queues)
	return &river.Config{
		Logger:       opt.Logger,
		Workers:      Workers(engine, opt.Logger, opt.Register...),
		Queues:       queues,
		PeriodicJobs: []*river.PeriodicJob{DeadlinesJob(engine)},
		// FIELD-NOTES: River's defaults (100 ms cooldown, 1 s poll) cap
		// fetching near 1,000 jobs/s; 10 ms and 50 ms reach 8,700/s on
		// PostgreSQL, whose database/sql driver has no listener, so the
		// poll is how it sees new jobs.
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		// Document jobs are inserted by this client in every transition,
		// whether or not this process registered their worker (another
		// instance may render): don't refuse unknown kinds at insert.
		SkipUnknownJobCheck: true,
		// A stopping server gives running jobs this long, then cancels them.
		SoftStopTimeout: 10 * time.Second,
	}
}
