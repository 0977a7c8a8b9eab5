package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"certflow/internal/store/sqlstore"
	"certflow/internal/tune"
	"certflow/workflow"
)

// Region is a generated region-scale data set: 20,000 people, 25,000
// certificates, 1,000,000 tasks over about 100 departments.
type Region struct {
	Store       *sqlstore.Store
	Engine      *workflow.Engine
	Prefectures []int64 // department IDs
	Counties    []int64
	Leaving     []int64 // people with an open departure and certificates out
	Admin       *workflow.Actor
	Supervisors map[int64]*workflow.Actor // by prefecture
	Leaders     map[int64]*workflow.Actor // by county
}

// batchInsert inserts rows into table: on SQLite with one prepared
// statement per row (modernc binds many parameters slowly), on PostgreSQL in
// multi-row statements (one round trip per 500 rows).
func batchInsert(ctx context.Context, tx *sql.Tx, perRow bool, table string, cols []string, rows [][]any) error {
	if perRow {
		marks := make([]string, len(cols))
		for i := range marks {
			marks[i] = fmt.Sprintf("$%d", i+1)
		}
		st, err := tx.PrepareContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, strings.Join(cols, ", "), strings.Join(marks, ", ")))
		if err != nil {
			return err
		}
		defer st.Close()
		for _, r := range rows {
			if _, err := st.ExecContext(ctx, r...); err != nil {
				return fmt.Errorf("insert %s: %w", table, err)
			}
		}
		return nil
	}
	const per = 500
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
		args := make([]any, 0, len(chunk)*len(cols))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j := range r {
				if j > 0 {
					b.WriteString(", ")
				}
				args = append(args, r[j])
				fmt.Fprintf(&b, "$%d", len(args))
			}
			b.WriteByte(')')
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert %s: %w", table, err)
		}
	}
	return nil
}

