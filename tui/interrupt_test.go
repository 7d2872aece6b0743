package tui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/dispatch"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/kanban"
)

func TestCtrlCWhileStreamingInterruptsAtOnce(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.startTurn("hello")
	h.event(agent.Delta{Text: "partial answer"})

	h.key(ctrlC)
	if h.m.quitting || h.m.armed {
		t.Fatal("Ctrl-C during a stream quit or armed quitting")
	}
	session := h.m.chat.Session().ID
	if got := h.ag.Interrupts(); len(got) != 1 || got[0] != session || session == 0 {
		t.Fatalf("Interrupt calls %v, session %d", got, session)
	}
	// Shown as interrupted before the agent's Interrupted event arrives.
	if !strings.Contains(h.screen(), "⏸ interrupted") || !strings.Contains(h.statusBar(), "interrupting") {
		t.Errorf("not marked interrupted at once:\n%s", h.screen())
	}
	// A late delta does not reopen the reply; the final text comes with
	// Interrupted.
	h.event(agent.Delta{Text: " more"})
	if strings.Contains(h.screen(), "partial answer more") {
		t.Error("a delta after Ctrl-C was shown")
	}
	h.event(agent.Interrupted{Text: "partial answer more", Reason: agent.InterruptAbort})
	if h.m.chat.Streaming() {
		t.Fatal("turn still running after Interrupted")
	}
	if !strings.Contains(h.screen(), "partial answer more") || !strings.Contains(h.screen(), "⏸ interrupted") {
		t.Errorf("final interrupted reply not shown:\n%s", h.screen())
	}
	if !strings.Contains(h.statusBar(), " interrupted ") {
		t.Errorf("status bar = %q", h.statusBar())
	}
	// A second Ctrl-C, now idle and empty, only arms quitting.
	h.key(ctrlC)
	if !h.m.armed || h.m.quitting {
		t.Error("Ctrl-C when idle did not (only) arm quitting")
	}
}

func TestCtrlCWhileWaitingForFirstToken(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.startTurn("hello")
	h.key(ctrlC)
	if len(h.ag.Interrupts()) != 1 || !strings.Contains(h.screen(), "⏸ interrupted") {
		t.Fatalf("interrupts=%v screen:\n%s", h.ag.Interrupts(), h.screen())
	}
	h.event(agent.Interrupted{Reason: agent.InterruptAbort})
	if h.m.chat.Streaming() || !strings.Contains(h.screen(), "⏸ interrupted") {
		t.Error("an interrupted reply with no text is not shown as interrupted")
	}
}

// TestCtrlCBeforeSendReturnsInterruptsWhenItDoes: Ctrl-C pressed before
// the agent has accepted the message (no session to interrupt yet) is
// applied the moment it has.
func TestCtrlCBeforeSendReturnsInterruptsWhenItDoes(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.typeText("hello")
	send := h.sendCmd(enter) // the send has not run
	h.key(ctrlC)
	if len(h.ag.Interrupts()) != 0 {
		t.Fatal("Interrupt called before there was a session to interrupt")
	}
	h.pump.Run(send)
	h.untilChat()
	if len(h.ag.Interrupts()) != 1 {
		t.Fatalf("Interrupt called %d times once Send returned, want 1", len(h.ag.Interrupts()))
	}
}

func TestCtrlCIdleWithInputClearsIt(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.typeText("draft")
	h.key(ctrlC)
	if v := h.m.chat.InputValue(); v != "" {
		t.Errorf("input = %q, want cleared", v)
	}
	if h.m.armed || h.m.quitting || !strings.Contains(h.statusBar(), "input cleared · ↑ brings it back") {
		t.Errorf("clearing the input armed or quit; status %q", h.statusBar())
	}
	// Nothing is lost: ↑ on the empty input brings the text back.
	h.key(tea.KeyPressMsg{Code: tea.KeyUp})
	if v := h.m.chat.InputValue(); v != "draft" {
		t.Errorf("↑ after the clear: input %q, want the cleared text", v)
	}
	h.key(tea.KeyPressMsg{Code: tea.KeyUp})
	if v := h.m.chat.InputValue(); v != "draft" {
		t.Errorf("a second ↑: input %q", v)
	}
}

// TestQuitWarnsAboutRunningWorkers: the "press Ctrl-C again to quit"
// prompt says what quitting does to running workers; with none it is the
// plain prompt (the control).
func TestQuitWarnsAboutRunningWorkers(t *testing.T) {
	h := newHarness(t, 160, 40)
	h.key(ctrlC)
	if s := h.statusBar(); !strings.Contains(s, "again to quit") || strings.Contains(s, "worker") {
		t.Fatalf("the control: %q", s)
	}
	h.send(disarmQuitMsg{id: h.m.quitID})
	h.m.workers.list = []dispatch.Worker{{CardID: 1}, {CardID: 2}}
	h.key(ctrlC)
	if s := h.statusBar(); !strings.Contains(s, "2 running workers stop; their cards go back to To do") {
		t.Fatalf("no warning about the running workers: %q", s)
	}
}

