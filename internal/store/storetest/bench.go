package storetest

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"certflow/internal/store/sqlstore"
	"certflow/internal/tune"
	"certflow/workflow"
)

// BenchOpener is an Opener that also returns the store's River client,
// which the plain-SQL baseline uses for the same job inserts.
type BenchOpener func(b testing.TB) (*sqlstore.Store, *river.Client[*sql.Tx])

// Bench measures firing submit_for_approval — guards, state with version
// check, event, task closed and opened, two document rows and two River
// jobs — through the engine, against the same writes as plain SQL in one
// transaction, with 1 and 16 concurrent clients.
func Bench(b *testing.B, open BenchOpener) {
	tune.GC() // the runtime as certflow serve sets it
	for _, clients := range []int{1, 16} {
		name := "clients=1"
		if clients == 16 {
			name = "clients=16"
		}
		b.Run("engine/"+name, func(b *testing.B) { benchEngine(b, open, clients) })
		b.Run("plainSQL/"+name, func(b *testing.B) { benchPlain(b, open, clients) })
	}
}

// prepared opens n draft applications, each for a clone of 张伟 (one
// application in progress per person, Art. 4), untimed.
func prepared(b *testing.B, open BenchOpener, n int) (*World, *river.Client[*sql.Tx], []workflow.CaseView) {
	s, client := open(b)
	w := NewWorld(b, func(testing.TB) *sqlstore.Store { return s })
	clerk := w.Actor("clerk")
	cases := make([]workflow.CaseView, n)
	for i := range cases {
		v, err := w.Engine.OpenCase(w.Ctx, clerk, workflow.OpenCaseInput{Path: workflow.PathApplication, PersonID: w.ClonePerson("zhangwei", nil), Data: []byte(categories)})
		if err != nil {
			b.Fatal(err)
		}
		cases[i] = v
	}
	return w, client, cases
}

func parallel(b *testing.B, clients int, n int, fire func(i int) error) {
	var next atomic.Int64
	b.SetParallelism(clients)
	b.ResetTimer()
	start := time.Now()
	cpu0, cpuOK := machineCPU()
	own0 := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			if err := fire(i); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "transitions/s")
	// What certflow's side (this process: engine, driver, River) costs;
	// the rest of machine-cpu is the database's and the kernel's.
	b.ReportMetric(float64((processCPU()-own0).Microseconds())/float64(n), "process-cpu-µs/op")
	if cpu1, ok := machineCPU(); ok && cpuOK {
		// USER_HZ is 100 on Linux: a tick is 10 ms.
		b.ReportMetric(float64(cpu1-cpu0)*10_000/float64(n), "machine-cpu-µs/op")
	}
}

func benchEngine(b *testing.B, open BenchOpener, clients int) {
	w, _, cases := prepared(b, open, b.N)
	clerk := w.Actor("clerk")
	parallel(b, clients, b.N, func(i int) error {
		c := cases[i]
		_, err := w.Engine.Fire(context.Background(), workflow.Command{Actor: clerk, CaseID: c.ID, Event: workflow.EvSubmitForApproval, ExpectedVersion: c.Version})
		return err
	})
}

func benchPlain(b *testing.B, open BenchOpener, clients int) {
	w, client, cases := prepared(b, open, b.N)
	db := w.Store.DB()
	user := w.Data.Users["clerk"].ID
	parallel(b, clients, b.N, func(i int) error {
		c := cases[i]
		now := time.Now().UTC()
		tx, err := db.BeginTx(context.Background(), nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.Exec(`UPDATE cases SET state = $1, version = version + 1, data = $2, updated_at = $3 WHERE id = $4 AND version = $5`,
			workflow.AppPendingApproval, string(c.Data), now, c.ID, c.Version); err != nil {
			return err
		}
		var ev int64
		if err := tx.QueryRow(`INSERT INTO events (case_id, seq, event, from_state, to_state, actor_user_id, at, comment) VALUES ($1, $2, $3, $4, $5, $6, $7, '') RETURNING id`,
			c.ID, c.Version+1, workflow.EvSubmitForApproval, workflow.AppDraft, workflow.AppPendingApproval, user, now).Scan(&ev); err != nil {
			return err
		}
		// The open status bound, as the store binds it (sqlCloseTasks).
		if _, err := tx.Exec(`UPDATE tasks SET status = 'closed', closed_at = $1 WHERE case_id = $2 AND kind = $3 AND status = $4`, now, c.ID, workflow.TaskRevise, workflow.TaskOpen); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO tasks (case_id, kind, role, org_unit_id, status, created_at, path, subject_person_id, preparer_user_id) VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8)`,
			c.ID, workflow.TaskApprove, workflow.RolePrincipal, c.OrgUnitID, now, c.Path, c.PersonID, c.Preparer); err != nil {
			return err
		}
		var params []river.InsertManyParams
		for _, d := range []workflow.DocKind{workflow.DocRegistrationForm, workflow.DocCategoryProposal} {
			var id int64
			if err := tx.QueryRow(`INSERT INTO documents (case_id, event_id, doc, article, state, created_at, case_data) VALUES ($1, $2, $3, 'Art. 13', 'pending', $4, $5) RETURNING id`,
				c.ID, ev, d, now, string(c.Data)).Scan(&id); err != nil {
				return err
			}
			params = append(params, river.InsertManyParams{Args: workflow.DocumentJob{ID: id, CaseID: c.ID, EventID: ev, Doc: d, Article: "Art. 13"}})
		}
		if _, err := client.InsertManyTx(context.Background(), tx, params); err != nil {
			return err
		}
		return tx.Commit()
	})
}
