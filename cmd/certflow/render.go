package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os/exec"

	"certflow/documents"
)

// renderFlags are serve's document-rendering settings.
type renderFlags struct {
	renderer     string
	gotenbergURL string
	chromium     string
	tabs         int
	recycle      int
	fontsDir     string
	documentsDir string
}

func (r *renderFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.renderer, "renderer", "chromium", "document renderer: chromium (a warm headless browser), gotenberg, or none (documents wait, pending)")
	fs.StringVar(&r.gotenbergURL, "gotenberg-url", "", "Gotenberg's base URL, with --renderer gotenberg")
	fs.StringVar(&r.chromium, "chromium", "/usr/bin/chromium", "the Chromium binary")
	fs.IntVar(&r.tabs, "tabs", 0, "browser tabs rendering at once (default: one per CPU)")
	fs.IntVar(&r.recycle, "recycle-after", 0, "restart the browser after this many documents (default 500)")
	fs.StringVar(&r.fontsDir, "fonts-dir", "", "a directory of the site's own licensed fonts (方正小标宋, 仿宋_GB2312 …) for the documents")
	fs.StringVar(&r.documentsDir, "documents-dir", "", "keep rendered PDFs in this directory instead of the database")
}

// open starts the renderer the flags ask for; nil for none.
func (r *renderFlags) open(logger *slog.Logger) (documents.Renderer, error) {
	switch r.renderer {
	case "none":
		return nil, nil
	case "chromium":
		if _, err := exec.LookPath(r.chromium); err != nil {
			// Run anyway: the document jobs wait in the queue and render
			// once a serve with a browser (or Gotenberg) picks them up.
			logger.Warn("no Chromium: documents stay pending until a renderer runs; install chromium (see README) or use --renderer gotenberg", "chromium", r.chromium)
			return nil, nil
		}
		return documents.NewChromiumRenderer(documents.ChromiumOptions{ChromiumPath: r.chromium, Tabs: r.tabs, RecycleAfter: r.recycle, FontsDir: r.fontsDir, Logger: logger})
	case "gotenberg":
		if r.gotenbergURL == "" {
			return nil, fmt.Errorf("--renderer gotenberg needs --gotenberg-url")
		}
		return documents.NewGotenbergRenderer(documents.GotenbergOptions{URL: r.gotenbergURL, Logger: logger})
	}
	return nil, fmt.Errorf("--renderer %q: want chromium, gotenberg or none", r.renderer)
}
