package postgres_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
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

// TestIndexedStatements: each hot statement's generic plan, the one a
// connection keeps, uses an index it is written for, however few rows the
// tables held when it was made.
func TestIndexedStatements(t *testing.T) {
	n := 0
	storetest.IndexedStatements(t, postgres.OpenTest, func(t *testing.T, s *sqlstore.Store, sql string) []string {
		ctx := context.Background()
		conn, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var mode string
		if err := conn.QueryRowContext(ctx, `SHOW plan_cache_mode`).Scan(&mode); err != nil || mode != "force_generic_plan" {
			t.Fatalf("plan_cache_mode %q %v: the store forces generic plans", mode, err)
		}
		n++
		name := fmt.Sprintf("indexed_%d", n)
		if _, err := conn.ExecContext(ctx, "PREPARE "+name+" AS "+sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		defer conn.ExecContext(ctx, "DEALLOCATE "+name)
		nulls := strings.TrimSuffix(strings.Repeat("NULL,", params(sql)), ",")
		var plan string
		if err := conn.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) EXECUTE "+name+"("+nulls+")").Scan(&plan); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return indexNames(t, plan)
	})
}

// params counts a statement's $n parameters.
func params(sql string) int {
	n := 0
	for _, m := range regexp.MustCompile(`\$(\d+)`).FindAllStringSubmatch(sql, -1) {
		k, _ := strconv.Atoi(m[1])
		n = max(n, k)
	}
	return n
}

// indexNames lists every "Index Name" in an EXPLAIN (FORMAT JSON) plan.
func indexNames(t *testing.T, plan string) []string {
	var v any
	if err := json.Unmarshal([]byte(plan), &v); err != nil {
		t.Fatal(err)
	}
	var names []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "Index Name" {
					names = append(names, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return names
}
