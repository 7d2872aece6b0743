package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
)

// cliActor is the actor recorded for changes made from the command line.
const cliActor = store.ActorMe

// kanbanCmd is `spindle kanban`: the board from the shell, for scripts.
// Output goes to stdout; errors are one line on stderr with a non-zero exit.
func (a *app) kanbanCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kanban",
		Short: "Read and edit the kanban board from the shell",
		Long: `Read and edit the kanban board (kanban.db in the data directory) from the shell.
Every change is recorded in the card's history and can be undone.

Statuses: todo, running, blocked, review, done, archived.
Priorities: low, normal, high, urgent (or 0..3).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	// Every kanban command's flag errors read like its other errors
	// (cobra looks the function up from the command to the root).
	cmd.SetFlagErrorFunc(flagError)
	cmd.AddCommand(
		a.kanbanListCmd(),
		a.kanbanAddCmd(),
		a.kanbanMoveCmd(),
		a.kanbanEditCmd(),
		a.kanbanShowCmd(),
		a.kanbanRmCmd(),
		a.kanbanUndoCmd(),
		a.kanbanStopCmd(),
	)
	return cmd
}

// withBoard opens the board, runs fn and closes it. A refused board is
// reported with a pointer to spindle doctor.
func (a *app) withBoard(fn func(b *store.Board) error) error {
	b, err := a.openBoard()
	if err != nil {
		if errors.Is(err, store.ErrCorrupt) {
			return fmt.Errorf("%w; see \"spindle doctor\"", err)
		}
		return err
	}
	err = fn(b)
	if cerr := b.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// exactArgs is cobra.ExactArgs with an error a person can act on: it names
// the command and the arguments its usage line asks for, e.g.
// `kanban move: want ID STATUS, got 1 argument; see "spindle kanban move --help"`.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		path := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
		want := strings.TrimSpace(strings.TrimPrefix(cmd.Use, cmd.Name()))
		noun := "arguments"
		if len(args) == 1 {
			noun = "argument"
		}
		return fmt.Errorf("%s: want %s, got %d %s; see %q", path, want, len(args), noun, cmd.CommandPath()+" --help")
	}
}

// argError prefixes an argument's error with the command: "kanban move:
// card id must be a number, got "abc"".
func argError(cmd *cobra.Command, err error) error {
	return fmt.Errorf("%s: %w", strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" "), err)
}

// parseID reads a card id argument ("12" or "#12").
func parseID(s string) (int64, error) {
	return parseNumber("card id", strings.TrimPrefix(s, "#"), s, 1)
}

// parseNumber reads the decimal number s (shown as raw in errors) named
// what, at least least: `card id must be a number, got "abc"`.
func parseNumber(what, s, raw string, least int64) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%s %q is too large", what, raw)
	case err != nil:
		return 0, fmt.Errorf("%s must be a number, got %q", what, raw)
	case n < least:
		return 0, fmt.Errorf("%s must be %d or more, got %q", what, least, raw)
	}
	return n, nil
}

// numberFlag is an int64 flag whose bad value is reported in words
// (`kanban undo: --event: event id must be a number, got "abc"`) rather
// than as strconv's error. It implements pflag.Value.
type numberFlag struct {
	p     *int64
	name  string // the flag's name, for the error
	what  string // what the number is, for the error
	least int64
}

// addNumberFlag adds a numberFlag to cmd.
func addNumberFlag(cmd *cobra.Command, p *int64, name, what string, least int64, usage string) {
	cmd.Flags().Var(numberFlag{p: p, name: name, what: what, least: least}, name, usage)
}

func (f numberFlag) String() string { return strconv.FormatInt(*f.p, 10) }
func (f numberFlag) Type() string   { return "int" }
func (f numberFlag) Set(s string) error {
	n, err := parseNumber(f.what, s, s, f.least)
	if err != nil {
		return &badFlagValue{fmt.Errorf("--%s: %w", f.name, err)}
	}
	*f.p = n
	return nil
}

// badFlagValue is a numberFlag's error, which flagError shows without
// pflag's `invalid argument "abc" for "--event" flag:` around it.
type badFlagValue struct{ err error }

func (e *badFlagValue) Error() string { return e.err.Error() }
func (e *badFlagValue) Unwrap() error { return e.err }

// flagError is the kanban and work commands' flag error, prefixed with
// the command as their other errors are.
func flagError(cmd *cobra.Command, err error) error {
	var bad *badFlagValue
	if errors.As(err, &bad) {
		return argError(cmd, bad.err)
	}
	return fmt.Errorf("%w; see %q", argError(cmd, err), cmd.CommandPath()+" --help")
}

// parseAssignee reads --assignee, naming the allowed values when it is
// none of them.
func parseAssignee(s string) (store.Assignee, error) {
	switch a := store.Assignee(s); a {
	case store.Me, store.AgentAssignee:
		return a, nil
	}
	return "", fmt.Errorf("unknown assignee %q (want %s or %s)", s, store.Me, store.AgentAssignee)
}

// cardErr turns a store error about card id into a short message.
func cardErr(op string, id int64, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("kanban %s: card %d not found", op, id)
	}
	return fmt.Errorf("kanban %s: %w", op, err)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (a *app) kanbanListCmd() *cobra.Command {
	var asJSON, all bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the cards, column by column",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withBoard(func(b *store.Board) error {
				cards, err := b.List(cmd.Context(), all)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if asJSON {
					if cards == nil {
						cards = []store.Card{}
					}
					return writeJSON(out, cards)
				}
				if len(cards) == 0 {
					return emptyBoard(cmd.Context(), out, b, all)
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tPRIORITY\tASSIGNEE\tTITLE")
				for _, c := range cards {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", c.ID, c.Status, c.Priority, c.Assignee, sanitize.Line(c.Title))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the cards as a JSON array")
	cmd.Flags().BoolVar(&all, "all", false, "include archived cards")
	return cmd
}

// emptyBoard says that list found no card, and how to add one, or that
// the only cards are archived.
func emptyBoard(ctx context.Context, out io.Writer, b *store.Board, all bool) error {
	if !all {
		cards, err := b.List(ctx, true)
		if err != nil {
			return err
		}
		if n := len(cards); n > 0 {
			_, err := fmt.Fprintf(out, "No cards outside the archive (%d archived: kanban list --all shows them).\n", n)
			return err
		}
	}
	_, err := fmt.Fprintln(out, "The board is empty. Add a card with: spindle kanban add \"TITLE\"")
	return err
}

func (a *app) kanbanAddCmd() *cobra.Command {
	var body, status, priority, assignee string
	cmd := &cobra.Command{
		Use:   "add TITLE",
		Short: "Add a card at the end of its column and print its id",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			nc := store.NewCard{Title: args[0], Body: body}
			var err error
			if nc.Assignee, err = parseAssignee(assignee); err != nil {
				return fmt.Errorf("kanban add: %w", err)
			}
			if nc.Status, err = store.ParseStatus(status); err != nil {
				return fmt.Errorf("kanban add: %w", err)
			}
			if nc.Priority, err = store.ParsePriority(priority); err != nil {
				return fmt.Errorf("kanban add: %w", err)
			}
			return a.withBoard(func(b *store.Board) error {
				c, err := b.Create(cmd.Context(), cliActor, nc)
				if err != nil {
					return fmt.Errorf("kanban add: %w", err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), c.ID)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&body, "body", "", "card body")
	f.StringVar(&status, "status", "todo", "column")
	f.StringVar(&priority, "priority", "normal", "low, normal, high or urgent")
	f.StringVar(&assignee, "assignee", "me", "me or agent")
	return cmd
}

func (a *app) kanbanMoveCmd() *cobra.Command {
	var position int64
	cmd := &cobra.Command{
		Use:   "move ID STATUS",
		Short: "Move a card to another column (or reorder it with --position)",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return argError(cmd, err)
			}
			to, err := store.ParseStatus(args[1])
			if err != nil {
				return fmt.Errorf("kanban move: %w", err)
			}
			return a.withBoard(func(b *store.Board) error {
				c, err := b.Move(cmd.Context(), cliActor, id, to, int(position))
				if err != nil {
					return cardErr("move", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "moved %d to %s (position %d)\n", c.ID, c.Status, c.Position)
				return nil
			})
		},
	}
	position = -1
	addNumberFlag(cmd, &position, "position", "position", -1, "0-based position in the column (-1: the end)")
	return cmd
}

func (a *app) kanbanEditCmd() *cobra.Command {
	var title, body, priority, assignee string
	cmd := &cobra.Command{
		Use:   "edit ID",
		Short: "Change a card's title, body, priority or assignee",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return argError(cmd, err)
			}
			var p store.CardPatch
			f := cmd.Flags()
			if f.Changed("title") {
				p.Title = &title
			}
			if f.Changed("body") {
				p.Body = &body
			}
			if f.Changed("priority") {
				pr, err := store.ParsePriority(priority)
				if err != nil {
					return fmt.Errorf("kanban edit: %w", err)
				}
				p.Priority = &pr
			}
			if f.Changed("assignee") {
				as, err := parseAssignee(assignee)
				if err != nil {
					return fmt.Errorf("kanban edit: %w", err)
				}
				p.Assignee = &as
			}
			if p == (store.CardPatch{}) {
				return errors.New("kanban edit: nothing to change (use --title, --body, --priority or --assignee)")
			}
			return a.withBoard(func(b *store.Board) error {
				c, err := b.Edit(cmd.Context(), cliActor, id, p)
				if err != nil {
					return cardErr("edit", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "edited %d\n", c.ID)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&title, "title", "", "new title")
	f.StringVar(&body, "body", "", "new body")
	f.StringVar(&priority, "priority", "", "low, normal, high or urgent")
	f.StringVar(&assignee, "assignee", "", "me or agent")
	return cmd
}

// cardWithHistory is `kanban show --json`.
type cardWithHistory struct {
	store.Card
	Events []store.Event `json:"events"`
	Runs   []store.Run   `json:"runs"`
}

func (a *app) kanbanShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a card and its history",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return argError(cmd, err)
			}
			return a.withBoard(func(b *store.Board) error {
				ctx := cmd.Context()
				c, err := b.Get(ctx, id)
				if err != nil {
					return cardErr("show", id, err)
				}
				evs, err := b.Events(ctx, id)
				if err != nil {
					return cardErr("show", id, err)
				}
				runs, err := b.Runs(ctx, id)
				if err != nil {
					return cardErr("show", id, err)
				}
				out := cmd.OutOrStdout()
				if asJSON {
					if evs == nil {
						evs = []store.Event{}
					}
					if runs == nil {
						runs = []store.Run{}
					}
					return writeJSON(out, cardWithHistory{Card: c, Events: evs, Runs: runs})
				}
				fmt.Fprintf(out, "#%d %s\n", c.ID, sanitize.Line(c.Title))
				fmt.Fprintf(out, "status:   %s (position %d)\n", c.Status, c.Position)
				fmt.Fprintf(out, "priority: %s\n", c.Priority)
				fmt.Fprintf(out, "assignee: %s\n", c.Assignee)
				fmt.Fprintf(out, "created:  %s\n", c.CreatedAt.Format("2006-01-02 15:04:05"))
				fmt.Fprintf(out, "updated:  %s\n", c.UpdatedAt.Format("2006-01-02 15:04:05"))
				if !c.CompletedAt.IsZero() {
					fmt.Fprintf(out, "done:     %s\n", c.CompletedAt.Format("2006-01-02 15:04:05"))
				}
				if c.Body != "" {
					fmt.Fprintf(out, "\n%s\n", sanitize.String(c.Body))
				}
				fmt.Fprintln(out, "\nhistory:")
				for _, e := range evs {
					undone := ""
					if e.Undone {
						undone = " (undone)"
					}
					fmt.Fprintf(out, "  %s  %-9s %-5s %s%s\n", e.At.Format("2006-01-02 15:04:05"), e.Kind, sanitize.Line(e.Actor), sanitize.Line(e.Text), undone)
				}
				if len(runs) > 0 {
					fmt.Fprintln(out, "\nruns:")
					for _, r := range runs {
						took := "" // a running run says so once, as its outcome
						if !r.EndedAt.IsZero() {
							took = r.EndedAt.Sub(r.StartedAt).Round(time.Second).String()
						}
						line := fmt.Sprintf("  #%d  %s  %-8s %8s  session %d", r.ID, r.StartedAt.Format("2006-01-02 15:04:05"), r.Outcome, took, r.SessionID)
						if r.Error != "" {
							line += "  " + sanitize.Line(r.Error)
						}
						fmt.Fprintln(out, line)
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the card and its events as JSON")
	return cmd
}

func (a *app) kanbanRmCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rm ID",
		Short: "Delete a card (undo brings it back)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return argError(cmd, err)
			}
			return a.withBoard(func(b *store.Board) error {
				if err := b.Delete(cmd.Context(), cliActor, id); err != nil {
					return cardErr("rm", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted %d\n", id)
				return nil
			})
		},
	}
}

func (a *app) kanbanUndoCmd() *cobra.Command {
	var eventID, cardID int64
	cmd := &cobra.Command{
		Use:   "undo",
		Short: "Undo your latest change to the board (never the agent's)",
		Long: `undo reverts your own latest change to the board: one made from this
