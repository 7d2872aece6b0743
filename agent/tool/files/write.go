package files

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/spindle-sh/spindle/agent/tool"
)

// Change limits: lines of a diff or new content in an approval request or
// a result's screen text.
const maxDiffLines = 200

// newFileMode is the mode of a file write creates.
const newFileMode fs.FileMode = 0o644

// Write is the `write` tool: a new file, or a whole file replaced.
type Write struct{ P *Project }

type writeArgs struct {
	Path    string  `json:"path"`
	Content *string `json:"content"`
}

// Name implements tool.Tool.
func (*Write) Name() string { return "write" }

// Description implements tool.Tool.
func (*Write) Description() string {
	return "Create a file, or replace a whole file, with content. Missing parent directories are created. " +
		"To change part of an existing file use edit. The person approves every write."
}

// Schema implements tool.Tool.
func (*Write) Schema() tool.Schema {
	return tool.Schema{
		Properties: map[string]any{
			"path":    map[string]any{"type": "string", "description": "file path, relative to the project root or absolute"},
			"content": map[string]any{"type": "string", "description": "the whole new content of the file"},
		},
		Required: []string{"path", "content"},
	}
}

// writePlan is a checked write: where, and what the file held before.
type writePlan struct {
	abs, subject string
	inside       bool
	content      string
	old          string
	exists       bool
	oldBinary    bool
}

func (w *Write) plan(call tool.Call) (writePlan, *tool.Result) {
	var a writeArgs
	if err := tool.Decode(call, &a, "path", "content"); err != nil {
		r := tool.Failed(err)
		return writePlan{}, &r
	}
	abs, inside, err := w.P.Resolve(a.Path)
	if err != nil {
		return writePlan{}, failp(w.Name(), "%v", err)
	}
	pl := writePlan{abs: abs, subject: w.P.subject(abs), inside: inside, content: *a.Content}
	old, exists, err := readExisting(abs)
	if err != nil {
		return writePlan{}, failp(w.Name(), "%s: %v", pl.subject, err)
	}
	pl.old, pl.exists, pl.oldBinary = old, exists, exists && isBinary([]byte(old))
	return pl, nil
}

// readExisting reads the file a change replaces: its text and whether it
// exists. A directory or a special file is an error.
func readExisting(abs string) (string, bool, error) {
	fi, err := os.Stat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, unwrapPathError(err)
	}
	if fi.IsDir() {
		return "", false, errors.New("is a directory")
	}
	if !fi.Mode().IsRegular() {
		return "", false, fmt.Errorf("is not a regular file (%s)", fi.Mode().Type())
	}
	b, err := os.ReadFile(abs)
	if err != nil {
		return "", false, unwrapPathError(err)
	}
	return string(b), true, nil
}

// Approval implements tool.Asker: every write is asked for, showing the
// diff against the file it replaces, or the content of a new file.
func (w *Write) Approval(call tool.Call) (*tool.Request, *tool.Result) {
	pl, bad := w.plan(call)
	if bad != nil {
		return nil, bad
	}
	size := plural(len(pl.content), "byte", "bytes")
	var what, detail string
	switch {
	case !pl.exists:
		what = "new file"
		detail = capLines(pl.content, maxDiffLines)
	case pl.oldBinary:
		what = fmt.Sprintf("replaces a binary file of %s", plural(len(pl.old), "byte", "bytes"))
		detail = capLines(pl.content, maxDiffLines)
	case pl.old == pl.content:
		what = "unchanged"
		detail = "(the file already holds exactly this content)"
	default:
		what = fmt.Sprintf("replaces %s", plural(len(pl.old), "byte", "bytes"))
		detail = capLines(diff(pl.subject, pl.old, pl.content), maxDiffLines)
	}
	return &tool.Request{
		Tool:    w.Name(),
		Subject: pl.subject,
		Summary: fmt.Sprintf("write %s (%s, %s)", pl.subject, size, what),
		Detail:  detail,
		Dir:     w.P.root,
		Outside: !pl.inside,
	}, nil
}

// Run implements tool.Tool.
func (w *Write) Run(ctx context.Context, call tool.Call) tool.Result {
	pl, bad := w.plan(call)
	if bad != nil {
		return *bad
	}
	if ctx.Err() != nil {
		return failf(w.Name(), "stopped: the turn was interrupted; %s was not written", pl.subject)
	}
	if err := os.MkdirAll(filepath.Dir(pl.abs), 0o755); err != nil {
		return failf(w.Name(), "create the directory of %s: %v", pl.subject, unwrapPathError(err))
	}
	if err := writeAtomic(pl.abs, []byte(pl.content)); err != nil {
		return failf(w.Name(), "%s: %v", pl.subject, err)
	}
	lines := strings.Count(pl.content, "\n")
	if pl.content != "" && !strings.HasSuffix(pl.content, "\n") {
		lines++
	}
	state := "new file"
	if pl.exists {
		state = "replaced"
	}
	msg := fmt.Sprintf("wrote %s (%s, %s, %s)", pl.subject, plural(len(pl.content), "byte", "bytes"), plural(lines, "line", "lines"), state)
	return tool.OK(msg, msg)
}

// maxDiffInput bounds the text diffed for a request or a result: a diff of
// two 13 MB files takes seconds (go-udiff, measured), and only its first
// maxDiffLines lines are shown anyway.
const maxDiffInput = 4 << 20

// diff is the unified diff of a change to the file named subject, or a note
// when the file is too big to diff.
func diff(subject, before, after string) string {
	if len(before)+len(after) > maxDiffInput {
		return fmt.Sprintf("(%s is too big to show a diff: %s bytes before, %s after)\n",
			subject, thousands(len(before)), thousands(len(after)))
	}
	return udiff.Unified("a/"+subject, "b/"+subject, before, after)
}

// writeAtomic replaces abs with data so that a reader (or a crash) sees the
// old file or the new one, never a mix: a temporary file in the same
// directory, synced, then renamed over abs. An existing file keeps its
// mode; a new one gets newFileMode.
func writeAtomic(abs string, data []byte) (err error) {
	mode := newFileMode
	if fi, err := os.Stat(abs); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("is not a regular file (%s)", fi.Mode().Type())
		}
		mode = fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	}
	dir := filepath.Dir(abs)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(abs)+".spindle-*")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", unwrapPathError(err))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write: %w", unwrapPathError(err))
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("chmod: %w", unwrapPathError(err))
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync: %w", unwrapPathError(err))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close: %w", unwrapPathError(err))
	}
	if err := os.Rename(tmp.Name(), abs); err != nil {
		return fmt.Errorf("rename into place: %w", unwrapPathError(err))
	}
	// The rename is durable once the directory is synced; a failure here
	// leaves the new file in place, so it is not reported.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
