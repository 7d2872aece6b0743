package agent

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/store"
)

// clockedReader is a body whose reads take a set time on a fake clock:
// took[i] for the i-th read (the last value repeats), as if the read had
// waited that long for the server.
type clockedReader struct {
	clock *time.Time
	took  []time.Duration
	data  *bytes.Reader
	reads int
}

func (r *clockedReader) Read(p []byte) (int, error) {
	d := r.took[min(r.reads, len(r.took)-1)]
	r.reads++
	*r.clock = r.clock.Add(d)
	return r.data.Read(p[:min(len(p), 8)])
}

func (r *clockedReader) Close() error { return nil }

func newClocked(pace time.Duration, abort <-chan struct{}, took ...time.Duration) (*pacedBody, *clockedReader) {
	clock := time.Unix(1e9, 0)
	r := &clockedReader{clock: &clock, took: took, data: bytes.NewReader(bytes.Repeat([]byte("data: x\n\n"), 1000))}
	b := paceBody(r, pace, abort)
	b.now = func() time.Time { return clock }
	return b, r
}

// TestPacedBodyWaitsOnlyAfterCatchingUp: a read that had to wait for the
// server is followed by a pause; reads that found data waiting are not,
// so a fast stream is read at full speed.
func TestPacedBodyWaitsOnlyAfterCatchingUp(t *testing.T) {
	buf := make([]byte, 64)
	// A fast stream: every read finds data at once.
	fast, _ := newClocked(time.Millisecond, nil, time.Microsecond)
	var got []byte
	for {
		n, err := fast.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
	}
	if fast.pauses != 0 {
		t.Errorf("a fast stream paused %d times, want 0", fast.pauses)
	}
	if len(got) != 9000 {
		t.Errorf("read %d bytes, want 9000", len(got))
	}

	// A paced stream: reads that wait 2 ms, then one that finds data.
	slow, _ := newClocked(time.Millisecond, nil, 2*time.Millisecond, 2*time.Millisecond, time.Microsecond, time.Microsecond)
	for range 4 {
		if _, err := slow.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	// Reads 2 and 3 follow a read that waited; read 4 follows one that
	// did not.
	if slow.pauses != 2 {
		t.Errorf("pauses = %d, want 2 (after each read that waited, and only then)", slow.pauses)
	}

	// Control: with pacing off nothing pauses.
	off, _ := newClocked(0, nil, 2*time.Millisecond)
	for range 4 {
		if _, err := off.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	if off.pauses != 0 {
		t.Errorf("pace 0: pauses = %d, want 0", off.pauses)
	}
}

// TestPacedBodyAbortEndsTheWait: an abort during a pause lets the read go
// on at once (the socket, shut down by the stranger, then fails it).
func TestPacedBodyAbortEndsTheWait(t *testing.T) {
	abort := make(chan struct{})
	b, _ := newClocked(time.Hour, abort, 2*time.Millisecond)
	buf := make([]byte, 64)
	if _, err := b.Read(buf); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = b.Read(buf)
	}()
	// Control: the second read waits (an hour's pace).
	select {
	case <-done:
		t.Fatal("the read after one that waited did not pause")
	case <-time.After(50 * time.Millisecond):
	}
	close(abort)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the abort did not end the pause")
	}
}

// TestInterruptDuringAReadPause: with an hour's read pace, a turn's worker
// pauses after its first read had to wait for the server; an interrupt
// then ends the turn at once (the pause ends on the turn's abort channel)
// and saves what arrived. No clock is asserted: with the pause not wired to
// the abort (checked), the turn never ends and the test hangs until go
// test's timeout.
func TestInterruptDuringAReadPause(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
		s := startSSE(w)
		time.Sleep(20 * time.Millisecond) // the first read waits for this
		s.content("first words ")
		<-r.Context().Done()
	})
	a := e.agent(ts.base(), func(c *Config) { c.readPace = time.Hour })
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "go")
	if err != nil {
		t.Fatal(err)
	}
	var first string
	for ev := range ch {
		if d, ok := ev.(Delta); ok {
			first = d.Text
			break
		}
	}
	if first != "first words " {
		t.Fatalf("first delta %q", first)
	}
	if !a.Interrupt(sid) {
		t.Fatal("Interrupt found no running turn")
	}
	r := collect(t, ch)
	if _, ok := r.terminal.(Interrupted); !ok {
		t.Fatalf("terminal = %#v", r.terminal)
	}
	if m := e.lastAssistant(sid); m.Status != store.MessageInterrupted || m.Content != "first words " {
		t.Fatalf("saved %q %q", m.Status, m.Content)
	}
}
