package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/cell"
)

// dialogMsg is a result of a dialog's command (a page of sessions, a list
// of models, a rename). It applies itself to the model in Update, so that
// the root routes all of them with one case; a result that belongs to a
// query the dialog has since replaced, or to a dialog that was closed,
// changes nothing on screen.
type dialogMsg interface {
	apply(m *Model) tea.Cmd
}

// dialogUpdate applies a dialog's result.
func (m Model) dialogUpdate(msg dialogMsg) (Model, tea.Cmd) {
	cmd := msg.apply(&m)
	return m, cmd
}

// sessionsPageSize is how many sessions one query reads: a few screens, so
// that scrolling asks again only now and then.
const sessionsPageSize = 50

// sessionsOverlay is the session browser: the sessions newest first, a
// page at a time, filtered by the search field as the person types. Every
// read is a command; the overlay keeps the pages of the current query and
// drops answers to older ones.
type sessionsOverlay struct {
	search  textinput.Model
	showAll bool // run and worker sessions too

	seq      int                            // the current query; answers to others are dropped
	pages    map[int][]store.SessionSummary // by page number
	loading  map[int]bool
	total    int  // how many sessions the query selects; -1 until known
	counting bool // a count was asked for
	toEnd    bool // End was pressed before the total was known
	now      time.Time

	cursor, top int
	rows        int // list rows at the last draw (page keys move by it)
	modelW      int // the widest model of the pages read, with its gap; 0 if none has one

	// A rename edits the selected row's title in place, with its keys on
	// the line under the row. It opens with the old title selected, as a
	// file manager's rename does: the first key that types replaces it, a
	// delete key clears it, an arrow or Home/End starts editing it.
	// Enter on the title unchanged saves nothing.
	renaming  bool
	replacing bool // the old title is still selected
	rename    textinput.Model
	confirm   *store.SessionSummary // the session the delete question is about
	note      string                // the outcome of the last action
	err       string
}

// openSessions pushes the session browser and reads its first page.
func (m *Model) openSessions() tea.Cmd {
	o := &sessionsOverlay{search: m.newDialogInput("search titles and messages")}
	m.push(o)
	return tea.Batch(o.search.Focus(), o.reset(m))
}

// newDialogInput is a dialog's text field, drawn in the overlay styles.
func (m *Model) newDialogInput(placeholder string) textinput.Model {
	in := textinput.New()
	in.Prompt = "› "
	in.Placeholder = placeholder
	st := in.Styles()
	st.Focused.Prompt = m.st.Key
	st.Focused.Text = m.st.Body
	st.Focused.Placeholder = m.st.Muted
	st.Cursor.Blink = false
	// Blurred (while a rename has the keyboard): no cursor, the same
	// colours.
	st.Blurred.Prompt = m.st.Muted
	st.Blurred.Text = m.st.Body
	st.Blurred.Placeholder = m.st.Muted
	in.SetStyles(st)
	in.SetWidth(max(m.width-4, 1))
	return in
}

// newRenameInput is the field a rename edits in the selected row: drawn
// on the row's background, with the old title as its value.
func (m *Model) newRenameInput(title string) textinput.Model {
	in := m.newDialogInput("a title")
	in.Prompt = ""
	st := in.Styles()
	st.Focused.Text = m.st.Selected
	st.Focused.Placeholder = m.st.Selected.Foreground(m.palette.Muted).Bold(false)
	in.SetStyles(st)
	in.SetValue(title)
	in.CursorEnd()
	return in
}

// selectionStyle draws text selected inside a selected row: the row's
// colours reversed, or, without colour (where the row is already in
// reverse video), underlined.
func (m *Model) selectionStyle() lipgloss.Style {
	if m.palette.NoColor {
		return m.st.Selected.Reverse(false).Underline(true)
	}
	return m.st.Selected.Reverse(true)
}

// query is what the browser shows now.
func (o *sessionsOverlay) query() store.SessionQuery {
	q := store.SessionQuery{Text: strings.TrimSpace(o.search.Value())}
	if !o.showAll {
		q.Kinds = []store.SessionKind{store.SessionChat}
	}
	return q
}