func TestCtrlCIdleEmptyArmsThenQuits(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.key(ctrlC)
	if !h.m.armed || !strings.Contains(h.statusBar(), "press Ctrl-C again to quit") {
		t.Fatalf("first Ctrl-C did not arm quitting: %q", h.statusBar())
	}
	h.key(ctrlC)
	h.untilQuit()
}

func TestCtrlCArmExpiresAfterTwoSeconds(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.key(ctrlC)
	first := h.m.quitID
	// A timer from an earlier arming must not disarm the current one
	// (negative control for the id check).
	h.send(disarmQuitMsg{id: first - 1})
	if !h.m.armed {
		t.Fatal("a stale timer disarmed quitting")
	}
	h.send(disarmQuitMsg{id: first})
	if h.m.armed || strings.Contains(h.statusBar(), "again to quit") {
		t.Fatal("the 2 s window did not close")
	}
	h.key(ctrlC)
	if h.m.quitting || !h.m.armed {
		t.Error("Ctrl-C after the window quit instead of arming again")
	}
}

func TestOtherKeyDisarmsQuit(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.key(ctrlC)
	h.typeText("x")
	if h.m.armed {
		t.Error("typing did not disarm quitting")
	}
}

func TestCtrlCCancelsKanbanFormWhenIdle(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.key(tab)
	h.typeText("n")
	if !h.m.kanban.Editing() {
		t.Fatal("n did not open the card form")
	}
	h.key(ctrlC)
	if h.m.kanban.Editing() || h.m.armed {
		t.Errorf("Ctrl-C: form open %v, armed %v", h.m.kanban.Editing(), h.m.armed)
	}
}

func TestCtrlCDuringStreamKeepsKanbanForm(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.startTurn("hello")
	h.key(tab)
	h.typeText("n")
	h.key(ctrlC)
	if len(h.ag.Interrupts()) != 1 {
		t.Error("Ctrl-C did not interrupt the stream")
	}
	if !h.m.kanban.Editing() {
		t.Error("Ctrl-C during a stream closed the form")
	}
}

func TestEscAndStopInterrupt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		press func(h *harness)
	}{
		{"esc", func(h *harness) { h.key(esc) }},
		{"/stop", func(h *harness) { h.command("/stop") }},
		{"SIGINT", func(h *harness) { h.send(Filter(h.m, tea.InterruptMsg{})) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 120, 40)
			h.startTurn("hello")
			tc.press(h)
			if len(h.ag.Interrupts()) != 1 || !strings.Contains(h.screen(), "⏸ interrupted") {
				t.Errorf("interrupts=%v screen:\n%s", h.ag.Interrupts(), h.screen())
			}
		})
	}
}

// TestEscOnTheBoardGoesBackBeforeItStops: while a reply streams, Esc in
// an open card view leaves the card (as the board's hint says) and the
// reply goes on; Esc on the board at rest stops the reply, as it does in
// the chat.
func TestEscOnTheBoardGoesBackBeforeItStops(t *testing.T) {
	h := newHarness(t, 120, 40)
	if _, err := h.board.Create(context.Background(), store.ActorMe, store.NewCard{Title: "a card"}); err != nil {
		t.Fatal(err)
	}
	h.until(func(msg tea.Msg) bool { return strings.Contains(typeName(msg), "loadedMsg") })
	h.startTurn("hello")
	h.key(tea.KeyPressMsg{Code: tea.KeyTab})
	h.key(enter)
	if !h.m.kanban.HasBack() {
		t.Fatalf("Enter did not open the card:\n%s", h.screen())
	}
	h.key(esc)
	if n := len(h.ag.Interrupts()); n != 0 || h.m.kanban.HasBack() {
		t.Fatalf("Esc in the card view: %d interrupts, card still open %v", n, h.m.kanban.HasBack())
	}
	h.key(esc)
	if n := len(h.ag.Interrupts()); n != 1 {
		t.Fatalf("Esc on the board at rest: %d interrupts, want 1", n)
	}
}

// TestBoardErrorGoesWithTheNextKey: an error from a board action (x on a
// card no worker runs) shows in the status bar, and goes with the next key
// press rather than staying for minutes after it stopped being true.
func TestBoardErrorGoesWithTheNextKey(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.send(kanban.ErrorMsg{Err: errors.New("kanban: no worker is running card 5")})
	if !strings.Contains(h.statusBar(), "no worker is running card 5") {
		t.Fatalf("the control: the error is not shown: %q", h.statusBar())
	}
	h.key(tea.KeyPressMsg{Code: tea.KeyTab})
	if strings.Contains(h.statusBar(), "no worker is running card 5") {
		t.Fatalf("the error outlived the next key: %q", h.statusBar())
	}
}

