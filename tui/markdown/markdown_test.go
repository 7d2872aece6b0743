package markdown

import (
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
