package kanban

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/store"
)

// View draws the pane at exactly its size. It reads the model only.
func (m Model) View() string {
	var lines []string
	switch {
	case m.board == nil:
		lines = m.refusedLines()
	case !m.loaded:
		lines = []string{m.styles.Meta.Render("loading the board…")}
	case m.mode == modeForm:
		lines = m.formLines()
	case m.mode == modeDetail || (m.Editing() && m.back == modeDetail):
		lines = m.detailLines()
	default:
		lines = m.boardLines()
	}
	return frame(lines, m.width, m.height)
}

// frame cuts or pads lines to exactly w×h cells.
func frame(lines []string, w, h int) string {
	var b strings.Builder
	b.Grow((w + 1) * h)
	for i := 0; i < h; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i < len(lines) {
			b.WriteString(pad(lines[i], w))
		} else {
			b.WriteString(strings.Repeat(" ", w))
		}
	}
	return b.String()
}

// pad cuts s to w cells or pads it with spaces to w cells.
func pad(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = ansi.StringWidth(s)
	}
	if sw < w {
		s += strings.Repeat(" ", w-sw)
	}
	return s
}

func (m Model) refusedLines() []string {
	s := m.styles
	w := max(m.width, 1)
	lines := []string{s.Error.Render("The board is unavailable."), ""}
	reason := "kanban.db could not be opened"
	var ce *store.CorruptError
	switch {
	case errors.As(m.boardErr, &ce):
		lines = append(lines, wrap("File: "+ce.Path, w)...)
		reason = "Reason: " + ce.Reason
	case m.boardErr != nil:
		reason = m.boardErr.Error()
	}
	lines = append(lines, wrap(displayText(reason), w)...)
	lines = append(lines, "")
	lines = append(lines, wrap("Run `spindle doctor` to check the file and restore a backup. The chat keeps working.", w)...)
	return lines
}

func wrap(s string, w int) []string {
	return strings.Split(ansi.Wrap(s, w, ""), "\n")
}

// columnLayout is the visible columns and their widths.
func (m Model) columnLayout() (first int, widths []int) {
	first = m.colOffset
	n := min(m.fitCols(), m.numCols()-first)
	widths = make([]int, n)
	for i := range widths {
		widths[i] = m.width / n
		if i < m.width%n {
			widths[i]++
		}
	}
	return first, widths
}

func (m Model) boardLines() []string {
	h := max(m.height, 1)
	lines := make([]strings.Builder, h)
	first, widths := m.columnLayout()
	for i, cw := range widths {
		c := first + i
		cells := m.columnCells(c, cw, h-1, i == 0 && first > 0, i == len(widths)-1 && c+1 < m.numCols())
		for r, cell := range cells {
			lines[r].WriteString(cell)
		}
	}
	out := make([]string, h)
	for i := range out {
		out[i] = lines[i].String()
	}
	out[h-1] = m.footer()
	return out
}

// columnCells draws column c as rows cells of exactly cw cells each: the
// header, the rule, then the visible cards. Each column keeps one blank cell
// on its right as the gutter.
func (m Model) columnCells(c, cw, rows int, moreLeft, moreRight bool) []string {
	s := m.styles
	inner := max(cw-1, 1)
	cells := make([]string, 0, rows)
	total := len(m.cols[c])
	n := m.colLen(c)

	name := columnName(allStatuses[c])
	if moreLeft {
		name = "‹ " + name
	}
	hs := s.Header
	if c == m.col && m.focused {
		hs = s.HeaderCurrent
	}
	count := strconv.Itoa(n)
	if m.shown != nil {
		count = fmt.Sprintf("%d/%d", n, total)
	}
	head := hs.Render(name) + " " + s.Count.Render(count)
	if moreRight {
		head = pad(head, inner-1) + s.Count.Render("›")
	}
	cells = append(cells, pad(head, inner)+" ")

	capN := m.capacity()
	off := m.offsets[c]
	rule := strings.Repeat("─", inner)
	if n > capN {
		rng := fmt.Sprintf(" %d–%d/%d ", off+1, min(off+capN, n), n)
		if w := ansi.StringWidth(rng); w+2 <= inner {
			rule = "──" + rng + strings.Repeat("─", inner-2-w)
		}
	}
	cells = append(cells, s.Rule.Render(rule)+" ")

	if n == 0 && rows > 2 {
		empty := "no cards"
		if m.shown != nil {
			empty = "no matches"
		}
		cells = append(cells, pad(s.Meta.Render("  "+empty), inner)+" ")
	}
	for r := off; r < n && r < off+capN; r++ {
		card := &m.cols[c][m.index(c, r)]
		sel := c == m.col && r == m.row
		for _, l := range m.cardLines(card, inner, sel) {
			cells = append(cells, l+" ")
		}
	}
	blank := strings.Repeat(" ", cw)
	for len(cells) < rows {
		cells = append(cells, blank)
	}
	return cells[:rows]
}

