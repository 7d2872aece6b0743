package shell

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestCaptureKeepsHeadAndTail writes the same stream in random chunk sizes
// and checks that what is kept is exactly the stream's first and last bytes
// and that the rest is counted.
func TestCaptureKeepsHeadAndTail(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 100, 16 << 10, 32 << 10, 32<<10 + 1, 200 << 10} {
		full := make([]byte, size)
		for i := range full {
			full[i] = byte('a' + rng.IntN(26))
		}
		for range 20 {
			c := newCapture(16<<10, 16<<10)
			for rest := full; len(rest) > 0; {
				n := min(len(rest), 1+rng.IntN(40<<10))
				if got, err := c.Write(rest[:n]); got != n || err != nil {
					t.Fatalf("Write = %d, %v", got, err)
				}
				rest = rest[n:]
			}
			if c.total != int64(size) {
				t.Fatalf("size %d: total %d", size, c.total)
			}
			if size <= 32<<10 {
				if string(c.head)+string(c.tail) != string(full) || c.cut() != 0 {
					t.Fatalf("size %d: not kept whole", size)
				}
				continue
			}
			if string(c.head) != string(full[:16<<10]) || string(c.tail) != string(full[size-16<<10:]) {
				t.Fatalf("size %d: head or tail wrong", size)
			}
			if c.cut() != int64(size-32<<10) {
				t.Fatalf("size %d: cut %d", size, c.cut())
			}
			if cap(c.head) > 32<<10 || cap(c.tail) > 48<<10 {
				t.Fatalf("size %d: buffers grew to %d and %d", size, cap(c.head), cap(c.tail))
			}
		}
	}
}

// TestCaptureCutsAtCharacters: a cut through a multi-byte character drops
// the broken halves instead of showing replacement characters.
func TestCaptureCutsAtCharacters(t *testing.T) {
	c := newCapture(5, 5)
	c.Write([]byte(strings.Repeat("é", 20))) // 40 bytes; 5 splits a character at both ends
	s := c.String()
	if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		t.Fatalf("not clean UTF-8: %q", s)
	}
	if want := "éé\n… [32 bytes of output cut] …\néé"; s != want {
		t.Errorf("got %q, want %q", s, want)
	}
}
