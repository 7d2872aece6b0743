package files

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/spindle-sh/spindle/agent/tool"
)

// maxKept bounds the matches glob holds in memory to sort; past it, matches
// are only counted.
const maxKept = 100_000

// Glob is the `glob` tool: the paths in the tree that match a pattern.
type Glob struct{ P *Project }

type globArgs struct {
	Pattern string `json:"pattern"`
	Path    string `json:"path"`
}

// Name implements tool.Tool.
func (*Glob) Name() string { return "glob" }

// Description implements tool.Tool.
func (*Glob) Description() string {
	return "Find files by name pattern in the tree under path (default the project root). " +
		"Patterns are relative to path: * matches within one path segment, ** any number of directories, " +
		"{a,b} alternatives, e.g. **/*.go or cmd/*/main.go. .git and .gitignore'd paths are skipped. " +
		"Results are sorted by path (directories end in /), at most 1000."
}

// Schema implements tool.Tool.
func (*Glob) Schema() tool.Schema {
	return tool.Schema{
		Properties: map[string]any{
			"pattern": map[string]any{"type": "string", "description": "doublestar pattern, relative to path, e.g. **/*_test.go"},
			"path":    map[string]any{"type": "string", "description": "directory to search; default the project root"},
		},
		Required: []string{"pattern"},
	}
}

func (g *Glob) args(call tool.Call) (globArgs, *tool.Result) {
	var a globArgs
	if err := tool.Decode(call, &a, "pattern"); err != nil {
		r := tool.Failed(err)
		return a, &r
	}
	if a.Path == "" {
		a.Path = "."
	}
	if a.Pattern == "" {
		return a, failp(g.Name(), "pattern is empty")
	}
	if !doublestar.ValidatePattern(a.Pattern) {
		return a, failp(g.Name(), "bad pattern %q", a.Pattern)
	}
	if strings.HasPrefix(a.Pattern, "/") || hasDotDot(a.Pattern) {
		return a, failp(g.Name(), "pattern %q must be relative to path and not use ..; set path to search elsewhere", a.Pattern)
	}
	return a, nil
}

func hasDotDot(pattern string) bool {
	for _, seg := range strings.Split(pattern, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

// Approval implements tool.Asker: a search inside the project needs none.
func (g *Glob) Approval(call tool.Call) (*tool.Request, *tool.Result) {
	a, bad := g.args(call)
	if bad != nil {
		return nil, bad
	}
	return readApproval(g.P, g.Name(), a.Path)
}

// Run implements tool.Tool.
func (g *Glob) Run(ctx context.Context, call tool.Call) tool.Result {
	a, bad := g.args(call)
	if bad != nil {
		return *bad
	}
	base, _, err := g.P.Resolve(a.Path)
	if err != nil {
		return failf(g.Name(), "%v", err)
	}
	subject := g.P.subject(base)
	fi, err := os.Stat(base)
	if err != nil {
		return statErr(g.Name(), subject, err)
	}
	if !fi.IsDir() {
		return failf(g.Name(), "%s is not a directory", subject)
	}
	var matches []string
	dropped := 0 // matches past maxKept, counted only
	err = walk(ctx, base, g.P.ignorerFor(base), func(abs string, d fs.DirEntry) error {
		rel, err := filepath.Rel(base, abs)
		if err != nil {
			return nil
		}
		if !doublestar.MatchUnvalidated(a.Pattern, filepath.ToSlash(rel)) {
			return nil
		}
		if len(matches) == maxKept {
			dropped++
			return nil
		}
		name := g.P.subject(abs)
		if d.IsDir() {
			name += "/"
		}
		matches = append(matches, name)
		return nil
	})
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return failf(g.Name(), "stopped: the turn was interrupted")
	}
	if err != nil {
		return failf(g.Name(), "walk %s: %v", subject, err)
	}
	if len(matches) == 0 {
		return tool.OK(fmt.Sprintf("No paths under %s match %s.", subject, a.Pattern),
			fmt.Sprintf("glob %s: no matches", a.Pattern))
	}
	sort.Strings(matches)
	total := len(matches) + dropped
	summary := fmt.Sprintf("glob %s: %s", a.Pattern, plural(total, "match", "matches"))
	return tool.OK(listing(matches, total, maxEntries), summary+"\n"+listing(matches, total, maxScreenLines))
}
