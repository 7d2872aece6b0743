package files

import (
	"context"
	"fmt"
	"strings"

	"github.com/spindle-sh/spindle/agent/tool"
)

// Edit is the `edit` tool: replace an exact string in a file.
type Edit struct{ P *Project }

type editArgs struct {
	Path       string  `json:"path"`
	OldString  *string `json:"old_string"`
	NewString  *string `json:"new_string"`
	ReplaceAll bool    `json:"replace_all"`
}

// Name implements tool.Tool.
func (*Edit) Name() string { return "edit" }

// Description implements tool.Tool.
func (*Edit) Description() string {
	return "Replace old_string with new_string in a file. old_string must match the file exactly " +
		"(whitespace and indentation included; view the file first, and leave out view's line-number prefix) " +
		"and occur exactly once, unless replace_all is true. Include enough surrounding lines to make it unique. " +
		"Nothing is written when it does not match. The person approves every edit."
}

// Schema implements tool.Tool.
func (*Edit) Schema() tool.Schema {
	return tool.Schema{
		Properties: map[string]any{
			"path":        map[string]any{"type": "string", "description": "file path, relative to the project root or absolute"},
			"old_string":  map[string]any{"type": "string", "description": "the exact text to replace"},
			"new_string":  map[string]any{"type": "string", "description": "the text to put in its place"},
			"replace_all": map[string]any{"type": "boolean", "description": "replace every occurrence; default false"},
		},
		Required: []string{"path", "old_string", "new_string"},
	}
}

// editPlan is a checked edit: the file, its content before and after.
type editPlan struct {
	abs, subject string
	inside       bool
	before       string
	after        string
	count        int // replacements
	firstLine    int // 1-based line of the first replacement
}

func (e *Edit) plan(call tool.Call) (editPlan, *tool.Result) {
	var a editArgs
	if err := tool.Decode(call, &a, "path", "old_string", "new_string"); err != nil {
		r := tool.Failed(err)
		return editPlan{}, &r
	}
	oldS, newS := *a.OldString, *a.NewString
	if oldS == "" {
		return editPlan{}, failp(e.Name(), "old_string is empty; use write to create a file or replace all of it")
	}
	if oldS == newS {
		return editPlan{}, failp(e.Name(), "old_string and new_string are the same; nothing to change")
	}
	abs, inside, err := e.P.Resolve(a.Path)
	if err != nil {
		return editPlan{}, failp(e.Name(), "%v", err)
	}
	subject := e.P.subject(abs)
	before, exists, err := readExisting(abs)
	if err != nil {
		return editPlan{}, failp(e.Name(), "%s: %v", subject, err)
	}
	if !exists {
		return editPlan{}, failp(e.Name(), "no such file: %s (use write to create it)", subject)
	}
	if isBinary([]byte(before)) {
		return editPlan{}, failp(e.Name(), "%s is a binary file; edit changes text files only", subject)
	}
	count := strings.Count(before, oldS)
	switch {
	case count == 0:
		return editPlan{}, failp(e.Name(), "old_string was not found in %s; nothing was changed. "+
			"It must match exactly, whitespace included: view the file and copy the text", subject)
	case count > 1 && !a.ReplaceAll:
		return editPlan{}, failp(e.Name(), "old_string occurs %d times in %s; nothing was changed. "+
			"Add surrounding lines to make it unique, or set replace_all to replace every occurrence", count, subject)
	}
	after := strings.Replace(before, oldS, newS, count)
	return editPlan{
		abs: abs, subject: subject, inside: inside,
		before: before, after: after, count: count,
		firstLine: strings.Count(before[:strings.Index(before, oldS)], "\n") + 1,
	}, nil
}

// Approval implements tool.Asker: every edit is asked for, with its diff.
// An edit that cannot apply (no file, no match, several matches) is
// answered at once, without asking.
func (e *Edit) Approval(call tool.Call) (*tool.Request, *tool.Result) {
	pl, bad := e.plan(call)
	if bad != nil {
		return nil, bad
	}
	return &tool.Request{
		Tool:    e.Name(),
		Subject: pl.subject,
		Summary: fmt.Sprintf("edit %s (%s)", pl.subject, plural(pl.count, "replacement", "replacements")),
		Detail:  capLines(diff(pl.subject, pl.before, pl.after), maxDiffLines),
		Dir:     e.P.root,
		Outside: !pl.inside,
	}, nil
}

// Run implements tool.Tool. The match is checked again against the file
// as it is now; if it changed so that the edit no longer applies, nothing
// is written.
func (e *Edit) Run(ctx context.Context, call tool.Call) tool.Result {
	pl, bad := e.plan(call)
	if bad != nil {
		return *bad
	}
	if ctx.Err() != nil {
		return failf(e.Name(), "stopped: the turn was interrupted; %s was not changed", pl.subject)
	}
	if err := writeAtomic(pl.abs, []byte(pl.after)); err != nil {
		return failf(e.Name(), "%s: %v", pl.subject, err)
	}
	d := diff(pl.subject, pl.before, pl.after)
	added, removed := diffStat(d)
	reps := plural(pl.count, "replacement", "replacements")
	model := fmt.Sprintf("edited %s: %s, the first at line %d", pl.subject, reps, pl.firstLine)
	screen := fmt.Sprintf("edit %s: %s (+%d −%d)\n%s", pl.subject, reps, added, removed, capLines(d, maxDiffLines))
	return tool.OK(model, screen)
}

// diffStat counts the added and removed lines of a unified diff (the
// "---"/"+++" file header before the first hunk is not a change).
func diffStat(d string) (added, removed int) {
	inHunk := false
	for _, l := range strings.Split(d, "\n") {
		switch {
		case strings.HasPrefix(l, "@@"):
			inHunk = true
		case !inHunk:
		case strings.HasPrefix(l, "+"):
			added++
		case strings.HasPrefix(l, "-"):
			removed++
		}
	}
	return added, removed
}
