package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"

	"certflow/documents"
)

// RiverJobs returns a JobInserter that enqueues one documents.RenderArgs job
// per document with client.InsertManyTx, in the transition's transaction.
func RiverJobs(client *river.Client[*sql.Tx]) JobInserter {
	return func(ctx context.Context, tx *sql.Tx, docs []DocumentJobRow) error {
		params := make([]river.InsertManyParams, len(docs))
		for i, d := range docs {
			params[i] = river.InsertManyParams{Args: documents.RenderArgs{DocumentID: d.DocumentID, CaseID: d.CaseID, Doc: d.Doc}}
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
// until workers are registered.
type Queue struct {
	Driver riverdriver.Driver[*sql.Tx]
	Client *river.Client[*sql.Tx]
}

// NewQueue builds an insert-only River client on driver and wires it into s.
func (s *Store) NewQueue(driver riverdriver.Driver[*sql.Tx]) (*Queue, error) {
	client, err := river.NewClient(driver, &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: river client: %w", err)
	}
	s.SetJobInserter(RiverJobs(client))
	return &Queue{Driver: driver, Client: client}, nil
}
