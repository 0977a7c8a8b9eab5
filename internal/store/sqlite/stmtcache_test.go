package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// cacheDB opens a one-connection pool on a fresh file with a table t.
func cacheDB(t *testing.T) (*sql.DB, *sql.Conn) {
	t.Helper()
	db, err := openDB(DSN(filepath.Join(t.TempDir(), "cache.db")))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE); INSERT INTO t (v) VALUES ('a'), ('b'), ('c')`); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return db, conn
}

// cached reports how many statements conn keeps.
func cached(t *testing.T, conn *sql.Conn) int {
	t.Helper()
	n := -1
	if err := conn.Raw(func(dc any) error {
		n = dc.(*cachingConn).lru.Len()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func values(t *testing.T, rows *sql.Rows) []string {
	t.Helper()
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStatementCacheReuses(t *testing.T) {
	ctx := context.Background()
	_, conn := cacheDB(t)
	base := cached(t, conn)
	const q = `SELECT v FROM t WHERE id >= $1 ORDER BY id`
	for i := 1; i <= 3; i++ {
		rows, err := conn.QueryContext(ctx, q, i)
		if err != nil {
			t.Fatal(err)
		}
		if got := values(t, rows); len(got) != 4-i {
			t.Fatalf("from %d: %v", i, got)
		}
	}
	if n := cached(t, conn); n != base+1 {
		t.Fatalf("%d statements cached after one query text run three times, want %d", n, base+1)
	}
	// A failing statement leaves its cached statement usable.
	const ins = `INSERT INTO t (v) VALUES ($1)`
	if _, err := conn.ExecContext(ctx, ins, "a"); err == nil {
		t.Fatal("duplicate inserted")
	}
	if _, err := conn.ExecContext(ctx, ins, "d"); err != nil {
		t.Fatalf("after a failure: %v", err)
	}
	// The same through Query, as the stores' INSERT … RETURNING id runs.
	const ret = `INSERT INTO t (v) VALUES ($1) RETURNING id`
	var id int64
	if err := conn.QueryRowContext(ctx, ret, "b").Scan(&id); err == nil {
		t.Fatal("duplicate inserted through Query")
	}
	if err := conn.QueryRowContext(ctx, ret, "e").Scan(&id); err != nil || id != 5 {
		t.Fatalf("after a failure through Query: id %d, %v", id, err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 5 {
		t.Fatalf("%d rows, %v", n, err)
	}
}

// The same text run again while its rows are open gets its own statement,
// and the outer rows go on from where they were.
func TestStatementCacheNested(t *testing.T) {
	ctx := context.Background()
	_, conn := cacheDB(t)
	const q = `SELECT v FROM t WHERE id >= $1 ORDER BY id`
	outer, err := conn.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var v string
		if err := outer.Scan(&v); err != nil {
			t.Fatal(err)
		}
		inner, err := conn.QueryContext(ctx, q, 3)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v+fmt.Sprint(values(t, inner)))
	}
	outer.Close()
	if fmt.Sprint(got) != "[a[c] b[c] c[c]]" {
		t.Fatalf("nested: %v", got)
	}
}

// A statement evicted while its rows are open is closed when they close;
// the cache never holds more than stmtCacheSize.
func TestStatementCacheEvicts(t *testing.T) {
	ctx := context.Background()
	_, conn := cacheDB(t)
	open, err := conn.QueryContext(ctx, `SELECT v FROM t ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	if !open.Next() {
		t.Fatal("no first row")
	}
	for i := range stmtCacheSize + 10 {
		var n int
		if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d`, i)).Scan(&n); err != nil || n != i {
			t.Fatalf("%d: %d %v", i, n, err)
		}
	}
	if n := cached(t, conn); n != stmtCacheSize {
		t.Fatalf("%d statements cached, want %d", n, stmtCacheSize)
	}
	if got := values(t, open); fmt.Sprint(got) != "[b c]" {
		t.Fatalf("rows of an evicted statement: %v", got)
	}
	rows, err := conn.QueryContext(ctx, `SELECT v FROM t ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	if got := values(t, rows); len(got) != 3 {
		t.Fatalf("the evicted text again: %v", got)
	}
}
