package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// View draws the screen: the panes (or the help overlay), then the status
// bar. Every line is cut and padded to the terminal's width, so no size, down
// to 1×1, can break the layout.
func (m Model) View() tea.View {
	v := tea.NewView(m.screen())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "spindle"
	if c := m.cursor(); c != nil {
		v.Cursor = c
	}
	return v
}

// screen is the frame's text.
func (m Model) screen() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	l := m.computeLayout()
	rows := make([]string, 0, m.height)
	if l.tabsH > 0 {
		rows = append(rows, fit([]string{m.tabBar()}, m.width, 1)...)
	}
	switch {
	case m.showHelp:
		rows = append(rows, fit(m.helpLines(), m.width, l.bodyH)...)
	case l.wide:
		chat := m.chatLines(l)
		board := m.boardLines(l.kanbanW, l.bodyH)
		sep := m.st.Separator.Render("│")
		for i := range l.bodyH {
			rows = append(rows, chat[i]+sep+board[i])
		}
	case l.chatVisible:
		rows = append(rows, m.chatLines(l)...)
	default:
		rows = append(rows, m.boardLines(m.width, l.bodyH)...)
	}
	rows = append(rows, fit([]string{m.statusBar()}, m.width, 1)...)
	// Every row is exactly m.width wide by construction; only their count
	// can be off at tiny heights.
	if len(rows) > m.height {
		rows = rows[len(rows)-m.height:]
	}
	return strings.Join(rows, "\n")
}

// boardLines draws the kanban pane in exactly h lines of w cells; until the
// board has been opened it says so.
func (m Model) boardLines(w, h int) []string {
	if !m.started() {
		return fit([]string{m.st.Muted.Render("opening the board…")}, w, h)
	}
	return fit(strings.Split(m.kanban.View(), "\n"), w, h)
}

// chatLines draws the chat pane: title, history, rule and input, exactly
// l.bodyH lines of l.chatW cells.
func (m Model) chatLines(l layoutRects) []string {
	w := l.chatW
	out := make([]string, 0, l.bodyH)
	r := m.renderer(w)
	hist, below := m.hist.window(r, l.histH)
	if len(m.hist.items) == 0 && l.histH > 0 {
		hist = fit(m.welcomeLines(w), w, l.histH)
	}
	if l.titleH > 0 {
		title := "Chat"
		if m.session.ID != 0 {
			title += fmt.Sprintf(" · #%d", m.session.ID)
			if m.session.Title != "" {
				title += " " + oneLine(m.session.Title)
			}
		}
		style := m.st.PaneTitle
		if m.focus == paneChat {
			style = m.st.PaneTitleOn
		}
		line := style.Render(title)
		if below {
			line += m.st.ScrollMarker.Render("  ↓ more below (end)")
		}
		out = append(out, fit([]string{line}, w, 1)...)
	}
	out = append(out, hist...) // exactly w wide already
	if l.inputSep > 0 {
		style := m.st.Separator
		if m.focus == paneChat {
			style = m.st.SeparatorOn
		}
		out = append(out, style.Render(strings.Repeat("─", w)))
	}
	if l.inputH > 0 {
		out = append(out, m.inputLines(w, l.inputH)...)
	}
	for len(out) < l.bodyH {
		out = append(out, strings.Repeat(" ", w))
	}
	return out[:l.bodyH]
}

// welcomeLines fill an empty chat, so that a newcomer knows what to do:
// the keys that matter first and, with the demo model, what it can do.
func (m Model) welcomeLines(w int) []string {
	g, keyOf := m.keys.Global, func(b key.Binding) string { return b.Help().Key }
	text := fmt.Sprintf("Ask a question and press %s: the reply streams in here.\n"+
		"%s or %s stops a reply · %s moves to the board · %s lists every key · /sessions lists earlier chats",
		keyOf(m.keys.Chat.Send), keyOf(g.Interrupt), keyOf(g.Stop), keyOf(g.SwitchPane), keyOf(g.Help))
	if m.agent != nil && m.agent.Offline() {
		text += "\n\nNo endpoint is configured, so a small demo model built into spindle answers, offline. " +
			"Ask it anything, or say \"add a card Write the README\" and watch it use the board. " +
			"spindle --help says how to use a real model."
	}
	out := []string{""}
	for _, line := range wrapWords(text, max(w-2, 1)) {
		if line != "" {
			line = m.st.Muted.Render(" " + line)
		}
		out = append(out, line)
	}
	return out
}

// wrapWords breaks text at spaces into lines of at most w cells; a word
// wider than w gets a line of its own (fit cuts it). It is for the UI's own
// short texts: ansi.Wrap's line-breaking tables would add ≈3.5 MB to the
// resident size of an idle process that has not shown a reply yet.
func wrapWords(text string, w int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line, lw := "", 0
		for _, word := range strings.Fields(para) {
			ww := ansi.StringWidth(word)
			switch {
			case lw == 0:
				line, lw = word, ww
			case lw+1+ww <= w:
				line, lw = line+" "+word, lw+1+ww
			default:
				out = append(out, line)
				line, lw = word, ww
			}
		}
		out = append(out, line)
	}
	return out
}

