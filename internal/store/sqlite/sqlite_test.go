package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"certflow/internal/store/sqlite"
	"certflow/internal/store/sqlstore"
	"certflow/internal/store/storetest"
)

func open(t testing.TB) *sqlstore.Store {
	s, _, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "certflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

// TestReopen: migrations are recorded, so opening an existing file again
// applies nothing and keeps the data.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certflow.db")
	for range 2 {
		s, _, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		files, err := sqlstore.MigrationFiles(sqlite.Migrations())
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.DB().QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(files) {
			t.Fatalf("schema_migrations: %d %v, want %d", n, err, len(files))
		}
		s.Close()
	}
}

func BenchmarkFire(b *testing.B) {
	storetest.Bench(b, func(tb testing.TB) (*sqlstore.Store, *river.Client[*sql.Tx]) {
		s, q, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "certflow.db"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s, q.Client
	})
}

func BenchmarkSupervision(b *testing.B) { storetest.BenchSupervision(b, open) }

func BenchmarkInbox(b *testing.B) { storetest.BenchInbox(b, open) }

// TestIndexedStatements: each hot statement's plan uses an index it is
// written for, with no statistics.
func TestIndexedStatements(t *testing.T) {
	index := regexp.MustCompile(`USING (?:COVERING )?INDEX (\w+)`)
	storetest.IndexedStatements(t, open, func(t *testing.T, s *sqlstore.Store, sql string) []string {
		rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+sql, make([]any, strings.Count(sql, "$"))...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		defer rows.Close()
		var used []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			if m := index.FindStringSubmatch(detail); m != nil {
				used = append(used, m[1])
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return used
	})
}
