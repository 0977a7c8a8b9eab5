package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"certflow/internal/demo"
	"certflow/internal/store/postgres"
	"certflow/internal/store/sqlstore"
)

// buildBinary builds the real certflow binary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "certflow")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// startServer runs `certflow serve --addr 127.0.0.1:0 --demo` (and the
// extra flags) and returns its base URL; the process gets SIGTERM at
// cleanup and must exit cleanly.
func startServer(t *testing.T, bin string, database string, extra ...string) string {
	t.Helper()
	s := launch(t, bin, database, extra...)
	t.Cleanup(func() { s.stop(t) })
	return s.base
}

// server is a running `certflow serve`.
type server struct {
	cmd    *exec.Cmd
	base   string
	stderr *bytes.Buffer
	exited chan error
	done   bool // stopped or killed
}

// launch starts `certflow serve --addr 127.0.0.1:0 --demo` (and the extra
// flags) and waits until it listens. Stop it with stop, or kill it.
func launch(t *testing.T, bin string, database string, extra ...string) *server {
	t.Helper()
	renderer := "chromium"
	if _, err := os.Stat("/usr/bin/chromium"); err != nil && os.Getenv("CI") != "true" {
		renderer = "none" // documents stay pending; walk skips their download
	}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--database", database, "--demo", "--renderer", renderer}, extra...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening on (http://\S+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		s.exited <- cmd.Wait()
	}()
	select {
	case s.base = <-addr:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("server did not start: %s", s.stderr.String())
	}
	return s
}

// stop sends SIGINT and expects a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.done = true
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.exited:
		if err != nil {
			t.Errorf("server exit: %v\n%s", err, s.stderr.String())
		}
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Errorf("server did not shut down")
	}
}

// kill ends the server as a crash would (SIGKILL) and waits for it to go.
func (s *server) kill() {
	if s.done {
		return
	}
	s.done = true
	_ = s.cmd.Process.Kill()
	<-s.exited
}

type client struct {
	t    *testing.T
	base string
}

// do sends a JSON request as demo user and decodes the answer into out.
func (c client) do(user, method, path string, body any, wantStatus int, out any) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+demo.Token(user))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		c.t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, user, resp.StatusCode, wantStatus, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

type caseView struct {
	ID      int64  `json:"id"`
	State   string `json:"state"`
	Version int64  `json:"version"`
	Allowed []struct {
		Name string `json:"name"`
	} `json:"allowed_events"`
	History []json.RawMessage `json:"history"`
	Tasks   []struct {
		Kind   string `json:"kind"`
		Status string `json:"status"`
		DueOn  string `json:"due_on"`
	} `json:"tasks"`
}

func (c client) fire(user string, v caseView, event, comment string, data any) caseView {
	c.t.Helper()
	var out caseView
	c.do(user, "POST", fmt.Sprintf("/api/v1/cases/%d/events", v.ID), map[string]any{
		"event": event, "expected_version": v.Version, "comment": comment, "data": data,
	}, http.StatusOK, &out)
	return out
}

