package store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestStateRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LastSession(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LastSession on an empty database = %v, want ErrNotFound", err)
	}
	first, err := s.CreateSession(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.CreateSession(ctx, "second")
	if err != nil {
		t.Fatal(err)
	}
	msgs := []Message{
		{SessionID: first.ID, Role: RoleSystem, Content: "be brief"},
		{SessionID: first.ID, Role: RoleUser, Content: "add a card ✓ ünïcode"},
		{SessionID: first.ID, Role: RoleAssistant, ToolCalls: `[{"id":"c1","type":"function","function":{"name":"kanban_create","arguments":"{\"title\":\"x\"}"}}]`},
		{SessionID: first.ID, Role: RoleTool, ToolCallID: "c1", Content: `{"id":1}`},
		{SessionID: first.ID, Role: RoleAssistant, Content: "partial", Status: MessageInterrupted},
		{SessionID: first.ID, Role: RoleAssistant, Status: MessageFailed, Error: "429 Too Many Requests"},
	}
	var want []Message
	for _, m := range msgs {
		got, err := s.AddMessage(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 || got.CreatedAt.IsZero() {
			t.Fatalf("AddMessage did not set ID and CreatedAt: %+v", got)
		}
		want = append(want, got)
	}
	if err := s.RenameSession(ctx, first.ID, "cards"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Reopen: everything must come back exactly.
	s, err = OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Messages(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want[0].Status != MessageComplete {
		t.Errorf("empty status stored as %q, want complete", want[0].Status)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("messages after reopen:\n got %+v\nwant %+v", got, want)
	}
	last, err := s.LastSession(ctx)
	if err != nil || last.ID != first.ID || last.Title != "cards" {
		t.Fatalf("LastSession = %+v, %v; want the session with messages", last, err)
	}
	all, err := s.Sessions(ctx)
	if err != nil || len(all) != 2 || all[0].ID != first.ID || all[1].ID != second.ID {
		t.Fatalf("Sessions = %+v, %v", all, err)
	}
	if one, err := s.Session(ctx, second.ID); err != nil || one != second {
		t.Fatalf("Session = %+v, %v; want %+v", one, err, second)
	}
	if msgs, err := s.Messages(ctx, second.ID); err != nil || len(msgs) != 0 {
		t.Fatalf("Messages of an empty session = %v, %v", msgs, err)
	}
}

func TestStateRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	s, err := OpenState(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	se, err := s.CreateSession(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]Message{
		"bad role":        {SessionID: se.ID, Role: "robot"},
		"bad status":      {SessionID: se.ID, Role: RoleUser, Status: "meh"},
		"bad tool calls":  {SessionID: se.ID, Role: RoleAssistant, ToolCalls: `{"not":"an array"}`},
		"missing session": {SessionID: se.ID + 100, Role: RoleUser},
	} {
		if _, err := s.AddMessage(ctx, m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := s.AddMessage(ctx, Message{SessionID: 999, Role: RoleUser}); !errors.Is(err, ErrNotFound) {
		t.Errorf("AddMessage to a missing session = %v, want ErrNotFound", err)
	}
	for name, err := range map[string]error{
		"session":  func() error { _, err := s.Session(ctx, 999); return err }(),
		"messages": func() error { _, err := s.Messages(ctx, 999); return err }(),
		"rename":   s.RenameSession(ctx, 999, "x"),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of a missing session = %v, want ErrNotFound", name, err)
		}
	}
}

func TestBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "kanban.db")
	b, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	keep := mustCreate(t, b, "in the backup", Todo)
	dest := BackupPath(path)
	if err := b.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if err := b.Backup(ctx, dest); err == nil {
		t.Error("Backup overwrote an existing file")
	}
	later := mustCreate(t, b, "after the backup", Todo)
	if _, err := Restore(ctx, path, dest, BoardAppID); err == nil {
		t.Fatal("Restore replaced a board this process has open")
	}
	b.Close()
	if _, err := Restore(ctx, path, dest, StateAppID); err == nil {
		t.Fatal("Restore accepted a board backup as state.db")
	}
	aside, err := Restore(ctx, path, dest, BoardAppID)
	if err != nil {
		t.Fatal(err)
	}
	if aside == "" {
		t.Fatal("the current file was not moved aside")
	}
	b, err = OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, keep.ID); err != nil {
		t.Errorf("restored board lacks the backed-up card: %v", err)
	}
	if _, err := b.Get(ctx, later.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("restored board has a card made after the backup: %v", err)
	}
	b.Close()
	old, err := OpenBoard(aside)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if _, err := old.Get(ctx, later.ID); err != nil {
		t.Errorf("the moved-aside board lost its newest card: %v", err)
	}
	files, err := Backups(path)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, f := range files {
		kinds[f.Kind]++
	}
	if kinds["backup"] != 1 || kinds["replaced"] != 1 {
		t.Errorf("Backups = %+v", files)
	}
	if res := Check(ctx, path, BoardAppID); res.Err != nil || res.AppID != BoardAppID || res.JournalMode != "wal" {
		t.Errorf("Check = %+v", res)
	}
}

// TestBackupsInOneSecondDoNotCollide: two backups made back to back (as a
// script running "spindle doctor --backup" twice does) both succeed, under
// distinct names that sort in the order they were made.
func TestBackupsInOneSecondDoNotCollide(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kanban.db")
	b, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var dests []string
	for i := range 2 {
		dest := BackupPath(path)
		if err := b.Backup(ctx, dest); err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		dests = append(dests, dest)
	}
	files, err := Backups(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
	}
	if !slices.Equal(got, dests) {
		t.Errorf("Backups = %v, want %v in that order", got, dests)
	}
}

// TestSessionOrderWithinOneMillisecond stops the clock so that every change
// falls in the same millisecond, where updated_at alone cannot order
// sessions: the session that last had activity must still come first.
func TestSessionOrderWithinOneMillisecond(t *testing.T) {
	ctx := context.Background()
	s, err := OpenState(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clock := nowMilli
	frozen := clock()
	nowMilli = func() int64 { return frozen }
	defer func() { nowMilli = clock }()

	order := func() []int64 {
		t.Helper()
		all, err := s.Sessions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, se := range all {
			ids = append(ids, se.ID)
		}
		last, err := s.LastSession(ctx)
		if err != nil || last.ID != ids[0] {
			t.Fatalf("LastSession = %+v, %v; Sessions starts with %d", last, err, ids[0])
		}
		for _, se := range all {
			if one, err := s.Session(ctx, se.ID); err != nil || one != se {
				t.Fatalf("Session(%d) = %+v, %v; Sessions has %+v", se.ID, one, err, se)
			}
		}
		return ids
	}
	say := func(id int64) {
		t.Helper()
		if _, err := s.AddMessage(ctx, Message{SessionID: id, Role: RoleUser, Content: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := s.CreateSession(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateSession(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if got := order(); !slices.Equal(got, []int64{b.ID, a.ID}) {
		t.Fatalf("after creating a, b: %v", got)
	}
	say(a.ID)
	if got := order(); !slices.Equal(got, []int64{a.ID, b.ID}) {
		t.Fatalf("after a message to a: %v, want a first", got)
	}
	c, err := s.CreateSession(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if got := order(); !slices.Equal(got, []int64{c.ID, a.ID, b.ID}) {
		t.Fatalf("after creating c: %v, want c first", got)
	}
	say(b.ID)
	say(b.ID)
	if got := order(); !slices.Equal(got, []int64{b.ID, c.ID, a.ID}) {
		t.Fatalf("after messages to b: %v, want b first", got)
	}
	if se, _ := s.Session(ctx, b.ID); se.UpdatedAt.UnixMilli() > frozen+3 {
		t.Errorf("UpdatedAt ran %d ms ahead of the clock for three sessions", se.UpdatedAt.UnixMilli()-frozen)
	}
}

// TestCheckNamesTheOperation: a check that cannot run (here the path is a
// directory) is an error naming the operation and the file, not a refusal.
func TestCheckNamesTheOperation(t *testing.T) {
	dir := t.TempDir()
	res := Check(context.Background(), dir, BoardAppID)
	if res.Err == nil || errors.Is(res.Err, ErrCorrupt) || !strings.HasPrefix(res.Err.Error(), "store: check "+dir+": ") {
		t.Errorf("Check(directory) = %v; want a non-refusal error starting %q", res.Err, "store: check "+dir+": ")
	}
}
