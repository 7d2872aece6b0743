package tui

import "strings"

// history is the transcript and the window onto it. It never lays out the
// whole transcript: the window is found from an anchor (the item and line at
// its top) or, when following the newest output, from the end, and only the
// items that touch the window are rendered (each from its cache). So a frame
// costs the visible lines, however long the session is.
type history struct {
	items []*item

	follow  bool // the window shows the end and follows new output
	topItem int  // anchor when not following: first item in the window
	topLine int  // ... and the line of that item at the window's top
}

func newHistory() history { return history{follow: true} }

// renderer is what the history needs to draw an item.
type renderer struct {
	width int
	md    *markdown
	st    *Styles
	spin  string
}

func (r renderer) lines(it *item) []string { return it.lines(r.width, r.md, r.st, r.spin) }

// window returns exactly h lines of r.width cells (padded with blank lines
// at the end when the transcript is shorter) and whether there is more below the window.
func (h *history) window(r renderer, height int) (lines []string, below bool) {
	if height <= 0 {
		return nil, false
	}
	if !h.follow {
		lines = make([]string, 0, height)
		i, skip := h.topItem, h.topLine
		for i < len(h.items) && len(lines) < height {
			ls := r.lines(h.items[i])
			if skip < len(ls) {
				lines = append(lines, ls[skip:]...)
			}
			skip = 0
			i++
		}
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
func (h *history) tail(r renderer, height int) []string {
	var chunks [][]string
	n := 0
	for i := len(h.items) - 1; i >= 0 && n < height; i-- {
		ls := r.lines(h.items[i])
		chunks = append(chunks, ls)
		n += len(ls)
	}
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
	blank := strings.Repeat(" ", r.width)
	for len(out) < height {
		out = append(out, blank)
	}
	return out
}

// anchorOfTail sets the anchor to the top of the window that following
// shows, so scrolling starts from what is on screen.
func (h *history) anchorOfTail(r renderer, height int) {
	n := 0
	for i := len(h.items) - 1; i >= 0; i-- {
		k := len(r.lines(h.items[i]))
		if n+k >= height {
			h.topItem, h.topLine = i, n+k-height
			return
		}
		n += k
	}
	h.topItem, h.topLine = 0, 0
}

// scroll moves the window by delta lines (negative is up).
func (h *history) scroll(r renderer, height, delta int) {
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
		line += len(r.lines(h.items[i]))
	}
	for i < len(h.items) {
		k := len(r.lines(h.items[i]))
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
func (h *history) hasBelow(r renderer, height int) bool {
	n := -h.topLine
	for i := h.topItem; i < len(h.items); i++ {
		n += len(r.lines(h.items[i]))
		if n > height {
			return true
		}
	}
	return false
}

// top jumps to the first line; bottom resumes following.
func (h *history) top() { h.follow, h.topItem, h.topLine = len(h.items) == 0, 0, 0 }

func (h *history) bottom() { h.follow = true }

// reset replaces the transcript and follows its end.
func (h *history) reset(items []*item) {
	h.items = items
	h.follow, h.topItem, h.topLine = true, 0, 0
}

// add appends an item.
func (h *history) add(it *item) { h.items = append(h.items, it) }

// last returns the newest item, or nil.
func (h *history) last() *item {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[len(h.items)-1]
}
