// Package sqlite is certflow's embedded store: one SQLite file in WAL mode,
// through the pure-Go modernc.org/sqlite driver, with River's SQLite driver
// for jobs in the same file.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strings"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"certflow/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the SQLite migration files.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// Dialect is SQLite's side of the shared SQL.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:       "sqlite",
		Migrations: Migrations(),
		IsUnique: func(err error) bool {
			var e *sqlite.Error
			return errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
		},
		IsForeignKey: func(err error) bool {
			var e *sqlite.Error
			return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
		},
		IsRetryable: func(err error) bool {
			var e *sqlite.Error
			return errors.As(err, &e) && (e.Code()&0xff == sqlite3.SQLITE_BUSY)
		},
	}
}

// DSN turns a file path (or sqlite:// URL) into the modernc DSN certflow
// uses: WAL, a busy timeout, foreign keys, BEGIN IMMEDIATE for every
// transaction (read-then-write transactions otherwise fail with
// BUSY_SNAPSHOT) and times in SQLite's text format.
func DSN(path string) string {
	return dsn(path, true,
		"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)",
		// 64 MiB of page cache (the default is 2 MiB): the inbox's
		// indexes and the rows its pages join stay in memory on a
		// region-sized file.
		"cache_size(-65536)")
}

// readerDSN is DSN's read-only twin for the reading pool: no write lock
// taken at BEGIN, and query_only so that a write slipping into a read
// fails loudly instead of taking the writer's place.
func readerDSN(path string) string {
	return dsn(path, false, "busy_timeout(10000)", "foreign_keys(1)", "query_only(1)", "cache_size(-16384)")
}

// dsn is the modernc DSN of the file at path (or sqlite:// URL) with
// pragmas and times in SQLite's text format; the writer's transactions
// BEGIN IMMEDIATE.
func dsn(path string, writer bool, pragmas ...string) string {
	path = strings.TrimPrefix(strings.TrimPrefix(path, "sqlite://"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if writer {
		q.Set("_txlock", "immediate")
	}
	q.Set("_time_format", "sqlite")
	return "file:" + path + "?" + q.Encode()
}

// readers is how many connections the reading pool keeps.
func readers() int { return max(4, 2*runtime.NumCPU()) }

// openDB opens a pool whose connections keep their statements (stmtcache.go).
func openDB(dsn string) (*sql.DB, error) {
	c, err := newConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// Open opens (creating if needed) the SQLite file at path, migrates it and
// River's tables, and returns the store with River wired for document jobs.
func Open(ctx context.Context, path string) (*sqlstore.Store, *sqlstore.Queue, error) {
	db, err := openDB(DSN(path))
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One connection: SQLite has one writer, and River's SQLite driver
	// needs it.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := sqlstore.New(db, Dialect(), nil)
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	// Reads get their own connections: in WAL mode they run beside the
	// writer on a snapshot, instead of waiting for the one connection.
	rdb, err := openDB(readerDSN(path))
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(readers())
	rdb.SetMaxIdleConns(readers())
	s.SetReader(rdb)
	driver := riversqlite.New(db)
	if err := sqlstore.MigrateRiver(ctx, driver); err != nil {
		s.Close()
		return nil, nil, err
	}
	q, err := s.NewQueue(driver)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, q, nil
}
