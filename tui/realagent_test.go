package tui

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/theme"
)

// TestCtrlCInterruptsRealAgentStream runs a turn in the real agent against
// the offline demo model (loopback TLS), presses Ctrl-C in the middle of the
// stream and checks the whole interrupt path: the reply is marked at once,
// the transport logged the stranger abort, and state.db holds the partial
// reply with status interrupted.
func TestCtrlCInterruptsRealAgentStream(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "spindle.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))

	state, err := store.OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	board, err := store.OpenBoard(filepath.Join(dir, "kanban.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer board.Close()
	ag, err := agent.New(agent.Config{State: state, Board: board, Logger: logger, OfflineTokenDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer ag.Close()

	m := New(Options{Agent: ag, Sessions: state, Board: board, Keys: keymap.Default(), Palette: theme.Default(), Logger: logger})
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	if !strings.Contains(m.statusBar(), "demo model (offline)") {
		t.Errorf("status bar = %q", m.statusBar())
	}
	m = startTurn(t, m, "Explain streaming, please")
	sessionID := m.session.ID
	cmd := waitEvent(m.turn.id, m.turn.events)
	deadline := time.Now().Add(20 * time.Second)
	var reply *item
	for m.turn != nil && time.Now().Before(deadline) {
		m, cmd = updateCmd(t, m, cmd())
		if reply == nil && m.turn != nil && m.turn.cur != nil && len(m.turn.cur.text) > 40 {
			reply = m.turn.cur
			// Negative control: nothing has aborted yet, so the check
			// below can only pass because of this Ctrl-C.
			if log, _ := os.ReadFile(logPath); strings.Contains(string(log), "deferred_close=stranger_thread") {
				t.Fatal("abort line logged before Ctrl-C")
			}
			m = update(t, m, ctrlC)
			if reply.status != statusInterrupted {
				t.Fatalf("reply not marked interrupted at once: %v", reply.status)
			}
			if !ag.Running(sessionID) && m.turn == nil {
				t.Fatal("turn ended before the interrupt")
			}
			// The stranger abort is logged synchronously by Interrupt.
			log, _ := os.ReadFile(logPath)
			if !strings.Contains(string(log), "deferred_close=stranger_thread") {
				t.Fatalf("no stranger abort line in the log right after Ctrl-C:\n%s", log)
			}
		}
	}
	if reply == nil {
		t.Fatal("the stream never produced enough text to interrupt")
	}
	if m.turn != nil {
		t.Fatal("the interrupted turn did not end")
	}
	if reply.status != statusInterrupted || m.outcome != "interrupted" {
		t.Errorf("after the turn: status=%v outcome=%q", reply.status, m.outcome)
	}
	log, _ := os.ReadFile(logPath)
	var abortLine string
	for _, l := range strings.Split(string(log), "\n") {
		if strings.Contains(l, "OpenAI client aborted") {
			abortLine = l
		}
	}
	for _, want := range []string{"interrupt_abort", "shared=false", "deferred_close=stranger_thread", "thread=stranger", "owner_tid="} {
		if !strings.Contains(abortLine, want) {
			t.Errorf("abort line %q lacks %q", abortLine, want)
		}
	}

	msgs, err := state.Messages(context.Background(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	var saved *store.Message
	for i := range msgs {
		if msgs[i].Role == store.RoleAssistant {
			saved = &msgs[i]
		}
	}
	if saved == nil {
		t.Fatalf("no assistant message saved: %+v", msgs)
	}
	if saved.Status != store.MessageInterrupted {
		t.Errorf("saved status = %q, want interrupted", saved.Status)
	}
	if prefix := strings.TrimSpace(saved.Content); len(prefix) < 20 || !strings.HasPrefix(strings.TrimSpace(reply.text), prefix[:20]) {
		t.Errorf("saved partial reply %q does not match the shown one %q", saved.Content, reply.text)
	}

	// --continue shows the same interrupted reply from state.db.
	m2 := New(Options{Agent: ag, Sessions: state, Board: board, Keys: keymap.Default(), Palette: theme.Default(), Continue: true})
	m2 = update(t, m2, tea.WindowSizeMsg{Width: 120, Height: 40})
	m2 = update(t, m2, m2.loadLastSession()())
	if m2.session.ID != sessionID || !strings.Contains(m2.screen(), "interrupted") {
		t.Errorf("--continue: session %d, screen:\n%s", m2.session.ID, m2.screen())
	}
}
