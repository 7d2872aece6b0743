package files

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spindle-sh/spindle/agent/tool"
)

// View limits: lines per call, and characters kept of one line.
const (
	viewDefaultLimit = 2000
	viewMaxLineChars = 2000
)

// View is the `view` tool: a text file with line numbers.
type View struct{ P *Project }

type viewArgs struct {
	Path   string `json:"path"`
	Offset *int   `json:"offset"`
	Limit  *int   `json:"limit"`
}

// Name implements tool.Tool.
func (*View) Name() string { return "view" }

// Description implements tool.Tool.
func (*View) Description() string {
	return "Read a text file. Lines are numbered (cat -n style); at most 2000 lines per call, " +
		"lines longer than 2000 characters are cut. Use offset (1-based line number) and limit " +
		"to read a long file in parts. Binary files and directories are refused (use ls for a directory)."
}

// Schema implements tool.Tool.
func (*View) Schema() tool.Schema {
	return tool.Schema{
		Properties: map[string]any{
			"path":   map[string]any{"type": "string", "description": "file path, relative to the project root or absolute"},
			"offset": map[string]any{"type": "integer", "description": "first line to show, 1-based; default 1"},
			"limit":  map[string]any{"type": "integer", "description": "number of lines to show; default and maximum 2000"},
		},
		Required: []string{"path"},
	}
}

func (v *View) args(call tool.Call) (viewArgs, *tool.Result) {
	var a viewArgs
	if err := tool.Decode(call, &a, "path"); err != nil {
		r := tool.Failed(err)
		return a, &r
	}
	if a.Offset != nil && *a.Offset < 1 {
		return a, failp(v.Name(), "offset must be 1 or more (it is a 1-based line number), got %d", *a.Offset)
	}
	if a.Limit != nil && *a.Limit < 1 {
		return a, failp(v.Name(), "limit must be 1 or more, got %d", *a.Limit)
	}
	return a, nil
}

// Approval implements tool.Asker: a file inside the project needs none.
func (v *View) Approval(call tool.Call) (*tool.Request, *tool.Result) {
	a, bad := v.args(call)
	if bad != nil {
		return nil, bad
	}
	return readApproval(v.P, v.Name(), a.Path)
}

// Run implements tool.Tool.
func (v *View) Run(ctx context.Context, call tool.Call) tool.Result {
	a, bad := v.args(call)
	if bad != nil {
		return *bad
	}
	abs, _, err := v.P.Resolve(a.Path)
	if err != nil {
		return failf(v.Name(), "%v", err)
	}
	subject := v.P.subject(abs)
	f, err := os.Open(abs)
	if err != nil {
		return statErr(v.Name(), subject, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return statErr(v.Name(), subject, err)
	}
	if fi.IsDir() {
		return failf(v.Name(), "%s is a directory; use ls to list it", subject)
	}
	if !fi.Mode().IsRegular() {
		return failf(v.Name(), "%s is not a regular file (%s)", subject, fi.Mode().Type())
	}
	br := bufio.NewReaderSize(f, 64<<10)
	sample, _ := br.Peek(sniffSize)
	if isBinary(sample) {
		return failf(v.Name(), "%s is a binary file (%s bytes); view shows text files only", subject, thousands(fi.Size()))
	}
	if fi.Size() == 0 {
		return tool.OK(subject+" is an empty file.", "view "+subject+": empty file")
	}

	first, limit := 1, viewDefaultLimit
	if a.Offset != nil {
		first = *a.Offset
	}
	if a.Limit != nil && *a.Limit < limit {
		limit = *a.Limit
	}
	var out strings.Builder
	lineNo, shown := 0, 0
	for shown < limit {
		if lineNo%1024 == 0 && ctx.Err() != nil {
			return failf(v.Name(), "stopped: the turn was interrupted")
		}
		line, total, err := readLine(br, viewMaxLineChars*utf8Max)
		if err == io.EOF && total == 0 {
			break
		}
		if err != nil && err != io.EOF {
			return failf(v.Name(), "read %s: %v", subject, err)
		}
		lineNo++
		if lineNo < first {
			continue
		}
		fmt.Fprintf(&out, "%6d\t%s\n", lineNo, cutLong(line, total, viewMaxLineChars))
		shown++
		if err == io.EOF {
			break
		}
	}
	if shown == 0 {
		return failf(v.Name(), "offset %d is past the end of %s (%s)", first, subject, plural(lineNo, "line", "lines"))
	}
	last := first + shown - 1
	more := false
	if _, err := br.Peek(1); err == nil {
		more = true
	}
	screen := fmt.Sprintf("view %s: lines %d–%d", subject, first, last)
	if more {
		fmt.Fprintf(&out, "\n(showing lines %d–%d; the file goes on (%s bytes in all): use offset %d to read more)\n",
			first, last, thousands(fi.Size()), last+1)
		screen += " (more follow)"
	}
	return tool.OK(out.String(), screen)
}

// utf8Max is the most bytes one character takes.
const utf8Max = 4

// readLine reads one line without its "\n", keeping at most keep bytes of
// it (the rest is read and dropped, so memory stays bounded on a file with
// one huge line). total is the line's full length in bytes. At the end of
// the input it returns io.EOF, with the last line if it had no newline.
func readLine(br *bufio.Reader, keep int) (line []byte, total int, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		total += len(chunk)
		if room := keep - len(line); room > 0 {
			line = append(line, chunk[:min(room, len(chunk))]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == nil {
			// Drop the newline (kept only when it fit).
			total--
			if len(line) > 0 && line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
			}
		}
		return line, total, err
	}
}
