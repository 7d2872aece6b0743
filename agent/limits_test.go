package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/spindle-sh/spindle/store"
)

// heapWatch samples HeapInuse while a test runs, to check that memory stays
// bounded. It is a sanity check with a generous bound, not a measurement.
type heapWatch struct {
	base uint64
	peak uint64
	quit chan struct{}
	done sync.WaitGroup
}

func watchHeap() *heapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h := &heapWatch{base: ms.HeapInuse, peak: ms.HeapInuse, quit: make(chan struct{})}
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-h.quit:
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				h.peak = max(h.peak, ms.HeapInuse)
			}
		}
	}()
	return h
}

// grown stops the sampler and returns the peak growth over the baseline.
func (h *heapWatch) grown() uint64 {
	close(h.quit)
	h.done.Wait()
	if h.peak < h.base {
		return 0
	}
	return h.peak - h.base
}

// TestHeapWatchSeesGrowth is the negative control of the memory checks
// below: holding 96 MB while watching trips their 64 MB bound.
func TestHeapWatchSeesGrowth(t *testing.T) {
	h := watchHeap()
	big := make([]byte, 96<<20)
	for i := range big {
		big[i] = byte(i) // touch every page, so it is in use
	}
	time.Sleep(20 * time.Millisecond) // several samples
	grown := h.grown()
	runtime.KeepAlive(big)
	if grown <= 64<<20 {
		t.Fatalf("heap watch saw %d MB grow while 96 MB were held", grown>>20)
	}
}

// sseHeader starts a 200 event-stream answer.
func sseHeader(w http.ResponseWriter) http.Flusher {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	f := w.(http.Flusher)
	f.Flush()
	return f
}

// contentEvent is one chat-completion chunk carrying text.
func contentEvent(text string) string {
	return `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"` + text + `"},"finish_reason":null}]}` + "\n\n"
}

// numbered is n bytes of text in which every 10-byte block names its
// offset, so a wrong cut or a lost piece shows.
func numbered(from, n int) string {
	var b strings.Builder
	for i := from; b.Len() < n; i += 10 {
		fmt.Fprintf(&b, "%09d.", i)
	}
	return b.String()[:n]
}

// runTurn sends one message and returns the drained turn and the saved reply.
func runTurn(t *testing.T, e *env, a *Agent) (result, store.Message) {
	t.Helper()
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "hi")
	if err != nil {
		t.Fatal(err)
	}
	r := collect(t, ch)
	return r, e.lastAssistant(sid)
}

// wantFailed checks the turn failed with kind and message and returns it.
func wantFailed(t *testing.T, r result, kind, msg string) *RequestError {
	t.Helper()
	f, ok := r.terminal.(Failed)
	if !ok {
		t.Fatalf("terminal = %T, want Failed", r.terminal)
	}
	var re *RequestError
	if !errors.As(f.Err, &re) {
		t.Fatalf("Failed.Err is %T", f.Err)
	}
	if re.Kind != kind || !strings.Contains(re.Msg, msg) {
		t.Fatalf("kind %q message %q, want %q containing %q", re.Kind, re.Msg, kind, msg)
	}
	return re
}

// TestReplyLimitKeepsWhatArrived streams a 6 MiB reply with the default
// 4 MiB limit. Before the limit existed the whole reply was taken.
func TestReplyLimitKeepsWhatArrived(t *testing.T) {
	e := newEnv(t)
	const chunk = 8190 // a multiple of numbered's 10-byte blocks
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
		f := sseHeader(w)
		for off := 0; off < 6<<20; off += chunk {
			io.WriteString(w, contentEvent(numbered(off, chunk)))
		}
		io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\ndata: [DONE]\n\n")
		f.Flush()
	})
	r, m := runTurn(t, e, e.agent(ts.base(), nil))
	re := wantFailed(t, r, "reply_too_large", "the reply passed the 4 MiB limit (max_reply_bytes); what arrived is saved")
	if m.Status != store.MessageFailed || m.Error != re.Msg {
		t.Errorf("saved %q %q", m.Status, m.Error)
	}
	if len(m.Content) != 4<<20 || m.Content != numbered(0, 4<<20) {
		t.Errorf("saved %d bytes, want the first 4 MiB exactly", len(m.Content))
	}
	if r.text != m.Content {
		t.Errorf("streamed %d bytes, saved %d", len(r.text), len(m.Content))
	}
}

