package tui

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/theme"
)

// scriptedAgent is a stand-in for the conversation loop whose turns the test
// drives event by event: Send hands out a channel the test writes to. It
// records every Interrupt. (The real agent against the offline model is
// used in realagent_test.go; this one makes screens deterministic.)
type scriptedAgent struct {
	mu         sync.Mutex
	model      string
	offline    bool
	sendErr    error
	events     chan agent.Event
	sent       []string
	interrupts []int64
}

func newScriptedAgent() *scriptedAgent {
	return &scriptedAgent{model: "spindle-demo", offline: true}
}

func (a *scriptedAgent) Send(_ context.Context, sessionID int64, text string) (<-chan agent.Event, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sendErr != nil {
		return nil, a.sendErr
	}
	a.sent = append(a.sent, text)
	a.events = make(chan agent.Event, 64)
	return a.events, nil
}

func (a *scriptedAgent) Interrupt(sessionID int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.interrupts = append(a.interrupts, sessionID)
	return true
}

func (a *scriptedAgent) Running(int64) bool { return false }
func (a *scriptedAgent) Model() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.model
}
func (a *scriptedAgent) SetModel(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.model = name
}
func (a *scriptedAgent) Offline() bool { return a.offline }
func (a *scriptedAgent) Models(context.Context) ([]string, error) {
	return []string{"spindle-demo"}, nil
}

func (a *scriptedAgent) interruptCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.interrupts)
}

// openStores opens a real state.db and kanban.db in a temporary directory.
func openStores(t testing.TB) (*store.State, *store.Board) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := store.OpenBoard(filepath.Join(dir, "kanban.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return st, b
}

// newTestModel builds a root model of the given size over real stores, with
// the board loaded.
func newTestModel(t testing.TB, ag Agent, w, h int) Model {
	t.Helper()
	st, b := openStores(t)
	m := New(Options{
		Agent:    ag,
		Sessions: st,
		Board:    b,
		Keys:     keymap.Default(),
		Palette:  theme.Default(),
	})
	m = update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	if msg := firstMsg(t, m.kanban.Init()); msg != nil {
		m = update(t, m, msg)
	}
	return m
}

// firstMsg runs cmd (and the commands of a batch) concurrently and returns
// the first message any of them produces: for the kanban pane's Init that
// is the board load, long before its one-second poll tick.
func firstMsg(t testing.TB, cmd tea.Cmd) tea.Msg {
	t.Helper()
	if cmd == nil {
		return nil
	}
	out := make(chan tea.Msg, 16)
	var run func(tea.Cmd)
	run = func(c tea.Cmd) {
		go func() {
			msg := c()
			if b, ok := msg.(tea.BatchMsg); ok {
				for _, c := range b {
					if c != nil {
						run(c)
					}
				}
				return
			}
			out <- msg
		}()
	}
	run(cmd)
	select {
	case msg := <-out:
		return msg
	case <-time.After(10 * time.Second):
		t.Fatal("no message from command")
		return nil
	}
}

// update applies one message and returns the root model.
func update(t testing.TB, m Model, msg tea.Msg) Model {
	t.Helper()
	m2, _ := updateCmd(t, m, msg)
	return m2
}

// updateCmd applies one message and returns the model and its command.
func updateCmd(t testing.TB, m Model, msg tea.Msg) (Model, tea.Cmd) {
	t.Helper()
	tm, cmd := m.Update(msg)
	rm, ok := tm.(Model)
	if !ok {
		t.Fatalf("Update returned %T", tm)
	}
	return rm, cmd
}

// Key presses as Bubble Tea v2 delivers them.
var (
	ctrlC = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	enter = tea.KeyPressMsg{Code: tea.KeyEnter}
	esc   = tea.KeyPressMsg{Code: tea.KeyEscape}
	tab   = tea.KeyPressMsg{Code: tea.KeyTab}
)

// typeText types s into the focused pane key by key.
func typeText(t testing.TB, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		m = update(t, m, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return m
}

// startTurn types text, presses Enter and runs the send command
// synchronously, so that the turn is running when it returns.
func startTurn(t testing.TB, m Model, text string) Model {
	t.Helper()
	m = typeText(t, m, text)
	m = update(t, m, enter)
	if m.turn == nil {
		t.Fatal("Enter did not start a turn")
	}
	msg := m.sendCmd(m.turn.id, m.session.ID, text)()
	m, _ = updateCmd(t, m, msg)
	if m.turn == nil || m.turn.events == nil {
		t.Fatalf("turn did not start: %#v", msg)
	}
	return m
}

// event applies an agent event to the running turn.
func event(t testing.TB, m Model, ev agent.Event, at time.Time) Model {
	t.Helper()
	id := 0
	if m.turn != nil {
		id = m.turn.id
	}
	return update(t, m, turnEventMsg{turn: id, event: ev, at: at})
}

// cmdMsg runs a command that must not block and returns its message.
func cmdMsg(t testing.TB, cmd tea.Cmd) tea.Msg {
	t.Helper()
	if cmd == nil {
		t.Fatal("expected a command")
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		return msg
	case <-time.After(time.Second):
		t.Fatal("command blocked")
		return nil
	}
}