command line or in the shell's board pane. Changes made by the agent or by a
worker are not yours, and are only undone when you name them:

  spindle kanban undo --event ID   undo one change by its event id (see "kanban show")
  spindle kanban undo --card ID    undo the latest change to that card, whoever made it

A change that a later change to the same card depends on is refused, naming
the later one: undo that first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			if f.Changed("event") && f.Changed("card") {
				return errors.New("kanban undo: give --event or --card, not both")
			}
			return a.withBoard(func(b *store.Board) error {
				ctx := cmd.Context()
				var ev store.Event
				var err error
				switch {
				case f.Changed("event"):
					ev, err = b.UndoEvent(ctx, eventID)
				case f.Changed("card"):
					ev, err = undoCard(ctx, b, cardID)
				default:
					ev, err = b.Undo(ctx, cliActor)
				}
				var conflict *store.UndoConflictError
				switch {
				case errors.As(err, &conflict):
					return fmt.Errorf("kanban undo: card %d was changed later by %s (%s, event %d): undo that first with --event %d",
						conflict.Event.CardID, sanitize.Line(conflict.Later.Actor), sanitize.Line(describeEvent(conflict.Later)), conflict.Later.ID, conflict.Later.ID)
				case errors.Is(err, store.ErrNothingToUndo) && !f.Changed("event") && !f.Changed("card"):
					return errors.New("kanban undo: you have no change left to undo (changes by the agent are undone with --event or --card)")
				case errors.Is(err, store.ErrNothingToUndo):
					return errors.New("kanban undo: that change is already undone")
				case errors.Is(err, store.ErrNotFound) && f.Changed("event"):
					return fmt.Errorf("kanban undo: no event %d", eventID)
				case errors.Is(err, store.ErrNotFound):
					return fmt.Errorf("kanban undo: card %d has no history", cardID)
				case err != nil:
					return fmt.Errorf("kanban undo: %w", err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), "undone: "+sanitize.Line(describeUndo(ev)))
				return nil
			})
		},
	}
	addNumberFlag(cmd, &eventID, "event", "event id", 1, "undo this change (an event id from kanban show), whoever made it")
	addNumberFlag(cmd, &cardID, "card", "card id", 1, "undo the latest change to this card, whoever made it")
	return cmd
}