// NewRegion generates the data set in a fresh store. IDs are assigned here
// (the tables are empty), so rows can refer to each other without reading back.
func NewRegion(tb testing.TB, open Opener, people, certificates, tasks int) *Region {
	tb.Helper()
	ctx := context.Background()
	s := open(tb)
	e, err := workflow.NewEngine(s, workflow.Options{Clock: func() time.Time { return Now }})
	if err != nil {
		tb.Fatal(err)
	}
	rg := &Region{Store: s, Engine: e, Supervisors: map[int64]*workflow.Actor{}, Leaders: map[int64]*workflow.Actor{}}
	rnd := rand.New(rand.NewPCG(1, 2))
	now := Now
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	perRow := s.Dialect().Name == "sqlite"
	// Org tree: 自治区 → 14 prefectures → 7 counties each; every county has
	// a business unit where its officers sit.
	var units [][]any
	id := int64(0)
	add := func(parent any, kind workflow.UnitKind, level workflow.Level, name, region string, dept int64, path string) int64 {
		id++
		if kind == workflow.UnitDepartment {
			dept = id
			path = path + fmt.Sprint(id) + "/"
		}
		units = append(units, []any{id, parent, string(kind), string(level), name, region, "", dept, path, 1})
		return id
	}
	root := add(nil, workflow.UnitDepartment, workflow.LevelRegion, "自治区应急管理厅", "650000", 0, "/")
	var business []int64
	unitDept := map[int64]int64{}
	for p := range 14 {
		pref := add(root, workflow.UnitDepartment, workflow.LevelPrefecture, fmt.Sprintf("地州%d应急管理局", p), fmt.Sprintf("65%02d00", p+1), 0, fmt.Sprintf("/%d/", root))
		rg.Prefectures = append(rg.Prefectures, pref)
		for c := range 7 {
			county := add(pref, workflow.UnitDepartment, workflow.LevelCounty, fmt.Sprintf("县%d-%d应急管理局", p, c), fmt.Sprintf("65%02d%02d", p+1, c+1), 0, fmt.Sprintf("/%d/%d/", root, pref))
			rg.Counties = append(rg.Counties, county)
			b := add(county, workflow.UnitBusiness, "", "执法大队", "", county, "")
			business = append(business, b)
			unitDept[b] = county
		}
	}
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(batchInsert(ctx, tx, perRow, "org_units", []string{"id", "parent_id", "kind", "level", "name", "region_code", "leadership_kind", "dept_id", "path", "version"}, units))
	must(batchInsert(ctx, tx, perRow, "users", []string{"id", "name", "disabled", "created_at"}, [][]any{{1, "generator", false, now}}))
	// People.
	personUnit := make([]int64, people+1)
	var rows [][]any
	for p := 1; p <= people; p++ {
		u := business[rnd.IntN(len(business))]
		personUnit[p] = u
		first17 := fmt.Sprintf("650102%04d%02d%02d%03d", 1970+p%30, 1+p%12, 1+p%28, p%1000)
		idn := first17 + string(workflow.IDCheckChar(first17))
		rows = append(rows, []any{p, fmt.Sprintf("人员%d", p), "男", workflow.MustDate(fmt.Sprintf("%s-%s-%s", idn[6:10], idn[10:12], idn[12:14])), idn + fmt.Sprintf("-%d", p), "科员", "本科", "", true, true, u, "active", 1})
	}
	must(batchInsert(ctx, tx, perRow, "people", []string{"id", "name", "sex", "birth_date", "id_number", "title", "education", "major", "staffed", "enforcement_post", "org_unit_id", "employment", "version"}, rows))
	// One application case per certificate, and the certificates.
	rows = rows[:0]
	var certRows [][]any
	certPerson := make([]int64, certificates+1)
	for c := 1; c <= certificates; c++ {
		p := int64(c)
		if c > people {
			p = int64(rnd.IntN(people) + 1)
		}
		certPerson[c] = p
		dept := unitDept[personUnit[p]]
		rows = append(rows, []any{c, fmt.Sprintf("650000-2026-%06d", c), "application", "received", 7, p, c, dept, 1, `{}`, now, now})
		state := "received"
		if c%10 == 0 {
			state = "cancelled"
		}
		certRows = append(certRows, []any{c, p, "enforcement", fmt.Sprintf("N%06d", c), "司法部门", `["应急管理"]`, "区域", workflow.MustDate("2025-01-01"), workflow.MustDate("2025-01-05"), workflow.MustDate("2030-01-01"), state, c, dept, 1})
	}
	// Departures: 2% of people, open, with their certificates out.
	caseID := int64(certificates)
	departures := map[int64]int64{}
	for p := int64(1); p <= int64(people); p += 50 {
		caseID++
		departures[p] = caseID
		rg.Leaving = append(rg.Leaving, p)
		rows = append(rows, []any{caseID, fmt.Sprintf("D-%06d", caseID), "departure", "open", 1, p, nil, unitDept[personUnit[p]], 1, `{"reason":"退休","effective_on":"2026-02-01"}`, now, now})
	}
	must(batchInsert(ctx, tx, perRow, "cases", []string{"id", "number", "path", "state", "version", "person_id", "certificate_id", "org_unit_id", "preparer_user_id", "data", "created_at", "updated_at"}, rows))
	must(batchInsert(ctx, tx, perRow, "certificates", []string{"id", "person_id", "kind", "number", "issuer", "categories", "region", "issued_on", "received_on", "valid_until", "state", "case_id", "org_unit_id", "version"}, certRows))
	// Tasks: spread over the cases, 10% open, due dates a year around today.
	rows = rows[:0]
	kinds := []string{"approve_application", "submit_to_issuer", "record_issuer_decision", "record_receipt", "platform_entry_emergency", "platform_entry_random"}
	roles := []string{"principal_leader", "legal_clerk", "justice_liaison", "legal_clerk", "legal_clerk", "legal_clerk"}
	for t := 1; t <= tasks; t++ {
		c := rnd.IntN(certificates) + 1
		k := rnd.IntN(len(kinds))
		status := "closed"
		var closed any = now
		if rnd.IntN(10) == 0 {
			status, closed = "open", nil
		}
		due := Today.AddDays(rnd.IntN(730) - 365)
		var cert any
		caseRef, path := int64(c), "application"
		if k == 5 && departures[certPerson[c]] != 0 {
			caseRef, cert, status, closed, path = departures[certPerson[c]], c, "open", nil, "departure"
		}
		// path, subject and preparer copy the case's (migration 003).
		rows = append(rows, []any{t, caseRef, kinds[k], roles[k], unitDept[personUnit[certPerson[c]]], cert, status, due, now, closed, path, certPerson[c], 1})
		if len(rows) == 5000 {
			must(batchInsert(ctx, tx, perRow, "tasks", taskColumns, rows))
			rows = rows[:0]
		}
	}
	must(batchInsert(ctx, tx, perRow, "tasks", taskColumns, rows))
	must(tx.Commit())
	if s.Dialect().Name == "postgres" {
		if _, err := s.DB().ExecContext(ctx, "SELECT setval(pg_get_serial_sequence('tasks','id'), (SELECT max(id) FROM tasks))"); err != nil {
			tb.Fatal(err)
		}
		atRest(tb, s)
	} else if _, err := s.DB().ExecContext(ctx, "ANALYZE"); err != nil {
		tb.Fatal(err)
	}
	runtime.GC() // the generator's garbage must not land in the measurements
	rg.Admin = &workflow.Actor{UserID: 1, Roles: []workflow.RoleBinding{{Role: workflow.RoleAdmin, OrgUnitID: root}}}
	for _, p := range rg.Prefectures {
		rg.Supervisors[p] = &workflow.Actor{UserID: 1, Roles: []workflow.RoleBinding{{Role: workflow.RoleSupervisor, OrgUnitID: p}}}
	}
	for _, c := range rg.Counties {
		rg.Leaders[c] = &workflow.Actor{UserID: 1, Roles: []workflow.RoleBinding{{Role: workflow.RolePrincipal, OrgUnitID: c}}}
	}
	return rg
}

