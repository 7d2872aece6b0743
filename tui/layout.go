package tui

// layoutRects is where everything goes, computed in one place from the
// terminal size and the focus.
type layoutRects struct {
	wide             bool // side by side; else tabs
	tabsH            int  // the tab bar (narrow layout)
	bodyH            int  // rows for the panes
	chatVisible      bool
	kanbanVisible    bool
	chatW            int
	kanbanX, kanbanW int
}

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
	return l
}

// layout gives the panes their sizes.
func (m *Model) layout() {
	l := m.computeLayout()
	m.chat.SetSize(l.chatW, l.bodyH)
	m.kanban.SetSize(l.kanbanW, l.bodyH)
	m.kanbanGen++
	m.help.SetWidth(max(m.width, 1))
}
