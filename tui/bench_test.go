package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/store"
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

// BenchmarkFrame measures what one frame costs the whole UI at 120×40,
// the board visible with 12 cards and 100 messages of history: idle (a
// frame with nothing new, as the renderer asks for after a key that
// changed nothing visible), and streaming (one delta of about seven tokens
// applied through Update, then the frame): the per-delta cost of a paced
// stream, which arrives as about 30 such frames a second.
func BenchmarkFrame(b *testing.B) {
	setup := func(b *testing.B) *harness {
		h := newHarness(b, 120, 40)
		for i := range 12 {
			if _, err := h.board.Create(context.Background(), store.ActorMe, store.NewCard{Title: fmt.Sprintf("card %d", i)}); err != nil {
				b.Fatal(err)
			}
		}
		h.until(func(msg tea.Msg) bool { return strings.Contains(typeName(msg), "loadedMsg") })
		seedSession(b, h, 100)
		return h
	}
	b.Run("idle", func(b *testing.B) {
		h := setup(b)
		_ = h.m.View()
		b.ReportAllocs()
		for b.Loop() {
			_ = h.m.View()
		}
	})
	b.Run("streaming", func(b *testing.B) {
		h := setup(b)
		h.startTurn("explain")
		text := streamWords()
		_ = h.m.View()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			h.event(agent.Delta{Text: text[i%len(text)]})
			_ = h.m.View()
			i++
		}
	})
}

// streamWords are deltas of a markdown reply, about seven tokens each.
func streamWords() []string {
	words := strings.Fields("Streaming text arrives in small pieces: a **bold** word, some `code`, and " +
		"plain prose that wraps over the pane's width, with a list now and then.")
	var out []string
	for i := 0; i+4 <= len(words); i += 4 {
		out = append(out, strings.Join(words[i:i+4], " ")+" ")
	}
	out = append(out, "\n\n- a point\n", "- another point\n\n")
	return out
}
