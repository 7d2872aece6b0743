package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spindle-sh/spindle/config"
	"github.com/spindle-sh/spindle/store"
)

// database is one of the two files doctor looks after.
type database struct {
	name  string
	path  string
	appID uint32
}

func (a *app) databases() []database {
	return []database{
		{"kanban.db", a.boardPath(), store.BoardAppID},
		{"state.db", a.statePath(), store.StateAppID},
	}
}

// doctorCmd is `spindle doctor`: check both databases, list backups, write
// a backup, or restore one.
func (a *app) doctorCmd() *cobra.Command {
	var backup, force bool
	var restore string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the databases, list backups, back up or restore",
		Long: `Check config.toml (does it load; the file, line and problem if not) and
kanban.db and state.db in the data directory: the SQLite header (the
file is refused, never rewritten, if it is damaged) and PRAGMA integrity_check.
Lists the backups beside them: "backup" (written by --backup with VACUUM INTO),
"corrupt" (a copy of a refused file) and "replaced" (moved aside by --restore).

--restore refuses while another process has the database open, and names it:
that process would go on writing to the file moved aside. Stop it first, or
pass --force as well to restore anyway.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if backup && restore != "" {
				return errors.New("doctor: use --backup or --restore, not both")
			}
			if force && restore == "" {
				return errors.New("doctor: --force only goes with --restore")
			}
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			if restore != "" {
				if err := a.restore(ctx, out, cmd.ErrOrStderr(), restore, force); err != nil {
					return err
				}
				fmt.Fprintln(out)
			}
			refused, failed := a.checkAll(ctx, out)
			if backup {
				if err := a.backupAll(ctx, out); err != nil {
					return err
				}
			}
			a.listBackups(out)
			var problems []string
			if refused > 0 {
				problems = append(problems, fmt.Sprintf("%d database(s) refused; restore one with spindle doctor --restore BACKUP, or move the file away to start afresh", refused))
			}
			if failed > 0 {
				problems = append(problems, fmt.Sprintf("%d database(s) could not be checked (see above)", failed))
			}
			if a.cfgErr != nil {
				problems = append(problems, "config.toml does not load (see above): spindle, spindle run and spindle work will not start until it is fixed")
			}
			if len(problems) > 0 {
				return errors.New("doctor: " + strings.Join(problems, "; "))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&backup, "backup", false, "write a backup of each database with VACUUM INTO")
	cmd.Flags().StringVar(&restore, "restore", "", "restore a database from this backup file, after moving the current one aside")
	cmd.Flags().BoolVar(&force, "force", false, "with --restore: restore even while other processes have the database open (their later writes go to the file moved aside)")
	return cmd
}

// checkAll prints one line about the configuration file and one per
// database, and returns how many databases were refused (damaged) and how
// many could not be checked (unreadable, not a file). A configuration file
// that does not load is reported here (setup let doctor run without it).
func (a *app) checkAll(ctx context.Context, out io.Writer) (refused, failed int) {
	fmt.Fprintf(out, "data directory: %s\n", a.dataDir)
	fmt.Fprintf(out, "%-12s %s\n", "config.toml:", configCheck(config.Path(), a.cfgErr))
	for _, d := range a.databases() {
		res := store.Check(ctx, d.path, d.appID)
		switch {
		case errors.Is(res.Err, store.ErrCorrupt):
			refused++
			fmt.Fprintf(out, "%-12s REFUSED: %v\n", d.name+":", res.Err)
		case res.Err != nil:
			failed++
			fmt.Fprintf(out, "%-12s CHECK FAILED: %v\n", d.name+":", res.Err)
		case !res.Exists:
			fmt.Fprintf(out, "%-12s missing (created on first use)\n", d.name+":")
		case res.Size == 0:
			fmt.Fprintf(out, "%-12s empty (initialised on first use)\n", d.name+":")
		default:
			fmt.Fprintf(out, "%-12s ok: header valid, integrity_check ok, schema version %d, journal %s, %d bytes\n",
				d.name+":", res.SchemaVersion, res.JournalMode, res.Size)
		}
	}
	return refused, failed
}

// configCheck is doctor's line about the configuration file at path, given
// the error that loading it gave (nil if it loaded). The error names the
// file, the line and what is wrong; its "config: " prefix is the line's
// label already.
func configCheck(path string, err error) string {
	if err != nil {
		return "DOES NOT LOAD: " + strings.TrimPrefix(err.Error(), "config: ")
	}
	if _, serr := os.Stat(path); serr != nil {
		return "none at " + path + " (the defaults apply)"
	}
	return "ok: " + path
}

// backupAll writes a VACUUM INTO backup of each database that opens.
func (a *app) backupAll(ctx context.Context, out io.Writer) error {
	for _, d := range a.databases() {
		if _, err := os.Stat(d.path); err != nil {
			fmt.Fprintf(out, "%s: nothing to back up\n", d.name)
			continue
		}
		dest := store.BackupPath(d.path)
		err := backupOne(ctx, d, dest)
		if errors.Is(err, store.ErrCorrupt) {
			fmt.Fprintf(out, "%s: not backed up: the file is refused\n", d.name)
			continue
		}
		if err != nil {
			return fmt.Errorf("doctor: %w", err)
		}
		fmt.Fprintf(out, "%s: backed up to %s\n", d.name, dest)
	}
	return nil
}

// backupOne opens one database, writes a backup of it to dest and closes
// it; a failed close is reported too, since it follows a write.
func backupOne(ctx context.Context, d database, dest string) error {
	var db interface {
		Backup(context.Context, string) error
		Close() error
	}
	if d.appID == store.BoardAppID {
		b, err := store.OpenBoard(d.path)
		if err != nil {
			return err
		}
		db = b
	} else {
		s, err := store.OpenState(d.path)
		if err != nil {
			return err
		}
		db = s
	}
	err := db.Backup(ctx, dest)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", d.name, cerr)
	}
	return err
}

func (a *app) listBackups(out io.Writer) {
	fmt.Fprintln(out, "backups:")
	n := 0
	for _, d := range a.databases() {
		files, err := store.Backups(d.path)
		if err != nil {
			fmt.Fprintf(out, "  %s: %v\n", d.name, err)
			continue
		}
		for _, f := range files {
			n++
			// When it was made (the time in its name), not when it was
			// last written: a replaced file was last written as the
			// database, before the restore that moved it aside.
			fmt.Fprintf(out, "  %-8s %s  %s  %d bytes\n", f.Kind, f.Made.Local().Format("2006-01-02 15:04:05 MST"), f.Path, f.Size)
		}
	}
	if n == 0 {
		fmt.Fprintln(out, "  (none)")
	}
}

// restore puts a backup in place of the database it belongs to, which is
// told by its name (kanban.db.* or state.db.*) or else by its header. It
// refuses while another process has the database open unless force is set;
// then it warns on errOut.
func (a *app) restore(ctx context.Context, out, errOut io.Writer, backup string, force bool) error {
	if _, err := os.Stat(backup); err != nil {
		if alt := filepath.Join(a.dataDir, backup); alt != backup {
			if _, err2 := os.Stat(alt); err2 == nil {
				backup = alt
			}
		}
	}
	if _, err := os.Stat(backup); err != nil {
		return fmt.Errorf("doctor: restore: %w", err)
	}
	var target *database
	base := filepath.Base(backup)
	dbs := a.databases()
	for i := range dbs {
		if strings.HasPrefix(base, dbs[i].name+".") {
			target = &dbs[i]
		}
	}
	if target == nil {
		for i := range dbs {
			other := dbs[1-i]
			if store.ValidateHeader(backup, dbs[i].appID) == nil && store.ValidateHeader(backup, other.appID) != nil {
				target = &dbs[i]
			}
		}
	}
	if target == nil {
		return fmt.Errorf("doctor: restore: cannot tell whether %s is a kanban.db or a state.db backup", backup)
	}
	restore := store.Restore
	if force {
		restore = store.ForceRestore
		if procs, err := store.ProcessesUsing(target.path); err != nil {
			fmt.Fprintf(errOut, "spindle: warning: --force: cannot tell whether another process has %s open: %v\n", target.name, err)
		} else if len(procs) > 0 {
			fmt.Fprintf(errOut, "spindle: warning: --force: restoring %s while it is in use by %s; their writes from now on go to the file moved aside, not the restored one\n",
				target.name, joinProcesses(procs))
		}
	}
	aside, err := restore(ctx, target.path, backup, target.appID)
	var inUse *store.InUseError
	if errors.As(err, &inUse) {
		them, their := "it", "its"
		if len(inUse.Processes) > 1 {
			them, their = "them", "their"
		}
		return fmt.Errorf("doctor: %w: stop %s first (%s later writes would go to the file moved aside), or pass --force to restore anyway", err, them, their)
	}
	if err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	if aside != "" {
		fmt.Fprintf(out, "moved the current %s aside to %s\n", target.name, aside)
	}
	fmt.Fprintf(out, "restored %s from %s\n", target.name, backup)
	return nil
}

func joinProcesses(procs []store.Process) string {
	names := make([]string, len(procs))
	for i, p := range procs {
		names[i] = p.String()
	}
	return strings.Join(names, ", ")
}
