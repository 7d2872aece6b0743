package kanban

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spindle-sh/spindle/sanitize"
)

// plainLine is one line of a worker's markdown as plain text, for the
// one-line preview on its card: the markers that glamour would have drawn
// as style (emphasis, code spans, headings, quotes, list bullets, task
// boxes, link targets) are dropped, the words kept. An ordered list's
// number stays: it says where in the list the worker is. It is not a
// markdown parser; a line it misreads still shows every word.
func plainLine(s string) string {
	s = strings.TrimSpace(sanitize.Line(s))
	s = stripLineMarkers(s)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '`':
			i += n // a code span's backticks
			continue
		case r == '*' || r == '_' || r == '~':
			// A run of emphasis markers at a word's edge goes; one
			// inside a word (snake_case, 2*3) stays, and so does a lone
			// tilde (~/path: strikethrough takes two).
			j := i
			for j < len(s) && s[j] == s[i] {
				j++
			}
			before, _ := utf8.DecodeLastRuneInString(s[:i])
			after, _ := utf8.DecodeRuneInString(s[j:])
			edge := i == 0 || j == len(s) || !wordRune(before) || !wordRune(after)
			if edge && (r != '~' || j-i >= 2) {
				i = j
				continue
			}
			b.WriteString(s[i:j])
			i = j
			continue
		case r == '!' && strings.HasPrefix(s[i+n:], "["):
			i += n // an image: its alt text, as a link's
			continue
		case r == '[':
			// [text](target) → text
			if end := strings.Index(s[i:], "]("); end > 0 {
				if close := strings.IndexByte(s[i+end:], ')'); close > 0 {
					b.WriteString(s[i+1 : i+end])
					i += end + close + 1
					continue
				}
			}
		}
		b.WriteRune(r)
		i += n
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// stripLineMarkers drops what starts a markdown line: heading hashes, quote
// marks, a bullet and a task box.
func stripLineMarkers(s string) string {
	for {
		t := strings.TrimLeft(s, " ")
		switch {
		case strings.HasPrefix(t, ">"):
			s = t[1:]
			continue
		case strings.HasPrefix(t, "#"):
			h := strings.TrimLeft(t, "#")
			if h == "" || h[0] == ' ' {
				s = h
				continue
			}
		case len(t) > 1 && strings.ContainsRune("-*+", rune(t[0])) && t[1] == ' ':
			s = t[2:]
			continue
		}
		s = t
		break
	}
	for _, box := range []string{"[ ] ", "[x] ", "[X] "} {
		if rest, ok := strings.CutPrefix(s, box); ok {
			return rest
		}
	}
	return s
}

// wordRune reports whether r is part of a word, for emphasis markers.
func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}
