package chat

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
)

// logLines is n bytes of log-like lines, the shape of a large paste or of
// a reply that dumps a file: no blank line anywhere.
func logLines(n int) string {
	var sb strings.Builder
	sb.Grow(n + 128)
	for i := 0; sb.Len() < n; i++ {
		fmt.Fprintf(&sb, "2024-05-01T12:%02d:%02d INFO handled request %d\n", i/60%60, i%60, i)
	}
	return sb.String()
}

// liveHeap is the heap's current size, cheap to read after every frame.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkKeyWhileLargeReply streams a reply of 2, 10 or 20 MB (log lines,
// one block that never closes) into the chat pane in 4 KB deltas, each
// followed by a frame, and presses a key after every delta. key→frame is
// measured from the moment the delta's Update began (a key that arrives just
// then waits for it) to the end of the frame drawn after the key: the delay
// the person sees. Target: within a frame (16 ms).
//
//	go test ./tui/chat/ -run '^$' -bench KeyWhileLargeReply -benchtime 1x
func BenchmarkKeyWhileLargeReply(b *testing.B) {
	for _, mb := range []int{2, 10, 20} {
		b.Run(fmt.Sprintf("MB=%d", mb), func(b *testing.B) {
			text := logLines(mb << 20)
			const delta = 4 << 10
			var samples []time.Duration
			var total time.Duration
			for b.Loop() {
				b.StopTimer()
				h := newHarness(b, paneW, paneH)
				h.startTurn("dump the log")
				id := h.m.turnSeq
				_ = h.m.Lines()
				at := time.Now()
				b.StartTimer()
				start := time.Now()
				for rest := text; len(rest) > 0; {
					k := min(delta, len(rest))
					t0 := time.Now()
					h.m, _ = h.m.Update(turnEventMsg{turn: id, event: agent.Delta{Text: rest[:k]}, at: at})
					_ = h.m.Lines()
					h.m, _ = h.m.Update(tea.KeyPressMsg{Code: 'a', Text: "a"})
					_ = h.m.Lines()
					samples = append(samples, time.Since(t0))
					rest = rest[k:]
					at = at.Add(16 * time.Millisecond)
					if len(h.m.InputValue()) > 200 {
						h.m.ClearInput()
					}
				}
				h.m, _ = h.m.Update(turnEventMsg{turn: id, event: agent.Done{Text: text}, at: at})
				_ = h.m.Lines()
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "stream-ms")
			reportLatencies(b, samples, "key-ms")
		})
	}
}

// BenchmarkLargePaste pastes 1 and 5 MB of log lines (≈24,000 and ≈120,000
// lines) into the chat input: the paste's Update and the frame after it
// (paste-ms), the heap it leaves live (heap-MB), a key typed after it and its
// frame (key-ms, target under 100 ms), and Enter sending it all with the
// frame after (send-ms).
//
//	go test ./tui/chat/ -run '^$' -bench LargePaste -benchtime 1x
func BenchmarkLargePaste(b *testing.B) {
	for _, mb := range []int{1, 5} {
		b.Run(fmt.Sprintf("MB=%d", mb), func(b *testing.B) {
			text := logLines(mb << 20)
			var paste, key, send time.Duration
			var heap uint64
			for b.Loop() {
				b.StopTimer()
				h := newHarness(b, paneW, paneH)
				_ = h.m.Lines()
				runtime.GC()
				base := liveHeap()
				b.StartTimer()
				t0 := time.Now()
				h.m, _ = h.m.Update(tea.PasteMsg{Content: text})
				_ = h.m.Lines()
				paste += time.Since(t0)
				b.StopTimer()
				runtime.GC()
				heap = max(heap, liveHeap()-min(base, liveHeap()))
				b.StartTimer()
				t0 = time.Now()
				h.m, _ = h.m.Update(tea.KeyPressMsg{Code: 'a', Text: "a"})
				_ = h.m.Lines()
				key += time.Since(t0)
				t0 = time.Now()
				h.m, _ = h.m.Update(enter)
				_ = h.m.Lines()
				send += time.Since(t0)
			}
			n := float64(b.N)
			b.ReportMetric(float64(paste.Microseconds())/n/1000, "paste-ms")
			b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
			b.ReportMetric(float64(key.Microseconds())/n/1000, "key-ms")
			b.ReportMetric(float64(send.Microseconds())/n/1000, "send-ms")
		})
	}
}
