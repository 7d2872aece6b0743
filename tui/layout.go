package tui

// layoutRects is where everything goes, computed in one place from the
// terminal size, the focus and the input's line count.
type layoutRects struct {
	wide                    bool // side by side; else tabs
	tabsH                   int  // the tab bar (narrow layout)
	bodyH                   int  // rows for the panes
	chatVisible             bool
	kanbanVisible           bool
	chatX, chatW            int
	kanbanX, kanbanW        int
	titleH, histH, inputSep int // chat pane rows: title, history, rule above the input
	inputH                  int
}

// maxInputLines is the tallest the input grows before it scrolls.
const maxInputLines = 6

func (m *Model) computeLayout() layoutRects {
	w, h := max(m.width, 1), max(m.height, 1)
	var l layoutRects
	l.wide = w >= wideWidth
	if !l.wide && h >= 4 {
		l.tabsH = 1
	}
	l.bodyH = max(h-1-l.tabsH, 0) // one row for the status bar
	if l.wide {
		l.kanbanW = w * 2 / 5
		l.chatW = w - l.kanbanW - 1 // one column for the rule between
		l.kanbanX = l.chatW + 1
		l.chatVisible, l.kanbanVisible = true, true
	} else {
		l.chatW, l.kanbanW = w, w
		l.chatVisible = m.focus == paneChat
		l.kanbanVisible = m.focus == paneKanban
	}
	// The chat pane: title, history, a rule, the input. Small heights drop
	// the title, then the rule; the history and the input always get a row
	// when there are two.
	rows := l.bodyH
	want := min(max(m.input.LineCount(), 1), maxInputLines)
	switch {
	case rows >= 6:
		l.titleH, l.inputSep = 1, 1
	case rows >= 4:
		l.inputSep = 1
	}
	l.inputH = min(want, max((rows-l.titleH-l.inputSep)/2, min(rows, 1)))
	l.histH = max(rows-l.titleH-l.inputSep-l.inputH, 0)
	if l.histH == 0 && rows >= 2 && l.inputH > 1 {
		l.inputH--
		l.histH++
	}
	return l
}

// layout applies the computed sizes to the input and the kanban pane.
func (m *Model) layout() {
	l := m.computeLayout()
	m.input.SetWidth(max(l.chatW, 1))
	m.input.SetHeight(max(l.inputH, 1))
	m.kanban.SetSize(l.kanbanW, l.bodyH)
	m.help.SetWidth(max(m.width, 1))
}
