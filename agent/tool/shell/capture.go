package shell

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// capture keeps the first headMax and the last tailMax bytes written to it
// and counts the rest, so a command that prints 100 MB costs
// headMax+tailMax bytes of memory. It is written by one goroutine (os/exec's
// copier) and read only after cmd.Wait has returned, which waits for that
// goroutine, so it needs no lock.
type capture struct {
	headMax, tailMax int
	head, tail       []byte
	total            int64
}

func newCapture(headMax, tailMax int) *capture {
	return &capture{headMax: headMax, tailMax: tailMax}
}

// Write implements io.Writer; it never fails.
func (c *capture) Write(p []byte) (int, error) {
	n := len(p)
	c.total += int64(n)
	if room := c.headMax - len(c.head); room > 0 {
		take := min(room, len(p))
		c.head = append(c.head, p[:take]...)
		p = p[take:]
	}
	switch {
	case len(p) == 0:
	case len(p) >= c.tailMax:
		c.tail = append(c.tail[:0], p[len(p)-c.tailMax:]...)
	default:
		if over := len(c.tail) + len(p) - c.tailMax; over > 0 {
			c.tail = c.tail[:copy(c.tail, c.tail[over:])]
		}
		c.tail = append(c.tail, p...)
	}
	return n, nil
}

// cut is how many bytes were dropped between head and tail.
func (c *capture) cut() int64 {
	return c.total - int64(len(c.head)) - int64(len(c.tail))
}

// String is the kept output as valid UTF-8: head, a line saying how much was
// cut, and tail. A character split by a cut is dropped, not mangled.
func (c *capture) String() string {
	if c.cut() == 0 {
		return strings.ToValidUTF8(string(c.head)+string(c.tail), "\uFFFD")
	}
	head := trimBrokenEnd(c.head)
	tail := trimBrokenStart(c.tail)
	dropped := c.total - int64(len(head)) - int64(len(tail))
	var b strings.Builder
	b.WriteString(strings.ToValidUTF8(string(head), "\uFFFD"))
	if len(head) > 0 && head[len(head)-1] != '\n' {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "… [%s bytes of output cut] …\n", thousands(dropped))
	b.WriteString(strings.ToValidUTF8(string(tail), "\uFFFD"))
	return b.String()
}

// trimBrokenEnd drops an incomplete UTF-8 sequence at the end of b.
func trimBrokenEnd(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// trimBrokenStart drops continuation bytes at the start of b.
func trimBrokenStart(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && i < len(b); i++ {
		if utf8.RuneStart(b[i]) {
			return b[i:]
		}
	}
	return b
}

// thousands formats n with commas: 1234567 → "1,234,567".
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