// cursor places the terminal's cursor in the input when the chat has the
// keyboard.
func (m Model) cursor() *tea.Cursor {
	if m.showHelp || m.focus != paneChat || m.width <= 0 || m.height <= 0 {
		return nil
	}
	l := m.computeLayout()
	if l.inputH <= 0 {
		return nil
	}
	c := m.input.Cursor()
	if c == nil {
		return nil
	}
	c.Position.X += l.chatX
	c.Position.Y += l.tabsH + l.titleH + l.histH + l.inputSep
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
	return cut(chat+" "+board+m.st.Muted.Render("  tab switches"), m.width)
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
		model = oneLine(m.agent.Model())
	}
	left := st.StatusModel.Render(" "+model+" ") + st.Status.Render(" "+m.sessionLabel()+" ")
	left += m.stateLabel()
	lw := ansi.StringWidth(left)
	if lw >= m.width {
		return cut(left, m.width)
	}
	// The hints get what is left, cut at a whole binding by bubbles/help.
	hints := m.hints(max(m.width-lw-2, 0))
	hw := ansi.StringWidth(hints)
	gap := max(m.width-lw-hw-1, 0)
	return cut(left+st.Status.Render(strings.Repeat(" ", gap))+hints+st.Status.Render(" "), m.width)
}

func (m Model) sessionLabel() string {
	if m.session.ID == 0 {
		return "new session"
	}
	return fmt.Sprintf("session #%d", m.session.ID)
}

// stateLabel is idle, waiting, streaming N tok/s, interrupted or the error.
func (m Model) stateLabel() string {
	st := m.st
	if m.armed {
		return st.StatusWarn.Render(" press " + keyName(m.keys.Global.Interrupt) + " again to quit ")
	}
	if t := m.turn; t != nil {
		switch {
		case t.interrupted:
			return st.StatusWarn.Render(" interrupting… ")
		case t.firstAt.IsZero():
			return st.StatusState.Render(" " + m.spinner.View() + " waiting ")
		}
		rate := ""
		if d := t.lastAt.Sub(t.firstAt).Seconds(); d >= 0.2 {
			rate = fmt.Sprintf(" %.0f tok/s", t.tokens/d)
		}
		return st.StatusState.Render(" " + m.spinner.View() + " streaming" + rate + " ")
	}
	var s string
	switch m.outcome {
	case "interrupted":
		s = st.StatusWarn.Render(" interrupted ")
	case "error":
		s = st.StatusError.Render(" error ")
	default:
		s = st.StatusState.Render(" idle ")
	}
	if m.errText != "" {
		s += st.StatusError.Render(" " + m.errText + " ")
	} else if m.notice != "" {
		s += st.Status.Render(" " + m.notice + " ")
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
		b = append(b, m.keys.Chat.ShortHelp()...)
	}
	return append(b, m.keys.Global.ShortHelp()...)
}

// helpLines is the full help overlay.
func (m Model) helpLines() []string {
	st := m.st
	g := m.keys.Global
	closes := fmt.Sprintf("  (%s or %s closes)", g.Help.Help().Key, g.Stop.Help().Key)
	out := []string{st.HelpTitle.Render("Keys") + st.Muted.Render(closes), ""}
	out = append(out, st.PaneTitleOn.Render("Global"))
	out = append(out, strings.Split(m.help.FullHelpView([][]key.Binding{m.keys.Global.FullHelp()}), "\n")...)
	out = append(out, "", st.PaneTitleOn.Render("Chat"))
	out = append(out, strings.Split(m.help.FullHelpView(m.keys.Chat.FullHelp()), "\n")...)
	out = append(out, "", st.PaneTitleOn.Render("Board"))
	out = append(out, strings.Split(m.help.FullHelpView(m.kanban.FullHelp()), "\n")...)
	out = append(out, "", st.PaneTitleOn.Render("Commands"))
	for _, c := range [][2]string{
		{"/new", "start a new session"},
		{"/sessions", "list sessions"},
		{"/resume ID", "resume a session"},
		{"/model [NAME]", "show or set the model"},
		{"/stop", "stop the stream"},
		{"/help", "this help"},
		{"/quit", "quit"},
	} {
		out = append(out, st.User.Render(fmt.Sprintf("%-14s", c[0]))+" "+st.Body.Render(c[1]))
	}
	return out
}

// fit returns exactly h lines, each exactly w cells wide: longer lines are
// cut, shorter ones padded with spaces, missing ones added blank.
func fit(lines []string, w, h int) []string {
	if h <= 0 {
		return nil
	}
	w = max(w, 0)
	out := make([]string, h)
	for i := range h {
		var l string
		if i < len(lines) {
			l = lines[i]
		}
		lw := ansi.StringWidth(l)
		switch {
		case lw > w:
			l = ansi.Truncate(l, w, "")
			if pad := w - ansi.StringWidth(l); pad > 0 {
				l += strings.Repeat(" ", pad)
			}
		case lw < w:
			l += strings.Repeat(" ", w-lw)
		}
		out[i] = l
	}
	return out
}

// viewCache keeps the parts of a frame that rarely change: the empty input
// (its placeholder costs a third of a frame to draw) and the key hints. It
// is shared by the model's copies; only the UI goroutine uses it.
type viewCache struct {
	inputKey   string
	inputLines []string
	hintsKey   string
	hints      string
}

// inputLines draws the input, from the cache while it is empty.
func (m Model) inputLines(w, h int) []string {
	if m.input.Value() != "" {
		return fit(strings.Split(m.input.View(), "\n"), w, h)
	}
	k := fmt.Sprintf("%d/%d/%t", w, h, m.input.Focused())
	if m.cache.inputKey != k {
		m.cache.inputKey = k
		m.cache.inputLines = fit(strings.Split(m.input.View(), "\n"), w, h)
	}
	return m.cache.inputLines
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
		h := m.help
		h.SetWidth(width)
		m.cache.hintsKey, m.cache.hints = k, h.ShortHelpView(bindings)
	}
	return m.cache.hints
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
