package transcript

import (
	"strings"
	"unicode/utf8"

	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/tui/markdown"
)

// A long reply is cut into parts as it grows, so that every cost stays the
// cost of a part, never of the reply: appending a delta copies at most a
// part, a frame wraps at most the line being written and renders with
// glamour at most what closed since the last frame, a finished part is
// rendered on its own and only when it comes into view, and a part far
// from the window can drop its render.
//
// Cuts fall where markdown allows: after a closed block (a blank line
// outside a fence), so each part renders as its blocks did. A block larger
// than a part (a 10 MB code block, or log lines with no blank line) is not
// given to glamour at all: it is drawn as plain text, cut at line ends, and
// a line longer than lineLimit is cut at a space. The block scanner keeps
// its fence state across cuts, so markdown resumes where the block ends.
const (
	// lineLimit bounds the unfinished line of a plain part, which a frame
	// wraps afresh.
	lineLimit = 2 << 10
)

// partLimit is the most text a part holds: glamour renders it in ≈60 ms,
// plain wrapping in ≈1 ms. (A variable so that a test can switch cutting
// off, its negative control.)
var partLimit = 16 << 10

// stream is a live reply's state that does not outlive the stream.
type stream struct {
	san sanitize.Stream
	buf strings.Builder // the live part's text
}

// appendText adds a streamed delta; emit receives each part cut off the
// front of the reply, in order (they go before it).
func (it *Item) appendText(delta string, emit func(*Item)) {
	it.write(it.stream().san.Write(delta), emit)
}

// flush ends a streamed reply's text: whatever the sanitizer held back.
func (it *Item) flush(emit func(*Item)) {
	it.write(it.stream().san.Flush(), emit)
	it.gen++
}

// setText makes text (sanitized: the rest of a turn's final, saved text
// after the parts already cut) the item's text. When it extends what
// streamed, the blocks rendered so far are kept and only the rest is
// written; else the item starts again from text.
func (it *Item) setText(text string, emit func(*Item)) {
	st := it.stream()
	st.san = sanitize.Stream{}
	if !strings.HasPrefix(text, it.text) {
		it.restart()
	}
	it.write(text[len(it.text):], emit)
	it.gen++
}

// restart empties a reply: it begins again as a whole reply's first part.
func (it *Item) restart() {
	st := it.stream()
	st.buf.Reset()
	it.text, it.cont, it.plain = "", false, false
	it.blocks, it.closedLines, it.closedEnd, it.closedWidth = markdown.BlockScanner{}, nil, 0, 0
	it.tail = tailCache{}
	it.gen++
}

// finish drops the streaming state once the reply's text is final.
func (it *Item) finish() { it.st = nil }

func (it *Item) stream() *stream {
	if it.st == nil {
		it.st = &stream{}
		it.st.buf.WriteString(it.text)
	}
	return it.st
}

// write appends sanitized text, a part's worth at a time, and cuts parts
// off the front while the item is longer than one.
func (it *Item) write(s string, emit func(*Item)) {
	if s == "" {
		return
	}
	st := it.stream()
	for len(s) > 0 {
		k := min(len(s), partLimit)
		for k < len(s) && !utf8.RuneStart(s[k]) {
			k++
		}
		st.buf.WriteString(s[:k])
		it.text = st.buf.String()
		s = s[k:]
		it.cut(emit)
	}
	it.gen++
}

// cut seals parts off the front of the item until it is short enough to
// draw every frame.
func (it *Item) cut(emit func(*Item)) {
	for {
		text := it.text
		it.blocks.Scan(text)
		ends := it.blocks.Ends
		n, endsBlock := 0, false
		switch {
		case it.plain && len(ends) > 0 && ends[0] <= partLimit:
			// The oversized block ends here: markdown again after it.
			n, endsBlock = ends[0], true
		case it.plain && len(text) > partLimit:
			n = lineCut(text, partLimit)
		case it.plain:
			start := strings.LastIndexByte(text, '\n') + 1
			if len(text)-start <= lineLimit {
				return
			}
			n = spaceCut(text, start, len(text))
		case len(text) > partLimit:
			for i := len(ends) - 1; i >= 0; i-- {
				if ends[i] <= partLimit {
					n = ends[i]
					break
				}
			}
			if n == 0 {
				// The first block is larger than a part.
				it.plain = true
				continue
			}
		default:
			return
		}
		if n <= 0 || n > len(text) {
			return // no progress possible (cannot happen with valid UTF-8)
		}
		it.seal(n, emit)
		if endsBlock {
			it.plain = false
		}
	}
}

// seal moves text[:n] into a finished part, given to emit, keeping what was
// rendered of it: the closed blocks of a markdown part, the rows of a plain
// one.
func (it *Item) seal(n int, emit func(*Item)) {
	text := it.text
	p := &Item{kind: KindAssistant, status: StatusDone, text: strings.Clone(text[:n]), cont: it.cont, plain: it.plain}
	if it.plain {
		if it.tail.done <= n {
			p.tail = it.tail
		}
	} else if it.closedEnd <= n {
		p.closedLines, p.closedEnd, p.closedWidth = it.closedLines, it.closedEnd, it.closedWidth
	}
	emit(p)
	st := it.stream()
	rest := text[n:]
	st.buf.Reset()
	st.buf.WriteString(rest)
	it.text = st.buf.String()
	it.cont = true
	it.blocks.Drop(n)
	it.closedLines, it.closedEnd, it.closedWidth = nil, 0, 0
	it.tail = tailCache{}
	it.gen++
}

// lineCut is where to cut a plain text longer than limit: after the last
// line break before limit if that leaves at least half a part, else at a
// space (or a character) before limit.
func lineCut(text string, limit int) int {
	if nl := strings.LastIndexByte(text[:limit], '\n') + 1; nl >= limit/2 {
		return nl
	}
	return spaceCut(text, limit/2, limit)
}

// spaceCut is where to cut text within text[from:to]: after its last
// space, else at the last character start before to.
func spaceCut(text string, from, to int) int {
	if i := strings.LastIndexByte(text[from:to], ' '); i >= 0 {
		return from + i + 1
	}
	c := to
	for c > from && c < len(text) && !utf8.RuneStart(text[c]) {
		c--
	}
	return c
}

// replyItems is a stored reply as entries: one, or its parts when it is
// longer than a part. The text is sanitized a part at a time.
func replyItems(content string) []*Item {
	if len(content) <= partLimit {
		return []*Item{{kind: KindAssistant, text: sanitize.String(content)}}
	}
	var items []*Item
	emit := func(p *Item) { items = append(items, p) }
	it := &Item{kind: KindAssistant}
	for rest := content; len(rest) > 0; {
		k := min(len(rest), partLimit)
		it.appendText(rest[:k], emit)
		rest = rest[k:]
	}
	it.flush(emit)
	it.finish()
	if it.text != "" || len(items) == 0 {
		items = append(items, it)
	}
	return items
}
