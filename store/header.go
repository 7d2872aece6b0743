package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// CorruptError is the refusal of a database file whose header or contents
// failed the checks. The file has not been modified. errors.Is(err,
// ErrCorrupt) holds for it.
type CorruptError struct {
	// Path is the refused file.
	Path string
	// Reason says which check failed.
	Reason string
	// Head is the first 32 bytes of the file (fewer if it is shorter)
	// when the header is what is wrong; nil when the header is sound and
	// the damage is further in.
	Head []byte
	// TLSOffset is the offset (0 or 5) at which the bytes look like a TLS
	// record header, the signature of a socket's late write landing in
	// the file; -1 if they do not.
	TLSOffset int
	// Backup is the copy of the refused file kept beside it, "" if none
	// could be made.
	Backup string
	// WhileOpen is set when the damage was found after the file had been
	// opened (by a write's header check, the data_version poll, or an
	// SQLite error), rather than at open. The handle then refuses every
	// write; the person has to stop spindle and run spindle doctor.
	WhileOpen bool
}

// Error is one line: the file, the reason, the TLS finding, the first 32
// bytes in hex and where the copy is, or, for damage found while open,
// what to do about it.
func (e *CorruptError) Error() string {
	var b strings.Builder
	if e.WhileOpen {
		fmt.Fprintf(&b, "store: %s was damaged while open: %s", e.Path, e.Reason)
	} else {
		fmt.Fprintf(&b, "store: refusing %s: %s", e.Path, e.Reason)
	}
	if e.TLSOffset >= 0 {
		fmt.Fprintf(&b, "; TLS record header detected at byte offset %d", e.TLSOffset)
	}
	if len(e.Head) > 0 {
		fmt.Fprintf(&b, "; first %d bytes: % x", len(e.Head), e.Head)
	}
	if e.WhileOpen {
		b.WriteString("; nothing more is written to it: stop every spindle process that uses it, then run spindle doctor")
		return b.String()
	}
	b.WriteString("; the file was not modified")
	if e.Backup != "" {
		fmt.Fprintf(&b, ", a copy is at %s", e.Backup)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// headerSize is the length of the SQLite database header.
const headerSize = 100

var sqliteMagic = []byte("SQLite format 3\x00")

// ValidateHeader reads the 100-byte header of the database file at path and
// checks it against the SQLite file format and spindle's application_id
// (rule S1). A missing or empty file is a new database and passes. A header
// that fails returns a *CorruptError (without a backup copy: only opening
// makes one).
//
// ValidateHeader never reads a file that this process has open through a
// Board or State: closing its descriptor would release SQLite's POSIX locks.
// For such a file it returns an error instead of an answer.
func ValidateHeader(path string, appID uint32) error {
	key, err := canonical(path)
	if err != nil {
		return fmt.Errorf("store: validate %s: %w", path, err)
	}
	if openInProcess(key) {
		return fmt.Errorf("store: validate %s: the file is open in this process; its header was checked when it was opened", path)
	}
	_, err = validateHeader(path, appID)
	return err
}

// validateHeader checks the header of the file at path and returns it: nil
// for a missing or empty file.
func validateHeader(path string, appID uint32) ([]byte, error) {
	// Stat before opening: open(2) of a FIFO blocks until a writer comes.
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: validate %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("store: validate %s: not a regular file", path)
	}
	if st.Size() == 0 {
		return nil, nil
	}
	head, err := readHead(path)
	if err != nil {
		return nil, fmt.Errorf("store: validate %s: %w", path, err)
	}
	if reason := headerProblem(head, st.Size(), appID); reason != "" {
		return nil, headerRefusal(path, reason, head)
	}
	return head, nil
}

func headerRefusal(path, reason string, head []byte) *CorruptError {
	return &CorruptError{Path: path, Reason: reason, Head: bytes.Clone(head[:min(32, len(head))]), TLSOffset: tlsOffset(head)}
}

// headerProblem returns why head (the first bytes of a file of the given
// size) is not an acceptable header, or "" if it is.
func headerProblem(head []byte, size int64, appID uint32) string {
	if len(head) < headerSize {
		return fmt.Sprintf("truncated: the file is %d bytes, shorter than the %d-byte SQLite header", size, headerSize)
	}
	reason, pageSize := headerFieldsProblem(head, appID)
	if reason != "" {
		return reason
	}
	if size < pageSize || size%pageSize != 0 {
		return fmt.Sprintf("truncated: the file is %d bytes, not a whole number of %d-byte pages", size, pageSize)
	}
	return ""
}

// headerFieldsProblem checks the fields of a whole header (headerSize
// bytes) and returns why they are not acceptable ("" if they are) and the
// page size they give. It leaves out the file's size, which the check of
// an open file cannot compare (see liveFile.check).
func headerFieldsProblem(head []byte, appID uint32) (reason string, pageSize int64) {
	if !bytes.Equal(head[:16], sqliteMagic) {
		return `not an SQLite database: bytes 0..15 are not "SQLite format 3\0"`, 0
	}
	pageSize = int64(binary.BigEndian.Uint16(head[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	} else if pageSize < 512 || pageSize > 32768 || pageSize&(pageSize-1) != 0 {
		return fmt.Sprintf("invalid page size %d at offset 16", pageSize), 0
	}
	if w, r := head[18], head[19]; w < 1 || w > 2 || r < 1 || r > 2 {
		return fmt.Sprintf("invalid file format versions %d/%d at offsets 18-19", w, r), 0
	}
	if reserved := int64(head[20]); pageSize-reserved < 480 {
		return fmt.Sprintf("invalid reserved space %d at offset 20 for page size %d", reserved, pageSize), 0
	}
	if head[21] != 64 || head[22] != 32 || head[23] != 32 {
		return fmt.Sprintf("invalid payload fractions %d/%d/%d at offsets 21-23 (want 64/32/32)", head[21], head[22], head[23]), 0
	}
	// Both are 0 until the first table is created.
	schema, enc := binary.BigEndian.Uint32(head[44:48]), binary.BigEndian.Uint32(head[56:60])
	if schema > 4 || enc > 3 || (schema == 0) != (enc == 0) {
		return fmt.Sprintf("invalid schema format %d at offset 44 or text encoding %d at offset 56", schema, enc), 0
	}
	for _, c := range head[72:92] {
		if c != 0 {
			return "reserved bytes 72..91 are not zero", 0
		}
	}
	if app := binary.BigEndian.Uint32(head[68:72]); app != 0 && app != appID {
		return foreignAppReason(app, kindFor(appID)), 0
	}
	return "", pageSize
}

// kindFor names the database that appID marks, for messages.
func kindFor(appID uint32) kind {
	switch appID {
	case BoardAppID:
		return boardKind
	case StateAppID:
		return stateKind
	}
	return kind{name: fmt.Sprintf("database 0x%08x", appID), appID: appID}
}

func foreignAppReason(app uint32, want kind) string {
	switch app {
	case BoardAppID, StateAppID:
		return fmt.Sprintf("this is spindle's %s, not its %s (application_id 0x%08x)", kindFor(app).name, want.name, app)
	}
	return fmt.Sprintf("a foreign SQLite database: application_id 0x%08x is not spindle's %s (0x%08x)", app, want.name, want.appID)
}

// tlsOffset returns 0 or 5 if the bytes there look like a TLS record header
// (content type 0x14..0x17, version 0x03 0x00..0x04, length 1..18432), else -1.
// Offset 5 is where the seed bug's 24-byte record landed.
func tlsOffset(b []byte) int {
	for _, off := range []int{0, 5} {
		if len(b) < off+5 {
			continue
		}
		r := b[off:]
		length := int(r[3])<<8 | int(r[4])
		if r[0] >= 0x14 && r[0] <= 0x17 && r[1] == 0x03 && r[2] <= 0x04 && length >= 1 && length <= 18432 {
			return off
		}
	}
	return -1
}

// fileStamp is the timestamp in the names of the files kept beside a
// database (backups, corrupt copies, replaced files): UTC with nanoseconds,
// fixed width, so that names sort chronologically and rarely collide.
const fileStamp = "20060102T150405.000000000Z"

// maxCorruptCopies is how many distinct corrupt copies are kept per file.
const maxCorruptCopies = 3

// refuse completes a refusal: for a *CorruptError it fills in Head and
// TLSOffset if missing and keeps a copy of the file. It must only be called
// while this process has no SQLite connection to the file.
func refuse(err error) error {
	var ce *CorruptError
	if !errors.As(err, &ce) {
		return err
	}
	if ce.Head == nil {
		if head, rerr := readHead(ce.Path); rerr == nil && headerFaulty(head) {
			ce.Head = head[:min(32, len(head))]
			ce.TLSOffset = tlsOffset(head)
		}
	}
	if backup, berr := keepCorruptCopy(ce.Path); berr == nil {
		ce.Backup = backup
	}
	return ce
}

// headerFaulty says whether head, the first bytes of a refused file, is
// itself at fault: too short, a field that fails the checks, or a TLS
// record in it. Only then does the refusal show it: under a sound header
// (an integrity_check failure, an SQLite error further in) the bytes say
// nothing and read as though the header were the problem. The
// application_id is not judged here; the refusal's reason has done that.
func headerFaulty(head []byte) bool {
	if len(head) < headerSize {
		return true
	}
	reason, _ := headerFieldsProblem(head, binary.BigEndian.Uint32(head[68:72]))
	return reason != "" || tlsOffset(head) >= 0
}

// readHead returns the first headerSize bytes of the file at path (fewer if
// it is shorter).
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, headerSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return head[:n], nil
}

// corruptCopies lists the corrupt copies of path, oldest first.
func corruptCopies(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	prefix := base + ".corrupt."
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, prefix) && strings.HasSuffix(n, ".bak") && e.Type().IsRegular() {
			out = append(out, filepath.Join(dir, n))
		}
	}
	sort.Strings(out) // the timestamp in the name sorts chronologically
	return out, nil
}

func hashFile(path string) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// keepCorruptCopy keeps one copy of path per distinct content as
// <name>.corrupt.<timestamp>.bak, at most maxCorruptCopies (the oldest go),
// and returns the copy of the current content. The file itself is only read.
func keepCorruptCopy(path string) (string, error) {
	sum, err := hashFile(path)
	if err != nil {
		return "", err
	}
	existing, err := corruptCopies(path)
	if err != nil {
		return "", err
	}
	for _, c := range existing {
		if s, err := hashFile(c); err == nil && s == sum {
			return c, nil
		}
	}
	var dest string
	for i := 0; ; i++ {
		dest = fmt.Sprintf("%s.corrupt.%s.bak", path, time.Now().UTC().Format(fileStamp))
		err = copyFile(path, dest)
		if err == nil || !errors.Is(err, os.ErrExist) || i == 10 {
			break
		}
	}
	if err != nil {
		return "", err
	}
	all := append(existing, dest)
	for len(all) > maxCorruptCopies {
		os.Remove(all[0])
		all = all[1:]
	}
	return dest, nil
}
