package transport

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// streamPlan describes one interrupted stream.
type streamPlan struct {
	abortAfter int // ask the stranger to abort after this many chunks
	// onChunk runs on the owner after every chunk (unsafe mode caches a raw
	// descriptor here).
	onChunk func(o *Owner, chunk int)
	// strangerAfter runs on the stranger right after Abort.
	strangerAfter func()
	// ownerLate runs on the owner after its stream loop exited and the
	// stranger finished (unsafe mode's late TLS flush).
	ownerLate func()
}

// streamResult is what one owner reports.
type streamResult struct {
	ownerTID  int
	chunks    int
	abortN    int
	dialed    uint64
	reason    Reason
	aborted   bool
	err       error
	closeTIDs []int
	viaFlag   bool // the loop left because Aborted() said so
}

// dialCount returns how many sockets the owner has dialled.
func (o *Owner) dialCount() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.nextID
}

// liveConns returns the owner's not yet really closed conns.
func (o *Owner) liveConns() []*OwnedConn {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.snapshotLocked(func(*OwnedConn) bool { return true })
}

// runStream makes the calling goroutine an owner, streams a chat completion
// through openai-go, has the stranger abort it after plan.abortAfter chunks,
// then reaps and finishes. It must run on a goroutine of its own (or the test
// goroutine): NewOwner locks it to its thread until Finish.
func runStream(s *sseServer, st *stranger, cfg Config, plan streamPlan) streamResult {
	var r streamResult
	rec := &tidRecorder{}
	cfg.OnRealClose = rec.hook
	o := NewOwner(cfg)
	r.ownerTID = o.OwnerTID()
	client := newChatClient(o, s)
	stream := client.Chat.Completions.NewStreaming(context.Background(), chatParams())

	abortDone := make(chan struct{})
	requested := false
	var abortN int
	request := func() {
		requested = true
		st.post(func() {
			abortN = o.Abort(InterruptAbort)
			if plan.strangerAfter != nil {
				plan.strangerAfter()
			}
			close(abortDone)
		})
	}
	for stream.Next() {
		r.chunks++
		if plan.onChunk != nil {
			plan.onChunk(o, r.chunks)
		}
		if _, aborted := o.Aborted(); aborted {
			r.viaFlag = true
			break
		}
		if !requested && r.chunks >= plan.abortAfter {
			request()
		}
	}
	r.err = stream.Err()
	_ = stream.Close()
	if !requested {
		request()
	}
	<-abortDone
	r.abortN = abortN
	if plan.ownerLate != nil {
		plan.ownerLate()
	}
	o.Reap()
	r.reason, r.aborted = o.Aborted()
	reason := RequestComplete
	if r.aborted {
		reason = r.reason
	}
	r.dialed = o.dialCount()
	o.Finish(reason)
	r.closeTIDs = rec.get()
	return r
}

