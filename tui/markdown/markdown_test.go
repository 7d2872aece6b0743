package markdown

import (
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestBlockScannerEndsOutsideFences(t *testing.T) {
	text := "para one\n\n```go\nx := 1\n\ny := 2\n```\n\npara two\n"
	var s BlockScanner
	// Fed in pieces, as a stream grows.
	for i := 1; i <= len(text); i++ {
		s.Scan(text[:i])
	}
	var blocks []string
	start := 0
	for _, end := range s.Ends {
		blocks = append(blocks, strings.TrimSpace(text[start:end]))
		start = end
	}
	if len(blocks) != 2 || blocks[0] != "para one" || !strings.HasPrefix(blocks[1], "```go") || !strings.HasSuffix(blocks[1], "```") {
		t.Fatalf("blocks = %q", blocks)
	}
}

func TestRenderFitsTheWidth(t *testing.T) {
	r := New(true)
	for _, w := range []int{1, 5, 20, 80} {
		for _, l := range r.Render("# Title\n\nSome *text* with `code` and a long-word-that-cannot-break-anywhere-at-all.\n\n```go\nfunc f() {}\n```", w) {
			if ansi.StringWidth(l) > w {
				t.Errorf("width %d: line %q is %d wide", w, ansi.Strip(l), ansi.StringWidth(l))
			}
		}
	}
	if r.Renders() == 0 {
		t.Error("Renders does not count")
	}
}

// TestBlockScannerDrop: scanning a text in two pieces, dropping the first
// (at a line end, inside a line already scanned, inside the line in
// progress), finds the same block ends as scanning it whole: the fence
// state is kept across the cut.
func TestBlockScannerDrop(t *testing.T) {
	text := "para one\n\n```go\nx := 1\n\ny := 2\n```\n\nlong line " + strings.Repeat("w ", 40) + "\n\npara two\n\n"
	var whole BlockScanner
	whole.Scan(text)
	after := func(base int) []int {
		var want []int
		for _, e := range whole.Ends {
			if e > base {
				want = append(want, e-base)
			}
		}
		return want
	}
	for _, c := range []struct {
		name       string
		seen, drop int
	}{
		{"line end", 16, 16},                    // just inside the fence
		{"inside a scanned line", 23, 18},       // within "x := 1"
		{"inside the line in progress", 70, 60}, // within the long line
		{"inside the fence, line in progress", 19, 18},
	} {
		var s BlockScanner
		s.Scan(text[:c.seen])
		s.Drop(c.drop)
		s.Scan(text[c.drop:])
		if want := after(c.drop); !slices.Equal(s.Ends, want) {
			t.Errorf("%s: ends %v, want %v", c.name, s.Ends, want)
		}
	}
	// The control: a fresh scanner given the text from inside the fence
	// takes the closing fence for an opening one and misses block ends.
	var fresh BlockScanner
	fresh.Scan(text[16:])
	if slices.Equal(fresh.Ends, after(16)) {
		t.Fatal("the control: a fresh scanner agreed; the test cannot see lost fence state")
	}
}
