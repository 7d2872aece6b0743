package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxFileSize is the largest configuration file Load reads. A real one is a
// few hundred bytes; the limit only stops a mistake (a log file, a device)
// from being read into memory whole.
const MaxFileSize = 64 << 10

// readRegular returns the contents of the regular file at path, following
// symlinks. A missing file (but not a symlink to one) is (nil, nil).
// Anything that is not a regular file is refused before it is opened,
// because opening a FIFO blocks until a writer appears and reading a
// device like /dev/zero never ends. The checks are repeated on the opened
// descriptor, and the open is non-blocking, so that a FIFO swapped in after
// the first check cannot block either. beforeOpen, if not nil, runs between
// the check and the open; tests use it to swap the file.
func readRegular(path string, beforeOpen func()) ([]byte, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if target, lerr := os.Readlink(path); lerr == nil {
			return nil, fmt.Errorf("config: %s is a symlink to %s, which does not exist", path, target)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := checkRegular(path, info); err != nil {
		return nil, err
	}
	if beforeOpen != nil {
		beforeOpen()
	}
	// O_NONBLOCK: opening a FIFO for reading returns at once instead of
	// waiting for a writer. It does not change how a regular file reads.
	// O_NOCTTY: a terminal swapped in must not become our controlling one.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	info, err = f.Stat()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := checkRegular(path, info); err != nil {
		return nil, err
	}
	if info.Size() > MaxFileSize {
		return nil, fmt.Errorf("config: %s is %d bytes, more than the %d a configuration file may have", path, info.Size(), MaxFileSize)
	}
	// The file may grow after the fstat: the limit is enforced on what is
	// read, too.
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("config: %s has grown to more than the %d bytes a configuration file may have", path, MaxFileSize)
	}
	return b, nil
}

// checkRegular refuses anything but a regular file, saying what it is
// and, for a symlink, what it points to.
func checkRegular(path string, info fs.FileInfo) error {
	m := info.Mode()
	if m.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeDevice != 0:
		what = "a device"
	}
	if target, err := os.Readlink(path); err == nil {
		return fmt.Errorf("config: %s is a symlink to %s, which is %s, not a regular file", path, target, what)
	}
	return fmt.Errorf("config: %s is %s, not a regular file", path, what)
}
