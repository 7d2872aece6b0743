// Package store is spindle's SQLite storage: kanban.db (the board, which
// several spindle processes may share) and state.db (chat sessions and their
// messages).
//
// Every database is opened the same way. Before this process makes its first
// SQLite connection to a file, the file's 100-byte header is read and checked
// (ValidateHeader); a file that fails is refused with a *CorruptError, is never
// written to, and a copy of it is kept beside it. A file found damaged while
// open is written to no more (damage.go). The first open in a process
// also runs PRAGMA integrity_check. Connections use WAL, a busy timeout,
// immediate write transactions and foreign keys; all writes go through one
// writer connection, reads through a small pool. Schemas are embedded
// migrations ordered by PRAGMA user_version, and PRAGMA application_id marks
// which of spindle's two databases a file is.
package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	sqlite "modernc.org/sqlite"
)

// Sentinel errors that callers branch on with errors.Is.
var (
	// ErrCorrupt is matched by every *CorruptError: a database file that
	// spindle refused to open.
	ErrCorrupt = errors.New("database refused")
	// ErrNotFound means the card, session or event asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNothingToUndo is returned by Board.Undo when every change has
	// already been undone.
	ErrNothingToUndo = errors.New("nothing to undo")
	// ErrInUse is matched by every *InUseError: Restore's refusal of a
	// database that other processes have open.
	ErrInUse = errors.New("database in use")
)

// The application_id values written at header offset 68. They are ASCII
// tags ("SPKB", "SPST"), below 2^31 so that SQLite's signed PRAGMA shows them
// unchanged.
const (
	// BoardAppID marks kanban.db.
	BoardAppID uint32 = 0x53504B42
	// StateAppID marks state.db.
	StateAppID uint32 = 0x53505354
)

// busyTimeout is how long a connection waits for another connection's or
// process's lock before SQLITE_BUSY surfaces. Write transactions are a few
// milliseconds long, so this is only reached when something is wrong.
const busyTimeout = 10 * time.Second

// registry records, per file, how many handles this process has open,
// whether PRAGMA integrity_check has passed, and the liveFile its handles
// share. The open count decides when a file may be opened and closed
// outside SQLite: SQLite's locks are POSIX record locks, which the kernel
// drops when the process closes *any* descriptor of the file, so a
// descriptor of ours is only closed while no SQLite connection of this
// process has the file open. The liveFile's descriptor is opened with the
// first handle and closed with the last; between them the header is read
// only through it.
var registry = struct {
	sync.Mutex
	open    map[string]int
	checked map[string]bool
	live    map[string]*liveFile
}{open: map[string]int{}, checked: map[string]bool{}, live: map[string]*liveFile{}}

// canonical returns the key the registry uses for path: absolute, cleaned,
// with symlinks in the directory resolved.
func canonical(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	dir, base := filepath.Split(abs)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	full := filepath.Join(dir, base)
	if real, err := filepath.EvalSymlinks(full); err == nil {
		full = real
	}
	return full, nil
}

// openInProcess reports whether this process has an open handle on key.
func openInProcess(key string) bool {
	registry.Lock()
	defer registry.Unlock()
	return registry.open[key] > 0
}

// kind describes one of the two databases: its name in messages, its
// application_id and its migrations.
type kind struct {
	name       string
	appID      uint32
	migrations []string
	prepare    []string // hot write-path statements to prepare once
}

// db is an open database: one writer connection, a reader pool and a pinned
// reader connection for PRAGMA data_version.
type db struct {
	path string
	key  string
	kind kind
	// live is shared with every other handle of this process on the file:
	// the header check and the damage found while open (damage.go).
	live *liveFile

	w *sql.DB
	r *sql.DB
	// prepared holds statements prepared on the writer; it is filled
	// before the database is shared and only read afterwards.
	prepared map[string]*sql.Stmt

	pinMu sync.Mutex
	pin   *sql.Conn

	closeOnce sync.Once
	closeErr  error
}

// dsn builds a URI for path. Query parameters prefixed with '_' are read by
// the driver; SQLite ignores them.
func dsn(path string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: path, RawQuery: params.Encode()}
	return u.String()
}

func writerParams() url.Values {
	return url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
			"foreign_keys(1)",
			// In WAL mode NORMAL keeps every commit across a crash or kill
			// of the process (S5: the WAL is written before the commit
			// returns; only its fsync is deferred to checkpoints) and never
			// corrupts the file; a power cut may lose the last commits.
			// FULL would fsync on every commit, which more than doubled
			// BenchmarkMove's p99 on the shared 2-core machine.
			"synchronous(NORMAL)",
		},
		"_txlock": {"immediate"},
	}
}

