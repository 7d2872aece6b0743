package transcript

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

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
//
// A reply longer than partLimit is shown as several items, its parts (see
// parts.go): each is drawn, cached and dropped on its own, so that no frame
// and no render costs more than a part, however long the reply.
type Item struct {
	kind   Kind
	status Status
	text   string // sanitized
	errMsg string // sanitized, one line, for StatusFailed
	reason agent.Reason
	cont   bool    // a later part of a long reply: drawn without the header
	plain  bool    // inside a block too large for markdown: drawn as plain text
	st     *stream // a reply's streaming state until it ends

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

	// Streaming: closed markdown blocks rendered once, and the open tail's
	// complete lines wrapped once.
	blocks      markdown.BlockScanner
	closedLines []string // closed blocks rendered at closedWidth
	closedEnd   int      // bytes of text covered by closedLines
	closedWidth int
	tail        tailCache

	held    int  // rendered lines its transcript has counted
	tracked bool // in its transcript's list of kept renders
}

// tailCache holds the rows of the open tail's complete lines, so that a
// frame wraps only the line still being written.
type tailCache struct {
	from, done, width int      // the tail starts at from; rows cover text[from:done]
	rows              []string // styled, exactly width cells
}

// NewUser is a message the person sent.
func NewUser(text string) *Item { return &Item{kind: KindUser, text: sanitize.String(text)} }

// NewNote is a note from spindle itself (a command's answer).
func NewNote(text string) *Item { return &Item{kind: KindNote, text: sanitize.String(text)} }

// NewQueued is a message typed ahead while a reply streams.
func NewQueued(text string) *Item { return &Item{kind: KindQueued, text: sanitize.String(text)} }

// NewReply is an assistant reply, waiting for its first text.
func NewReply() *Item { return &Item{kind: KindAssistant, status: StatusWaiting, st: &stream{}} }

// newTool is a tool call shown as running.
func newTool(id, name, args string) *Item {
	return &Item{kind: KindTool, toolID: id, toolName: sanitize.Line(name), toolArgs: args}
}

// Kind is the item's kind.
func (it *Item) Kind() Kind { return it.kind }

// Status is a reply's status.
func (it *Item) Status() Status { return it.status }

// Text is the item's sanitized text (of a long reply, this part's).
func (it *Item) Text() string { return it.text }

// Rendered reports whether the item has a cached render (for tests that
// check a frame renders only what is visible).
func (it *Item) Rendered() bool { return it.cache != nil || it.closedLines != nil }

// heldLines is how many rendered lines the item keeps.
func (it *Item) heldLines() int { return len(it.cache) + len(it.closedLines) + len(it.tail.rows) }

// dropRender forgets a finished item's renders; the next frame that shows
// it renders it again.
func (it *Item) dropRender() {
	if it.live() {
		return
	}
	it.cache, it.cacheWidth = nil, 0
	it.blocks, it.closedLines, it.closedEnd, it.closedWidth = markdown.BlockScanner{}, nil, 0, 0
	it.tail = tailCache{}
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
// separator line; every line is exactly r.Width cells wide. The slice is
// the item's own: callers copy from it and do not change it.
func (it *Item) Lines(r Renderer) []string {
	width := max(r.Width, 1)
	st := r.St
	live := it.live()
	if !live && it.cache != nil && it.cacheWidth == width && it.cacheGen == it.gen && it.cacheExpand == r.ExpandTools {
		return it.cache
	}
	if live && it.cont && it.text == "" {
		return nil // a part just begun: nothing to show yet
	}
	var out []string
	switch it.kind {
	case KindUser:
		out = append(out, cell.Cut(st.User.Render("you"), width))
		out = append(out, messageLines(it.text, width, st.Body, st.Note)...)
	case KindNote:
		for _, l := range markdown.Plain(it.text, width) {
			out = append(out, st.Note.Render(l))
		}
	case KindQueued:
		out = append(out, cell.Cut(st.User.Render("you")+st.Queued.Render(" · queued: sent when the reply ends"), width))
		out = append(out, messageLines(it.text, width, st.Queued, st.Note)...)
	case KindTool:
		out = append(out, it.toolLines(width, st, r.ExpandTools)...)
	case KindAssistant:
		if !it.cont {
			out = append(out, cell.Cut(st.Assistant.Render("assistant"), width))
		}
		out = append(out, it.bodyLines(width, r)...)
	}
	out = append(out, "")
	if !live {
		// Padded once here, so that a frame lays the history out without
		// measuring a single line. (A live reply pads its parts as it makes
		// them: the closed blocks once, the tail's rows once.)
		out = cell.Fit(out, width, len(out))
		it.cache, it.cacheWidth, it.cacheGen, it.cacheExpand = out, width, it.gen, r.ExpandTools
		// What the cache holds need not be kept twice.
		it.tail = tailCache{}
		if len(it.text) <= partLimit {
			it.blocks, it.closedLines, it.closedEnd, it.closedWidth = markdown.BlockScanner{}, nil, 0, 0
		}
	} else {
		out[0] = cell.Pad(out[0], width)
		out[len(out)-1] = cell.Spaces(width)
	}
	return out
}

// bodyLines renders an assistant reply (or one part of a long one). A
// finished reply is rendered whole once. While streaming, each closed block
// is rendered once and kept, and the open tail is shown as plain wrapped
// text whose complete lines are wrapped once, so a frame costs the line
// being written.
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
	case it.plain:
		out = it.tailLines(0, width, st)
	case len(it.text) > fullRenderLimit && it.closedWidth == width && it.closedEnd > 0:
		// A long reply keeps the blocks rendered while it streamed and
		// renders only the rest: rendering it whole would cost one frame
		// tens of milliseconds.
		it.renderClosed(width, md)
		out = append(out, it.closedLines...)
		if rest := strings.TrimLeft(it.text[it.closedEnd:], "\n"); rest != "" {
			out = append(out, "")
			out = append(out, renderMarkdown(md, rest, width)...)
		}
	default:
		// Rendered whole once more: block by block output differs
		// slightly where blocks join (lists, spacing). A part is at most
		// partLimit bytes, so this is bounded however long the reply.
		out = renderMarkdown(md, it.text, width)
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
// A part inside an oversized block is all tail.
func (it *Item) streamLines(width int, md *markdown.Renderer, st *Styles) []string {
	if it.plain {
		return it.tailLines(0, width, st)
	}
	it.renderClosed(width, md)
	tail := it.tailLines(it.closedEnd, width, st)
	out := make([]string, 0, len(it.closedLines)+1+len(tail))
	out = append(out, it.closedLines...)
	if len(tail) > 0 {
		if len(out) > 0 {
			out = append(out, cell.Spaces(width))
		}
		out = append(out, tail...)
	}
	return out
}

// renderClosed renders the blocks closed since the last call, each once.
func (it *Item) renderClosed(width int, md *markdown.Renderer) {
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
		block := renderMarkdown(md, it.text[it.closedEnd:end], width)
		it.closedLines = append(it.closedLines, cell.Fit(block, width, len(block))...)
		it.closedEnd = end
	}
}

