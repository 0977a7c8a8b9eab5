// Package postgres is certflow's production store: PostgreSQL through
// pgx/v5 on a pgxpool. The SQL is sqlstore's, shared with SQLite; the
// store's transactions run it on pgx itself, pipelining what does not
// wait on an answer, and enqueue document jobs with River's pgx driver.
// River's workers and the migrations use pgx's database/sql adapter over
// the same pool. Several app instances may share one database: every
// write is guarded by a version check or a unique constraint.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"certflow/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the PostgreSQL migration files.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// Dialect is PostgreSQL's side of the shared SQL.
func Dialect() sqlstore.Dialect {
	code := func(err error) string {
		var e *pgconn.PgError
		if errors.As(err, &e) {
			return e.Code
		}
		return ""
	}
	return sqlstore.Dialect{
		Name:         "postgres",
		Migrations:   Migrations(),
		IsUnique:     func(err error) bool { return code(err) == "23505" },
		IsForeignKey: func(err error) bool { return code(err) == "23503" },
		IsRetryable:  func(err error) bool { c := code(err); return c == "40001" || c == "40P01" },
	}
}

// Open connects to url, migrates certflow's and River's tables, and returns
// the store with River wired for document jobs. Close the pool with
// store.Close() and pool.Close().
func Open(ctx context.Context, url string) (*sqlstore.Store, *sqlstore.Queue, *pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default, max(4, CPUs), queues concurrent requests behind
		// four connections; commits then cannot be grouped. Sixteen per
		// instance keeps several instances well under max_connections (100).
		cfg.MaxConns = 16
	}
	if !strings.Contains(url, "plan_cache_mode") {
		// certflow's statements are short index lookups whose plans do
		// not depend on the values bound: planning each execution anew
		// (PostgreSQL's custom plans) cost more than running it — 0.8 ms
		// of the inbox's 1.2. pgx keeps every statement prepared per
		// connection, so the generic plan is made once and reused.
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, nil, nil, fmt.Errorf("postgres: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	s := sqlstore.New(db, Dialect(), nil)
	fail := func(err error) (*sqlstore.Store, *sqlstore.Queue, *pgxpool.Pool, error) {
		db.Close()
		pool.Close()
		return nil, nil, nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		return fail(err)
	}
	driver := riverdatabasesql.New(db)
	if err := sqlstore.MigrateRiver(ctx, driver); err != nil {
		return fail(err)
	}
	q, err := s.NewQueue(driver)
	if err != nil {
		return fail(err)
	}
	// Transactions run on pgx itself (sqlstore's driver.go), so their
	// document jobs go in through River's pgx driver: it encodes the
	// insert's arrays natively, where database/sql's path spent a third
	// of a transition's client time. It only inserts; the workers stay
	// on q (database/sql), polling.
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{PollOnly: true})
	if err != nil {
		return fail(fmt.Errorf("postgres: river client: %w", err))
	}
	s.SetPool(pool, sqlstore.RiverJobs(inserter))
	return s, q, pool, nil
}
