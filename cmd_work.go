package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	"github.com/spindle-sh/spindle/config"
	"github.com/spindle-sh/spindle/dispatch"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
)

// workCmd is `spindle work`: the dispatcher without a UI.
func (a *app) workCmd() *cobra.Command {
	var untilIdle bool
	var maxWorkers int64
	cmd := &cobra.Command{
		Use:   "work",
		Short: "Run the cards assigned to the agent, without the UI",
		Long: `work runs the dispatcher on its own: cards in To do assigned to the agent (and
cards left in Running for the agent with no worker) are claimed, worked by agent
workers (at most --max-workers at once), and left in Review, or Blocked with the
reason. A worker stops when its card is given back to you, deleted, archived or
moved out of Running. It prints one line per event: a card claimed,
a run finished with its outcome, a crashed run recovered, a tool call denied.

Nobody is there to approve tool calls, so a call that needs approval is denied
(--yolo or an allow rule in the config allows it).

Ctrl-C (SIGINT) or SIGTERM stops every worker through the abort path, puts
their cards back in To do, releases their claims and exits 130.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("max-workers") && (maxWorkers < 1 || maxWorkers > config.MaxWorkersLimit) {
				return fmt.Errorf("work: --max-workers %d: want 1 to %d", maxWorkers, config.MaxWorkersLimit)
			}
			n := int(maxWorkers)
			if n == 0 {
				n = a.cfg.MaxWorkersOrDefault()
			}
			return a.work(cmd.Context(), cmd.OutOrStdout(), untilIdle, n)
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	a.agentFlags(cmd)
	cmd.Flags().BoolVar(&untilIdle, "until-idle", false, "exit 0 once no card is runnable and no worker runs")
	addNumberFlag(cmd, &maxWorkers, "max-workers", "the number of workers", math.MinInt64, "workers at once (default max_workers in the config, else 2)")
	return cmd
}

func (a *app) work(ctx context.Context, out io.Writer, untilIdle bool, maxWorkers int) error {
	// SIGINT as well as SIGTERM and SIGHUP (which ctx already has) stops
	// the workers.
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt)
	defer stopSignals()
	st, err := a.openState()
	if err != nil {
		return fmt.Errorf("work: %w", hintDoctor(err))
	}
	defer st.Close()
	board, err := a.openBoard()
	if err != nil {
		return fmt.Errorf("work: %w", hintDoctor(err))
	}
	defer board.Close()
	proj, err := a.openProject()
	if err != nil {
		return fmt.Errorf("work: %w", err)
	}
	ag, err := a.newAgent(st, board, proj)
	if err != nil {
		return fmt.Errorf("work: %w", err)
	}
	defer ag.Close()
	d := dispatch.New(dispatch.Config{
		Board: board, Agent: ag, Sessions: st, Tools: proj.tools, MaxWorkers: maxWorkers,
		ApprovalTimeout: a.cfg.ApprovalTimeoutOrDefault(), Logger: a.logger, NoAsk: true,
	})
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	done := make(chan struct{})
	go func() { d.Run(runCtx); close(done) }()

	interrupted := false
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case e := <-d.Events():
			fmt.Fprintln(out, describeWorkEvent(e))
			continue
		case <-ctx.Done():
			interrupted = true
		case <-tick.C:
			if untilIdle {
				idle, err := d.Idle(ctx)
				if err != nil {
					fmt.Fprintf(out, "work: %s\n", sanitize.Line(err.Error()))
				}
				if !idle {
					continue
				}
			} else {
				continue
			}
		}
		break
	}
	stop()
	<-done
	// What the workers said while stopping.
	for {
		select {
		case e := <-d.Events():
			fmt.Fprintln(out, describeWorkEvent(e))
			continue
		default:
		}
		break
	}
	if interrupted {
		return exitError{code: 130}
	}
	return nil
}

// describeWorkEvent is one line of spindle work's output.
func describeWorkEvent(e dispatch.Event) string {
	title := sanitize.Line(e.Title)
	switch e.Kind {
	case dispatch.Claimed:
		return fmt.Sprintf("claimed  #%d %s (run %d)", e.CardID, title, e.RunID)
	case dispatch.Finished:
		line := fmt.Sprintf("finished #%d %s: %s", e.CardID, title, e.Outcome)
		if e.To != "" && string(e.To) != string(e.Outcome) {
			line += ", card → " + string(e.To)
		}
		if t := sanitize.Line(e.Text); t != "" {
			line += " · " + oneLineClip(t, 160)
		}
		return line
	case dispatch.Recovered:
		return fmt.Sprintf("recovered #%d (run %d): %s", e.CardID, e.RunID, sanitize.Line(e.Text))
	case dispatch.Denied:
		return fmt.Sprintf("denied   #%d %s: %s (needs approval; --yolo or an allow rule allows it)", e.CardID, title, oneLineClip(e.Text, 160))
	}
	return fmt.Sprintf("%s #%d", e.Kind, e.CardID)
}

// hintDoctor adds the pointer to spindle doctor to a refused database.
func hintDoctor(err error) error {
	if errors.Is(err, store.ErrCorrupt) {
		return fmt.Errorf("%w; see \"spindle doctor\"", err)
	}
	return err
}
