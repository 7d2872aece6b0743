package kanban

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/spindle-sh/spindle/store"
)

// host is the smallest root model: it sizes the pane and passes everything
// on, so the pane runs under a real Bubble Tea program with Cmds on their
// own goroutines and the real one-second tick (run it with -race).
type host struct{ k Model }

func (h host) Init() tea.Cmd { return h.k.Init() }

func (h host) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if ws, ok := msg.(tea.WindowSizeMsg); ok {
		h.k.SetSize(ws.Width, ws.Height)
		return h, nil
	}
	var cmd tea.Cmd
	h.k, cmd = h.k.Update(msg)
	return h, cmd
}

func (h host) View() tea.View { return tea.NewView(h.k.View()) }

func TestUnderARealProgram(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kanban.db")
	b, err := store.OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	alpha, err := b.Create(ctx, "agent", store.NewCard{Title: "Alpha"})
	if err != nil {
		t.Fatal(err)
	}
	m := newPane(b, nil)
	m.Focus()
	tm := teatest.NewTestModel(t, host{k: m}, teatest.WithInitialTermSize(120, 40))
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte("Alpha")) },
		teatest.WithDuration(5*time.Second))

	for _, k := range []string{"L", "L", "p"} {
		tm.Send(keyMsg(k))
	}
	// Wait for the writes to commit (the reload after them is done too).
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := b.Get(ctx, alpha.ID)
		if err == nil && c.Status == store.Blocked && c.Priority == store.PriorityNormal {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("row never reached blocked/normal: %+v, %v", c, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Now only the poll can bring the next card in.
	other, err := store.OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Create(ctx, "me", store.NewCard{Title: "Added elsewhere"}); err != nil {
		t.Fatal(err)
	}
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte("Added elsewhere")) },
		teatest.WithDuration(5*time.Second))

	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(host)
	if c, ok := final.k.selected(); !ok || c.ID != alpha.ID || c.Status != store.Blocked {
		t.Fatalf("final selection %+v", c)
	}
}
