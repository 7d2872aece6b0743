package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// A database can be damaged while spindle has it open: the seed bug wrote a
// TLS record over bytes 5..28 of a board that was in use. SQLite does not
// notice by itself. In WAL mode a connection re-reads page 1 only when
// another connection has committed, so a process that is the only writer
// keeps committing into the WAL on top of a main file whose header no
// longer opens, and those commits are lost when the next start refuses the
// file. So every write, the data_version poll and Damaged first read the
// header (100 bytes, one pread through liveFile.f, about a microsecond) and
// check its fields; a failed check, or an SQLite error that says the file
// is malformed, marks the file damaged, and from then on every write of
// every handle on it in this process is refused before it begins.

// liveFileCheck switches the header check of open files; only a test that
// shows what happens without it turns it off.
var liveFileCheck = true

// liveFile is what the handles of one file in this process share: a
// read-only descriptor for the header check and the damage found so far.
//
// The descriptor is opened with the first handle and closed with the last
// (see registry): closing any descriptor of a file drops every POSIX lock
// this process holds on it, SQLite's included, so it is never closed while
// an SQLite connection of this process has the file open. It is only ever
// read with pread (ReadAt), which moves no shared offset.
type liveFile struct {
	key   string
	appID uint32
	f     *os.File

	damaged atomic.Pointer[CorruptError]
}

func openLiveFile(key string, appID uint32) (*liveFile, error) {
	f, err := os.Open(key)
	if err != nil {
		return nil, err
	}
	return &liveFile{key: key, appID: appID, f: f}, nil
}

// check returns the damage found on this file, reading its header first
// unless damage is already known. It returns nil when the file is fine and
// another error when the header cannot be read.
func (lf *liveFile) check() error {
	if ce := lf.damaged.Load(); ce != nil {
		return ce
	}
	if !liveFileCheck {
		return nil
	}
	var buf [headerSize]byte
	n, err := lf.f.ReadAt(buf[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the header of %s: %w", lf.key, err)
	}
	head := buf[:n]
	var reason string
	switch {
	case n == 0:
		// The main file is still empty: every page is in the WAL.
	case n < headerSize:
		reason = fmt.Sprintf("truncated: the file is %d bytes, shorter than the %d-byte SQLite header", n, headerSize)
	default:
		// Not the size: while a checkpoint grows or shrinks the file a
		// size that is not a whole number of pages can be seen in passing.
		reason, _ = headerFieldsProblem(head, lf.appID)
	}
	if reason == "" {
		return nil
	}
	return lf.mark(headerRefusal(lf.key, reason, head))
}

// mark records ce as this file's damage (the first one found stays) and
// returns the recorded one. The next open in this process then runs
// integrity_check again.
func (lf *liveFile) mark(ce *CorruptError) *CorruptError {
	ce.WhileOpen = true
	if ce.Head == nil {
		var buf [headerSize]byte
		if n, _ := lf.f.ReadAt(buf[:], 0); n > 0 && headerFaulty(buf[:n]) {
			ce.Head = bytes.Clone(buf[:min(32, n)])
			ce.TLSOffset = tlsOffset(buf[:n])
		}
	}
	lf.damaged.CompareAndSwap(nil, ce)
	registry.Lock()
	delete(registry.checked, lf.key)
	registry.Unlock()
	return lf.damaged.Load()
}

// noteDamage passes err through, except that SQLite's "malformed" and "not
// a database" errors mark the file damaged and become its *CorruptError.
func (lf *liveFile) noteDamage(err error) error {
	if err == nil {
		return nil
	}
	var ce *CorruptError
	if errors.As(corruptIfSQLite(lf.key, err), &ce) {
		return lf.mark(ce)
	}
	return err
}

// Damaged reports whether the board has been found damaged while open: nil
// if it is fine, else a *CorruptError (errors.Is(err, ErrCorrupt)) that
// says to stop spindle and run spindle doctor. It reads the header, so it
// also finds damage that no operation has met yet. Once it has reported
// damage, every write is refused without touching the file.
func (b *Board) Damaged() error { return b.db.live.check() }

// Damaged is Board.Damaged for state.db.
func (s *State) Damaged() error { return s.db.live.check() }
