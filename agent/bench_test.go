package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/store"
)

// BenchmarkStreamThroughput measures how many tokens per second one turn
// moves from a loopback server to the event channel, and the allocations
// it costs. The server streams a pre-rendered reply of `tokens` chunks (one
// token each, in OpenAI's format, flushed every 32 chunks) as fast as the
// socket takes it. Each iteration is a whole turn: the user message and the
// reply are saved in a real state.db.
//
// Reported: tokens/s; allocs/token (everything in the process per streamed
// chunk, the server's share included, which is small since its bytes are
// pre-rendered); allocs/delta and deltas/turn at the real 16 ms interval.
func BenchmarkStreamThroughput(b *testing.B) {
	for _, tokens := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("tokens=%d", tokens), func(b *testing.B) {
			benchStream(b, tokens)
		})
	}
}

func benchStream(b *testing.B, tokens int) {
	var body bytes.Buffer
	var blocks [][]byte
	start := 0
	rec := httptest.NewRecorder()
	s := &sse{w: rec}
	s.raw(`{"id":"chatcmpl-b","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`)
	for i := 0; i < tokens; i++ {
		s.content(" tok")
		if i%32 == 31 {
			blocks = append(blocks, append([]byte(nil), rec.Body.Bytes()[start:]...))
			start = rec.Body.Len()
		}
	}
	s.finish("stop")
	s.usage(10, tokens)
	s.done()
	blocks = append(blocks, append([]byte(nil), rec.Body.Bytes()[start:]...))
	body.Write(rec.Body.Bytes())

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		for _, blk := range blocks {
			w.Write(blk)
			f.Flush()
		}
	}))
	defer srv.Close()

	a, sess := benchAgent(b, srv.URL)
	want := tokens * len(" tok")

	var ms0, ms1 runtime.MemStats
	deltas := 0
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	t0 := time.Now()
	for i := 0; i < b.N; i++ {
		ch, err := a.Send(context.Background(), sess.ID, "go")
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for ev := range ch {
			switch ev := ev.(type) {
			case Delta:
				n += len(ev.Text)
				deltas++
			case Failed:
				b.Fatal(ev.Err)
			}
		}
		if n != want {
			b.Fatalf("got %d bytes of text, want %d", n, want)
		}
	}
	elapsed := time.Since(t0)
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	allocs := float64(ms1.Mallocs - ms0.Mallocs)
	b.ReportMetric(float64(b.N*tokens)/elapsed.Seconds(), "tokens/s")
	b.ReportMetric(allocs/float64(b.N*tokens), "allocs/token")
	b.ReportMetric(allocs/float64(deltas), "allocs/delta")
	b.ReportMetric(float64(deltas)/float64(b.N), "deltas/turn")
}

// BenchmarkInterruptToEvent measures, per turn, the time from Interrupt
// (called on the receiving goroutine, a stranger to the owner) to the
// Interrupted event arriving on the channel: the transport's abort, the
// owner's unwinding, the partial reply saved in state.db, and the event
// delivered. The server streams without pause until the client goes.
func BenchmarkInterruptToEvent(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		s := startSSE(w)
		for r.Context().Err() == nil {
			s.content(" tok")
		}
	}))
	defer srv.Close()
	a, sess := benchAgent(b, srv.URL)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ch, err := a.Send(context.Background(), sess.ID, "go")
		if err != nil {
			b.Fatal(err)
		}
		var t0 time.Time
		for ev := range ch {
			switch ev.(type) {
			case Delta:
				if t0.IsZero() {
					t0 = time.Now()
					a.Interrupt(sess.ID)
				}
			case Interrupted:
				lat = append(lat, time.Since(t0))
			case Done, Failed:
				b.Fatalf("terminal %#v", ev)
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkCoalescer isolates spindle's own cost per streamed piece of text
// and per Delta, without openai-go's JSON decoding (which dominates
// BenchmarkStreamThroughput's allocs/token): b.N pieces go through Text to a
// receiver, with the real 16 ms interval and with none (one Delta per piece).
func BenchmarkCoalescer(b *testing.B) {
	for _, interval := range []time.Duration{FrameInterval, 0} {
		b.Run(fmt.Sprintf("interval=%s", interval), func(b *testing.B) {
			c := newCoalescer(interval, eventBuffer)
			done := make(chan int)
			go func() {
				n := 0
				for ev := range c.out {
					if _, ok := ev.(Delta); ok {
						n++
					}
				}
				done <- n
			}()
			go c.run(make(chan struct{}))
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.Text(" tok")
				if interval == 0 {
					for len(c.out) > 0 || c.pending() {
						runtime.Gosched()
					}
				}
			}
			c.Event(Done{})
			deltas := <-done
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			allocs := float64(ms1.Mallocs - ms0.Mallocs)
			b.ReportMetric(allocs/float64(b.N), "allocs/piece")
			b.ReportMetric(allocs/float64(max(deltas, 1)), "allocs/delta")
		})
	}
}

// pending reports whether text waits in the queue (benchmarks only).
func (c *coalescer) pending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.head < len(c.items)
}

// benchAgent is an agent over a real state.db in b.TempDir(), talking to the
// test server at url, with a fresh session. Everything is closed when the
// benchmark ends.
func benchAgent(b *testing.B, url string) (*Agent, store.Session) {
	b.Helper()
	st, err := store.OpenState(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	a, err := New(Config{BaseURL: url + "/v1", Model: "m", State: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	sess, err := st.CreateSession(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	return a, sess
}

// BenchmarkTextLag measures how long a piece of text waits in the
// coalescer before the receiver gets it, for pieces arriving at a reading
// pace (one every 5 ms, 200 tokens/s): fewer deltas a second must not mean
// a stale screen. The target: no piece waits longer than one frame
// interval (max-lag-ms ≤ FrameInterval in ms, plus scheduling noise).
func BenchmarkTextLag(b *testing.B) {
	var lags []time.Duration
	for b.Loop() {
		c := newCoalescer(FrameInterval, eventBuffer)
		c.record = true
		var sent []time.Time
		pumped := make(chan struct{})
		go func() { c.run(make(chan struct{})); close(pumped) }()
		got := make(chan []time.Time)
		go func() {
			var at []time.Time
			for ev := range c.out {
				if _, ok := ev.(Delta); ok {
					at = append(at, time.Now())
				}
			}
			got <- at
		}()
		for range 40 {
			sent = append(sent, time.Now())
			c.Text(" tok")
			time.Sleep(5 * time.Millisecond)
		}
		c.Event(Done{})
		handed := <-got
		<-pumped
		// Each piece is received by the first Delta handed over after it
		// was queued.
		j := 0
		for _, s := range sent {
			for j < len(handed) && handed[j].Before(s) {
				j++
			}
			if j < len(handed) {
				lags = append(lags, handed[j].Sub(s))
			}
		}
	}
	slices.Sort(lags)
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-lag-ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-lag-ms")
	b.ReportMetric(float64(lags[len(lags)-1].Microseconds())/1000, "max-lag-ms")
	b.ReportMetric(float64(FrameInterval.Microseconds())/1000, "interval-ms")
}
