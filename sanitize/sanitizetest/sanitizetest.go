// Package sanitizetest holds the hostile strings and the ways of cutting
// them into deltas that every streaming path's tests share (the sanitizer
// itself, the TUI's transcript and `spindle run`), so that each path is
// held to the same property: text streamed in any pieces is sanitized
// exactly as the whole.
package sanitizetest

// Hostile are strings whose escape sequences and characters a delta
// boundary could cut in two: OSC 52 (clipboard) and OSC 8 (hyperlink) with
// BEL and ST, CSI, DCS, APC, the C1 forms, bidi overrides, invalid and
// multi-byte UTF-8. None contains a line break, so that a renderer that
// wraps or folds lines cannot hide a difference.
var Hostile = []string{
	"abc\x1b]52;c;c2VjcmV0\x07def",
	"see \x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\ now",
	"red \x1b[1;31mALERT\x1b[0m done",
	"a\x1b[?1049hb\x1b[2Jc",
	"x\x1bPq#0;2;0;0;0#0~~@@\x1b\\y",
	"p\x1b_Gf=100;AAAA\x1b\\q",
	"c1 \u009b31m csi \u009d0;title\u009c osc \u009fapc\u009c end",
	"bidi \u202eevil\u202c and \u2066iso\u2069 marks \u200e\u200f",
	"héllo 世界 🙂 done",
	"nF \x1b(B and ESC 7 \x1b7 gone",
	"string aborted \x1b]0;t\x1b[31mby CSI",
	"bad utf8 \xff and \xe2\x82\xac euro",
	"esc then multibyte \x1b€ and more",
	"unterminated \x1b]0;title runs to the end",
}

// Splits returns s cut into two pieces at every byte boundary, then byte
// by byte.
func Splits(s string) [][]string {
	out := make([][]string, 0, len(s)+2)
	for i := 0; i <= len(s); i++ {
		out = append(out, []string{s[:i], s[i:]})
	}
	bytes := make([]string, len(s))
	for i := 0; i < len(s); i++ {
		bytes[i] = s[i : i+1]
	}
	return append(out, bytes)
}
