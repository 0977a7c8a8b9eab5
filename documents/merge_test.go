package documents

import (
	"strings"
	"testing"
)

func TestMerge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		pages []int
	}{
		{"one", []int{2}},
		{"two", []int{1, 3}},
		{"many", []int{1, 1, 2, 3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var in [][]byte
			want := 0
			for _, n := range tt.pages {
				in = append(in, testPDF(n))
				want += n
			}
			merged, err := Merge(in...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := PageCount(merged)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("pdfcpu counts %d pages, want %d", got, want)
			}
			need(t, "pdfinfo", "pdftotext")
			if got := pdfPages(t, merged); got != want {
				t.Errorf("pdfinfo counts %d pages, want %d", got, want)
			}
			// The pages keep their order.
			text := pdfText(t, "merged.pdf", merged, false)
			if i, j := strings.Index(text, "Page 1"), strings.LastIndex(text, "Page 1"); len(tt.pages) > 1 && i == j {
				t.Errorf("the first pages of the inputs are missing:\n%s", text)
			}
		})
	}
}

func TestMergeRejectsBadInput(t *testing.T) {
	t.Parallel()
	if _, err := Merge(); err == nil {
		t.Error("Merge of nothing succeeded")
	}
	if _, err := Merge(testPDF(1), []byte("not a pdf")); err == nil || !strings.Contains(err.Error(), "input 1") {
		t.Errorf("Merge with a bad input: %v", err)
	}
}
