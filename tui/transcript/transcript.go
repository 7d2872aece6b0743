// Package transcript is a conversation as the screen shows it: the entries
// (the person's messages, the replies, tool calls, notes), how each is drawn
// at a width, the window onto them, and Turn, which applies a running turn's
// agent events to it. The chat pane shows one; a card's detail shows a
// worker's.
//
// It never lays out the whole transcript: the window is found from an
// anchor (the entry and line at its top) or, when following the newest
// output, from the end, and only the entries that touch the window are
// rendered (each from its cache). So a frame costs the visible lines,
// however long the conversation is.
package transcript

import (
	"slices"

	"github.com/spindle-sh/spindle/tui/cell"
)

// Transcript is the entries and the window onto them. It is used from the
// UI goroutine only; a Model that holds it shares it between its copies.
type Transcript struct {
	items []*Item

	// Renders kept, oldest first: past maxHeldLines, those of entries
	// outside the window are dropped (and redone if the window comes back).
	held      []*Item
	heldLines int
	shownLo   int // the entries the last window showed
	shownHi   int

	follow  bool // the window shows the end and follows new output
	topItem int  // anchor when not following: first entry in the window
	topLine int  // ... and the line of that entry at the window's top
}

// New returns an empty transcript that follows its end.
func New() *Transcript { return &Transcript{follow: true} }

// Len is the number of entries.
func (h *Transcript) Len() int { return len(h.items) }

// Items returns the entries (for tests and for the card detail's summary).
func (h *Transcript) Items() []*Item { return h.items }

// Following reports whether the window follows the end.
func (h *Transcript) Following() bool { return h.follow }

// Window returns exactly height lines of r.Width cells (padded with blank
// lines at the end when the transcript is shorter) and whether there is
// more below the window.
func (h *Transcript) Window(r Renderer, height int) (lines []string, below bool) {
	if height <= 0 {
		return nil, false
	}
	defer h.evict()
	if !h.follow {
		lines = make([]string, 0, height)
		i, skip := h.topItem, h.topLine
		h.shownLo = i
		for i < len(h.items) && len(lines) < height {
			ls := h.lines(i, r)
			if skip < len(ls) {
				lines = append(lines, ls[skip:]...)
			}
			skip = 0
			i++
		}
		h.shownHi = i
		if len(lines) >= height {
			return lines[:height], len(lines) > height || i < len(h.items)
		}
		// The anchor is too close to the end to fill the window: show the
		// end instead, as following would.
	}
	return h.tail(r, height), false
}

// tail returns the last height lines of the transcript (fewer if it is
// shorter), padded to height.
func (h *Transcript) tail(r Renderer, height int) []string {
	var chunks [][]string
	n := 0
	for i := len(h.items) - 1; i >= 0 && n < height; i-- {
		ls := h.lines(i, r)
		chunks = append(chunks, ls)
		n += len(ls)
	}
	h.shownLo, h.shownHi = len(h.items)-len(chunks), len(h.items)
	out := make([]string, 0, height)
	skip := max(n-height, 0)
	for c := len(chunks) - 1; c >= 0; c-- {
		ls := chunks[c]
		if skip >= len(ls) {
			skip -= len(ls)
			continue
		}
		out = append(out, ls[skip:]...)
		skip = 0
	}
	blank := cell.Spaces(r.Width)
	for len(out) < height {
		out = append(out, blank)
	}
	return out
}

// anchorOfTail sets the anchor to the top of the window that following
// shows, so scrolling starts from what is on screen.
func (h *Transcript) anchorOfTail(r Renderer, height int) {
	n := 0
	for i := len(h.items) - 1; i >= 0; i-- {
		k := len(h.lines(i, r))
		if n+k >= height {
			h.topItem, h.topLine = i, n+k-height
			return
		}
		n += k
	}
	h.topItem, h.topLine = 0, 0
}