// reset starts a new query from its first row.
func (o *sessionsOverlay) reset(m *Model) tea.Cmd {
	o.seq++
	o.pages, o.loading = map[int][]store.SessionSummary{}, map[int]bool{}
	o.total, o.counting, o.toEnd = -1, false, false
	o.cursor, o.top, o.modelW = 0, 0, 0
	return o.need(m)
}

// reload reads the current query again where the cursor is (after a
// delete): the pages are dropped, the position kept.
func (o *sessionsOverlay) reload(m *Model) tea.Cmd {
	o.seq++
	o.pages, o.loading = map[int][]store.SessionSummary{}, map[int]bool{}
	o.total, o.counting, o.modelW = -1, false, 0
	return tea.Batch(o.need(m), o.count(m))
}

// known is how many rows can be moved over: the total once known, else
// up to the end of the last page read.
func (o *sessionsOverlay) known() int {
	if o.total >= 0 {
		return o.total
	}
	n := 0
	for p, rows := range o.pages {
		n = max(n, p*sessionsPageSize+len(rows))
	}
	return n
}

// row returns the session at index i if its page has been read.
func (o *sessionsOverlay) row(i int) (store.SessionSummary, bool) {
	rows := o.pages[i/sessionsPageSize]
	if j := i % sessionsPageSize; j < len(rows) {
		return rows[j], true
	}
	return store.SessionSummary{}, false
}

// visibleRows is how many list rows the browser has at the screen's size.
func (o *sessionsOverlay) visibleRows(m *Model) int {
	return max(m.computeLayout().bodyH-sessionsChrome, 1)
}

// sessionsChrome is the lines around the list: title, search and column
// header above; three detail lines and the key hints below.
const sessionsChrome = 7

// need asks for the pages the window shows (and the one after it, while
// the total is unknown) that have not been read.
func (o *sessionsOverlay) need(m *Model) tea.Cmd {
	rows := o.visibleRows(m)
	o.scrollTo(rows)
	first, last := o.top/sessionsPageSize, (o.top+rows)/sessionsPageSize
	var cmds []tea.Cmd
	for p := first; p <= last; p++ {
		if o.pages[p] != nil || o.loading[p] || (o.total >= 0 && p*sessionsPageSize >= max(o.total, 1)) {
			continue
		}
		if o.total < 0 && p > 0 && len(o.pages[p-1]) < sessionsPageSize {
			continue // the page before it is the last, or not read yet
		}
		o.loading[p] = true
		cmds = append(cmds, o.loadPage(m, p))
	}
	return tea.Batch(cmds...)
}

// scrollTo keeps the cursor inside a window of rows lines.
func (o *sessionsOverlay) scrollTo(rows int) {
	o.rows = rows
	if o.cursor < o.top {
		o.top = o.cursor
	} else if o.cursor >= o.top+rows {
		o.top = o.cursor - rows + 1
	}
	o.top = max(o.top, 0)
}

// sessionsPageMsg is a page of the query seq.
type sessionsPageMsg struct {
	o    *sessionsOverlay
	seq  int
	page int
	rows []store.SessionSummary
	err  error
	now  time.Time
}

// sessionsCountMsg is the total of the query seq.
type sessionsCountMsg struct {
	o   *sessionsOverlay
	seq int
	n   int
	err error
}

func (o *sessionsOverlay) loadPage(m *Model, page int) tea.Cmd {
	ctx, st, seq, q := m.ctx, m.state, o.seq, o.query()
	q.Offset, q.Limit = page*sessionsPageSize, sessionsPageSize
	return func() tea.Msg {
		rows, err := st.SessionPage(ctx, q)
		return sessionsPageMsg{o: o, seq: seq, page: page, rows: rows, err: err, now: time.Now()}
	}
}

// count asks for the total, once per query.
func (o *sessionsOverlay) count(m *Model) tea.Cmd {
	if o.counting || o.total >= 0 {
		return nil
	}
	o.counting = true
	ctx, st, seq, q := m.ctx, m.state, o.seq, o.query()
	return func() tea.Msg {
		n, err := st.SessionCount(ctx, q)
		return sessionsCountMsg{o: o, seq: seq, n: n, err: err}
	}
}

