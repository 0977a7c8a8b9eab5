package documents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// GotenbergOptions configures a GotenbergRenderer.
type GotenbergOptions struct {
	// URL is the Gotenberg service, e.g. http://gotenberg:3000.
	URL string
	// Timeout bounds one conversion, request and response. Default 60s.
	Timeout time.Duration
	// Client sends the requests. Default: a client of its own.
	Client *http.Client
	// Assets are files sent beside index.html (images, stylesheets, fonts),
	// by file name; the HTML refers to them by that name alone.
	Assets map[string][]byte
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// GotenbergRenderer renders by posting the HTML to Gotenberg's Chromium
// route, POST {URL}/forms/chromium/convert/html, as multipart/form-data:
// index.html (and the assets) in "files", the page footer as footer.html,
// A4 paper with the same margins as @page, the CSS page size preferred and
// backgrounds printed. Gotenberg opens a new tab per conversion (about 0.3 s
// a document here, see FIELD-NOTES); the Chromium renderer is faster.
type GotenbergRenderer struct {
	endpoint string
	opts     GotenbergOptions
	client   *http.Client
	log      *slog.Logger
}

var _ Renderer = (*GotenbergRenderer)(nil)

// GotenbergError is a conversion Gotenberg answered with a status other
// than 200.
type GotenbergError struct {
	StatusCode int
	// Body is the start of Gotenberg's answer (its error message).
	Body string
	// Trace is Gotenberg's Gotenberg-Trace header: the id of the request in
	// its logs.
	Trace string
}

func (e *GotenbergError) Error() string {
	msg := fmt.Sprintf("documents: gotenberg: %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	if e.Trace != "" {
		msg += " (trace " + e.Trace + ")"
	}
	return msg
}

// Temporary reports whether trying again may succeed: Gotenberg is busy or
// timed out (5xx, 429), rather than refusing the request (4xx).
func (e *GotenbergError) Temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// NewGotenbergRenderer checks the options and returns a renderer.
func NewGotenbergRenderer(opts GotenbergOptions) (*GotenbergRenderer, error) {
	u, err := url.Parse(strings.TrimRight(opts.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("documents: gotenberg URL %q: want http(s)://host[:port]", opts.URL)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	for name := range opts.Assets {
		if name == "" || strings.ContainsAny(name, `/\`) || name == "index.html" || name == "footer.html" || name == "header.html" {
			return nil, fmt.Errorf("documents: gotenberg asset %q: want a plain file name other than index.html, header.html, footer.html", name)
		}
	}
	return &GotenbergRenderer{
		endpoint: u.String() + "/forms/chromium/convert/html",
		opts:     opts,
		client:   client,
		log:      opts.Logger.With("renderer", "gotenberg"),
	}, nil
}

// The form fields of every conversion: A4 in inches (Gotenberg's units),
// margins as base.html's @page (20 mm, 18 mm), which wins anyway with
// preferCssPageSize.
var gotenbergFields = [][2]string{
	{"paperWidth", "8.27"},
	{"paperHeight", "11.7"},
	{"marginTop", "0.79"},
	{"marginBottom", "0.79"},
	{"marginLeft", "0.71"},
	{"marginRight", "0.71"},
	{"preferCssPageSize", "true"},
	{"printBackground", "true"},
}

// gotenbergHeader and gotenbergFooter are Gotenberg's header.html and
// footer.html: complete documents, as it requires.
const (
	gotenbergHeader = `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>`
	gotenbergFooter = `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>` + PageFooterHTML + `</body></html>`
)

// Render posts html to Gotenberg and returns the PDF.
func (g *GotenbergRenderer) Render(ctx context.Context, html []byte) ([]byte, error) {
	if len(html) == 0 {
		return nil, errors.New("documents: gotenberg: empty HTML")
	}
	body, contentType, err := g.form(html)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, g.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.endpoint, body)
	if err != nil {
		return nil, fmt.Errorf("documents: gotenberg: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	began := time.Now()
	resp, err := g.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("documents: gotenberg: no answer within %s: %w", g.opts.Timeout, err)
		}
		return nil, fmt.Errorf("documents: gotenberg: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, &GotenbergError{StatusCode: resp.StatusCode, Body: cleanExcerpt(excerpt), Trace: resp.Header.Get("Gotenberg-Trace")}
	}
	pdf, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("documents: gotenberg: reading the PDF: %w", err)
	}
	if err := CheckPDF(pdf); err != nil {
		return nil, fmt.Errorf("documents: gotenberg answered 200 with a bad PDF (trace %s): %w", resp.Header.Get("Gotenberg-Trace"), err)
	}
	g.log.DebugContext(ctx, "rendered", "took", time.Since(began), "bytes", len(pdf))
	return pdf, nil
}

// form builds the multipart body.
func (g *GotenbergRenderer) form(html []byte) (*bytes.Buffer, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	file := func(name, contentType string, data []byte) error {
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files"; filename="%s"`, name))
		h.Set("Content-Type", contentType)
		part, err := w.CreatePart(h)
		if err == nil {
			_, err = part.Write(data)
		}
		return err
	}
	if err := file("index.html", "text/html; charset=utf-8", html); err != nil {
		return nil, "", err
	}
	if err := file("header.html", "text/html; charset=utf-8", []byte(gotenbergHeader)); err != nil {
		return nil, "", err
	}
	if err := file("footer.html", "text/html; charset=utf-8", []byte(gotenbergFooter)); err != nil {
		return nil, "", err
	}
	for name, data := range g.opts.Assets {
		if err := file(name, http.DetectContentType(data), data); err != nil {
			return nil, "", err
		}
	}
	for _, f := range gotenbergFields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return &buf, w.FormDataContentType(), nil
}

// cleanExcerpt makes the start of an error body fit for an error message.
func cleanExcerpt(b []byte) string {
	s := strings.ToValidUTF8(string(b), "") // drops a rune cut at the limit
	if len(b) == 512 {
		s += "…"
	}
	return strings.Join(strings.Fields(s), " ")
}

// Close releases idle connections.
func (g *GotenbergRenderer) Close() error {
	g.client.CloseIdleConnections()
	return nil
}
