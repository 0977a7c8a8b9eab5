package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The store's SQL is the same for both databases; where it runs is not.
// SQLite runs it through database/sql. PostgreSQL runs it through pgx
// itself when the store has the pool (Store.SetPool): pgx scans straight
// into the destinations, and a transition's writes go to the server in
// one round trip (pipeline) instead of one each. rows, row and result are
// what the queries need of either.

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

type row interface{ Scan(dest ...any) error }

type result interface{ RowsAffected() (int64, error) }

// runner runs statements: a transaction or a connection of either driver.
type runner interface {
	query(ctx context.Context, q string, args ...any) (rows, error)
	queryRow(ctx context.Context, q string, args ...any) row
	exec(ctx context.Context, q string, args ...any) (result, error)
}

// sqlRunner runs statements on a *sql.Tx or *sql.Conn.
type sqlRunner struct {
	q interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
		QueryRowContext(context.Context, string, ...any) *sql.Row
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}
}

func (r sqlRunner) query(ctx context.Context, q string, args ...any) (rows, error) {
	rs, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return rs, nil
}

func (r sqlRunner) queryRow(ctx context.Context, q string, args ...any) row {
	return r.q.QueryRowContext(ctx, q, args...)
}

func (r sqlRunner) exec(ctx context.Context, q string, args ...any) (result, error) {
	res, err := r.q.ExecContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// pgxQuerier is what a pgx.Tx and a pooled connection share.
type pgxQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// pgxRunner runs statements on pgx.
type pgxRunner struct{ q pgxQuerier }

func (r pgxRunner) query(ctx context.Context, q string, args ...any) (rows, error) {
	rs, err := r.q.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgxRows{rs}, nil
}

func (r pgxRunner) queryRow(ctx context.Context, q string, args ...any) row {
	return pgxRow{r.q.QueryRow(ctx, q, args...)}
}

func (r pgxRunner) exec(ctx context.Context, q string, args ...any) (result, error) {
	tag, err := r.q.Exec(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgxResult(tag), nil
}

type pgxRows struct{ pgx.Rows }

func (r pgxRows) Close() error {
	r.Rows.Close()
	return r.Rows.Err()
}

// pgxRow reports a missing row as database/sql does, so that interpret
// maps both drivers' answers onto workflow.ErrNotFound.
type pgxRow struct{ pgx.Row }

func (r pgxRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sql.ErrNoRows
	}
	return err
}

type pgxResult pgconn.CommandTag

func (r pgxResult) RowsAffected() (int64, error) { return pgconn.CommandTag(r).RowsAffected(), nil }

// pipeline queues statements that do not read each other's results and
// sends them together: on pgx as one batch, one round trip for all;
// on database/sql one after the other. Each statement's outcome goes to
// its check (an Exec's rows affected) or scan (a row it returns), in the
// order queued; the first error stops the rest.
type pipeline struct {
	stmts []piped
}

type piped struct {
	q     string
	args  []any
	check func(n int64) error // exec: the rows affected
	scan  []any               // query of one row: its destinations
	each  func(row) error     // query of any rows: each in turn
}

// exec queues a statement whose rows affected go to check (which may be nil).
func (p *pipeline) exec(check func(n int64) error, q string, args ...any) {
	p.stmts = append(p.stmts, piped{q: q, args: args, check: check})
}

// scanRow queues a statement returning one row, scanned into dest.
func (p *pipeline) scanRow(dest []any, q string, args ...any) {
	p.stmts = append(p.stmts, piped{q: q, args: args, scan: dest})
}

// queryAll queues a statement whose rows go to each, one by one.
func (p *pipeline) queryAll(each func(row) error, q string, args ...any) {
	p.stmts = append(p.stmts, piped{q: q, args: args, each: each})
}

// run sends the queued statements in t.
func (p *pipeline) run(ctx context.Context, t *tx) error {
	if len(p.stmts) == 0 {
		return nil
	}
	pr, ok := t.run.(pgxRunner)
	if !ok {
		for _, st := range p.stmts {
			if err := st.sqlRun(ctx, t); err != nil {
				return err
			}
		}
		return nil
	}
	var b pgx.Batch
	for _, st := range p.stmts {
		b.Queue(st.q, st.args...)
	}
	br := pr.q.SendBatch(ctx, &b)
	first := settle(br, p.stmts, t.s)
	// Close reads what is left of the batch's answers.
	if err := br.Close(); first == nil {
		first = t.s.interpret(err)
	}
	return first
}

func (st piped) sqlRun(ctx context.Context, t *tx) error {
	if st.scan != nil {
		return t.s.interpret(t.queryRow(ctx, st.q, st.args...).Scan(st.scan...))
	}
	if st.each != nil {
		rs, err := t.query(ctx, st.q, st.args...)
		if err == nil {
			err = eachRow(rs, st.each)
		}
		return t.s.interpret(err)
	}
	r, err := t.exec(ctx, st.q, st.args...)
	if err != nil {
		return err
	}
	if st.check == nil {
		return nil
	}
	n, err := r.RowsAffected()
	if err != nil {
		return err
	}
	return st.check(n)
}

// collect is a queryAll handler that appends every row, as scan reads it,
// to out.
func collect[T any](out *[]T, scan func(interface{ Scan(...any) error }) (T, error)) func(row) error {
	return func(r row) error {
		v, err := scan(r)
		if err != nil {
			return err
		}
		*out = append(*out, v)
		return nil
	}
}

// eachRow hands every row of rs to each and closes rs.
func eachRow(rs rows, each func(row) error) error {
	defer rs.Close()
	for rs.Next() {
		if err := each(rs); err != nil {
			return err
		}
	}
	return rs.Err()
}

// settle reads the results of stmts from br, in order — rows scanned,
// checks run — up to the first failure, which it returns; br.Close reads
// what is left.
func settle(br pgx.BatchResults, stmts []piped, s *Store) error {
	for _, st := range stmts {
		var err error
		switch {
		case st.scan != nil:
			err = s.interpret(pgxRow{br.QueryRow()}.Scan(st.scan...))
		case st.each != nil:
			rs, qerr := br.Query()
			if qerr == nil {
				qerr = eachRow(pgxRows{rs}, st.each)
			}
			err = s.interpret(qerr)
		default:
			tag, xerr := br.Exec()
			if xerr != nil {
				err = s.interpret(xerr)
			} else if st.check != nil {
				err = st.check(tag.RowsAffected())
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
