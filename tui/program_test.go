package tui

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/tui/internal/tuitest"
	"github.com/spindle-sh/spindle/tui/theme"
)

// frameWriter collects the program's output and says when the first bytes
// arrived.
type frameWriter struct {
	mu      sync.Mutex
	n       int
	started chan struct{}
	once    sync.Once
}

func (w *frameWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.n += len(p)
	w.mu.Unlock()
	w.once.Do(func() { close(w.started) })
	return len(p), nil
}

// runProgram starts Run with a pipe for input and returns its result
// channel once the first frame has been written.
func runProgram(t *testing.T, ctx context.Context) (<-chan error, *io.PipeWriter) {
	t.Helper()
	st, b := tuitest.OpenStores(t)
	in, inW := io.Pipe()
	out := &frameWriter{started: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Agent: tuitest.NewAgent(), Sessions: st, Board: b, Keys: keymap.Default(), Palette: theme.Default()},
			RunOptions{Input: in, Output: out})
	}()
	select {
	case <-out.started:
	case err := <-done:
		t.Fatalf("Run ended before drawing: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no frame")
	}
	t.Cleanup(func() { inW.Close() })
	return done, inW
}

func waitRun(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}

// TestRunSIGINTTakesTheCtrlCPath sends the test process two real SIGINTs:
// the first arms quitting, the second quits, and Run returns nil (not
// tea.ErrInterrupted, which is what Bubble Tea's own handler would give
// after the first).
func TestRunSIGINTTakesTheCtrlCPath(t *testing.T) {
	done, _ := runProgram(t, context.Background())
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("one SIGINT when idle ended the program (%v); it should only arm quitting", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitRun(t, done)
}

func TestRunQuitsWhenContextIsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done, _ := runProgram(t, ctx)
	cancel()
	waitRun(t, done)
}

// TestFilterKeepsInterruptMsgFromEndingTheProgram is the negative control
// for Filter: without it a tea.InterruptMsg ends Run with ErrInterrupted at
// once; with it the program stays up (it only arms quitting).
func TestFilterKeepsInterruptMsgFromEndingTheProgram(t *testing.T) {
	for _, withFilter := range []bool{false, true} {
		st, b := tuitest.OpenStores(t)
		m := New(Options{Agent: tuitest.NewAgent(), Sessions: st, Board: b, Keys: keymap.Default(), Palette: theme.Default()})
		in, inW := io.Pipe()
		opts := []tea.ProgramOption{tea.WithInput(in), tea.WithOutput(io.Discard), tea.WithoutSignalHandler()}
		if withFilter {
			opts = append(opts, tea.WithFilter(Filter))
		}
		p := tea.NewProgram(m, opts...)
		done := make(chan error, 1)
		go func() { _, err := p.Run(); done <- err }()
		p.Send(tea.InterruptMsg{})
		select {
		case err := <-done:
			if withFilter {
				t.Fatalf("with Filter, InterruptMsg ended the program: %v", err)
			}
			if !errors.Is(err, tea.ErrInterrupted) {
				t.Fatalf("without Filter: %v, want ErrInterrupted", err)
			}
		case <-time.After(500 * time.Millisecond):
			if !withFilter {
				t.Fatal("without Filter the program kept running: the control shows nothing")
			}
			p.Quit()
			<-done
		}
		inW.Close()
	}
}
