package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the corrupt samples in ../testdata/corrupt")

const samplesDir = "../testdata/corrupt"

// validBoardBytes returns the bytes of a freshly initialised, closed board
// with one card.
func validBoardBytes(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kanban.db")
	b, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, b, "a card", Todo)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// samples builds each corrupt sample from a valid board. The seed bug: a
// socket's late TLS flush wrote a 24-byte record (17 03 03 00 13 + 19 bytes)
// over bytes 5..28 of kanban.db.
func samples(t *testing.T) map[string][]byte {
	valid := validBoardBytes(t)
	rng := rand.New(rand.NewPCG(2, 5))
	record := func(typ byte) []byte {
		r := []byte{typ, 0x03, 0x03, 0x00, 0x13}
		for range 19 {
			r = append(r, byte(rng.IntN(256)))
		}
		return r
	}
	with := func(off int, b []byte) []byte {
		out := bytes.Clone(valid)
		copy(out[off:], b)
		return out
	}
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.IntN(256))
	}
	foreign := func() []byte {
		path := filepath.Join(t.TempDir(), "other.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range []string{"PRAGMA application_id = 1179406668", "CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('not spindle')"} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	return map[string][]byte{
		"seed-bug-tls-at-5.db": with(5, record(0x17)),
		"tls-at-0.db":          with(0, record(0x17)),
		"garbage.db":           garbage,
		"truncated.db":         valid[:60],
		"truncated-page.db":    valid[:4096+1000],
		"page-size-768.db":     with(16, []byte{0x03, 0x00}),
		"foreign-app.db":       foreign(),
	}
}

// TestCorruptSamples keeps ../testdata/corrupt in step with samples(): each
// file has the length and the first 32 bytes (where every sample's damage
// is) of the sample built now. The rest of a file holds a card's
// timestamps, so it is not compared. Run with -update to rewrite them.
func TestCorruptSamples(t *testing.T) {
	want := samples(t)
	for name, data := range want {
		path := filepath.Join(samplesDir, name)
		if *update {
			if err := os.MkdirAll(samplesDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("sample %s missing (run go test ./store -run TestCorruptSamples -update): %v", name, err)
			continue
		}
		n := min(32, len(data))
		if len(got) != len(data) || !bytes.Equal(got[:min(n, len(got))], data[:n]) {
			t.Errorf("sample %s is out of step with samples() (run go test ./store -run TestCorruptSamples -update):\n got %d bytes, % x\nwant %d bytes, % x",
				name, len(got), got[:min(n, len(got))], len(data), data[:n])
		}
	}
}

func TestCorruptHeadersAreRefused(t *testing.T) {
	tests := []struct {
		sample string
		reason string
		tls    int
	}{
		{"seed-bug-tls-at-5.db", "not an SQLite database", 5},
		{"tls-at-0.db", "not an SQLite database", 0},
		{"garbage.db", "not an SQLite database", -1},
		{"truncated.db", "truncated: the file is 60 bytes", -1},
		{"truncated-page.db", "not a whole number of 4096-byte pages", -1},
		{"page-size-768.db", "invalid page size 768 at offset 16", -1},
		{"foreign-app.db", "a foreign SQLite database: application_id 0x464c514c", -1},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			orig, err := os.ReadFile(filepath.Join(samplesDir, tt.sample))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "kanban.db")
			if err := os.WriteFile(path, orig, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := ValidateHeader(path, BoardAppID); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("ValidateHeader = %v, want ErrCorrupt", err)
			}
			for i := range 10 {
				b, err := OpenBoard(path)
				if err == nil {
					b.Close()
					t.Fatalf("attempt %d: OpenBoard accepted the file", i)
				}
				var ce *CorruptError
				if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
					t.Fatalf("attempt %d: error %v is not a *CorruptError", i, err)
				}
				msg := err.Error()
				for _, want := range []string{path, tt.reason, fmt.Sprintf("% x", orig[:min(32, len(orig))])} {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q does not contain %q", msg, want)
					}
				}
				tlsWords := fmt.Sprintf("TLS record header detected at byte offset %d", tt.tls)
				if ce.TLSOffset != tt.tls || (tt.tls >= 0) != strings.Contains(msg, tlsWords) {
					t.Errorf("TLSOffset = %d, message %q; want offset %d", ce.TLSOffset, msg, tt.tls)
				}
				if strings.Contains(msg, "\n") {
					t.Errorf("error is not one line: %q", msg)
				}
			}
			after, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(after, orig) {
				t.Fatalf("the refused file changed (err %v)", err)
			}
			for _, suffix := range []string{"-wal", "-shm", "-journal"} {
				if _, err := os.Stat(path + suffix); err == nil {
					t.Errorf("%s exists: SQLite touched the refused file", path+suffix)
				}
			}
			copies, err := corruptCopies(path)
			if err != nil || len(copies) != 1 {
				t.Fatalf("corrupt copies = %v, %v; want exactly one", copies, err)
			}
			if c, _ := os.ReadFile(copies[0]); !bytes.Equal(c, orig) {
				t.Error("the copy differs from the refused file")
			}
		})
	}
}

