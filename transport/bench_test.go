package transport

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkAbort measures T6: from a stranger's Abort call to the owner's
// stream loop (openai-go's stream.Next) returning, while the owner is
// blocked waiting for the next chunk over loopback HTTPS. Each iteration is
// a fresh owner and stream (setup is excluded from the reported
// percentiles, not from ns/op). Reports p50-µs and p99-µs (targets: p50 ≤
// 200 µs, p99 ≤ 2 ms).
func BenchmarkAbort(b *testing.B) {
	s := newSSEServer(b, 50*time.Millisecond, 0, false)
	cfg := Config{BaseURL: s.baseURL(), Model: "test-model", Logger: discardLogger(), TLSConfig: s.tlsConfig()}
	st := startStranger()
	defer st.stop()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		ch := make(chan time.Duration, 1)
		go func() {
			o := NewOwner(cfg)
			client := newChatClient(o, s)
			stream := client.Chat.Completions.NewStreaming(context.Background(), chatParams())
			var t0 time.Time
			aborted := make(chan struct{})
			chunks := 0
			for stream.Next() {
				chunks++
				if _, ab := o.Aborted(); ab {
					break
				}
				if chunks == 1 {
					// The owner is about to block in Read for the next
					// chunk, 50 ms away; the stranger aborts after 1 ms
					// (on a loaded machine a later chunk may slip in
					// first; the owner is then blocked in Read again).
					st.post(func() {
						time.Sleep(time.Millisecond)
						t0 = time.Now()
						o.Abort(InterruptAbort)
						close(aborted)
					})
				}
			}
			t1 := time.Now()
			<-aborted
			stream.Close()
			o.Reap()
			o.Finish(InterruptAbort)
			ch <- t1.Sub(t0)
		}()
		lat = append(lat, <-ch)
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(p * float64(len(lat)-1))
		return float64(lat[i].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds())/1e3, "max-µs")
}
