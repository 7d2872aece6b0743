package files

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/spindle-sh/spindle/agent/tool"
)

// Limits of what the read tools hand back, so that one call cannot flood
// the model's context or the transcript.
const (
	maxEntries     = 1000 // ls and glob
	maxScreenLines = 20   // lines of a listing shown under the summary
)

// failf is the failed result for tool name: "view: no such file: a.txt".
func failf(name, format string, args ...any) tool.Result {
	return tool.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
}

// failp is failf as a pointer, for Approval.
func failp(name, format string, args ...any) *tool.Result {
	r := failf(name, format, args...)
	return &r
}

// readApproval is the approval rule of the read tools: nothing to ask
// inside the project, a request marked Outside otherwise.
func readApproval(p *Project, name, path string) (*tool.Request, *tool.Result) {
	abs, inside, err := p.Resolve(path)
	if err != nil {
		return nil, failp(name, "%v", err)
	}
	if inside {
		return nil, nil
	}
	return &tool.Request{
		Tool:    name,
		Subject: abs,
		Summary: fmt.Sprintf("%s %s (outside the project)", name, abs),
		Dir:     p.root,
		Outside: true,
	}, nil
}

// statErr turns a stat error into what the model is told.
func statErr(name, subject string, err error) tool.Result {
	if errors.Is(err, fs.ErrNotExist) {
		return failf(name, "no such file or directory: %s", subject)
	}
	return failf(name, "%s: %v", subject, unwrapPathError(err))
}

// walk visits every entry under base (not base itself) in lexical order,
// skipping `.git`, what ig ignores (nil: nothing) and, for directories,
// everything under them. It does not follow symlinks. ctx is checked at
// every entry. Unreadable directories are skipped, not fatal.
func walk(ctx context.Context, base string, ig *ignorer, fn func(abs string, d fs.DirEntry) error) error {
	return filepath.WalkDir(base, func(abs string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if abs == base {
			return err
		}
		if err != nil {
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Name() == ".git" || (ig != nil && ig.ignored(abs, d.IsDir())) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		return fn(abs, d)
	})
}

// ignorerFor returns the ignorer for a walk of base: rooted at the project
// when base is inside it, else at base; nil when base itself is ignored
// (the model asked for it by name, so it is shown unfiltered).
func (p *Project) ignorerFor(base string) *ignorer {
	top := base
	if p.contains(base) {
		top = p.root
	}
	ig := newIgnorer(top)
	if ig.ignored(base, true) {
		return nil
	}
	return ig
}
