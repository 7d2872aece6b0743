package tui

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/tui/theme"
)

// isQuit reports whether cmd quits the program.
func isQuit(t *testing.T, cmd tea.Cmd) bool {
	t.Helper()
	if cmd == nil {
		return false
	}
	_, ok := cmdMsg(t, cmd).(tea.QuitMsg)
	return ok
}

func TestCtrlCWhileStreamingInterruptsAtOnce(t *testing.T) {
	ag := newScriptedAgent()
	m := newTestModel(t, ag, 120, 40)
	m = startTurn(t, m, "hello")
	now := time.Now()
	m = event(t, m, agent.Delta{Text: "partial answer"}, now)
	reply := m.turn.cur

	m, cmd := updateCmd(t, m, ctrlC)
	if isQuit(t, cmd) {
		t.Fatal("Ctrl-C during a stream quit the program")
	}
	if got := ag.interruptCount(); got != 1 {
		t.Fatalf("agent.Interrupt called %d times, want 1", got)
	}
	if ag.interrupts[0] != m.session.ID || m.session.ID == 0 {
		t.Errorf("Interrupt(%d), session is %d", ag.interrupts[0], m.session.ID)
	}
	// Shown as interrupted before the agent's Interrupted event arrives.
	if reply.status != statusInterrupted {
		t.Errorf("reply status = %v, want interrupted at once", reply.status)
	}
	if !strings.Contains(m.screen(), "interrupted") {
		t.Error("screen does not say interrupted")
	}
	if m.armed {
		t.Error("Ctrl-C during a stream armed quitting")
	}
	// A late delta does not reopen the reply; the final text comes with
	// Interrupted.
	m = event(t, m, agent.Delta{Text: " more"}, now)
	m = event(t, m, agent.Interrupted{Text: "partial answer more", Reason: "interrupt_abort"}, now)
	if m.turn != nil {
		t.Fatal("turn still running after Interrupted")
	}
	if reply.text != "partial answer more" || reply.status != statusInterrupted {
		t.Errorf("reply = %q %v", reply.text, reply.status)
	}
	if m.outcome != "interrupted" || !strings.Contains(m.statusBar(), "interrupted") {
		t.Errorf("status bar = %q", m.statusBar())
	}
	// A second Ctrl-C, now idle and empty, only arms quitting.
	m, cmd = updateCmd(t, m, ctrlC)
	if !m.armed || cmd == nil {
		t.Error("Ctrl-C when idle did not arm quitting")
	}
}

func TestCtrlCWhileWaitingForFirstToken(t *testing.T) {
	ag := newScriptedAgent()
	m := newTestModel(t, ag, 120, 40)
	m = startTurn(t, m, "hello")
	m = update(t, m, ctrlC)
	if ag.interruptCount() != 1 || m.turn.cur.status != statusInterrupted {
		t.Fatalf("interrupts=%d status=%v", ag.interruptCount(), m.turn.cur.status)
	}
	m = event(t, m, agent.Interrupted{Reason: "interrupt_abort"}, time.Now())
	if m.turn != nil || !strings.Contains(m.screen(), "interrupted") {
		t.Error("an interrupted reply with no text is not shown as interrupted")
	}
}

func TestCtrlCBeforeSendReturnsInterruptsWhenItDoes(t *testing.T) {
	ag := newScriptedAgent()
	m := newTestModel(t, ag, 120, 40)
	m = typeText(t, m, "hello")
	m = update(t, m, enter)
	send := m.sendCmd(m.turn.id, m.session.ID, "hello")
	m = update(t, m, ctrlC) // Send has not returned yet
	if ag.interruptCount() != 0 {
		t.Fatal("Interrupt called before there was a session to interrupt")
	}
	m = update(t, m, send())
	if ag.interruptCount() != 1 {
		t.Fatalf("Interrupt called %d times once Send returned, want 1", ag.interruptCount())
	}
}

func TestCtrlCIdleWithInputClearsIt(t *testing.T) {
	m := newTestModel(t, newScriptedAgent(), 120, 40)
	m = typeText(t, m, "draft")
	m, cmd := updateCmd(t, m, ctrlC)
	if m.input.Value() != "" {
		t.Errorf("input = %q, want cleared", m.input.Value())
	}
	if m.armed || isQuit(t, cmd) {
		t.Error("clearing the input armed or quit")
	}
}

func TestCtrlCIdleEmptyArmsThenQuits(t *testing.T) {
	m := newTestModel(t, newScriptedAgent(), 120, 40)
	m, cmd := updateCmd(t, m, ctrlC)
	if !m.armed {
		t.Fatal("first Ctrl-C did not arm quitting")
	}
	if !strings.Contains(m.statusBar(), "press Ctrl-C again to quit") {
		t.Errorf("status bar = %q", m.statusBar())
	}
	if cmd == nil {
		t.Fatal("no timer to disarm")
	}
	m, cmd = updateCmd(t, m, ctrlC)
	if !isQuit(t, cmd) {
		t.Fatal("second Ctrl-C did not quit")
	}
}

