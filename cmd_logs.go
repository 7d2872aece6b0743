package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/spindle-sh/spindle/config"
)

// logsCmd is `spindle logs`: the tail of the log file.
func (a *app) logsCmd() *cobra.Command {
	var (
		lines  int
		follow bool
	)
	cmd := &cobra.Command{
		Use:   "logs [-n N] [-f]",
		Short: "Print the end of spindle's log file",
		Long: `logs prints the last lines of spindle's log file (` + config.LogPath() + `).
With -f it keeps printing lines as they are appended, until interrupted.

The log records requests, retries, interrupts ("OpenAI client aborted (...)")
and socket closes ("OpenAI client closed (...)"); it never contains the API key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if lines < 0 {
				return errors.New("logs: -n must be 0 or more")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return tailLog(ctx, config.LogPath(), lines, follow, 250*time.Millisecond, cmd.OutOrStdout())
		},
	}
	cmd.Flags().IntVarP(&lines, "lines", "n", 40, "number of lines to print")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until interrupted")
	return cmd
}

// tailLog writes the last n lines of path to w and, when follow is set,
// everything appended afterwards (starting over if the file is truncated or
// replaced) until ctx ends.
func tailLog(ctx context.Context, path string, n int, follow bool, poll time.Duration, w io.Writer) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !follow {
		return nil // nothing logged yet
	}
	var off int64
	if err == nil {
		off, err = writeTail(f, n, w)
		f.Close()
		if err != nil {
			return fmt.Errorf("logs: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("logs: %w", err)
	}
	if !follow {
		return nil
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	buf := make([]byte, 32<<10)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			off = 0
			continue
		}
		if err != nil {
			return fmt.Errorf("logs: %w", err)
		}
		if fi, err := f.Stat(); err == nil && fi.Size() < off {
			off = 0 // truncated or replaced: start over
		}
		for {
			k, rerr := f.ReadAt(buf, off)
			if k > 0 {
				if _, err := w.Write(buf[:k]); err != nil {
					f.Close()
					return fmt.Errorf("logs: %w", err)
				}
				off += int64(k)
			}
			if rerr != nil {
				break
			}
		}
		f.Close()
	}
}

// writeTail writes the last n lines of f (the last line may lack its
// newline) and returns the file size it read up to.
func writeTail(f *os.File, n int, w io.Writer) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	if n == 0 || size == 0 {
		return size, nil
	}
	const block = 64 << 10
	start := size
	var tail []byte
	for start > 0 {
		step := int64(block)
		if start < step {
			step = start
		}
		start -= step
		chunk := make([]byte, step)
		if _, err := f.ReadAt(chunk, start); err != nil && err != io.EOF {
			return 0, err
		}
		tail = append(chunk, tail...)
		// Count newlines, not counting one that ends the file.
		body := bytes.TrimSuffix(tail, []byte("\n"))
		if bytes.Count(body, []byte("\n")) >= n {
			break
		}
	}
	body := bytes.TrimSuffix(tail, []byte("\n"))
	cut := 0
	for i, seen := len(body)-1, 0; i >= 0; i-- {
		if body[i] == '\n' {
			seen++
			if seen == n {
				cut = i + 1
				break
			}
		}
	}
	if _, err := w.Write(tail[cut:]); err != nil {
		return 0, err
	}
	return size, nil
}
