package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDoctorCLI runs spindle doctor's backup and restore as a person would.
func TestDoctorCLI(t *testing.T) {
	bin := spindleBin(t)
	t.Run("backups are private", func(t *testing.T) { testBackupsArePrivate(t, bin) })
	t.Run("restore refuses a board in use", func(t *testing.T) { testRestoreRefusesInUse(t, bin) })
	t.Run("a config that does not load", func(t *testing.T) { testConfigThatDoesNotLoad(t, bin) })
	t.Run("backups show the time in their name", func(t *testing.T) { testBackupTimeFromName(t, bin) })
	t.Run("a refused restore says store once", func(t *testing.T) { testRestoreErrorOnePrefix(t, bin) })
	t.Run("--force needs --restore", func(t *testing.T) {
		_, stderr, code := runSpindle(t, bin, t.TempDir(), "doctor", "--force")
		if code == 0 || !strings.Contains(stderr, "--force only goes with --restore") {
			t.Errorf("doctor --force: exit %d, stderr %q", code, stderr)
		}
	})
}

// boardAndBackup makes a board with a card through the CLI and backs it up
// with doctor --backup, returning the paths of the board and the backup.
func boardAndBackup(t *testing.T, bin, home string) (board, backup string) {
	t.Helper()
	if _, stderr, code := runSpindle(t, bin, home, "kanban", "add", "in the backup"); code != 0 {
		t.Fatalf("kanban add: %s", stderr)
	}
	if _, stderr, code := runSpindle(t, bin, home, "doctor", "--backup"); code != 0 {
		t.Fatalf("doctor --backup: %s", stderr)
	}
	board = filepath.Join(home, "kanban.db")
	backups, _ := filepath.Glob(board + ".backup.*.bak")
	if len(backups) != 1 {
		t.Fatalf("backups = %v, want one", backups)
	}
	return board, backups[0]
}

func testBackupsArePrivate(t *testing.T, bin string) {
	home := t.TempDir()
	boardAndBackup(t, bin, home)
	// kanban.db only: the kanban commands leave state.db uncreated.
	files, _ := filepath.Glob(filepath.Join(home, "*.backup.*"))
	if len(files) != 1 {
		t.Fatalf("backup files = %v, want kanban.db's alone", files)
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want -rw-------", filepath.Base(f), st.Mode())
		}
	}
}

