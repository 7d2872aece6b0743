package agent

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// Size limits on what a server may send. Without them a server that
// streams valid tokens forever, or one line that never ends, grows the
// process until the machine runs out of memory.
const (
	// defaultMaxReplyBytes bounds one round's reply: its text and its tool
	// calls (Config.MaxReplyBytes).
	defaultMaxReplyBytes = 4 << 20
	// defaultMaxEventBytes bounds one server-sent event, and any one line
	// of the stream (Config.MaxEventBytes).
	defaultMaxEventBytes = 1 << 20
	// toolCallOverhead is what one tool call counts against the reply
	// limit beyond its id, name and arguments, so that a server cannot
	// grow memory with endless empty calls either.
	toolCallOverhead = 64
)

// size is how many bytes of the reply limit the round has used.
func (r *round) size() int {
	n := r.text.Len()
	for _, c := range r.calls {
		n += toolCallOverhead + len(c.id) + len(c.name) + c.args.Len()
	}
	return n
}

// fit returns the part of d that still fits in the round's limit of max
// bytes, cut on a character boundary, and whether d had to be cut. Once it
// has, the round is over: the caller keeps what fitted and ends the round
// with replyTooLarge.
func (r *round) fit(d string, max int) (string, bool) {
	room := max - r.size()
	if len(d) <= room {
		return d, false
	}
	if room <= 0 {
		return "", true
	}
	for room > 0 && !utf8.RuneStart(d[room]) {
		room--
	}
	return d[:room], true
}

// replyTooLarge is the error of a round whose reply passed max bytes.
func replyTooLarge(max int) *RequestError {
	return &RequestError{
		Kind: "reply_too_large",
		Msg:  fmt.Sprintf("the reply passed the %s limit (max_reply_bytes); what arrived is saved", sizeText(max)),
	}
}

// errEventTooLarge is returned by eventLimit's Read once an event or a line
// passed the limit.
type errEventTooLarge struct{ max int }

func (e *errEventTooLarge) Error() string {
	return fmt.Sprintf("a server-sent event passed the %s limit", sizeText(e.max))
}

// eventLimit passes an event stream through and fails the read, which ends
// openai-go's stream and gets the connection closed, as soon as one event
// (its lines up to the blank line that ends it, comments not counted) or
// any single line (comments included) passes max bytes. What came before
// the event that passed the limit is passed through, so complete events
// already received are still delivered. Memory stays bounded because the
// decoder behind it never holds more than max bytes of one event.
type eventLimit struct {
	rc      io.ReadCloser
	max     int
	event   int  // counted bytes of the current event
	line    int  // bytes of the current line
	comment bool // the current line starts with ':'
	cr      bool // the previous byte was '\r' (a "\r\n" ends one line)
	err     error
}

// limitEvents wraps a response body; max <= 0 means defaultMaxEventBytes.
func limitEvents(rc io.ReadCloser, max int) *eventLimit {
	if max <= 0 {
		max = defaultMaxEventBytes
	}
	return &eventLimit{rc: rc, max: max}
}

// Read passes the body through up to the first byte past the limit.
func (l *eventLimit) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.rc.Read(p)
	for i, b := range p[:n] {
		if b == '\n' || b == '\r' {
			if b == '\n' && l.cr {
				l.cr = false
				continue
			}
			if l.line == 0 {
				l.event = 0 // a blank line ends the event
			}
			l.line, l.comment, l.cr = 0, false, b == '\r'
			continue
		}
		l.cr = false
		if l.line == 0 && b == ':' {
			l.comment = true
		}
		l.line++
		if !l.comment {
			l.event++
		}
		if l.line > l.max || l.event > l.max {
			l.err = &errEventTooLarge{max: l.max}
			return i, l.err
		}
	}
	return n, err
}

// Close closes the body.
func (l *eventLimit) Close() error { return l.rc.Close() }

// sizeText writes a byte count the way limits are set: "4 MiB", "64 KiB",
// "1000 bytes".
func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
