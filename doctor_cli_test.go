package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDoctorCLI runs spindle doctor's backup and restore as a person would.
func TestDoctorCLI(t *testing.T) {
	bin := spindleBin(t)
	t.Run("backups are private", func(t *testing.T) { testBackupsArePrivate(t, bin) })
	t.Run("restore refuses a board in use", func(t *testing.T) { testRestoreRefusesInUse(t, bin) })
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
