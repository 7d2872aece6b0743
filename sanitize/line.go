package sanitize

import "strings"

// Line is s sanitized and folded onto one line: every run of whitespace
// (newlines and tabs included) becomes one space, and the ends are trimmed.
// It is how untrusted text is shown where only one line fits: a status
// bar, a tool's summary, an error on stderr, a card's title in a list.
func Line(s string) string {
	s = String(s)
	if !strings.ContainsAny(s, "\n\t\r\v\f") && !strings.HasPrefix(s, " ") && !strings.HasSuffix(s, " ") && !strings.Contains(s, "  ") {
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
