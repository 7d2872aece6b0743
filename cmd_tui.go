package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spindle-sh/spindle/dispatch"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/tui"
	"github.com/spindle-sh/spindle/tui/theme"
)

// runTUI is `spindle` with no subcommand: the full-screen UI. The databases
// and the agent are opened after the first frame (openTUIParts), so the
// screen appears as soon as the process has started.
func (a *app) runTUI(ctx context.Context) error {
	if err := needTerminal(); err != nil {
		return err
	}
	keys := keymap.Default()
	if err := keys.Apply(a.cfg.Keys); err != nil {
		return fmt.Errorf("config keys: %w", err)
	}
	palette, follow := theme.For(a.cfg.ThemeOrDefault(), theme.NoColorSet(os.Getenv))
	return tui.Run(ctx, tui.Options{
		Context:     ctx,
		Keys:        keys,
		Palette:     palette,
		FollowTheme: follow,
		Logger:      a.logger,
		Continue:    a.cont,
		Yolo:        a.yolo || a.cfg.Yolo,
		NoMouse:     !a.cfg.MouseOrDefault(),
	}, tui.RunOptions{Open: a.openTUIParts})
}

// openTUIParts opens state.db, the board and the agent. A refused board does
// not stop the UI (the kanban pane says why); a refused state.db does, since
// there is nowhere to keep the conversation, and its error points to
// spindle doctor as the other commands' do. The returned function closes
// them in reverse order: the agent first, which interrupts whatever still
// runs (shutdown_abort) and waits for every worker.
func (a *app) openTUIParts(context.Context) (tui.Parts, func(), error) {
	state, err := a.openState()
	if err != nil {
		return tui.Parts{}, nil, hintDoctor(err)
	}
	board, boardErr := a.openBoard()
	if boardErr != nil {
		a.logger.Warn("tui: board refused", "err", boardErr)
		board = nil
	}
	closeStores := func() {
		if board != nil {
			board.Close()
		}
		state.Close()
	}
	proj, err := a.openProject()
	if err != nil {
		closeStores()
		return tui.Parts{}, nil, err
	}
	ag, err := a.newAgent(state, board, proj)
	if err != nil {
		closeStores()
		return tui.Parts{}, nil, err
	}
	parts := tui.Parts{Agent: ag, Sessions: state, BoardErr: boardErr, Rules: proj.policy}
	stopWorkers := func() {}
	if board != nil {
		parts.Board = board
		// The dispatcher runs the cards assigned to the agent while the
		// shell is open; closing stops its workers (their cards go back to
		// To do, their claims released) before the agent closes.
		d := dispatch.New(dispatch.Config{
			Board: board, Agent: ag, Sessions: state, Tools: proj.tools,
			MaxWorkers: a.cfg.MaxWorkersOrDefault(), ApprovalTimeout: a.cfg.ApprovalTimeoutOrDefault(), Logger: a.logger,
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); d.Run(ctx) }()
		stopWorkers = func() { cancel(); <-done }
		parts.Dispatcher = d
	}
	return parts, func() {
		stopWorkers()
		ag.Close()
		closeStores()
	}, nil
}

// errNoTerminal is what `spindle` says when it has no terminal to draw on
// (a cron job, CI, ssh without -t), instead of Bubble Tea's TTY error.
var errNoTerminal = errors.New(`the full-screen shell needs a terminal and there is none here; in scripts use: spindle run "prompt" (see spindle --help)`)

// needTerminal checks that the process has a controlling terminal, which is
// what Bubble Tea opens when stdin is not one.
func needTerminal() error {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return errNoTerminal
	}
	return f.Close()
}