// cardLines draws a card in w cells: title, meta, gap.
func (m Model) cardLines(c *store.Card, w int, selected bool) [3]string {
	s := m.styles
	title := displayText(c.Title)
	ts := s.Title
	if c.Status == store.Done {
		ts = s.Done
	}
	marker := "  "
	if selected {
		marker = s.Marker.Render("▌") + " "
		ts = s.TitleSelected
	}
	id := "#" + strconv.FormatInt(c.ID, 10)
	if c.ID < 0 {
		id = "saving…"
	}
	ps, as, ms := s.priorityStyle(c.Priority), m.assigneeStyle(c.Assignee), s.Meta
	bg := selected && m.focused
	if bg {
		ts, ps, as, ms = ts.Inherit(s.Selected), ps.Inherit(s.Selected), as.Inherit(s.Selected), ms.Inherit(s.Selected)
	}
	line1 := marker + ts.Render(ansi.Truncate(title, max(w-2, 1), "…"))
	metaMark := "  "
	if selected {
		metaMark = s.Marker.Render("▌") + " "
	}
	line2 := metaMark + ms.Render(id+" · ") + ps.Render(c.Priority.String()) + ms.Render(" · ") + as.Render(displayText(string(c.Assignee)))
	line1, line2 = pad(line1, w), pad(line2, w)
	if bg {
		line1, line2 = fillBackground(line1, w, s.Selected), fillBackground(line2, w, s.Selected)
	}
	return [3]string{line1, line2, strings.Repeat(" ", w)}
}

// fillBackground re-pads a padded line so the trailing spaces carry the
// selection background too.
func fillBackground(line string, w int, bg lipgloss.Style) string {
	trimmed := strings.TrimRight(line, " ")
	gap := w - ansi.StringWidth(trimmed)
	if gap <= 0 {
		return line
	}
	return trimmed + bg.Render(strings.Repeat(" ", gap))
}

func (m Model) assigneeStyle(a store.Assignee) lipgloss.Style {
	if a == store.AgentAssignee {
		return m.styles.Agent
	}
	return m.styles.Me
}

// footer is the last line: the input or confirmation that has the
// keyboard, else the filter and a few hints.
func (m Model) footer() string {
	s := m.styles
	switch m.mode {
	case modeFilter, modeComment:
		return m.input.View()
	case modeConfirm:
		title := ""
		if c, i, ok := m.find(m.target); ok {
			title = displayText(m.cols[c][i].Title)
		}
		return s.Error.Render(fmt.Sprintf("Delete #%d “%s”?", m.target, title)) + s.Footer.Render(" y deletes, any other key keeps it")
	}
	var parts []string
	if m.filter != "" {
		parts = append(parts, s.Prompt.Render("/ "+displayText(m.filter))+s.Footer.Render(" (esc clears)"))
	}
	if m.showArchived {
		parts = append(parts, s.Footer.Render("archived shown"))
	}
	if m.busy() {
		parts = append(parts, s.Footer.Render("saving…"))
	}
	k := m.keys
	hint := fmt.Sprintf("%s new · %s open · %s/%s move · %s filter · %s undo",
		firstKey(k.New), firstKey(k.Open), firstKey(k.MovePrev), firstKey(k.MoveNext), firstKey(k.Filter), firstKey(k.Undo))
	parts = append(parts, s.Footer.Render(hint))
	return strings.Join(parts, s.Footer.Render(" · "))
}

func (m Model) formLines() []string {
	s := m.styles
	f := m.form
	heading := "New card · " + columnName(f.status)
	if f.id != 0 {
		heading = fmt.Sprintf("Edit card #%d", f.id)
	}
	k := m.keys
	hint := fmt.Sprintf("%s: body · %s save · %s cancel", firstKey(k.Submit), firstKey(k.Save), firstKey(k.Cancel))
	if f.onBody {
		hint = fmt.Sprintf("%s save · %s cancel", firstKey(k.Save), firstKey(k.Cancel))
	}
	lines := []string{s.DetailTitle.Render(heading), "", s.Label.Render("Title"), "  " + f.title.View(), "", s.Label.Render("Body")}
	lines = append(lines, strings.Split(f.body.View(), "\n")...)
	lines = append(lines, "")
	if f.err != "" {
		lines = append(lines, s.Error.Render(f.err)+s.Footer.Render(" · "+hint))
	} else {
		lines = append(lines, s.Footer.Render(hint))
	}
	// The hint belongs on the last row whatever the editor's height.
	if len(lines) < m.height {
		last := lines[len(lines)-1]
		lines = lines[:len(lines)-1]
		for len(lines) < m.height-1 {
			lines = append(lines, "")
		}
		lines = append(lines, last)
	}
	return lines
}

func (m Model) detailLines() []string {
	d := m.detail
	h := max(m.height, 1)
	lines := append([]string(nil), d.header...)
	room := max(h-len(lines)-1, 0)
	end := min(d.scroll+room, len(d.lines))
	if d.scroll < end {
		lines = append(lines, d.lines[d.scroll:end]...)
	}
	for len(lines) < h-1 {
		lines = append(lines, "")
	}
	var foot string
	switch m.mode {
	case modeComment, modeConfirm:
		foot = m.footer()
	default:
		k := m.keys
		foot = m.styles.Footer.Render(fmt.Sprintf("%s back · %s comment · %s edit · %s/%s scroll",
			firstKey(k.Cancel), firstKey(k.Comment), firstKey(k.Edit), firstKey(k.Up), firstKey(k.Down)))
		if more := len(d.lines) - end; more > 0 {
			foot += m.styles.Footer.Render(fmt.Sprintf(" · ↓ %d more", more))
		}
	}
	return append(lines[:h-1], foot)
}

// firstKey is the first key of b, for the one-line hints.
func firstKey(b key.Binding) string {
	if ks := b.Keys(); len(ks) > 0 {
		return ks[0]
	}
	return b.Help().Key
}
