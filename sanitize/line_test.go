package sanitize

import (
	"strings"
	"testing"
	"unicode"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text unchanged", "model not found", "model not found"},
		{"inner spaces kept when nothing to fold", "a  b ", "a  b "},
		{"newlines folded", "first\nsecond\r\nthird", "first second third"},
		{"tabs and runs folded", "a\t\t b \n\n c", "a b c"},
		{"ends trimmed when folding", "\n  a\nb  \n", "a b"},
		{"unicode line separators folded", "a\u2028b\u2029c\u0085d", "a b cd"},
		{"OSC 52 removed", "bad\x1b]52;c;aGVsbG8=\x07 request", "bad request"},
		{"CSI removed before folding", "a\x1b[2J\nb", "a b"},
		{"invalid UTF-8 replaced", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Line(tt.in)
			if got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := Line(got); again != got {
				t.Errorf("not idempotent: Line(%q) = %q", got, again)
			}
		})
	}
}

// FuzzLine holds Line's promises on any input: one line, no control
// characters, idempotent.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"", "a\nb", "\x1b]52;c;x\x07", "\u2028", "a\x1b[", "\t \n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Line(s)
		if i := strings.IndexFunc(got, func(r rune) bool {
			return (r != ' ' && unicode.IsSpace(r)) || unicode.IsControl(r)
		}); i >= 0 {
			t.Fatalf("Line(%q) = %q: control or line break at %d", s, got, i)
		}
		if again := Line(got); again != got {
			t.Fatalf("not idempotent: Line(%q) = %q, then %q", s, got, again)
		}
	})
}
