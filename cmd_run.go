package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
)

// maxStdinPrompt bounds a prompt read from stdin.
const maxStdinPrompt = 1 << 20

// runCmd is `spindle run`: one prompt, the reply streamed to stdout.
func (a *app) runCmd() *cobra.Command {
	var sessionID int64
	cmd := &cobra.Command{
		Use:   `run [--session ID] "prompt" | -`,
		Short: "Send one prompt and stream the reply to stdout (no UI)",
		Long: `run sends one prompt to the model and streams the reply to stdout as it
arrives; "-" reads the prompt from stdin. The exchange is saved in a new session,
or appended to --session ID. Tool activity goes to stderr, so stdout holds only
the reply (with terminal escape sequences and control characters removed).

Ctrl-C (SIGINT) stops the reply at once: what had arrived is printed and kept,
"interrupted" goes to stderr, and the exit status is 130.

With no endpoint configured, the offline demo model answers.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New(`run: no prompt: give one ("spindle run \"prompt\"") or "-" to read it from stdin`)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("session") && sessionID <= 0 {
				return fmt.Errorf("run: --session %d: session IDs start at 1", sessionID)
			}
			return a.run(cmd, sessionID, args)
		},
	}
	cmd.Flags().Int64Var(&sessionID, "session", 0, "append to this session instead of starting a new one")
	a.agentFlags(cmd)
	return cmd
}

func (a *app) run(cmd *cobra.Command, sessionID int64, args []string) error {
	ctx := cmd.Context()
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()

	prompt := strings.Join(args, " ")
	if len(args) == 1 && args[0] == "-" {
		b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxStdinPrompt+1))
		if err != nil {
			return fmt.Errorf("run: read the prompt from stdin: %w", err)
		}
		if len(b) > maxStdinPrompt {
			return fmt.Errorf("run: the prompt on stdin is longer than %d bytes", maxStdinPrompt)
		}
		prompt = string(b)
	}
	if strings.TrimSpace(prompt) == "" {
		return errors.New("run: empty prompt")
	}

	// Catch SIGINT before anything can stream, so that an early Ctrl-C
	// still takes the abort path instead of killing the process.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)

	st, err := a.openState()
	if err != nil {
		if errors.Is(err, store.ErrCorrupt) {
			return fmt.Errorf("run: %w; see \"spindle doctor\"", err)
		}
		return fmt.Errorf("run: %w", err)
	}
	defer st.Close()
	board, err := a.openBoard()
	if err != nil {
		// Chat still works; the kanban tools report the board unavailable.
		fmt.Fprintf(stderr, "spindle: the kanban board is unavailable (%v); continuing without it\n", err)
		board = nil
	} else {
		defer board.Close()
	}

	proj, err := a.openProject()
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	ag, err := a.newAgent(st, board, proj)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	defer ag.Close()

	if model, picked, err := ag.ResolveModel(ctx); err != nil {
		return fmt.Errorf("run: %w", err)
	} else if picked {
		fmt.Fprintf(stderr, "spindle: no model configured; using %s, the first the endpoint lists (set one with --model or SPINDLE_MODEL)\n", sanitize.Line(model))
	}
	var sess store.Session
	if sessionID > 0 {
		sess, err = st.Session(ctx, sessionID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("run: session %d not found", sessionID)
		}
	} else {
		sess, err = st.StartSession(ctx, store.NewSession{Kind: store.SessionRun})
	}
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}

	events, err := ag.Send(context.WithoutCancel(ctx), sess.ID, prompt)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	err = streamToTerminal(ctx, events, sigs, func() { ag.Interrupt(sess.ID) }, stdout, stderr)
	var ee exitError
	if err == nil || errors.As(err, &ee) {
		// Where the exchange was saved, so that it can be continued. (A
		// failure is one line on stderr, the error, and nothing else.)
		fmt.Fprintf(stderr, "session %d (continue it with: spindle run --session %d \"...\")\n", sess.ID, sess.ID)
	}
	return err
}

// streamToTerminal prints a turn's events: text to stdout (filtered), tool
// activity to stderr. A signal or ctx's end interrupts the turn; the loop
// still waits for the terminal event, so that what arrived is printed.
func streamToTerminal(ctx context.Context, events <-chan agent.Event, sigs <-chan os.Signal, interrupt func(), stdout, stderr io.Writer) error {
	var f sanitize.Stream
	var last byte = '\n'
	var werr error // the first failed write to stdout; the reply is still saved
	write := func(s string) {
		if s == "" || werr != nil {
			return
		}
		if _, werr = io.WriteString(stdout, s); werr == nil {
			last = s[len(s)-1]
		}
	}
	endLine := func() {
		if last != '\n' {
			write("\n")
		}
	}
	// finish ends the loop with err, unless the reply could not be
	// printed: that is the error then, since what the person asked for
	// did not reach them (state.db has it).
	finish := func(err error) error {
		write(f.Flush())
		endLine()
		if werr != nil {
			return fmt.Errorf("run: write the reply to stdout: %w", werr)
		}
		return err
	}
	// Signals are watched on their own goroutine, so that Ctrl-C aborts the
	// turn even while a write to stdout blocks (a paused terminal, a pipe
	// nobody drains).
	quit, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		done := ctx.Done()
		for {
			select {
			case <-sigs:
				interrupt()
			case <-done:
				done = nil
				interrupt()
			case <-quit:
				return
			}
		}
	}()
	defer func() { close(quit); <-watched }()

	for ev := range events {
		switch ev := ev.(type) {
		case agent.Delta:
			write(f.Write(ev.Text))
		case agent.ApprovalNeeded:
			// Nobody is at a screen to ask: the call is denied, the model
			// is told, and stderr says how to allow it next time.
			ev.Answer(approval.Decision{Answer: approval.Deny, Rule: "spindle run",
				Note: "spindle run cannot ask; the person can allow it with --yolo or an allow rule in the config"})
			endLine()
			fmt.Fprintf(stderr, "✗ %s not run: it needs approval, which spindle run cannot ask for (--yolo or an allow rule allows it): %s\n",
				sanitize.Line(ev.Request.Tool), oneLineClip(ev.Request.Summary, 200))
		case agent.ToolCall:
			write(f.Flush()) // the reply before a tool call is a message of its own
			endLine()
			fmt.Fprintf(stderr, "→ %s %s\n", sanitize.Line(ev.Name), oneLineClip(tool.Describe(tool.Call{Name: ev.Name, Args: ev.Arguments}), 200))
		case agent.ToolResult:
			mark := "✓"
			if ev.Result.Err || ev.Result.Unsuccessful {
				mark = "✗"
			}
			fmt.Fprintf(stderr, "%s %s\n", mark, oneLineClip(resultLine(ev.Name, ev.Result.ScreenText()), 200))
		case agent.Done:
			return finish(nil)
		case agent.Interrupted:
			if err := finish(nil); err != nil {
				return err
			}
			if ev.Reason == "stale_abort" {
				fmt.Fprintln(stderr, "interrupted: no data from the server for too long (stale_abort)")
				return exitError{code: 1}
			}
			fmt.Fprintln(stderr, "interrupted")
			return exitError{code: 130}
		case agent.Failed:
			return finish(fmt.Errorf("run: %w", ev.Err))
		}
	}
	return errors.New("run: the reply ended without a final status")
}

// oneLineClip folds s onto one line and cuts it to n bytes, for stderr.
func oneLineClip(s string, n int) string {
	s = sanitize.Line(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// resultLine is a tool result as spindle run's stderr shows it: the
// tool's name, then its screen text, which often starts with the name
// already ("ls ./: 2 entries") and then does not repeat it.
func resultLine(name, screen string) string {
	if first, _, _ := strings.Cut(screen, " "); first == name {
		return screen
	}
	return name + " " + screen
}
