package files

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// sniffSize is how much of a file is looked at to call it binary.
const sniffSize = 8 << 10

// isBinary says whether sample (the start of a file) looks like anything but
// text: a NUL byte, or mostly bytes that are not UTF-8. A few invalid bytes
// (a Latin-1 name in a comment) leave a file text; the text shown then has
// them replaced.
func isBinary(sample []byte) bool {
	if len(sample) > sniffSize {
		sample = sample[:sniffSize]
	}
	if bytes.IndexByte(sample, 0) >= 0 {
		return true
	}
	invalid := 0
	for i := 0; i < len(sample); {
		r, size := utf8.DecodeRune(sample[i:])
		if r == utf8.RuneError && size <= 1 {
			// A rune cut off by the end of the sample is not invalid.
			if len(sample)-i < utf8.UTFMax && !utf8.FullRune(sample[i:]) {
				break
			}
			invalid++
		}
		i += max(size, 1)
	}
	return invalid*10 > len(sample) // more than 10 %
}

// cutLong is line as text of at most limit characters. total is the full
// line's length in bytes, of which line holds the first part; when anything
// is cut, a note says so.
func cutLong(line []byte, total, limit int) string {
	text := validText(line)
	if total <= len(line) && utf8.RuneCountInString(text) <= limit {
		return text
	}
	n := 0
	for i := range text {
		if n == limit {
			text = text[:i]
			break
		}
		n++
	}
	return text + fmt.Sprintf(" … [line cut at %s characters; %s bytes in all]", thousands(limit), thousands(total))
}

// validText makes b valid UTF-8 for the model (invalid bytes become U+FFFD).
func validText(b []byte) string {
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// thousands formats n with commas: 1234567 → "1,234,567".
func thousands[T int | int64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// plural is "1 match" / "2 matches".
func plural[T int | int64](n T, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

// capLines keeps the first limit lines of s and says how many more there
// were. It is used for diffs and listings shown to the person.
func capLines(s string, limit int) string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) <= limit {
		return s
	}
	kept := strings.Join(lines[:limit], "")
	if !strings.HasSuffix(kept, "\n") {
		kept += "\n"
	}
	return kept + fmt.Sprintf("… %s more lines\n", thousands(len(lines)-limit))
}
