package postgres_test

import (
	"database/sql"
	"testing"

	"github.com/riverqueue/river"

	"certflow/internal/store/postgres"
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