func (msg sessionsPageMsg) apply(m *Model) tea.Cmd {
	o := msg.o
	if msg.seq != o.seq {
		return nil
	}
	delete(o.loading, msg.page)
	if msg.err != nil {
		o.err = describeErr(msg.err)
		return nil
	}
	o.err, o.now = "", msg.now
	if msg.rows == nil {
		msg.rows = []store.SessionSummary{}
	}
	o.pages[msg.page] = msg.rows
	for _, r := range msg.rows {
		if label := modelLabel(r); label != "" {
			o.modelW = max(o.modelW, cell.Width(label)+1)
		}
	}
	if len(msg.rows) < sessionsPageSize && (msg.page == 0 || len(msg.rows) > 0) {
		// The last page: the total is known without counting.
		o.total = msg.page*sessionsPageSize + len(msg.rows)
	}
	if o.total >= 0 {
		o.cursor = clampInt(o.cursor, 0, o.total-1)
	}
	// The first page is on screen: now the total, which may walk every
	// session, and the pages the window still lacks.
	return tea.Batch(o.count(m), o.need(m))
}

func (msg sessionsCountMsg) apply(m *Model) tea.Cmd {
	o := msg.o
	if msg.seq != o.seq {
		return nil
	}
	if msg.err != nil {
		o.err = describeErr(msg.err)
		o.counting = false
		return nil
	}
	o.total = msg.n
	o.cursor = clampInt(o.cursor, 0, o.total-1)
	if o.toEnd {
		o.toEnd = false
		o.cursor = max(o.total-1, 0)
	}
	return o.need(m)
}

// paste goes into the new title while renaming (replacing the old one, as
// typing does), else into the search; not into a delete's confirmation.
func (o *sessionsOverlay) paste(m *Model, msg tea.PasteMsg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case o.confirm != nil:
		return nil
	case o.renaming:
		if o.replacing {
			o.replacing = false
			o.rename.SetValue("")
		}
		o.rename, cmd = o.rename.Update(msg)
		return cmd
	}
	before := o.search.Value()
	o.search, cmd = o.search.Update(msg)
	if o.search.Value() != before {
		return tea.Batch(cmd, o.reset(m))
	}
	return cmd
}

func (o *sessionsOverlay) update(m *Model, msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k, g := m.keys.Sessions, m.keys.Global
	if o.confirm != nil {
		s := *o.confirm
		o.confirm = nil
		if key.Matches(msg, k.Confirm) {
			return o.delete(m, s), false
		}
		o.note = "kept " + sessionName(s.Session)
		return nil, false
	}
	if o.renaming {
		return o.renameKey(m, msg), false
	}
	o.note = ""
	switch {
	case key.Matches(msg, g.Stop):
		return nil, true
	case key.Matches(msg, g.Help) && msg.Text == "":
		m.push(newHelpOverlay("Session browser"))
		return nil, false
	case key.Matches(msg, k.Open):
		s, ok := o.row(o.cursor)
		if !ok {
			return nil, false
		}
		return m.chat.Resume(s.ID), true
	case key.Matches(msg, k.Rename):
		s, ok := o.row(o.cursor)
		if !ok {
			return nil, false
		}
		o.renaming, o.replacing = true, true
		o.rename = m.newRenameInput(sanitize.Line(s.Title))
		o.fitRename(m.width - 2 - sessionColumns(m.width, o.modelW, o.showAll).id - 1)
		// One cursor on screen: the search field gives up its own.
		o.search.Blur()
		return o.rename.Focus(), false
	case key.Matches(msg, k.Delete):
		s, ok := o.row(o.cursor)
		if !ok {
			return nil, false
		}
		if m.chat.RunningIn(s.ID) || m.agent.Running(s.ID) {
			o.note = sessionName(s.Session) + " is running a turn: stop it first"
			return nil, false
		}
		o.confirm = &s
		return nil, false
	case key.Matches(msg, k.ShowAll):
		o.showAll = !o.showAll
		return o.reset(m), false
	case key.Matches(msg, listUp):
		o.cursor--
	case key.Matches(msg, listDown):
		o.cursor++
	case key.Matches(msg, listPageUp):
		o.cursor -= max(o.rows-1, 1)
	case key.Matches(msg, listPageDown):
		o.cursor += max(o.rows-1, 1)
	case key.Matches(msg, listTop):
		o.cursor = 0
	case key.Matches(msg, listBottom):
		if o.total < 0 {
			o.toEnd = true
			return o.count(m), false
		}
		o.cursor = o.total - 1
	default:
		before := o.search.Value()
		var cmd tea.Cmd
		o.search, cmd = o.search.Update(msg)
		if o.search.Value() != before {
			return tea.Batch(cmd, o.reset(m)), false
		}
		return cmd, false
	}
	o.cursor = clampInt(o.cursor, 0, o.known()-1)
	return o.need(m), false
}

