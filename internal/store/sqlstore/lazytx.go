package sqlstore

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lazyTx is a pgx.Tx on a pooled connection whose BEGIN waits for the
// transaction's first statement and goes to the server in its round trip
// (pgx's Batch.BeginTx), not in one of its own: a transition on
// PostgreSQL costs four round trips — BEGIN with the reads, the writes,
// River's job insert, COMMIT — and a read-only transaction one fewer
// than with pgx's Conn.BeginTx. From then on it is pgx's transaction.
type lazyTx struct {
	conn *pgxpool.Conn
	opts pgx.TxOptions
	tx   pgx.Tx // nil until the first statement began it
	done bool
}

var _ pgx.Tx = (*lazyTx)(nil)

// beginLazy takes a connection from s's pool for a transaction that has
// not begun yet.
func (s *Store) beginLazy(ctx context.Context, readOnly bool) (*lazyTx, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	t := &lazyTx{conn: conn}
	if readOnly {
		t.opts.AccessMode = pgx.ReadOnly
	}
	return t, nil
}

// start sends b behind the BEGIN, reads the BEGIN's result and returns
// the rest: b's. A failed BEGIN fails b's statements too.
func (t *lazyTx) start(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	var all pgx.Batch
	all.BeginTx(t.opts)
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	br := t.conn.SendBatch(ctx, &all)
	t.tx = br.Tx()
	_, _ = br.Exec()
	return br
}

// begun is t's transaction, begun now if no statement has begun it yet.
func (t *lazyTx) begun(ctx context.Context) (pgx.Tx, error) {
	if t.tx == nil {
		if err := t.start(ctx, &pgx.Batch{}).Close(); err != nil {
			return nil, err
		}
	}
	return t.tx, nil
}

func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.tx != nil {
		return t.tx.Exec(ctx, sql, args...)
	}
	var b pgx.Batch
	b.Queue(sql, args...)
	br := t.start(ctx, &b)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (t *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.tx != nil {
		return t.tx.Query(ctx, sql, args...)
	}
	var b pgx.Batch
	b.Queue(sql, args...)
	br := t.start(ctx, &b)
	rs, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rs, br: br}, nil
}

func (t *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.tx != nil {
		return t.tx.QueryRow(ctx, sql, args...)
	}
	rs, err := t.Query(ctx, sql, args...)
	return rowsRow{rs, err}
}

func (t *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.tx != nil {
		return t.tx.SendBatch(ctx, b)
	}
	return t.start(ctx, b)
}

func (t *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return 0, err
	}
	return tx.CopyFrom(ctx, table, cols, src)
}

func (t *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Prepare(ctx, name, sql)
}

func (t *lazyTx) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Begin(ctx)
}

// LargeObjects needs a begun transaction; certflow keeps none, and a
// transaction that has sent nothing has none to offer.
func (t *lazyTx) LargeObjects() pgx.LargeObjects {
	if t.tx == nil {
		return pgx.LargeObjects{}
	}
	return t.tx.LargeObjects()
}

func (t *lazyTx) Conn() *pgx.Conn { return t.conn.Conn() }

// Commit commits what the transaction did; one that sent nothing has
// nothing to commit.
func (t *lazyTx) Commit(ctx context.Context) error { return t.end(ctx, pgx.Tx.Commit) }

// Rollback ends the transaction; one that sent nothing needs no ROLLBACK.
func (t *lazyTx) Rollback(ctx context.Context) error { return t.end(ctx, pgx.Tx.Rollback) }

// end ends the begun transaction with how (pgx's Commit or Rollback) and
// gives the connection back.
func (t *lazyTx) end(ctx context.Context, how func(pgx.Tx, context.Context) error) error {
	if t.done {
		return pgx.ErrTxClosed
	}
	defer t.release()
	if t.tx == nil {
		return nil
	}
	return how(t.tx, ctx)
}

// release gives the connection back; the pool closes one still inside a
// transaction (a failed ROLLBACK) rather than reuse it.
func (t *lazyTx) release() {
	t.done = true
	t.conn.Release()
}

// batchRows are the rows of a batch's last statement: when they end, the
// batch is closed too, and the connection free for the next statement.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// rowsRow is the first row of rows, as pgx's QueryRow gives it.
type rowsRow struct {
	rs  pgx.Rows
	err error
}

func (r rowsRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rs.Close()
	if !r.rs.Next() {
		if err := r.rs.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rs.Scan(dest...); err != nil {
		return err
	}
	r.rs.Close()
	return r.rs.Err()
}
