package kanban

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/cell"
)

// detailState is the open card's detail: its history, the comments being
// written, and the rendered lines, rebuilt in Update when any of them or the
// width changes so that View only slices them.
type detailState struct {
	id      int64
	events  []store.Event
	loaded  bool
	pending []string // comments typed but not yet committed
	scroll  int
	runs    []store.Run
	live    []string // the running worker's transcript, drawn by the root

	header []string // title and meta, always shown
	lines  []string // body and history, scrolled

	bodyKey  string // the body and width bodyRows were rendered from
	bodyRows []string
}

// maxTitleRows caps the rows a long title takes above the scrolled part.
const maxTitleRows = 3

func (m *Model) openDetail(id int64) {
	m.mode = modeDetail
	m.detail = detailState{id: id}
	m.rebuildDetail()
}

// detailMaxScroll is the largest useful scroll offset.
func (m *Model) detailMaxScroll() int {
	return max(len(m.detail.lines)-(m.height-len(m.detail.header)-1), 0)
}

// rebuildDetail renders the open card into lines. It runs in Update only.
func (m *Model) rebuildDetail() {
	d := &m.detail
	c, i, ok := m.find(d.id)
	if !ok {
		d.header, d.lines = nil, nil
		return
	}
	card := m.cols[c][i]
	s := m.styles
	w := max(m.width, 1)

	// The header wraps rather than cuts: the title up to maxTitleRows,
	// the meta between its parts.
	title := fmt.Sprintf("#%d %s", card.ID, sanitize.Line(card.Title))
	if card.ID < 0 {
		title = "(saving) " + sanitize.Line(card.Title)
	}
	titleRows := cell.Wrap(title, w)
	if len(titleRows) > maxTitleRows {
		titleRows = titleRows[:maxTitleRows]
		titleRows[maxTitleRows-1] = cell.Cut(titleRows[maxTitleRows-1]+" "+cell.Ellipsis, w)
	}
	d.header = d.header[:0]
	for _, r := range titleRows {
		d.header = append(d.header, s.DetailTitle.Render(cell.Cut(r, w)))
	}
	meta := []span{
		{columnName(card.Status), s.Meta},
		{card.Priority.String(), s.priorityStyle(card.Priority)},
		{string(card.Assignee), m.assigneeStyle(card.Assignee)},
		{"created " + stamp(card.CreatedAt), s.Meta},
		{"updated " + stamp(card.UpdatedAt), s.Meta},
	}
	if !card.CompletedAt.IsZero() {
		meta = append(meta, span{"done " + stamp(card.CompletedAt), s.Meta})
	}
	d.header = append(d.header, packSpans(meta, s.Meta.Render(" · "), w)...)
	d.header = append(d.header, s.Rule.Render(strings.Repeat("─", w)))

	lines := m.bodyLines(card.Body, w)
	lines = append(lines, "", s.Label.Render("History"))
	if !d.loaded && len(d.events) == 0 {
		lines = append(lines, s.Meta.Render("loading…"))
	}
	for _, e := range d.events {
		lines = append(lines, m.eventLines(e, w)...)
	}
	for _, text := range d.pending {
		lines = append(lines, m.eventLines(store.Event{Kind: "commented", Actor: actor, Text: text}, w)...)
	}
	if len(d.runs) > 0 {
		lines = append(lines, "", s.Label.Render("Runs"))
		for _, r := range d.runs {
			// A run that has not ended says "running" once, not as its
			// outcome and again as its duration.
			line := fmt.Sprintf("%s  %s", stamp(r.StartedAt), r.Outcome)
			if !r.EndedAt.IsZero() {
				line += "  " + r.EndedAt.Sub(r.StartedAt).Round(time.Second).String()
			}
			if r.Error != "" {
				line += "  " + sanitize.Line(r.Error)
			}
			for _, l := range hangingWrap(line, w, 0) {
				lines = append(lines, s.Meta.Render(l))
			}
		}
	}
	if wk, running := m.workers[d.id]; running {
		wk.LastLine = "" // its transcript follows in full
		head, _ := m.workerLine(wk)
		lines = append(lines, "", s.Label.Render("Worker")+s.Meta.Render("  "+cell.Cut(sanitize.Line(head), max(w-8, 1))))
		lines = append(lines, d.live...)
	} else if text, attention, ok := m.runLine(&card); ok {
		// A worker in another process, or none at all.
		switch cl, claimed := m.claims[card.ID]; {
		case claimed:
			text = fmt.Sprintf("in process %d on %s (its progress shows in that spindle)", cl.PID, sanitize.Line(cl.Host))
		case text == noWorkerLine:
			text = noWorkerDetail
		}
		st := s.Meta
		if attention {
			st = s.Attention
		}
		rows := hangingWrap("Worker  "+text, w, 0)
		lines = append(lines, "", s.Label.Render("Worker")+st.Render(strings.TrimPrefix(rows[0], "Worker")))
		for _, r := range rows[1:] {
			lines = append(lines, st.Render(r))
		}
	}
	d.lines = lines
	d.scroll = clamp(d.scroll, 0, m.detailMaxScroll())
}

