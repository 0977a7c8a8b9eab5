package documents

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"certflow/workflow"
)

// TestGolden renders every kind's SampleForm and compares the text
// pdftotext -layout extracts, and the page count, with
// testdata/<kind>.golden.txt (go test ./documents -update rewrites them).
// Every PDF must embed only TrueType fonts, and no text line may start
// with closing punctuation.
func TestGolden(t *testing.T) {
	r := sharedRenderer(t)
	for _, k := range workflow.DocumentKinds {
		t.Run(string(k.Kind), func(t *testing.T) {
			t.Parallel()
			html, err := RenderHTML(SampleForm(k.Kind))
			if err != nil {
				t.Fatal(err)
			}
			pdf, err := r.Render(testContext(t), html)
			if err != nil {
				t.Fatal(err)
			}
			if len(pdf) > 100<<10 {
				t.Errorf("PDF of %d KB, want at most 100 KB", len(pdf)>>10)
			}
			checkFonts(t, pdf)
			text := pdfText(t, string(k.Kind)+".pdf", pdf, true)
			got := fmt.Sprintf("pages: %d\n\n%s", pdfPages(t, pdf), text)
			checkLineStarts(t, text)
			golden := filepath.Join("testdata", string(k.Kind)+".golden.txt")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./documents -update)", err)
			}
			if got != string(want) {
				t.Errorf("text of %s differs from %s (run with -update after checking the PDF):\n%s", k.Kind, golden, lineDiff(string(want), got))
			}
		})
	}
}

// forbiddenLineStarts may not begin a line in Chinese typesetting.
const forbiddenLineStarts = "）》」』】〕，。、；：！？"

// checkLineStarts fails when a line of text, or a column of a layout line
// (columns are two or more spaces apart), starts with closing punctuation.
func checkLineStarts(t *testing.T, text string) {
	t.Helper()
	for line := range strings.Lines(text) {
		for _, col := range strings.Split(line, "  ") {
			col = strings.TrimSpace(col)
			if r, _ := utf8.DecodeRuneInString(col); col != "" && strings.ContainsRune(forbiddenLineStarts, r) {
				t.Errorf("a line starts with %q: %q", r, strings.TrimSpace(line))
			}
		}
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 8; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// TestLineBreaking sets paragraphs full of closing punctuation at every
// offset of the line, so some "）" and "，" must fall at a line's end: the
// browser must move the character before them down rather than start a
// line with them.
func TestLineBreaking(t *testing.T) {
	r := sharedRenderer(t)
	f := SampleForm(workflow.DocOutcomeNotice)
	var b strings.Builder
	for shift := range 18 {
		b.WriteString(strings.Repeat("测", shift))
		for i := range 6 {
			fmt.Fprintf(&b, "（%s）依据第十七条（第%d项），当事人提出申辩，法制机构复核。", chineseNumber(i+1), i+1)
		}
	}
	f.Fields["outcome"] = b.String()
	html, err := RenderHTML(f)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := r.Render(testContext(t), html)
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, "linebreak.pdf", pdf, false)
	if !strings.Contains(text, "法制机构复核") {
		t.Fatalf("the paragraph is missing from the text:\n%s", text)
	}
	checkLineStarts(t, text)
}

// TestBadData: markup in a name prints as text; an absurdly long name
// still gives a valid PDF.
func TestBadData(t *testing.T) {
	r := sharedRenderer(t)
	long := strings.Repeat("阿", 150) + strings.Repeat("Averyveryverylongname", 7) + "·买买提"
	tests := []struct {
		name     string
		person   string
		wantText string
	}{
		{"script", `<script>alert("x")</script>`, "<script>"},
		{"markup", `<b>王</b><img src=x onerror=alert(1)>`, "<img"},
		{"long", long, strings.Repeat("阿", 20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := SampleForm(workflow.DocRegistrationForm)
			f.Person.Name = tt.person
			html, err := RenderHTML(f)
			if err != nil {
				t.Fatal(err)
			}
			pdf, err := r.Render(testContext(t), html)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckPDF(pdf); err != nil {
				t.Fatal(err)
			}
			if n := pdfPages(t, pdf); n < 1 || n > 3 {
				t.Errorf("%d pages", n)
			}
			checkFonts(t, pdf)
			text := strings.Join(strings.Fields(pdfText(t, tt.name+".pdf", pdf, false)), "")
			if !strings.Contains(text, tt.wantText) {
				t.Errorf("the PDF text lacks %q:\n%s", tt.wantText, text)
			}
		})
	}
}

// TestKillBrowserMidBatch kills the browser while a batch of documents
// renders (its main process, or its whole process tree): every Render still
// returns its own valid PDF, once.
func TestKillBrowserMidBatch(t *testing.T) {
	needChromium(t)
	for _, tree := range []bool{false, true} {
		name := "browser process"
		if tree {
			name = "process tree"
		}
		t.Run(name, func(t *testing.T) { killMidBatch(t, tree) })
	}
}

func killMidBatch(t *testing.T, tree bool) {
	r, err := NewChromiumRenderer(ChromiumOptions{Tabs: 2, Timeout: 20 * time.Second, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := testContext(t)
	if err := r.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	before := r.Stats()

	const n = 12
	pdfs := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			f := SampleForm(workflow.DocReceipt)
			f.Person.Name = fmt.Sprintf("批次%02d号", i)
			html, err := RenderHTML(f)
			if err != nil {
				errs[i] = err
				return
			}
			pdfs[i], errs[i] = r.Render(ctx, html)
		})
	}
	// Kill the whole browser once a couple of documents are out: the rest
	// are in flight or queued.
	deadline := time.Now().Add(time.Minute)
	for r.Stats().Rendered < before.Rendered+2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	killed := []int{before.PID}
	if tree {
		killed = BrowserPIDs(before.Profile)
	}
	if len(killed) == 0 || killed[0] == 0 {
		t.Fatal("found no browser process to kill")
	}
	// Processes of the tree die with their parent: one already gone
	// (ESRCH) is no failure, as long as the kill reached the browser.
	hit := 0
	for _, pid := range killed {
		switch err := syscall.Kill(pid, syscall.SIGKILL); {
		case err == nil:
			hit++
		case !errors.Is(err, syscall.ESRCH):
			t.Errorf("kill %d: %v", pid, err)
		}
	}
	if hit == 0 {
		t.Fatalf("killed none of %v", killed)
	}
	wg.Wait()

	seen := map[[32]byte]int{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("document %d: %v", i, errs[i])
			continue
		}
		if err := CheckPDF(pdfs[i]); err != nil {
			t.Errorf("document %d: %v", i, err)
			continue
		}
		sum := sha256.Sum256(pdfs[i])
		if j, dup := seen[sum]; dup {
			t.Errorf("documents %d and %d returned the same PDF", j, i)
		}
		seen[sum] = i
		text := pdfText(t, fmt.Sprintf("batch-%02d.pdf", i), pdfs[i], false)
		for j := range n {
			if has := strings.Contains(text, fmt.Sprintf("批次%02d号", j)); has != (i == j) {
				t.Errorf("document %d: holds the name of document %d: %v", i, j, has)
			}
		}
	}
	after := r.Stats()
	if after.Killed < 1 || after.Started < before.Started+1 {
		t.Errorf("stats %+v after %+v: want a killed and a restarted browser", after, before)
	}
	if after.Rendered != before.Rendered+n {
		t.Errorf("rendered %d documents, want %d", after.Rendered-before.Rendered, n)
	}
	if after.PID == before.PID {
		t.Errorf("still browser %d", after.PID)
	}
	waitGone(t, before.Profile)
}

