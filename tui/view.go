package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/tui/cell"
	"github.com/spindle-sh/spindle/tui/chat"
)

// View draws the screen: the panes (or the top overlay), then the status
// bar. Every line is cut and padded to the terminal's width, so no size,
// down to 1×1, can break the layout.
func (m Model) View() tea.View {
	v := tea.NewView(m.screen())
	v.AltScreen = true
	if !m.noMouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	v.WindowTitle = "spindle"
	if c := m.cursor(); c != nil {
		v.Cursor = c
	}
	return v
}

// screen is the frame's text. It is drawn many times a second while a
// reply streams, so it writes the rows once, into one string of the
// frame's size.
func (m Model) screen() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	l := m.computeLayout()
	// A row is its pieces side by side: the chat's line, the separator and
	// the board's line in the wide layout, one piece otherwise.
	type row struct{ left, sep, right string }
	rows := make([]row, 0, m.height)
	if l.tabsH > 0 {
		rows = append(rows, row{left: cell.Pad(m.tabBar(), m.width)})
	}
	add := func(lines []string) {
		for _, s := range lines {
			rows = append(rows, row{left: s})
		}
	}
	switch {
	case len(m.overlays) > 0:
		add(m.overlayLines(l.bodyH))
	case l.wide:
		chat := m.chat.Lines()
		board := m.boardLines(l.kanbanW, l.bodyH)
		sep := m.st.Separator.Render("│")
		for i := range l.bodyH {
			rows = append(rows, row{chat[i], sep, board[i]})
		}
	case l.chatVisible:
		add(m.chat.Lines())
	default:
		add(m.boardLines(m.width, l.bodyH))
	}
	rows = append(rows, row{left: cell.Pad(m.statusBar(), m.width)})
	// Every row is exactly m.width wide by construction; only their count
	// can be off at tiny heights.
	if len(rows) > m.height {
		rows = rows[len(rows)-m.height:]
	}
	n := len(rows) - 1
	for _, r := range rows {
		n += len(r.left) + len(r.sep) + len(r.right)
	}
	var b strings.Builder
	b.Grow(n)
	for i, r := range rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r.left)
		b.WriteString(r.sep)
		b.WriteString(r.right)
	}
	return b.String()
}

// overlayLines draws the top overlay over the body. It is a method of its
// own because an overlay is given the Model's address: taken in screen,
// that would move every frame's copy of the Model to the heap, overlay or
// not; here only a frame with an overlay pays for it.
func (m Model) overlayLines(h int) []string {
	return m.overlays[len(m.overlays)-1].lines(&m, m.width, h)
}

// boardLines draws the kanban pane in exactly h lines of w cells; until the
// board has been opened it says so.
func (m Model) boardLines(w, h int) []string {
	if !m.started {
		return cell.Fit([]string{m.st.Muted.Render("opening the board…")}, w, h)
	}
	c := m.cache
	if c.boardGen != m.kanbanGen || c.boardW != w || c.boardH != h || c.board == nil {
		c.board = cell.Fit(strings.Split(m.kanban.View(), "\n"), w, h)
		c.boardGen, c.boardW, c.boardH = m.kanbanGen, w, h
	}
	return c.board
}

// cursor places the terminal's cursor in the chat's input when the chat
// has the keyboard.
func (m Model) cursor() *tea.Cursor {
	if len(m.overlays) > 0 || m.focus != paneChat || m.width <= 0 || m.height <= 0 {
		return nil
	}
	c := m.chat.Cursor()
	if c == nil {
		return nil
	}
	l := m.computeLayout()
	c.Position.Y += l.tabsH
	if c.Position.X >= m.width || c.Position.Y >= m.height-1 {
		return nil
	}
	return c
}

// tabBar is the narrow layout's pane switcher.
func (m Model) tabBar() string {
	chat, board := m.st.PaneTitle.Render(" Chat "), m.st.PaneTitle.Render(" Board ")
	if m.focus == paneChat {
		chat = m.st.PaneTitleOn.Reverse(true).Render(" Chat ")
	} else {
		board = m.st.PaneTitleOn.Reverse(true).Render(" Board ")
	}
	return cell.Cut(chat+" "+board+m.st.Muted.Render("  "+m.keys.Global.SwitchPane.Help().Key+" switches"), m.width)
}

// statusBar is the bottom line: model, session, state, then key hints.
func (m Model) statusBar() string {
	st := m.st
	var model string
	switch {
	case m.agent == nil:
		model = "starting…"
	case m.agent.Offline():
		model = "demo model (offline)"
	default:
		model = m.modelLabel()
	}
	cs := m.chat.Status()
	left := st.bar.Model.Render(" "+model+" ") + st.bar.Status.Render(" "+sessionLabel(cs.Session.ID)+" ")
	if m.yolo {
		left += st.StatusWarn.Reverse(true).Render(" --yolo: tools run without asking ")
	}
	left += m.stateLabel(cs)
	left += m.usageLabel(cs.Usage, m.width-cell.Width(left)-hintRoom)
	lw := cell.Width(left)
	if lw >= m.width {
		return cell.Cut(left, m.width)
	}
	// The hints get what is left, cut at a whole binding by bubbles/help.
	hints := m.hints(max(m.width-lw-2, 0))
	hw := cell.Width(hints)
	gap := max(m.width-lw-hw-1, 0)
	return cell.Cut(left+st.bar.Status.Render(strings.Repeat(" ", gap))+hints+st.bar.Status.Render(" "), m.width)
}

