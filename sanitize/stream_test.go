package sanitize

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// hostile are strings whose escape sequences and characters a split delta
// could cut in two: OSC 52 (clipboard) and OSC 8 (hyperlink) with BEL and
// ST, CSI, DCS, APC, the C1 forms, bidi overrides and multi-byte text.
var hostile = []string{
	"abc\x1b]52;c;c2VjcmV0\x07def",
	"see \x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\ now",
	"red \x1b[1;31mALERT\x1b[0m done",
	"a\x1b[?1049hb\x1b[2Jc",
	"x\x1bPq#0;2;0;0;0#0~~@@\x1b\\y",
	"p\x1b_Gf=100;AAAA\x1b\\q",
	"c1 \u009b31m csi \u009d0;title\u009c osc \u009fapc\u009c end",
	"bidi \u202eevil\u202c and \u2066iso\u2069 marks \u200e\u200f",
	"héllo 世界 🙂 👩\u200d💻 done",
	"nF \x1b(B and ESC 7 \x1b7 and ESC at end \x1b",
	"unterminated \x1b]0;title runs to the end",
	"string aborted \x1b]0;t\x1b[31mby CSI",
	"bad utf8 \xff\xe4\xb8 and \xe2\x82\xac euro",
	"esc then multibyte \x1b€ and \x1b\xe4\xb8",
	"controls \x00\x07\x08\r\x7f kept \n\t",
}

// streamed runs pieces through one Stream and joins the results.
func streamed(pieces []string) string {
	var z Stream
	var b strings.Builder
	for _, p := range pieces {
		b.WriteString(z.Write(p))
	}
	b.WriteString(z.Flush())
	return b.String()
}

// perDelta is what the TUI did before Stream: each delta sanitized alone.
func perDelta(pieces []string) string {
	var b strings.Builder
	for _, p := range pieces {
		b.WriteString(String(p))
	}
	return b.String()
}

// TestStreamSplitAtEveryBoundary cuts each hostile string into two and
// into three pieces at every pair of byte boundaries: the streamed result
// must equal the whole string sanitized.
func TestStreamSplitAtEveryBoundary(t *testing.T) {
	for _, s := range hostile {
		want := String(s)
		for i := 0; i <= len(s); i++ {
			if got := streamed([]string{s[:i], s[i:]}); got != want {
				t.Fatalf("%q split at %d: got %q, want %q", s, i, got, want)
			}
			for j := i; j <= len(s); j++ {
				if got := streamed([]string{s[:i], s[i:j], s[j:]}); got != want {
					t.Fatalf("%q split at %d,%d: got %q, want %q", s, i, j, got, want)
				}
			}
		}
		// One byte at a time, the worst case.
		pieces := make([]string, len(s))
		for i := 0; i < len(s); i++ {
			pieces[i] = s[i : i+1]
		}
		if got := streamed(pieces); got != want {
			t.Fatalf("%q byte by byte: got %q, want %q", s, got, want)
		}
	}
}

// TestPerDeltaSanitizingLeaks is the negative control: sanitizing each
// delta alone, as the TUI did, lets an OSC payload through as text when the
// sequence is split. The split test above would catch that code.
func TestPerDeltaSanitizingLeaks(t *testing.T) {
	pieces := []string{"abc\x1b]52;c;c2Vj", "cmV0\x07def"}
	if got := perDelta(pieces); got != "abccmV0def" {
		t.Fatalf("per-delta result %q; the control no longer shows the leak", got)
	}
	if got := streamed(pieces); got != "abcdef" {
		t.Fatalf("streamed = %q, want abcdef", got)
	}
	leaks := 0
	for _, s := range hostile {
		for i := 0; i <= len(s); i++ {
			if perDelta([]string{s[:i], s[i:]}) != String(s) {
				leaks++
			}
		}
	}
	if leaks == 0 {
		t.Fatal("per-delta sanitizing agreed with the whole everywhere: the hostile set proves nothing")
	}
}

// TestStreamRandomSplits is the property over any text: random strings of
// hostile fragments, split at random points, stream to String's result.
func TestStreamRandomSplits(t *testing.T) {
	frag := rapid.SampledFrom([]string{
		"a", "é", "世", "🙂", "\n", "\t", "\r", "\x1b", "[", "]", "\\", "\x07", "P", "_", "^", "X",
		"31m", ";", "52;c;", "\u009b", "\u009c", "\u009d", "\u202e", "\xff", "\xe4", "\xb8", " ", "(", "B",
	})
	rapid.Check(t, func(rt *rapid.T) {
		parts := rapid.SliceOfN(frag, 0, 40).Draw(rt, "parts")
		s := strings.Join(parts, "")
		var pieces []string
		for rest := s; rest != ""; {
			n := rapid.IntRange(0, len(rest)).Draw(rt, "cut")
			pieces = append(pieces, rest[:n])
			rest = rest[n:]
		}
		if got, want := streamed(pieces), String(s); got != want {
			rt.Fatalf("%q in %q: got %q, want %q", s, pieces, got, want)
		}
	})
}

func TestStreamFlushResets(t *testing.T) {
	var z Stream
	if got := z.Write("a\x1b]0;t"); got != "a" {
		t.Fatalf("Write = %q", got)
	}
	if !z.Pending() {
		t.Fatal("Pending is false inside an OSC")
	}
	z.Flush()
	if z.Pending() {
		t.Fatal("Pending after Flush")
	}
	if got := z.Write("next"); got != "next" {
		t.Fatalf("after Flush, Write = %q: the old sequence swallowed new text", got)
	}
}

func TestLineAndPaste(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"  two\nlines\t here ", "two lines here"},
		{"esc\x1b[2Japed", "escaped"},
	} {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"one\rtwo\rthree", "one\ntwo\nthree"},
		{"one\r\ntwo\r\n", "one\ntwo\n"},
		{"a\x1b[201~b", "ab"},
		{"keep\nlf", "keep\nlf"},
	} {
		if got := Paste(tc.in); got != tc.want {
			t.Errorf("Paste(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