// walk drives the whole application path over HTTP with the demo users.
func walk(t *testing.T, base string) {
	c := client{t, base}
	c.do("", "GET", "/healthz", nil, http.StatusOK, nil)
	c.do("", "GET", "/api/v1/people", nil, http.StatusUnauthorized, nil)
	webLogin(t, base) // user_test.go
	var people struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	c.do("clerk", "GET", "/api/v1/people?name=张伟", nil, http.StatusOK, &people)
	if len(people.Items) != 1 {
		t.Fatalf("people named 张伟: %+v", people)
	}
	zw := people.Items[0].ID
	var v caseView
	c.do("clerk", "POST", "/api/v1/cases", map[string]any{
		"path": "application", "person_id": zw,
		"data": map[string]any{"proposed_categories": []string{"安全生产监督管理", "应急管理"}, "region": "天山区行政区域"},
	}, http.StatusCreated, &v)
	v = c.fire("clerk", v, "submit_for_approval", "", nil)
	// The clerk cannot approve; the leader can.
	c.do("clerk", "POST", fmt.Sprintf("/api/v1/cases/%d/events", v.ID), map[string]any{"event": "approve", "expected_version": v.Version}, http.StatusForbidden, nil)
	var inbox struct {
		Items []struct {
			CaseID int64  `json:"case_id"`
			Kind   string `json:"kind"`
		} `json:"items"`
	}
	c.do("leader", "GET", "/api/v1/inbox", nil, http.StatusOK, &inbox)
	if len(inbox.Items) == 0 || inbox.Items[0].CaseID != v.ID || inbox.Items[0].Kind != "approve_application" {
		t.Fatalf("leader's inbox %+v", inbox)
	}
	v = c.fire("leader", v, "approve", "同意", nil)
	v = c.fire("clerk", v, "submit_to_issuer", "", map[string]any{"submitted_on": time.Now().Format(time.DateOnly)})
	v = c.fire("justice", v, "issue", "", map[string]any{"number": "新0102-2026-0001", "valid_until": "2031-12-31"})
	v = c.fire("clerk", v, "record_receipt", "", nil)
	if v.State != "received" || len(v.History) != 6 {
		t.Fatalf("after receipt: %+v", v)
	}
	// Receipt opened the Art. 14 platform-entry case: two tasks in the clerk's inbox.
	var clerkInbox struct {
		Items []struct {
			Kind  string `json:"kind"`
			DueOn string `json:"due_on"`
		} `json:"items"`
	}
	c.do("clerk", "GET", "/api/v1/inbox", nil, http.StatusOK, &clerkInbox)
	open := 0
	for _, tk := range clerkInbox.Items {
		if strings.HasPrefix(tk.Kind, "platform_entry") {
			open++
		}
	}
	if open != 2 {
		t.Fatalf("Art. 14 tasks in the clerk's inbox: %+v", clerkInbox.Items)
	}
	var certs struct {
		Items []struct {
			Number string `json:"number"`
			State  string `json:"state"`
		} `json:"items"`
	}
	c.do("officer", "GET", "/api/v1/certificates", nil, http.StatusOK, &certs)
	if len(certs.Items) != 1 || certs.Items[0].State != "received" || certs.Items[0].Number != "新0102-2026-0001" {
		t.Fatalf("officer's certificates %+v", certs)
	}
	// The documents render in the background; the clerk downloads the 登记表.
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		downloadDocuments(t, c, v.ID)
	}

	// A guard refusal names the article.
	var liuyang struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	c.do("clerk", "GET", "/api/v1/people?name=刘洋", nil, http.StatusOK, &liuyang)
	var v2 caseView
	c.do("clerk", "POST", "/api/v1/cases", map[string]any{"path": "application", "person_id": liuyang.Items[0].ID,
		"data": map[string]any{"proposed_categories": []string{"消防监督管理"}}}, http.StatusCreated, &v2)
	var problem struct {
		Status     int `json:"status"`
		Violations []struct {
			Article string `json:"article"`
		} `json:"violations"`
	}
	c.do("clerk", "POST", fmt.Sprintf("/api/v1/cases/%d/events", v2.ID), map[string]any{"event": "submit_for_approval", "expected_version": v2.Version}, http.StatusUnprocessableEntity, &problem)
	if len(problem.Violations) != 1 || problem.Violations[0].Article != "Art. 9(1)(3)" {
		t.Fatalf("refusal %+v", problem)
	}
	// Another region sees nothing of it.
	c.do("tacheng-clerk", "GET", fmt.Sprintf("/api/v1/cases/%d", v.ID), nil, http.StatusNotFound, nil)

	// The public files a complaint about the new certificate without logging in;
	// the clerk of its department finds the handling task.
	var receipt struct {
		CaseNumber string `json:"case_number"` // never given: it would tell where the complaint went
		LookupCode string `json:"lookup_code"`
	}
	c.do("", "POST", "/api/v1/public/complaints", map[string]any{
		"certificate_number": "新0102-2026-0001", "facts": "检查时未出示执法证件", "complainant_contact": "13800000000",
	}, http.StatusCreated, &receipt)
	if receipt.CaseNumber != "" || receipt.LookupCode == "" {
		t.Fatalf("receipt %+v", receipt)
	}
	c.do("clerk", "GET", "/api/v1/inbox", nil, http.StatusOK, &clerkInbox)
	found := false
	for _, tk := range clerkInbox.Items {
		found = found || tk.Kind == "handle_complaint"
	}
	if !found {
		t.Fatalf("no complaint task in the clerk's inbox: %+v", clerkInbox.Items)
	}
}

