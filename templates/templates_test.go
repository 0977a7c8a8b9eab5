package templates

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestDocuments: the shared page and one template per document kind, each
// defining its content, none with script, event handlers or bold text
// (the CJK fonts have no bold face: see FIELD-NOTES).
func TestDocuments(t *testing.T) {
	names, err := fs.Glob(Documents, "documents/*.html")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 17 {
		t.Errorf("%d document templates, want base.html and 16 kinds: %v", len(names), names)
	}
	handler := regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	for _, name := range names {
		b, err := fs.ReadFile(Documents, name)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		lower := strings.ToLower(src)
		for _, bad := range []string{"<script", "javascript:", "font-weight: bold", "font-weight:bold", "font-weight: 700", "<b>", "<strong>", "@import", "url("} {
			if strings.Contains(lower, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
		if handler.MatchString(src) {
			t.Errorf("%s has an event handler attribute", name)
		}
		if name == "documents/base.html" {
			for _, want := range []string{"@page { size: A4", "line-break: strict; word-break: normal;", `{{template "content" .}}`, "font-synthesis: none"} {
				if !strings.Contains(src, want) {
					t.Errorf("base.html lacks %q", want)
				}
			}
			continue
		}
		if !strings.Contains(src, `{{define "content"}}`) {
			t.Errorf("%s defines no content", name)
		}
	}
}
