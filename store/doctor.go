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
	"strconv"
	"strings"
	"syscall"
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
	head, err := validateHeader(key, appID)
	if err == nil {
		err = foreignCheck(ctx, key, head, kindFor(appID))
	}
	if err != nil {
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
	Path string
	Kind string // "backup" (VACUUM INTO), "corrupt" (a refused file's copy) or "replaced" (moved aside by a restore)
	Size int64
	// Made is when the file was made: the time in its name (UTC), which
	// for a replaced file is the time of the restore that moved it aside.
	// A name without a time that parses gives ModTime.
	Made    time.Time
	ModTime time.Time // the last write, which for a replaced file is its last write as the database
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
		var k, stamp string
		switch {
		case strings.HasPrefix(rest, "backup.") && strings.HasSuffix(rest, ".bak"):
			k, stamp = "backup", strings.TrimSuffix(strings.TrimPrefix(rest, "backup."), ".bak")
		case strings.HasPrefix(rest, "corrupt.") && strings.HasSuffix(rest, ".bak"):
			k, stamp = "corrupt", strings.TrimSuffix(strings.TrimPrefix(rest, "corrupt."), ".bak")
		case strings.HasPrefix(rest, "replaced.") && !strings.HasSuffix(rest, "-wal") && !strings.HasSuffix(rest, "-shm") && !strings.HasSuffix(rest, "-journal"):
			k, stamp = "replaced", strings.TrimPrefix(rest, "replaced.")
		default:
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		made, err := time.Parse(fileStamp, stamp)
		if err != nil {
			made = info.ModTime()
		}
		out = append(out, BackupFile{Path: filepath.Join(dir, n), Kind: k, Size: info.Size(), Made: made, ModTime: info.ModTime()})
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
// <name>.replaced.<timestamp> (returned; "" if there was no file).
//
// No process may have the database open: a process that has keeps its
// descriptors on the file moved aside, writes there from then on, and
// holds card ids that may name other cards in the restored file. Restore
// refuses with an *InUseError (errors.Is(err, ErrInUse)) naming them when
// ProcessesUsing finds any; stop them first, or use ForceRestore.
func Restore(ctx context.Context, path, backup string, appID uint32) (aside string, err error) {
	return restoreFile(ctx, path, backup, appID, false)
}

// ForceRestore is Restore even while other processes have the database
// open; their later writes go to the file moved aside.
func ForceRestore(ctx context.Context, path, backup string, appID uint32) (aside string, err error) {
	return restoreFile(ctx, path, backup, appID, true)
}

func restoreFile(ctx context.Context, path, backup string, appID uint32, force bool) (aside string, err error) {
	fail := func(err error) (string, error) {
		return aside, &opError{op: fmt.Sprintf("store: restore %s from %s", path, backup), err: err}
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
	// Looked for after the copy, so that the moment between the look and
	// the renames is short: a process that opens the file in that moment
	// is not seen.
	if !force {
		procs, err := processesUsing(key)
		if err == nil && len(procs) > 0 {
			err = &InUseError{Path: key, Processes: procs}
		}
		if err != nil {
			os.Remove(tmp)
			return fail(err)
		}
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
	syncDir(filepath.Dir(key))
	delete(registry.checked, key)
	return aside, nil
}

// opError is an operation's error wrapped with the operation: one
// "store:" prefix, where fmt.Errorf("store: restore …: %w", err) would
// repeat it for an err that is the store's own ("store: restore … from …:
// store: refusing …").
type opError struct {
	op  string // "store: restore X from Y"
	err error
}

func (e *opError) Error() string { return e.op + ": " + strings.TrimPrefix(e.err.Error(), "store: ") }
func (e *opError) Unwrap() error { return e.err }

// Process is another process that uses a database.
type Process struct {
	// PID is the process id, 0 if a lock shows that the file is in use but
	// not by whom (the lock is an open file description lock, or its owner
	// is outside this PID namespace).
	PID int
	// Name is the command name (/proc/<pid>/comm), "" if unknown.
	Name string
}

// String is "pid N (name)" for messages.
func (p Process) String() string {
	switch {
	case p.PID <= 0:
		return "a process this one cannot see"
	case p.Name == "":
		return fmt.Sprintf("pid %d", p.PID)
	}
	return fmt.Sprintf("pid %d (%s)", p.PID, p.Name)
}

// InUseError is Restore's refusal of a database that other processes use.
// errors.Is(err, ErrInUse) holds for it.
type InUseError struct {
	Path      string
	Processes []Process
}

// Error names the file and every process found using it.
func (e *InUseError) Error() string {
	names := make([]string, len(e.Processes))
	for i, p := range e.Processes {
		names[i] = p.String()
	}
	return fmt.Sprintf("%s is in use by %s", e.Path, strings.Join(names, ", "))
}

// Is makes errors.Is(err, ErrInUse) true.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// The two ways ProcessesUsing looks; only tests switch one off, to show
// what the other finds alone.
var (
	inUseByProc = true
	inUseByLock = true
)

// ProcessesUsing lists the processes other than this one that use the
// database at path, found two ways:
//
//   - /proc/<pid>/fd: a process with the database or its -wal, -shm or
//     -journal file open under its own name, compared by device and inode,
//     so that the file reached through another directory (a bind mount,
//     another mount namespace) is found too. It sees every process of this
//     user (all of them for root) on Linux, whether or not it has touched
//     SQLite's locks yet.
//   - SQLite's own locks, asked with F_GETLK (which reports the owner's
//     pid): every connection to a WAL database holds a read lock on byte
//     128 of the -shm file (the "DMS" lock) and a SHARED lock on the main
//     file's lock bytes (0x40000000, 512 bytes) from its first read until
//     it closes, idle or not. This also sees processes of other users, but
//     only one per file, and only once they hold a lock.
//
// Neither takes a lock or reads the files. It must be called while this
// process has no SQLite connection to the file: it opens and closes the
// files to ask for their locks, which would drop this process's own.
func ProcessesUsing(path string) ([]Process, error) {
	key, err := canonical(path)
	if err != nil {
		return nil, fmt.Errorf("store: processes using %s: %w", path, err)
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.open[key] > 0 {
		return nil, fmt.Errorf("store: processes using %s: the file is open in this process", path)
	}
	procs, err := processesUsing(key)
	if err != nil {
		return nil, fmt.Errorf("store: processes using %s: %w", path, err)
	}
	return procs, nil
}

// sqliteLockRanges are the byte ranges where SQLite's unix VFS takes its
// locks: PENDING, RESERVED and the SHARED range in the main file; the WAL
// locks (120..127) and the DMS lock (128) in the -shm file.
var sqliteLockRanges = map[string][2]int64{"": {0x40000000, 512}, "-shm": {120, 9}}

func processesUsing(key string) ([]Process, error) {
	type inode struct{ dev, ino uint64 }
	files := map[inode]bool{}
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		var st syscall.Stat_t
		if err := syscall.Stat(key+suffix, &st); err == nil {
			files[inode{uint64(st.Dev), st.Ino}] = true
		} else if !errors.Is(err, syscall.ENOENT) {
			return nil, err
		}
	}
	found := map[int]bool{}
	if inUseByProc {
		self, base := os.Getpid(), filepath.Base(key)
		procDirs, _ := os.ReadDir("/proc") // no /proc: only the locks can tell
		for _, pd := range procDirs {
			pid, err := strconv.Atoi(pd.Name())
			if err != nil || pid == self {
				continue
			}
			fdDir := filepath.Join("/proc", pd.Name(), "fd")
			fds, err := os.ReadDir(fdDir)
			if err != nil {
				continue // gone, or another user's
			}
			for _, fd := range fds {
				link := filepath.Join(fdDir, fd.Name())
				// Only names that start like the database's are
				// stat'ed: reading the link is answered by /proc
				// alone, while stat reaches the file's own file
				// system (a hung network mount would hang here).
				target, err := os.Readlink(link)
				if err != nil || !strings.HasPrefix(filepath.Base(target), base) {
					continue
				}
				var st syscall.Stat_t
				// stat follows the link to the open file itself.
				if syscall.Stat(link, &st) == nil && files[inode{uint64(st.Dev), st.Ino}] {
					found[pid] = true
					break
				}
			}
		}
	}
	if inUseByLock {
		for suffix, r := range sqliteLockRanges {
			pid, err := lockOwner(key+suffix, r[0], r[1])
			if err != nil {
				return nil, err
			}
			if pid != 0 {
				found[max(pid, 0)] = true
			}
		}
	}
	var procs []Process
	for pid := range found {
		p := Process{PID: pid}
		if pid > 0 {
			if comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm")); err == nil {
				p.Name = strings.TrimSpace(string(comm))
			}
		}
		procs = append(procs, p)
	}
	sort.Slice(procs, func(i, j int) bool { return procs[i].PID < procs[j].PID })
	return procs, nil
}

// lockOwner asks whether another process holds a lock on len bytes of path
// from start, and returns its pid: 0 if none does or path does not exist,
// -1 if one does but its pid is not known.
func lockOwner(path string, start, length int64) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart, Start: start, Len: length}
	// The descriptor number stays inside Control, as everywhere in spindle.
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var lkErr error
	if err := rc.Control(func(fd uintptr) { lkErr = syscall.FcntlFlock(fd, syscall.F_GETLK, &lk) }); err != nil {
		return 0, err
	}
	if lkErr != nil {
		return 0, fmt.Errorf("ask for the locks on %s: %w", path, lkErr)
	}
	if lk.Type == syscall.F_UNLCK {
		return 0, nil
	}
	if lk.Pid <= 0 {
		return -1, nil
	}
	return int(lk.Pid), nil
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
