package tui

import (
	"fmt"
	"testing"
)

// BenchmarkScreen measures one whole frame at 120×40 (the chat, the board
// and the status bar) with a history of 10 and 10,000 stored messages
// resumed from a real state.db. The design's target: ≤ 1 ms, within 2× of
// 10 messages.
func BenchmarkScreen(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			h := newHarness(b, 120, 40)
			seedSession(b, h, n)
			_ = h.m.screen()
			b.ReportAllocs()
			for b.Loop() {
				_ = h.m.screen()
			}
		})
	}
}
