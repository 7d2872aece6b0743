package chat

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/tui/cell"
)

// selection is text selected with the mouse in the transcript's window:
// from the cell where the button went down to where it is now, in window
// coordinates (row 0 is the window's first line).
type selection struct {
	fromRow, fromCol int
	toRow, toCol     int
}

// ordered returns the selection's start and end in reading order.
func (s selection) ordered() (r0, c0, r1, c1 int) {
	if s.toRow < s.fromRow || (s.toRow == s.fromRow && s.toCol < s.fromCol) {
		return s.toRow, s.toCol, s.fromRow, s.fromCol
	}
	return s.fromRow, s.fromCol, s.toRow, s.toCol
}

// historyRow maps a row of the pane to a row of the transcript's window;
// ok is false outside the history.
func (m *Model) historyRow(y int) (int, bool) {
	l := m.layout()
	row := y - l.titleH
	return row, row >= 0 && row < l.histH
}

// StartSelection begins selecting at pane cell (x, y); it reports whether
// the cell is in the transcript (a click elsewhere selects nothing).
func (m *Model) StartSelection(x, y int) bool {
	row, ok := m.historyRow(y)
	if !ok {
		m.sel = nil
		return false
	}
	m.sel = &selection{fromRow: row, fromCol: x, toRow: row, toCol: x}
	return true
}

// ExtendSelection moves the selection's end to pane cell (x, y), clamped
// to the transcript.
func (m *Model) ExtendSelection(x, y int) {
	if m.sel == nil {
		return
	}
	l := m.layout()
	row := min(max(y-l.titleH, 0), max(l.histH-1, 0))
	m.sel.toRow, m.sel.toCol = row, min(max(x, 0), m.width)
}

// Selecting reports whether a mouse selection is in progress.
func (m Model) Selecting() bool { return m.sel != nil }

// EndSelection ends the selection and returns its text: the window's
// lines as shown (styles removed, trailing blanks trimmed), cut at the
// first and last cells. A click without a drag selects nothing.
func (m *Model) EndSelection() string {
	s := m.sel
	m.sel = nil
	if s == nil || (s.fromRow == s.toRow && s.fromCol == s.toCol) {
		return ""
	}
	l := m.layout()
	lines, _ := m.view.Window(m.renderer(), l.histH)
	r0, c0, r1, c1 := s.ordered()
	var out []string
	for r := r0; r <= r1 && r < len(lines); r++ {
		text := ansi.Strip(lines[r])
		from, to := 0, cell.Width(text)
		if r == r0 {
			from = min(c0, to)
		}
		if r == r1 {
			to = min(c1+1, to)
		}
		if from < to {
			text = ansi.Cut(text, from, to)
		} else {
			text = ""
		}
		out = append(out, strings.TrimRight(text, " "))
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}

// highlight shows the selection on the window's lines (reversed cells).
func (m Model) highlight(lines []string) []string {
	if m.sel == nil {
		return lines
	}
	r0, c0, r1, c1 := m.sel.ordered()
	out := append([]string(nil), lines...)
	for r := r0; r <= r1 && r < len(out); r++ {
		from, to := 0, m.width
		if r == r0 {
			from = min(c0, m.width)
		}
		if r == r1 {
			to = min(c1+1, m.width)
		}
		if from >= to {
			continue
		}
		plain := ansi.Strip(out[r])
		out[r] = ansi.Cut(out[r], 0, from) + m.st.Selection.Render(ansi.Cut(plain, from, to)) + ansi.Cut(out[r], to, m.width)
	}
	return out
}