// waitGone waits until no process of profile is left and its directory is
// removed.
func waitGone(t *testing.T, profile string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := BrowserPIDs(profile)
		_, statErr := os.Stat(profile)
		if len(pids) == 0 && errors.Is(statErr, os.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("browser %s: processes %v left, profile stat: %v", profile, pids, statErr)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHungBrowserRestarted stops the browser (SIGSTOP): the document times
// out, the browser is killed and a new one renders it.
func TestHungBrowserRestarted(t *testing.T) {
	needChromium(t)
	r, err := NewChromiumRenderer(ChromiumOptions{Tabs: 1, Timeout: 5 * time.Second, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := testContext(t)
	if err := r.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	before := r.Stats()
	for _, pid := range BrowserPIDs(before.Profile) {
		syscall.Kill(pid, syscall.SIGSTOP)
	}
	html, err := RenderHTML(SampleForm(workflow.DocLossNotice))
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	pdf, err := r.Render(ctx, html)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPDF(pdf); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < 5*time.Second {
		t.Errorf("rendered in %s although the browser was stopped", took)
	}
	// On a loaded machine a restart can itself time out: at least one.
	if st := r.Stats(); st.Killed < 1 || st.Retries < 1 || st.PID == before.PID || st.PID == 0 {
		t.Errorf("stats %+v: want a killed browser, a retry, a new browser", st)
	}
	waitGone(t, before.Profile)
}

// TestRecycle: after RecycleAfter documents the browser is replaced, and
// the old one is gone once its last document is done.
func TestRecycle(t *testing.T) {
	needChromium(t)
	r, err := NewChromiumRenderer(ChromiumOptions{Tabs: 1, RecycleAfter: 3, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := testContext(t)
	html, err := RenderHTML(SampleForm(workflow.DocLossNotice))
	if err != nil {
		t.Fatal(err)
	}
	var profiles []string
	for range 7 {
		if _, err := r.Render(ctx, html); err != nil {
			t.Fatal(err)
		}
		if p := r.Stats().Profile; p != "" && !slices.Contains(profiles, p) {
			profiles = append(profiles, p)
		}
	}
	st := r.Stats()
	if st.Started != 3 || st.Killed != 0 || st.Rendered != 7 || len(profiles) != 3 {
		t.Errorf("stats %+v, browsers %v: want 3 browsers (3 documents each at most), none killed, 7 rendered", st, profiles)
	}
	for _, p := range profiles[:2] {
		waitGone(t, p)
	}
}

// TestRenderCancelledAndClosed: the caller's context ends a Render; after
// Close, Render fails with ErrClosed.
func TestRenderCancelledAndClosed(t *testing.T) {
	needChromium(t)
	r, err := NewChromiumRenderer(ChromiumOptions{Tabs: 1, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	html, err := RenderHTML(SampleForm(workflow.DocLossNotice))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Render(ctx, html); !errors.Is(err, context.Canceled) {
		t.Errorf("Render with a cancelled context: %v", err)
	}
	if _, err := r.Render(testContext(t), nil); err == nil {
		t.Error("Render of empty HTML succeeded")
	}
	// A caller that gives up mid-render gets its error at once; the tab
	// finishes in the background and serves the next document.
	for range 3 {
		short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		began := time.Now()
		_, err := r.Render(short, html)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Render with a 20ms deadline: %v", err)
		}
		if took := time.Since(began); took > time.Second {
			t.Errorf("Render returned %s after its deadline", took)
		}
	}
	if _, err := r.Render(testContext(t), html); err != nil {
		t.Fatal(err)
	}
	dir, profile := r.dir, r.Stats().Profile
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if pids := BrowserPIDs(profile); len(pids) > 0 {
		t.Errorf("processes %v left after Close", pids)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp dir %s left after Close: %v", dir, err)
	}
	if _, err := r.Render(testContext(t), html); !errors.Is(err, ErrClosed) {
		t.Errorf("Render after Close: %v", err)
	}
}

// TestFontsDir: a font only in FontsDir is used and embedded. The test font
// is Droid Sans Fallback renamed (same-length names, so no table moves).
func TestFontsDir(t *testing.T) {
	needChromium(t)
	src, err := os.ReadFile("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
	if err != nil {
		t.Skipf("no font to rename: %v", err)
	}
	font := src
	for old, repl := range map[string]string{"Droid Sans Fallback": "Certflow Test Fonts", "DroidSansFallback": "CertflowTestFonts"} {
		font = bytes.ReplaceAll(font, []byte(old), []byte(repl))
		font = bytes.ReplaceAll(font, utf16be(old), utf16be(repl))
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "certflow-test.ttf"), font, 0o644); err != nil {
		t.Fatal(err)
	}
	html := []byte(`<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>@page{size:A4;margin:20mm}
body{font-family:"Certflow Test Fonts";font-size:20pt}</style></head><body><p>部署单位自有字体 Licensed fonts</p></body></html>`)
	names := func(r *ChromiumRenderer) []string {
		pdf, err := r.Render(testContext(t), html)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range checkFonts(t, pdf) {
			out = append(out, f.name)
		}
		return out
	}
	r, err := NewChromiumRenderer(ChromiumOptions{Tabs: 1, FontsDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := names(r); !strings.Contains(strings.Join(got, " "), "CertflowTestFonts") {
		t.Errorf("with FontsDir the PDF embeds %v, want CertflowTestFonts", got)
	}
	if got := names(sharedRenderer(t)); strings.Contains(strings.Join(got, " "), "CertflowTestFonts") {
		t.Errorf("without FontsDir the PDF embeds %v", got)
	}
	if _, err := NewChromiumRenderer(ChromiumOptions{FontsDir: filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing FontsDir was accepted")
	}
}

func utf16be(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r>>8), byte(r))
	}
	return b
}

// TestMergeRendered merges real documents: the page counts add up.
func TestMergeRendered(t *testing.T) {
	r := sharedRenderer(t)
	var pdfs [][]byte
	want := 0
	for _, kind := range []workflow.DocKind{workflow.DocBatchList, workflow.DocRegistrationForm, workflow.DocCategoryProposal} {
		html, err := RenderHTML(SampleForm(kind))
		if err != nil {
			t.Fatal(err)
		}
		pdf, err := r.Render(testContext(t), html)
		if err != nil {
			t.Fatal(err)
		}
		pdfs = append(pdfs, pdf)
		want += pdfPages(t, pdf)
	}
	merged, err := Merge(pdfs...)
	if err != nil {
		t.Fatal(err)
	}
	if got := pdfPages(t, merged); got != want {
		t.Errorf("merged PDF has %d pages, want %d", got, want)
	}
	checkFonts(t, merged)
	text := pdfText(t, "merged.pdf", merged, false)
	for _, s := range []string{"行政执法证件申领汇总表", "行政执法证件登记表", "执法类别建议审批表"} {
		if !strings.Contains(text, s) {
			t.Errorf("merged text lacks %s", s)
		}
	}
}
