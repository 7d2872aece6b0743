package files

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/spindle-sh/spindle/agent/tool"
)

// Grep limits: matches per call, characters of a matching line shown, and
// bytes of one line searched (the rest of a longer line is skipped).
const (
	grepMaxMatches   = 200
	grepMaxLineChars = 300
	grepMaxLineBytes = 64 << 10
)

// Grep is the `grep` tool: lines matching a regular expression.
type Grep struct{ P *Project }

type grepArgs struct {
	Pattern string `json:"pattern"`
	Path    string `json:"path"`
	Include string `json:"include"`
}

// Name implements tool.Tool.
func (*Grep) Name() string { return "grep" }

// Description implements tool.Tool.
func (*Grep) Description() string {
	return "Search text files for a regular expression (Go RE2 syntax, e.g. `func \\w+\\(` ; (?i) for " +
		"case-insensitive). path is a file or a directory (default the project root); include filters " +
		"files by a glob on their name (*.go) or on their path under path (cmd/**/*.go). " +
		"Results are path:line: text, at most 200. Binary files, .git and .gitignore'd paths are skipped."
}

// Schema implements tool.Tool.
func (*Grep) Schema() tool.Schema {
	return tool.Schema{
		Properties: map[string]any{
			"pattern": map[string]any{"type": "string", "description": "regular expression (Go RE2)"},
			"path":    map[string]any{"type": "string", "description": "file or directory to search; default the project root"},
			"include": map[string]any{"type": "string", "description": "only files matching this glob, e.g. *.go or **/*_test.go"},
		},
		Required: []string{"pattern"},
	}
}

func (g *Grep) args(call tool.Call) (grepArgs, *regexp.Regexp, *tool.Result) {
	var a grepArgs
	if err := tool.Decode(call, &a, "pattern"); err != nil {
		r := tool.Failed(err)
		return a, nil, &r
	}
	if a.Path == "" {
		a.Path = "."
	}
	if a.Pattern == "" {
		return a, nil, failp(g.Name(), "pattern is empty")
	}
	re, err := regexp.Compile(a.Pattern)
	if err != nil {
		return a, nil, failp(g.Name(), "bad pattern: %v", err)
	}
	if a.Include != "" && !doublestar.ValidatePattern(a.Include) {
		return a, nil, failp(g.Name(), "bad include pattern %q", a.Include)
	}
	return a, re, nil
}

// Approval implements tool.Asker: a search inside the project needs none.
func (g *Grep) Approval(call tool.Call) (*tool.Request, *tool.Result) {
	a, _, bad := g.args(call)
	if bad != nil {
		return nil, bad
	}
	return readApproval(g.P, g.Name(), a.Path)
}

// grepRun is the state of one search.
type grepRun struct {
	ctx     context.Context
	p       *Project
	re      *regexp.Regexp
	lines   []string
	matches int
	files   int // files with a match
	full    bool
}

// Run implements tool.Tool.
func (g *Grep) Run(ctx context.Context, call tool.Call) tool.Result {
	a, re, bad := g.args(call)
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
	run := &grepRun{ctx: ctx, p: g.P, re: re}
	if !fi.IsDir() {
		// One file named by the model: searched even if ignored, but a
		// binary is an answer, not a silent skip.
		binary, err := run.file(base)
		if ctx.Err() != nil {
			return failf(g.Name(), "stopped: the turn was interrupted")
		}
		if err != nil {
			return failf(g.Name(), "read %s: %v", subject, err)
		}
		if binary {
			return failf(g.Name(), "%s is a binary file; grep searches text files only", subject)
		}
	} else {
		err = walk(ctx, base, g.P.ignorerFor(base), func(abs string, d fs.DirEntry) error {
			if !d.Type().IsRegular() || run.full {
				// Symlinks are not followed: one inside the project
				// could point anywhere.
				return nil
			}
			if a.Include != "" && !included(a.Include, base, abs) {
				return nil
			}
			// An unreadable file is skipped, like grep -s; an interrupt
			// is seen by walk at the next entry.
			_, _ = run.file(abs)
			return nil
		})
		if ctx.Err() != nil {
			return failf(g.Name(), "stopped: the turn was interrupted")
		}
		if err != nil {
			return failf(g.Name(), "walk %s: %v", subject, err)
		}
	}
	if run.matches == 0 {
		return tool.OK(fmt.Sprintf("No matches for %s under %s.", a.Pattern, subject),
			fmt.Sprintf("grep %s: no matches", a.Pattern))
	}
	var model strings.Builder
	model.WriteString(strings.Join(run.lines, "\n"))
	model.WriteByte('\n')
	if run.full {
		fmt.Fprintf(&model, "\n(stopped at %d matches; narrow the pattern, path or include to see the rest)\n", grepMaxMatches)
	}
	summary := fmt.Sprintf("grep %s: %s in %s", a.Pattern, plural(run.matches, "match", "matches"), plural(run.files, "file", "files"))
	if run.full {
		summary = fmt.Sprintf("grep %s: stopped at %d matches in %s", a.Pattern, grepMaxMatches, plural(run.files, "file", "files"))
	}
	return tool.OK(model.String(), summary+"\n"+listing(run.lines, len(run.lines), maxScreenLines))
}

// included says whether abs passes the include glob: matched against the
// file's name when the glob has no "/", else against its path under base.
func included(include, base, abs string) bool {
	if !strings.Contains(include, "/") {
		return doublestar.MatchUnvalidated(include, filepath.Base(abs))
	}
	rel, err := filepath.Rel(base, abs)
	if err != nil {
		return false
	}
	return doublestar.MatchUnvalidated(include, filepath.ToSlash(rel))
}

// file searches one file, adding its matches until the limit is reached.
func (r *grepRun) file(abs string) (binary bool, err error) {
	f, err := os.Open(abs)
	if err != nil {
		return false, unwrapPathError(err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	sample, _ := br.Peek(sniffSize)
	if isBinary(sample) {
		return true, nil
	}
	name := r.p.subject(abs)
	found := false
	for lineNo := 1; ; lineNo++ {
		if lineNo%4096 == 0 && r.ctx.Err() != nil {
			return false, r.ctx.Err()
		}
		line, total, err := readLine(br, grepMaxLineBytes)
		if err == io.EOF && total == 0 {
			break
		}
		if err != nil && err != io.EOF {
			return false, err
		}
		if r.re.Match(line) {
			found = true
			r.matches++
			r.lines = append(r.lines, fmt.Sprintf("%s:%d: %s", name, lineNo, cutLong(line, total, grepMaxLineChars)))
			if r.matches == grepMaxMatches {
				r.full = true
				break
			}
		}
		if err == io.EOF {
			break
		}
	}
	if found {
		r.files++
	}
	return false, nil
}
