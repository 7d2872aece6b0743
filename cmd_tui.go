package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/tui"
	"github.com/spindle-sh/spindle/tui/theme"
)

// runTUI is `spindle` with no subcommand: the full-screen UI. A refused board
// does not stop it (the kanban pane says why); a refused state.db does, since
// there is nowhere to keep the conversation.
func (a *app) runTUI(ctx context.Context) error {
	keys := keymap.Default()
	if err := keys.Apply(a.cfg.Keys); err != nil {
		return fmt.Errorf("config keys: %w", err)
	}
	state, err := a.openState()
	if err != nil {
		return err
	}
	defer state.Close()
	board, boardErr := a.openBoard()
	if boardErr != nil {
		a.logger.Warn("tui: board refused", "err", boardErr)
		board = nil
	}
	if board != nil {
		defer board.Close()
	}
	ep := agent.ResolveEndpoint(a.baseURL, a.model, a.cfg, os.Getenv)
	ag, err := agent.New(agent.Config{
		BaseURL:      ep.BaseURL,
		APIKey:       ep.APIKey,
		Model:        ep.Model,
		State:        state,
		Board:        board,
		Logger:       a.logger,
		StaleTimeout: a.cfg.StaleTimeout.Duration,
	})
	if err != nil {
		return err
	}
	// Close interrupts whatever still runs (shutdown_abort) and waits for
	// every worker, after the program has restored the terminal.
	defer ag.Close()
	return tui.Run(ctx, tui.Options{
		Context:  ctx,
		Agent:    ag,
		Sessions: state,
		Board:    board,
		BoardErr: boardErr,
		Keys:     keys,
		Palette:  theme.Default(),
		Logger:   a.logger,
		Continue: a.cont,
	}, tui.RunOptions{})
}
