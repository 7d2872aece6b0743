package kanban

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/cell"
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
		return m.boardView()
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
			b.WriteString(cell.Pad(lines[i], w))
		} else {
			b.WriteString(strings.Repeat(" ", w))
		}
	}
	return b.String()
}

func (m *Model) refusedLines() []string {
	s := m.styles
	w := max(m.width, 1)
	lines := []string{s.Error.Render("The board is unavailable."), ""}
	reason := "kanban.db could not be opened"
	var ce *store.CorruptError
	switch {
	case errors.As(m.boardErr, &ce):
		lines = append(lines, wrap("File: "+sanitize.Line(ce.Path), w)...)
		reason = "Reason: " + ce.Reason
	case m.boardErr != nil:
		reason = m.boardErr.Error()
	}
	lines = append(lines, wrap(sanitize.Line(reason), w)...)
	lines = append(lines, "")
	lines = append(lines, wrap("Run `spindle doctor` to check the file and restore a backup. The chat keeps working.", w)...)
	return lines
}

func wrap(s string, w int) []string {
	return strings.Split(ansi.Wrap(s, w, ""), "\n")
}

// columnLayout is the visible columns and their widths.
func (m *Model) columnLayout() (first int, widths []int) {
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

// boardView joins the columns; every cell is already exactly its width, so
// only the footer needs measuring.
func (m *Model) boardView() string {
	lines := m.boardLines()
	h := len(lines)
	lines[h-1] = cell.Pad(lines[h-1], m.width)
	return strings.Join(lines, "\n")
}

func (m *Model) boardLines() []string {
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
	m.overlayNotice(out)
	return out
}

// maxNoticeRows is how many rows a notice may take at the bottom of the
// pane, over the footer and the cards above it, until the next key.
const maxNoticeRows = 3

// overlayNotice draws the notice, wrapped to the pane's width, over the
// last rows of lines (each then exactly the pane's width).
func (m *Model) overlayNotice(lines []string) {
	if m.notice == "" || m.Editing() || m.damaged != nil || len(lines) == 0 {
		return
	}
	rows := cell.Wrap(sanitize.Line(m.notice), m.width)
	if n := min(maxNoticeRows, len(lines)); len(rows) > n {
		rows = rows[:n]
		rows[n-1] = cell.Cut(rows[n-1]+" "+cell.Ellipsis, m.width)
	}
	st := m.styles.Prompt
	if m.noticeBad {
		st = m.styles.Error
	}
	at := len(lines) - len(rows)
	for i, r := range rows {
		lines[at+i] = st.Render(cell.Pad(r, m.width))
	}
}

// columnCells draws column c as rows cells of exactly cw cells each: the
// header, the rule, then the visible cards. Each column keeps one blank cell
// on its right as the gutter. It works out widths from the plain text and
// paints afterwards, because measuring styled strings dominates a frame.
func (m *Model) columnCells(c, cw, rows int, moreLeft, moreRight bool) []string {
	if cw < 2 {
		// No room for a column and its gutter (a pane one cell wide).
		return slices.Repeat([]string{cell.Spaces(cw)}, rows)
	}
	f := m.styles.fast
	inner := cw - 1
	cells := make([]string, 0, rows)
	total := len(m.cols[c])
	n := m.colLen(c)

	name := columnName(allStatuses[c])
	if moreLeft {
		name = "‹ " + name
	}
	hp := f.header
	if c == m.col && m.focused {
		hp = f.headerCurrent
	}
	count := strconv.Itoa(n)
	if m.shown != nil {
		count = fmt.Sprintf("%d/%d", n, total)
	}
	room := inner
	if moreRight {
		room = inner - 1
	}
	name = cell.Cut(name, room)
	count = cell.Cut(count, max(room-cell.Width(name)-1, 0))
	head := hp.on(name)
	used := cell.Width(name)
	if count != "" {
		head += " " + f.count.on(count)
		used += 1 + cell.Width(count)
	}
	head += cell.Spaces(room - used)
	if moreRight {
		head += f.count.on("›")
	}
	cells = append(cells, head+" ")

	capN := m.capacity()
	off := m.offsets[c]
	rule := strings.Repeat("─", inner)
	if n > capN && rows > 2 { // a range only where a card can show
		rng := fmt.Sprintf(" %d–%d/%d ", off+1, min(off+capN, n), n)
		if w := cell.Width(rng); w+2 <= inner {
			rule = "──" + rng + strings.Repeat("─", inner-2-w)
		}
	}
	cells = append(cells, f.rule.on(rule)+" ")

	if n == 0 && rows > 2 {
		empty := "no cards"
		if m.shown != nil {
			empty = "no matches"
		}
		empty = cell.Cut("  "+empty, inner)
		cells = append(cells, f.card.meta.on(empty)+cell.Spaces(inner-cell.Width(empty))+" ")
	}
	for r := off; r < n && r < off+capN; r++ {
		card := &m.cols[c][m.index(c, r)]
		sel := c == m.col && r == m.row
		for _, l := range m.cardLines(card, inner, sel) {
			cells = append(cells, l+" ")
		}
	}
	blank := cell.Spaces(cw)
	for len(cells) < rows {
		cells = append(cells, blank)
	}
	return cells[:rows]
}

// cardLines draws a card in exactly w cells: title, meta, gap.
func (m *Model) cardLines(c *store.Card, w int, selected bool) [3]string {
	f := m.styles.fast
	if w < 3 {
		// Room for the selection bar at most.
		l := cell.Spaces(w)
		if selected {
			l = f.marker.on("▌") + cell.Spaces(w-1)
		}
		return [3]string{l, l, cell.Spaces(w)}
	}
	cp := f.card
	if selected && m.focused {
		cp = f.selected
	}
	marker := cp.blank.on("  ")
	if selected {
		marker = f.marker.on("▌") + cp.blank.on(" ")
	}
	room := max(w-2, 0)

	title := cell.Cut(sanitize.Line(c.Title), room)
	tp := cp.title
	if c.Status == store.Done && !selected {
		tp = cp.done
	}
	line1 := marker + tp.on(title) + cp.blank.on(cell.Spaces(room-cell.Width(title)))

	id := "#" + strconv.FormatInt(c.ID, 10)
	if c.ID < 0 {
		id = "saving…"
	}
	prio := c.Priority.String()
	pp := cp.meta
	if c.Priority >= 0 && int(c.Priority) < len(cp.priority) {
		pp = cp.priority[c.Priority]
	}
	who := sanitize.Line(string(c.Assignee))
	ap := cp.me
	if c.Assignee == store.AgentAssignee {
		ap = cp.agent
	}
	// Cut the meta as plain text first, then paint whichever parts remain.
	parts := []struct {
		text string
		p    paint
	}{{id + " · ", cp.meta}, {prio, pp}, {" · ", cp.meta}, {who, ap}}
	if text, attention, ok := m.runLine(c); ok {
		// What its worker is doing instead of the meta; a worker in
		// another process, or none, after the card's id.
		p := cp.agent
		if attention {
			p = cp.attention
		}
		_, local := m.workers[c.ID]
		parts = parts[:0]
		if !local {
			parts = append(parts, struct {
				text string
				p    paint
			}{id + " · ", cp.meta})
		}
		parts = append(parts, struct {
			text string
			p    paint
		}{sanitize.Line(text), p})
	}
	line2 := marker
	left := room
	for i, part := range parts {
		if left <= 0 {
			break
		}
		t := part.text
		if cell.Width(t) > left || (i < len(parts)-1 && cell.Width(t) == left) {
			t = cell.Cut(t, left)
		}
		line2 += part.p.on(t)
		left -= cell.Width(t)
	}
	line2 += cp.blank.on(cell.Spaces(left))
	return [3]string{line1, line2, cell.Spaces(w)}
}

func (m *Model) assigneeStyle(a store.Assignee) lipgloss.Style {
	if a == store.AgentAssignee {
		return m.styles.Agent
	}
	return m.styles.Me
}

// footer is the last line: the input or confirmation that has the
// keyboard, else the filter and a few hints.
func (m *Model) footer() string {
	s := m.styles
	if m.damaged != nil && !m.Editing() {
		return s.Error.Render("kanban.db was damaged while open: nothing more is written to it. Quit spindle, then run spindle doctor.")
	}
	switch m.mode {
	case modeFilter, modeComment:
		return m.input.View()
	case modeConfirm:
		title := ""
		if c, i, ok := m.find(m.target); ok {
			title = sanitize.Line(m.cols[c][i].Title)
		}
		return s.Error.Render(fmt.Sprintf("Delete #%d “%s”?", m.target, title)) + s.Footer.Render(" y deletes, any other key keeps it")
	}
	var parts []string
	used := 0
	if m.filter != "" {
		f := "/ " + sanitize.Line(m.filter)
		parts = append(parts, s.Prompt.Render(f)+s.Footer.Render(" (esc clears)"))
		used += cell.Width(f) + len(" (esc clears)")
	}
	for _, p := range []struct {
		on   bool
		text string
	}{{m.showArchived, "archived shown"}, {m.busy(), "saving…"}} {
		if p.on {
			parts = append(parts, s.Footer.Render(p.text))
			used += cell.Width(p.text)
		}
	}
	used += len(parts) * len(" · ")
	k := m.keys
	hints := fitHints(m.width-used,
		firstKey(k.New)+" new", firstKey(k.Open)+" open", firstKey(k.MovePrev)+"/"+firstKey(k.MoveNext)+" move",
		firstKey(k.Undo)+" undo", firstKey(k.Filter)+" filter", firstKey(k.UndoCard)+" undo card")
	if hints != "" {
		parts = append(parts, s.Footer.Render(hints))
	}
	return strings.Join(parts, s.Footer.Render(" · "))
}

// fitHints joins as many of hints (most important first) as fit in w
// cells, whole, in their order: a hint is never cut to "u un…".
func fitHints(w int, hints ...string) string {
	var b strings.Builder
	used := 0
	for _, h := range hints {
		hw := cell.Width(h)
		if used > 0 {
			hw += len(" · ")
		}
		if used+hw > w {
			continue
		}
		if used > 0 {
			b.WriteString(" · ")
		}
		b.WriteString(h)
		used += hw
	}
	return b.String()
}

func (m *Model) formLines() []string {
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

func (m *Model) detailLines() []string {
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
		more := ""
		if n := len(d.lines) - end; n > 0 {
			more = fmt.Sprintf(" · ↓ %d more", n)
		}
		foot = m.styles.Footer.Render(fitHints(m.width-cell.Width(more),
			firstKey(k.Cancel)+" back", firstKey(k.Comment)+" comment", firstKey(k.Edit)+" edit",
			firstKey(k.UndoCard)+" undo card", firstKey(k.Up)+"/"+firstKey(k.Down)+" scroll") + more)
	}
	lines = append(lines[:h-1], foot)
	if m.mode == modeDetail {
		m.overlayNotice(lines)
	}
	return lines
}

// firstKey is the first key of b, for the one-line hints.
func firstKey(b key.Binding) string {
	if ks := b.Keys(); len(ks) > 0 {
		return ks[0]
	}
	return b.Help().Key
}
