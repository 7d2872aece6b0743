package tui

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/sanitize"
)

// fullRenderLimit is the longest reply rendered whole when it completes
// (≈13 ms of glamour); longer ones keep their streamed blocks.
const fullRenderLimit = 4 << 10

// itemKind is what a line of the transcript is.
type itemKind int

const (
	kindUser itemKind = iota
	kindAssistant
	kindToolCall
	kindNote
)

// itemStatus is the state of an assistant reply.
type itemStatus int

const (
	statusDone itemStatus = iota
	statusWaiting
	statusStreaming
	statusInterrupted
	statusFailed
)

// item is one entry of the transcript. Its text is sanitized when it is set
// (setText, appendText), so nothing the model or a tool said reaches the
// screen unfiltered. Rendered lines are cached per width; a finished item's
// cache is valid until the width changes.
type item struct {
	kind   itemKind
	status itemStatus
	text   string // sanitized
	errMsg string // sanitized, for statusFailed
	reason string // abort reason, for statusInterrupted

	// Tool calls: name, arguments and the result once it arrived.
	toolID, toolName, toolArgs, toolResult, toolErr string
	toolDone                                        bool

	// Cache of the full render, valid for cacheWidth and cacheGen.
	cacheWidth int
	cacheGen   int
	cache      []string
	gen        int // bumped on every change

	// Streaming: closed markdown blocks rendered once.
	blocks      blockScanner
	closedLines []string // closed blocks rendered at closedWidth
	closedEnd   int      // bytes of text covered by closedLines
	closedWidth int
}

func newItem(kind itemKind, text string) *item {
	return &item{kind: kind, text: sanitize.String(text)}
}

// appendText adds a streamed delta.
func (it *item) appendText(delta string) {
	it.text += sanitize.String(delta)
	it.gen++
}

// setText replaces the text (a turn's final text). Blocks already rendered
// while streaming stay valid when the new text extends the old one.
func (it *item) setText(text string) {
	text = sanitize.String(text)
	if !strings.HasPrefix(text, it.text[:min(it.closedEnd, len(it.text))]) {
		it.blocks, it.closedLines, it.closedEnd, it.closedWidth = blockScanner{}, nil, 0, 0
	}
	it.text = text
	it.gen++
}

// setStatus changes the status and drops the cached render.
func (it *item) setStatus(s itemStatus) {
	it.status = s
	it.gen++
}

// lines returns the item rendered at width, followed by one blank separator
// line; every line is exactly width cells wide. spin is the spinner frame
// shown while waiting for the first token.
func (it *item) lines(width int, md *markdown, st *Styles, spin string) []string {
	width = max(width, 1)
	live := it.status == statusWaiting || it.status == statusStreaming
	if !live && it.cache != nil && it.cacheWidth == width && it.cacheGen == it.gen {
		return it.cache
	}
	var out []string
	switch it.kind {
	case kindUser:
		out = append(out, cut(st.User.Render("you"), width))
		for _, l := range plainLines(it.text, width) {
			out = append(out, st.Body.Render(l))
		}
	case kindNote:
		for _, l := range plainLines(it.text, width) {
			out = append(out, st.Note.Render(l))
		}
	case kindToolCall:
		out = append(out, it.toolLines(width, st)...)
	case kindAssistant:
		out = append(out, cut(st.Assistant.Render("assistant"), width))
		out = append(out, it.bodyLines(width, md, st, spin)...)
	}
	out = append(out, "")
	if !live {
		// Padded once here, so that a frame lays the history out
		// without measuring a single line. (A live reply pads its parts
		// as it makes them: the closed blocks once, the tail per frame.)
		out = fit(out, width, len(out))
	} else {
		out[0] = fit(out[:1], width, 1)[0]
		out[len(out)-1] = strings.Repeat(" ", width)
	}
	if !live {
		it.cache, it.cacheWidth, it.cacheGen = out, width, it.gen
	}
	return out
}

