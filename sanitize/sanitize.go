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
// equals String(s). It never panics. It is the Stream below run over one
// piece, so text sanitized whole and text sanitized as a stream agree.
func String(s string) string {
	if clean(s) {
		return s
	}
	var z Stream
	var b strings.Builder
	b.Grow(len(s))
	z.run(&b, s, true)
	return b.String()
}

// Stream sanitizes text that arrives in pieces (a model's streamed deltas)
// exactly as String sanitizes the whole: an escape sequence split across
// pieces is removed whole, and a UTF-8 character split across pieces is
// held back until it is complete. The zero value is ready to use; a Stream
// is not safe for concurrent use.
type Stream struct {
	state state
	held  [utf8.UTFMax]byte // an incomplete character at the end of the last piece
	nheld int
}

// state is where the machine is inside an escape sequence.
type state uint8

const (
	stText   state = iota
	stEsc          // after ESC
	stEscInt       // after ESC and intermediate bytes (0x20..0x2F)
	stCSI          // inside a control sequence
	stString       // inside OSC, DCS, SOS, PM or APC
	stStrEsc       // ESC inside a control string: ST if a backslash follows
)

// Write returns the safe text of the next piece. The concatenation of every
// Write's result and Flush's equals String of the concatenated pieces.
func (z *Stream) Write(s string) string {
	if z.state == stText && z.nheld == 0 && clean(s) {
		return s
	}
	if z.nheld > 0 {
		s = string(z.held[:z.nheld]) + s
		z.nheld = 0
	}
	var b strings.Builder
	b.Grow(len(s))
	z.run(&b, s, false)
	return b.String()
}

// Flush ends the text: a held incomplete character is replaced by U+FFFD
// as String would, an unterminated sequence is dropped, and the Stream is
// ready for a new text.
func (z *Stream) Flush() string {
	s := string(z.held[:z.nheld])
	z.nheld = 0
	var b strings.Builder
	z.run(&b, s, true)
	z.state = stText
	return b.String()
}

// Pending reports whether the stream is inside an escape sequence or holds
// part of a character, i.e. whether Flush would change anything.
func (z *Stream) Pending() bool { return z.state != stText || z.nheld > 0 }

// run feeds s through the machine, writing safe text to b. Unless final,
// an incomplete character at the end of s is held for the next piece.
func (z *Stream) run(b *strings.Builder, s string, final bool) {
	// decode returns the character at s[i:], or size 0 when it is
	// incomplete and must wait for the next piece.
	decode := func(i int) (rune, int) {
		if !final && !utf8.FullRuneInString(s[i:]) {
			return 0, 0
		}
		return utf8.DecodeRuneInString(s[i:])
	}
	hold := func(i int) {
		z.nheld = copy(z.held[:], s[i:])
	}
	i := 0
	for i < len(s) {
		c := s[i]
		switch z.state {
		case stText:
			if c < utf8.RuneSelf {
				switch {
				case c == esc:
					z.state = stEsc
				case (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f:
				default:
					b.WriteByte(c)
				}
				i++
				continue
			}
			r, size := decode(i)
			if size == 0 {
				hold(i)
				return
			}
			switch {
			case r == utf8.RuneError && size <= 1:
				b.WriteRune(utf8.RuneError)
			case r == c1CSI:
				z.state = stCSI
			case r == c1OSC || r == c1DCS || r == c1SOS || r == c1PM || r == c1APC:
				z.state = stString
			case dropped(r):
			default:
				b.WriteString(s[i : i+size])
			}
			i += size
		case stEsc, stEscInt:
			if z.state == stEsc {
				switch c {
				case '[':
					z.state = stCSI
					i++
					continue
				case ']', 'P', 'X', '^', '_':
					z.state = stString
					i++
					continue
				}
			}
			switch {
			case c >= 0x20 && c <= 0x2f:
				// nF intermediates: the final byte follows.
				z.state = stEscInt
				i++
			case c < 0x20 || c == 0x7f:
				// A control right after ESC is not part of the sequence:
				// the text state deals with it (keeps \n, drops the rest).
				z.state = stText
			default:
				// ESC and one character (Fp, Fe, Fs): the character goes
				// too, whole, so a multi-byte one is not split.
				_, size := decode(i)
				if size == 0 {
					hold(i)
					return
				}
				z.state = stText
				i += size
			}
		case stCSI:
			switch {
			case c >= 0x20 && c <= 0x3f:
				i++
			case c >= 0x40 && c <= 0x7e:
				z.state = stText
				i++
			default:
				// Outside the CSI grammar: the sequence ends and the byte
				// is text again, so what follows a malformed sequence
				// survives.
				z.state = stText
			}
		case stString:
			switch {
			case c == bel:
				z.state = stText
				i++
			case c == esc:
				z.state = stStrEsc
				i++
			case c < utf8.RuneSelf:
				i++
			default:
				r, size := decode(i)
				if size == 0 {
					hold(i)
					return
				}
				if r == c1ST {
					z.state = stText
				}
				i += size
			}
		case stStrEsc:
			if c == '\\' {
				z.state = stText
				i++
				continue
			}
			// A new sequence starts at that ESC; it aborts the string, as
			// in a terminal.
			z.state = stEsc
		}
	}
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
