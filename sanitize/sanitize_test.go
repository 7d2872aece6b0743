package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text unchanged", "hello, world", "hello, world"},
		{"newline and tab kept", "a\tb\nc", "a\tb\nc"},
		{"unicode kept", "héllo 世界 🙂", "héllo 世界 🙂"},
		{"carriage return removed", "over\rwrite", "overwrite"},
		{"bell and backspace removed", "a\x07b\x08c", "abc"},
		{"NUL removed", "a\x00b", "ab"},
		{"DEL removed", "a\x7fb", "ab"},
		{"CSI colour removed", "\x1b[31mred\x1b[0m", "red"},
		{"CSI clear screen removed", "a\x1b[2Jb", "ab"},
		{"CSI private mode removed", "a\x1b[?1049hb", "ab"},
		{"CSI with intermediates", "a\x1b[1 qb", "ab"},
		{"C1 CSI removed", "a\u009b31mb", "ab"},
		{"OSC with BEL", "a\x1b]0;title\x07b", "ab"},
		{"OSC with ST", "a\x1b]52;c;aGVsbG8=\x1b\\b", "ab"},
		{"OSC 8 hyperlink", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"},
		{"C1 OSC with C1 ST", "a\u009d0;t\u009cb", "ab"},
		{"DCS removed", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"SOS removed", "a\x1bXhidden\x1b\\b", "ab"},
		{"PM removed", "a\x1b^hidden\x1b\\b", "ab"},
		{"APC removed", "a\x1b_Gf=100;AAAA\x1b\\b", "ab"},
		{"C1 APC removed", "a\u009fhidden\u009cb", "ab"},
		{"unterminated OSC swallows the rest", "a\x1b]0;never ends", "a"},
		{"OSC aborted by new CSI", "a\x1b]0;t\x1b[31mb", "ab"},
		{"plain ESC x removed", "a\x1bcb", "ab"},
		{"ESC 7 and 8 removed", "\x1b7a\x1b8", "a"},
		{"nF sequence removed", "a\x1b(Bb", "ab"},
		{"ESC at the end", "ab\x1b", "ab"},
		{"ESC then newline keeps newline", "a\x1b\nb", "a\nb"},
		{"lone C1 removed", "a\u0085b\u008db", "abb"},
		{"bidi override removed", "a\u202Eevil\u202Cb", "aevilb"},
		{"bidi isolates removed", "\u2066x\u2067y\u2068z\u2069", "xyz"},
		{"bidi marks removed", "a\u200Eb\u200Fc\u061Cd", "abcd"},
		{"invalid UTF-8 replaced", "a\xffb", "a\uFFFDb"},
		{"truncated rune replaced", "a\xe4\xb8", "a\uFFFD\uFFFD"},
		{"zero width joiner kept", "👩\u200D💻", "👩\u200D💻"},
		{"malformed CSI keeps text after", "\x1b[12\x01text", "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := String(tt.in)
			if got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := String(got); again != got {
				t.Errorf("not idempotent: String(%q) = %q", got, again)
			}
		})
	}
}

// TestCleanReturnsInputUnchanged checks the allocation-free fast path: text
// that needs no change is returned as the same string.
func TestCleanReturnsInputUnchanged(t *testing.T) {
	in := strings.Repeat("plain text with ünïcode\n", 10)
	allocs := testing.AllocsPerRun(10, func() { _ = String(in) })
	if allocs != 0 {
		t.Errorf("String on clean input allocated %v times", allocs)
	}
}

// checkSafe is the property the fuzz test holds. It returns what is unsafe
// in out, or "" when out is safe to draw.
func checkSafe(out string) string {
	if !utf8.ValidString(out) {
		return "invalid UTF-8"
	}
	for _, r := range out {
		switch {
		case r == 0x1b:
			return "ESC"
		case r < 0x20 && r != '\n' && r != '\t', r == 0x7f:
			return "C0 control or DEL"
		case r >= 0x80 && r <= 0x9f:
			return "C1 control"
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return "bidi control"
		}
	}
	return ""
}

// TestCheckSafeCatchesUnsafe is the negative control for the fuzz property:
// checkSafe must reject each class of unsafe output.
func TestCheckSafeCatchesUnsafe(t *testing.T) {
	for _, bad := range []string{"\x1b[31m", "\u009b", "\u202e", "\u2066", "\x00", "\x7f", "\xff", "\r"} {
		if checkSafe(bad) == "" {
			t.Errorf("checkSafe(%q) accepted unsafe text", bad)
		}
	}
	if msg := checkSafe("ok\n\ttext 世界"); msg != "" {
		t.Errorf("checkSafe rejected safe text: %s", msg)
	}
}

func FuzzString(f *testing.F) {
	for _, seed := range []string{
		"", "plain", "\x1b[31mred\x1b[0m", "\x1b]0;t\x07", "\x1bP\x1b\\", "\u009b1m",
		"\u202eabc", "\xff\xfe", "\x1b", "\x1b[", "\x1b]", "a\x1b\x1b[1mb", "\u009d\u009c",
		"\x1b(\x1b)0", "\x1b\xc3\xa9", "\x1b]8;;u\x1b\\l\x1b]8;;\x1b\\",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := String(in)
		if msg := checkSafe(out); msg != "" {
			t.Fatalf("String(%q) = %q contains %s", in, out, msg)
		}
		if again := String(out); again != out {
			t.Fatalf("not idempotent: String(%q) = %q, String of that = %q", in, out, again)
		}
		if len(out) > 3*len(in) {
			t.Fatalf("output grew beyond replacement bound: %d -> %d", len(in), len(out))
		}
	})
}

func BenchmarkStringClean(b *testing.B) {
	in := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 20)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		_ = String(in)
	}
}

func BenchmarkStringDirty(b *testing.B) {
	in := strings.Repeat("The \x1b[1mquick\x1b[0m brown fox \u202e jumps. ", 20)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		_ = String(in)
	}
}