// TestStrangerAbortRealClosesOnOwnerThread is T1, T2 and T5 end to end:
// streams through openai-go over loopback HTTPS, each aborted by a stranger
// goroutine after a random number of chunks.
func TestStrangerAbortRealClosesOnOwnerThread(t *testing.T) {
	warmNetpoll(t)
	fd0 := countFDs(t)
	s := newSSEServer(t, time.Millisecond, 0, false)
	logger, logs := newCapture()
	st := startStranger()
	cfg := Config{BaseURL: s.baseURL(), Model: "test-model", Logger: logger, TLSConfig: s.tlsConfig()}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	const streams, parallel = 32, 4
	results := make([]streamResult, streams)
	plans := make([]streamPlan, streams)
	for i := range plans {
		plans[i] = streamPlan{abortAfter: 1 + rng.IntN(10)}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for i := range streams {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = runStream(s, st, cfg, plans[i])
		}()
	}
	wg.Wait()
	st.stop()

	var dialed uint64
	streamsByTID := map[string]int{}
	for i, r := range results {
		if !r.aborted || r.reason != InterruptAbort {
			t.Errorf("stream %d: Aborted() = %q, %v; want interrupt_abort, true", i, r.reason, r.aborted)
		}
		if r.chunks < plans[i].abortAfter {
			t.Errorf("stream %d: got %d chunks before the loop ended, want at least %d (err %v)", i, r.chunks, plans[i].abortAfter, r.err)
		}
		if r.abortN != 1 {
			t.Errorf("stream %d: Abort returned tcp_force_closed=%d, want 1", i, r.abortN)
		}
		if uint64(len(r.closeTIDs)) != r.dialed {
			t.Errorf("stream %d: %d real closes for %d sockets, want exactly one each", i, len(r.closeTIDs), r.dialed)
		}
		for _, tid := range r.closeTIDs {
			if tid != r.ownerTID {
				t.Errorf("stream %d: real close on tid %d, want owner tid %d", i, tid, r.ownerTID)
			}
			if tid == st.tid {
				t.Errorf("stream %d: real close on the stranger's tid %d", i, tid)
			}
		}
		dialed += r.dialed
		streamsByTID[strconv.Itoa(r.ownerTID)]++
	}
	if got := uint64(s.accepted.Load()); got != dialed {
		t.Errorf("server accepted %d connections, owners dialled %d", got, dialed)
	}

	var aborts, closes int
	abortsByTID := map[string]int{}
	for _, rec := range logs.all() {
		switch {
		case rec.Msg == "OpenAI client aborted (interrupt_abort, shared=false, tcp_force_closed=1, deferred_close=stranger_thread)":
			aborts++
			if rec.Level != slogInfo {
				t.Errorf("abort line at %v, want INFO", rec.Level)
			}
			want := map[string]string{"thread": "stranger", "tid": strconv.Itoa(st.tid), "base_url": s.baseURL(), "model": "test-model"}
			for k, v := range want {
				if rec.Attrs[k] != v {
					t.Errorf("abort line attr %s = %q, want %q", k, rec.Attrs[k], v)
				}
			}
			abortsByTID[rec.Attrs["owner_tid"]]++
		case rec.Msg == "OpenAI client closed (interrupt_abort, shared=false, tcp_force_closed=0)":
			closes++
		default:
			t.Errorf("unexpected log line %v %q %v", rec.Level, rec.Msg, rec.Attrs)
		}
	}
	if aborts != streams || closes != streams {
		t.Errorf("logged %d abort and %d close lines, want %d of each", aborts, closes, streams)
	}
	// Threads are reused after Finish unlocks them, so compare per tid.
	if !maps.Equal(abortsByTID, streamsByTID) {
		t.Errorf("abort lines per owner tid %v, streams per owner tid %v", abortsByTID, streamsByTID)
	}

	s.srv.Close()
	waitFDs(t, fd0)
	goleak.VerifyNone(t)
}

// TestAbortBeforeDialWarns: nothing connected yet, so N is 0, the line is
// at WARN and says the dial was cancelled; the request then fails without
// ever reaching the server.
func TestAbortBeforeDialWarns(t *testing.T) {
	s := newSSEServer(t, time.Millisecond, 0, false)
	logger, logs := newCapture()
	st := startStranger()
	defer st.stop()
	rec := &tidRecorder{}
	o := NewOwner(Config{BaseURL: s.baseURL(), Model: "m", Logger: logger, TLSConfig: s.tlsConfig(), OnRealClose: rec.hook})
	var n int
	st.do(func() { n = o.Abort(StaleAbort) })
	if n != 0 {
		t.Errorf("Abort = %d, want 0", n)
	}
	if again := o.Abort(InterruptAbort); again != 0 {
		t.Errorf("second Abort = %d, want 0", again)
	}
	if r, ok := o.Aborted(); !ok || r != StaleAbort {
		t.Errorf("Aborted() = %q, %v; want stale_abort (first call wins)", r, ok)
	}
	client := newChatClient(o, s)
	stream := client.Chat.Completions.NewStreaming(context.Background(), chatParams())
	for stream.Next() {
		t.Error("got a chunk from an aborted owner")
	}
	if stream.Err() == nil {
		t.Error("stream of an aborted owner did not fail")
	}
	stream.Close()
	o.Finish(StaleAbort)
	if got := s.accepted.Load(); got != 0 {
		t.Errorf("server accepted %d connections after abort", got)
	}
	if got := rec.get(); len(got) != 0 {
		t.Errorf("real closes %v, want none", got)
	}
	recs := logs.all()
	if len(recs) != 2 {
		t.Fatalf("log lines %v, want abort and close", recs)
	}
	if recs[0].Msg != "OpenAI client aborted (stale_abort, shared=false, tcp_force_closed=0, deferred_close=stranger_thread)" || recs[0].Level != slogWarn {
		t.Errorf("abort line %v %q", recs[0].Level, recs[0].Msg)
	}
	if recs[0].Attrs["note"] == "" || !containsAll(recs[0].Attrs["note"], "dial", "cancelled") {
		t.Errorf("WARN abort line note %q, want it to say the dial was cancelled", recs[0].Attrs["note"])
	}
	if recs[1].Msg != "OpenAI client closed (stale_abort, shared=false, tcp_force_closed=0)" {
		t.Errorf("close line %q", recs[1].Msg)
	}
}

