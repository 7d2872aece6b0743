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
)

// seedRecord is the seed bug's write: a 24-byte TLS application-data record
// that landed over bytes 5..28 of kanban.db.
var seedRecord = append([]byte{0x17, 0x03, 0x03, 0x00, 0x13}, bytes.Repeat([]byte{0xA7}, 19)...)

// damageFile writes b at off in path through a descriptor of its own, as
// the seed bug did. The descriptor stays open until the test ends, after
// the handles under test are closed (cleanups run last-in first-out):
// closing it earlier would drop this process's SQLite locks on the file.
func damageFile(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// fileSet is the content of a database and its -wal and -shm files ("" for
// a missing one).
func fileSet(t *testing.T, path string) [3]string {
	t.Helper()
	var out [3]string
	for i, suffix := range []string{"", "-wal", "-shm"} {
		data, err := os.ReadFile(path + suffix)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		out[i] = string(data)
	}
	return out
}

// wantDamage fails the test unless err is a *CorruptError for damage found
// while open that tells the person what to do.
func wantDamage(t *testing.T, what string, err error) *CorruptError {
	t.Helper()
	var ce *CorruptError
	if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("%s = %v; want a *CorruptError", what, err)
	}
	if !ce.WhileOpen || !strings.Contains(err.Error(), "stop every spindle process") || !strings.Contains(err.Error(), "spindle doctor") {
		t.Errorf("%s: %q does not say to stop spindle and run spindle doctor", what, err)
	}
	return ce
}

// boardWrites are every write a Board has, against card id.
func boardWrites(b *Board, id int64) map[string]func(context.Context) error {
	title := "edited"
	return map[string]func(context.Context) error{
		"Create": func(ctx context.Context) error {
			_, err := b.Create(ctx, "me", NewCard{Title: "after the damage", Priority: PriorityNormal})
			return err
		},
		"Edit": func(ctx context.Context) error {
			_, err := b.Edit(ctx, "me", id, CardPatch{Title: &title})
			return err
		},
		"Move":    func(ctx context.Context) error { _, err := b.Move(ctx, "me", id, Done, -1); return err },
		"Comment": func(ctx context.Context) error { _, err := b.Comment(ctx, "me", id, "a comment"); return err },
		"Delete":  func(ctx context.Context) error { return b.Delete(ctx, "me", id) },
		"Undo":    func(ctx context.Context) error { _, err := b.Undo(ctx, ActorMe); return err },
		"Backup": func(ctx context.Context) error {
			return b.Backup(ctx, filepath.Join(filepath.Dir(b.Path()), "backup.bak"))
		},
	}
}

// TestHeaderDamagedWhileOpenStopsWrites is the seed bug arriving while the
// board is open: the data_version poll reports it, and from then on no
// write reaches the file.
func TestHeaderDamagedWhileOpenStopsWrites(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	path := b.Path()
	card := mustCreate(t, b, "before the damage", Todo)
	if _, err := b.DataVersion(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Damaged(); err != nil {
		t.Fatalf("Damaged on a sound board = %v", err)
	}

	damageFile(t, path, 5, seedRecord)
	before := fileSet(t, path)
	ce := wantDamage(t, "DataVersion", func() error { _, err := b.DataVersion(ctx); return err }())
	if ce.TLSOffset != 5 || !bytes.Equal(ce.Head[5:10], seedRecord[:5]) {
		t.Errorf("TLSOffset %d, head % x; want the record at 5", ce.TLSOffset, ce.Head)
	}
	for name, write := range boardWrites(b, card.ID) {
		wantDamage(t, name, write(ctx))
	}
	wantDamage(t, "Damaged", b.Damaged())
	if after := fileSet(t, path); after != before {
		t.Error("a write reached the damaged file (the database, its -wal or its -shm changed)")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "backup.bak")); err == nil {
		t.Error("a damaged board was backed up")
	}
}

// TestWritesReachADamagedFileWithoutTheCheck is the negative control: with
// the header check switched off, SQLite itself does not notice the damage
// (its cached page 1 is still valid as far as it knows), and a write goes
// into the WAL of the damaged file, where the next start, refusing the
// file, would lose it.
func TestWritesReachADamagedFileWithoutTheCheck(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	path := b.Path()
	mustCreate(t, b, "before the damage", Todo)
	liveFileCheck = false
	defer func() { liveFileCheck = true }()

	damageFile(t, path, 5, seedRecord)
	before := fileSet(t, path)
	if _, err := b.DataVersion(ctx); err != nil {
		t.Fatalf("DataVersion without the check = %v: SQLite saw the damage itself, the check is not what the test shows", err)
	}
	if _, err := b.Create(ctx, "me", NewCard{Title: "lost", Priority: PriorityNormal}); err != nil {
		t.Fatalf("Create without the check = %v", err)
	}
	after := fileSet(t, path)
	if after[1] == before[1] {
		t.Fatal("the write did not reach the -wal: this control shows nothing")
	}
	// Until a checkpoint writes page 1 back (which needs a clean close of
	// the last connection), the main file keeps the damaged header, and a
	// start after a crash refuses it with the write in its WAL.
	if reason := headerProblem([]byte(after[0][:headerSize]), int64(len(after[0])), BoardAppID); reason == "" {
		t.Fatal("the main file's header is sound again")
	}
}

