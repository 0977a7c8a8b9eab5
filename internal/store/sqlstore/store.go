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
	"sync"
	"sync/atomic"
	"time"

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
	// PrepareStatements: keep the hot statements prepared for the life of
	// the pool. modernc's SQLite driver prepares every query anew, which
	// costs more than running it; pgx caches statements itself.
	PrepareStatements bool
	// IsRetryable reports whether err is a serialization or busy failure
	// that a new attempt of the whole transaction may not hit.
	IsRetryable func(error) bool
}

// JobInserter enqueues background jobs inside tx, so they commit with the
// transition or not at all. River's InsertManyTx fills it.
type JobInserter func(ctx context.Context, tx *sql.Tx, docs []DocumentJobRow) error

// DocumentJobRow is a document row just written, to be rendered by a job.
type DocumentJobRow struct {
	DocumentID int64
	workflow.DocumentJob
}

// Store is workflow.Store on a database/sql pool, with an optional
// second pool for reads.
type Store struct {
	w       pool  // writes, and reads when there is no reader
	r       *pool // reads (View, ViewLoose); nil: w serves them
	dialect Dialect
	jobs    JobInserter
}

// pool is one *sql.DB with the statements prepared on it.
type pool struct {
	db    *sql.DB
	stmts map[string]*sql.Stmt // by SQL text; read-only after Prepare
	// built holds statements built at run time (the inbox's, whose text
	// depends on the caller's roles and filters), prepared on first use
	// outside a transaction, at most maxBuilt of them.
	built  sync.Map // SQL text → *sql.Stmt
	nBuilt atomic.Int32
}

// maxBuilt bounds the statements kept for built SQL.
const maxBuilt = 512

var _ workflow.Store = (*Store)(nil)

// New returns a store on db. jobs may be nil until the job queue is wired.
func New(db *sql.DB, d Dialect, jobs JobInserter) *Store {
	return &Store{w: pool{db: db}, dialect: d, jobs: jobs}
}

// SetReader makes db serve View and ViewLoose. SQLite gives reads their
// own pool of connections so that they run beside the single writer
// (WAL readers never block it) instead of queueing behind it. Call it
// before Prepare, before the store is shared.
func (s *Store) SetReader(db *sql.DB) { s.r = &pool{db: db} }

// reader is the pool reads run on.
func (s *Store) reader() *pool {
	if s.r != nil {
		return s.r
	}
	return &s.w
}

// Prepare prepares the hot statements when the dialect asks for it. Call it
// after Migrate, before the store is shared: the tables must exist.
func (s *Store) Prepare(ctx context.Context) error {
	if !s.dialect.PrepareStatements {
		return nil
	}
	if err := s.w.prepare(ctx); err != nil {
		return err
	}
	if s.r != nil {
		return s.r.prepare(ctx)
	}
	return nil
}

func (p *pool) prepare(ctx context.Context) error {
	stmts := make(map[string]*sql.Stmt, len(hotQueries))
	for _, q := range hotQueries {
		st, err := p.db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("sqlstore: prepare %q: %w", q, err)
		}
		stmts[q] = st
	}
	p.stmts = stmts
	return nil
}

// Close closes the store's pools.
func (s *Store) Close() error {
	var rerr error
	if s.r != nil {
		rerr = s.r.db.Close()
	}
	return errors.Join(s.w.db.Close(), rerr)
}

// SetJobInserter sets how document jobs are enqueued.
func (s *Store) SetJobInserter(j JobInserter) { s.jobs = j }

// DB returns the writing pool.
func (s *Store) DB() *sql.DB { return s.w.db }

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
// PostgreSQL it saves the BEGIN and COMMIT round trips.
func (s *Store) ViewLoose(ctx context.Context, fn func(workflow.Tx) error) error {
	return fn(&tx{s: s, p: s.reader()})
}

func (s *Store) inTx(ctx context.Context, readOnly bool, fn func(workflow.Tx) error) error {
	opts := &sql.TxOptions{}
	p := &s.w
	if readOnly {
		p = s.reader()
		opts.ReadOnly = s.dialect.Name == "postgres"
	}
	sqltx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return s.interpret(err)
	}
	t := &tx{tx: sqltx, s: s, p: p}
	if err := fn(t); err != nil {
		_ = sqltx.Rollback()
		return err
	}
	if err := sqltx.Commit(); err != nil {
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
		return fmt.Errorf("%w: %v", workflow.ErrConflict, err)
	case s.dialect.IsRetryable != nil && s.dialect.IsRetryable(err):
		return fmt.Errorf("%w: concurrent update, try again: %v", workflow.ErrConflict, err)
	}
	return err
}

// Migrate applies the dialect's migrations not yet applied, each in its own
// transaction, recording them in schema_migrations.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.w.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	files, err := MigrationFiles(s.dialect.Migrations)
	if err != nil {
		return err
	}
	for _, f := range files {
		var n int
		if err := s.w.db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, f.Version).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := fs.ReadFile(s.dialect.Migrations, f.Name)
		if err != nil {
			return err
		}
		tx, err := s.w.db.BeginTx(ctx, nil)
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

// tx implements workflow.Tx: in a transaction, or, for ViewLoose, with
// tx nil, statement by statement on the pool.
type tx struct {
	tx *sql.Tx
	s  *Store
	p  *pool // the pool tx (or, without one, each statement) runs on
}

// SQLTx returns the underlying transaction, for enqueueing jobs in it.
func (t *tx) SQLTx() *sql.Tx { return t.tx }

// runner is where statements run: the transaction, or the pool.
func (t *tx) runner() interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
	ExecContext(context.Context, string, ...any) (sql.Result, error)
} {
	if t.tx == nil {
		return t.p.db
	}
	return t.tx
}

// stmt returns the transaction's handle on the prepared statement for q,
// or nil when q is not one of the prepared ones.
func (t *tx) stmt(ctx context.Context, q string) *sql.Stmt {
	st := t.p.stmts[q]
	if st == nil && t.s.dialect.PrepareStatements {
		st = t.p.builtStmt(ctx, q, t.tx == nil)
	}
	switch {
	case st == nil:
		return nil
	case t.tx == nil:
		return st
	}
	return t.tx.StmtContext(ctx, st)
}

// builtStmt returns the statement kept for the built SQL q, preparing it
// when prepare is set: only outside a transaction, as SQLite's one
// connection is busy inside one.
func (p *pool) builtStmt(ctx context.Context, q string, prepare bool) *sql.Stmt {
	if st, ok := p.built.Load(q); ok {
		return st.(*sql.Stmt)
	}
	if !prepare || p.nBuilt.Load() >= maxBuilt {
		return nil
	}
	st, err := p.db.PrepareContext(ctx, q)
	if err != nil {
		return nil // run unprepared: the error, if any, shows there
	}
	if old, loaded := p.built.LoadOrStore(q, st); loaded {
		st.Close()
		return old.(*sql.Stmt)
	}
	p.nBuilt.Add(1)
	return st
}

func (t *tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.runner().QueryContext(ctx, q, args...)
}

func (t *tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.runner().QueryRowContext(ctx, q, args...)
}

func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	var r sql.Result
	var err error
	if st := t.stmt(ctx, q); st != nil {
		r, err = st.ExecContext(ctx, args...)
	} else {
		r, err = t.runner().ExecContext(ctx, q, args...)
	}
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