// bodyLines renders an assistant reply. A finished reply is rendered whole
// once. While streaming, each closed block is rendered once and kept, and the
// open tail is shown as plain wrapped text, so a frame costs the tail only.
func (it *item) bodyLines(width int, md *markdown, st *Styles, spin string) []string {
	var out []string
	switch it.status {
	case statusWaiting:
		if it.text == "" {
			return fit([]string{st.Spinner.Render(spin + " thinking…")}, width, 1)
		}
		fallthrough
	case statusStreaming:
		out = append(out, it.streamLines(width, md, st)...)
		return out
	}
	switch {
	case it.text == "":
	case len(it.text) > fullRenderLimit && it.closedWidth == width && it.closedEnd > 0:
		// A long reply keeps the blocks rendered while it streamed and
		// renders only the rest: rendering it whole would cost one frame
		// tens of milliseconds (glamour runs at ≈0.3 MB/s).
		it.streamLines(width, md, st)
		out = append(out, it.closedLines...)
		if rest := strings.TrimLeft(it.text[it.closedEnd:], "\n"); rest != "" {
			out = append(out, "")
			out = append(out, md.render(rest, width)...)
		}
	default:
		// Rendered whole once more: block by block output differs
		// slightly where blocks join (lists, spacing).
		out = md.render(it.text, width)
	}
	switch it.status {
	case statusInterrupted:
		mark := "⏸ interrupted"
		if it.reason != "" && it.reason != "interrupt_abort" {
			mark += " (" + oneLine(it.reason) + ")"
		}
		out = append(out, cut(st.Interrupted.Render(mark), width))
	case statusFailed:
		msg := "✗ failed"
		if it.errMsg != "" {
			msg += ": " + it.errMsg
		}
		for _, l := range plainLines(msg, width) {
			out = append(out, st.Failed.Render(l))
		}
	}
	return out
}

// streamLines is the streaming render: cached closed blocks plus the tail.
func (it *item) streamLines(width int, md *markdown, st *Styles) []string {
	it.blocks.scan(it.text)
	if it.closedWidth != width {
		it.closedLines, it.closedEnd, it.closedWidth = nil, 0, width
	}
	for _, end := range it.blocks.ends {
		if end <= it.closedEnd {
			continue
		}
		if len(it.closedLines) > 0 {
			it.closedLines = append(it.closedLines, strings.Repeat(" ", width))
		}
		block := md.render(it.text[it.closedEnd:end], width)
		it.closedLines = append(it.closedLines, fit(block, width, len(block))...)
		it.closedEnd = end
	}
	tail := strings.TrimLeft(it.text[it.closedEnd:], "\n")
	out := make([]string, 0, len(it.closedLines)+4)
	out = append(out, it.closedLines...)
	if tail != "" {
		if len(out) > 0 {
			out = append(out, strings.Repeat(" ", width))
		}
		tl := trimBlank(plainLines(tail, width))
		for i, l := range tl {
			tl[i] = st.Body.Render(l)
		}
		out = append(out, fit(tl, width, len(tl))...)
	}
	return out
}

// toolLines renders a tool call and, once known, its result.
func (it *item) toolLines(width int, st *Styles) []string {
	head := "⚙ " + it.toolName
	if args := compactJSON(it.toolArgs); args != "" {
		head += " " + args
	}
	out := []string{cut(st.Tool.Render(head), width)}
	switch {
	case !it.toolDone:
		out = append(out, cut(st.Tool.Render("  … running"), width))
	case it.toolErr != "":
		out = append(out, cut(st.Failed.Render("  ✗ "+oneLine(it.toolErr)), width))
	default:
		out = append(out, cut(st.ToolOK.Render("  ✓ "+oneLine(it.toolResult)), width))
	}
	return out
}

// compactJSON shows tool arguments on one line.
func compactJSON(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var v any
	if json.Unmarshal([]byte(s), &v) == nil {
		if b, err := json.Marshal(v); err == nil {
			return sanitize.String(string(b))
		}
	}
	return oneLine(s)
}

// oneLine joins lines so a result fits a status or tool line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(sanitize.String(s)), " ")
}

// cut truncates a styled line to width cells.
func cut(s string, width int) string {
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// storedToolCall is the shape of one entry of store.Message.ToolCalls (the
// OpenAI tool_calls array).
type storedToolCall struct {
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
	// Name and Arguments at the top level are accepted too.
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// parseToolCalls reads a stored tool_calls JSON array; malformed JSON yields
// one call that shows the raw text, so nothing is hidden.
func parseToolCalls(s string) []*item {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var calls []storedToolCall
	if err := json.Unmarshal([]byte(s), &calls); err != nil {
		it := newItem(kindToolCall, "")
		it.toolName, it.toolArgs = "tool call", sanitize.String(s)
		return []*item{it}
	}
	items := make([]*item, 0, len(calls))
	for _, c := range calls {
		name, args := c.Function.Name, c.Function.Arguments
		if name == "" {
			name, args = c.Name, c.Arguments
		}
		it := newItem(kindToolCall, "")
		it.toolID = sanitize.String(c.ID)
		it.toolName = sanitize.String(name)
		it.toolArgs = sanitize.String(args)
		items = append(items, it)
	}
	return items
}

// describeErr is an error as one sanitized line.
func describeErr(err error) string {
	if err == nil {
		return ""
	}
	return oneLine(fmt.Sprint(err))
}
