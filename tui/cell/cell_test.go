package cell

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestWidthMatchesAnsi(t *testing.T) {
	for _, s := range []string{"", "abc", "héllo", "世界", "🙂 x", "\x1b[31mred\x1b[0m", "a—b…c", "tab\tx", "│┌─"} {
		if got, want := Width(s), ansi.StringWidth(s); got != want {
			t.Errorf("Width(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestFitIsExact(t *testing.T) {
	lines := []string{"short", strings.Repeat("x", 50), "\x1b[1mbold and long enough to cut\x1b[0m", "世界世界世界世界"}
	for _, w := range []int{0, 1, 2, 5, 10, 30} {
		for _, h := range []int{0, 1, 3, 6} {
			out := Fit(lines, w, h)
			if len(out) != max(h, 0) {
				t.Fatalf("Fit(%d,%d) gave %d lines", w, h, len(out))
			}
			for i, l := range out {
				if got := ansi.StringWidth(l); got != w {
					t.Fatalf("Fit(%d,%d) line %d is %d wide: %q", w, h, i, got, l)
				}
			}
		}
	}
}

func TestCutAndWrap(t *testing.T) {
	if got := Cut("hello world", 5); got != "hell…" {
		t.Errorf("Cut = %q", got)
	}
	if got := Cut("hi", 5); got != "hi" {
		t.Errorf("Cut short = %q", got)
	}
	if got := Wrap("one two three four", 9); strings.Join(got, "|") != "one two|three|four" {
		t.Errorf("Wrap = %q", got)
	}
}