// tailLines is text[from:] (its leading line breaks dropped) wrapped as
// plain text, styled and padded: the rows of complete lines from the cache,
// wrapping only what is new, and the last, unfinished line wrapped afresh.
// Trailing blank rows are left out.
func (it *Item) tailLines(from, width int, st *Styles) []string {
	text := it.text
	from += len(text[from:]) - len(strings.TrimLeft(text[from:], "\n"))
	c := &it.tail
	if c.from != from || c.width != width || c.done < from || c.done > len(text) {
		*c = tailCache{from: from, done: from, width: width, rows: c.rows[:0]}
	}
	if nl := strings.LastIndexByte(text[c.done:], '\n'); nl >= 0 {
		c.rows = appendRows(c.rows, text[c.done:c.done+nl], width, st.Body)
		c.done += nl + 1
	}
	rows := c.rows
	if last := text[c.done:]; last != "" {
		rows = appendRows(rows[:len(rows):len(rows)], last, width, st.Body)
	}
	n := len(rows)
	for n > 0 && strings.TrimSpace(ansi.Strip(rows[n-1])) == "" {
		n--
	}
	return rows[:n]
}

// appendRows wraps lines (plain text, no trailing line break) to width and
// appends the rows, styled and padded to exactly width cells. The style's
// codes are found once per call and put around each row: lipgloss's
// Render would measure and rebuild every row, the larger part of a frame's
// cost while a reply of plain lines streams.
func appendRows(rows []string, lines string, width int, style lipgloss.Style) []string {
	if lines == "" {
		return append(rows, cell.Spaces(width))
	}
	if onWrap != nil {
		onWrap(len(lines))
	}
	pre, post, ok := strings.Cut(style.Render(styleProbe), styleProbe)
	for _, l := range markdown.Plain(lines, width) {
		if !ok {
			rows = append(rows, cell.Pad(style.Render(l), width))
			continue
		}
		w := cell.Width(l)
		if w > width {
			l = cell.Cut(l, width)
			w = cell.Width(l)
		}
		rows = append(rows, pre+l+post+cell.Spaces(width-w))
	}
	return rows
}

// styleProbe is a character no sanitized text holds, rendered to learn a
// style's codes.
const styleProbe = "\x00"

// renderMarkdown is the one place the transcript calls glamour; what it is
// given is at most a part (partLimit bytes).
func renderMarkdown(md *markdown.Renderer, text string, width int) []string {
	if onRender != nil {
		onRender(len(text))
	}
	return md.Render(text, width)
}

// onRender and onWrap, when set by a test, are told the size of every text
// given to glamour and of every text the tail wraps.
var onRender, onWrap func(bytes int)

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

// A message the person sent that is larger than this is shown by its first
// lines and a line that says how much more it holds: drawing every line of
// a pasted file would bury the conversation and cost a frame per width.
const (
	bigMessageBytes = 64 << 10
	bigMessageLines = 1000
	headLines       = 12
)

// messageLines draws a message of the person's, a large one by its head.
func messageLines(text string, width int, body, note lipgloss.Style) []string {
	var out []string
	lines := strings.Count(text, "\n") + 1
	head := text
	if len(text) > bigMessageBytes || lines > bigMessageLines {
		k := min(len(text), 4<<10)
		for k < len(text) && k > 0 && !utf8.RuneStart(text[k]) {
			k--
		}
		head = text[:k]
		for i, n := 0, 0; i < len(head); i++ {
			if head[i] == '\n' {
				if n++; n == headLines {
					head = head[:i]
					break
				}
			}
		}
	}
	for _, l := range markdown.Plain(head, width) {
		out = append(out, body.Render(l))
	}
	if len(head) < len(text) {
		shown := strings.Count(head, "\n") + 1
		more := fmt.Sprintf("… %s more lines, %s in all", countText(lines-shown), SizeText(len(text)))
		if lines == shown {
			more = fmt.Sprintf("… the line goes on: %s in all", SizeText(len(text)))
		}
		for _, l := range markdown.Plain(more, width) {
			out = append(out, note.Render(l))
		}
	}
	return out
}

// SizeText writes a byte count for people: "980 bytes", "64.0 kB",
// "5.2 MB" (decimal units, as file managers show them).
func SizeText(n int) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1000)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// countText writes a count with thousands separators: "120,000".
func countText(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