func readerParams() url.Values {
	return url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
			"foreign_keys(1)",
			"query_only(1)",
		},
	}
}

// openDB opens path as a database of kind k, following S1–S4: header check
// before the first connection, integrity check on the first open in this
// process, WAL, migrations. On refusal it returns a *CorruptError with a
// backup copy made.
func openDB(path string, k kind) (*db, error) {
	key, err := canonical(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	registry.Lock()
	defer registry.Unlock()

	ctx := context.Background()
	first := registry.open[key] == 0
	if first {
		head, err := validateHeader(key, k.appID)
		if err == nil {
			// Before anything that writes, PRAGMA journal_mode=WAL
			// included: a foreign file must leave here unchanged.
			err = foreignCheck(ctx, key, head, k)
		}
		var ce *CorruptError
		if errors.As(err, &ce) {
			return nil, refuse(ce)
		}
		if err != nil {
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
		if err := createEmpty(key); err != nil {
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
	}

	d := &db{path: path, key: key, kind: k, live: registry.live[key]}
	if d.live == nil {
		if d.live, err = openLiveFile(key, k.appID); err != nil {
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
	}
	// fail undoes the open. No SQLite connection of ours has the file
	// open once closeConns has run and no other handle does (first), so
	// only then may the liveFile's descriptor be closed and the file read
	// for a copy: either would drop the other handles' locks.
	fail := func(err error) (*db, error) {
		d.closeConns()
		if first {
			d.live.f.Close()
		}
		var ce *CorruptError
		if errors.As(err, &ce) {
			if !first {
				return nil, ce
			}
			return nil, refuse(ce)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	d.w, err = sql.Open("sqlite", dsn(key, writerParams()))
	if err != nil {
		return fail(err)
	}
	d.w.SetMaxOpenConns(1)
	d.w.SetMaxIdleConns(1)
	d.w.SetConnMaxLifetime(0)
	d.w.SetConnMaxIdleTime(0)

	if !registry.checked[key] {
		if err := integrityCheck(ctx, d.w, key); err != nil {
			return fail(err)
		}
	}
	if _, err := d.w.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return fail(corruptIfSQLite(key, err))
	}
	if err := migrate(ctx, d.w, key, k); err != nil {
		return fail(err)
	}

	d.prepared = map[string]*sql.Stmt{}
	for _, q := range k.prepare {
		s, err := d.w.PrepareContext(ctx, q)
		if err != nil {
			return fail(fmt.Errorf("prepare %q: %w", q, err))
		}
		d.prepared[q] = s
	}

	d.r, err = sql.Open("sqlite", dsn(key, readerParams()))
	if err != nil {
		return fail(err)
	}
	d.r.SetMaxOpenConns(4)
	d.r.SetMaxIdleConns(4)
	d.r.SetConnMaxLifetime(0)
	d.r.SetConnMaxIdleTime(0)
	d.pin, err = d.r.Conn(ctx)
	if err != nil {
		return fail(err)
	}
	registry.checked[key] = true
	registry.open[key]++
	registry.live[key] = d.live
	return d, nil
}

// foreignCheck refuses a file that belongs to another application, before
// any connection that could write to it (migrate checks the same later,
// after PRAGMA journal_mode=WAL has rewritten bytes 18-19). validateHeader
// has refused a header with another application_id; a header with none is
// either a file spindle has not initialised yet (no tables) or another
// application's (tables, but no application_id). The header tells them
// apart when the main file is the whole database: the schema format at
// offset 44 stays 0 until the first table is created. Otherwise (a schema,
// or pages in the WAL, whose page 1 may carry spindle's application_id)
// foreignCheck looks at application_id and sqlite_schema.
//
// The look is a read-only connection (mode=ro: the file is opened O_RDONLY,
// so it cannot be written whatever SQLite does). With no WAL content it is
// also immutable=1, which reads only the main file and creates no -wal or
// -shm beside it; with WAL content SQLite has to read the WAL and may
// create the -shm (the WAL index) to do so, but it leaves the database and
// the WAL unchanged.
func foreignCheck(ctx context.Context, key string, head []byte, k kind) error {
	if len(head) < headerSize || binary.BigEndian.Uint32(head[68:72]) != 0 {
		return nil // empty, or validateHeader has judged the application_id
	}
	wal := walHasContent(key)
	if binary.BigEndian.Uint32(head[44:48]) == 0 && !wal {
		return nil // no table yet
	}
	params := url.Values{"mode": {"ro"}, "_pragma": {fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), "query_only(1)"}}
	if !wal {
		params.Set("immutable", "1")
	}
	look, err := sql.Open("sqlite", dsn(key, params))
	if err != nil {
		return err
	}
	defer look.Close()
	look.SetMaxOpenConns(1)
	var app int64
	var tables int
	if err := look.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		return corruptIfSQLite(key, err)
	}
	if err := look.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return corruptIfSQLite(key, err)
	}
	switch {
	case app != 0 && uint32(app) != k.appID:
		return &CorruptError{Path: key, Reason: foreignAppReason(uint32(app), k), TLSOffset: -1}
	case app == 0 && tables > 0:
		return &CorruptError{Path: key, Reason: "a foreign SQLite database: it has tables but no application_id", TLSOffset: -1}
	}
	return nil
}

// walHasContent reports whether the file has a non-empty -wal beside it.
func walHasContent(key string) bool {
	st, err := os.Stat(key + "-wal")
	return err == nil && st.Size() > 0
}

// createEmpty creates a missing database file with mode 0600, so that SQLite
// (which would use 0644) and its -wal and -shm files, which copy the main
// file's mode, keep the data private. Closing this descriptor is harmless:
// no SQLite connection of this process has the file open yet.
func createEmpty(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// integrityCheck runs PRAGMA integrity_check and turns a failure into a
// *CorruptError.
func integrityCheck(ctx context.Context, w *sql.DB, path string) error {
	rows, err := w.QueryContext(ctx, "PRAGMA integrity_check(5)")
	if err != nil {
		return corruptIfSQLite(path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return corruptIfSQLite(path, err)
		}
		if s != "ok" {
			// One row can hold several lines ("*** in database main
			// ***\nTree 2 page 2: …"); the refusal is one line.
			problems = append(problems, strings.ReplaceAll(strings.TrimSpace(s), "\n", "; "))
		}
	}
	if err := rows.Err(); err != nil {
		return corruptIfSQLite(path, err)
	}
	if len(problems) > 0 {
		return &CorruptError{Path: path, Reason: "integrity_check failed: " + strings.Join(problems, "; "), TLSOffset: -1}
	}
	return nil
}

// corruptIfSQLite turns SQLite's "malformed" and "not a database" errors
// into a *CorruptError; other errors pass through.
func corruptIfSQLite(path string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 11, 26: // SQLITE_CORRUPT, SQLITE_NOTADB
			return &CorruptError{Path: path, Reason: se.Error(), TLSOffset: -1}
		}
	}
	return err
}

// migrate brings the schema up to date in one immediate transaction and sets
// application_id and user_version. A file that belongs to another
// application is refused.
func migrate(ctx context.Context, w *sql.DB, path string, k kind) error {
	check := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) (version int, needed bool, err error) {
		var app int64
		if err := q.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
			return 0, false, corruptIfSQLite(path, err)
		}
		if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			return 0, false, corruptIfSQLite(path, err)
		}
		if app != 0 && uint32(app) != k.appID {
			return 0, false, &CorruptError{Path: path, Reason: foreignAppReason(uint32(app), k), TLSOffset: -1}
		}
		if app == 0 {
			var tables int
			if err := q.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
				return 0, false, corruptIfSQLite(path, err)
			}
			if tables > 0 {
				return 0, false, &CorruptError{Path: path, Reason: "a foreign SQLite database: it has tables but no application_id", TLSOffset: -1}
			}
		}
		if version > len(k.migrations) {
			return 0, false, fmt.Errorf("schema version %d is newer than this spindle understands (%d)", version, len(k.migrations))
		}
		return version, app == 0 || version < len(k.migrations), nil
	}
	if _, needed, err := check(w); err != nil || !needed {
		return err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	version, needed, err := check(tx)
	if err != nil || !needed {
		return err
	}
	for i := version; i < len(k.migrations); i++ {
		if _, err := tx.ExecContext(ctx, k.migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", int32(k.appID))); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(k.migrations))); err != nil {
		return err
	}
	return tx.Commit()
}

// wtx is a write transaction that runs the statements in db.prepared
// through their prepared form.
type wtx struct {
	*sql.Tx
	d *db
}

// execOne runs a statement that must change at least one row, and
// returns none (ErrNotFound, ErrNotRunning) when it changed none.
func (t *wtx) execOne(ctx context.Context, none error, query string, args ...any) error {
	res, err := t.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return none
	}
	return nil
}