// renameKey handles a key while the rename field has the keyboard.
func (o *sessionsOverlay) renameKey(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	k, g := m.keys.Sessions, m.keys.Global
	switch {
	case key.Matches(msg, g.Stop):
		return o.endRename()
	case key.Matches(msg, k.Open):
		s, ok := o.row(o.cursor)
		title := strings.TrimSpace(sanitize.Line(o.rename.Value()))
		end := o.endRename()
		if !ok || title == "" || title == sanitize.Line(s.Title) {
			return end
		}
		return tea.Batch(end, o.renameCmd(m, s.ID, title))
	}
	if o.replacing {
		o.replacing = false
		km := o.rename.KeyMap
		switch {
		case msg.Text != "":
			o.rename.SetValue("") // what is typed replaces the old title
		case key.Matches(msg, km.DeleteCharacterBackward, km.DeleteCharacterForward, km.DeleteWordBackward,
			km.DeleteWordForward, km.DeleteBeforeCursor, km.DeleteAfterCursor):
			o.rename.SetValue("")
			return nil
		case key.Matches(msg, km.CharacterBackward, km.WordBackward, km.LineStart):
			o.rename.CursorStart()
			return nil
		case key.Matches(msg, km.CharacterForward, km.WordForward, km.LineEnd):
			o.rename.CursorEnd()
			return nil
		default:
			// A key that changes nothing keeps the selection.
			value, pos := o.rename.Value(), o.rename.Position()
			var cmd tea.Cmd
			o.rename, cmd = o.rename.Update(msg)
			o.replacing = o.rename.Value() == value && o.rename.Position() == pos
			return cmd
		}
	}
	var cmd tea.Cmd
	o.rename, cmd = o.rename.Update(msg)
	return cmd
}

// endRename closes the rename field; the search field takes the keyboard
// (and the cursor) back.
func (o *sessionsOverlay) endRename() tea.Cmd {
	o.renaming, o.replacing = false, false
	o.rename.Blur()
	return o.search.Focus()
}

// sessionRenamedMsg and sessionDeletedMsg are the outcomes of the
// browser's writes.
type sessionRenamedMsg struct {
	o     *sessionsOverlay
	id    int64
	title string
	err   error
}

type sessionDeletedMsg struct {
	o   *sessionsOverlay
	s   store.SessionSummary
	err error
}

func (o *sessionsOverlay) renameCmd(m *Model, id int64, title string) tea.Cmd {
	ctx, st := m.ctx, m.state
	return func() tea.Msg {
		return sessionRenamedMsg{o: o, id: id, title: title, err: st.RenameSession(ctx, id, title)}
	}
}

func (o *sessionsOverlay) delete(m *Model, s store.SessionSummary) tea.Cmd {
	ctx, st := m.ctx, m.state
	return func() tea.Msg {
		return sessionDeletedMsg{o: o, s: s, err: st.DeleteSession(ctx, s.ID)}
	}
}

