package kanban

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/markdown"
	"github.com/spindle-sh/spindle/tui/theme"
)

// ErrorMsg reports a failed write, load or undo, for the root's status bar.
// The card concerned is already back in its stored state when it arrives.
type ErrorMsg struct{ Err error }

// CancelFormMsg closes whatever form, input or confirmation has the
// keyboard, without saving. The root sends it for Ctrl-C when no stream is
// running and Editing reports true; see the package documentation.
type CancelFormMsg struct{}

// mode is what the pane shows and who has the keyboard.
type mode int

const (
	modeBoard   mode = iota
	modeDetail       // one card's body, history and comments
	modeForm         // new or edit card
	modeComment      // the comment input on the last line
	modeFilter       // the filter input on the last line
	modeConfirm      // "delete? y" on the last line
)

// pollInterval is how often the pane asks the board whether another
// connection committed.
const pollInterval = time.Second

// allStatuses are the columns the pane can show, in order; Archived is last
// so that hiding it only shortens the list.
var allStatuses = append(append([]store.Status(nil), store.Columns...), store.Archived)

// Model is the kanban pane. Build it with New.
type Model struct {
	ctx      context.Context
	board    Board
	boardErr error
	keys     keymap.Kanban
	styles   Styles

	width, height int
	focused       bool
	poll          time.Duration // 0 disables the tick (tests drive polls by hand)

	loaded       bool
	version      int64
	cols         [][]store.Card // by index into allStatuses; index = position
	showArchived bool

	col, row  int   // selection: visible column, row within its (filtered) cards
	offsets   []int // first shown row per column
	colOffset int   // first shown column when not all fit

	filter string
	shown  [][]int // per column, indices into cols[c] that match filter; nil when no filter

	mode   mode
	back   mode // where a comment, form or confirmation returns to
	form   cardForm
	input  textinput.Model // comment and filter
	target int64           // card a confirmation deletes or a comment is for

	detail detailState

	queue    []writeOp
	inflight bool
	nextTemp int64

	pollFailing bool // the last data_version poll failed (already reported)
	// damaged is set once kanban.db was found damaged while open: the
	// store refuses writes, and the pane says what to do.
	damaged error

	md *markdown.Renderer // a card body's markdown

	workers map[int64]Worker      // running workers by card, from the root
	claims  map[int64]store.Claim // cards a worker holds, in any process, as last loaded
	spin    string                // the spinner's frame for running cards

	// notice says what the last undo did (or why it could not), until the
	// next key press; bad draws it as an error.
	notice    string
	noticeBad bool
}

// Options is what the pane is built from.
type Options struct {
	// Context bounds every store call the pane makes; nil is Background.
	Context context.Context
	// Board is kanban.db; nil when it was refused, and BoardErr says why.
	Board    Board
	BoardErr error
	Keys     keymap.Kanban
	// Palette is what the pane draws with; its Dark chooses the markdown
	// style of a card's body.
	Palette theme.Palette
}

// New builds the pane. When o.Board is nil, o.BoardErr says why the file
// was refused and the pane shows that with the hint `spindle doctor`.
func New(o Options) Model {
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	m := Model{
		ctx:      ctx,
		board:    o.Board,
		boardErr: o.BoardErr,
		keys:     o.Keys,
		styles:   NewStyles(o.Palette),
		md:       markdown.ForPalette(o.Palette),
		poll:     pollInterval,
		cols:     make([][]store.Card, len(allStatuses)),
		offsets:  make([]int, len(allStatuses)),
		width:    80,
		height:   24,
	}
	m.form = newCardForm(m.styles)
	m.input = newInput(m.styles)
	return m
}

// Init loads the board and starts the data_version poll.
func (m Model) Init() tea.Cmd {
	if m.board == nil {
		return nil
	}
	return tea.Batch(m.loadCmd(), m.pollTick())
}

// SetSize sets the pane's size in cells.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = max(w, 1), max(h, 1)
	m.form.setSize(m.width, m.height)
	m.input.SetWidth(max(m.width-12, 1))
	m.ensureVisible()
	if m.mode == modeDetail || m.back == modeDetail {
		m.rebuildDetail()
	}
}

// Focus gives the pane the keyboard.
func (m *Model) Focus() { m.focused = true }

// Blur takes the keyboard away.
func (m *Model) Blur() { m.focused = false }

// Focused reports whether the pane has focus.
func (m Model) Focused() bool { return m.focused }

// Editing reports whether a form, the filter, the comment input or a
// confirmation has the keyboard; the root then routes Esc to the pane and
// Ctrl-C (when no stream runs) as CancelFormMsg.
func (m Model) Editing() bool {
	switch m.mode {
	case modeForm, modeComment, modeFilter, modeConfirm:
		return true
	}
	return false
}

