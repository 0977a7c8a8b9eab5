package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"certflow/internal/demo"
	"certflow/internal/store/postgres"
	"certflow/workflow"
)

// TestServeSurvivesKill: certflow serve is killed (SIGKILL) while 30
// clerks' submissions are in flight, and started again on the same
// database. Each clerk retries with the Idempotency-Key of its request
// until it is answered, as a client that saw no answer does. Every case
// then holds exactly one submission — its event, its task, its two
// documents — and every document its River job: nothing lost, nothing
// twice (promise 3).
func TestServeSurvivesKill(t *testing.T) {
	bin := buildBinary(t)
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "certflow.db")
		survivesKill(t, bin, path, func() *sql.DB {
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
	t.Run("postgres", func(t *testing.T) {
		store := postgres.OpenTest(t) // a fresh schema, skipped without a server (never under CI=true)
		survivesKill(t, bin, schemaURL(t, store), func() *sql.DB { return store.DB() })
	})
}

// cloneOf records, as the demo clerk, the i-th copy of person id with
// their trainings: an applicant as eligible as they are (one person has
// one application in progress, Art. 4).
func (c client) cloneOf(id int64, i int) int64 {
	c.t.Helper()
	var p map[string]any
	c.do("clerk", "GET", fmt.Sprintf("/api/v1/people/%d", id), nil, http.StatusOK, &p)
	var trainings struct{ Items []map[string]any }
	c.do("clerk", "GET", fmt.Sprintf("/api/v1/people/%d/trainings", id), nil, http.StatusOK, &trainings)
	first17 := fmt.Sprintf("65010219880101%03d", 100+i)
	p["id_number"] = first17 + string(workflow.IDCheckChar(first17))
	p["name"] = fmt.Sprintf("%s%d", p["name"], i)
	for _, k := range []string{"id", "version", "birth_date", "sex"} {
		delete(p, k)
	}
	var made struct{ ID int64 }
	c.do("clerk", "POST", "/api/v1/people", p, http.StatusCreated, &made)
	for _, tr := range trainings.Items {
		for _, k := range []string{"id", "version", "person_id"} {
			delete(tr, k)
		}
		c.do("clerk", "POST", fmt.Sprintf("/api/v1/people/%d/trainings", made.ID), tr, http.StatusCreated, nil)
	}
	return made.ID
}

func survivesKill(t *testing.T, bin, database string, open func() *sql.DB) {
	const n = 30
	srv := launch(t, bin, database, "--renderer", "none")
	t.Cleanup(func() { srv.kill() }) // whichever runs when the test ends early
	var base atomic.Value
	base.Store(srv.base)
	c := client{t, srv.base}
	ids := make([]int64, n)
	for i := range ids {
		var v caseView
		c.do("clerk", "POST", "/api/v1/cases", map[string]any{"path": "application", "person_id": c.cloneOf(1, i),
			"data": map[string]any{"proposed_categories": []string{"安全生产监督管理"}, "region": "天山区行政区域"}}, http.StatusCreated, &v)
		ids[i] = v.ID
	}

	// submit sends case id's submission until it is answered; a
	// connection refused or cut (the server down) is tried again, for a
	// minute at most.
	var answered, cut atomic.Int64
	submit := func(id int64) (int, []byte) {
		body, _ := json.Marshal(map[string]any{"event": "submit_for_approval", "expected_version": 1})
		for giveUp := time.Now().Add(time.Minute); time.Now().Before(giveUp); {
			req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/cases/%d/events", base.Load(), id), bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+demo.Token("clerk"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", fmt.Sprint("kill-", id))
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				b, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if rerr == nil {
					answered.Add(1)
					return resp.StatusCode, b
				}
			}
			cut.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
		return 0, []byte("no answer within a minute")
	}
	var wg sync.WaitGroup
	results := make([]struct {
		status int
		body   []byte
	}, n)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].status, results[i].body = submit(id)
		}()
	}
	// Kill the server once the first answers are in: the others are
	// queued, running or committing.
	for deadline := time.Now().Add(10 * time.Second); answered.Load() < 3 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	srv.kill()
	before := answered.Load()
	srv = launch(t, bin, database, "--renderer", "none")
	base.Store(srv.base)
	wg.Wait()
	t.Logf("%d answered before the kill, %d requests cut off and sent again", before, cut.Load())
	if before == n {
		t.Fatal("every submission was answered before the kill: the test tested nothing")
	}

	c = client{t, srv.base}
	for i, id := range ids {
		var v caseView
		if results[i].status != http.StatusOK {
			t.Errorf("case %d: status %d: %s", id, results[i].status, results[i].body)
			continue
		}
		if err := json.Unmarshal(results[i].body, &v); err != nil || v.State != "pending_approval" || v.Version != 2 {
			t.Errorf("case %d answered %s v%d (%v)", id, v.State, v.Version, err)
		}
		c.do("clerk", "GET", fmt.Sprintf("/api/v1/cases/%d", id), nil, http.StatusOK, &v)
		nOpen := 0
		for _, tk := range v.Tasks {
			if tk.Status == "open" {
				nOpen++
			}
		}
		if v.State != "pending_approval" || v.Version != 2 || len(v.History) != 2 || nOpen != 1 {
			t.Errorf("case %d: %s v%d, %d events, %d open tasks", id, v.State, v.Version, len(v.History), nOpen)
		}
	}
	srv.stop(t)
	db := open()
	var docs, jobs, keys int
	for q, dst := range map[string]*int{
		"SELECT count(*) FROM documents":                                &docs,
		"SELECT count(*) FROM river_job WHERE kind = 'render_document'": &jobs,
		"SELECT count(*) FROM idempotency":                              &keys,
	} {
		if err := db.QueryRow(q).Scan(dst); err != nil {
			t.Fatal(err)
		}
	}
	if docs != 2*n || jobs != docs || keys != n {
		t.Errorf("%d documents, %d render jobs, %d idempotency keys; want %d, %d, %d", docs, jobs, keys, 2*n, 2*n, n)
	}
}
