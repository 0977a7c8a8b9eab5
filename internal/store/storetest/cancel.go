package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"certflow/workflow"
)

// testCanceledCommands: commands cut off at any point — the client's
// deadline passing before, during or after the commit — and retried with
// their Idempotency-Key, as a client that saw no answer does, open every
// case once, leave it with exactly one transition and all of its rows,
// and the store fit for the next command. Promise 3 under cancellation.
func testCanceledCommands(t *testing.T, open Opener) {
	w := NewWorld(t, open)
	clerk := w.Actor("clerk")
	const n = 40
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		cut     int
		replays int
	)
	// attempt runs one try of a command with a deadline that passes
	// early for half the tries and anywhere in a command's time under this
	// load, its commit included, for the others; after 20 tries it gets
	// all the time it needs. It reports whether the deadline cut it off.
	attempt := func(i int, try func(ctx context.Context) error) (cutOff bool, err error) {
		ctx, cancel := w.Ctx, context.CancelFunc(func() {})
		if i < 20 {
			limit := 2 * time.Millisecond
			if rand.IntN(2) == 0 {
				limit = 100 * time.Millisecond
			}
			ctx, cancel = context.WithTimeout(w.Ctx, rand.N(limit))
		}
		defer cancel()
		err = try(ctx)
		if err != nil && ctx.Err() != nil {
			mu.Lock()
			cut++
			mu.Unlock()
			return true, err
		}
		return false, err
	}

	// Opening: each case once, however often its opening is cut off; one
	// applicant each (Art. 4: one application in progress per person).
	applicants := make([]int64, n)
	for i := range applicants {
		applicants[i] = w.ClonePerson("zhangwei", nil)
	}
	before := w.Counts()
	cases := make([]workflow.CaseView, n)
	for i := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := workflow.OpenCaseInput{Path: workflow.PathApplication, PersonID: applicants[i],
				Data: json.RawMessage(categories), IdempotencyKey: fmt.Sprint("open-cut-", i)}
			for try := 0; ; try++ {
				cutOff, err := attempt(try, func(ctx context.Context) (err error) {
					cases[i], err = w.Engine.OpenCase(ctx, clerk, in)
					return err
				})
				if cutOff {
					continue
				}
				if err != nil {
					t.Errorf("opening %d, try %d: %v", i, try, err)
				}
				return
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	after := w.Counts()
	for table, d := range map[string]int{"cases": n, "events": n, "idempotency": n} {
		if after[table]-before[table] != d {
			t.Fatalf("opening: %s %d → %d, want %+d", table, before[table], after[table], d)
		}
	}

	// Firing: one transition per case.
	before = after
	for _, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := workflow.Command{Actor: clerk, CaseID: c.ID, Event: workflow.EvSubmitForApproval,
				ExpectedVersion: c.Version, IdempotencyKey: fmt.Sprint("cut-", c.ID)}
			for try := 0; ; try++ {
				var res workflow.Result
				cutOff, err := attempt(try, func(ctx context.Context) (err error) {
					res, err = w.Engine.Fire(ctx, cmd)
					return err
				})
				if err == nil {
					mu.Lock()
					if res.Replayed {
						replays++
					}
					mu.Unlock()
					if res.Case.Version != c.Version+1 || res.Case.State != workflow.AppPendingApproval {
						t.Errorf("case %d: answered %s at version %d", c.ID, res.Case.State, res.Case.Version)
					}
					return
				}
				if !cutOff {
					t.Errorf("case %d, try %d: %v", c.ID, try, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if cut == 0 {
		t.Fatal("no command was cut off: the test tested nothing")
	}
	t.Logf("%d attempts cut off, %d answers replayed", cut, replays)
	after = w.Counts()
	for table, d := range map[string]int{"cases": 0, "events": n, "tasks": n, "documents": 2 * n, "river_job": 2 * n, "idempotency": n} {
		if after[table]-before[table] != d {
			t.Errorf("%s: %d → %d, want %+d", table, before[table], after[table], d)
		}
	}
	for _, c := range cases {
		v, err := w.Engine.CaseView(w.Ctx, clerk, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		nOpen := 0
		for _, tk := range v.Tasks {
			if tk.Status == workflow.TaskOpen {
				nOpen++
			}
		}
		if v.State != workflow.AppPendingApproval || v.Version != c.Version+1 || len(v.History) != int(v.Version) || nOpen != 1 || len(v.Documents) != 2 {
			t.Errorf("case %d: %s v%d, %d events, %d open tasks, %d documents", c.ID, v.State, v.Version, len(v.History), nOpen, len(v.Documents))
		}
		// The store takes the next command on every case.
		if _, err := w.Engine.Fire(w.Ctx, workflow.Command{Actor: clerk, CaseID: c.ID, Event: workflow.EvWithdraw, ExpectedVersion: v.Version, Comment: "撤回"}); err != nil {
			t.Errorf("case %d: the next command: %v", c.ID, err)
		}
	}
}