// HasBack reports whether Esc means something to the pane now: a form,
// input or confirmation to cancel, a card view to leave, a filter to
// clear. The root then gives it Esc rather than stopping a stream.
func (m Model) HasBack() bool {
	return m.Editing() || m.mode != modeBoard || m.filter != ""
}

// ShortHelp returns the bindings that matter in the pane's current state.
func (m Model) ShortHelp() []key.Binding {
	k := m.keys
	switch m.mode {
	case modeDetail:
		return []key.Binding{k.Cancel, k.Comment, k.Edit, k.UndoCard, k.Up, k.Down}
	case modeForm:
		return []key.Binding{k.Submit, k.Save, k.Cancel}
	case modeComment, modeFilter:
		return []key.Binding{k.Submit, k.Cancel}
	case modeConfirm:
		return []key.Binding{k.Confirm, k.Cancel}
	}
	return []key.Binding{k.New, k.Open, k.MoveNext, k.Filter, k.Undo}
}

// FullHelp returns every binding of the current state, grouped.
func (m Model) FullHelp() [][]key.Binding {
	if m.mode == modeBoard {
		return m.keys.FullHelp()
	}
	return [][]key.Binding{m.ShortHelp()}
}

// Update handles a message. Key presses arrive only while focused.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if m.board == nil {
			return m, nil
		}
		m.notice, m.noticeBad = "", false
		return m.handleKey(msg)
	case tea.PasteMsg:
		// Pasted text is as untrusted as the model's: it may carry escapes
		// or bidi overrides that would be drawn, and saved, as they are.
		msg.Content = sanitize.String(msg.Content)
		return m.updateInputs(msg)
	case CancelFormMsg:
		m.closeEditing()
		return m, nil
	case loadedMsg:
		return m.handleLoaded(msg)
	case pollMsg:
		if m.board == nil {
			return m, nil
		}
		return m, m.versionCmd()
	case versionMsg:
		return m.handleVersion(msg)
	case writeDoneMsg:
		return m.handleWriteDone(msg)
	case stopRequestedMsg:
		return m.stopRequested(msg)
	case eventsMsg:
		if m.detail.id == msg.id && msg.err == nil {
			m.detail.events, m.detail.runs = msg.events, msg.runs
			m.detail.loaded = true
			m.rebuildDetail()
		}
		if msg.err != nil {
			return m, errorCmd(msg.err)
		}
		return m, nil
	}
	return m, nil
}

func (m Model) pollTick() tea.Cmd {
	if m.poll <= 0 {
		return nil
	}
	return tea.Tick(m.poll, func(time.Time) tea.Msg { return pollMsg{} })
}

// handleVersion reloads the board when another connection committed, and
// re-arms the tick. A failing poll is reported once, when it starts failing,
// not every second while it goes on.
func (m Model) handleVersion(msg versionMsg) (Model, tea.Cmd) {
	if msg.err != nil && errors.Is(msg.err, store.ErrCorrupt) {
		m.damaged = msg.err
	}
	if msg.err != nil {
		report := !m.pollFailing
		m.pollFailing = true
		if report {
			return m, tea.Batch(errorCmd(msg.err), m.pollTick())
		}
		return m, m.pollTick()
	}
	m.pollFailing = false
	if msg.version != m.version && !m.busy() {
		return m, tea.Batch(m.loadCmd(), m.pollTick())
	}
	return m, m.pollTick()
}

// busy reports whether writes are queued or running; loads are not applied
// then, so that they cannot undo an optimistic change on screen.
func (m *Model) busy() bool { return m.inflight || len(m.queue) > 0 }

func (m Model) handleLoaded(msg loadedMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		return m, errorCmd(msg.err)
	}
	if m.busy() {
		// Dropped: the queue reloads when it drains.
		return m, nil
	}
	sel := m.selectedID()
	for i := range m.cols {
		m.cols[i] = m.cols[i][:0:0]
	}
	for _, c := range msg.cards {
		if i := statusIndex(c.Status); i >= 0 {
			m.cols[i] = append(m.cols[i], c)
		}
	}
	m.claims = make(map[int64]store.Claim, len(msg.claims))
	for _, c := range msg.claims {
		m.claims[c.CardID] = c
	}
	m.version = msg.version
	m.loaded = true
	m.refilter()
	m.reselect(sel)
	if m.detail.id != 0 {
		if _, _, ok := m.find(m.detail.id); !ok {
			// Deleted elsewhere: there is nothing left to show.
			m.detail = detailState{}
			if m.mode == modeDetail {
				m.mode = modeBoard
			}
			if m.back == modeDetail {
				m.back = modeBoard
			}
			return m, nil
		}
		m.rebuildDetail()
		return m, m.eventsCmd(m.detail.id)
	}
	return m, nil
}

// statusIndex is the column index of s in allStatuses, or -1.
func statusIndex(s store.Status) int {
	for i, x := range allStatuses {
		if x == s {
			return i
		}
	}
	return -1
}

