package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"time"

	"github.com/riverqueue/river"

	"certflow/documents"
	"certflow/internal/auth"
	"certflow/internal/demo"
	"certflow/internal/httpapi"
	"certflow/internal/jobs"
	"certflow/internal/tune"
	"certflow/workflow"
)

// publicIntakeUser is the user public complaints are recorded as: no roles,
// no token, no staff record.
const publicIntakeUser = "public-intake"

// serve runs the HTTP service until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free one)")
	database := fs.String("database", defaultDatabase(), "SQLite file or postgres:// URL")
	withDemo := fs.Bool("demo", false, "load the demo data set into an empty database and print the demo users' tokens and passwords")
	insecureCookies := fs.Bool("insecure-cookies", false, "send the session cookie without Secure, for plain-HTTP development on localhost only")
	var rf renderFlags
	rf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if tune.GC() {
		logger.Info("garbage collection at a heap of 256 MiB (GOGC=off, GOMEMLIMIT=256MiB); set GOGC or GOMEMLIMIT to choose otherwise")
	}
	store, queue, closeStore, err := openStore(ctx, *database)
	if err != nil {
		return err
	}
	defer closeStore()
	engine, err := workflow.NewEngine(store, workflow.Options{Logger: logger})
	if err != nil {
		return err
	}
	if *withDemo {
		if err := loadDemo(ctx, store, engine, stdout); err != nil {
			return err
		}
	}
	// River works the deadline sweep (daily, and once now) on the store's
	// own database; the same client enqueues the transitions' document jobs.
	opts := jobs.Options{Logger: logger}
	renderer, err := rf.open(logger)
	if err != nil {
		return err
	}
	if renderer != nil {
		defer renderer.Close()
		worker := &documents.Worker{Engine: engine, Renderer: renderer, Dir: rf.documentsDir, Logger: logger}
		opts.Register = append(opts.Register, func(w *river.Workers) { river.AddWorker(w, worker) })
		opts.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(rf.tabs, runtime.NumCPU())}}
	}
	jobClient, err := queue.Work(jobs.Config(engine, opts))
	if err != nil {
		return err
	}
	// Not ctx: a signal must let running jobs finish (Stop below), not
	// cancel them at once.
	if err := jobClient.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("river: %w", err)
	}
	defer stopJobs(jobClient, logger)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: httpapi.NewWithOptions(engine, logger, httpapi.Options{
			PublicIntake: &httpapi.PublicIntake{
				Actor: func(ctx context.Context) (*workflow.Actor, error) {
					return auth.ServiceActor(ctx, store, publicIntakeUser)
				},
			},
			Sessions: httpapi.Sessions{Insecure: *insecureCookies, Auth: auth.Options{Logger: logger}},
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "certflow listening on http://%s (database %s)\n", ln.Addr(), redact(*database))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// stopJobs stops the River client gracefully: running jobs get the
// client's SoftStopTimeout, then are cancelled; it returns before the
// store closes, which River needs.
func stopJobs(client *river.Client[*sql.Tx], logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := client.Stop(ctx); err != nil {
		logger.Warn("river: stop", "err", err)
		_ = client.StopAndCancel(context.Background())
	}
}

// loadDemo loads the demo data set when the database has no org units yet,
// and prints the demo users either way.
func loadDemo(ctx context.Context, store workflow.Store, engine *workflow.Engine, stdout io.Writer) error {
	empty := false
	err := store.View(ctx, func(tx workflow.Tx) error {
		units, err := tx.ListOrgUnits(ctx, workflow.Scope{All: true})
		empty = len(units) == 0
		return err
	})
	if err != nil {
		return err
	}
	if empty {
		if _, err := demo.Load(ctx, store, workflow.DateOf(engine.Now())); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "demo data loaded")
	}
	fmt.Fprintln(stdout, "demo users (Authorization: Bearer <token>, or POST /api/v1/session with name and password):")
	for _, name := range demo.UserNames() {
		fmt.Fprintf(stdout, "  %-14s %-20s %s\n", name, demo.Token(name), demo.Password(name))
	}
	return nil
}

// redact hides a password in a database URL for logs.
func redact(database string) string {
	u, err := url.Parse(database)
	if err != nil || u.User == nil {
		return database
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