// bodyLines renders the body as markdown, cached by body and width.
func (m *Model) bodyLines(body string, w int) []string {
	d := &m.detail
	body = sanitize.String(body)
	if strings.TrimSpace(body) == "" {
		return []string{m.styles.Meta.Render("(no description)")}
	}
	keyStr := fmt.Sprintf("%d\x00%s", w, body)
	if d.bodyKey == keyStr {
		return append([]string(nil), d.bodyRows...)
	}
	rows := m.md.Render(body, max(w-2, 10))
	for i, r := range rows {
		rows[i] = ansi.Truncate(r, w, "")
	}
	d.bodyKey, d.bodyRows = keyStr, rows
	return append([]string(nil), rows...)
}

// eventLines renders one history entry: when, who, what, and a comment's
// text indented below.
func (m *Model) eventLines(e store.Event, w int) []string {
	s := m.styles
	when := "…"
	if !e.At.IsZero() {
		when = stamp(e.At)
	}
	what := sanitize.Line(string(e.Kind))
	text := sanitize.String(e.Text)
	if e.Kind != "commented" && text != "" {
		what += ": " + sanitize.Line(text)
		text = ""
	}
	// The line wraps rather than cuts (a long move or edit, and
	// "(undone)", stay readable), its later rows indented.
	who := sanitize.Line(e.Actor)
	prefix := when + "  " + who + "  "
	plain := prefix + what
	if e.Undone {
		plain += " (undone)"
	}
	var out []string
	for i, row := range hangingWrap(plain, w, 4) {
		switch {
		case e.Undone:
			body, undone := strings.CutSuffix(row, "(undone)")
			row = s.Undone.Render(body)
			if undone {
				row += s.Meta.Render("(undone)")
			}
		case i == 0 && strings.HasPrefix(row, prefix):
			row = s.EventTime.Render(when) + "  " + s.EventActor.Render(who) + "  " + strings.TrimPrefix(row, prefix)
		}
		out = append(out, row)
	}
	if text != "" {
		for _, l := range strings.Split(ansi.Wrap(text, max(w-4, 1), ""), "\n") {
			out = append(out, "    "+l)
		}
	}
	return out
}

// stamp formats a time for the detail view, in local time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// columnName is a status as its column's header says it.
func columnName(s store.Status) string {
	switch s {
	case store.Todo:
		return "To do"
	case store.Running:
		return "Running"
	case store.Blocked:
		return "Blocked"
	case store.Review:
		return "Review"
	case store.Done:
		return "Done"
	case store.Archived:
		return "Archived"
	}
	return sanitize.Line(string(s))
}

// span is a piece of text and the style it is drawn in.
type span struct {
	text  string
	style lipgloss.Style
}

// packSpans lays spans out in rows of at most w cells, joined by sep (one
// " · " wide), breaking only between spans; a span wider than w is cut.
func packSpans(spans []span, sep string, w int) []string {
	sepW := cell.Width(sep)
	var rows []string
	var row string
	used := 0
	for _, sp := range spans {
		t := cell.Cut(sanitize.Line(sp.text), w)
		tw := cell.Width(t)
		if used > 0 && used+sepW+tw > w {
			rows = append(rows, row)
			row, used = "", 0
		}
		if used > 0 {
			row += sep
			used += sepW
		}
		row += sp.style.Render(t)
		used += tw
	}
	return append(rows, row)
}

// hangingWrap breaks plain text at spaces into rows of at most w cells,
// the rows after the first indented by indent spaces; a word wider than a
// row is cut. Runs of spaces inside a row are kept (the history's columns
// are two spaces apart).
func hangingWrap(text string, w, indent int) []string {
	w = max(w, 1)
	indent = min(indent, w/2)
	var rows []string
	row, room := "", w
	for text != "" {
		// The next word and the spaces before it.
		lead := len(text) - len(strings.TrimLeft(text, " "))
		end := strings.IndexByte(text[lead:], ' ')
		if end < 0 {
			end = len(text) - lead
		}
		word, spaces := text[lead:lead+end], text[:lead]
		text = text[lead+end:]
		if word == "" {
			break
		}
		if strings.TrimSpace(row) == "" {
			spaces = "" // no spaces at the start of a row, after its indent
		} else if cell.Width(row)+len(spaces)+cell.Width(word) > room {
			rows = append(rows, row)
			row, spaces = strings.Repeat(" ", indent), ""
		}
		row += spaces + cell.Cut(word, room-cell.Width(row))
	}
	return append(rows, row)
}