func (t *wtx) stmt(ctx context.Context, q string) *sql.Stmt {
	if s := t.d.prepared[q]; s != nil {
		return t.Tx.StmtContext(ctx, s)
	}
	return nil
}

// ExecContext runs q, prepared if it is one of db.prepared.
func (t *wtx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if s := t.stmt(ctx, q); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

// QueryContext runs q, prepared if it is one of db.prepared.
func (t *wtx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s := t.stmt(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

// QueryRowContext runs q, prepared if it is one of db.prepared.
func (t *wtx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if s := t.stmt(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

// write runs fn in an immediate transaction on the writer connection. A
// file found damaged (damage.go) gets no transaction at all: the error is
// its *CorruptError.
func (d *db) write(ctx context.Context, fn func(tx *wtx) error) error {
	if err := d.live.check(); err != nil {
		return err
	}
	sqlTx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return d.live.noteDamage(err)
	}
	tx := &wtx{Tx: sqlTx, d: d}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return d.live.noteDamage(err)
	}
	return d.live.noteDamage(tx.Commit())
}

// read runs fn in a read-only transaction on a reader connection, so that
// several queries see one snapshot.
func (d *db) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return d.live.noteDamage(err)
	}
	defer tx.Rollback()
	return d.live.noteDamage(fn(tx))
}

// dataVersion reads PRAGMA data_version on the pinned connection. The value
// changes whenever another connection (the writer included) or another
// process commits. It checks the header first, so that the TUI's poll
// finds damage within a poll even when nothing is being written.
func (d *db) dataVersion(ctx context.Context) (int64, error) {
	if err := d.live.check(); err != nil {
		return 0, err
	}
	d.pinMu.Lock()
	defer d.pinMu.Unlock()
	if d.pin == nil {
		return 0, errors.New("closed")
	}
	var v int64
	err := d.pin.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
	return v, d.live.noteDamage(err)
}

// backup writes a consistent copy of the database to dest with VACUUM INTO.
// The copy is written under a temporary name beside dest, created empty
// with mode 0600 first (VACUUM INTO accepts an empty file and keeps its
// mode; the file it creates itself would be 0644), synced (VACUUM INTO
// does not sync) and only then linked to dest, so that a backup that fails
// (a full disk, a cancelled context) leaves no file behind, and dest is
// never overwritten. A damaged file is not backed up.
func (d *db) backup(ctx context.Context, dest string) (err error) {
	if err := d.live.check(); err != nil {
		return err
	}
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("%s already exists", dest)
	}
	tmp := dest + ".partial"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	// Closing is harmless: no SQLite connection has tmp open.
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	// The writer, since readers are query_only, which refuses VACUUM INTO.
	if _, err := d.w.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return d.live.noteDamage(err)
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if err := publish(tmp, dest); err != nil {
		return err
	}
	syncDir(filepath.Dir(dest))
	return nil
}