// TestLogLineShapes pins the two parseable lines for every reason.
func TestLogLineShapes(t *testing.T) {
	for _, reason := range []Reason{InterruptAbort, StaleAbort, ShutdownAbort} {
		logger, logs := newCapture()
		o := NewOwner(Config{BaseURL: "https://example.invalid/v1", Model: "gpt-x", Logger: logger})
		st := startStranger()
		st.do(func() { o.Abort(reason) })
		st.stop()
		o.Finish(reason)
		recs := logs.all()
		want := []string{
			fmt.Sprintf("OpenAI client aborted (%s, shared=false, tcp_force_closed=0, deferred_close=stranger_thread)", reason),
			fmt.Sprintf("OpenAI client closed (%s, shared=false, tcp_force_closed=0)", reason),
		}
		if len(recs) != 2 || recs[0].Msg != want[0] || recs[1].Msg != want[1] {
			t.Errorf("%s: lines %v, want %q", reason, recs, want)
			continue
		}
		for _, k := range []string{"thread", "tid", "owner_tid", "base_url", "model"} {
			if recs[0].Attrs[k] == "" {
				t.Errorf("%s: abort line lacks attr %s", reason, k)
			}
		}
		if recs[0].Attrs["owner_tid"] != strconv.Itoa(o.OwnerTID()) || recs[0].Attrs["tid"] == recs[0].Attrs["owner_tid"] {
			t.Errorf("%s: abort line tids %v", reason, recs[0].Attrs)
		}
	}
	for _, reason := range []Reason{RequestComplete, RequestErrorCleanup} {
		logger, logs := newCapture()
		o := NewOwner(Config{Logger: logger})
		o.Finish(reason)
		recs := logs.all()
		want := fmt.Sprintf("OpenAI client closed (%s, shared=false, tcp_force_closed=0)", reason)
		if len(recs) != 1 || recs[0].Msg != want || recs[0].Level != slogInfo {
			t.Errorf("%s: lines %v, want %q at INFO", reason, recs, want)
		}
	}
}