// testRestoreRefusesInUse: while another process has kanban.db open (here
// sleep(1) holding it on descriptor 3), doctor --restore exits non-zero,
// names the process and moves nothing; with --force it restores and warns.
func testRestoreRefusesInUse(t *testing.T, bin string) {
	home := t.TempDir()
	board, backup := boardAndBackup(t, bin, home)
	if _, stderr, code := runSpindle(t, bin, home, "kanban", "add", "after the backup"); code != 0 {
		t.Fatalf("kanban add: %s", stderr)
	}
	f, err := os.Open(board)
	if err != nil {
		t.Fatal(err)
	}
	holder := exec.Command("sleep", "600")
	holder.ExtraFiles = []*os.File{f}
	if err := holder.Start(); err != nil {
		t.Skipf("cannot run sleep: %v", err)
	}
	f.Close()
	defer func() {
		holder.Process.Kill()
		holder.Wait()
	}()
	pid := "pid " + strconv.Itoa(holder.Process.Pid) + " (sleep)"

	before, _ := os.ReadFile(board)
	stdout, stderr, code := runSpindle(t, bin, home, "doctor", "--restore", backup)
	if code == 0 || !strings.Contains(stderr, pid) || !strings.Contains(stderr, "--force") {
		t.Errorf("doctor --restore with the board in use: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(board); !bytes.Equal(after, before) {
		t.Error("a refused restore changed kanban.db")
	}
	if replaced, _ := filepath.Glob(board + ".replaced.*"); len(replaced) != 0 {
		t.Errorf("a refused restore moved the board aside: %v", replaced)
	}

	stdout, stderr, code = runSpindle(t, bin, home, "doctor", "--restore", backup, "--force")
	if code != 0 || !strings.Contains(stdout, "restored kanban.db") || !strings.Contains(stderr, "warning") || !strings.Contains(stderr, pid) {
		t.Errorf("doctor --restore --force: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	list, _, _ := runSpindle(t, bin, home, "kanban", "list")
	if !strings.Contains(list, "in the backup") || strings.Contains(list, "after the backup") {
		t.Errorf("the board after the forced restore:\n%s", list)
	}
}

// writeConfig writes config.toml in the runEnv's configuration directory
// and returns its path.
func writeConfig(t *testing.T, e *runEnv, text string) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(e.home), "config", "spindle")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testConfigThatDoesNotLoad: with config.toml broken (a string left
// open), doctor reports it as one of its checks, with the file and the
// line, still checks both databases, and exits non-zero; the kanban
// commands, which need no settings, work and warn on stderr; spindle run,
// which needs them, still refuses (the negative control: the file really
// does not load). A file that loads is "ok" and doctor exits 0.
func testConfigThatDoesNotLoad(t *testing.T, bin string) {
	e := newRunEnv(t, bin)
	cfg := writeConfig(t, e, "model = \"x\n")

	stdout, stderr, code := e.run(t, "", "doctor")
	if code == 0 || !strings.Contains(stdout, "config.toml: DOES NOT LOAD: "+cfg+":1:") ||
		!strings.Contains(stderr, "config.toml does not load") {
		t.Errorf("doctor with a broken config: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	for _, db := range []string{"kanban.db:", "state.db:"} {
		if !strings.Contains(stdout, db) {
			t.Errorf("doctor with a broken config did not check %s:\n%s", db, stdout)
		}
	}

	_, stderr, code = e.run(t, "", "kanban", "add", "still works")
	if code != 0 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "warning") || !strings.Contains(stderr, cfg+":1:") {
		t.Errorf("kanban add with a broken config: exit %d, stderr %q; want 0 and a one-line warning naming the file", code, stderr)
	}
	if stdout, _, code := e.run(t, "", "kanban", "list"); code != 0 || !strings.Contains(stdout, "still works") {
		t.Errorf("kanban list with a broken config: exit %d\n%s", code, stdout)
	}

	_, stderr, code = e.run(t, "", "run", "hello")
	if code != 1 || !strings.Contains(stderr, cfg+":1:") || strings.Contains(stderr, "warning") {
		t.Errorf("negative control: run with a broken config: exit %d, stderr %q; want it refused", code, stderr)
	}

	writeConfig(t, e, "model = \"x\"\n")
	stdout, stderr, code = e.run(t, "", "doctor")
	if code != 0 || !strings.Contains(stdout, "config.toml: ok: "+cfg) || stderr != "" {
		t.Errorf("doctor with a good config: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

// testBackupTimeFromName: the backups list shows when a file was made, the
// time in its name, not its modification time (for a replaced file, the
// last write to it as the database, before the restore).
func testBackupTimeFromName(t *testing.T, bin string) {
	e := newRunEnv(t, bin)
	e.extra = append(e.extra, "TZ=UTC")
	if _, stderr, code := e.run(t, "", "kanban", "add", "a card"); code != 0 {
		t.Fatalf("kanban add: %s", stderr)
	}
	replaced := filepath.Join(e.home, "kanban.db.replaced.20261130T232046.000000000Z")
	if err := os.WriteFile(replaced, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	written := time.Date(2026, 11, 30, 23, 20, 41, 0, time.UTC)
	if err := os.Chtimes(replaced, written, written); err != nil {
		t.Fatal(err)
	}
	stdout, _, _ := e.run(t, "", "doctor")
	if !strings.Contains(stdout, "replaced 2026-11-30 23:20:46 UTC  "+replaced) || strings.Contains(stdout, "23:20:41") {
		t.Errorf("the replaced file's time is not the one in its name:\n%s", stdout)
	}
}

// testRestoreErrorOnePrefix: a restore from a refused backup fails with
// one "store:" in its message, not "store: restore …: store: refusing …".
func testRestoreErrorOnePrefix(t *testing.T, bin string) {
	home := t.TempDir()
	if _, stderr, code := runSpindle(t, bin, home, "kanban", "add", "a card"); code != 0 {
		t.Fatalf("kanban add: %s", stderr)
	}
	bad, err := os.ReadFile(filepath.Join("testdata", "corrupt", "seed-bug-tls-at-5.db"))
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(home, "kanban.db.backup.by-hand.bak")
	if err := os.WriteFile(backup, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runSpindle(t, bin, home, "doctor", "--restore", backup)
	if code == 0 || !strings.Contains(stderr, "refusing") || strings.Count(stderr, "store:") != 1 {
		t.Errorf("doctor --restore from a refused backup: exit %d, stderr %q; want one \"store:\"", code, stderr)
	}
}
