package documents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ChromiumOptions configures a ChromiumRenderer. The zero value is usable.
type ChromiumOptions struct {
	// ChromiumPath is the browser binary. Default /usr/bin/chromium.
	ChromiumPath string
	// Tabs is how many documents render at once, each in its own reused
	// tab. Default runtime.NumCPU(): more tabs than cores only add latency.
	Tabs int
	// RecycleAfter restarts the browser after that many documents, so a
	// slow leak in a long-lived browser never grows. Default 500; negative:
	// never.
	RecycleAfter int
	// Timeout bounds one attempt at one document (and the browser's start).
	// A browser that takes longer is taken as hung and restarted. Default 30s.
	Timeout time.Duration
	// Attempts is how often one document is tried before Render gives up:
	// a crashed or hung browser is restarted between attempts. Default 3.
	Attempts int
	// FontsDir is a directory of the deployment's own licensed fonts
	// (方正小标宋, 仿宋_GB2312 …). Chromium sees them besides the system's,
	// through a fontconfig file in the renderer's temp dir. Use TrueType
	// outlines (.ttf): CFF/OpenType-CFF fonts print as Type 3 glyphs.
	FontsDir string
	// Logger receives restarts, retries and the browser's own errors.
	// Default slog.Default().
	Logger *slog.Logger
}

