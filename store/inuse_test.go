package store

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// holdOpen is the "hold" helper: the board stays open, idle, until the
// parent kills the process.
func holdOpen() int {
	time.Sleep(time.Hour)
	return 0
}

// boardWithBackup makes a board with one card and a backup of it, both
// closed, and returns their paths.
func boardWithBackup(t *testing.T) (path, backup string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "kanban.db")
	b, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, b, "in the backup", Todo)
	backup = BackupPath(path)
	if err := b.Backup(context.Background(), backup); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, b, "after the backup", Todo)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return path, backup
}

// holdBoard starts a child process that opens the board at path and keeps
// it open until the test ends.
func holdBoard(t *testing.T, path string) int {
	t.Helper()
	c := startHelper(t, "hold", path, 0)
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.wait()
	})
	select {
	case <-c.ready:
	case <-c.done:
		lines, err := c.wait()
		t.Fatalf("the holding child exited: %v %v", err, lines)
	}
	return c.cmd.Process.Pid
}

// withDetection runs fn with only the given ways of ProcessesUsing on.
func withDetection(t *testing.T, byProc, byLock bool, fn func()) {
	t.Helper()
	oldProc, oldLock := inUseByProc, inUseByLock
	inUseByProc, inUseByLock = byProc, byLock
	defer func() { inUseByProc, inUseByLock = oldProc, oldLock }()
	fn()
}

// dirState is the name, inode and content of every file in dir.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = strconv.FormatUint(st.Ino, 10) + ":" + string(data)
	}
	return out
}

func sameDirState(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRestoreRefusesABoardAnotherProcessHasOpen: a spindle process (a child
// that opened the board and sits idle) makes Restore refuse, naming its
// pid, and change nothing; each of the two ways of looking finds it alone,
// and with both switched off Restore goes ahead: the refusal comes from
// them. Once the child has gone, Restore works.
func TestRestoreRefusesABoardAnotherProcessHasOpen(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	ctx := context.Background()
	path, backup := boardWithBackup(t)
	dir := filepath.Dir(path)
	pid := holdBoard(t, path)

	before := dirState(t, dir)
	for _, way := range []struct {
		name           string
		byProc, byLock bool
	}{{"both", true, true}, {"/proc only", true, false}, {"locks only", false, true}} {
		withDetection(t, way.byProc, way.byLock, func() {
			aside, err := Restore(ctx, path, backup, BoardAppID)
			var iu *InUseError
			if !errors.Is(err, ErrInUse) || !errors.As(err, &iu) {
				t.Fatalf("%s: Restore while pid %d has the board open = %q, %v; want an *InUseError", way.name, pid, aside, err)
			}
			if len(iu.Processes) != 1 || iu.Processes[0].PID != pid {
				t.Errorf("%s: processes = %v, want pid %d alone", way.name, iu.Processes, pid)
			}
			if want := "pid " + strconv.Itoa(pid); !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not name %q", way.name, err, want)
			}
		})
	}
	if after := dirState(t, dir); !sameDirState(before, after) {
		t.Errorf("a refused restore changed the directory:\nbefore %v\nafter  %v", keys(before), keys(after))
	}

	// The negative control: without either way of looking, the child is
	// not seen and the restore goes ahead under it, as it used to.
	withDetection(t, false, false, func() {
		procs, err := ProcessesUsing(path)
		if err != nil || len(procs) != 0 {
			t.Fatalf("ProcessesUsing with both ways off = %v, %v", procs, err)
		}
	})
	aside, err := ForceRestore(ctx, path, backup, BoardAppID)
	if err != nil || aside == "" {
		t.Fatalf("ForceRestore = %q, %v", aside, err)
	}
	// The child still has the file moved aside open: that is what the
	// refusal is about.
	if procs, err := ProcessesUsing(aside); err != nil || len(procs) != 1 || procs[0].PID != pid {
		t.Errorf("ProcessesUsing(aside) = %v, %v; want pid %d", procs, err, pid)
	}
	if procs, err := ProcessesUsing(path); err != nil || len(procs) != 0 {
		t.Errorf("ProcessesUsing(restored file) = %v, %v; want none", procs, err)
	}
}

// TestRestoreWorksOnceTheOtherProcessHasGone: the refusal ends with the
// process; a board nobody has open is restored.
func TestRestoreWorksOnceTheOtherProcessHasGone(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	ctx := context.Background()
	path, backup := boardWithBackup(t)
	c := startHelper(t, "hold", path, 0)
	<-c.ready
	if _, err := Restore(ctx, path, backup, BoardAppID); !errors.Is(err, ErrInUse) {
		c.cmd.Process.Kill()
		c.wait()
		t.Fatalf("Restore with the child running = %v, want ErrInUse", err)
	}
	c.cmd.Process.Kill()
	c.wait()
	if aside, err := Restore(ctx, path, backup, BoardAppID); err != nil || aside == "" {
		t.Fatalf("Restore after the child died = %q, %v", aside, err)
	}
	b, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if cards, err := b.List(ctx, false); err != nil || len(cards) != 1 || cards[0].Title != "in the backup" {
		t.Errorf("restored board = %+v, %v", cards, err)
	}
}

// TestProcessesUsingSeesAFileOpenWithoutLocks: a process that has the
// database open but holds no SQLite lock (here sleep(1) with the file on
// descriptor 3; a spindle process between reading the header and its first
// query looks the same) is found through /proc, and only through it.
func TestProcessesUsingSeesAFileOpenWithoutLocks(t *testing.T) {
	path, _ := boardWithBackup(t)
	for _, suffix := range []string{"", "-journal"} {
		target := path + suffix
		if suffix != "" {
			if err := os.WriteFile(target, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		f, err := os.Open(target)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sleep", "600")
		cmd.ExtraFiles = []*os.File{f}
		if err := cmd.Start(); err != nil {
			t.Skipf("cannot run sleep: %v", err)
		}
		// No SQLite connection of this process has the file open.
		f.Close()
		pid := cmd.Process.Pid
		procs, err := ProcessesUsing(path)
		if err != nil || len(procs) != 1 || procs[0].PID != pid || procs[0].Name != "sleep" {
			t.Errorf("%s open in pid %d: ProcessesUsing = %v, %v; want pid %d (sleep)", filepath.Base(target), pid, procs, err, pid)
		}
		withDetection(t, false, true, func() {
			if procs, err := ProcessesUsing(path); err != nil || len(procs) != 0 {
				t.Errorf("%s: the lock probe alone found %v, %v; it cannot see a process without locks", filepath.Base(target), procs, err)
			}
		})
		cmd.Process.Kill()
		cmd.Wait()
	}
	if procs, err := ProcessesUsing(path); err != nil || len(procs) != 0 {
		t.Errorf("after the processes ended: ProcessesUsing = %v, %v", procs, err)
	}
}

// TestProcessesUsingRefusesAFileOpenHere: asking about a file this process
// has open would drop its locks (the probe opens and closes the file).
func TestProcessesUsingRefusesAFileOpenHere(t *testing.T) {
	b := openTestBoard(t)
	if _, err := ProcessesUsing(b.Path()); err == nil || !strings.Contains(err.Error(), "open in this process") {
		t.Errorf("ProcessesUsing(open board) = %v", err)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"("+strconv.Itoa(len(v))+")")
	}
	return out
}