func (msg sessionRenamedMsg) apply(m *Model) tea.Cmd {
	if msg.err != nil {
		msg.o.err = describeErr(msg.err)
		return nil
	}
	m.chat.SessionRenamed(msg.id, msg.title)
	for _, rows := range msg.o.pages {
		for i := range rows {
			if rows[i].ID == msg.id {
				rows[i].Title = msg.title
			}
		}
	}
	msg.o.note = fmt.Sprintf("renamed #%d", msg.id)
	return nil
}

func (msg sessionDeletedMsg) apply(m *Model) tea.Cmd {
	o := msg.o
	if msg.err != nil {
		o.err = describeErr(msg.err)
		return nil
	}
	m.chat.SessionDeleted(msg.s.ID)
	o.note = fmt.Sprintf("deleted %s and its %s", sessionName(msg.s.Session), plural(msg.s.Messages, "message"))
	return o.reload(m)
}

// dialogHints is a dialog's key hints, with the key that closes it, cut
// at a whole binding (every key is in the help overlay too).
func (m *Model) dialogHints(b []key.Binding, w int) string {
	g := m.keys.Global
	closeKey := key.NewBinding(key.WithKeys(g.Stop.Keys()...), key.WithHelp(g.Stop.Help().Key, "close"))
	hints := m.help
	hints.SetWidth(w)
	return hints.ShortHelpView(append(b, closeKey))
}

// sessionName is "#12 “title”" for notes and questions.
func sessionName(s store.Session) string {
	if s.Title == "" {
		return fmt.Sprintf("#%d", s.ID)
	}
	return fmt.Sprintf("#%d “%s”", s.ID, sanitize.Line(s.Title))
}

// plural is "1 message", "3 messages".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func (o *sessionsOverlay) lines(m *Model, w, h int) []string {
	st := m.st
	k := m.keys.Sessions
	rows := max(h-sessionsChrome, 1)
	o.scrollTo(rows)

	count := "… chat sessions"
	if o.total >= 0 {
		count = plural(o.total, "chat session")
	}
	scope := count + " · " + k.ShowAll.Help().Key + " shows run and worker ones"
	if o.showAll {
		count = "… sessions"
		if o.total >= 0 {
			count = plural(o.total, "session")
		}
		scope = count + " of every kind · " + k.ShowAll.Help().Key + " hides run and worker ones"
	}
	title := st.HelpTitle.Render("Sessions") + st.Muted.Render("  "+scope)
	o.search.SetWidth(max(w-4, 1))
	out := []string{cell.Cut(title, w), cell.Cut(o.search.View(), w)}

	cols := sessionColumns(w, o.modelW, o.showAll)
	out = append(out, st.Muted.Render(cols.header(w)))
	current := m.chat.Session().ID
	list := rows
	if o.renaming {
		// The line under the renamed row says what the keys do there.
		list = max(rows-1, 1)
		o.scrollTo(list)
	}
	for i := o.top; i < o.top+list; i++ {
		s, ok := o.row(i)
		switch {
		case ok && i == o.cursor && o.renaming:
			out = append(out, o.drawRenameRow(m, cols, s, w), o.renameHint(m, cols, w))
		case ok:
			out = append(out, o.drawRow(m, cols, s, i == o.cursor, s.ID == current, w))
		case i == 0 && len(o.pages) == 0 && o.err == "":
			out = append(out, st.Muted.Render("  reading the sessions…"))
		case i == 0 && o.total == 0:
			empty := "  no sessions yet"
			if o.query().Text != "" {
				empty = "  no session matches"
				if len([]rune(o.query().Text)) < store.MinSearchRunes {
					empty += fmt.Sprintf(" (messages are searched from %d characters)", store.MinSearchRunes)
				}
			}
			out = append(out, st.Muted.Render(empty))
		case o.total < 0 && i < o.known()+sessionsPageSize && len(o.loading) > 0:
			out = append(out, st.Muted.Render("  …"))
		default:
			out = append(out, "")
		}
	}
	out = append(out, o.detail(m, w)...)
	out = append(out, m.dialogHints(k.ShortHelp(), w))
	return cell.Fit(out, w, h)
}