// TestValidHeadersAreAccepted is the negative control of the table above:
// the same checks pass a valid board, a missing file, an empty file, and a
// file with spindle's application_id but no tables yet (schema format and
// text encoding are 0 then).
func TestValidHeadersAreAccepted(t *testing.T) {
	dir := t.TempDir()
	valid := filepath.Join(dir, "valid.db")
	if err := os.WriteFile(valid, validBoardBytes(t), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	noTables := filepath.Join(dir, "notables.db")
	db, err := sql.Open("sqlite", noTables)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA application_id = %d", BoardAppID)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	head, err := readHead(noTables)
	if err != nil || binary.BigEndian.Uint32(head[44:]) != 0 || binary.BigEndian.Uint32(head[56:]) != 0 {
		t.Fatalf("expected schema format and encoding 0 in a file with no table: % x, %v", head, err)
	}
	for _, path := range []string{valid, empty, noTables, filepath.Join(dir, "missing.db")} {
		if err := ValidateHeader(path, BoardAppID); err != nil {
			t.Errorf("ValidateHeader(%s) = %v", filepath.Base(path), err)
		}
		b, err := OpenBoard(path)
		if err != nil {
			t.Errorf("OpenBoard(%s) = %v", filepath.Base(path), err)
			continue
		}
		mustCreate(t, b, "works", Todo)
		if err := ValidateHeader(path, BoardAppID); err == nil || errors.Is(err, ErrCorrupt) {
			t.Errorf("ValidateHeader on an open file = %v, want a refusal to read it", err)
		}
		b.Close()
	}
	if copies, _ := filepath.Glob(filepath.Join(dir, "*.corrupt.*")); len(copies) != 0 {
		t.Errorf("valid files got corrupt copies: %v", copies)
	}
}

func TestWrongSpindleDatabaseIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = OpenBoard(path)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "spindle's state database") {
		t.Fatalf("OpenBoard(state.db) = %v", err)
	}
}

func TestAtMostThreeCorruptCopies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kanban.db")
	var last string
	for i := range 5 {
		garbage := bytes.Repeat([]byte{byte(i + 1)}, 4096)
		if err := os.WriteFile(path, garbage, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := OpenBoard(path)
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Backup == "" {
			t.Fatalf("round %d: %v", i, err)
		}
		last = ce.Backup
	}
	copies, err := corruptCopies(path)
	if err != nil || len(copies) != maxCorruptCopies {
		t.Fatalf("copies = %v, %v", copies, err)
	}
	if copies[len(copies)-1] != last {
		t.Errorf("newest copy %s was not kept (have %v)", last, copies)
	}
	data, _ := os.ReadFile(copies[0])
	if data[0] != 3 {
		t.Errorf("oldest kept copy is of round %d, want round 3", data[0])
	}
}

