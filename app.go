package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/spindle-sh/spindle/config"
	"github.com/spindle-sh/spindle/store"
)

// exitError carries a process exit code through cobra without printing a
// second message; the command has already said what went wrong.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// app is what every subcommand shares: resolved flags, the data directory,
// the configuration file and the logger.
type app struct {
	dataDirFlag string
	baseURL     string
	model       string
	cont        bool
	cwd         string // --cwd: the project the file and shell tools work in
	yolo        bool   // --yolo: run tool calls without asking (deny rules still apply)

	cfg config.File
	// cfgErr is why config.toml did not load, for a command that needs
	// none of its settings and ran anyway (needsNoSettings); cfg is then
	// the defaults.
	cfgErr  error
	dataDir string
	logger  *slog.Logger
	logFile *os.File
}

// execute builds the command tree, runs it and returns the exit code. Errors
// are printed once, to stderr, as one line; never as a stack trace.
func execute(args []string) int {
	defer startCPUProfile(os.Getenv, os.Stderr)()
	a := &app{}
	root := a.rootCmd()
	root.SetArgs(args)
	// The first SIGTERM cancels ctx, so the shell and `spindle run` can
	// interrupt their stream and save it; it also restores the default
	// action, so a second SIGTERM ends a command that is stuck anyway.
	// SIGHUP (the terminal closed, the tmux session killed) is the same:
	// what was on screen is saved, not lost.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	context.AfterFunc(ctx, stop)
	err := root.ExecuteContext(ctx)
	a.close()
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "spindle:", err)
	return 1
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "spindle",
		Short: "A full-screen terminal agent shell: chat with an LLM beside a kanban board",
		Long: `spindle is a full-screen terminal agent shell. The chat pane streams an LLM's
reply token by token; the kanban pane is a task board you and the agent both
edit. Ctrl-C stops a stream at once.

With no endpoint configured, spindle talks to an offline demo model built into
the binary. To use a real one, set OPENAI_BASE_URL, OPENAI_API_KEY and
SPINDLE_MODEL, or pass --base-url and --model, or write them to ` + config.Path() + `.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setup(cmd)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runTUI(cmd.Context())
		},
	}
	f := root.PersistentFlags()
	f.StringVar(&a.dataDirFlag, "data-dir", "", "data directory (default $SPINDLE_HOME, else $XDG_DATA_HOME/spindle)")
	f.StringVar(&a.cwd, "cwd", "", "the project the agent's file and shell tools work in (default the current directory)")
	a.agentFlags(root)
	root.Flags().BoolVarP(&a.cont, "continue", "c", false, "resume the last session")
	root.AddCommand(
		a.kanbanCmd(),
		a.doctorCmd(),
		a.runCmd(),
		a.workCmd(),
		a.serveDemoCmd(),
		a.logsCmd(),
		a.versionCmd(root),
	)
	return root
}

// needsNoSettings are the subcommands that read none of config.toml's
// settings (the model, the endpoint, the tools' rules, the keys): a file
// that does not load must not lock a person out of their board, or out of
// the command that diagnoses it. They run with a warning; doctor reports
// the problem as one of its checks instead. The shell, run and work need
// the settings and refuse.
var needsNoSettings = map[string]bool{"kanban": true, "doctor": true, "logs": true, "serve-demo": true}

// subcommand is the name of the root's child that cmd is or is under; ""
// for the root itself.
func subcommand(cmd *cobra.Command) string {
	for ; cmd != nil && cmd.HasParent(); cmd = cmd.Parent() {
		if !cmd.Parent().HasParent() {
			return cmd.Name()
		}
	}
	return ""
}

// agentFlags adds the flags of the commands that talk to a model (the
// shell itself, run and work): the endpoint, the model and --yolo. They
// are each command's own, not inherited, so that kanban, doctor and the
// rest neither list nor take them; "spindle --yolo run" still works, as
// the shell's own flag lets cobra find run and run's takes the value.
func (a *app) agentFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&a.baseURL, "base-url", "", "OpenAI-compatible endpoint (default $OPENAI_BASE_URL, else the offline demo model)")
	f.StringVar(&a.model, "model", "", "model name (default $SPINDLE_MODEL)")
	f.BoolVar(&a.yolo, "yolo", false, "run the agent's tool calls without asking (deny rules still apply)")
}

// setup resolves the data directory, reads the configuration file and opens
// the log file. The log never goes to the terminal. A configuration file
// that does not load stops every command but those in needsNoSettings.
func (a *app) setup(cmd *cobra.Command) error {
	cfg, err := config.Load(config.Path())
	if err != nil {
		name := subcommand(cmd)
		if !needsNoSettings[name] {
			return err
		}
		a.cfgErr, cfg = err, config.File{}
		if name != "doctor" {
			fmt.Fprintf(cmd.ErrOrStderr(), "spindle: warning: %v; %s does not need the settings, but spindle, spindle run and spindle work will not start until it is fixed\n", err, name)
		}
	}
	a.cfg = cfg
	dir, err := config.DataDir(a.dataDirFlag)
	if err != nil {
		return err
	}
	a.dataDir = dir
	a.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := config.StateDir(); err != nil {
		return err
	}
	f, err := os.OpenFile(config.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	a.logFile = f
	a.logger = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	slog.SetDefault(a.logger)
	if a.cfgErr != nil {
		a.logger.Warn("config did not load; running without it", "command", cmd.CommandPath(), "err", a.cfgErr)
	}
	return nil
}

func (a *app) close() {
	if a.logFile != nil {
		a.logFile.Close()
	}
}

// boardPath and statePath are the two database files in the data directory.
func (a *app) boardPath() string { return filepath.Join(a.dataDir, "kanban.db") }
func (a *app) statePath() string { return filepath.Join(a.dataDir, "state.db") }

func (a *app) openBoard() (*store.Board, error) { return store.OpenBoard(a.boardPath()) }
func (a *app) openState() (*store.State, error) { return store.OpenState(a.statePath()) }
