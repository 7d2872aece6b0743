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
	"github.com/charmbracelet/colorprofile"
)

// RunOptions are the terminal-facing settings of Run; the zero value uses
// the process's terminal.
type RunOptions struct {
	Input  io.Reader // nil = stdin
	Output io.Writer // nil = stdout

	// Open, when set, opens the UI's parts (Options' Agent, Sessions, Board
	// and BoardErr are then ignored) on a goroutine of Run's while the
	// first frame is drawn. Run calls the close function it returns once
	// the program has ended and an unfinished turn has been drained. An
	// error ends the program, and Run returns it.
	Open func(ctx context.Context) (Parts, func(), error)
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
	if ro.Open != nil {
		o.Agent, o.Sessions, o.Board, o.BoardErr = nil, nil, nil, nil
	}
	m := New(o)
	opts := []tea.ProgramOption{
		tea.WithFilter(Filter),
		tea.WithoutSignalHandler(),
		// 60 frames a second at most; a frame with one changed line costs
		// ≈1.3 ms, and nothing redraws while idle.
		tea.WithFPS(60),
	}
	if o.Palette.NoColor {
		// NO_COLOR: no colour reaches the terminal, whatever a component
		// or the terminal's own report would add.
		opts = append(opts, tea.WithColorProfile(colorprofile.ASCII))
	}
	if ro.Input != nil {
		opts = append(opts, tea.WithInput(ro.Input))
	}
	if ro.Output != nil {
		opts = append(opts, tea.WithOutput(ro.Output))
	}
	p := tea.NewProgram(&program{m: m}, opts...)

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
	var (
		closeParts = func() {}
		openErr    error
	)
	if ro.Open != nil {
		wg.Go(func() {
			parts, closeFn, err := openRecovered(ctx, ro.Open)
			if err == nil && closeFn != nil {
				closeParts = closeFn
			}
			openErr = err
			// Send returns at once if the program has already ended.
			p.Send(partsOpenedMsg{parts: parts, err: err})
		})
	}
	final, err := p.Run()
	close(stop)
	wg.Wait()
	signal.Stop(sigs)
	defer closeParts()
	if openErr != nil {
		return openErr
	}

	if fp, ok := final.(*program); ok {
		fm := fp.m
		// The program ended before interrupted turns did (quitGrace):
		// keep draining their channels for a while so the agent can
		// finish and save them; the agent's Close bounds the rest.
		var dw sync.WaitGroup
		for _, ch := range fm.chat.Unfinished() {
			dw.Go(func() { drainFor(ch, drainGrace) })
		}
		dw.Wait()
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

// openRecovered calls open, turning a panic into an error: it runs while
// the terminal is in raw mode, and a crash there would leave it so.
func openRecovered(ctx context.Context, open func(context.Context) (Parts, func(), error)) (parts Parts, closeFn func(), err error) {
	defer func() {
		if r := recover(); r != nil {
			parts, closeFn, err = Parts{}, nil, fmt.Errorf("tui: open: panic: %v", r)
		}
	}()
	return open(ctx)
}

// program is what Bubble Tea runs: the Model behind a pointer. A value
// Model returned as a tea.Model would be boxed into a new interface value,
// a heap copy of the whole Model (some 80 KB: the panes' text areas and
// key maps), at every message.
type program struct{ m Model }

func (p *program) Init() tea.Cmd { return p.m.Init() }

func (p *program) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	p.m, cmd = p.m.update(msg)
	return p, cmd
}

func (p *program) View() tea.View { return p.m.View() }
