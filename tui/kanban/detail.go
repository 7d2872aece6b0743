package kanban

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
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

// detailHeaderRows is the rows above the scrolled part: title, meta, rule.
const detailHeaderRows = 3

func (m *Model) openDetail(id int64) {
	m.mode = modeDetail
	m.detail = detailState{id: id}
	m.rebuildDetail()
}

// detailMaxScroll is the largest useful scroll offset.
func (m *Model) detailMaxScroll() int {
	return max(len(m.detail.lines)-(m.height-detailHeaderRows-1), 0)
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

	title := ansi.Truncate(fmt.Sprintf("#%d %s", card.ID, sanitize.Line(card.Title)), w, "…")
	if card.ID < 0 {
		title = ansi.Truncate("(saving) "+sanitize.Line(card.Title), w, "…")
	}
	meta := fmt.Sprintf("%s · %s · %s · created %s · updated %s",
		columnName(card.Status), s.priorityStyle(card.Priority).Render(card.Priority.String()),
		m.assigneeStyle(card.Assignee).Render(string(card.Assignee)),
		stamp(card.CreatedAt), stamp(card.UpdatedAt))
	if !card.CompletedAt.IsZero() {
		meta += " · done " + stamp(card.CompletedAt)
	}
	d.header = []string{
		s.DetailTitle.Render(title),
		ansi.Truncate(s.Meta.Render(meta), w, "…"),
		s.Rule.Render(strings.Repeat("─", w)),
	}

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
			took := "running"
			if !r.EndedAt.IsZero() {
				took = r.EndedAt.Sub(r.StartedAt).Round(time.Second).String()
			}
			line := fmt.Sprintf("%s  %s  %s", stamp(r.StartedAt), r.Outcome, took)
			if r.Error != "" {
				line += "  " + sanitize.Line(r.Error)
			}
			lines = append(lines, ansi.Truncate(s.Meta.Render(line), w, "…"))
		}
	}
	if wk, running := m.workers[d.id]; running {
		head, _ := m.workerLine(wk)
		lines = append(lines, "", s.Label.Render("Worker")+s.Meta.Render("  "+sanitize.Line(head)))
		lines = append(lines, d.live...)
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
	line := s.EventTime.Render(when) + "  " + s.EventActor.Render(sanitize.Line(e.Actor)) + "  " + what
	if e.Undone {
		line = s.Undone.Render(ansi.Strip(line)) + s.Meta.Render(" (undone)")
	}
	out := []string{ansi.Truncate(line, w, "…")}
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
