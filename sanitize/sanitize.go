// Package sanitize makes text from untrusted sources (the model, tools, other
// processes writing the board) safe to draw in a terminal.
//
// A terminal interprets control characters and escape sequences: a reply that
// contains "\x1b]52;c;..." can write the clipboard, "\x1b[2J" can wipe the
// screen, and bidi overrides can make displayed text differ from what is
// stored. String removes all of them and keeps only printable text, newlines
// and tabs.
package sanitize

import (
	"strings"
	"unicode/utf8"
)

const (
	esc = 0x1b
	bel = 0x07
	// C1 code points as runes (U+0080..U+009F).
	c1DCS = 0x90
	c1SOS = 0x98
	c1CSI = 0x9b
	c1ST  = 0x9c
	c1OSC = 0x9d
	c1PM  = 0x9e
	c1APC = 0x9f
)

// String returns s with every terminal control removed:
//
//   - C0 controls except '\n' and '\t', and DEL;
//   - C1 controls (U+0080..U+009F);
//   - escape sequences: CSI (ESC [ or U+009B) up to its final byte; OSC, DCS,
//     SOS, PM and APC (ESC ] P X ^ _ or their C1 forms) up to BEL or ST, or the
//     end of the string when unterminated; any other ESC together with the
//     character that follows it (ESC x, including nF sequences' intermediates);
//   - bidi embeddings, overrides and isolates (U+202A..U+202E,
//     U+2066..U+2069) and the marks U+200E, U+200F and U+061C.
//
// Invalid UTF-8 is replaced by U+FFFD. String is idempotent: String(String(s))
// equals String(s). It never panics.
func String(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
			i++
			continue
		}
		switch {
		case r == esc:
			i = skipEscape(s, i+size)
			continue
		case r == c1CSI:
			i = skipCSI(s, i+size)
			continue
		case r == c1OSC || r == c1DCS || r == c1SOS || r == c1PM || r == c1APC:
			i = skipString(s, i+size)
			continue
		case dropped(r):
			i += size
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// clean reports whether s needs no change, so the common case allocates
// nothing.
func clean(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		if dropped(r) {
			return false
		}
		i += size
	}
	return true
}

// dropped reports whether r is a single control character that is removed
// on its own (not the start of a sequence).
func dropped(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200e || r == 0x200f || r == 0x061c:
		return true
	}
	return false
}

// skipEscape skips what follows an ESC at s[:i] and returns the index of the
// first byte after the sequence.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_':
		return skipString(s, i+1)
	}
	// nF sequences: intermediates 0x20..0x2F, then one final byte.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i >= len(s) {
		return i
	}
	if s[i] < 0x20 || s[i] == 0x7f {
		// A control right after ESC is not part of the sequence; the
		// caller's loop deals with it (keeps \n, drops the rest).
		return i
	}
	// ESC followed by one character (Fp, Fe, Fs): drop that character too,
	// decoding it as a rune so a multi-byte character is not split.
	_, size := utf8.DecodeRuneInString(s[i:])
	return i + size
}

// skipCSI skips a control sequence's parameter and intermediate bytes and its
// final byte (0x40..0x7E). A byte outside the CSI grammar ends the sequence
// without being consumed, so text after a malformed sequence survives.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 0x30 && c <= 0x3f, c >= 0x20 && c <= 0x2f:
			i++
		case c >= 0x40 && c <= 0x7e:
			return i + 1
		default:
			return i
		}
	}
	return i
}

// skipString skips a control string (OSC, DCS, SOS, PM, APC) up to and
// including its terminator: BEL, ESC \ or the C1 ST (U+009C). An unterminated
// string runs to the end of s: a terminal would swallow it too.
func skipString(s string, i int) int {
	for i < len(s) {
		c := s[i]
		if c == bel {
			return i + 1
		}
		if c == esc {
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			// A new sequence starts here; it aborts the string, as in
			// a terminal, and is skipped by the caller's loop.
			return i
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == c1ST {
			return i + size
		}
		i += size
	}
	return i
}
