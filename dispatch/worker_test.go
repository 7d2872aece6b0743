package dispatch

import (
	"testing"

	"github.com/spindle-sh/spindle/agent"
)

// TestLiveTranscriptSeesEveryDelta: a reader of a worker's events (the
// card's live transcript) sees text that arrives after it read, even when
// the text continues a delta it has already read; deltas nobody has read
// yet are still merged into one event (the control: without a reader in
// between, "a" and "b" are one event).
func TestLiveTranscriptSeesEveryDelta(t *testing.T) {
	w := &worker{}
	w.record(agent.Delta{Text: "a"})
	evs, next := w.eventsFrom(0)
	if len(evs) != 1 {
		t.Fatalf("first read: %d events", len(evs))
	}
	w.record(agent.Delta{Text: "b"})
	w.record(agent.Delta{Text: "c"})
	evs, _ = w.eventsFrom(next)
	got := ""
	for _, ev := range evs {
		if d, ok := ev.(agent.Delta); ok {
			got += d.Text
		}
	}
	if got != "bc" {
		t.Fatalf("after the first read the reader got %q, want \"bc\"", got)
	}
	if len(evs) != 1 {
		t.Errorf("unread deltas were not merged: %d events", len(evs))
	}

	control := &worker{}
	control.record(agent.Delta{Text: "a"})
	control.record(agent.Delta{Text: "b"})
	if evs, _ := control.eventsFrom(0); len(evs) != 1 || evs[0].(agent.Delta).Text != "ab" {
		t.Fatalf("the control: unread deltas gave %v", evs)
	}
}
