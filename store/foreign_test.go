package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// makeForeign makes another application's database at path with plain
// database/sql: the statements run in order on one connection, which is
// closed (and the WAL, if any, checkpointed and removed) before it returns.
func makeForeign(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// foreignWithWAL makes a foreign database whose tables exist only in its
// WAL: the main file's header still shows neither a schema nor an
// application_id, as after a crash before the first checkpoint. The files
// are copied while the connection that made them is open, since closing it
// would checkpoint; the copies are what a crash leaves.
func foreignWithWAL(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src.db")
	db, err := sql.Open("sqlite", src)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{"PRAGMA journal_mode=WAL", "PRAGMA wal_autocheckpoint=0", "CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('not spindle')"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Reading the files through descriptors of our own and closing them
	// drops this process's locks on src; nothing else uses src.
	path := filepath.Join(dir, "kanban.db")
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(src + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+suffix, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestForeignFilesAreNotModified: opening another application's SQLite
// file as the board or as state.db, or checking it with Check, refuses it
// and changes none of its bytes: no switch to WAL (bytes 18-19), no -wal,
// -shm or -journal beside it.
func TestForeignFilesAreNotModified(t *testing.T) {
	ctx := context.Background()
	sample, err := os.ReadFile(filepath.Join(samplesDir, "foreign-app.db"))
	if err != nil {
		t.Fatal(err)
	}
	table := []string{"CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('not spindle')"}
	tests := []struct {
		name string
		make func(t *testing.T, dir string) string
		// shmMayAppear: with tables only in the WAL, SQLite must read the
		// WAL to see them, and to do so creates the WAL index (-shm);
		// the database and the WAL keep their bytes.
		shmMayAppear bool
	}{
		{name: "testdata foreign-app.db (application_id 0x464c514c)", make: func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "kanban.db")
			if err := os.WriteFile(path, sample, 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}},
		{name: "tables, no application_id, rollback journal", make: func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "kanban.db")
			makeForeign(t, path, append([]string{"PRAGMA journal_mode=DELETE"}, table...)...)
			return path
		}},
		{name: "tables, no application_id, WAL", make: func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "kanban.db")
			makeForeign(t, path, append([]string{"PRAGMA journal_mode=WAL"}, table...)...)
			return path
		}},
		{name: "tables, another application_id, WAL", make: func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "kanban.db")
			makeForeign(t, path, append([]string{"PRAGMA journal_mode=WAL", "PRAGMA application_id = 7"}, table...)...)
			return path
		}},
		{name: "tables only in the WAL", make: foreignWithWAL, shmMayAppear: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.make(t, dir)
			if _, err := os.Stat(path + "-shm"); err == nil {
				t.Fatal("the sample already has a -shm")
			}
			before := dirState(t, dir)
			attempts := []struct {
				name string
				try  func() error
			}{
				{"OpenBoard", func() error {
					b, err := OpenBoard(path)
					if err == nil {
						b.Close()
					}
					return err
				}},
				{"OpenState", func() error {
					s, err := OpenState(path)
					if err == nil {
						s.Close()
					}
					return err
				}},
				{"Check", func() error { return Check(ctx, path, BoardAppID).Err }},
			}
			for _, a := range attempts {
				for i := range 2 {
					if err := a.try(); !errors.Is(err, ErrCorrupt) {
						t.Errorf("%s attempt %d = %v; want a refusal", a.name, i, err)
					}
				}
			}
			after := dirState(t, dir)
			for name, content := range before {
				if after[name] != content {
					t.Errorf("%s changed", name)
				}
			}
			for name := range after {
				if _, ok := before[name]; ok || filepath.Ext(name) == ".bak" || (tt.shmMayAppear && name == "kanban.db-shm") {
					continue
				}
				t.Errorf("%s appeared beside the refused file", name)
			}
		})
	}
}

// TestUncheckpointedBoardIsNotForeign is the negative control: a board
// whose process died before the first checkpoint has a main file with
// neither a schema nor an application_id, and its tables and
// application_id in the WAL. It is spindle's and must open.
func TestUncheckpointedBoardIsNotForeign(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kanban.db")
	c := startHelper(t, "hold", path, 0)
	<-c.ready
	c.cmd.Process.Kill()
	c.wait()
	head, err := readHead(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(head) == headerSize && (head[44] != 0 || head[71] != 0) {
		t.Fatalf("the main file has been checkpointed (% x): not the case this test is about", head)
	}
	if !walHasContent(path) {
		t.Fatal("no WAL content: not the case this test is about")
	}
	if res := Check(ctx, path, BoardAppID); res.Err != nil || res.AppID != BoardAppID {
		t.Errorf("Check = %+v", res)
	}
	b, err := OpenBoard(path)
	if err != nil {
		t.Fatalf("OpenBoard of an uncheckpointed board = %v", err)
	}
	defer b.Close()
	mustCreate(t, b, "works", Todo)
}
