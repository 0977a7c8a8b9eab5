package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"certflow/workflow"
)

// Dialect is what differs between the databases.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Migrations holds NNN_name.up.sql files, the same numbers for both.
	Migrations fs.FS
	// IsUnique reports whether err is a unique-constraint violation.
	IsUnique func(error) bool
	// IsForeignKey reports whether err is a foreign-key violation: a
	// write naming a row that does not exist.
	IsForeignKey func(error) bool
	// IsRetryable reports whether err is a serialization or busy failure
	// that a new attempt of the whole transaction may not hit.
	IsRetryable func(error) bool
}

// JobInserter enqueues the render jobs of documents just written inside
// tx (a *sql.Tx, or a pgx.Tx on PostgreSQL), so they commit with the
// transition or not at all. RiverJobs makes one.
type JobInserter[TTx any] func(ctx context.Context, tx TTx, docs []workflow.DocumentJob) error

// Store is workflow.Store on a database/sql pool, with an optional
// second pool for reads, or, on PostgreSQL, on a pgx pool (SetPool).
// Statements are not prepared here: pgx caches them
// per connection, and the SQLite store's connections do the same
// (internal/store/sqlite's statement cache).
type Store struct {
	db      *sql.DB       // writes, and reads when there is no reader
	reader  *sql.DB       // reads (View, ViewLoose); nil: db serves them
	pool    *pgxpool.Pool // PostgreSQL: transactions run on pgx itself
	dialect Dialect
	jobs    JobInserter[*sql.Tx]
	pgxJobs JobInserter[pgx.Tx]
}

var _ workflow.Store = (*Store)(nil)

// New returns a store on db. jobs may be nil until the job queue is wired.
func New(db *sql.DB, d Dialect, jobs JobInserter[*sql.Tx]) *Store {
	return &Store{db: db, dialect: d, jobs: jobs}
}

// SetReader makes db serve View and ViewLoose. SQLite gives reads their
// own pool of connections so that they run beside the single writer
// (WAL readers never block it) instead of queueing behind it. Call it
// before the store is shared.
func (s *Store) SetReader(db *sql.DB) { s.reader = db }

// SetPool makes every transaction and loose view run on pool through pgx
// itself rather than through database/sql (driver.go says why); jobs
// enqueues their document jobs. db stays for migrations and River's
// workers. Call it before the store is shared.
func (s *Store) SetPool(pool *pgxpool.Pool, jobs JobInserter[pgx.Tx]) {
	s.pool, s.pgxJobs = pool, jobs
}

// readDB is the pool reads run on.
func (s *Store) readDB() *sql.DB {
	if s.reader != nil {
		return s.reader
	}
	return s.db
}

// Close closes the store's pools.
func (s *Store) Close() error {
	var rerr error
	if s.reader != nil {
		rerr = s.reader.Close()
	}
	return errors.Join(s.db.Close(), rerr)
}

// SetJobInserter sets how document jobs are enqueued.
func (s *Store) SetJobInserter(j JobInserter[*sql.Tx]) { s.jobs = j }

// DB returns the writing pool.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Update runs fn in a write transaction.
func (s *Store) Update(ctx context.Context, fn func(workflow.Tx) error) error {
	return s.inTx(ctx, false, fn)
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(workflow.Tx) error) error {
	return s.inTx(ctx, true, fn)
}

// ViewLoose runs fn's reads without a transaction: each statement sees
// its own snapshot. For reads that tolerate it (workflow.LooseViewer): on
// PostgreSQL it saves the COMMIT round trip (a transaction's BEGIN rides
// with its first statement, lazyTx). The statements
// share one connection, taken from the pool once: under load, taking it
// anew for every statement queued each of them behind other requests.
func (s *Store) ViewLoose(ctx context.Context, fn func(workflow.Tx) error) error {
	if s.pool != nil {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return s.interpret(err)
		}
		defer conn.Release()
		return fn(&tx{s: s, run: pgxRunner{conn}})
	}
	conn, err := s.readDB().Conn(ctx)
	if err != nil {
		return s.interpret(err)
	}
	defer conn.Close()
	return fn(&tx{s: s, run: sqlRunner{conn}})
}

func (s *Store) inTx(ctx context.Context, readOnly bool, fn func(workflow.Tx) error) error {
	if s.pool != nil {
		return s.inPgxTx(ctx, readOnly, fn)
	}
	opts := &sql.TxOptions{}
	db := s.db
	if readOnly {
		db = s.readDB()
		opts.ReadOnly = s.dialect.Name == "postgres"
	}
	sqltx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return s.interpret(err)
	}
	t := &tx{s: s, run: sqlRunner{sqltx}, sqlTx: sqltx}
	if err := fn(t); err != nil {
		_ = sqltx.Rollback()
		return err
	}
	if err := sqltx.Commit(); err != nil {
		return s.interpret(err)
	}
	return nil
}

func (s *Store) inPgxTx(ctx context.Context, readOnly bool, fn func(workflow.Tx) error) error {
	lt, err := s.beginLazy(ctx, readOnly)
	if err != nil {
		return s.interpret(err)
	}
	if err := fn(&tx{s: s, run: pgxRunner{lt}, pgTx: lt}); err != nil {
		// On a context already done pgx closes the connection instead,
		// which ends the transaction as surely.
		_ = lt.Rollback(ctx)
		return err
	}
	if err := lt.Commit(ctx); err != nil {
		return s.interpret(err)
	}
	return nil
}

