package agent

import (
	"io"
	"time"
)

// readPace is how long a turn's worker lets a streaming response gather in
// the socket once it has caught up with the server, before it reads again.
//
// The worker runs on a locked OS thread (the transport rules), so every
// time it wakes for data the Go scheduler hands it from one thread to
// another: two futex wake-ups and two sleeps. With a server that sends a
// chunk every millisecond, the scheduler's share was 40 % of the TUI's CPU
// (~900 chunks a second), more than drawing the screen took. Reading
// at most every 10 ms after a read that had to wait costs at most 10 ms of
// latency, well inside the 50 ms FrameInterval the text is shown at, and
// it never slows a fast stream: a read that found data waiting is followed
// by the next read at once. An abort ends the wait at once.
const readPace = 10 * time.Millisecond

// waitedRead is how long a read must have taken to count as having waited
// for the server (the stream was caught up) rather than having found data
// already in the socket or in a buffer.
const waitedRead = 500 * time.Microsecond

// pacedBody paces the reads of a response body (see readPace). It is read
// by one goroutine, the turn's worker.
type pacedBody struct {
	rc    io.ReadCloser
	pace  time.Duration
	abort <-chan struct{} // closed when the turn is aborted: stop waiting
	now   func() time.Time

	next  time.Time // when a read that had to wait may be followed by another
	timer *time.Timer

	// pauses counts the waits (a test hook).
	pauses int
}

func paceBody(rc io.ReadCloser, pace time.Duration, abort <-chan struct{}) *pacedBody {
	return &pacedBody{rc: rc, pace: pace, abort: abort, now: time.Now}
}

// Read waits, if the previous read had to wait for the server, until pace
// has passed since it returned, then reads.
func (b *pacedBody) Read(p []byte) (int, error) {
	if !b.next.IsZero() {
		if wait := b.next.Sub(b.now()); wait > 0 {
			b.pause(wait)
		}
		b.next = time.Time{}
	}
	start := b.now()
	n, err := b.rc.Read(p)
	if end := b.now(); b.pace > 0 && end.Sub(start) >= waitedRead {
		b.next = end.Add(b.pace)
	}
	return n, err
}

func (b *pacedBody) pause(d time.Duration) {
	b.pauses++
	if b.timer == nil {
		b.timer = time.NewTimer(d)
	} else {
		b.timer.Reset(d)
	}
	select {
	case <-b.timer.C:
	case <-b.abort:
		b.timer.Stop()
	}
}

// Close closes the body.
func (b *pacedBody) Close() error {
	if b.timer != nil {
		b.timer.Stop()
	}
	return b.rc.Close()
}
