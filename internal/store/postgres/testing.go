package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"certflow/internal/store/sqlstore"
)

// DefaultTestURL is the local server CI and README use.
const DefaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// TestURL returns TEST_DATABASE_URL or the local default.
func TestURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultTestURL
}

// OpenTest opens a store in a new schema of the test database and drops the
// schema when t ends. Without a reachable server it skips the test, except
// under CI=true, where PostgreSQL tests must run: there it fails.
func OpenTest(t testing.TB) *sqlstore.Store {
	t.Helper()
	s, _ := OpenTestQueue(t)
	return s
}

// OpenTestQueue is OpenTest that also returns the store's River queue.
func OpenTestQueue(t testing.TB) (*sqlstore.Store, *sqlstore.Queue) {
	t.Helper()
	ctx := context.Background()
	base := TestURL()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s: %v (CI=true: PostgreSQL tests must run)", base, err)
		}
		t.Skipf("PostgreSQL at %s unreachable: %v", base, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "certflow_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close(ctx)
		t.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	params := u.Query()
	params.Set("search_path", schema)
	u.RawQuery = params.Encode()
	s, q, pool, err := Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		pool.Close()
		_, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(context.Background())
	})
	return s, q
}