func TestCtrlCArmExpiresAfterTwoSeconds(t *testing.T) {
	m := newTestModel(t, newScriptedAgent(), 120, 40)
	m = update(t, m, ctrlC)
	first := m.quitID
	// A timer from an earlier arming must not disarm the current one
	// (negative control for the id check).
	m = update(t, m, disarmQuitMsg{id: first - 1})
	if !m.armed {
		t.Fatal("a stale timer disarmed quitting")
	}
	m = update(t, m, disarmQuitMsg{id: first})
	if m.armed || strings.Contains(m.statusBar(), "again to quit") {
		t.Fatal("the 2 s window did not close")
	}
	m = update(t, m, ctrlC)
	if m.quitting || !m.armed {
		t.Error("Ctrl-C after the window quit instead of arming again")
	}
}

func TestOtherKeyDisarmsQuit(t *testing.T) {
	m := newTestModel(t, newScriptedAgent(), 120, 40)
	m = update(t, m, ctrlC)
	m = typeText(t, m, "x")
	if m.armed {
		t.Error("typing did not disarm quitting")
	}
}

func TestCtrlCCancelsKanbanFormWhenIdle(t *testing.T) {
	m := newTestModel(t, newScriptedAgent(), 120, 40)
	m = update(t, m, tab)
	m = update(t, m, tea.KeyPressMsg{Code: 'n', Text: "n"})
	if !m.kanban.Editing() {
		t.Fatal("n did not open the card form")
	}
	m = update(t, m, ctrlC)
	if m.kanban.Editing() {
		t.Error("Ctrl-C did not cancel the form")
	}
	if m.armed {
		t.Error("cancelling the form also armed quitting")
	}
}

func TestCtrlCDuringStreamKeepsKanbanForm(t *testing.T) {
	ag := newScriptedAgent()
	m := newTestModel(t, ag, 120, 40)
	m = startTurn(t, m, "hello")
	m = update(t, m, tab)
	m = update(t, m, tea.KeyPressMsg{Code: 'n', Text: "n"})
	m = update(t, m, ctrlC)
	if ag.interruptCount() != 1 {
		t.Error("Ctrl-C did not interrupt the stream")
	}
	if !m.kanban.Editing() {
		t.Error("Ctrl-C during a stream closed the form")
	}
}

func TestEscAndStopInterrupt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		press func(t *testing.T, m Model) Model
	}{
		{"esc", func(t *testing.T, m Model) Model { return update(t, m, esc) }},
		{"/stop", func(t *testing.T, m Model) Model {
			m = typeText(t, m, "/stop")
			return update(t, m, enter)
		}},
		{"SIGINT", func(t *testing.T, m Model) Model { return update(t, m, Filter(m, tea.InterruptMsg{})) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ag := newScriptedAgent()
			m := newTestModel(t, ag, 120, 40)
			m = startTurn(t, m, "hello")
			m = tc.press(t, m)
			if ag.interruptCount() != 1 || m.turn.cur.status != statusInterrupted {
				t.Errorf("interrupts=%d status=%v", ag.interruptCount(), m.turn.cur.status)
			}
		})
	}
}

func TestEscWhenIdleDoesNotQuitOrArm(t *testing.T) {
	m := newTestModel(t, newScriptedAgent(), 120, 40)
	m, cmd := updateCmd(t, m, esc)
	if m.armed || isQuit(t, cmd) {
		t.Error("esc when idle armed or quit")
	}
}

func TestFilterTurnsSIGINTIntoInterrupt(t *testing.T) {
	if _, ok := Filter(nil, tea.InterruptMsg{}).(InterruptMsg); !ok {
		t.Fatal("Filter let tea.InterruptMsg through: Run would end the program without interrupting")
	}
	if msg := Filter(nil, ctrlC); msg != tea.Msg(ctrlC) {
		t.Errorf("Filter changed a key press: %#v", msg)
	}
	// SIGINT when idle takes the Ctrl-C path: arm, then quit.
	m := newTestModel(t, newScriptedAgent(), 120, 40)
	m = update(t, m, Filter(m, tea.InterruptMsg{}))
	if !m.armed {
		t.Error("SIGINT when idle did not arm quitting")
	}
}