// TestReplyLimitCutsOnACharacter: a limit that falls inside a multi-byte
// character keeps the text before it, valid UTF-8.
func TestReplyLimitCutsOnACharacter(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
		sseHeader(w)
		for i := 0; i < 100; i++ {
			io.WriteString(w, contentEvent(strings.Repeat("é", 100)))
		}
	})
	r, m := runTurn(t, e, e.agent(ts.base(), func(c *Config) { c.MaxReplyBytes = 1001 }))
	wantFailed(t, r, "reply_too_large", "the reply passed the 1001 bytes limit")
	if m.Content != strings.Repeat("é", 500) || !utf8.ValidString(r.text) {
		t.Errorf("saved %d bytes (valid %v), want 500 é", len(m.Content), utf8.ValidString(m.Content))
	}
}

// TestReplyLimitEndlessStream: a server that streams valid tokens for ever
// is stopped at the limit, and memory stays bounded on the way.
func TestReplyLimitEndlessStream(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
		f := sseHeader(w)
		ev := contentEvent(strings.Repeat("token ", 200))
		for r.Context().Err() == nil {
			if _, err := io.WriteString(w, ev); err != nil {
				return
			}
			f.Flush()
		}
	})
	a := e.agent(ts.base(), nil)
	h := watchHeap()
	r, m := runTurn(t, e, a)
	grown := h.grown()
	wantFailed(t, r, "reply_too_large", "4 MiB limit")
	if len(m.Content) != 4<<20 || !strings.HasPrefix(m.Content, "token token ") {
		t.Errorf("saved %d bytes, want 4 MiB of tokens", len(m.Content))
	}
	t.Logf("heap grew by at most %.1f MB", float64(grown)/1e6)
	if grown > 64<<20 {
		t.Errorf("heap grew by %d MB for a 4 MiB limit", grown>>20)
	}
}

// TestReplyLimitToolArguments: tool-call arguments count against the limit
// too; the call is not run.
func TestReplyLimitToolArguments(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
		s := startSSE(w)
		s.content("let me add it")
		s.toolCall(0, "call_1", "kanban_create", `{"title":"`)
		for r.Context().Err() == nil {
			s.toolCall(0, "", "", strings.Repeat("a", 4096))
		}
	})
	r, m := runTurn(t, e, e.agent(ts.base(), func(c *Config) { c.MaxReplyBytes = 64 << 10 }))
	wantFailed(t, r, "reply_too_large", "64 KiB limit")
	for _, ev := range r.events {
		if _, ok := ev.(ToolCall); ok {
			t.Error("the cut-off tool call ran")
		}
	}
	if m.Content != "let me add it" || m.ToolCalls != "" {
		t.Errorf("saved %q with calls %q", m.Content, m.ToolCalls)
	}
}

// TestEventLimit sends events and lines that never end, and one that is
// merely too large. Before the limit, openai-go buffered up to 32 MiB of a
// line and any number of data lines of an event.
func TestEventLimit(t *testing.T) {
	endless := func(prefix, unit string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			f := sseHeader(w)
			io.WriteString(w, contentEvent("before "))
			io.WriteString(w, prefix)
			for r.Context().Err() == nil {
				if _, err := io.WriteString(w, unit); err != nil {
					return
				}
				f.Flush()
			}
		}
	}
	cases := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
	}{
		{"a line that never ends", endless(`data: {"id":"c","choices":[{"index":0,"delta":{"content":"`, strings.Repeat("x", 4096))},
		{"data lines without the blank line", endless("", "data: "+strings.Repeat("y", 1000)+"\n")},
		{"a comment line that never ends", endless(": ", strings.Repeat("z", 4096))},
		{"one 2 MiB event", func(w http.ResponseWriter, r *http.Request) {
			f := sseHeader(w)
			io.WriteString(w, contentEvent("before "))
			io.WriteString(w, contentEvent(strings.Repeat("w", 2<<20)))
			io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\ndata: [DONE]\n\n")
			f.Flush()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) { tc.handler(w, r) })
			a := e.agent(ts.base(), nil)
			h := watchHeap()
			r, m := runTurn(t, e, a)
			grown := h.grown()
			re := wantFailed(t, r, "event_too_large", "passed the 1 MiB limit (max_event_bytes)")
			if m.Content != "before " || m.Status != store.MessageFailed || m.Error != re.Msg {
				t.Errorf("saved %q %q %q", m.Content, m.Status, m.Error)
			}
			if n := ts.attempts.Load(); n != 1 {
				t.Errorf("%d requests: retried after text was shown", n)
			}
			t.Logf("heap grew by at most %.1f MB", float64(grown)/1e6)
			if grown > 64<<20 {
				t.Errorf("heap grew by %d MB for a 1 MiB limit", grown>>20)
			}
		})
	}
}