func (o *ChromiumOptions) defaults() {
	if o.ChromiumPath == "" {
		o.ChromiumPath = "/usr/bin/chromium"
	}
	if o.Tabs <= 0 {
		o.Tabs = runtime.NumCPU()
	}
	if o.RecycleAfter == 0 {
		o.RecycleAfter = 500
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// ChromiumFlags are the switches the browser starts with: headless, no
// sandbox (the service runs as root in its container), no GPU, no network
// chatter, shared memory in /tmp. A fresh --user-data-dir is added per
// browser. See FIELD-NOTES.
var ChromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-dev-shm-usage", "--disable-extensions", "--disable-default-apps",
	"--disable-breakpad", "--no-default-browser-check", "--hide-scrollbars", "--mute-audio",
}

// PageFooterHTML is the footer printed on every page: 第 N 页 共 M 页. The
// renderers fill the page numbers (Chromium's pageNumber and totalPages
// classes); it sits in the bottom margin that @page leaves.
const PageFooterHTML = `<div style="width:100%;text-align:center;font-size:9pt;` +
	`font-family:'AR PL SungtiL GB','WenQuanYi Zen Hei','Droid Sans Fallback';">` +
	`第 <span class="pageNumber"></span> 页　共 <span class="totalPages"></span> 页</div>`

// ErrClosed is returned by Render after Close.
var ErrClosed = errors.New("documents: renderer closed")

// ChromiumRenderer renders with one long-lived headless Chromium and a pool
// of reused tabs (github.com/chromedp/chromedp). The browser starts with the
// first document; one that crashes or hangs is killed and started again, and
// the document is retried; after RecycleAfter documents it is replaced once
// its last document is done. Render is safe for concurrent use.
type ChromiumRenderer struct {
	opts ChromiumOptions
	log  *slog.Logger
	dir  string   // temp dir: fonts.conf, one profile per browser
	env  []string // extra environment of the browser

	slots    chan *slot
	starting chan struct{} // a one-token lock: held while a browser starts

	mu       sync.Mutex
	cur      *browser // serves new documents; nil until (re)started
	live     map[*browser]struct{}
	gen      int
	closed   bool
	stopping sync.WaitGroup // browsers and tabs being stopped
	work     sync.WaitGroup // attempts running

	rendered, started, killed, retries atomic.Int64
}

var _ Renderer = (*ChromiumRenderer)(nil)

// browser is one Chromium process.
type browser struct {
	gen     int
	pid     int
	profile string
	ctx     context.Context // the browser's chromedp context: its first tab
	cancel  context.CancelFunc
	alloc   context.CancelFunc

	// guarded by ChromiumRenderer.mu
	refs     int  // documents in flight on it
	docs     int  // documents begun on it
	retiring bool // recycled: stop when refs reaches 0
	dead     bool // crashed, hung or stopped
	initial  bool // its first tab was handed to a slot

	initialFrame cdp.FrameID

	stopOnce sync.Once
}

// slot is one place in the tab pool; its tab is remade when the browser
// changes.
type slot struct{ tab *tab }

// tab is a reused page of one browser.
type tab struct {
	b       *browser
	ctx     context.Context
	cancel  context.CancelFunc // nil for the browser's first tab
	frameID cdp.FrameID
}

// NewChromiumRenderer prepares a renderer. The browser starts with the
// first Render (call Warm to start it now).
func NewChromiumRenderer(opts ChromiumOptions) (*ChromiumRenderer, error) {
	opts.defaults()
	if _, err := os.Stat(opts.ChromiumPath); err != nil {
		return nil, fmt.Errorf("documents: chromium: %w", err)
	}
	dir, err := os.MkdirTemp("", "certflow-chromium-")
	if err != nil {
		return nil, fmt.Errorf("documents: chromium: %w", err)
	}
	r := &ChromiumRenderer{
		opts:     opts,
		log:      opts.Logger.With("renderer", "chromium"),
		dir:      dir,
		slots:    make(chan *slot, opts.Tabs),
		starting: make(chan struct{}, 1),
		live:     make(map[*browser]struct{}),
	}
	for range opts.Tabs {
		r.slots <- &slot{}
	}
	// Chromium's crash handler keeps a database under XDG_CONFIG_HOME
	// whatever the flags say: keep it in the temp dir too.
	r.env = append(r.env, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	if opts.FontsDir != "" {
		conf, err := writeFontconfig(dir, opts.FontsDir)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		r.env = append(r.env, "FONTCONFIG_FILE="+conf)
	}
	return r, nil
}

// writeFontconfig writes a fontconfig file that includes the system's
// configuration and adds fontsDir, with a cache in dir.
func writeFontconfig(dir, fontsDir string) (string, error) {
	abs, err := filepath.Abs(fontsDir)
	if err != nil {
		return "", fmt.Errorf("documents: fonts dir: %w", err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("documents: fonts dir %s is not a directory", abs)
	}
	conf := `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>` + html.EscapeString(abs) + `</dir>
  <cachedir>` + html.EscapeString(filepath.Join(dir, "fontcache")) + `</cachedir>
</fontconfig>
`
	path := filepath.Join(dir, "fonts.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return "", fmt.Errorf("documents: fontconfig: %w", err)
	}
	return path, nil
}

// Warm starts the browser now rather than with the first document.
func (r *ChromiumRenderer) Warm(ctx context.Context) error {
	b, err := r.acquire(ctx, false)
	if err != nil {
		return err
	}
	r.release(b)
	return nil
}

// Render prints html to PDF in a pooled tab. A crashed or hung browser is
// restarted and the document tried again, up to Attempts times; the
// caller's ctx bounds the whole call.
func (r *ChromiumRenderer) Render(ctx context.Context, html []byte) ([]byte, error) {
	if len(html) == 0 {
		return nil, errors.New("documents: chromium: empty HTML")
	}
	var errs []error
	for attempt := 1; attempt <= r.opts.Attempts; attempt++ {
		pdf, err := r.renderOnce(ctx, html)
		if err == nil {
			r.rendered.Add(1)
			return pdf, nil
		}
		if ctx.Err() != nil || errors.Is(err, ErrClosed) {
			return nil, fmt.Errorf("documents: chromium: %w", err)
		}
		errs = append(errs, fmt.Errorf("attempt %d: %w", attempt, err))
		if attempt < r.opts.Attempts {
			r.retries.Add(1)
			r.log.WarnContext(ctx, "document failed; retrying", "attempt", attempt, "err", err)
		}
	}
	return nil, fmt.Errorf("documents: chromium: giving up after %d attempts: %w", r.opts.Attempts, errors.Join(errs...))
}

// renderOnce makes one attempt in a pooled tab. The attempt runs on its
// own: a caller that gives up gets its error at once, while the tab finishes
// (or times out) before it goes back to the pool, so no tab is ever handed
// on in the middle of a print.
func (r *ChromiumRenderer) renderOnce(ctx context.Context, html []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var s *slot
	select {
	case s = <-r.slots:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	type result struct {
		pdf []byte
		err error
	}
	done := make(chan result, 1)
	r.work.Add(1)
	go func() {
		defer r.work.Done()
		defer func() { r.slots <- s }()
		pdf, err := r.attempt(context.WithoutCancel(ctx), s, html)
		done <- result{pdf, err}
	}()
	select {
	case res := <-done:
		return res.pdf, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// attempt renders html in slot s, on the current browser.
func (r *ChromiumRenderer) attempt(ctx context.Context, s *slot, html []byte) ([]byte, error) {
	b, err := r.acquire(ctx, true)
	if err != nil {
		return nil, err
	}
	defer r.release(b)

	t, err := r.tabOn(s, b)
	if err != nil {
		r.failed(b, s, err, false)
		return nil, err
	}

	tctx, cancel := context.WithTimeout(t.ctx, r.opts.Timeout)
	defer cancel()
	pdf, err := chromedp.Run(tctx, printAction(t.frameID, string(html)))
	if err == nil {
		err = CheckPDF(pdf)
	}
	if err != nil {
		hung := errors.Is(tctx.Err(), context.DeadlineExceeded)
		r.failed(b, s, err, hung)
		if hung {
			return nil, fmt.Errorf("no PDF within %s: %w", r.opts.Timeout, err)
		}
		return nil, err
	}
	return pdf, nil
}

// printAction loads html into the tab's frame, waits until its fonts are
// ready and prints it with the CSS page size (A4 from @page) and the page
// footer.
func printAction(frameID cdp.FrameID, html string) chromedp.Action[[]byte] {
	return func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		if _, err := cdp.Call(ctx, t, page.SetDocumentContent, page.SetDocumentContentParams{FrameID: frameID, HTML: html}); err != nil {
			return nil, fmt.Errorf("set document content: %w", err)
		}
		res, err := cdp.Call(ctx, t, cdpruntime.Evaluate, cdpruntime.EvaluateParams{
			Expression:    "document.fonts.ready.then(() => document.readyState)",
			AwaitPromise:  ptr(true),
			ReturnByValue: ptr(true),
		})
		if err != nil {
			return nil, fmt.Errorf("wait for fonts: %w", err)
		}
		if res.ExceptionDetails != nil {
			return nil, fmt.Errorf("wait for fonts: %s", res.ExceptionDetails.Text)
		}
		out, err := cdp.Call(ctx, t, page.PrintToPDF, page.PrintToPDFParams{
			PreferCSSPageSize:   ptr(true),
			PrintBackground:     ptr(true),
			DisplayHeaderFooter: ptr(true),
			HeaderTemplate:      "<span></span>",
			FooterTemplate:      PageFooterHTML,
			// Fallbacks for a page without @page: A4 and the same margins.
			PaperWidth: 8.27, PaperHeight: 11.69,
			MarginTop: ptr(0.79), MarginBottom: ptr(0.79), MarginLeft: ptr(0.71), MarginRight: ptr(0.71),
			GenerateTaggedPDF: ptr(false),
		})
		if err != nil {
			return nil, fmt.Errorf("print to PDF: %w", err)
		}
		return out.Data, nil
	}
}

func ptr[T any](v T) *T { return &v }

// acquire returns the browser that serves new documents, starting one if
// needed, and counts a document (doc) on it. One caller starts a browser
// while the others wait for it; r.mu is not held meanwhile, so finishing
// documents, kills and Stats never wait for a start.
func (r *ChromiumRenderer) acquire(ctx context.Context, doc bool) (*browser, error) {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return nil, ErrClosed
		}
		if b := r.cur; b != nil && !b.dead {
			b.refs++
			if doc {
				b.docs++
				if r.opts.RecycleAfter > 0 && b.docs >= r.opts.RecycleAfter {
					// Its last document; the next one starts a fresh browser.
					b.retiring = true
					r.cur = nil
					r.log.InfoContext(ctx, "recycling browser", "browser", b.gen, "pid", b.pid, "documents", b.docs)
				}
			}
			r.mu.Unlock()
			return b, nil
		}
		r.mu.Unlock()

		if err := r.startIfNeeded(ctx); err != nil {
			return nil, err
		}
	}
}

// startIfNeeded starts a browser unless another caller did meanwhile.
func (r *ChromiumRenderer) startIfNeeded(ctx context.Context) error {
	select {
	case r.starting <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.starting }()
	r.mu.Lock()
	needed := !r.closed && (r.cur == nil || r.cur.dead)
	r.mu.Unlock()
	if !needed {
		return nil
	}
	b, err := r.start(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	closed := r.closed
	if !closed {
		r.cur = b
		r.live[b] = struct{}{}
	}
	r.mu.Unlock()
	if closed {
		r.stop(b, false)
		return ErrClosed
	}
	return nil
}

// release ends one document on b, and stops b when it is retired and idle.
func (r *ChromiumRenderer) release(b *browser) {
	r.mu.Lock()
	b.refs--
	idle := b.refs == 0 && (b.retiring || b.dead)
	graceful := !b.dead
	r.mu.Unlock()
	if idle {
		r.stop(b, graceful)
	}
}

// start launches a browser and attaches to its first tab.
func (r *ChromiumRenderer) start(ctx context.Context) (*browser, error) {
	r.mu.Lock()
	r.gen++
	b := &browser{gen: r.gen, profile: filepath.Join(r.dir, "profile-"+strconv.Itoa(r.gen))}
	r.mu.Unlock()
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(r.opts.ChromiumPath), chromedp.UserDataDir(b.profile)}
	for _, f := range ChromiumFlags {
		opts = append(opts, chromedp.Flag(strings.TrimPrefix(f, "--"), true))
	}
	opts = append(opts, chromedp.Env(r.env...))
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	log := r.log.With("browser", b.gen)
	bctx, bcancel := chromedp.NewContext(allocCtx,
		chromedp.WithLogf(func(format string, args ...any) { log.Debug(fmt.Sprintf(format, args...)) }),
		chromedp.WithErrorf(func(format string, args ...any) {
			msg := fmt.Sprintf(format, args...)
			// Page.setDocumentContent replaces the document without a
			// navigation; chromedp then complains about a missing frame.
			if strings.Contains(msg, "DOM.documentUpdated") {
				return
			}
			log.Warn("chromium: " + msg)
		}),
	)
	b.ctx, b.cancel, b.alloc = bctx, bcancel, allocCancel

	began := time.Now()
	watchdog := time.AfterFunc(r.opts.Timeout, bcancel)
	var frameID cdp.FrameID
	stopCaller := context.AfterFunc(ctx, bcancel)
	_, err := chromedp.Run(bctx, prepareTab(&frameID))
	timedOut := !watchdog.Stop()
	stopCaller()
	if err != nil {
		r.cleanup(b)
		if timedOut {
			return nil, fmt.Errorf("chromium did not start within %s: %w", r.opts.Timeout, err)
		}
		return nil, fmt.Errorf("starting chromium: %w", err)
	}
	if p := chromedp.FromContext(bctx).Browser.Process(); p != nil {
		b.pid = p.Pid
	}
	b.initialFrame = frameID
	r.started.Add(1)
	log.InfoContext(ctx, "browser started", "pid", b.pid, "took", time.Since(began).Round(time.Millisecond))
	return b, nil
}

// tabOn returns the slot's tab on b, opening one if the slot has none on b.
// The first slot to ask takes the browser's first tab.
func (r *ChromiumRenderer) tabOn(s *slot, b *browser) (*tab, error) {
	if s.tab != nil && s.tab.b == b {
		return s.tab, nil
	}
	if s.tab != nil {
		r.dropTab(s.tab)
		s.tab = nil
	}
	r.mu.Lock()
	first := !b.initial
	b.initial = true
	r.mu.Unlock()
	if first {
		s.tab = &tab{b: b, ctx: b.ctx, frameID: b.initialFrame}
		return s.tab, nil
	}
	tctx, tcancel := chromedp.NewContext(b.ctx)
	watchdog := time.AfterFunc(r.opts.Timeout, func() { r.kill(b, "browser hung opening a tab", nil) })
	var frameID cdp.FrameID
	_, err := chromedp.Run(tctx, prepareTab(&frameID))
	watchdog.Stop()
	if err != nil {
		r.dropTab(&tab{b: b, ctx: tctx, cancel: tcancel})
		return nil, fmt.Errorf("opening a tab: %w", err)
	}
	s.tab = &tab{b: b, ctx: tctx, cancel: tcancel, frameID: frameID}
	return s.tab, nil
}

// prepareTab readies a new tab for documents: it finds the main frame
// (Page.setDocumentContent needs its id) and turns off the DOM and CSS
// agents chromedp enables, which would track every document loaded for no
// use here (and make chromedp ask for the whole DOM after each load).
func prepareTab(frameID *cdp.FrameID) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		tree, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return chromedp.Void{}, err
		}
		*frameID = tree.FrameTree.Frame.ID
		if _, err := cdp.Call(ctx, t, css.Disable, cdp.Empty{}); err != nil {
			return chromedp.Void{}, fmt.Errorf("CSS.disable: %w", err)
		}
		if _, err := cdp.Call(ctx, t, dom.Disable, cdp.Empty{}); err != nil {
			return chromedp.Void{}, fmt.Errorf("DOM.disable: %w", err)
		}
		return chromedp.Void{}, nil
	}
}