// detail is the three lines under the list: the question or the outcome
// of the last action, else all of the selected session that its row cuts
// (the whole title on up to two lines, its kind, and the text that matched
// the search; a short title leaves its second line to that text).
func (o *sessionsOverlay) detail(m *Model, w int) []string {
	st := m.st
	warn, bad := st.StatusWarn.UnsetBackground(), st.StatusError.UnsetBackground()
	switch {
	case o.confirm != nil:
		s := o.confirm
		title := sanitize.Line(s.Title)
		if title != "" {
			title = " “" + cell.Cut(title, max(w-40, 12)) + "”"
		}
		return []string{
			warn.Render(cell.Cut(fmt.Sprintf("Delete #%d%s and its %s?", s.ID, title, plural(s.Messages, "message")), w)),
			st.Muted.Render(cell.Cut(m.keys.Sessions.Confirm.Help().Key+" deletes it · any other key keeps it · the board is not touched", w)),
			"",
		}
	case o.err != "":
		return []string{bad.Render(cell.Cut(o.err, w)), "", ""}
	}
	s, ok := o.row(o.cursor)
	if !ok {
		return []string{st.Muted.Render(cell.Cut(o.note, w)), "", ""}
	}
	about := fmt.Sprintf("#%d %s", s.ID, sanitize.Line(s.Title))
	if s.Kind == store.SessionWorker && s.CardID != 0 {
		about += fmt.Sprintf(" · a worker of card #%d", s.CardID)
	} else if s.Kind == store.SessionRun {
		about += " · made by spindle run"
	}
	second := fmt.Sprintf("%s · created %s · last active %s", plural(s.Messages, "message"), ago(s.CreatedAt, o.now), ago(s.LastActivity, o.now))
	if s.Model != "" {
		second += " · model " + sanitize.Line(s.Model)
		if s.Endpoint != "" {
			second += " at " + sanitize.Line(s.Endpoint)
		}
	}
	if s.Match != "" {
		second = "“" + sanitize.Line(s.Match) + "”"
	}
	if o.note != "" {
		second = o.note
	}
	lines := cell.Wrap(about, w)
	if len(lines) == 1 && cell.Width(second) > w {
		// A short title leaves its second line to the rest (a long model
		// name, a long match).
		more := cell.Wrap(second, w)
		if len(more) > 2 {
			more[1] = cell.Cut(strings.Join(more[1:], " "), w)
		}
		more = append(more, "") // one word wider than w is one line
		return []string{st.Body.Render(lines[0]), st.Muted.Render(more[0]), st.Muted.Render(more[1])}
	}
	if len(lines) > 2 {
		lines[1] = cell.Cut(strings.Join(lines[1:], " "), w)
	}
	lines = append(lines, "", "")[:2]
	return []string{st.Body.Render(lines[0]), st.Body.Render(lines[1]), st.Muted.Render(cell.Cut(second, w))}
}

// sessionCols are the widths of a row's columns at one screen width.
type sessionCols struct{ id, title, kind, msgs, when, model int }

// sessionColumns fits the columns to width w. The model column gets what
// the widest model name needs (modelW, with its gap) up to half of what the
// fixed columns leave, so that a name is cut only when it would take more
// than the title; the title gets the rest. The kind column is there only
// when sessions of every kind are listed (a chat session shows none).
func sessionColumns(w, modelW int, kinds bool) sessionCols {
	c := sessionCols{id: 7, msgs: 9, when: 9}
	if kinds {
		c.kind = 7
	}
	rest := w - 2 - c.id - c.kind - c.msgs - c.when
	if modelW > 0 {
		c.model = min(max(modelW, len("model ")), max(rest/2, 0))
	}
	c.title = rest - c.model
	if c.title < 12 {
		// Narrow: the model goes first, then the kind.
		c.title += c.model
		c.model = 0
	}
	if c.title < 12 {
		c.title += c.kind
		c.kind = 0
	}
	return c
}

func (c sessionCols) header(w int) string {
	return cell.Pad("  "+cell.Pad("#", c.id)+cell.Pad("title", c.title)+cell.Pad("", c.kind)+
		padLeft("messages", c.msgs-1)+" "+cell.Pad("active", c.when)+cell.Pad("model", c.model), w)
}

