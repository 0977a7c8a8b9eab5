package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"certflow/internal/demo"
)

// get downloads path as demo user: status, headers, body.
func (c client) get(user, path string) (int, http.Header, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+demo.Token(user))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// TestServeDocumentsDir runs `certflow serve --documents-dir` on SQLite:
// rendered PDFs land under the directory as <sha256>.pdf, the database
// keeps their path and no bytes, and downloads carry the file's bytes with
// the ETag of their hash. A file that went missing or changed on disk is a
// 500 of type document-lost naming the document: never a wrong PDF.
func TestServeDocumentsDir(t *testing.T) {
	if _, err := exec.LookPath("/usr/bin/chromium"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required in CI: %v", err)
		}
		t.Skipf("chromium not installed: %v", err)
	}
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "documents")
	database := filepath.Join(t.TempDir(), "certflow.db")
	c := client{t, startServer(t, bin, database, "--documents-dir", dir)}

	var people struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	c.do("clerk", "GET", "/api/v1/people?name=张伟", nil, http.StatusOK, &people)
	var v caseView
	c.do("clerk", "POST", "/api/v1/cases", map[string]any{"path": "application", "person_id": people.Items[0].ID,
		"data": map[string]any{"proposed_categories": []string{"安全生产监督管理"}}}, http.StatusCreated, &v)
	v = c.fire("clerk", v, "submit_for_approval", "", nil) // the 登记表 and the 执法类别建议审批表

	docs := waitRendered(t, c, v.ID, 2)
	if len(docs) != 2 {
		t.Fatalf("%d documents, want the 2 of submit_for_approval: %+v", len(docs), docs)
	}

	// The files: one per document, named by its hash, holding its bytes.
	var files []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range docs {
		want = append(want, filepath.Join(dir, d.SHA256[:2], d.SHA256+".pdf"))
	}
	slices.Sort(files)
	slices.Sort(want)
	if !slices.Equal(files, want) {
		t.Fatalf("files under --documents-dir %v, want %v", files, want)
	}

	// The database keeps the path and the hash, no bytes.
	db, err := sql.Open("sqlite", "file:"+database+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), `SELECT id, content IS NULL, storage_path, sha256 FROM documents WHERE state = 'rendered' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var id int64
		var noBytes bool
		var path, sum string
		if err := rows.Scan(&id, &noBytes, &path, &sum); err != nil {
			t.Fatal(err)
		}
		if !noBytes || path != filepath.Join(dir, sum[:2], sum+".pdf") {
			t.Errorf("document %d: content NULL %v, storage_path %q", id, noBytes, path)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if n != 2 {
		t.Errorf("%d rendered rows, want 2", n)
	}

	// Downloads: the file's bytes, the ETag of their hash.
	for _, d := range docs {
		status, h, body := c.get("clerk", fmt.Sprintf("/api/v1/documents/%d", d.ID))
		sum := sha256.Sum256(body)
		file, err := os.ReadFile(filepath.Join(dir, d.SHA256[:2], d.SHA256+".pdf"))
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusOK || h.Get("Content-Type") != "application/pdf" || h.Get("ETag") != `"`+d.SHA256+`"` ||
			hex.EncodeToString(sum[:]) != d.SHA256 || string(body) != string(file) || int64(len(body)) != d.Size {
			t.Fatalf("download of %s: %d %v, %d bytes", d.Doc, status, h, len(body))
		}
	}

	// One file goes missing, the other changes: each download says so.
	lost, changed := docs[0], docs[1]
	if err := os.Remove(filepath.Join(dir, lost.SHA256[:2], lost.SHA256+".pdf")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, changed.SHA256[:2], changed.SHA256+".pdf")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x20 // still a PDF by its looks
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		d    caseDocument
		want string
	}{
		{lost, "is missing from the documents directory"},
		{changed, "does not match the SHA-256"},
	} {
		status, h, body := c.get("clerk", fmt.Sprintf("/api/v1/documents/%d", tc.d.ID))
		var p struct {
			Type   string `json:"type"`
			Detail string `json:"detail"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("download of a damaged %s: %d %s: %v", tc.d.Doc, status, h.Get("Content-Type"), err)
		}
		if status != http.StatusInternalServerError || h.Get("Content-Type") != "application/problem+json" || h.Get("ETag") != "" ||
			!strings.HasSuffix(p.Type, "/document-lost") || !strings.Contains(p.Detail, tc.want) || !strings.Contains(p.Detail, fmt.Sprintf("document %d", tc.d.ID)) {
			t.Errorf("download of a damaged %s: %d %v %+v", tc.d.Doc, status, h, p)
		}
		if strings.Contains(p.Detail, dir) {
			t.Errorf("the problem names the server's directory: %s", p.Detail)
		}
	}
	if status, _, _ := c.get("clerk", fmt.Sprintf("/api/v1/cases/%d/documents.pdf", v.ID)); status != http.StatusInternalServerError {
		t.Errorf("merged download with damaged files: %d", status)
	}
}
