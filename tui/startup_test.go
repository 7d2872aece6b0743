package tui

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"go.uber.org/goleak"

	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/tui/theme"
)

// TestRunDrawsBeforeOpeningParts holds RunOptions.Open until the first
// frame has been written: the screen must not wait for the databases or
// the agent. Once opened, the parts are closed exactly once, after the
// program has ended.
func TestRunDrawsBeforeOpeningParts(t *testing.T) {
	st, b := openStores(t)
	// Run's own goroutines (the signal forwarder, the opener) and the
	// program's are gone once it returns and its input is closed.
	defer verifyNoLeaks(t, goleak.IgnoreCurrent())
	release := make(chan struct{})
	var opened, closed atomic.Int32
	open := func(context.Context) (Parts, func(), error) {
		opened.Add(1)
		<-release
		return Parts{Agent: newScriptedAgent(), Sessions: st, Board: b}, func() { closed.Add(1) }, nil
	}
	in, inW := io.Pipe()
	defer inW.Close()
	out := &frameWriter{started: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Keys: keymap.Default(), Palette: theme.Default()},
			RunOptions{Input: in, Output: out, Open: open})
	}()
	select {
	case <-out.started:
	case err := <-done:
		close(release)
		t.Fatalf("Run ended before drawing: %v", err)
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("no frame while Open was still running: the first frame waits for the parts")
	}
	close(release)
	cancel()
	waitRun(t, done)
	if opened.Load() != 1 || closed.Load() != 1 {
		t.Fatalf("Open called %d times, close %d times; want 1 and 1", opened.Load(), closed.Load())
	}
}

// TestRunReturnsOpenError: a part that cannot be opened (a refused
// state.db) ends the program, and Run returns the error.
func TestRunReturnsOpenError(t *testing.T) {
	refused := errors.New("store: open state.db: refused")
	in, inW := io.Pipe()
	defer inW.Close()
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Options{Keys: keymap.Default(), Palette: theme.Default()},
			RunOptions{Input: in, Output: io.Discard, Open: func(context.Context) (Parts, func(), error) {
				return Parts{}, nil, refused
			}})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, refused) {
			t.Fatalf("Run: %v, want the open error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end after Open failed")
	}
}

// TestRunSurvivesAPanickingOpen: a panic while opening the parts (on a
// goroutine of Run's, with the terminal in raw mode) ends the program with
// an error instead of killing the process.
func TestRunSurvivesAPanickingOpen(t *testing.T) {
	in, inW := io.Pipe()
	defer inW.Close()
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Options{Keys: keymap.Default(), Palette: theme.Default()},
			RunOptions{Input: in, Output: io.Discard, Open: func(context.Context) (Parts, func(), error) {
				panic("state.db driver bug")
			}})
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "state.db driver bug") {
			t.Fatalf("Run: %v, want the panic as an error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end after Open panicked")
	}
}

// TestStartingModel: before the parts are open the screen says so, Enter
// keeps the question instead of sending it, and commands that need state.db
// answer with a notice; partsOpenedMsg then brings the pane to life.
func TestStartingModel(t *testing.T) {
	m := New(Options{Keys: keymap.Default(), Palette: theme.Default()})
	if cmd := m.Init(); cmd != nil {
		t.Fatal("Init before the parts are open returned a command")
	}
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	screen := ansi.Strip(m.View().Content)
	for _, want := range []string{"starting…", "opening the board…"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("starting screen lacks %q:\n%s", want, screen)
		}
	}
	for _, text := range []string{"hello", "/sessions", "/model", "/resume 1"} {
		m = typeText(t, m, text)
		var cmd tea.Cmd
		m, cmd = updateCmd(t, m, enter)
		if cmd != nil || m.turn != nil {
			t.Fatalf("%q before start: command %v, turn %v", text, cmd != nil, m.turn != nil)
		}
		if m.notice != startingNotice {
			t.Fatalf("%q before start: notice %q", text, m.notice)
		}
		m.input.Reset()
	}

	st, b := openStores(t)
	m, cmd := updateCmd(t, m, partsOpenedMsg{parts: Parts{Agent: newScriptedAgent(), Sessions: st, Board: b}})
	if cmd == nil {
		t.Fatal("opening the parts did not load the board")
	}
	m = update(t, m, firstMsg(t, cmd))
	screen = ansi.Strip(m.View().Content)
	if strings.Contains(screen, "starting…") || strings.Contains(screen, "opening the board…") || !strings.Contains(screen, "To do") {
		t.Fatalf("screen after start:\n%s", screen)
	}
	m = startTurn(t, m, "hello")
	if m.turn == nil {
		t.Fatal("no turn after start")
	}
}

// TestWelcomeNamesTheConfiguredKeys: an empty chat tells a newcomer what to
// do, naming the keys as the key map binds them (overrides included), and
// gives way to the transcript once there is one.
func TestWelcomeNamesTheConfiguredKeys(t *testing.T) {
	keys := keymap.Default()
	keys.Global.SwitchPane = key.NewBinding(key.WithKeys("f2"), key.WithHelp("f2", "switch pane"))
	st, b := openStores(t)
	m := New(Options{Agent: newScriptedAgent(), Sessions: st, Board: b, Keys: keys, Palette: theme.Default()})
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	screen := ansi.Strip(m.View().Content)
	for _, want := range []string{"Ask a question and press enter", "f2 moves to the board"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("empty chat lacks %q:\n%s", want, screen)
		}
	}
	m = startTurn(t, m, "hello")
	if screen := ansi.Strip(m.View().Content); strings.Contains(screen, "Ask a question") {
		t.Fatalf("welcome still shown with a transcript:\n%s", screen)
	}
}

// verifyNoLeaks fails the test if goroutines started by it are still
// running after a grace period. The grace period is needed because a
// tea.Tick command (the board's one-second poll) keeps its goroutine until
// its timer fires, after the program has ended; it then ends by itself. A
// goroutine of ours that never ends still fails the test.
func verifyNoLeaks(t *testing.T, opts ...goleak.Option) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := goleak.Find(opts...)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
