package documents

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"certflow/workflow"
)

// BenchmarkRender renders the 登记表 with a warm browser, with 1 and 2
// tabs (one worker per tab), and reports throughput, latency percentiles,
// PDF size and the browser's memory (PSS over its process tree).
// Run it with BenchmarkOneShot, the naive integration, in the same run:
//
//	go test ./documents -run '^$' -bench . -benchtime 40x
func BenchmarkRender(b *testing.B) {
	needChromium(b)
	html, err := RenderHTML(SampleForm(workflow.DocRegistrationForm))
	if err != nil {
		b.Fatal(err)
	}
	for _, tabs := range []int{1, 2} {
		b.Run(fmt.Sprintf("tabs=%d", tabs), func(b *testing.B) {
			r, err := NewChromiumRenderer(ChromiumOptions{Tabs: tabs, RecycleAfter: -1, Logger: quietLogger()})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			ctx := context.Background()
			// Warm: the browser, every tab, the fonts.
			var wg sync.WaitGroup
			for range tabs {
				wg.Go(func() {
					for range 3 {
						if _, err := r.Render(ctx, html); err != nil {
							b.Error(err)
						}
					}
				})
			}
			wg.Wait()

			var (
				mu    sync.Mutex
				lat   []time.Duration
				bytes int
				next  atomic.Int64
			)
			b.ResetTimer()
			start := time.Now()
			for range tabs {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						t0 := time.Now()
						pdf, err := r.Render(ctx, html)
						d := time.Since(t0)
						if err != nil {
							b.Error(err)
							return
						}
						mu.Lock()
						lat, bytes = append(lat, d), bytes+len(pdf)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			reportLatency(b, lat, elapsed, bytes)
			pss, procs, err := treePSS(r.Stats().PID)
			if err != nil {
				b.Logf("PSS: %v", err)
				return
			}
			b.ReportMetric(float64(pss)/(1<<20), "PSS-MiB")
			b.Logf("tabs=%d: browser PSS %.0f MiB over %d processes", tabs, float64(pss)/(1<<20), procs)
		})
	}
}

// BenchmarkOneShot is the naive integration: one `chromium --headless
// --print-to-pdf` process per document, with the same flags and a fresh
// profile each time.
func BenchmarkOneShot(b *testing.B) {
	needChromium(b)
	html, err := RenderHTML(SampleForm(workflow.DocRegistrationForm))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	page := filepath.Join(dir, "registration_form.html")
	if err := os.WriteFile(page, html, 0o644); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	bytes := 0
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		t0 := time.Now()
		out := filepath.Join(dir, fmt.Sprintf("out-%d.pdf", i))
		profile := filepath.Join(dir, fmt.Sprintf("profile-%d", i))
		args := append(slices.Clone(ChromiumFlags), "--user-data-dir="+profile, "--no-pdf-header-footer",
			"--print-to-pdf="+out, "file://"+page)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, chromiumPath, args...)
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
		if msg, err := cmd.CombinedOutput(); err != nil {
			cancel()
			b.Fatalf("one-shot chromium: %v\n%s", err, msg)
		}
		cancel()
		pdf, err := os.ReadFile(out)
		if err == nil {
			err = CheckPDF(pdf)
		}
		if err != nil {
			b.Fatal(err)
		}
		lat, bytes = append(lat, time.Since(t0)), bytes+len(pdf)
		b.StopTimer()
		os.RemoveAll(profile)
		os.Remove(out)
		b.StartTimer()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatency(b, lat, elapsed, bytes)
}

// reportLatency reports docs/s, p50/p99 in ms and the mean PDF size in KB.
func reportLatency(b *testing.B, lat []time.Duration, elapsed time.Duration, bytes int) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(p*float64(len(lat))+0.5) - 1
		return float64(lat[max(0, min(i, len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "docs/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(bytes)/float64(len(lat))/1024, "KB/doc")
}

// treePSS sums the proportional set size (Pss in /proc/<pid>/smaps_rollup)
// of pid and all its descendants, and counts the processes.
func treePSS(pid int) (int64, int, error) {
	if pid <= 0 {
		return 0, 0, fmt.Errorf("no browser process")
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, err
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces and parentheses.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], p)
	}
	var total int64
	n := 0
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = append(queue[1:], children[p]...)
		kb, err := pssKB(p)
		if err != nil {
			continue // exited meanwhile
		}
		total += kb * 1024
		n++
	}
	return total, n, nil
}

func pssKB(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no Pss in smaps_rollup of %d", pid)
}