func TestServeEndToEndSQLite(t *testing.T) {
	bin := buildBinary(t)
	base := startServer(t, bin, filepath.Join(t.TempDir(), "certflow.db"))
	walk(t, base)
}

// schemaURL is the test database's URL with store's schema as the
// search path: what certflow is given to run on that schema alone.
func schemaURL(t *testing.T, store *sqlstore.Store) string {
	t.Helper()
	var schema string
	if err := store.DB().QueryRowContext(context.Background(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	url := postgres.TestURL()
	if strings.Contains(url, "?") {
		return url + "&search_path=" + schema
	}
	return url + "?search_path=" + schema
}

func TestServeEndToEndPostgres(t *testing.T) {
	store := postgres.OpenTest(t) // a fresh schema, skipped without a server (never under CI=true)
	url := schemaURL(t, store)
	// The schema is migrated but empty: serve --demo loads the demo data.
	bin := buildBinary(t)
	base := startServer(t, bin, url)
	walk(t, base)
}

func TestUserAddAndMigrate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "c.db")
	var out, errb bytes.Buffer
	ctx := context.Background()
	if err := run(ctx, []string{"migrate", "--database", db}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	err := run(ctx, []string{"user", "add", "--database", db, "--name", "x", "--role", "legal_clerk@650102"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "no org unit") {
		t.Fatalf("unknown unit: %v", err)
	}
	err = run(ctx, []string{"user", "add", "--database", db, "--name", "x", "--role", "boss@1"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "ROLE@UNIT") {
		t.Fatalf("unknown role: %v", err)
	}
}

// caseDocument is a document as GET /api/v1/cases/{id}/documents lists it.
type caseDocument struct {
	ID     int64  `json:"id"`
	Doc    string `json:"doc"`
	State  string `json:"state"`
	Error  string `json:"error"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// waitRendered waits until case id lists at least n documents, every one
// rendered, and returns them; a failed document fails t at once.
func waitRendered(t *testing.T, c client, id int64, n int) []caseDocument {
	t.Helper()
	var docs struct {
		Items []caseDocument `json:"items"`
	}
	for deadline := time.Now().Add(90 * time.Second); ; {
		c.do("clerk", "GET", fmt.Sprintf("/api/v1/cases/%d/documents", id), nil, http.StatusOK, &docs)
		done := 0
		for _, d := range docs.Items {
			if d.State == "failed" {
				t.Fatalf("%s failed: %s", d.Doc, d.Error)
			}
			if d.State == "rendered" {
				done++
			}
		}
		if len(docs.Items) >= n && done == len(docs.Items) {
			return docs.Items
		}
		if time.Now().After(deadline) {
			t.Fatalf("documents not rendered: %+v", docs.Items)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// downloadDocuments waits for case id's documents to render, then
// downloads the registration form and the merged file.
func downloadDocuments(t *testing.T, c client, id int64) {
	t.Helper()
	docs := waitRendered(t, c, id, 3)
	for _, d := range docs {
		if d.Doc != "registration_form" {
			continue
		}
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/documents/%d", c.base, d.ID), nil)
		req.Header.Set("Authorization", "Bearer "+demo.Token("clerk"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cd := resp.Header.Get("Content-Disposition")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(body, []byte("%PDF-")) ||
			resp.Header.Get("ETag") != `"`+d.SHA256+`"` || !strings.Contains(cd, "filename*=UTF-8''"+url.PathEscape("行政执法证件登记表-张伟-")) {
			t.Fatalf("download: %d %v %q", resp.StatusCode, resp.Header, body[:min(len(body), 20)])
		}
		// Another region may not download it.
		c.do("tacheng-clerk", "GET", fmt.Sprintf("/api/v1/documents/%d", d.ID), nil, http.StatusNotFound, nil)
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/cases/%d/documents.pdf", c.base, id), nil)
	req.Header.Set("Authorization", "Bearer "+demo.Token("clerk"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte("%PDF-")) {
		t.Fatalf("merged: %d", resp.StatusCode)
	}
}
