package main

import (
	"context"

	"certflow/internal/store/postgres"
	"certflow/internal/store/sqlite"
	"certflow/internal/store/sqlstore"
)

// openStore opens (and migrates) the store the database setting names:
// a postgres:// URL, else a SQLite file path or sqlite:// URL.
func openStore(ctx context.Context, database string) (*sqlstore.Store, *sqlstore.Queue, func(), error) {
	if isPostgres(database) {
		s, q, pool, err := postgres.Open(ctx, database)
		if err != nil {
			return nil, nil, nil, err
		}
		return s, q, func() { s.Close(); pool.Close() }, nil
	}
	s, q, err := sqlite.Open(ctx, database)
	if err != nil {
		return nil, nil, nil, err
	}
	return s, q, func() { s.Close() }, nil
}