func TestIntegrityFailureIsRefused(t *testing.T) {
	ctx := context.Background()
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
	if len(data) < 4*pageSize {
		t.Fatalf("board too small: %d bytes", len(data))
	}
	// Scribble over pages 2..4 (b-tree pages), leaving the header
	// intact so that only the integrity check can see it.
	for i := pageSize; i < 4*pageSize; i++ {
		data[i] = 0xA5
	}
	// A path this process has never checked, so the check runs.
	bad := filepath.Join(t.TempDir(), "kanban.db")
	if err := os.WriteFile(bad, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ValidateHeader(bad, BoardAppID); err != nil {
		t.Fatalf("header should still pass: %v", err)
	}
	_, err = OpenBoard(bad)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Backup == "" {
		t.Fatalf("OpenBoard of a file with a scribbled page = %v", err)
	}
	if res := Check(ctx, bad, BoardAppID); !errors.Is(res.Err, ErrCorrupt) {
		t.Errorf("Check = %+v", res)
	}
}

// TestHeaderByteRules checks each byte rule of S1 on its own: a valid
// board's header with one field changed is refused with a reason naming
// that field, and the values the rules allow are accepted. Every rule has a
// case here, so dropping any check from headerProblem fails this test.
func TestHeaderByteRules(t *testing.T) {
	valid := validBoardBytes(t)
	head := valid[:headerSize]
	size := int64(len(valid))
	set := func(off int, b ...byte) []byte {
		h := bytes.Clone(head)
		copy(h[off:], b)
		return h
	}
	u32 := func(off int, v uint32) []byte {
		h := bytes.Clone(head)
		binary.BigEndian.PutUint32(h[off:], v)
		return h
	}
	if got := headerProblem(head, size, BoardAppID); got != "" {
		t.Fatalf("the valid header is refused: %s", got)
	}
	refused := []struct {
		name   string
		head   []byte
		size   int64
		reason string
	}{
		{"magic", set(0, 'X'), size, "not an SQLite database"},
		{"magic NUL", set(15, ' '), size, "not an SQLite database"},
		{"page size 0", set(16, 0, 0), size, "invalid page size 0"},
		{"page size 256", set(16, 1, 0), size, "invalid page size 256"},
		{"page size 768", set(16, 3, 0), size, "invalid page size 768"},
		{"page size 32769", set(16, 0x80, 0x01), size, "invalid page size 32769"},
		{"page size 65535", set(16, 0xff, 0xff), size, "invalid page size 65535"},
		{"write version 0", set(18, 0), size, "file format versions 0/"},
		{"write version 3", set(18, 3), size, "file format versions 3/"},
		{"read version 0", set(19, 0), size, "file format versions 2/0"},
		{"read version 3", set(19, 3), size, "file format versions 2/3"},
		{"max payload fraction", set(21, 65), size, "payload fractions 65/32/32"},
		{"min payload fraction", set(22, 0), size, "payload fractions 64/0/32"},
		{"leaf payload fraction", set(23, 33), size, "payload fractions 64/32/33"},
		{"schema format 5", u32(44, 5), size, "invalid schema format 5"},
		{"schema format 0 with an encoding", u32(44, 0), size, "invalid schema format 0"},
		{"text encoding 0 with a schema", u32(56, 0), size, "text encoding 0"},
		{"text encoding 4", u32(56, 4), size, "text encoding 4"},
		{"byte 72", set(72, 1), size, "reserved bytes 72..91"},
		{"byte 91", set(91, 1), size, "reserved bytes 72..91"},
		{"foreign application_id", u32(68, 0x464c514c), size, "application_id 0x464c514c"},
		{"state.db's application_id", u32(68, StateAppID), size, "spindle's state database"},
		{"reserved space", append(set(16, 2, 0)[:20], set(20, 33)[20:]...), 512 * 4, "invalid reserved space 33 at offset 20 for page size 512"},
		{"short header", head[:99], 99, "shorter than the 100-byte"},
		{"partial page", head, size + 1, "not a whole number of"},
		{"smaller than a page", head, 512, "not a whole number of"},
	}
	for _, tt := range refused {
		t.Run("refused/"+tt.name, func(t *testing.T) {
			got := headerProblem(tt.head, tt.size, BoardAppID)
			if !strings.Contains(got, tt.reason) {
				t.Errorf("reason %q, want one containing %q", got, tt.reason)
			}
		})
	}
	accepted := []struct {
		name string
		head []byte
		size int64
	}{
		{"page size 512", set(16, 2, 0), 512 * 4},
		{"page size 32768", set(16, 0x80, 0), 32768},
		{"page size 1 means 65536", set(16, 0, 1), 65536 * 2},
		{"rollback journal versions 1/1", set(18, 1, 1), size},
		{"schema format 1, UTF-16be", append(u32(44, 1)[:56], u32(56, 3)[56:]...), size},
		{"schema format 4", u32(44, 4), size},
		{"no table yet: schema format and encoding 0", append(u32(44, 0)[:56], u32(56, 0)[56:]...), size},
		{"application_id not set yet", u32(68, 0), size},
	}
	for _, tt := range accepted {
		t.Run("accepted/"+tt.name, func(t *testing.T) {
			if got := headerProblem(tt.head, tt.size, BoardAppID); got != "" {
				t.Errorf("refused: %s", got)
			}
		})
	}
}

// TestSpecialFilesAreNotOpened: a FIFO or a directory where a database
// should be is an error, not a hang (open(2) of a FIFO blocks until a
// writer comes) and not a refusal with a corrupt copy. The bound only
// guards against the hang.
func TestSpecialFilesAreNotOpened(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.db")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir.db")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, sub} {
		calls := map[string]func() error{
			"ValidateHeader": func() error { return ValidateHeader(path, BoardAppID) },
			"OpenBoard": func() error {
				b, err := OpenBoard(path)
				if err == nil {
					b.Close()
				}
				return err
			},
			"Check": func() error { return Check(context.Background(), path, BoardAppID).Err },
		}
		for name, call := range calls {
			done := make(chan error, 1)
			go func() { done <- call() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				// Release the blocked open so the goroutine can end.
				if w, werr := os.OpenFile(fifo, os.O_WRONLY, 0); werr == nil {
					w.Close()
				}
				<-done
				t.Fatalf("%s(%s) blocked", name, filepath.Base(path))
			}
			if err == nil || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s(%s) = %v, want a \"not a regular file\" error that is not a refusal", name, filepath.Base(path), err)
			}
		}
	}
	if copies, _ := filepath.Glob(filepath.Join(dir, "*.corrupt.*")); len(copies) != 0 {
		t.Errorf("special files got corrupt copies: %v", copies)
	}
}
