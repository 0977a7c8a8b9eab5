package postgres_test

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/riverqueue/river"

	"certflow/internal/store/postgres"
	"certflow/internal/store/sqlite"
	"certflow/internal/store/sqlstore"
	"certflow/internal/store/storetest"
)

func TestConformance(t *testing.T) { storetest.Run(t, postgres.OpenTest) }

func BenchmarkFire(b *testing.B) {
	storetest.Bench(b, func(tb testing.TB) (*sqlstore.Store, *river.Client[*sql.Tx]) {
		s, q := postgres.OpenTestQueue(tb)
		return s, q.Client
	})
}

func BenchmarkSupervision(b *testing.B) { storetest.BenchSupervision(b, postgres.OpenTest) }

// TestMigrationsMatch: both databases have the same migrations, numbered
// the same, so a schema change is never made for one only.
func TestMigrationsMatch(t *testing.T) {
	pg, err := sqlstore.MigrationFiles(postgres.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	lite, err := sqlstore.MigrationFiles(sqlite.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) == 0 || fmt.Sprint(pg) != fmt.Sprint(lite) {
		t.Fatalf("PostgreSQL %v, SQLite %v", pg, lite)
	}
}

func BenchmarkInbox(b *testing.B) { storetest.BenchInbox(b, postgres.OpenTest) }
