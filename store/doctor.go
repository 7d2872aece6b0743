package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// CheckResult is what Check found about one database file.
type CheckResult struct {
	Path   string
	Exists bool // false: a new database will be created on first open
	Size   int64
	// AppID and SchemaVersion are PRAGMA application_id and user_version
	// (0 for a file spindle has not initialised yet).
	AppID         uint32
	SchemaVersion int
	JournalMode   string
	// Err is nil when the header and PRAGMA integrity_check pass; a
	// *CorruptError when the file is refused (a copy has been kept);
	// another error when the check itself could not run.
	Err error
}

// Check examines the database at path as OpenBoard or OpenState would
// (header, then integrity_check) without migrating or creating it. The file
// must not be open in this process.
func Check(ctx context.Context, path string, appID uint32) CheckResult {
	return check(ctx, path, appID, true)
}

// check is Check; keepCopy says whether a refused file gets a corrupt copy
// (not for a backup that is only being considered for a restore).
func check(ctx context.Context, path string, appID uint32, keepCopy bool) CheckResult {
	res := CheckResult{Path: path}
	// refused finishes a *CorruptError (keeping a copy if asked to); any
	// other error is the check failing to run, and names the operation.
	refused := func(err error) CheckResult {
		var ce *CorruptError
		switch {
		case !errors.As(err, &ce):
			res.Err = fmt.Errorf("store: check %s: %w", path, err)
		case keepCopy:
			res.Err = refuse(err)
		default:
			res.Err = err
		}
		return res
	}
	key, err := canonical(path)
	if err != nil {
		return refused(err)
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.open[key] > 0 {
		res.Err = fmt.Errorf("store: check %s: the file is open in this process", path)
		return res
	}
	st, err := os.Stat(key)
	if errors.Is(err, os.ErrNotExist) {
		return res
	}
	if err != nil {
		return refused(err)
	}
	res.Exists, res.Size = true, st.Size()
	if !st.Mode().IsRegular() {
		return refused(errors.New("not a regular file"))
	}
	if err := validateHeader(key, appID); err != nil {
		return refused(err)
	}
	if res.Size == 0 {
		return res
	}
	conn, err := sql.Open("sqlite", dsn(key, readerParams()))
	if err != nil {
		return refused(err)
	}
	conn.SetMaxOpenConns(1)
	err = func() error {
		if err := integrityCheck(ctx, conn, key); err != nil {
			return err
		}
		var app int64
		if err := conn.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
			return corruptIfSQLite(key, err)
		}
		res.AppID = uint32(app)
		if app != 0 && uint32(app) != appID {
			return &CorruptError{Path: key, Reason: foreignAppReason(uint32(app), kindFor(appID)), TLSOffset: -1}
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&res.SchemaVersion); err != nil {
			return err
		}
		return conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&res.JournalMode)
	}()
	conn.Close()
	if err != nil {
		return refused(err)
	}
	registry.checked[key] = true
	return res
}

// BackupFile is a file kept beside a database.
type BackupFile struct {
	Path    string
	Kind    string // "backup" (VACUUM INTO), "corrupt" (a refused file's copy) or "replaced" (moved aside by a restore)
	Size    int64
	ModTime time.Time
}

// BackupPath is where a new backup of the database at path goes:
// <name>.backup.<timestamp>.bak beside it. The timestamp has nanoseconds,
// like the corrupt copies' names, so that two backups in the same second
// (a script running "spindle doctor --backup" twice) get distinct names and
// still sort in the order they were made.
func BackupPath(path string) string {
	return fmt.Sprintf("%s.backup.%s.bak", path, time.Now().UTC().Format(fileStamp))
}

// Backups lists the backups, corrupt copies and replaced files of the
// database at path, oldest first within each kind.
func Backups(path string) ([]BackupFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("store: list backups of %s: %w", path, err)
	}
	var out []BackupFile
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, base+".") {
			continue
		}
		rest := strings.TrimPrefix(n, base+".")
		var k string
		switch {
		case strings.HasPrefix(rest, "backup.") && strings.HasSuffix(rest, ".bak"):
			k = "backup"
		case strings.HasPrefix(rest, "corrupt.") && strings.HasSuffix(rest, ".bak"):
			k = "corrupt"
		case strings.HasPrefix(rest, "replaced.") && !strings.HasSuffix(rest, "-wal") && !strings.HasSuffix(rest, "-shm") && !strings.HasSuffix(rest, "-journal"):
			k = "replaced"
		default:
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, BackupFile{Path: filepath.Join(dir, n), Kind: k, Size: info.Size(), ModTime: info.ModTime()})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

// Restore replaces the database at path with the backup file. The backup
// must pass the header and integrity checks and carry appID. The current
// file, with its -wal, -shm and -journal files, is first moved aside to
// <name>.replaced.<timestamp> (returned; "" if there was no file). No
// process may have the database open: stop other spindle processes first.
func Restore(ctx context.Context, path, backup string, appID uint32) (aside string, err error) {
	fail := func(err error) (string, error) {
		return aside, fmt.Errorf("store: restore %s from %s: %w", path, backup, err)
	}
	key, err := canonical(path)
	if err != nil {
		return fail(err)
	}
	bkey, err := canonical(backup)
	if err != nil {
		return fail(err)
	}
	if bkey == key {
		return fail(errors.New("the backup is the database itself"))
	}
	registry.Lock()
	if registry.open[key] > 0 || registry.open[bkey] > 0 {
		registry.Unlock()
		return fail(errors.New("the file is open in this process"))
	}
	registry.Unlock()

	st, err := os.Stat(bkey)
	if err != nil {
		return fail(err)
	}
	if st.Size() == 0 {
		return fail(errors.New("the backup is empty"))
	}
	chk := check(ctx, bkey, appID, false)
	if chk.Err != nil {
		return fail(chk.Err)
	}
	if chk.AppID != appID {
		return fail(fmt.Errorf("the backup is not spindle's %s", kindFor(appID).name))
	}

	registry.Lock()
	defer registry.Unlock()
	if registry.open[key] > 0 {
		return fail(errors.New("the file is open in this process"))
	}
	stamp := time.Now().UTC().Format(fileStamp)
	tmp := key + ".restore-" + stamp
	if err := copyFile(bkey, tmp); err != nil {
		return fail(err)
	}
	if _, err := os.Stat(key); err == nil {
		aside = key + ".replaced." + stamp
		if err := os.Rename(key, aside); err != nil {
			os.Remove(tmp)
			aside = ""
			return fail(err)
		}
		for _, suffix := range []string{"-wal", "-shm", "-journal"} {
			if _, err := os.Stat(key + suffix); err == nil {
				if err := os.Rename(key+suffix, aside+suffix); err != nil {
					os.Remove(tmp)
					return fail(fmt.Errorf("move %s aside: %w", key+suffix, err))
				}
			}
		}
	}
	if err := os.Rename(tmp, key); err != nil {
		return fail(err)
	}
	if d, err := os.Open(filepath.Dir(key)); err == nil {
		d.Sync()
		d.Close()
	}
	delete(registry.checked, key)
	return aside, nil
}

// copyFile copies a file that no SQLite connection of this process has open
// (a backup, a refused file) to dest, which it creates (mode 0600; an
// existing dest is os.ErrExist) and syncs. On failure dest is removed.
func copyFile(src, dest string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dest)
	}
	return err
}
