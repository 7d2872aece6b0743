package transcript

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/store"
)

// The chat pane's share of a 120×40 terminal in the side-by-side layout
// (as in tui/chat's benchmarks): the transcript's window is 71×35.
const benchW, benchH = 71, 35

// largeText is a reply of about n bytes in one of the shapes that a large
// reply takes:
//
//	markdown  headings, paragraphs, lists and short code blocks: blocks
//	          close every few hundred bytes
//	lines     log-like lines with no blank line: one paragraph that never
//	          closes
//	fence     one code block that closes only at the end
//	oneline   words with no line break at all
func largeText(shape string, n int) string {
	var sb strings.Builder
	sb.Grow(n + 256)
	switch shape {
	case "markdown":
		for i := 0; sb.Len() < n; i++ {
			fmt.Fprintf(&sb, "## Part %d\n\nA paragraph of prose that explains part %d of the answer in a few "+
				"sentences, long enough to wrap over more than one line of the chat pane.\n\n"+
				"- first point of part %d\n- second point, with `code`\n\n"+
				"```go\nfunc part%d() int {\n\treturn %d\n}\n```\n\n", i, i, i, i, i)
		}
	case "lines", "fence":
		if shape == "fence" {
			sb.WriteString("```text\n")
		}
		for i := 0; sb.Len() < n; i++ {
			fmt.Fprintf(&sb, "2024-05-01T12:%02d:%02d INFO worker %d handled request %d in %d ms\n", i/60%60, i%60, i%7, i, i%97)
		}
		if shape == "fence" {
			sb.WriteString("```\n")
		}
	case "oneline":
		for i := 0; sb.Len() < n; i++ {
			fmt.Fprintf(&sb, "word%d ", i)
		}
	default:
		panic("unknown shape " + shape)
	}
	return sb.String()
}

// heapBytes is the heap's current size (live and not yet swept objects):
// cheap enough to read after every frame, unlike runtime.ReadMemStats.
func heapBytes(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func heapSample() []metrics.Sample {
	return []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
}

// BenchmarkLargeReply streams a reply of 2, 10 and 20 MB in 4 KB deltas
// through a Turn, drawing the window (71×35, following the end) after each
// delta, and ends the turn with Done carrying the whole text, as the agent
// sends it. It reports the whole run's time per op, the largest heap seen
// after any frame (peak-heap-MB), the heap left once the turn ended and a
// GC ran (live-MB), and the frame times (delta applied + window drawn).
// Target: linear (20 MB ≈ 10× 2 MB) and every frame within 16 ms.
//
//	go test ./tui/transcript/ -run '^$' -bench LargeReply -benchtime 1x
func BenchmarkLargeReply(b *testing.B) {
	for _, shape := range []string{"markdown", "lines", "fence", "oneline"} {
		for _, mb := range []int{2, 10, 20} {
			b.Run(fmt.Sprintf("%s/MB=%d", shape, mb), func(b *testing.B) {
				text := largeText(shape, mb<<20)
				const delta = 4 << 10
				r := renderer(benchW)
				hs := heapSample()
				var frames []time.Duration
				var peak, live uint64
				for b.Loop() {
					tr := New()
					tr.Add(NewUser("write a lot"))
					tu := StartTurn(tr)
					at := time.Now()
					for rest := text; len(rest) > 0; {
						k := min(delta, len(rest))
						t0 := time.Now()
						tu.Apply(agent.Delta{Text: rest[:k]}, at)
						tr.Window(r, benchH)
						frames = append(frames, time.Since(t0))
						rest = rest[k:]
						at = at.Add(time.Millisecond)
						peak = max(peak, heapBytes(hs))
					}
					t0 := time.Now()
					tu.Apply(agent.Done{Text: text}, at)
					tr.Window(r, benchH)
					frames = append(frames, time.Since(t0))
					peak = max(peak, heapBytes(hs))
					runtime.GC()
					live = heapBytes(hs)
					runtime.KeepAlive(tr)
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(live)/(1<<20), "live-MB")
				reportFrames(b, frames)
			})
		}
	}
}

// BenchmarkLoadLargeReply is --continue of a session whose last reply is
// 20 MB (saved before max_reply_bytes existed, or under a raised cap):
// the stored messages become entries, the first window is drawn, then the
// person pages up ten times. It reports the time to the first window
// (first-ms), the largest page-up frame (pgup-max-ms), and the heap after a
// GC with the window drawn (live-MB): the reply's text, not its render.
//
//	go test ./tui/transcript/ -run '^$' -bench LoadLargeReply -benchtime 1x
func BenchmarkLoadLargeReply(b *testing.B) {
	for _, shape := range []string{"markdown", "lines", "fence"} {
		b.Run(shape+"/MB=20", func(b *testing.B) {
			text := largeText(shape, 20<<20)
			msgs := []store.Message{
				{Role: store.RoleUser, Content: "write a lot"},
				{Role: store.RoleAssistant, Content: text, Status: store.MessageComplete},
			}
			r := renderer(benchW)
			hs := heapSample()
			var first, pgup time.Duration
			var live uint64
			for b.Loop() {
				t0 := time.Now()
				tr := New()
				tr.Reset(FromMessages(msgs))
				tr.Window(r, benchH)
				first = time.Since(t0)
				for range 10 {
					t0 := time.Now()
					tr.Scroll(r, benchH, -(benchH - 1))
					tr.Window(r, benchH)
					pgup = max(pgup, time.Since(t0))
				}
				runtime.GC()
				live = heapBytes(hs)
				runtime.KeepAlive(tr)
			}
			b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
			b.ReportMetric(float64(pgup.Microseconds())/1000, "pgup-max-ms")
			b.ReportMetric(float64(live)/(1<<20), "live-MB")
		})
	}
}

// reportFrames adds the median, p99 and largest frame time.
func reportFrames(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	b.ReportMetric(ms(d[len(d)/2]), "p50-frame-ms")
	b.ReportMetric(ms(d[min(len(d)*99/100, len(d)-1)]), "p99-frame-ms")
	b.ReportMetric(ms(d[len(d)-1]), "max-frame-ms")
}