// undoCard undoes the latest live change to card id.
func undoCard(ctx context.Context, b *store.Board, id int64) (store.Event, error) {
	evs, err := b.Events(ctx, id)
	if err != nil {
		return store.Event{}, err
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if !evs[i].Undone {
			return b.UndoEvent(ctx, evs[i].ID)
		}
	}
	return store.Event{}, store.ErrNothingToUndo
}

// describeEvent is a change in words: "moved todo → review".
func describeEvent(e store.Event) string {
	switch e.Kind {
	case store.EventCreated:
		return "created it"
	case store.EventDeleted:
		return "deleted it"
	case store.EventCommented:
		return "commented"
	case store.EventEdited:
		return "edited " + e.Text
	case store.EventMoved:
		return "moved it " + e.Text
	}
	return string(e.Kind)
}

// describeUndo says what undoing ev did, naming who had made the change
// (the person as "you").
func describeUndo(ev store.Event) string {
	by, whose := ev.Actor, ev.Actor+"'s"
	if ev.Actor == store.ActorMe {
		by, whose = "you", "your"
	}
	switch ev.Kind {
	case store.EventCreated:
		return fmt.Sprintf("removed card %d %q, created by %s", ev.CardID, ev.Text, by)
	case store.EventDeleted:
		return fmt.Sprintf("restored card %d %q, deleted by %s", ev.CardID, ev.Text, by)
	case store.EventEdited:
		return fmt.Sprintf("reverted %s edit of card %d (%s)", whose, ev.CardID, ev.Text)
	case store.EventMoved:
		return fmt.Sprintf("moved card %d back (%s had moved it %s)", ev.CardID, by, ev.Text)
	case store.EventCommented:
		return fmt.Sprintf("withdrew %s comment on card %d", whose, ev.CardID)
	}
	return fmt.Sprintf("%s of card %d by %s", ev.Kind, ev.CardID, by)
}