// numCols is how many columns are shown.
func (m *Model) numCols() int {
	if m.showArchived {
		return len(allStatuses)
	}
	return len(store.Columns)
}

// colLen is how many cards column c shows (after the filter).
func (m *Model) colLen(c int) int {
	if m.shown != nil {
		return len(m.shown[c])
	}
	return len(m.cols[c])
}

// index maps row r of column c (after the filter) to an index in cols[c].
func (m *Model) index(c, r int) int {
	if m.shown != nil {
		return m.shown[c][r]
	}
	return r
}

// selected returns the selected card, if any.
func (m *Model) selected() (store.Card, bool) {
	if m.col < 0 || m.col >= m.numCols() || m.row < 0 || m.row >= m.colLen(m.col) {
		return store.Card{}, false
	}
	return m.cols[m.col][m.index(m.col, m.row)], true
}

func (m *Model) selectedID() int64 {
	if c, ok := m.selected(); ok {
		return c.ID
	}
	return 0
}

// find locates card id: its column and index in cols.
func (m *Model) find(id int64) (int, int, bool) {
	for c := range m.cols {
		for i := range m.cols[c] {
			if m.cols[c][i].ID == id {
				return c, i, true
			}
		}
	}
	return 0, 0, false
}

// reselect puts the selection on card id if it is shown, else keeps the
// column and clamps the row.
func (m *Model) reselect(id int64) {
	if id != 0 {
		if c, i, ok := m.find(id); ok && c < m.numCols() {
			r, found := i, true
			if m.shown != nil {
				r, found = slices.BinarySearch(m.shown[c], i)
			}
			if found {
				m.col, m.row = c, r
				m.ensureVisible()
				return
			}
		}
	}
	m.col = clamp(m.col, 0, m.numCols()-1)
	m.row = clamp(m.row, 0, m.colLen(m.col)-1)
	m.ensureVisible()
}

// refilter recomputes which cards match the filter.
func (m *Model) refilter() {
	q := strings.ToLower(strings.TrimSpace(m.filter))
	if q == "" {
		m.shown = nil
		return
	}
	m.shown = make([][]int, len(m.cols))
	for c, cards := range m.cols {
		for i := range cards {
			if matches(&cards[i], q) {
				m.shown[c] = append(m.shown[c], i)
			}
		}
	}
}

// matches reports whether card matches the lower-cased query: a substring
// of the title or body, or "#id".
func matches(c *store.Card, q string) bool {
	if strings.HasPrefix(q, "#") && q[1:] == strconv.FormatInt(c.ID, 10) {
		return true
	}
	return containsFold(c.Title, q) || containsFold(c.Body, q)
}

func containsFold(s, lowerQ string) bool {
	return strings.Contains(strings.ToLower(s), lowerQ)
}

// Layout: the header and rule lines at the top, the footer line at the
// bottom, cards of cardHeight lines in between.
const (
	cardHeight = 3 // title, meta, gap
	minColW    = 20
	chromeRows = 3
)

// capacity is how many cards fit in a column.
func (m *Model) capacity() int { return max((m.height-chromeRows)/cardHeight, 1) }

// fitCols is how many columns fit side by side.
func (m *Model) fitCols() int { return clamp(m.width/minColW, 1, m.numCols()) }

// ensureVisible scrolls the selected column to show the selection, clamps
// every other column's scroll, and slides the column window.
func (m *Model) ensureVisible() {
	capN := m.capacity()
	for c := range m.offsets {
		n := 0
		if c < m.numCols() {
			n = m.colLen(c)
		}
		m.offsets[c] = clamp(m.offsets[c], 0, max(n-capN, 0))
	}
	if m.col < m.numCols() {
		off := m.offsets[m.col]
		if m.row < off {
			off = m.row
		} else if m.row >= off+capN {
			off = m.row - capN + 1
		}
		m.offsets[m.col] = max(off, 0)
	}
	fit := m.fitCols()
	if m.col < m.colOffset {
		m.colOffset = m.col
	} else if m.col >= m.colOffset+fit {
		m.colOffset = m.col - fit + 1
	}
	m.colOffset = clamp(m.colOffset, 0, m.numCols()-fit)
}

func clamp(v, lo, hi int) int {
	if hi < lo {
		return lo
	}
	return min(max(v, lo), hi)
}

// newInput builds the one-line input used for comments and the filter. The
// cursor does not blink: a blinking cursor is a ticker, and the pane keeps
// only the poll.
func newInput(s Styles) textinput.Model {
	in := textinput.New()
	in.SetStyles(inputStyles(s))
	return in
}

// newTextarea builds the multi-line body editor.
func newTextarea(s Styles) textarea.Model {
	ta := textarea.New()
	ta.SetStyles(textareaStyles(s))
	ta.ShowLineNumbers = false
	ta.CharLimit = 0
	return ta
}
