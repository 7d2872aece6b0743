// Package cell fits text to terminal cells: the one place where the UI
// measures, cuts and pads lines, so that every pane draws exactly the
// rectangle it was given, down to 1×1, whatever the text holds.
package cell

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Ellipsis ends a line that was cut.
const Ellipsis = "…"

// Width is the number of cells s takes; s may carry SGR styles. Text made
// only of runes that are one cell wide on every terminal (Latin scripts and
// the punctuation and box drawing the UI uses) is counted rune by rune;
// anything else gets the full grapheme walk, which costs ten times more.
func Width(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r == 0x1b:
			return ansi.StringWidth(s)
		case r >= 0x20 && r < 0x300, r >= 0x2500 && r <= 0x259f,
			r == '–', r == '—', r == '…', r == '‹', r == '›', r == '→', r == '↓', r == '·':
			n++
		default:
			return ansi.StringWidth(s)
		}
	}
	return n
}

// Cut shortens s to at most w cells, ending in an ellipsis when it was
// cut. Styles are kept and closed.
func Cut(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if Width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, Ellipsis)
}

// Pad returns s as exactly w cells: cut (with an ellipsis) when wider,
// padded with spaces when narrower.
func Pad(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := Width(s)
	if sw > w {
		s = ansi.Truncate(s, w, Ellipsis)
		sw = ansi.StringWidth(s)
	}
	if sw < w {
		s += Spaces(w - sw)
	}
	return s
}

// Fit returns exactly h lines of exactly w cells each: longer lines are
// cut, shorter ones padded, missing ones added blank.
func Fit(lines []string, w, h int) []string {
	if h <= 0 {
		return nil
	}
	out := make([]string, h)
	for i := range h {
		var l string
		if i < len(lines) {
			l = lines[i]
		}
		out[i] = Pad(l, w)
	}
	return out
}

// Spaces is n blanks, none for n <= 0.
func Spaces(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat(" ", n)
}

// Wrap breaks plain text at spaces into lines of at most w cells; a word
// wider than w gets a line of its own (Fit or Pad cuts it). Line breaks in
// text start new lines. It is for the UI's own short texts; markdown goes
// through package markdown.
func Wrap(text string, w int) []string {
	w = max(w, 1)
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line, lw := "", 0
		for _, word := range strings.Fields(para) {
			ww := Width(word)
			switch {
			case lw == 0:
				line, lw = word, ww
			case lw+1+ww <= w:
				line, lw = line+" "+word, lw+1+ww
			default:
				out = append(out, line)
				line, lw = word, ww
			}
		}
		out = append(out, line)
	}
	return out
}