// interpret maps driver errors onto workflow's sentinels.
func (s *Store) interpret(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w", workflow.ErrNotFound)
	case s.dialect.IsUnique(err):
		return fmt.Errorf("%w: %v", workflow.ErrDuplicate, err)
	case s.dialect.IsForeignKey != nil && s.dialect.IsForeignKey(err):
		return &missingRowError{err}
	case s.dialect.IsRetryable != nil && s.dialect.IsRetryable(err):
		return fmt.Errorf("%w: concurrent update, try again: %v", workflow.ErrStale, err)
	}
	return err
}

// missingRowError is a foreign-key violation: a write named a row (a
// person, a unit, a user) that does not exist. The engine checks the IDs
// it is given before it writes; this is the backstop for one it did not,
// so that the request that named it hears "not found" (404), as a read of
// that row would have said, rather than a server fault. Its text leaves
// out the driver's, which names tables and constraints; Unwrap keeps it.
type missingRowError struct{ driver error }

func (e *missingRowError) Error() string {
	return "a row it refers to: " + workflow.ErrNotFound.Error()
}

func (e *missingRowError) Unwrap() []error {
	return []error{workflow.ErrNotFound, e.driver}
}

// Migrate applies the dialect's migrations not yet applied, each in its own
// transaction, recording them in schema_migrations.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	files, err := MigrationFiles(s.dialect.Migrations)
	if err != nil {
		return err
	}
	for _, f := range files {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, f.Version).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := fs.ReadFile(s.dialect.Migrations, f.Name)
		if err != nil {
			return err
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("sqlstore: migration %s: %w", f.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, f.Version, f.Name); err != nil {
			_ = tx.Rollback()
			if s.dialect.IsUnique(err) {
				continue // another instance applied it at the same time
			}
			return fmt.Errorf("sqlstore: migration %s: %w", f.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlstore: migration %s: %w", f.Name, err)
		}
	}
	return nil
}

// Migration is one migration file.
type Migration struct {
	Version int
	Name    string
}

// MigrationFiles lists the NNN_name.up.sql files of fsys in order.
func MigrationFiles(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.up.sql")
	if err != nil {
		return nil, err
	}
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("sqlstore: migration %q is not named NNN_name.up.sql", n)
		}
		out = append(out, Migration{v, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// tx implements workflow.Tx: in a transaction, or, for ViewLoose,
// statement by statement on one connection. run is where its statements
// go: database/sql, or, on PostgreSQL, pgx itself (driver.go).
type tx struct {
	s     *Store
	run   runner
	sqlTx *sql.Tx // the database/sql transaction, if that is where run goes
	pgTx  pgx.Tx  // the pgx transaction, if that is where run goes
}

func (t *tx) query(ctx context.Context, q string, args ...any) (rows, error) {
	return t.run.query(ctx, q, args...)
}

func (t *tx) queryRow(ctx context.Context, q string, args ...any) row {
	return t.run.queryRow(ctx, q, args...)
}

func (t *tx) exec(ctx context.Context, q string, args ...any) (result, error) {
	r, err := t.run.exec(ctx, q, args...)
	return r, t.s.interpret(err)
}

func (t *tx) insert(ctx context.Context, q string, args ...any) (int64, error) {
	var id int64
	err := t.queryRow(ctx, q, args...).Scan(&id)
	return id, t.s.interpret(err)
}

func utc(tm time.Time) time.Time { return tm.UTC() }

func nullTime(tm *time.Time) any {
	if tm == nil {
		return nil
	}
	return tm.UTC()
}

// notFound wraps ErrNotFound with what was looked up.
func notFound(err error, what string, id int64) error {
	if errors.Is(err, workflow.ErrNotFound) {
		return fmt.Errorf("%s %d: %w", what, id, workflow.ErrNotFound)
	}
	return err
}

// scopeClause restricts the department column col (an org_units alias with
// id and path) to sc. It appends to args and returns the SQL.
func scopeClause(sc workflow.Scope, dept string, args *[]any) string {
	if sc.All {
		return "TRUE"
	}
	var parts []string
	for _, id := range sc.Exact {
		*args = append(*args, id)
		parts = append(parts, fmt.Sprintf("%s.id = $%d", dept, len(*args)))
	}
	for _, p := range sc.Prefixes {
		*args = append(*args, p+"%")
		parts = append(parts, fmt.Sprintf("%s.path LIKE $%d", dept, len(*args)))
	}
	if len(parts) == 0 {
		return "FALSE"
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

func limit(n int) int {
	if n <= 0 || n > 500 {
		return 100
	}
	return n
}

func joinRoles(rs []workflow.RoleBinding) []workflow.RoleBinding {
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b workflow.RoleBinding) int {
		if c := strings.Compare(string(a.Role), string(b.Role)); c != 0 {
			return c
		}
		return int(a.OrgUnitID - b.OrgUnitID)
	})
	return slices.Compact(out)
}