// TestStateDamagedWhileOpenStopsWrites: the same for state.db, found by a
// write itself (state.db has no data_version poll).
func TestStateDamagedWhileOpenStopsWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	se, err := s.CreateSession(ctx, "a session")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Damaged(); err != nil {
		t.Fatalf("Damaged on a sound state.db = %v", err)
	}
	damageFile(t, path, 5, seedRecord)
	before := fileSet(t, path)
	if _, err := s.AddMessage(ctx, Message{SessionID: se.ID, Role: RoleUser, Content: "typed after the damage", Status: MessageComplete}); err == nil {
		t.Fatal("AddMessage into a damaged state.db succeeded")
	} else {
		wantDamage(t, "AddMessage", err)
	}
	_, err = s.CreateSession(ctx, "another")
	wantDamage(t, "CreateSession", err)
	wantDamage(t, "RenameSession", s.RenameSession(ctx, se.ID, "renamed"))
	wantDamage(t, "Damaged", s.Damaged())
	if after := fileSet(t, path); after != before {
		t.Error("a write reached the damaged state.db")
	}
}

// TestSQLiteFindsDamageAndEveryHandleStops: damage that the header check
// cannot see (a scribbled b-tree page) is found by SQLite during a read;
// from then on writes through any handle of this process on the file are
// refused without touching it, and the next open in this process runs
// integrity_check again instead of trusting the earlier pass.
func TestSQLiteFindsDamageAndEveryHandleStops(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kanban.db")
	b, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		mustCreate(t, b, fmt.Sprintf("card %d with a title long enough to fill pages", i), Todo)
	}
	b.Close() // checkpoints: every page is in the main file now
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(binary.BigEndian.Uint16(data[16:]))

	reader, err := OpenBoard(path) // integrity_check passed once: not run again
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	writer, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	scribble := bytes.Repeat([]byte{0xA5}, 3*pageSize)
	damageFile(t, path, int64(pageSize), scribble)
	before := fileSet(t, path)
	if err := writer.Damaged(); err != nil {
		t.Fatalf("the header check saw the scribbled pages (%v): this test is about SQLite's own errors", err)
	}

	_, err = reader.List(ctx, false)
	wantDamage(t, "List over scribbled pages", err)
	_, err = writer.Create(ctx, "me", NewCard{Title: "after the damage", Priority: PriorityNormal})
	wantDamage(t, "Create through another handle", err)
	wantDamage(t, "Damaged of another handle", writer.Damaged())
	if after := fileSet(t, path); after != before {
		t.Error("a write reached the damaged file")
	}
	reader.Close()
	writer.Close()
	if _, err := OpenBoard(path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("reopening after SQLite found damage = %v; want integrity_check to refuse it", err)
	}
}

// TestOpenAndCloseLeaveNoDescriptor: the liveFile's descriptor lives
// exactly as long as the handles: none is left on the file after the last
// Close, whatever the order, and a failed open leaves none either.
func TestOpenAndCloseLeaveNoDescriptor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kanban.db")
	countFDs := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skipf("no /proc/self/fd: %v", err)
		}
		n := 0
		for _, e := range entries {
			if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(target, path) {
				n++
			}
		}
		return n
	}
	a, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	if countFDs() == 0 {
		t.Fatal("no descriptor on the open board: the count sees nothing")
	}
	a.Close()
	if err := b.Damaged(); err != nil {
		t.Fatalf("the second handle lost its header check with the first: %v", err)
	}
	mustCreate(t, b, "still works", Todo)
	b.Close()
	if n := countFDs(); n != 0 {
		t.Errorf("%d descriptors left on the closed board", n)
	}
	key, err := canonical(path)
	if err != nil {
		t.Fatal(err)
	}
	registry.Lock()
	live := registry.live[key]
	registry.Unlock()
	if live != nil {
		t.Error("the registry still holds a liveFile for the closed board")
	}
}
