package transcript

import (
	"fmt"
	"strings"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/tui/cell"
	"github.com/spindle-sh/spindle/tui/markdown"
)

// fullRenderLimit is the longest reply rendered whole when it completes
// (≈13 ms of glamour); longer ones keep their streamed blocks.
const fullRenderLimit = 4 << 10

// Kind is what an entry of the transcript is.
type Kind int

// The kinds of entry.
const (
	KindUser Kind = iota
	KindAssistant
	KindTool
	KindNote
	KindQueued // a message typed while a reply streams, sent when it ends
)

// Status is the state of an assistant reply.
type Status int

// The statuses of a reply.
const (
	StatusDone Status = iota
	StatusWaiting
	StatusStreaming
	StatusInterrupted
	StatusFailed
)

// Item is one entry of the transcript. Its text is sanitized as it is set
// (a streamed reply through one sanitize.Stream, so that an escape sequence
// cut across deltas is removed whole): nothing the model or a tool said
// reaches the screen unfiltered. Rendered lines are cached per width; a
// finished item's cache is valid until the width changes.
type Item struct {
	kind   Kind
	status Status
	text   string // sanitized
	errMsg string // sanitized, one line, for StatusFailed
	reason agent.Reason
	san    sanitize.Stream // of a streamed reply

	// A tool call: its name and arguments, and the result once it came.
	toolID, toolName, toolArgs string
	toolScreen                 string // sanitized
	toolErr, toolDone          bool
	toolAwaiting               bool // waiting for the person's approval

	// Cache of the full render, valid for cacheWidth, cacheGen and
	// cacheExpand.
	cacheWidth  int
	cacheGen    int
	cacheExpand bool
	cache       []string
	gen         int // bumped on every change

	// Streaming: closed markdown blocks rendered once.
	blocks      markdown.BlockScanner
	closedLines []string // closed blocks rendered at closedWidth
	closedEnd   int      // bytes of text covered by closedLines
	closedWidth int
}

// NewUser is a message the person sent.
func NewUser(text string) *Item { return &Item{kind: KindUser, text: sanitize.String(text)} }

// NewNote is a note from spindle itself (a command's answer).
func NewNote(text string) *Item { return &Item{kind: KindNote, text: sanitize.String(text)} }

// NewQueued is a message typed ahead while a reply streams.
func NewQueued(text string) *Item { return &Item{kind: KindQueued, text: sanitize.String(text)} }

// NewReply is an assistant reply, waiting for its first text.
func NewReply() *Item { return &Item{kind: KindAssistant, status: StatusWaiting} }

// newTool is a tool call shown as running.
func newTool(id, name, args string) *Item {
	return &Item{kind: KindTool, toolID: id, toolName: sanitize.Line(name), toolArgs: args}
}

// Kind is the item's kind.
func (it *Item) Kind() Kind { return it.kind }

// Status is a reply's status.
func (it *Item) Status() Status { return it.status }

// Text is the item's sanitized text.
func (it *Item) Text() string { return it.text }

// Rendered reports whether the item has a cached render (for tests that
// check a frame renders only what is visible).
func (it *Item) Rendered() bool { return it.cache != nil }

// appendText adds a streamed delta.
func (it *Item) appendText(delta string) {
	if s := it.san.Write(delta); s != "" {
		it.text += s
		it.gen++
	}
}

// setText replaces the text (a turn's final, saved text). Blocks already
// rendered while streaming stay valid when the new text extends the old.
func (it *Item) setText(text string) {
	it.san = sanitize.Stream{}
	text = sanitize.String(text)
	if !strings.HasPrefix(text, it.text[:min(it.closedEnd, len(it.text))]) {
		it.blocks, it.closedLines, it.closedEnd, it.closedWidth = markdown.BlockScanner{}, nil, 0, 0
	}
	it.text = text
	it.gen++
}

// flush ends a streamed reply's text: whatever the sanitizer held back.
func (it *Item) flush() {
	if s := it.san.Flush(); s != "" {
		it.text += s
	}
	it.gen++
}

// setStatus changes the status and drops the cached render.
func (it *Item) setStatus(s Status) {
	it.status = s
	it.gen++
}

func (it *Item) live() bool { return it.status == StatusWaiting || it.status == StatusStreaming }

// Renderer is what drawing an item needs: the width, the markdown renderer,
// the styles and the spinner's current frame.
type Renderer struct {
	Width int
	MD    *markdown.Renderer
	St    *Styles
	Spin  string
	// ExpandTools shows each tool call's output under its line.
	ExpandTools bool
}

// Lines returns the item rendered at r.Width, followed by one blank
// separator line; every line is exactly r.Width cells wide.
func (it *Item) Lines(r Renderer) []string {
	width := max(r.Width, 1)
	st := r.St
	live := it.live()
	if !live && it.cache != nil && it.cacheWidth == width && it.cacheGen == it.gen && it.cacheExpand == r.ExpandTools {
		return it.cache
	}
	var out []string
	switch it.kind {
	case KindUser:
		out = append(out, cell.Cut(st.User.Render("you"), width))
		for _, l := range markdown.Plain(it.text, width) {
			out = append(out, st.Body.Render(l))
		}
	case KindNote:
		for _, l := range markdown.Plain(it.text, width) {
			out = append(out, st.Note.Render(l))
		}
	case KindQueued:
		out = append(out, cell.Cut(st.User.Render("you")+st.Queued.Render(" · queued: sent when the reply ends"), width))
		for _, l := range markdown.Plain(it.text, width) {
			out = append(out, st.Queued.Render(l))
		}
	case KindTool:
		out = append(out, it.toolLines(width, st, r.ExpandTools)...)
	case KindAssistant:
		out = append(out, cell.Cut(st.Assistant.Render("assistant"), width))
		out = append(out, it.bodyLines(width, r)...)
	}
	out = append(out, "")
	if !live {
		// Padded once here, so that a frame lays the history out without
		// measuring a single line. (A live reply pads its parts as it makes
		// them: the closed blocks once, the tail per frame.)
		out = cell.Fit(out, width, len(out))
		it.cache, it.cacheWidth, it.cacheGen, it.cacheExpand = out, width, it.gen, r.ExpandTools
	} else {
		out[0] = cell.Pad(out[0], width)
		out[len(out)-1] = cell.Spaces(width)
	}
	return out
}

