// Package jobs is certflow's background work on River: the daily deadline
// sweep (reminders of certificate expiry and escalation of overdue tasks),
// and the place other job kinds join the same client, such as the
// documents' render worker.
//
// Deadlines are kept by River, not by a loop of our own: a periodic job
// inserts DeadlinesArgs once a day (and once when the client starts), and
// DeadlinesWorker runs workflow.Engine.SweepDeadlines, whose injected
// clock decides what "today" is. The sweep is idempotent, so a job that
// runs twice, or on two instances, fires nothing twice.
//
//	store, queue, ... := sqlite.Open(ctx, path) // or postgres.Open
//	engine, _ := workflow.NewEngine(store, opts)
//	client, _ := queue.Work(jobs.Config(engine, jobs.Options{Logger: logger}))
//	client.Start(ctx)
//	defer client.Stop(ctx)
package jobs