func sessionLabel(id int64) string {
	if id == 0 {
		return "new session"
	}
	return fmt.Sprintf("session #%d", id)
}

// stateLabel is idle, waiting, streaming N tok/s, interrupted or the error,
// with how many turns run in other sessions.
func (m Model) stateLabel(cs chat.Status) string {
	st := m.st
	if m.armed {
		s := " press " + keyName(m.keys.Global.Interrupt) + " again to quit "
		if n := len(m.workers.list); n == 1 {
			s += "(the running worker stops; its card goes back to To do) "
		} else if n > 1 {
			s += fmt.Sprintf("(%d running workers stop; their cards go back to To do) ", n)
		}
		return st.bar.Warn.Render(s)
	}
	var s string
	others := cs.Running
	switch cs.Turn {
	case chat.Interrupting:
		s, others = st.bar.Warn.Render(" interrupting… "), others-1
	case chat.Waiting:
		s, others = st.bar.State.Render(" "+cs.Spinner+" waiting "), others-1
	case chat.Streaming:
		rate := ""
		if cs.Rate > 0 {
			rate = fmt.Sprintf(" %.0f tok/s", cs.Rate)
		}
		s, others = st.bar.State.Render(" "+cs.Spinner+" streaming"+rate+" "), others-1
	default:
		switch cs.Outcome {
		case "interrupted":
			s = st.bar.Warn.Render(" interrupted ")
		case "error":
			s = st.bar.Error.Render(" error ")
		default:
			s = st.bar.State.Render(" idle ")
		}
	}
	if others > 0 {
		s += st.bar.State.Render(fmt.Sprintf(" %d running elsewhere ", others))
	}
	if d := m.dispatcher; d != nil {
		w := fmt.Sprintf(" workers %d/%d ", len(m.workers.list), d.MaxWorkers())
		if d.Paused() {
			w = fmt.Sprintf(" workers %d/%d paused ", len(m.workers.list), d.MaxWorkers())
		}
		s += st.bar.Status.Render(w)
	}
	if n := m.pendingApprovals() + m.workerApprovals(); n > 0 {
		s += st.bar.Warn.Render(fmt.Sprintf(" %d waiting for approval ", n))
	}
	// A notice is about the latest key press (any key clears it), so it
	// shows before an older error.
	switch {
	case m.notice != "":
		s += st.bar.Status.Render(" " + m.notice + " ")
	case cs.Notice != "":
		s += st.bar.Status.Render(" " + cs.Notice + " ")
	case m.errText != "":
		s += st.bar.Error.Render(" " + m.errText + " ")
	case cs.Err != "" && cs.Turn == chat.Idle:
		s += st.bar.Error.Render(" " + cs.Err + " ")
	}
	return s
}

// shortHelp is the status bar's key hints: the focused pane's, then the
// global ones.
func (m Model) shortHelp() []key.Binding {
	var b []key.Binding
	if m.focus == paneKanban {
		b = append(b, m.kanban.ShortHelp()...)
	} else {
		b = append(b, m.chat.ShortHelp()...)
	}
	return append(b, m.keys.Global.ShortHelp()...)
}

// viewCache keeps what rarely changes between frames: the status bar's key
// hints and the kanban pane's lines. It is shared by the model's copies;
// only the UI goroutine uses it.
type viewCache struct {
	hintsKey string
	hints    string
	// The kanban pane's lines, drawn at kanbanGen and this size.
	boardGen       int
	boardW, boardH int
	board          []string
}

// hints draws the status bar's key hints in at most width cells.
func (m Model) hints(width int) string {
	if width <= 0 {
		return ""
	}
	bindings := m.shortHelp()
	var kb strings.Builder
	fmt.Fprintf(&kb, "%d", width)
	for _, b := range bindings {
		h := b.Help()
		kb.WriteString("|" + h.Key + "=" + h.Desc)
	}
	if k := kb.String(); m.cache.hintsKey != k {
		m.cache.hintsKey, m.cache.hints = k, m.fitHints(bindings, width)
	}
	return m.cache.hints
}

// fitHints is as many whole hints as fit in width cells, with an ellipsis
// when some are left out. bubbles/help cuts at a whole binding too, but
// adds one that does not fit when its ellipsis does not fit either, so
// the line would overflow the status bar.
func (m Model) fitHints(bindings []key.Binding, width int) string {
	h := m.help
	tail := " " + h.Styles.Ellipsis.Render(h.Ellipsis)
	for n := len(bindings); n > 0; n-- {
		s := h.ShortHelpView(bindings[:n])
		if n < len(bindings) {
			s += tail
		}
		if cell.Width(s) <= width {
			return s
		}
	}
	return ""
}

// keyName is how the status bar names a binding's first key: Ctrl-C for
// ctrl+c, as people write it, else the key as the key map spells it (a user
// may have rebound it).
func keyName(b key.Binding) string {
	keys := b.Keys()
	if len(keys) == 0 {
		return "the interrupt key"
	}
	if k, ok := strings.CutPrefix(keys[0], "ctrl+"); ok && len(k) == 1 {
		return "Ctrl-" + strings.ToUpper(k)
	}
	return keys[0]
}

// describeErr is an error as one sanitized line.
func describeErr(err error) string {
	if err == nil {
		return ""
	}
	return sanitize.Line(err.Error())
}