// bodyLines renders an assistant reply. A finished reply is rendered whole
// once. While streaming, each closed block is rendered once and kept, and
// the open tail is shown as plain wrapped text, so a frame costs the tail.
func (it *Item) bodyLines(width int, r Renderer) []string {
	st, md := r.St, r.MD
	var out []string
	switch it.status {
	case StatusWaiting:
		if it.text == "" {
			return []string{cell.Pad(st.Spinner.Render(r.Spin+" thinking…"), width)}
		}
		fallthrough
	case StatusStreaming:
		return it.streamLines(width, md, st)
	}
	switch {
	case it.text == "":
	case len(it.text) > fullRenderLimit && it.closedWidth == width && it.closedEnd > 0:
		// A long reply keeps the blocks rendered while it streamed and
		// renders only the rest: rendering it whole would cost one frame
		// tens of milliseconds.
		it.streamLines(width, md, st)
		out = append(out, it.closedLines...)
		if rest := strings.TrimLeft(it.text[it.closedEnd:], "\n"); rest != "" {
			out = append(out, "")
			out = append(out, md.Render(rest, width)...)
		}
	default:
		// Rendered whole once more: block by block output differs
		// slightly where blocks join (lists, spacing).
		out = md.Render(it.text, width)
	}
	switch it.status {
	case StatusInterrupted:
		mark := "⏸ interrupted"
		if it.reason != "" && it.reason != agent.InterruptAbort {
			mark += " (" + sanitize.Line(string(it.reason)) + ")"
		}
		out = append(out, cell.Cut(st.Interrupted.Render(mark), width))
	case StatusFailed:
		msg := "✗ failed"
		if it.errMsg != "" {
			msg += ": " + it.errMsg
		}
		for _, l := range markdown.Plain(msg, width) {
			out = append(out, st.Failed.Render(l))
		}
	}
	return out
}

// streamLines is the streaming render: cached closed blocks plus the tail.
func (it *Item) streamLines(width int, md *markdown.Renderer, st *Styles) []string {
	it.blocks.Scan(it.text)
	if it.closedWidth != width {
		it.closedLines, it.closedEnd, it.closedWidth = nil, 0, width
	}
	for _, end := range it.blocks.Ends {
		if end <= it.closedEnd {
			continue
		}
		if len(it.closedLines) > 0 {
			it.closedLines = append(it.closedLines, cell.Spaces(width))
		}
		block := md.Render(it.text[it.closedEnd:end], width)
		it.closedLines = append(it.closedLines, cell.Fit(block, width, len(block))...)
		it.closedEnd = end
	}
	tail := strings.TrimLeft(it.text[it.closedEnd:], "\n")
	out := make([]string, 0, len(it.closedLines)+4)
	out = append(out, it.closedLines...)
	if tail != "" {
		if len(out) > 0 {
			out = append(out, cell.Spaces(width))
		}
		tl := markdown.TrimBlank(markdown.Plain(tail, width))
		for i, l := range tl {
			tl[i] = st.Body.Render(l)
		}
		out = append(out, cell.Fit(tl, width, len(tl))...)
	}
	return out
}

// expandedLines is how many lines of a tool's output show when tool
// output is expanded.
const expandedLines = 40

// toolLines renders a tool call as one line (the tool and what it acts
// on), then its outcome, and with expand the output (a diff coloured).
func (it *Item) toolLines(width int, st *Styles, expand bool) []string {
	head := "⚙ " + it.toolName
	if args := sanitize.Line(tool.Describe(tool.Call{Name: it.toolName, Args: it.toolArgs})); args != "" {
		head += " " + args
	}
	out := []string{cell.Cut(st.Tool.Render(head), width)}
	first, rest, _ := strings.Cut(it.toolScreen, "\n")
	first = sanitize.Line(first)
	switch {
	case it.toolAwaiting:
		out = append(out, cell.Cut(st.Awaiting.Render("  ? waiting for your approval"), width))
	case !it.toolDone:
		out = append(out, cell.Cut(st.Tool.Render("  … running"), width))
	case it.toolErr:
		out = append(out, cell.Cut(st.Failed.Render("  ✗ "+first), width))
	default:
		out = append(out, cell.Cut(st.ToolOK.Render("  ✓ "+first), width))
	}
	if !expand || rest == "" {
		return out
	}
	lines := strings.Split(markdown.ExpandTabs(strings.TrimRight(rest, "\n")), "\n")
	more := 0
	if len(lines) > expandedLines {
		more, lines = len(lines)-expandedLines, lines[:expandedLines]
	}
	for _, l := range lines {
		style := st.Output
		switch {
		case strings.HasPrefix(l, "+") && !strings.HasPrefix(l, "+++"):
			style = st.DiffAdd
		case strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "---"):
			style = st.DiffDel
		case strings.HasPrefix(l, "@@"):
			style = st.DiffHunk
		}
		out = append(out, cell.Cut(style.Render("    "+l), width))
	}
	if more > 0 {
		out = append(out, st.Output.Render(fmt.Sprintf("    … %d more lines", more)))
	}
	return out
}