// TestCompletedStreamsCloseOnOwnerThread: streams that run to [DONE]
// (openai-go closes the body before the chunked terminator, so net/http's
// read loop closes the conn from its goroutine) are really closed by Reap on
// the owner's thread, once each, and Finish logs request_complete.
func TestCompletedStreamsCloseOnOwnerThread(t *testing.T) {
	warmNetpoll(t)
	fd0 := countFDs(t)
	s := newSSEServer(t, 0, 5, false)
	logger, logs := newCapture()
	rec := &tidRecorder{}
	o := NewOwner(Config{BaseURL: s.baseURL(), Model: "m", Logger: logger, TLSConfig: s.tlsConfig(), OnRealClose: rec.hook})
	tid := o.OwnerTID()
	client := newChatClient(o, s)
	const rounds = 3
	for round := range rounds {
		stream := client.Chat.Completions.NewStreaming(context.Background(), chatParams())
		n := 0
		for stream.Next() {
			n++
		}
		if err := stream.Err(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		stream.Close()
		if n != 6 {
			t.Errorf("round %d: %d chunks, want 6", round, n)
		}
		o.Reap()
	}
	if _, aborted := o.Aborted(); aborted {
		t.Error("Aborted() true without Abort")
	}
	o.Finish(RequestComplete)
	got := rec.get()
	if int64(len(got)) != s.accepted.Load() {
		t.Errorf("%d real closes for %d sockets", len(got), s.accepted.Load())
	}
	for _, g := range got {
		if g != tid {
			t.Errorf("real close on tid %d, want owner tid %d", g, tid)
		}
	}
	recs := logs.all()
	if len(recs) != 1 || recs[0].Msg != "OpenAI client closed (request_complete, shared=false, tcp_force_closed=0)" {
		t.Errorf("log lines %v", recs)
	}
	s.srv.Close()
	waitFDs(t, fd0)
	goleak.VerifyNone(t)
}

// TestIdleConnReusedUntilFinish: a body read to its end leaves a healthy
// keep-alive socket (with net/http's read loop parked in a Read on it); Reap
// leaves it for the next request, and Finish shuts it down, waits for that
// Read to return and really closes it on the owner's thread.
func TestIdleConnReusedUntilFinish(t *testing.T) {
	warmNetpoll(t)
	fd0 := countFDs(t)
	s := newSSEServer(t, 0, 3, false)
	rec := &tidRecorder{}
	o := NewOwner(Config{TLSConfig: s.tlsConfig(), Logger: discardLogger(), OnRealClose: rec.hook})
	tid := o.OwnerTID()
	for round := range 3 {
		resp, err := o.Client().Post(s.baseURL()+"chat/completions", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatalf("round %d: read body: %v", round, err)
		}
		resp.Body.Close()
		o.Reap()
		if got := rec.get(); len(got) != 0 {
			t.Fatalf("round %d: Reap closed a healthy idle socket (%v)", round, got)
		}
	}
	o.Finish(RequestComplete)
	if got := s.accepted.Load(); got != 1 {
		t.Errorf("server accepted %d connections, want 1 reused", got)
	}
	if got := rec.get(); !slices.Equal(got, []int{tid}) {
		t.Errorf("real closes on %v, want exactly one on owner tid %d", got, tid)
	}
	s.srv.Close()
	waitFDs(t, fd0)
	goleak.VerifyNone(t)
}

// TestHTTP1OnlyAgainstH2Server: T4, the owner never speaks HTTP/2 even when
// the server offers it.
func TestHTTP1OnlyAgainstH2Server(t *testing.T) {
	s := newSSEServer(t, 0, 2, true)
	o := NewOwner(Config{TLSConfig: s.tlsConfig(), Logger: discardLogger()})
	defer o.Finish(RequestComplete)
	client := newChatClient(o, s)
	stream := client.Chat.Completions.NewStreaming(context.Background(), chatParams())
	for stream.Next() {
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	stream.Close()
	var protos []string
	s.protos.Range(func(k, _ any) bool { protos = append(protos, k.(string)); return true })
	if !slices.Equal(protos, []string{"HTTP/1.1"}) {
		t.Errorf("server saw protocols %v, want only HTTP/1.1", protos)
	}
}

// TestAbortAfterFinishIsQuiet: once the owner finished, a late interrupt
// has nothing to abort and must not claim the request was interrupted.
func TestAbortAfterFinishIsQuiet(t *testing.T) {
	logger, logs := newCapture()
	o := NewOwner(Config{Logger: logger})
	o.Finish(RequestComplete)
	st := startStranger()
	var n int
	st.do(func() { n = o.Abort(InterruptAbort) })
	st.stop()
	if _, aborted := o.Aborted(); aborted || n != 0 {
		t.Errorf("late Abort = %d, Aborted() = %v; want 0, false", n, aborted)
	}
	if recs := logs.all(); len(recs) != 1 {
		t.Errorf("log lines %v, want only the close line", recs)
	}
}
