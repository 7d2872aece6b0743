package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// private returns an error unless path is a regular file of mode 0600.
func private(path string) error {
	st, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		return fmt.Errorf("%s has mode %v, want -rw-------", filepath.Base(path), st.Mode())
	}
	return nil
}

// bigBoard makes a closed board of at least size bytes and returns its
// path.
func bigBoard(t *testing.T, size int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kanban.db")
	b, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("a body that takes room on its page. ", 40)
	for i := 0; ; i++ {
		if _, err := b.Create(context.Background(), "me", NewCard{Title: fmt.Sprintf("card %d", i), Body: body, Priority: PriorityNormal}); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 {
			var n int64
			if err := b.db.r.QueryRow("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n >= size {
				break
			}
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() < size {
		t.Fatalf("board is %v bytes, %v; want at least %d", st.Size(), err, size)
	}
	return path
}

// TestBackupsAndCopiesArePrivate: the databases are 0600 and so is every
// file made from them: a backup (VACUUM INTO would create it 0644 under
// the usual umask), a refused file's corrupt copy, and a restored file.
func TestBackupsAndCopiesArePrivate(t *testing.T) {
	// The check itself trips on a file of the usual mode.
	loose := filepath.Join(t.TempDir(), "loose")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if private(loose) == nil {
		t.Fatal("private accepted a 0644 file")
	}
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)

	ctx := context.Background()
	path, backup := boardWithBackup(t)
	for _, p := range []string{path, backup} {
		if err := private(p); err != nil {
			t.Error(err)
		}
	}
	aside, err := Restore(ctx, path, backup, BoardAppID)
	if err != nil {
		t.Fatal(err)
	}
	if err := private(path); err != nil {
		t.Errorf("restored file: %v", err)
	}
	if err := os.WriteFile(aside, bytes.Repeat([]byte{0x17}, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = OpenBoard(aside)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Backup == "" {
		t.Fatalf("OpenBoard(garbage) = %v", err)
	}
	if err := private(ce.Backup); err != nil {
		t.Errorf("corrupt copy: %v", err)
	}
}

// TestBackupOnAFullDiskLeavesNothing: a backup onto a file system that
// fills up fails, and leaves neither the backup nor a partial file behind
// for doctor to list. The file system is a 64 KiB tmpfs, which needs the
// right to mount.
func TestBackupOnAFullDiskLeavesNothing(t *testing.T) {
	full := t.TempDir()
	if err := syscall.Mount("tmpfs", full, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("mounting a 64 KiB tmpfs is not permitted here (%v); TestBackupOverFileSizeLimitLeavesNothing covers the same path", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(full, 0); err != nil {
			t.Errorf("unmount %s: %v", full, err)
		}
	})
	ctx := context.Background()
	path := bigBoard(t, 256<<10)
	b, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	dest := filepath.Join(full, "kanban.db.backup.bak")
	err = b.Backup(ctx, dest)
	if err == nil {
		t.Fatal("a 256 KiB backup fitted on a 64 KiB file system")
	}
	t.Logf("backup onto the full file system: %v", err)
	if entries, _ := os.ReadDir(full); len(entries) != 0 {
		t.Errorf("a failed backup left %v behind", entries)
	}
	// The negative control: the same backup fits elsewhere.
	if err := b.Backup(ctx, filepath.Join(t.TempDir(), "kanban.db.backup.bak")); err != nil {
		t.Fatalf("the board does not back up at all: %v", err)
	}
}

// backupUnderFileSizeLimit is the "backup-fsize" helper: with RLIMIT_FSIZE
// below the board's size (and SIGXFSZ ignored, so that a write past it
// fails with EFBIG instead of killing the process) it backs the board up to
// dest and prints the outcome.
func backupUnderFileSizeLimit(b *Board, dest string) int {
	signal.Ignore(syscall.SIGXFSZ)
	lim := syscall.Rlimit{Cur: 64 << 10, Max: 64 << 10}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		fmt.Println("error setrlimit", err)
		return 2
	}
	if err := b.Backup(context.Background(), dest); err != nil {
		fmt.Println("failed", err)
		return 0
	}
	fmt.Println("ok")
	return 0
}

// TestBackupOverFileSizeLimitLeavesNothing: the same as on a full disk, in
// a child process whose files may not grow past 64 KiB, which needs no
// privilege.
func TestBackupOverFileSizeLimitLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	path := bigBoard(t, 256<<10)
	destDir := t.TempDir()
	dest := filepath.Join(destDir, "kanban.db.backup.bak")
	t.Setenv("SPINDLE_STORE_DEST", dest)
	lines, err := startHelper(t, "backup-fsize", path, 0).wait()
	if err != nil || len(lines) != 2 || !strings.HasPrefix(lines[1], "failed") {
		t.Fatalf("child: %v, %q; want it to report a failed backup", err, lines)
	}
	t.Logf("child: %s", lines[1])
	if entries, _ := os.ReadDir(destDir); len(entries) != 0 {
		t.Errorf("a failed backup left %v behind", entries)
	}
}