func TestEscWhenIdleDoesNotQuitOrArm(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.key(esc)
	if h.m.armed || h.m.quitting {
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
	h := newHarness(t, 120, 40)
	h.send(Filter(h.m, tea.InterruptMsg{}))
	if !h.m.armed {
		t.Error("SIGINT when idle did not arm quitting")
	}
}

func TestQuitWhileStreamingInterruptsFirst(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.startTurn("hello")
	h.event(agent.Delta{Text: "some"})
	h.command("/quit")
	if len(h.ag.Interrupts()) != 1 {
		t.Fatal("/quit during a stream did not interrupt it")
	}
	if h.quit {
		t.Fatal("quit before the interrupted turn ended")
	}
	ch := h.ag.Events(0)
	ch <- agent.Interrupted{Text: "some", Reason: agent.InterruptAbort}
	close(ch)
	h.untilQuit()
}

// TestQuitInterruptsTurnsOfEverySession: a turn left streaming in another
// session is interrupted too, and quitting waits for both.
func TestQuitInterruptsTurnsOfEverySession(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.startTurn("first")
	first := h.ag.Events(0)
	h.command("/new")
	h.startTurn("second")
	second := h.ag.Events(0)
	if h.m.chat.Running() != 2 || !strings.Contains(h.statusBar(), "1 running elsewhere") {
		t.Fatalf("running %d, status %q", h.m.chat.Running(), h.statusBar())
	}
	h.send(ShutdownMsg{})
	if got := h.ag.Interrupts(); len(got) != 2 {
		t.Fatalf("shutdown interrupted %v, want both sessions", got)
	}
	first <- agent.Interrupted{Reason: agent.InterruptAbort}
	h.untilChat()
	if h.quit {
		t.Fatal("quit with a turn still running")
	}
	second <- agent.Interrupted{Reason: agent.InterruptAbort}
	h.untilQuit()
}

func TestShutdownWhenIdleQuits(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.send(ShutdownMsg{})
	h.untilQuit()
}

func TestSendFailureShowsError(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.ag.SendErr = errors.New("agent: send: session 1 already streams")
	h.typeText("hi")
	h.key(enter)
	h.untilChat()
	if h.m.chat.Streaming() || !strings.Contains(h.statusBar(), "already streams") {
		t.Errorf("status bar = %q", h.statusBar())
	}
}

func TestFailedTurnIsMarkedAndShownInStatusBar(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.startTurn("hello")
	h.event(agent.Delta{Text: "half an answer"})
	h.event(agent.Failed{Text: "half an answer", Err: errors.New("agent: stream: connection reset by peer\x1b]0;x\x07")})
	if h.m.chat.Streaming() {
		t.Fatal("turn still running after Failed")
	}
	screen := h.screen()
	if !strings.Contains(screen, "half an answer") || !strings.Contains(screen, "✗ failed: agent: stream: connection reset by peer") {
		t.Errorf("failed reply not marked:\n%s", screen)
	}
	if bar := h.m.statusBar(); !strings.Contains(bar, "error") || !strings.Contains(bar, "connection reset") || strings.Contains(bar, "\x1b]0") {
		t.Errorf("status bar = %q", bar)
	}
	// The next send clears the error.
	h.startTurn("again")
	if strings.Contains(h.statusBar(), "connection reset") {
		t.Error("error still shown after a new send")
	}
}

func TestToolCallShownWhileRunning(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.startTurn("add a card x")
	h.event(agent.ToolCall{ID: "c1", Name: "kanban_create", Arguments: `{"title":"x"}`})
	if s := h.screen(); !strings.Contains(s, "⚙ kanban_create x") || !strings.Contains(s, "… running") {
		t.Errorf("tool call not shown as running:\n%s", s)
	}
	h.event(agent.ToolResult{ID: "c1", Name: "kanban_create", Result: tool.Errorf("board refused")})
	if s := h.screen(); !strings.Contains(s, "✗ board refused") || strings.Contains(s, "… running") {
		t.Errorf("tool failure not shown:\n%s", s)
	}
}

// TestArmedQuitNamesTheReboundKey: with the interrupt rebound in the
// config, the status bar names the key that quits, not Ctrl-C.
func TestArmedQuitNamesTheReboundKey(t *testing.T) {
	keys := keymap.Default()
	if err := keys.Apply(map[string][]string{"global.interrupt": {"ctrl+q"}}); err != nil {
		t.Fatal(err)
	}
	h := newHarnessWith(t, keys, 120, 40)
	h.key(tea.KeyPressMsg{Code: 'q', Mod: tea.ModCtrl})
	if !h.m.armed {
		t.Fatal("ctrl+q, the rebound interrupt, did not arm quitting")
	}
	if bar := h.statusBar(); !strings.Contains(bar, "press Ctrl-Q again to quit") {
		t.Errorf("status bar = %q, want it to name Ctrl-Q", bar)
	}
	if slices.Contains(keys.Global.Interrupt.Keys(), "ctrl+c") {
		t.Error("the override kept ctrl+c")
	}
}