var taskColumns = []string{"id", "case_id", "kind", "role", "org_unit_id", "certificate_id", "status", "due_on", "created_at", "closed_at",
	"path", "subject_person_id", "preparer_user_id"}

// latency runs fn b.N times and reports p50 and p99 in milliseconds.
func latency(b *testing.B, fn func(i int) error) {
	durs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := fn(i); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(start))
	}
	b.StopTimer()
	ReportLatencies(b, durs)
}

// ReportLatencies reports the p50 and p99 of durs in milliseconds.
func ReportLatencies(b *testing.B, durs []time.Duration) {
	slices.Sort(durs)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(durs[len(durs)/2]), "p50-ms")
	b.ReportMetric(ms(durs[len(durs)*99/100]), "p99-ms")
}

// atRest brings a PostgreSQL database just filled to where production
// would have it: VACUUM ANALYZE, as autovacuum would have run, and a
// CHECKPOINT, so the measurements do not overlap PostgreSQL writing out
// the rows just generated.
func atRest(tb testing.TB, s *sqlstore.Store) {
	tb.Helper()
	for _, q := range []string{"VACUUM ANALYZE", "CHECKPOINT"} {
		if _, err := s.DB().ExecContext(context.Background(), q); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchSupervision measures HR's and supervisors' questions on a
// region-scale data set.
func BenchSupervision(b *testing.B, open Opener) {
	tune.GC() // the runtime as certflow serve sets it
	rg := NewRegion(b, open, 20000, 25000, 1000000)
	ctx := context.Background()
	b.Run("blockers/person", func(b *testing.B) {
		latency(b, func(i int) error {
			p := rg.Leaving[i%len(rg.Leaving)]
			bs, err := rg.Engine.DepartureBlockers(ctx, rg.Admin, p)
			if err == nil && len(bs) != 1 {
				err = fmt.Errorf("person %d: %d blockers", p, len(bs))
			}
			return err
		})
	})
	b.Run("blockers/prefecture", func(b *testing.B) {
		latency(b, func(i int) error {
			p := rg.Prefectures[i%len(rg.Prefectures)]
			bs, err := rg.Engine.DepartureBlockers(ctx, rg.Supervisors[p], 0)
			if err == nil && len(bs) == 0 {
				err = fmt.Errorf("prefecture %d: no blockers", p)
			}
			return err
		})
	})
	b.Run("overdue/county", func(b *testing.B) {
		latency(b, func(i int) error {
			c := rg.Counties[i%len(rg.Counties)]
			ts, _, err := rg.Engine.Overdue(ctx, rg.Leaders[c], c, 0, 100)
			if err == nil && len(ts) == 0 {
				err = fmt.Errorf("county %d: nothing overdue", c)
			}
			return err
		})
	})
}
