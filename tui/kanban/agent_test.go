package kanban

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/store"
)

// TestAgentToolCardAppearsInPane asks the offline demo model to add a card;
// its kanban_create tool writes through the same Board the pane shows, and
// the card appears after the next poll, with no key pressed.
func TestAgentToolCardAppearsInPane(t *testing.T) {
	h := newHarness(t, 120, 40)
	threeColumns(h)
	st, err := store.OpenState(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := agent.New(agent.Config{State: st, Board: h.board, OfflineTokenDelay: time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	sess, err := st.CreateSession(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	events, err := a.Send(ctx, sess.ID, "add a card Buy oat milk")
	if err != nil {
		t.Fatal(err)
	}
	timeout := time.After(30 * time.Second)
	var last agent.Event
	for done := false; !done; {
		select {
		case ev, ok := <-events:
			if !ok {
				done = true
				break
			}
			last = ev
		case <-timeout:
			t.Fatal("the turn did not finish")
		}
	}
	if _, ok := last.(agent.Done); !ok {
		t.Fatalf("turn ended with %#v", last)
	}
	if strings.Contains(h.screen(), "Buy oat milk") {
		t.Fatal("the control: no poll has run, the card must not be shown yet")
	}
	h.send(pollMsg{})
	h.noErrors()
	if !strings.Contains(h.screen(), "Buy oat milk") {
		t.Fatalf("the agent's card is not in the pane:\n%s", h.screen())
	}
}

// TestUndoInThePaneIsThePersons: the person adds card A in the pane, the
// offline demo model adds card B ("add a card called B"); u removes A and
// leaves B. Undoing the latest change whoever made it (the old undo) would
// remove B.
func TestUndoInThePaneIsThePersons(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.keys("n")
	h.typeText("Card A")
	h.keys("ctrl+s")
	h.noErrors()
	st, err := store.OpenState(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := agent.New(agent.Config{State: st, Board: h.board, OfflineTokenDelay: time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	sess, err := st.CreateSession(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	events, err := a.Send(ctx, sess.ID, "add a card called Card B")
	if err != nil {
		t.Fatal(err)
	}
	for range events {
	}
	h.send(pollMsg{})
	if s := h.screen(); !strings.Contains(s, "Card A") || !strings.Contains(s, "Card B") {
		t.Fatalf("both cards should be on the board:\n%s", s)
	}
	h.keys("u")
	h.noErrors()
	if s := h.screen(); !strings.Contains(s, "undone: removed card 1 “Card A”, created by you") {
		t.Errorf("u does not say what it undid:\n%s", s)
	}
	h.keys("esc") // any key clears the notice, which names card A
	if s := h.screen(); strings.Contains(s, "Card A") || !strings.Contains(s, "Card B") {
		t.Fatalf("u should remove the person's card A and keep the model's card B:\n%s", s)
	}
	h.keys("u")
	h.noErrors()
	if s := h.screen(); !strings.Contains(s, "nothing of yours to undo") {
		t.Errorf("a second u says nothing:\n%s", s)
	}
	if s := h.screen(); !strings.Contains(s, "Card B") {
		t.Fatalf("the second u removed the model's card:\n%s", s)
	}
}