// padLeft right-aligns s in w cells.
func padLeft(s string, w int) string {
	if n := w - cell.Width(s); n > 0 {
		return cell.Spaces(n) + s
	}
	return cell.Cut(s, w)
}

func (o *sessionsOverlay) drawRow(m *Model, c sessionCols, s store.SessionSummary, selected, current bool, w int) string {
	st := m.st
	title := sanitize.Line(s.Title)
	if title == "" {
		title = "(untitled)"
	}
	if current {
		title = "● " + title
	}
	titleCell := cell.Pad(title, c.title-1) + " "
	kind := ""
	if s.Kind != store.SessionChat {
		kind = string(s.Kind)
	}
	model := modelLabel(s)
	id, rest := cell.Pad(fmt.Sprintf("#%d", s.ID), c.id), cell.Pad(kind, c.kind)+padLeft(shortCount(s.Messages), c.msgs-1)+" "+
		cell.Pad(ago(s.LastActivity, o.now), c.when)+cell.Pad(model, c.model)
	if selected {
		return st.Selected.Render(cell.Pad("› "+id+titleCell+rest, w))
	}
	return cell.Pad("  "+st.Muted.Render(id)+st.Body.Render(titleCell)+st.Muted.Render(rest), w)
}

// modelLabel is the model of a session as its row shows it:
// "endpoint/model", or the model alone.
func modelLabel(s store.SessionSummary) string {
	model := sanitize.Line(s.Model)
	if s.Endpoint != "" && model != "" {
		model = sanitize.Line(s.Endpoint) + "/" + model
	}
	return model
}

// drawRenameRow is the selected row while it is renamed: its id, then the
// rename field across the rest of the row (the other columns are in the
// detail lines below the list). While the old title is selected it is
// drawn as a selection, with no cursor; once editing starts, the field
// draws the one cursor on screen.
func (o *sessionsOverlay) drawRenameRow(m *Model, c sessionCols, s store.SessionSummary, w int) string {
	st := m.st
	fieldW := max(w-2-c.id, 1)
	var field string
	if o.replacing && o.rename.Value() != "" {
		field = m.selectionStyle().Render(cell.Cut(o.rename.Value(), fieldW-1))
	} else {
		o.fitRename(fieldW - 1)
		field = cell.Cut(o.rename.View(), fieldW)
	}
	return cell.Pad(st.Selected.Render("› "+cell.Pad(fmt.Sprintf("#%d", s.ID), c.id))+field+st.Selected.Render(cell.Spaces(max(fieldW-cell.Width(field), 0))), w)
}

// fitRename gives the rename field w cells of text (its cursor takes one
// more) and scrolls its text to them again: the field itself scrolls only
// when its cursor moves.
func (o *sessionsOverlay) fitRename(w int) {
	w = max(w, 1)
	if o.rename.Width() == w {
		return
	}
	pos := o.rename.Position()
	o.rename.SetWidth(w)
	o.rename.CursorStart()
	o.rename.SetCursor(pos)
}

// renameHint is the line under the renamed row: what its keys do, starting
// under the title.
func (o *sessionsOverlay) renameHint(m *Model, c sessionCols, w int) string {
	hint := m.keys.Sessions.Open.Help().Key + " saves · " + m.keys.Global.Stop.Help().Key + " cancels"
	if o.replacing {
		hint = "typing replaces the title · ← → edit it · " + hint
	}
	return cell.Pad(cell.Spaces(2+c.id)+m.st.Muted.Render(cell.Cut(hint, max(w-2-c.id, 1))), w)
}

// shortCount is a message count in a few cells: "7", "1.2k".
func shortCount(n int) string {
	if n < 10_000 {
		return fmt.Sprintf("%d", n)
	}
	return fmt.Sprintf("%.0fk", float64(n)/1000)
}

// ago says how long before now t was, in a few cells. now is when the page
// was read (View does not read the clock).
func ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case now.IsZero() || t.IsZero():
		return ""
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	case d < 7*24*time.Hour:
		return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
	case t.Year() == now.Year():
		return t.Local().Format("Jan 02")
	}
	return t.Local().Format("2006-01")
}
