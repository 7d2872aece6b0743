package chat

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/tui/cell"
)

// layoutRows is where the pane's rows go: title, history, the rule above
// the input, the input, and the chip of held pastes below it.
type layoutRows struct {
	titleH, histH, sepH, inputH, chipH int
}

// layout computes the rows from the pane's height and the input's line
// count. Small heights drop the title, then the rule; the history and the
// input always get a row when there are two.
func (m *Model) layout() layoutRows {
	rows := m.height
	var l layoutRows
	want := min(max(m.input.LineCount(), 1), maxInputLines)
	switch {
	case rows >= 6:
		l.titleH, l.sepH = 1, 1
	case rows >= 4:
		l.sepH = 1
	}
	l.inputH = min(want, max((rows-l.titleH-l.sepH)/2, min(rows, 1)))
	l.histH = max(rows-l.titleH-l.sepH-l.inputH, 0)
	if l.histH == 0 && rows >= 2 && l.inputH > 1 {
		l.inputH--
		l.histH++
	}
	if len(m.pastes) > 0 && l.histH > 1 {
		l.chipH = 1
		l.histH--
	}
	return l
}

// layoutInput sizes the input to the pane.
func (m *Model) layoutInput() {
	l := m.layout()
	m.input.SetWidth(max(m.width, 1))
	m.input.SetHeight(max(l.inputH, 1))
}

// Lines draws the pane: exactly its height in lines of exactly its width.
func (m Model) Lines() []string {
	w, h := m.width, m.height
	if h <= 0 {
		return nil
	}
	l := m.layout()
	out := make([]string, 0, h)
	hist, below := m.view.Window(m.renderer(), l.histH)
	if m.view.Len() == 0 && l.histH > 0 {
		hist = fit(m.welcomeLines(w), w, l.histH)
	}
	hist = m.highlight(hist)
	if l.titleH > 0 {
		title := "Chat"
		if m.session.ID != 0 {
			title += fmt.Sprintf(" · #%d", m.session.ID)
			if m.session.Title != "" {
				title += " " + sanitize.Line(m.session.Title)
			}
		}
		style := m.st.title.Off
		if m.focused {
			style = m.st.title.On
		}
		line := style.Render(title)
		if below {
			line += m.st.title.Marker.Render("  ↓ more below (end)")
		}
		out = append(out, cell.Pad(line, w))
	}
	out = append(out, hist...) // exactly w wide already
	if l.sepH > 0 {
		style := m.st.title.Rule
		if m.focused {
			style = m.st.title.RuleOn
		}
		out = append(out, style.Render(strings.Repeat("─", w)))
	}
	if l.inputH > 0 {
		out = append(out, m.inputLines(w, l.inputH)...)
	}
	if l.chipH > 0 {
		out = append(out, cell.Pad(m.st.Muted.Render(m.chipLine()), w))
	}
	for len(out) < h {
		out = append(out, cell.Spaces(w))
	}
	return out[:h]
}

// View is the pane as one string (Lines joined).
func (m Model) View() string { return strings.Join(m.Lines(), "\n") }

// welcomeLines fill an empty chat, so that a newcomer knows what to do:
// the keys that matter first and, with the demo model, what it can do.
func (m Model) welcomeLines(w int) []string {
	g, keyOf := m.keys.Global, func(b key.Binding) string { return b.Help().Key }
	text := fmt.Sprintf("Ask a question and press %s: the reply streams in here.\n"+
		"%s or %s stops a reply · %s moves to the board · %s lists every key · %s finds any command · /sessions lists earlier chats",
		keyOf(m.keys.Chat.Send), keyOf(g.Interrupt), keyOf(g.Stop), keyOf(g.SwitchPane), keyOf(g.Help), keyOf(g.Palette))
	if m.agent != nil && m.agent.Offline() {
		text += "\n\nNo endpoint is configured, so a small demo model built into spindle answers, offline. " +
			"Ask it anything, say \"add a card Write the README\" and watch it use the board, " +
			"or \"run git status\" to see it ask before it runs a command. " +
			"spindle --help says how to use a real model."
	}
	out := []string{""}
	for _, line := range cell.Wrap(text, max(w-2, 1)) {
		if line != "" {
			line = m.st.Muted.Render(" " + line)
		}
		out = append(out, line)
	}
	return out
}

// Cursor places the terminal's cursor in the input, relative to the pane,
// when the pane has the keyboard.
func (m Model) Cursor() *tea.Cursor {
	if !m.focused || m.width <= 0 || m.height <= 0 {
		return nil
	}
	l := m.layout()
	if l.inputH <= 0 {
		return nil
	}
	c := m.input.Cursor()
	if c == nil {
		return nil
	}
	c.Position.Y += l.titleH + l.histH + l.sepH
	if c.Position.X >= m.width || c.Position.Y >= m.height {
		return nil
	}
	return c
}

// viewCache keeps the empty input's lines (its placeholder costs a third of
// a frame to draw). It is shared by the model's copies; only the UI
// goroutine uses it.
type viewCache struct {
	inputKey   string
	inputLines []string
}

// inputLines draws the input, from the cache while it is empty.
func (m Model) inputLines(w, h int) []string {
	if m.input.Value() != "" {
		view := m.input.View()
		if len(m.pastes) > 0 {
			view = strings.Map(func(r rune) rune {
				if isMark(r) {
					return []rune(markGlyph)[0]
				}
				return r
			}, view)
		}
		return fit(strings.Split(view, "\n"), w, h)
	}
	k := fmt.Sprintf("%d/%d/%t", w, h, m.input.Focused())
	if m.cache.inputKey != k {
		m.cache.inputKey = k
		m.cache.inputLines = fit(strings.Split(m.input.View(), "\n"), w, h)
	}
	return m.cache.inputLines
}