// TestEventLimitReader pins eventLimit's counting on small limits.
func TestEventLimitReader(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		passed   int // bytes passed through before the error; -1 = no error
	}{
		{"events under the limit", "data: abc\n\ndata: def\n\n", 9, -1},
		{"a line of exactly max", "data: abc\n\n", 9, -1},
		{"a line of max+1", "data: abcd\n\n", 9, 9},
		{"an event of two lines over", "data: a\ndata: b\n\n", 12, 13},
		{"the blank line resets", "data: a\n\ndata: b\n\ndata: c\n\n", 12, -1},
		{"CRLF", "data: a\r\n\r\ndata: b\r\n\r\n", 7, -1},
		{"CRLF without the blank line", "data: a\r\ndata: b\r\n", 12, 14},
		{"lone CR ends lines", "data: a\r\rdata: b\r\r", 7, -1},
		{"comments do not count toward the event", ": 12345\ndata: a\n\n", 12, -1},
		{"a long comment line still counts as a line", ": 1234567890\n", 8, 8},
		{"whole events before the overflow are passed", "data: a\n\ndata: bbbbbbbbbb\n", 9, 18},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := limitEvents(io.NopCloser(strings.NewReader(tt.in)), tt.max)
			got, err := io.ReadAll(l)
			var big *errEventTooLarge
			switch {
			case tt.passed < 0 && err != nil:
				t.Fatalf("error %v after %q", err, got)
			case tt.passed < 0 && string(got) != tt.in:
				t.Fatalf("passed %q", got)
			case tt.passed >= 0 && !errors.As(err, &big):
				t.Fatalf("no limit error; passed %q", got)
			case tt.passed >= 0 && string(got) != tt.in[:tt.passed]:
				t.Fatalf("passed %q, want %q", got, tt.in[:tt.passed])
			}
			if tt.passed >= 0 {
				if n, err := l.Read(make([]byte, 10)); n != 0 || !errors.As(err, &big) {
					t.Errorf("read after the limit: %d, %v", n, err)
				}
			}
		})
	}
}

// TestStaleCountsEventsNotBytes: a server that sends one byte at a time and
// never finishes an event is aborted as stale; only whole events count as
// progress. The control: the same pace of whole events keeps the stream
// alive well past the stale timeout.
func TestStaleCountsEventsNotBytes(t *testing.T) {
	const stale = time.Second
	const pace = 50 * time.Millisecond
	serve := func(drip bool) func(net.Conn) {
		return func(c net.Conn) {
			req, err := http.ReadRequest(bufio.NewReader(c))
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
			io.WriteString(c, contentEvent("kept"))
			// Two stale periods' worth, either a byte or a whole event
			// at a time.
			for i := 0; i < int(2*stale/pace); i++ {
				time.Sleep(pace)
				unit := contentEvent(".")
				if drip {
					unit = unit[i%len(unit) : i%len(unit)+1]
					if unit == "\n" {
						unit = "x" // never end the event
					}
				}
				if _, err := io.WriteString(c, unit); err != nil {
					return
				}
			}
			if !drip {
				io.WriteString(c, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\ndata: [DONE]\n\n")
			}
		}
	}
	t.Run("a byte at a time", func(t *testing.T) {
		e := newEnv(t)
		s := startTCP(t, listen(t), serve(true))
		r, m := runTurn(t, e, e.agent("http://"+s.ln.Addr().String()+"/v1", func(c *Config) { c.StaleTimeout = stale }))
		in, ok := r.terminal.(Interrupted)
		if !ok || in.Reason != "stale_abort" {
			t.Fatalf("terminal = %#v, want Interrupted stale_abort", r.terminal)
		}
		if m.Content != "kept" || m.Status != store.MessageInterrupted {
			t.Errorf("saved %q %q", m.Content, m.Status)
		}
	})
	t.Run("control: whole events at the same pace", func(t *testing.T) {
		e := newEnv(t)
		s := startTCP(t, listen(t), serve(false))
		r, m := runTurn(t, e, e.agent("http://"+s.ln.Addr().String()+"/v1", func(c *Config) { c.StaleTimeout = stale }))
		if _, ok := r.terminal.(Done); !ok {
			t.Fatalf("terminal = %#v, want Done", r.terminal)
		}
		if want := "kept" + strings.Repeat(".", int(2*stale/pace)); m.Content != want {
			t.Errorf("saved %q", m.Content)
		}
	})
}