// dropTab closes t in the background (closing waits for the browser's
// answer, which a dead browser never gives quickly).
func (r *ChromiumRenderer) dropTab(t *tab) {
	if t.cancel == nil {
		return // the browser's first tab lives and dies with the browser
	}
	r.stopping.Add(1)
	go func() {
		defer r.stopping.Done()
		t.cancel()
	}()
}

// failed handles a failed attempt on slot s of browser b: a browser that
// died or hung is killed (the next attempt starts a new one); otherwise only
// the tab is replaced.
func (r *ChromiumRenderer) failed(b *browser, s *slot, err error, hung bool) {
	switch {
	case b.ctx.Err() != nil:
		r.kill(b, "browser exited", err)
	case hung:
		r.kill(b, "browser hung", err)
	case s.tab != nil && s.tab.cancel == nil:
		r.kill(b, "first tab failed", err)
	case s.tab != nil:
		r.dropTab(s.tab)
	}
	s.tab = nil
}

// kill takes b out of service and stops it now; documents in flight on it
// fail and are retried on a new browser.
func (r *ChromiumRenderer) kill(b *browser, reason string, err error) {
	r.mu.Lock()
	if b.dead {
		r.mu.Unlock()
		return
	}
	b.dead = true
	if r.cur == b {
		r.cur = nil
	}
	closed := r.closed
	r.mu.Unlock()
	if !closed {
		r.killed.Add(1)
		r.log.Warn("restarting browser: "+reason, "browser", b.gen, "pid", b.pid, "err", err)
	}
	r.stop(b, false)
}

