package agent

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/store"
)

// endless streams one chunk every few milliseconds until the client goes.
func endless(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
	s := startSSE(w)
	for i := 0; ; i++ {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(2 * time.Millisecond):
		}
		s.content(fmt.Sprintf("w%d ", i))
	}
}

// TestInterruptRandomChunk interrupts a stream at a random chunk, many times
// (500, or SPINDLE_INTERRUPT_RUNS), and checks each time that the partial
// text saved with status interrupted is exactly what was streamed. The
// server writes k chunks at full speed and then holds the stream open until
// the client aborts, so the interrupt lands while the owner is blocked in a
// read, as it does for a person pressing Ctrl-C. Every other run interrupts
// as soon as the first delta arrives instead, racing the stream.
func TestInterruptRandomChunk(t *testing.T) {
	runs := 500
	if testing.Short() {
		runs = 50
	}
	if v, err := strconv.Atoi(os.Getenv("SPINDLE_INTERRUPT_RUNS")); err == nil && v > 0 {
		runs = v
	}
	e := newEnv(t)
	if bad := interruptRuns(t, e, runs, nil); len(bad) > 0 {
		t.Fatalf("%d of %d runs wrong; first: %s", len(bad), runs, bad[0])
	}
	if n := strings.Count(e.log.String(), "OpenAI client aborted (interrupt_abort"); n != runs {
		t.Errorf("log has %d abort lines, want %d", n, runs)
	}
}

// TestInterruptRandomChunkNegativeControl runs the same harness against an
// agent that loses the last byte of an interrupted reply when saving it:
// the harness must notice in every run.
func TestInterruptRandomChunkNegativeControl(t *testing.T) {
	e := newEnv(t)
	const runs = 20
	bad := interruptRuns(t, e, runs, func(s string) string {
		if s == "" {
			return s
		}
		return s[:len(s)-1]
	})
	if len(bad) != runs {
		t.Fatalf("the harness caught %d of %d lossy saves", len(bad), runs)
	}
}

// interruptRuns does the interrupting and returns what was wrong, one
// string per bad run. mangle, if set, is the deliberate bug.
func interruptRuns(t *testing.T, e *env, runs int, mangle func(string) string) []string {
	const total = 40
	chunk := func(i int) string { return fmt.Sprintf("tok%02d·", i) } // multi-byte on purpose
	prefix := func(k int) string {
		var b strings.Builder
		for i := 0; i < k; i++ {
			b.WriteString(chunk(i))
		}
		return b.String()
	}
	var mu sync.Mutex
	stopAt := map[string]int{} // user message → k
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, req chatRequest) {
		var prompt string
		_ = jsonString(req.Messages[len(req.Messages)-1].Content, &prompt)
		mu.Lock()
		k := stopAt[prompt]
		mu.Unlock()
		s := startSSE(w)
		for i := 0; i < k; i++ {
			s.content(chunk(i))
		}
		<-r.Context().Done()
	})
	// A short delta interval keeps 500 runs quick; coalescing itself is
	// tested in coalesce_test.go.
	a := e.agent(ts.base(), func(c *Config) { c.frameInterval = time.Millisecond; c.mangleInterrupted = mangle })
	var sid int64
	rng := rand.New(rand.NewPCG(1, 2))
	var bad []string
	for run := 0; run < runs; run++ {
		// Turns follow each other in one session, but not all 500 in the
		// same one: every request carries the whole history, and a
		// history of 1,000 messages made the run quadratic (a minute
		// under -race).
		if run%25 == 0 {
			sid = e.session()
		}
		k := 1 + rng.IntN(total)
		prompt := fmt.Sprintf("run %d", run)
		mu.Lock()
		stopAt[prompt] = k
		mu.Unlock()
		ch, err := a.Send(context.Background(), sid, prompt)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		racing := run%2 == 1
		want := prefix(k)
		var r result
		timer := time.NewTimer(guard)
		interrupted := false
	events:
		for {
			select {
			case ev, ok := <-ch:
				if !ok {
					break events
				}
				r.add(ev)
				if _, ok := ev.(Delta); ok && !interrupted && (racing || r.text == want) {
					interrupted = a.Interrupt(sid)
				}
			case <-timer.C:
				t.Fatalf("run %d: no end after %s (text %q)", run, guard, r.text)
			}
		}
		timer.Stop()
		if a.Running(sid) {
			t.Fatalf("run %d: still running after the terminal event", run)
		}
		it, ok := r.terminal.(Interrupted)
		m := e.lastAssistant(sid)
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("run %d (k=%d): terminal %#v", run, k, r.terminal))
		case m.ID != it.MessageID || m.Status != store.MessageInterrupted || it.Reason != "interrupt_abort":
			bad = append(bad, fmt.Sprintf("run %d: saved message %d %q, event %#v", run, m.ID, m.Status, it))
		case m.Content != r.text || it.Text != r.text:
			bad = append(bad, fmt.Sprintf("run %d: saved %q, event %q, streamed %q", run, m.Content, it.Text, r.text))
		case !racing && m.Content != want:
			bad = append(bad, fmt.Sprintf("run %d: saved %q, want all %d chunks %q", run, m.Content, k, want))
		case !strings.HasPrefix(want, m.Content):
			bad = append(bad, fmt.Sprintf("run %d: saved %q is not a prefix of %q", run, m.Content, want))
		}
	}
	return bad
}

