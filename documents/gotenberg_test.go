package documents

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"certflow/workflow"
)

// testPDF builds a small valid PDF of n pages (Helvetica, "Page i" on
// each), padded past CheckPDF's minimum size.
func testPDF(n int) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.4\n%" + strings.Repeat("x", 1024) + "\n")
	kids := make([]string, n)
	for i := range n {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	for i := range n {
		content := fmt.Sprintf("BT /F1 24 Tf 72 720 Td (Page %d) Tj ET", i+1)
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R /Resources << /Font << /F1 3 0 R >> >> >>", 5+2*i))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// fakeGotenberg checks a conversion request the way Gotenberg's Chromium
// HTML route reads it and answers with a PDF.
func fakeGotenberg(t *testing.T, wantHTML []byte) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fail := func(format string, args ...any) {
			t.Errorf(format, args...)
			http.Error(w, fmt.Sprintf(format, args...), http.StatusBadRequest)
		}
		if req.Method != http.MethodPost || req.URL.Path != "/forms/chromium/convert/html" {
			fail("request %s %s", req.Method, req.URL.Path)
			return
		}
		if err := req.ParseMultipartForm(32 << 20); err != nil {
			fail("multipart: %v", err)
			return
		}
		files := map[string][]byte{}
		for _, fh := range req.MultipartForm.File["files"] {
			f, err := fh.Open()
			if err != nil {
				fail("open %s: %v", fh.Filename, err)
				return
			}
			files[fh.Filename], _ = io.ReadAll(f)
			f.Close()
		}
		if !bytes.Equal(files["index.html"], wantHTML) {
			fail("index.html: %d bytes, want the %d of the document", len(files["index.html"]), len(wantHTML))
		}
		if footer := string(files["footer.html"]); !strings.Contains(footer, `class="pageNumber"`) || !strings.Contains(footer, "<html>") {
			fail("footer.html is no complete document with the page number: %q", footer)
		}
		if _, ok := files["header.html"]; !ok {
			fail("no header.html")
		}
		if string(files["logo.png"]) != "PNG" {
			fail("asset logo.png: %q", files["logo.png"])
		}
		want := map[string]string{"paperWidth": "8.27", "paperHeight": "11.7", "preferCssPageSize": "true", "printBackground": "true"}
		for k, v := range want {
			if got := req.FormValue(k); got != v {
				fail("%s = %q, want %q", k, got, v)
			}
		}
		for _, k := range []string{"marginTop", "marginBottom", "marginLeft", "marginRight"} {
			if v, err := strconv.ParseFloat(req.FormValue(k), 64); err != nil || v <= 0 || v > 1.5 {
				fail("%s = %q", k, req.FormValue(k))
			}
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Gotenberg-Trace", "trace-ok")
		w.Write(testPDF(1))
	}))
}

func TestGotenbergRenderer(t *testing.T) {
	t.Parallel()
	html, err := RenderHTML(SampleForm(workflow.DocRegistrationForm))
	if err != nil {
		t.Fatal(err)
	}
	srv := fakeGotenberg(t, html)
	defer srv.Close()
	g, err := NewGotenbergRenderer(GotenbergOptions{URL: srv.URL + "/", Assets: map[string][]byte{"logo.png": []byte("PNG")}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	pdf, err := g.Render(testContext(t), html)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pdf, testPDF(1)) {
		t.Errorf("got %d bytes, not the server's PDF", len(pdf))
	}
}

func TestGotenbergErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration
		want    []string
		status  int
	}{
		{
			name: "bad request",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Gotenberg-Trace", "abc123")
				http.Error(w, "Invalid form data: form field 'paperWidth' is invalid", http.StatusBadRequest)
			},
			want:   []string{"400 Bad Request", "form field 'paperWidth' is invalid", "abc123"},
			status: http.StatusBadRequest,
		},
		{
			name: "unavailable",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, strings.Repeat("Service Unavailable ", 100), http.StatusServiceUnavailable)
			},
			want:   []string{"503 Service Unavailable", "…"},
			status: http.StatusServiceUnavailable,
		},
		{
			name: "timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-time.After(5 * time.Second):
				case <-r.Context().Done():
				}
			},
			timeout: 200 * time.Millisecond,
			want:    []string{"no answer within 200ms"},
		},
		{
			name: "not a PDF",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Gotenberg-Trace", "t-1")
				w.Write([]byte("<html>oops</html>"))
			},
			want: []string{"bad PDF", "t-1", "not a PDF"},
		},
		{
			name: "empty PDF",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte("%PDF-1.7\n%%EOF\n"))
			},
			want: []string{"too small"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			g, err := NewGotenbergRenderer(GotenbergOptions{URL: srv.URL, Timeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			pdf, err := g.Render(testContext(t), []byte("<html></html>"))
			if err == nil {
				t.Fatalf("Render succeeded with %d bytes", len(pdf))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			var ge *GotenbergError
			if got := errors.As(err, &ge); got != (tt.status != 0) {
				t.Errorf("errors.As GotenbergError = %v", got)
			} else if got && (ge.StatusCode != tt.status || ge.Temporary() != (tt.status >= 500)) {
				t.Errorf("GotenbergError %+v", ge)
			}
		})
	}
}

func TestNewGotenbergRendererChecksOptions(t *testing.T) {
	t.Parallel()
	for _, opts := range []GotenbergOptions{
		{URL: ""},
		{URL: "gotenberg:3000"},
		{URL: "ftp://gotenberg"},
		{URL: "http://gotenberg:3000", Assets: map[string][]byte{"index.html": nil}},
		{URL: "http://gotenberg:3000", Assets: map[string][]byte{"../x.png": nil}},
	} {
		if _, err := NewGotenbergRenderer(opts); err == nil {
			t.Errorf("options %+v accepted", opts)
		}
	}
}
