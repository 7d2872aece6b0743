package files

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spindle-sh/spindle/agent/tool"
)

// LS is the `ls` tool: one directory's entries.
type LS struct{ P *Project }

type lsArgs struct {
	Path string `json:"path"`
}

// Name implements tool.Tool.
func (*LS) Name() string { return "ls" }

// Description implements tool.Tool.
func (*LS) Description() string {
	return "List a directory's entries (not recursive), sorted by name; directories end in /, " +
		"symlinks show their target. .git and what .gitignore ignores are left out. " +
		"Default: the project root. Use glob to find files in the whole tree."
}

// Schema implements tool.Tool.
func (*LS) Schema() tool.Schema {
	return tool.Schema{Properties: map[string]any{
		"path": map[string]any{"type": "string", "description": "directory, relative to the project root or absolute; default the root"},
	}}
}

func (l *LS) args(call tool.Call) (lsArgs, *tool.Result) {
	var a lsArgs
	if err := tool.Decode(call, &a); err != nil {
		r := tool.Failed(err)
		return a, &r
	}
	if a.Path == "" {
		a.Path = "."
	}
	return a, nil
}

// Approval implements tool.Asker: a directory inside the project needs none.
func (l *LS) Approval(call tool.Call) (*tool.Request, *tool.Result) {
	a, bad := l.args(call)
	if bad != nil {
		return nil, bad
	}
	return readApproval(l.P, l.Name(), a.Path)
}

// Run implements tool.Tool.
func (l *LS) Run(ctx context.Context, call tool.Call) tool.Result {
	a, bad := l.args(call)
	if bad != nil {
		return *bad
	}
	abs, _, err := l.P.Resolve(a.Path)
	if err != nil {
		return failf(l.Name(), "%v", err)
	}
	subject := l.P.subject(abs)
	fi, err := os.Stat(abs)
	if err != nil {
		return statErr(l.Name(), subject, err)
	}
	if !fi.IsDir() {
		return failf(l.Name(), "%s is not a directory; use view to read a file", subject)
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return failf(l.Name(), "%s: %v", subject, unwrapPathError(err))
	}
	if ctx.Err() != nil {
		return failf(l.Name(), "stopped: the turn was interrupted")
	}
	ig := l.P.ignorerFor(abs)
	var lines []string
	for _, e := range entries {
		full := filepath.Join(abs, e.Name())
		if e.Name() == ".git" || (ig != nil && ig.ignored(full, e.IsDir())) {
			continue
		}
		lines = append(lines, entryLine(full, e))
	}
	heading := subject
	if !strings.HasSuffix(heading, "/") {
		heading += "/"
	}
	if len(lines) == 0 {
		return tool.OK(heading+" is empty (or holds only ignored entries).", "ls "+heading+": empty")
	}
	summary := fmt.Sprintf("ls %s: %s", heading, plural(len(lines), "entry", "entries"))
	return tool.OK(heading+"\n"+listing(lines, len(lines), maxEntries),
		summary+"\n"+listing(lines, len(lines), maxScreenLines))
}

// entryLine is one entry as ls shows it.
func entryLine(full string, e fs.DirEntry) string {
	name := e.Name()
	switch {
	case e.IsDir():
		return name + "/"
	case e.Type()&fs.ModeSymlink != 0:
		target, err := os.Readlink(full)
		if err != nil {
			return name + " -> ?"
		}
		if fi, err := os.Stat(full); err == nil && fi.IsDir() {
			return name + "/ -> " + target
		}
		return name + " -> " + target
	}
	return name
}

// listing joins at most limit of lines and says how many more of total
// there were (total counts lines that were not even kept).
func listing(lines []string, total, limit int) string {
	var b strings.Builder
	for i, l := range lines {
		if i == limit {
			break
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if shown := min(len(lines), limit); total > shown {
		fmt.Fprintf(&b, "… and %s more\n", thousands(total-shown))
	}
	return b.String()
}