// stop ends b once: gracefully (Browser.close) when it is retired, at once
// when it crashed or hung. The process, its leftover children and its
// profile are gone when r.stopping is done.
func (r *ChromiumRenderer) stop(b *browser, graceful bool) {
	b.stopOnce.Do(func() {
		r.stopping.Add(1)
		go func() {
			defer r.stopping.Done()
			if graceful {
				ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
				_ = chromedp.Cancel(ctx)
				cancel()
			}
			r.cleanup(b)
			r.mu.Lock()
			delete(r.live, b)
			r.mu.Unlock()
		}()
	})
}

// cleanup kills b's process (if it still runs), waits for it, kills any
// child that outlived it and removes its profile.
func (r *ChromiumRenderer) cleanup(b *browser) {
	b.cancel()
	b.alloc()
	killProfileProcesses(b.profile)
	if err := os.RemoveAll(b.profile); err != nil {
		r.log.Warn("removing browser profile", "dir", b.profile, "err", err)
	}
}

// killProfileProcesses kills every process of the browser that ran with
// profile, so a zygote, renderer or GPU process that outlived a killed
// browser does not linger. It looks until a few passes in a row find none.
func killProfileProcesses(profile string) {
	deadline := time.Now().Add(2 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		found := 0
		for _, pid := range BrowserPIDs(profile) {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				found++
			}
		}
		if found == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// BrowserPIDs lists the processes of the browser started with
// --user-data-dir=<profile>: those whose command line holds the switch
// (the browser, its zygotes and renderers; zygote children rewrite their
// command line with spaces for NULs) and all their descendants (the GPU
// and utility processes, which are not given the switch).
func BrowserPIDs(profile string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := []byte("--user-data-dir=" + profile)
	self := os.Getpid()
	children := map[int][]int{}
	var roots []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			// pid (comm) state ppid …; comm may hold spaces and parentheses.
			if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 1 {
				if ppid, err := strconv.Atoi(f[1]); err == nil {
					children[ppid] = append(children[ppid], pid)
				}
			}
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		for i := bytes.Index(cmdline, want); i >= 0; {
			end := i + len(want)
			if end == len(cmdline) || cmdline[end] == 0 || cmdline[end] == ' ' {
				roots = append(roots, pid)
				break
			}
			j := bytes.Index(cmdline[end:], want)
			if j < 0 {
				break
			}
			i = end + j
		}
	}
	seen := map[int]bool{}
	var pids []int
	for queue := roots; len(queue) > 0; queue = queue[1:] {
		p := queue[0]
		if seen[p] {
			continue
		}
		seen[p] = true
		pids = append(pids, p)
		queue = append(queue, children[p]...)
	}
	return pids
}