// Scroll moves the window by delta lines (negative is up).
func (h *Transcript) Scroll(r Renderer, height, delta int) {
	if len(h.items) == 0 || delta == 0 {
		return
	}
	if h.follow {
		if delta > 0 {
			return
		}
		h.anchorOfTail(r, height)
		h.follow = false
	}
	line := h.topLine + delta
	i := h.topItem
	for line < 0 {
		if i == 0 {
			line = 0
			break
		}
		i--
		line += len(h.lines(i, r))
	}
	for i < len(h.items) {
		k := len(h.lines(i, r))
		if line < k {
			break
		}
		line -= k
		i++
	}
	if i >= len(h.items) {
		h.follow = true
		return
	}
	h.topItem, h.topLine = i, line
	// Stop following only while something is left below the window.
	if !h.hasBelow(r, height) {
		h.follow = true
	}
}

// hasBelow reports whether lines exist after a window anchored at the
// current anchor.
func (h *Transcript) hasBelow(r Renderer, height int) bool {
	n := -h.topLine
	for i := h.topItem; i < len(h.items); i++ {
		n += len(h.lines(i, r))
		if n > height {
			return true
		}
	}
	return false
}

// Top jumps to the first line.
func (h *Transcript) Top() { h.follow, h.topItem, h.topLine = len(h.items) == 0, 0, 0 }

// Bottom resumes following the end.
func (h *Transcript) Bottom() { h.follow = true }

// Reset replaces the entries and follows the end.
func (h *Transcript) Reset(items []*Item) {
	h.items = items
	clear(h.held)
	h.held, h.heldLines = nil, 0
	h.follow, h.topItem, h.topLine = true, 0, 0
}

// Add appends an entry.
func (h *Transcript) Add(it *Item) { h.items = append(h.items, it) }

// Remove drops an entry (only recent ones are ever removed, so the scan
// from the end is short).
func (h *Transcript) Remove(it *Item) {
	for i := len(h.items) - 1; i >= 0; i-- {
		if h.items[i] == it {
			h.items = append(h.items[:i], h.items[i+1:]...)
			if h.topItem > i {
				h.topItem--
			}
			return
		}
	}
}

// insertBefore puts a new entry just before at (the parts of a long reply
// go before its live end). A window anchored at at stays on the same line:
// the part holds what at's first lines showed.
func (h *Transcript) insertBefore(at, it *Item) {
	for i := len(h.items) - 1; i >= 0; i-- {
		if h.items[i] == at {
			h.items = slices.Insert(h.items, i, it)
			if h.topItem > i {
				h.topItem++
			}
			h.track(it) // a part keeps what was rendered of it while live
			return
		}
	}
	h.items = append(h.items, it)
}

// maxHeldLines is how many rendered lines the transcript keeps beyond the
// window's: about five hundred screens, a few MB (glamour's lines carry
// hundreds of bytes of styles). Past it the oldest renders
// of entries out of view are dropped, so scrolling through a long history
// (or a 20 MB reply's parts) does not keep all of it rendered.
var maxHeldLines = 20000

// lines is entry i's lines, with the rendered lines it keeps counted.
func (h *Transcript) lines(i int, r Renderer) []string {
	it := h.items[i]
	ls := it.Lines(r)
	h.track(it)
	return ls
}

// track counts the rendered lines an entry keeps now.
func (h *Transcript) track(it *Item) {
	n := it.heldLines()
	if n == it.held {
		return
	}
	if !it.tracked {
		it.tracked = true
		h.held = append(h.held, it)
	}
	h.heldLines += n - it.held
	it.held = n
}

// evict drops the oldest renders of entries outside the last window until
// the kept lines are within maxHeldLines.
func (h *Transcript) evict() {
	if h.heldLines <= maxHeldLines {
		return
	}
	shown := make(map[*Item]bool, h.shownHi-h.shownLo)
	for i := max(h.shownLo, 0); i < min(h.shownHi, len(h.items)); i++ {
		shown[h.items[i]] = true
	}
	keep := h.held[:0]
	for k, it := range h.held {
		if h.heldLines <= maxHeldLines {
			keep = append(keep, h.held[k:]...)
			break
		}
		if shown[it] || it.live() {
			keep = append(keep, it)
			continue
		}
		it.dropRender()
		h.heldLines -= it.held
		it.held, it.tracked = 0, false
	}
	clear(h.held[len(keep):])
	h.held = keep
}
