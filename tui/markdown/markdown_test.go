package markdown

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"charm.land/glamour/v2/styles"
	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/tui/theme"
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

// sgrParams matches the parameters of a Select Graphic Rendition sequence.
var sgrParams = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// colours reports whether s sets a colour, and whether it sets bold.
func colours(s string) (colour, bold bool) {
	for _, m := range sgrParams.FindAllStringSubmatch(s, -1) {
		ps := strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' })
		for i := 0; i < len(ps); i++ {
			switch n, _ := strconv.Atoi(ps[i]); {
			case n == 1:
				bold = true
			case n == 38 || n == 48 || n >= 30 && n <= 37 || n >= 40 && n <= 47 || n >= 90 && n <= 97 || n >= 100 && n <= 107:
				return true, bold
			}
		}
	}
	return false, bold
}

const sample = "# Title\n\nSome **strong** text, a [link](https://example.com) and `code`.\n\n```go\nfunc f() { return 1 }\n```\n"

// Without colour (NO_COLOR) a reply keeps its bold heading and loses every
// colour, syntax highlighting included; the dark and light styles (the
// negative control) colour it, each differently.
func TestForPaletteWithoutColour(t *testing.T) {
	plain := strings.Join(ForPalette(theme.Plain(true)).Render(sample, 60), "\n")
	if c, b := colours(plain); c || !b {
		t.Errorf("no colour: colour %v (want false), bold %v (want true):\n%q", c, b, plain)
	}
	dark := strings.Join(ForPalette(theme.Dark()).Render(sample, 60), "\n")
	light := strings.Join(ForPalette(theme.Light()).Render(sample, 60), "\n")
	if c, _ := colours(dark); !c {
		t.Error("negative control: the dark style has no colour, so the check above proves nothing")
	}
	if dark == light {
		t.Error("the light palette renders markdown in the dark style")
	}
	if ansi.Strip(plain) == "" || !strings.Contains(ansi.Strip(plain), "func f()") {
		t.Errorf("text lost without colour: %q", ansi.Strip(plain))
	}
	// withoutColour works on a copy: glamour's own style keeps its colours.
	if styles.DarkStyleConfig.Document.Color == nil || styles.DarkStyleConfig.CodeBlock.Chroma == nil {
		t.Error("making the colourless style changed glamour's dark style")
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
