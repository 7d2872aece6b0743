package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
)

// RunOptions are the terminal-facing settings of Run; the zero value uses
// the process's terminal.
type RunOptions struct {
	Input  io.Reader // nil = stdin
	Output io.Writer // nil = stdout
}

// Run runs the full-screen program until the person quits or ctx is
// cancelled (SIGTERM), and always restores the terminal.
//
// Signals: Bubble Tea's own handler stops listening after the first signal,
// so a second SIGINT would kill the process with the terminal still in raw
// mode. Run therefore handles SIGINT itself for the program's whole life and
// turns each one into InterruptMsg (the Ctrl-C path; Filter does the same
// for a tea.InterruptMsg from anywhere else). Cancelling ctx sends
// ShutdownMsg, which interrupts a running stream before quitting.
func Run(ctx context.Context, o Options, ro RunOptions) error {
	m := New(o)
	opts := []tea.ProgramOption{
		tea.WithFilter(Filter),
		tea.WithoutSignalHandler(),
		// 60 frames a second at most; a frame with one changed line costs
		// ≈1.3 ms, and nothing redraws while idle.
		tea.WithFPS(60),
	}
	if ro.Input != nil {
		opts = append(opts, tea.WithInput(ro.Input))
	}
	if ro.Output != nil {
		opts = append(opts, tea.WithOutput(ro.Output))
	}
	p := tea.NewProgram(m, opts...)

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		done := ctx.Done()
		for {
			select {
			case <-sigs:
				p.Send(InterruptMsg{})
			case <-done:
				p.Send(ShutdownMsg{})
				done = nil
			case <-stop:
				return
			}
		}
	})
	final, err := p.Run()
	close(stop)
	wg.Wait()
	signal.Stop(sigs)

	if fm, ok := final.(Model); ok && fm.turn != nil && fm.turn.events != nil {
		// The program ended before the interrupted turn did (quitGrace):
		// keep draining its channel for a while so the agent can finish
		// and save it; the agent's Close bounds the rest.
		drainFor(fm.turn.events, drainGrace)
	}
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}

// drainGrace bounds how long Run drains an unfinished turn after the
// program has ended.
const drainGrace = 5 * time.Second

// drainFor reads ch until it is closed or d has passed.
func drainFor[T any](ch <-chan T, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timer.C:
			return
		}
	}
}