func TestQuitWhileStreamingInterruptsFirst(t *testing.T) {
	ag := newScriptedAgent()
	m := newTestModel(t, ag, 120, 40)
	m = startTurn(t, m, "hello")
	m = event(t, m, agent.Delta{Text: "some"}, time.Now())
	m = typeText(t, m, "/quit")
	m = update(t, m, enter)
	if ag.interruptCount() != 1 {
		t.Fatal("/quit during a stream did not interrupt it")
	}
	m, cmd := updateCmd(t, m, turnEventMsg{turn: m.turn.id, event: agent.Interrupted{Text: "some", Reason: "interrupt_abort"}})
	if m.turn != nil {
		t.Fatal("turn still running")
	}
	// The batch holds the drain and the quit; the quit is what matters.
	found := false
	if b, ok := cmdMsg(t, cmd).(tea.BatchMsg); ok {
		for _, c := range b {
			if c != nil {
				go func() { _ = c() }() // drain: returns when the channel closes
			}
		}
		found = true
	}
	close(ag.events)
	if !found {
		t.Error("the turn's end did not quit")
	}
}

func TestShutdownMsgInterruptsThenQuits(t *testing.T) {
	ag := newScriptedAgent()
	m := newTestModel(t, ag, 120, 40)
	m = startTurn(t, m, "hello")
	m, cmd := updateCmd(t, m, ShutdownMsg{})
	if ag.interruptCount() != 1 || cmd == nil {
		t.Fatal("shutdown did not interrupt the stream first")
	}
	if !m.turn.quitAfter {
		t.Error("the turn's end will not quit")
	}
	// Idle: quits at once.
	m2 := newTestModel(t, newScriptedAgent(), 120, 40)
	_, cmd = updateCmd(t, m2, ShutdownMsg{})
	if !isQuit(t, cmd) {
		t.Error("shutdown when idle did not quit")
	}
}

func TestSendFailureShowsError(t *testing.T) {
	ag := newScriptedAgent()
	ag.sendErr = errors.New("agent: send: session 1 already streams")
	m := newTestModel(t, ag, 120, 40)
	m = typeText(t, m, "hi")
	m = update(t, m, enter)
	m = update(t, m, m.sendCmd(m.turn.id, m.session.ID, "hi")())
	if m.turn != nil || !strings.Contains(m.statusBar(), "already streams") {
		t.Errorf("status bar = %q", m.statusBar())
	}
}

func TestFailedTurnIsMarkedAndShownInStatusBar(t *testing.T) {
	ag := newScriptedAgent()
	m := newTestModel(t, ag, 120, 40)
	m = startTurn(t, m, "hello")
	m = event(t, m, agent.Delta{Text: "half an answer"}, time.Now())
	m = event(t, m, agent.Failed{Text: "half an answer", Err: errors.New("agent: stream: connection reset by peer")}, time.Now())
	if m.turn != nil {
		t.Fatal("turn still running after Failed")
	}
	screen := plain(m)
	if !strings.Contains(screen, "half an answer") || !strings.Contains(screen, "✗ failed: agent: stream: connection reset by peer") {
		t.Errorf("failed reply not marked:\n%s", screen)
	}
	if !strings.Contains(m.statusBar(), "error") || !strings.Contains(m.statusBar(), "connection reset") {
		t.Errorf("status bar = %q", m.statusBar())
	}
	// The next send clears the error.
	m = startTurn(t, m, "again")
	if strings.Contains(m.statusBar(), "connection reset") {
		t.Error("error still shown after a new send")
	}
}

func TestToolCallShownWhileRunning(t *testing.T) {
	m := newTestModel(t, newScriptedAgent(), 120, 40)
	m = startTurn(t, m, "add a card x")
	m = event(t, m, agent.ToolCall{ID: "c1", Name: "kanban_create", Arguments: `{"title":"x"}`}, time.Now())
	if s := plain(m); !strings.Contains(s, `⚙ kanban_create {"title":"x"}`) || !strings.Contains(s, "… running") {
		t.Errorf("tool call not shown as running:\n%s", s)
	}
	m = event(t, m, agent.ToolResult{ID: "c1", Name: "kanban_create", Result: tool.Errorf("board refused")}, time.Now())
	if s := plain(m); !strings.Contains(s, "✗ board refused") || strings.Contains(s, "… running") {
		t.Errorf("tool failure not shown:\n%s", s)
	}
}

// TestArmedQuitNamesTheReboundKey: with the interrupt rebound in the
// config, the status bar names the key that quits, not Ctrl-C.
func TestArmedQuitNamesTheReboundKey(t *testing.T) {
	st, b := openStores(t)
	keys := keymap.Default()
	if err := keys.Apply(map[string][]string{"global.interrupt": {"ctrl+q"}}); err != nil {
		t.Fatal(err)
	}
	m := New(Options{Agent: newScriptedAgent(), Sessions: st, Board: b, Keys: keys, Palette: theme.Default()})
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	m, _ = updateCmd(t, m, tea.KeyPressMsg{Code: 'q', Mod: tea.ModCtrl})
	if !m.armed {
		t.Fatal("ctrl+q, the rebound interrupt, did not arm quitting")
	}
	if bar := m.statusBar(); !strings.Contains(bar, "press Ctrl-Q again to quit") {
		t.Errorf("status bar = %q, want it to name Ctrl-Q", bar)
	}
}