func (a *app) kanbanStopCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "stop ID",
		Short: "Stop the agent worker running a card (it goes to Blocked)",
		Long: `stop asks the worker running card ID to stop, in whichever spindle process runs
it: the worker's request is interrupted through the abort path, what it did so far
is kept, and the card goes to Blocked with "stopped by you". stop waits a few
seconds for that and says where the card ended up.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return argError(cmd, err)
			}
			return a.withBoard(func(b *store.Board) error {
				ctx := cmd.Context()
				c, err := b.RequestStop(ctx, id)
				if errors.Is(err, store.ErrNotRunning) {
					card, gerr := b.Get(ctx, id)
					switch {
					case errors.Is(gerr, store.ErrNotFound):
						return fmt.Errorf("kanban stop: no card %d", id)
					case gerr != nil:
						return fmt.Errorf("kanban stop: %w", gerr)
					}
					return fmt.Errorf("kanban stop: no worker is running card %d (it is in %s)", id, card.Status)
				}
				if err != nil {
					return fmt.Errorf("kanban stop: %w", err)
				}
				out := cmd.OutOrStdout()
				fmt.Fprintf(out, "stop requested: card %d, run %d, process %d on %s\n", id, c.RunID, c.PID, sanitize.Line(c.Host))
				deadline := time.Now().Add(5 * time.Second)
				for time.Now().Before(deadline) {
					card, err := b.Get(ctx, id)
					if err != nil {
						return cardErr("stop", id, err)
					}
					if card.Status != store.Running {
						fmt.Fprintf(out, "card %d is now in %s\n", id, card.Status)
						return nil
					}
					time.Sleep(50 * time.Millisecond)
				}
				return fmt.Errorf("kanban stop: card %d is still running after 5 s; its process (%d on %s) may be stuck or gone (a dead one's claim is released by the next dispatcher)", id, c.PID, sanitize.Line(c.Host))
			})
		},
	}
}