// TestInterruptBeforeOwner interrupts right after Send returns, before the
// worker can have connected: the abort is remembered and the turn still
// ends as interrupted, with nothing saved but an empty interrupted reply.
func TestInterruptBeforeOwner(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, endless)
	a := e.agent(ts.base(), nil)
	for i := 0; i < 20; i++ {
		sid := e.session()
		ch, err := a.Send(context.Background(), sid, "go")
		if err != nil {
			t.Fatal(err)
		}
		if !a.Interrupt(sid) {
			t.Fatal("Interrupt found no running turn right after Send")
		}
		r := collect(t, ch)
		if it, ok := r.terminal.(Interrupted); !ok || it.Reason != "interrupt_abort" {
			t.Fatalf("terminal = %#v", r.terminal)
		}
		if m := e.lastAssistant(sid); m.Status != store.MessageInterrupted || m.Content != r.text {
			t.Fatalf("saved %q %q, streamed %q", m.Status, m.Content, r.text)
		}
	}
}

// TestInterruptDuringBackoff: the server asks for an hour's wait (and the
// cap is raised to allow it); an interrupt during it ends the turn at once
// instead of after the wait. A wait that was sat out fails by collect's
// guard, so there is no clock in the assertion.
func TestInterruptDuringBackoff(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
		w.Header().Set("Retry-After", "3600")
		apiError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "later")
	})
	a := e.agent(ts.base(), nil)
	a.backoff.Max = 2 * time.Hour
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "go")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(guard)
	for !strings.Contains(e.log.String(), "agent: retrying") {
		if time.Now().After(deadline) {
			t.Fatalf("no retry logged within %s", guard)
		}
		time.Sleep(time.Millisecond)
	}
	if !strings.Contains(e.log.String(), "delay=1h0m0s") {
		t.Fatalf("the retry does not wait the hour asked for:\n%s", e.log.String())
	}
	a.Interrupt(sid)
	r := collect(t, ch)
	if it, ok := r.terminal.(Interrupted); !ok || it.Reason != "interrupt_abort" {
		t.Fatalf("terminal = %#v", r.terminal)
	}
	if n := ts.attempts.Load(); n != 1 {
		t.Errorf("server saw %d requests", n)
	}
}

// TestInterruptIdempotentAndConcurrent calls Interrupt from many goroutines,
// many times, during and after a stream, and on sessions that never ran.
func TestInterruptIdempotentAndConcurrent(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, endless)
	a := e.agent(ts.base(), nil)
	sid := e.session()
	if a.Interrupt(sid) {
		t.Error("Interrupt before any turn returned true")
	}
	ch, err := a.Send(context.Background(), sid, "go")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Send(context.Background(), sid, "again"); err != ErrBusy {
		t.Errorf("second Send on a streaming session = %v, want ErrBusy", err)
	}
	first := <-ch
	if _, ok := first.(Delta); !ok {
		t.Fatalf("first event %#v", first)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				a.Interrupt(sid)
				a.Interrupt(sid + 1000)
			}
		}()
	}
	r := collect(t, ch)
	wg.Wait()
	if _, ok := r.terminal.(Interrupted); !ok {
		t.Fatalf("terminal = %#v", r.terminal)
	}
	if a.Interrupt(sid) {
		t.Error("Interrupt after the turn ended returned true")
	}
	if n := strings.Count(e.log.String(), "OpenAI client aborted ("); n != 1 {
		t.Errorf("%d abort lines, want exactly 1", n)
	}
	// The session works again.
	ts2 := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) { startSSE(w).complete("fine") })
	a2 := e.agent(ts2.base(), nil)
	ch, err = a2.Send(context.Background(), sid, "again")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := collect(t, ch).terminal.(Done); !ok {
		t.Error("a new turn after an interrupt did not complete")
	}
}

// TestCloseAbortsRunningTurns: Close ends running turns with shutdown_abort
// and returns after their workers are gone (goleak checks the rest).
func TestCloseAbortsRunningTurns(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, endless)
	a := e.agent(ts.base(), nil)
	var chans []<-chan Event
	var ids []int64
	for i := 0; i < 3; i++ {
		sid := e.session()
		ch, err := a.Send(context.Background(), sid, "go")
		if err != nil {
			t.Fatal(err)
		}
		<-ch // streaming
		chans, ids = append(chans, ch), append(ids, sid)
	}
	done := make(chan struct{})
	results := make([]result, len(chans))
	go func() {
		defer close(done)
		for i, ch := range chans {
			results[i] = collect(t, ch)
		}
	}()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
	for i, r := range results {
		it, ok := r.terminal.(Interrupted)
		if !ok || it.Reason != "shutdown_abort" {
			t.Errorf("turn %d: terminal %#v", i, r.terminal)
		}
		if m := e.lastAssistant(ids[i]); m.Status != store.MessageInterrupted {
			t.Errorf("turn %d saved %q", i, m.Status)
		}
	}
	if _, err := a.Send(context.Background(), e.session(), "x"); err != ErrClosed {
		t.Errorf("Send after Close = %v", err)
	}
}

// TestCloseWithAbsentReceiver: nobody reads the events; Close still returns.
func TestCloseWithAbsentReceiver(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, endless)
	a := e.agent(ts.base(), func(c *Config) { c.frameInterval = time.Millisecond; c.closeGrace = 50 * time.Millisecond })
	ch, err := a.Send(context.Background(), e.session(), "go")
	if err != nil {
		t.Fatal(err)
	}
	for len(ch) < cap(ch) { // fill the buffer; nobody reads
		time.Sleep(5 * time.Millisecond)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.log.String(), "a receiver stopped reading events") {
		t.Error("Close did not have to abandon the pump; the test did not test it")
	}
}
