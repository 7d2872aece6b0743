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
	"go.uber.org/goleak"

	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/tui/chat"
	"github.com/spindle-sh/spindle/tui/internal/tuitest"
	"github.com/spindle-sh/spindle/tui/theme"
)

// TestRunDrawsBeforeOpeningParts holds RunOptions.Open until the first
// frame has been written: the screen must not wait for the databases or
// the agent. Once opened, the parts are closed exactly once, after the
// program has ended.
func TestRunDrawsBeforeOpeningParts(t *testing.T) {
	st, b := tuitest.OpenStores(t)
	// Run's own goroutines (the signal forwarder, the opener) and the
	// program's are gone once it returns and its input is closed.
	defer verifyNoLeaks(t, goleak.IgnoreCurrent())
	release := make(chan struct{})
	var opened, closed atomic.Int32
	open := func(context.Context) (Parts, func(), error) {
		opened.Add(1)
		<-release
		return Parts{Agent: tuitest.NewAgent(), Sessions: st, Board: b}, func() { closed.Add(1) }, nil
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
// answer with a notice; partsOpenedMsg then brings the panes to life.
func TestStartingModel(t *testing.T) {
	h := &harness{t: t, ag: tuitest.NewAgent(), pump: tuitest.NewPump(t)}
	h.m = New(Options{Keys: keymap.Default(), Palette: theme.Default()})
	if cmd := h.m.Init(); cmd != nil {
		t.Fatal("Init before the parts are open returned a command")
	}
	h.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	for _, want := range []string{"starting…", "opening the board…"} {
		if !strings.Contains(h.screen(), want) {
			t.Fatalf("starting screen lacks %q:\n%s", want, h.screen())
		}
	}
	h.typeText("hello")
	h.key(enter)
	if h.m.chat.Streaming() || h.m.chat.InputValue() != "hello" || !strings.Contains(h.statusBar(), chat.StartingNotice) {
		t.Fatalf("Enter before start: input %q, status %q", h.m.chat.InputValue(), h.statusBar())
	}
	h.m.chat.ClearInput()
	for _, text := range []string{"/sessions", "/model", "/resume 1", "/new"} {
		h.command(text)
		if !strings.Contains(h.statusBar(), chat.StartingNotice) {
			t.Fatalf("%q before start: status %q", text, h.statusBar())
		}
	}

	st, b := tuitest.OpenStores(t)
	h.send(partsOpenedMsg{parts: Parts{Agent: h.ag, Sessions: st, Board: b}})
	h.until(func(msg tea.Msg) bool { return strings.Contains(typeName(msg), "loadedMsg") })
	if s := h.screen(); strings.Contains(s, "starting…") || strings.Contains(s, "opening the board…") || !strings.Contains(s, "To do") {
		t.Fatalf("screen after start:\n%s", s)
	}
	if strings.Contains(h.statusBar(), chat.StartingNotice) {
		t.Fatalf("the starting notice outlived the start: %q", h.statusBar())
	}
	h.startTurn("hello")
}

// TestWelcomeNamesTheConfiguredKeys: an empty chat tells a newcomer what to
// do, naming the keys as the key map binds them (overrides included), and
// gives way to the transcript once there is one.
func TestWelcomeNamesTheConfiguredKeys(t *testing.T) {
	keys := keymap.Default()
	keys.Global.SwitchPane = key.NewBinding(key.WithKeys("f2"), key.WithHelp("f2", "switch pane"))
	h := newHarnessWith(t, keys, 120, 40)
	for _, want := range []string{"Ask a question and press enter", "f2 moves to the board", "ctrl+p finds any command"} {
		if !strings.Contains(h.screen(), want) {
			t.Fatalf("empty chat lacks %q:\n%s", want, h.screen())
		}
	}
	h.startTurn("hello")
	if strings.Contains(h.screen(), "Ask a question") {
		t.Fatalf("welcome still shown with a transcript:\n%s", h.screen())
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
