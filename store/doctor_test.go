package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBackupsTimeIsTheOneInTheName: a listed file was made at the time in
// its name (for a replaced file, the restore that moved it aside), not at
// its modification time, which for a replaced file is its last write as
// the database; a name without a time gives the modification time (the
// negative control: the two differ, so the check can tell them apart).
func TestBackupsTimeIsTheOneInTheName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kanban.db")
	lastWrite := time.Date(2026, 11, 30, 23, 20, 41, 0, time.UTC)
	stamped := time.Date(2026, 11, 30, 23, 20, 46, 123456789, time.UTC)
	files := map[string]time.Time{
		"kanban.db.replaced." + stamped.Format(fileStamp):                         stamped,
		"kanban.db.backup." + stamped.Add(time.Hour).Format(fileStamp) + ".bak":   stamped.Add(time.Hour),
		"kanban.db.corrupt." + stamped.Add(-time.Hour).Format(fileStamp) + ".bak": stamped.Add(-time.Hour),
		"kanban.db.backup.by-hand.bak":                                            lastWrite, // no time in the name
	}
	for name := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, lastWrite, lastWrite); err != nil {
			t.Fatal(err)
		}
	}
	list, err := Backups(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(files) {
		t.Fatalf("Backups listed %d files, want %d: %+v", len(list), len(files), list)
	}
	for _, f := range list {
		want := files[filepath.Base(f.Path)]
		if !f.Made.Equal(want) {
			t.Errorf("%s: made %v, want %v", filepath.Base(f.Path), f.Made, want)
		}
		if !f.ModTime.Equal(lastWrite) {
			t.Errorf("%s: ModTime %v, want %v", filepath.Base(f.Path), f.ModTime, lastWrite)
		}
	}
}

// scribbledBoard writes a board whose header is sound and whose b-tree
// pages 2..4 are garbage: only integrity_check or a read finds it.
func scribbledBoard(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kanban.db")
	b, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		mustCreate(t, b, fmt.Sprintf("card %d with a title long enough to fill pages", i), Todo)
	}
	b.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(binary.BigEndian.Uint16(data[16:]))
	for i := pageSize; i < 4*pageSize; i++ {
		data[i] = 0xA5
	}
	return data
}

// TestRefusalShowsTheHeaderOnlyWhenItIsAtFault: a file refused by
// integrity_check (or by SQLite, while open) under a sound header says so
// without "first 32 bytes: 53 51 4c 69 …", a dump of a header that is fine
// and reads as though it were the problem; a file refused for its header
// shows the bytes (the negative control: the same check sees them there).
func TestRefusalShowsTheHeaderOnlyWhenItIsAtFault(t *testing.T) {
	ctx := context.Background()
	data := scribbledBoard(t)

	inner := filepath.Join(t.TempDir(), "kanban.db")
	if err := os.WriteFile(inner, data, 0o600); err != nil {
		t.Fatal(err)
	}
	res := Check(ctx, inner, BoardAppID)
	var ce *CorruptError
	if !errors.As(res.Err, &ce) || !strings.Contains(res.Err.Error(), "integrity_check failed") {
		t.Fatalf("Check of a scribbled board = %v; want an integrity_check refusal", res.Err)
	}
	if strings.Contains(res.Err.Error(), "first 32 bytes") || ce.Head != nil {
		t.Errorf("an integrity_check refusal dumps the sound header: %v", res.Err)
	}
	if strings.Contains(res.Err.Error(), "\n") {
		t.Errorf("the integrity_check refusal is not one line: %q", res.Err)
	}

	head := filepath.Join(t.TempDir(), "kanban.db")
	bad := bytes.Clone(data)
	copy(bad[5:], []byte{0x17, 0x03, 0x03, 0x00, 0x13})
	if err := os.WriteFile(head, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	res = Check(ctx, head, BoardAppID)
	if !errors.Is(res.Err, ErrCorrupt) || !strings.Contains(res.Err.Error(), "first 32 bytes: 53 51 4c 69 74 17 03 03 00 13") {
		t.Errorf("negative control: a header refusal does not show the header: %v", res.Err)
	}

	// While open: SQLite meets the scribbled pages during a read.
	open := filepath.Join(t.TempDir(), "kanban.db")
	b, err := OpenBoard(open)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		mustCreate(t, b, fmt.Sprintf("card %d with a title long enough to fill pages", i), Todo)
	}
	b.Close() // checkpoints: every page is in the main file now
	if b, err = OpenBoard(open); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	pageSize := int64(binary.BigEndian.Uint16(data[16:]))
	damageFile(t, open, pageSize, bytes.Repeat([]byte{0xA5}, 3*int(pageSize)))
	_, err = b.List(ctx, false)
	ce = wantDamage(t, "List over scribbled pages", err)
	if strings.Contains(err.Error(), "first 32 bytes") || ce.Head != nil {
		t.Errorf("damage found by SQLite under a sound header dumps the header: %v", err)
	}
}

// TestRestoreErrorHasOnePrefix: a restore refused because the backup is
// refused reads "store: restore … from …: refusing …", with one "store:",
// and is still a *CorruptError underneath (the negative control: the
// backup's own refusal does carry the prefix, which a plain wrap repeats).
func TestRestoreErrorHasOnePrefix(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "kanban.db")
	b, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, b, "a card", Todo)
	b.Close()
	backup := filepath.Join(dir, "kanban.db.backup.by-hand.bak")
	if err := os.WriteFile(backup, scribbledBoard(t), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Restore(ctx, path, backup, BoardAppID)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Restore from a scribbled backup = %v; want ErrCorrupt", err)
	}
	if n := strings.Count(err.Error(), "store:"); n != 1 || !strings.HasPrefix(err.Error(), "store: restore ") {
		t.Errorf("the error has %d \"store:\" prefixes: %v", n, err)
	}
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.HasPrefix(ce.Error(), "store: ") {
		t.Errorf("negative control: the backup's own refusal %v lacks the prefix", ce)
	}
}
