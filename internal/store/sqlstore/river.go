package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"

	"certflow/workflow"
)

// RiverJobs returns a JobInserter that enqueues one workflow.DocumentJob
// per document with client.InsertManyTx, in the transition's transaction:
// on database/sql or, with River's pgx driver, on pgx.
func RiverJobs[TTx any](client *river.Client[TTx]) JobInserter[TTx] {
	return func(ctx context.Context, tx TTx, docs []workflow.DocumentJob) error {
		params := make([]river.InsertManyParams, len(docs))
		for i, d := range docs {
			params[i] = river.InsertManyParams{Args: d}
		}
		if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
			return fmt.Errorf("sqlstore: enqueue documents: %w", err)
		}
		return nil
	}
}

// MigrateRiver brings River's own tables up to date on driver's database.
func MigrateRiver(ctx context.Context, driver riverdriver.Driver[*sql.Tx]) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("sqlstore: river migrate: %w", err)
	}
	return nil
}

// Queue is a store's River side: the driver, and an insert-only client
// until Work replaces it by one with workers.
type Queue struct {
	Driver riverdriver.Driver[*sql.Tx]
	Client *river.Client[*sql.Tx]
	store  *Store
}

// NewQueue builds an insert-only River client on driver and wires it into s.
func (s *Store) NewQueue(driver riverdriver.Driver[*sql.Tx]) (*Queue, error) {
	client, err := river.NewClient(driver, &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: river client: %w", err)
	}
	s.SetJobInserter(RiverJobs(client))
	return &Queue{Driver: driver, Client: client, store: s}, nil
}

// Work builds a River client that works jobs as cfg says (workers, queues,
// periodic jobs; internal/jobs.Config builds it), makes it the queue's
// Client and the store's way of enqueueing document jobs, and returns it
// unstarted. Call it before the store is shared; Start the client, and
// Stop it before the database is closed.
//
// On SQLite the client shares the store's single connection: River's
// fetches and the store's transactions take turns, and neither holds the
// connection while waiting for the other (a worker's transaction is its
// own, never nested in River's), so they cannot deadlock.
func (q *Queue) Work(cfg *river.Config) (*river.Client[*sql.Tx], error) {
	client, err := river.NewClient(q.Driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: river client: %w", err)
	}
	q.Client = client
	if q.store != nil {
		q.store.SetJobInserter(RiverJobs(client))
	}
	return client, nil
}
