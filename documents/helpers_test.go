package documents

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	update = flag.Bool("update", false, "rewrite the golden files in testdata/")
	pdfDir = flag.String("pdfdir", "", "also write every rendered test PDF into this directory")
)

const chromiumPath = "/usr/bin/chromium"

// need skips the test when tool is missing, except in CI (CI=true), where
// the tools are installed and a missing one is a failure.
func need(tb testing.TB, tools ...string) {
	tb.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				tb.Fatalf("%s is required in CI: %v", tool, err)
			}
			tb.Skipf("%s not installed: %v", tool, err)
		}
	}
}

// needChromium is need for the browser and the poppler tools.
func needChromium(tb testing.TB) {
	tb.Helper()
	need(tb, chromiumPath, "pdftotext", "pdffonts", "pdfinfo")
}

var shared struct {
	once sync.Once
	r    *ChromiumRenderer
	err  error
}

// sharedRenderer is one warm renderer for the tests that need no special
// options; TestMain closes it.
func sharedRenderer(tb testing.TB) *ChromiumRenderer {
	tb.Helper()
	needChromium(tb)
	shared.once.Do(func() {
		shared.r, shared.err = NewChromiumRenderer(ChromiumOptions{Logger: quietLogger()})
		if shared.err == nil {
			shared.err = shared.r.Warm(context.Background())
		}
	})
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.r
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if shared.r != nil {
		shared.r.Close()
	}
	os.Exit(code)
}

func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// writeTemp writes b to a file in the test's temp dir.
func writeTemp(tb testing.TB, name string, b []byte) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	if *pdfDir != "" && strings.HasSuffix(name, ".pdf") {
		if err := os.MkdirAll(*pdfDir, 0o755); err == nil {
			os.WriteFile(filepath.Join(*pdfDir, name), b, 0o644)
		}
	}
	return path
}

func run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// pdfText is pdftotext's text of pdf, in layout mode or raw reading order.
func pdfText(tb testing.TB, name string, pdf []byte, layout bool) string {
	tb.Helper()
	path := writeTemp(tb, name, pdf)
	args := []string{"-enc", "UTF-8"}
	if layout {
		args = append(args, "-layout")
	}
	return run(tb, "pdftotext", append(args, path, "-")...)
}

// pdfPages is the page count pdfinfo reads.
func pdfPages(tb testing.TB, pdf []byte) int {
	tb.Helper()
	out := run(tb, "pdfinfo", writeTemp(tb, "info.pdf", pdf))
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(line, "Pages:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				tb.Fatalf("pdfinfo: %q", line)
			}
			return n
		}
	}
	tb.Fatalf("pdfinfo printed no page count:\n%s", out)
	return 0
}

// pdfFont is one row of pdffonts.
type pdfFont struct{ name, typ, emb string }

// pdfFonts lists the fonts of pdf as pdffonts sees them.
func pdfFonts(tb testing.TB, pdf []byte) []pdfFont {
	tb.Helper()
	out := run(tb, "pdffonts", writeTemp(tb, "fonts.pdf", pdf))
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 2 {
		tb.Fatalf("pdffonts: %q", out)
	}
	// The dashes under the header give the column widths.
	var cols [][2]int
	start := -1
	for i, c := range lines[1] + " " {
		switch {
		case c == '-' && start < 0:
			start = i
		case c != '-' && start >= 0:
			cols = append(cols, [2]int{start, i})
			start = -1
		}
	}
	field := func(line string, i int) string {
		a, b := cols[i][0], min(cols[i][1], len(line))
		if a >= len(line) {
			return ""
		}
		return strings.TrimSpace(line[a:b])
	}
	var fonts []pdfFont
	for _, line := range lines[2:] {
		fonts = append(fonts, pdfFont{name: field(line, 0), typ: field(line, 1), emb: field(line, 3)})
	}
	return fonts
}

// checkFonts fails unless every font of pdf is an embedded TrueType or CID
// TrueType font: no Type 3 (what CFF fonts and synthetic bold turn into),
// nothing left unembedded.
func checkFonts(tb testing.TB, pdf []byte) []pdfFont {
	tb.Helper()
	fonts := pdfFonts(tb, pdf)
	if len(fonts) == 0 {
		tb.Errorf("pdffonts lists no font")
	}
	for _, f := range fonts {
		if (f.typ != "TrueType" && f.typ != "CID TrueType") || f.emb != "yes" {
			tb.Errorf("font %s: type %q, embedded %q; want embedded (CID) TrueType", f.name, f.typ, f.emb)
		}
	}
	return fonts
}

// quietLogger drops everything: for the shared renderer, which outlives any
// one test.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testLogger sends the renderer's log to the test's log.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
