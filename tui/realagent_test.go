package tui

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/offline"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/internal/tuitest"
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

	tee := &teeAgent{Agent: ag}
	h := &harness{t: t, ag: nil, state: state, board: board, pump: tuitest.NewPump(t)}
	h.m = New(Options{Agent: tee, Sessions: state, Board: board, Keys: keymap.Default(), Palette: theme.Default(), Logger: logger})
	h.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	if !strings.Contains(h.statusBar(), "demo model (offline)") {
		t.Errorf("status bar = %q", h.statusBar())
	}
	const prompt = "Explain streaming, please"
	h.typeText(prompt)
	h.key(enter)
	h.untilChat() // the turn started
	sessionID := h.m.chat.Session().ID
	deadline := time.Now().Add(20 * time.Second)
	pressed := false
	for h.m.chat.Streaming() && time.Now().Before(deadline) {
		h.untilChat()
		if !pressed && len(tee.text()) > 40 {
			pressed = true
			// Negative control: nothing has aborted yet, so the check
			// below can only pass because of this Ctrl-C.
			if log, _ := os.ReadFile(logPath); strings.Contains(string(log), "deferred_close=stranger_thread") {
				t.Fatal("abort line logged before Ctrl-C")
			}
			h.key(ctrlC)
			if !strings.Contains(h.screen(), "⏸ interrupted") {
				t.Fatalf("reply not marked interrupted at once:\n%s", h.screen())
			}
			// The stranger abort is logged synchronously by Interrupt.
			log, _ := os.ReadFile(logPath)
			if !strings.Contains(string(log), "deferred_close=stranger_thread") {
				t.Fatalf("no stranger abort line in the log right after Ctrl-C:\n%s", log)
			}
		}
	}
	if !pressed {
		t.Fatal("the stream never produced enough text to interrupt")
	}
	if h.m.chat.Streaming() {
		t.Fatal("the interrupted turn did not end")
	}
	if !strings.Contains(h.statusBar(), " interrupted ") {
		t.Errorf("status bar after the turn: %q", h.statusBar())
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

	// The whole partial reply: what streamed, what the Interrupted event
	// carried and what state.db holds are the same text, and it is a strict
	// prefix of the demo model's full answer.
	streamed, final := tee.text(), tee.interrupted()
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
	full := offline.Reply(prompt)
	if saved.Content != final || final != streamed || !strings.HasPrefix(full, streamed) || len(streamed) >= len(full) {
		t.Errorf("partial replies differ: streamed %d bytes, Interrupted %d, saved %d, full answer %d",
			len(streamed), len(final), len(saved.Content), len(full))
	}
	words := strings.Fields(streamed)
	if last := words[len(words)-1]; !strings.Contains(h.screen(), strings.Trim(last, "*`_.,:;")) {
		t.Errorf("the reply's last word %q is not on screen:\n%s", last, h.screen())
	}

	// --continue shows the same interrupted reply from state.db.
	h2 := &harness{t: t, state: state, board: board, pump: tuitest.NewPump(t)}
	h2.m = New(Options{Agent: tee, Sessions: state, Board: board, Keys: keymap.Default(), Palette: theme.Default(), Continue: true})
	h2.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	h2.pump.Run(h2.m.Init())
	h2.untilChat()
	if h2.m.chat.Session().ID != sessionID || !strings.Contains(h2.screen(), "⏸ interrupted") {
		t.Errorf("--continue: session %d, screen:\n%s", h2.m.chat.Session().ID, h2.screen())
	}
}

// teeAgent is the real agent with every event of its turns recorded.
type teeAgent struct {
	*agent.Agent
	mu     sync.Mutex
	deltas strings.Builder
	final  string
}

func (a *teeAgent) Send(ctx context.Context, sessionID int64, text string) (<-chan agent.Event, error) {
	in, err := a.Agent.Send(ctx, sessionID, text)
	if err != nil {
		return nil, err
	}
	out := make(chan agent.Event)
	go func() {
		defer close(out)
		for ev := range in {
			a.mu.Lock()
			switch ev := ev.(type) {
			case agent.Delta:
				a.deltas.WriteString(ev.Text)
			case agent.Interrupted:
				a.final = ev.Text
			}
			a.mu.Unlock()
			out <- ev
		}
	}()
	return out, nil
}

func (a *teeAgent) text() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.deltas.String()
}

func (a *teeAgent) interrupted() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.final
}
