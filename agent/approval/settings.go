package approval

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pelletier/go-toml/v2"
)

// settings is the project's .spindle/settings.toml.
type settings struct {
	Allow []string `toml:"allow,multiline"`
	Deny  []string `toml:"deny,multiline"`
}

const settingsHeader = `# spindle's approval rules for this project. "Always allow for this project"
# adds to allow; edit freely: spindle reads this file again when it changes (if
# it does not load, spindle says so and keeps the last good rules until it
# does). A rule is tool:pattern:
#   bash:go test *     a command, word by word; a last * means any further words
#   bash:=make > log   exactly this command text, nothing else
#   edit:docs/**       a file tool and a glob over the path from the project root
#   view:/etc/hosts    an absolute pattern is for paths outside the project
# deny rules win over everything, including --yolo.

`

// fileStamp is what tells one version of the settings file from another
// without reading it: a save by an editor changes the size or the
// modification time (nanoseconds here), and one that replaces the file by
// a rename changes the inode.
type fileStamp struct {
	exists bool
	size   int64
	mtime  int64 // Unix nanoseconds
	ino    uint64
	dev    uint64
}

// statSettings stamps the file at path. A file that cannot be stat'ed
// (missing, unreadable directory) stamps as missing; reading it says why.
func statSettings(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	st := fileStamp{exists: true, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino, st.dev = uint64(sys.Ino), uint64(sys.Dev)
	}
	return st
}

// readSettings loads a settings file; a missing file is empty settings. A
// file that does not parse, has unknown keys or bad rules is an error
// naming it.
func readSettings(path string) (settings, error) {
	var s settings
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("approval: read %s: %w", path, err)
	}
	d := toml.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&s); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return s, fmt.Errorf("approval: %s:%d:%d: %v", path, row, col, err)
		}
		return s, fmt.Errorf("approval: %s: %v", path, err)
	}
	for _, list := range [][]string{s.Allow, s.Deny} {
		if _, err := parseRules(list); err != nil {
			return s, fmt.Errorf("approval: %s: %w", path, err)
		}
	}
	return s, nil
}

// editSettings applies fn to the settings file as it is on disk now (the
// person may have edited it since it was loaded), writes it back
// atomically and takes its rules into use. If the file does not load,
// nothing is written. The caller holds p.mu.
func (p *Policy) editSettings(fn func(*settings)) error {
	s, err := readSettings(p.settingsPath)
	if err != nil {
		return err
	}
	fn(&s)
	if s.Allow == nil {
		s.Allow = []string{}
	}
	if s.Deny == nil {
		s.Deny = []string{}
	}
	body, err := toml.Marshal(s)
	if err != nil {
		return fmt.Errorf("approval: encode %s: %w", p.settingsPath, err)
	}
	if err := writeFileAtomic(p.settingsPath, append([]byte(settingsHeader), body...)); err != nil {
		return fmt.Errorf("approval: save %s: %w", p.settingsPath, err)
	}
	return p.reloadLocked()
}

// writeFileAtomic replaces path with data via a synced temporary file in
// the same directory and a rename, creating the directory if needed.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
