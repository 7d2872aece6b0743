package chat

import (
	"context"
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/internal/tuitest"
	"github.com/spindle-sh/spindle/tui/theme"
	"github.com/spindle-sh/spindle/tui/transcript"
)

// harness drives the chat pane alone: its commands run on goroutines
// (tuitest.Pump) and the test applies their results in order.
type harness struct {
	t     testing.TB
	m     Model
	ag    *tuitest.Agent
	state *store.State
	pump  *tuitest.Pump
	roots []tea.Msg // messages meant for the root (CommandMsg)
	// clock is the pane's clock; each message sent moves it on by pace,
	// a person's pace (a second) unless a test sends a burst.
	clock time.Time
	pace  time.Duration
}

func newHarness(t testing.TB, w, h int) *harness {
	t.Helper()
	st, _ := tuitest.OpenStores(t)
	hs := &harness{t: t, ag: tuitest.NewAgent(), state: st, pump: tuitest.NewPump(t)}
	hs.clock, hs.pace = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), time.Second
	hs.m = New(Options{Agent: hs.ag, Sessions: st, Keys: keymap.Default(), Palette: theme.Default(),
		Now: func() time.Time { return hs.clock }})
	hs.m.SetSize(w, h)
	hs.m.Focus()
	return hs
}

func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	h.clock = h.clock.Add(h.pace)
	var cmd tea.Cmd
	h.m, cmd = h.m.Update(msg)
	h.pump.Run(cmd)
}

// next applies the next result of a running command that is the chat's
// own (spinner ticks on the way are applied too).
func (h *harness) next() tea.Msg {
	h.t.Helper()
	for {
		msg := h.pump.Next()
		if c, ok := msg.(CommandMsg); ok {
			h.roots = append(h.roots, c)
			return c
		}
		h.send(msg)
		if _, ok := msg.(Msg); ok {
			return msg
		}
	}
}

func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func (h *harness) key(k tea.KeyPressMsg) { h.send(k) }

var enter = tea.KeyPressMsg{Code: tea.KeyEnter}

// startTurn types text, presses Enter and waits for the turn to start.
func (h *harness) startTurn(text string) {
	h.t.Helper()
	n := len(h.ag.Sent())
	h.typeText(text)
	h.key(enter)
	for {
		msg := h.next()
		if _, ok := msg.(turnStartedMsg); ok {
			break
		}
		if _, ok := msg.(turnFailedMsg); ok {
			break
		}
	}
	if len(h.ag.Sent()) != n+1 {
		h.t.Fatalf("Enter did not send %q", text)
	}
}

// event sends ev on a session's latest turn (0: the latest turn) and waits
// for the chat to apply it: the chat's other messages on the way (a
// session read again) are applied too, since they race with the event.
func (h *harness) event(session int64, ev agent.Event) {
	h.t.Helper()
	h.ag.Events(session) <- ev
	for {
		if _, ok := h.next().(turnEventMsg); ok {
			return
		}
	}
}

func (h *harness) screen() string { return ansi.Strip(h.m.View()) }

// seed stores a session of n messages and shows it.
func (h *harness) seed(n int) store.Session {
	h.t.Helper()
	ctx := context.Background()
	s, err := h.state.CreateSession(ctx, "seeded")
	if err != nil {
		h.t.Fatal(err)
	}
	var msgs []store.Message
	for i := range n {
		m := store.Message{SessionID: s.ID, Role: store.RoleUser, Content: fmt.Sprintf("question %d: what about **this**?", i)}
		if i%2 == 1 {
			m = store.Message{SessionID: s.ID, Role: store.RoleAssistant, Content: fmt.Sprintf("Answer %d.\n\n- one point\n- another point\n\n```go\nx := %d\n```", i, i)}
		}
		msgs = append(msgs, m)
	}
	// The transcript is built from the messages as stored, without writing
	// thousands of rows for a test that only draws them.
	h.m.session = s
	h.m.view = transcript.New()
	h.m.view.Reset(transcript.FromMessages(msgs))
	return s
}