// publish gives the finished file tmp the name dest without replacing an
// existing dest: a hard link, then the temporary name goes. Where the file
// system has no hard links it falls back to a rename after a check that
// dest does not exist.
func publish(tmp, dest string) error {
	err := os.Link(tmp, dest)
	switch {
	case err == nil:
		os.Remove(tmp) // were it left, it would only be a second name
		return nil
	case errors.Is(err, os.ErrExist):
		return fmt.Errorf("%s already exists", dest)
	}
	if _, serr := os.Lstat(dest); serr == nil {
		return fmt.Errorf("%s already exists", dest)
	}
	return os.Rename(tmp, dest)
}

// syncFile fsyncs a file that no SQLite connection of this process has open.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory so that a new name in it survives a power
// cut; file systems that cannot are ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func (d *db) closeConns() {
	d.pinMu.Lock()
	if d.pin != nil {
		d.pin.Close()
		d.pin = nil
	}
	d.pinMu.Unlock()
	if d.r != nil {
		d.r.Close()
	}
	for _, s := range d.prepared {
		s.Close()
	}
	if d.w != nil {
		d.w.Close()
	}
}

func (d *db) close() error {
	d.closeOnce.Do(func() {
		d.pinMu.Lock()
		if d.pin != nil {
			d.closeErr = d.pin.Close()
			d.pin = nil
		}
		d.pinMu.Unlock()
		if err := d.r.Close(); err != nil && d.closeErr == nil {
			d.closeErr = err
		}
		for _, s := range d.prepared {
			s.Close()
		}
		if err := d.w.Close(); err != nil && d.closeErr == nil {
			d.closeErr = err
		}
		registry.Lock()
		registry.open[d.key]--
		if registry.open[d.key] <= 0 {
			// The last handle: no SQLite connection of this process
			// has the file open any more.
			delete(registry.open, d.key)
			delete(registry.live, d.key)
			d.live.f.Close()
		}
		registry.Unlock()
	})
	return d.closeErr
}

// nowMilli is the clock for every stored time: Unix milliseconds, so that a
// value read back is exactly the value written. A variable so that a test
// can stop the clock and make every change fall in one millisecond.
var nowMilli = func() int64 { return time.Now().UnixMilli() }

func fromMilli(ms int64) time.Time { return time.UnixMilli(ms) }
