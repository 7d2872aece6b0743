package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/chat"
	"github.com/spindle-sh/spindle/tui/internal/tuitest"
	"github.com/spindle-sh/spindle/tui/theme"
)

// harness drives the root model as a program would: every command it
// returns runs on its own goroutine (tuitest.Pump), and the test applies
// the results in order, waiting for the ones it needs. The agent is
// scripted; the stores are real files.
type harness struct {
	t     testing.TB
	m     Model
	ag    *tuitest.Agent
	state *store.State
	board *store.Board
	pump  *tuitest.Pump
	quit  bool // a command produced tea.QuitMsg
	// clock is the UI's clock: each message sent moves it on a second.
	clock time.Time
}

// newHarness builds the root model at w×h over a scripted agent and real
// stores, with the board loaded.
func newHarness(t testing.TB, w, h int) *harness {
	t.Helper()
	return newHarnessWith(t, keymap.Default(), w, h)
}

func newHarnessWith(t testing.TB, keys keymap.KeyMap, w, h int) *harness {
	t.Helper()
	st, b := tuitest.OpenStores(t)
	hs := &harness{t: t, ag: tuitest.NewAgent(), state: st, board: b, pump: tuitest.NewPump(t)}
	hs.clock = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	hs.m = New(Options{Agent: hs.ag, Sessions: st, Board: b, Keys: keys, Palette: theme.Default(),
		Now: func() time.Time { return hs.clock }})
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.pump.Run(hs.m.Init())
	hs.until(func(msg tea.Msg) bool { return strings.Contains(typeName(msg), "loadedMsg") })
	return hs
}

// typeName is a message's type, for waiting on a pane's unexported ones.
func typeName(msg tea.Msg) string {
	if msg == nil {
		return "nil"
	}
	return typeString(msg)
}

// send applies one message and starts its command.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	h.clock = h.clock.Add(time.Second) // a person's pace
	var cmd tea.Cmd
	h.m, cmd = h.m.update(msg) // as the program does (program.go)
	h.pump.Run(cmd)
}

// sendCmd applies one message and returns its command without running it.
func (h *harness) sendCmd(msg tea.Msg) tea.Cmd {
	h.t.Helper()
	h.clock = h.clock.Add(time.Second)
	var cmd tea.Cmd
	h.m, cmd = h.m.update(msg)
	return cmd
}

// until applies results of running commands, in order, until one
// satisfies pred (which sees it after it was applied), and returns it. A
// tea.QuitMsg is recorded, not applied.
func (h *harness) until(pred func(tea.Msg) bool) tea.Msg {
	h.t.Helper()
	for {
		msg := h.pump.Next()
		if _, ok := msg.(tea.QuitMsg); ok {
			h.quit = true
		} else {
			h.send(msg)
		}
		if pred(msg) {
			return msg
		}
	}
}

// untilChat waits for the chat's next message (a turn starting, an event,
// a session loaded).
func (h *harness) untilChat() tea.Msg {
	h.t.Helper()
	return h.until(func(msg tea.Msg) bool { _, ok := msg.(chat.Msg); return ok })
}

// untilQuit waits for the program to be told to quit.
func (h *harness) untilQuit() {
	h.t.Helper()
	h.until(func(msg tea.Msg) bool { _, ok := msg.(tea.QuitMsg); return ok })
}

// key presses a key.
func (h *harness) key(k tea.KeyPressMsg) {
	h.t.Helper()
	h.send(k)
}

// typeText types s key by key into what has the keyboard.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// untilStarted waits until a turn has started (or failed to).
func (h *harness) untilStarted() {
	h.t.Helper()
	h.until(func(msg tea.Msg) bool {
		n := typeName(msg)
		return n == "chat.turnStartedMsg" || n == "chat.turnFailedMsg"
	})
}

// command types a slash command and presses Enter, and applies the
// command the chat hands to the root.
func (h *harness) command(line string) {
	h.t.Helper()
	h.typeText(line)
	h.key(enter)
	h.until(func(msg tea.Msg) bool { _, ok := msg.(chat.CommandMsg); return ok })
}

// startTurn types text and presses Enter, and waits until the turn has
// started (the agent accepted it).
func (h *harness) startTurn(text string) {
	h.t.Helper()
	n := len(h.ag.Sent())
	h.typeText(text)
	h.key(enter)
	h.untilStarted()
	if len(h.ag.Sent()) != n+1 {
		h.t.Fatalf("Enter did not send %q", text)
	}
}

// event sends ev on the latest turn's channel and waits until the chat has
// applied it.
func (h *harness) event(ev agent.Event) {
	h.t.Helper()
	// A turn whose send has not run yet has no channel to write to.
	for h.m.chat.Running() > len(h.m.chat.Unfinished()) {
		h.untilStarted()
	}
	h.ag.Events(0) <- ev
	h.until(func(msg tea.Msg) bool { return typeName(msg) == "chat.turnEventMsg" })
}

// streamIn sends text in deltas of n bytes.
func (h *harness) streamIn(text string, n int) {
	h.t.Helper()
	for len(text) > 0 {
		k := min(n, len(text))
		h.event(agent.Delta{Text: text[:k]})
		text = text[k:]
	}
}

// screen is the frame as text.
func (h *harness) screen() string { return ansi.Strip(h.m.screen()) }

// statusBar is the status bar as text.
func (h *harness) statusBar() string { return ansi.Strip(h.m.statusBar()) }

// Key presses as Bubble Tea v2 delivers them.
var (
	ctrlC = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	enter = tea.KeyPressMsg{Code: tea.KeyEnter}
	esc   = tea.KeyPressMsg{Code: tea.KeyEscape}
	tab   = tea.KeyPressMsg{Code: tea.KeyTab}
)

// waitFor polls cond (a file written by another goroutine) for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func typeString(v any) string { return fmt.Sprintf("%T", v) }
