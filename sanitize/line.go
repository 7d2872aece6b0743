package sanitize

import (
	"strings"
	"unicode"
)

// Line returns s sanitized by String and folded onto one line: every run of
// white space that holds anything other than plain spaces (newlines, tabs,
// and Unicode line and paragraph separators, which some terminals draw as
// line breaks) becomes one space, and the ends are trimmed. It is meant for
// error messages and other one-line texts built from untrusted input, which
// end up in a status bar, on stderr or in a log line. Line is idempotent and
// never panics.
func Line(s string) string {
	s = String(s)
	if strings.IndexFunc(s, func(r rune) bool { return r != ' ' && unicode.IsSpace(r) }) < 0 {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// Paste is pasted text made safe to keep: terminals send a pasted line
// break as CR (and some as CRLF), which String would drop, joining the
// lines; Paste turns CRLF and CR into LF first, then sanitizes.
func Paste(s string) string {
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return String(s)
}