// Close stops the browser and removes the renderer's temp dir. Documents
// in flight fail with ErrClosed.
func (r *ChromiumRenderer) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.cur = nil
	var bs []*browser
	for b := range r.live {
		b.dead = true
		bs = append(bs, b)
	}
	r.mu.Unlock()
	for _, b := range bs {
		r.stop(b, true)
	}
	r.work.Wait() // attempts fail fast on a stopped browser
	r.stopping.Wait()
	return os.RemoveAll(r.dir)
}

// ChromiumStats describes a ChromiumRenderer, for metrics and tests.
type ChromiumStats struct {
	// PID is the process of the browser serving new documents; 0 when
	// none runs.
	PID int
	// Profile is that browser's --user-data-dir.
	Profile string
	// Rendered documents; Started browsers (the first, restarts and
	// recycles); Killed browsers (crashed or hung); Retries of documents.
	Rendered, Started, Killed, Retries int64
}

// Stats reports the renderer's state.
func (r *ChromiumRenderer) Stats() ChromiumStats {
	st := ChromiumStats{
		Rendered: r.rendered.Load(), Started: r.started.Load(),
		Killed: r.killed.Load(), Retries: r.retries.Load(),
	}
	r.mu.Lock()
	if r.cur != nil && !r.cur.dead {
		st.PID, st.Profile = r.cur.pid, r.cur.profile
	}
	r.mu.Unlock()
	return st
}
