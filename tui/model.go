// Package tui is spindle's full-screen interface: a Bubble Tea v2 program
// whose root model lays out the chat pane and the kanban pane (side by side
// when the terminal is wide, as tabs when it is narrow), routes keys through
// the one key map, and draws the status bar and the help overlay.
//
// The rules the package keeps: no I/O in Update or View (disk, network and
// the clock are read in commands that return one typed message); a running
// turn's events are drained by a command re-armed after each one; nothing
// ticks while idle; everything the model or a tool says is passed through
// sanitize.String before it is drawn; and a frame costs the visible lines,
// not the length of the transcript.
package tui

import (
	"context"
	"log/slog"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/kanban"
	"github.com/spindle-sh/spindle/tui/theme"
)

// quitWindow is how long "press Ctrl-C again to quit" stays armed.
const quitWindow = 2 * time.Second

// quitGrace bounds how long quitting waits for an interrupted turn to end.
const quitGrace = 2 * time.Second

// wideWidth is the narrowest terminal that shows both panes side by side.
const wideWidth = 120

// Options is what the program is built from.
type Options struct {
	// Context bounds every command the UI runs (sends, loads); nil is
	// context.Background().
	Context context.Context
	// Agent runs turns; required.
	Agent Agent
	// Sessions reads and creates sessions; required.
	Sessions Sessions
	// Board is the kanban board; nil with BoardErr set when it was refused.
	Board    *store.Board
	BoardErr error
	// Keys is the key map with the user's overrides already applied.
	Keys keymap.KeyMap
	// Palette is the colour palette.
	Palette theme.Palette
	// Logger receives the UI's own failures (from commands, never from
	// Update or View); nil discards.
	Logger *slog.Logger
	// Continue resumes the most recently updated session at start-up.
	Continue bool
}

// Parts are what the UI runs on: the agent, state.db and the board. Options
// carries them when they are already open; RunOptions.Open opens them after
// the first frame instead, so that the screen appears before the databases
// are checked and the agent (with its offline server) has started.
type Parts struct {
	Agent    Agent
	Sessions Sessions
	Board    *store.Board
	BoardErr error // why Board is nil
}

// pane identifies a pane.
type pane int

const (
	paneChat pane = iota
	paneKanban
)

// turn is the state of a running turn.
type turn struct {
	id          int
	sessionID   int64 // 0 until Send has accepted it when the session was new
	events      <-chan agent.Event
	cur         *item            // the assistant reply being streamed
	tools       map[string]*item // tool calls by ID
	interrupted bool             // Ctrl-C, Esc or /stop was pressed
	firstAt     time.Time        // first delta
	lastAt      time.Time        // latest delta
	tokens      float64          // estimated from the text (≈4 bytes a token)
	quitAfter   bool             // quit once the turn has ended
}

// Model is the root model.
type Model struct {
	ctx      context.Context
	agent    Agent
	sessions Sessions
	logger   *slog.Logger
	keys     keymap.KeyMap
	palette  theme.Palette
	st       *Styles
	md       *markdown
	cache    *viewCache

	width, height int
	focus         pane
	showHelp      bool
	help          help.Model

	hist    history
	input   textarea.Model
	spinner spinner.Model
	kanban  kanban.Model

	session  store.Session
	turn     *turn
	turnSeq  int
	outcome  string // "", "interrupted" or "error": how the last turn ended
	errText  string // the latest error, shown in the status bar
	notice   string // a transient notice (e.g. "input cleared")
	quitID   int
	armed    bool // "press Ctrl-C again to quit"
	quitting bool
	cont     bool
}

// New builds the root model. Nothing is read from disk here: Init returns
// the commands that load what the UI shows.
func New(o Options) Model {
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st := NewStyles(o.Palette)
	m := Model{
		ctx:      ctx,
		agent:    o.Agent,
		sessions: o.Sessions,
		logger:   logger,
		keys:     o.Keys,
		palette:  o.Palette,
		st:       &st,
		md:       newMarkdown(),
		cache:    &viewCache{},
		help:     help.New(),
		hist:     newHistory(),
		kanban:   kanban.New(o.Board, o.BoardErr, o.Keys.Kanban, o.Palette),
		cont:     o.Continue,
	}
	m.help.Styles.ShortKey = st.Muted.Bold(true)
	m.help.Styles.ShortDesc = st.Muted
	m.help.Styles.FullKey = st.User
	m.help.Styles.FullDesc = st.Body
	// The separators and the ellipsis too: bubbles' defaults are colour
	// literals of their own.
	m.help.Styles.ShortSeparator = st.Faint
	m.help.Styles.FullSeparator = st.Faint
	m.help.Styles.Ellipsis = st.Faint
	m.spinner = spinner.New(spinner.WithSpinner(spinner.Dot), spinner.WithStyle(st.Spinner))
	m.input = newInput(o.Keys.Chat, &st)
	m.input.Focus()
	m.kanban.Blur()
	return m
}

// newInput builds the chat input: a text area whose keys come from the key
// map, drawn with the terminal's own cursor (no blink timer).
func newInput(k keymap.Chat, st *Styles) textarea.Model {
	ta := textarea.New()
	ta.KeyMap = k.Editor
	ta.ShowLineNumbers = false
	ta.Prompt = "› "
	newline := k.Newline.Help().Key
	if keys := k.Newline.Keys(); len(keys) > 0 {
		newline = keys[0]
	}
	ta.Placeholder = "Ask anything · " + k.Send.Help().Key + " sends · " + newline + " new line · /help"
	ta.CharLimit = 0
	ta.SetVirtualCursor(false)
	s := ta.Styles()
	s.Focused.CursorLine = st.Body
	s.Focused.Text = st.Body
	s.Focused.Prompt = st.User
	s.Focused.Placeholder = st.Muted
	s.Blurred.Text = st.Muted
	s.Blurred.Prompt = st.Muted
	s.Blurred.Placeholder = st.Muted
	s.Cursor.Blink = false
	ta.SetStyles(s)
	ta.SetHeight(1)
	return ta
}

// Init starts the kanban pane's polling and, with --continue, loads the
// last session; when the parts are still being opened, partsOpenedMsg does
// that instead.
func (m Model) Init() tea.Cmd {
	if !m.started() {
		return nil
	}
	return m.startCmds()
}

// started reports whether the agent and state.db are there; until they
// are, the UI draws but sends nothing.
func (m Model) started() bool { return m.agent != nil && m.sessions != nil }

// startCmds loads what the UI shows once its parts are open.
func (m Model) startCmds() tea.Cmd {
	cmds := []tea.Cmd{m.kanban.Init()}
	if m.cont {
		cmds = append(cmds, m.loadLastSession())
	}
	return tea.Batch(cmds...)
}

// partsOpened takes the parts RunOptions.Open opened; if that failed the
// program ends and Run returns the error.
func (m Model) partsOpened(msg partsOpenedMsg) (tea.Model, tea.Cmd) {
	if msg.err != nil {
		m.quitting = true
		return m, tea.Quit
	}
	p := msg.parts
	m.agent, m.sessions = p.Agent, p.Sessions
	m.kanban = kanban.New(p.Board, p.BoardErr, m.keys.Kanban, m.palette)
	if m.focus == paneKanban {
		m.kanban.Focus()
	} else {
		m.kanban.Blur()
	}
	m.layout()
	return m, m.startCmds()
}

// Filter turns Bubble Tea's SIGINT message into the same interrupt path as
// Ctrl-C: without it, a SIGINT (kill -INT) would end the program at once
// with ErrInterrupted, skipping the stream's interrupt. Pass it to
// tea.WithFilter.
func Filter(_ tea.Model, msg tea.Msg) tea.Msg {
	if _, ok := msg.(tea.InterruptMsg); ok {
		return InterruptMsg{}
	}
	return msg
}

// Update handles one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 0), max(msg.Height, 0)
		m.layout()
		return m, nil
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.PasteMsg:
		// A paste is text from anywhere (a web page, a log): strip its
		// escape sequences and bidi overrides before either pane keeps it.
		msg.Content = sanitize.String(msg.Content)
		if m.focus == paneChat && !m.showHelp {
			var cmd tea.Cmd
			m.input, cmd = m.input.Update(msg)
			m.layout()
			return m, cmd
		}
		return m.updateKanban(msg)
	case tea.MouseWheelMsg:
		m.wheel(msg)
		return m.updateKanban(msg)
	case InterruptMsg:
		return m.interruptKey()
	case ShutdownMsg:
		return m.quit()
	case forceQuitMsg:
		return m, tea.Quit
	case disarmQuitMsg:
		if msg.id == m.quitID {
			m.armed = false
		}
		return m, nil
	case spinner.TickMsg:
		// The spinner runs only while a turn waits or streams; dropping
		// the tick otherwise is what stops it.
		if m.turn == nil {
			return m, nil
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return m, cmd
	case turnStartedMsg, turnFailedMsg, turnEventMsg, turnClosedMsg:
		return m.handleTurn(msg)
	case sessionLoadedMsg:
		return m.sessionLoaded(msg), nil
	case sessionRefreshedMsg:
		if msg.err == nil && msg.session.ID == m.session.ID {
			m.session = msg.session
		}
		return m, nil
	case sessionsListedMsg:
		return m.sessionsListed(msg), nil
	case modelsListedMsg:
		return m.modelsListed(msg), nil
	case partsOpenedMsg:
		return m.partsOpened(msg)
	case kanban.ErrorMsg:
		m.errText = describeErr(msg.Err)
		return m, nil
	}
	return m.updateKanban(msg)
}

// updateKanban passes a message to the kanban pane.
func (m Model) updateKanban(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	m.kanban, cmd = m.kanban.Update(msg)
	return m, cmd
}

// handleKey routes a key press: the help overlay first, then Ctrl-C, then a
// kanban form that owns the keyboard, then the global keys, then the
// focused pane.
func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	g := m.keys.Global
	if key.Matches(msg, g.Interrupt) {
		return m.interruptKey()
	}
	if m.armed {
		m.armed = false
	}
	m.notice = ""
	if m.showHelp {
		if key.Matches(msg, g.Help, g.Stop) {
			m.showHelp = false
		}
		return m, nil
	}
	if m.focus == paneKanban && m.kanban.Editing() {
		return m.updateKanban(msg)
	}
	switch {
	case key.Matches(msg, g.Help) && !m.typing(msg):
		m.showHelp = true
		return m, nil
	case key.Matches(msg, g.SwitchPane):
		m.switchPane()
		return m, nil
	case key.Matches(msg, g.Stop) && m.turn != nil:
		m.interruptTurn()
		return m, nil
	}
	if m.focus == paneKanban {
		return m.updateKanban(msg)
	}
	return m.chatKey(msg)
}

// typing reports whether msg is a character typed into a chat input that
// already holds text: "?" then belongs to the question, not to the help.
func (m Model) typing(msg tea.KeyPressMsg) bool {
	return m.focus == paneChat && msg.Text != "" && m.input.Value() != ""
}

// interruptKey is Ctrl-C (and SIGINT): interrupt a running turn; else cancel
// a kanban form; else clear the input; else arm quitting, and quit when
// already armed.
func (m Model) interruptKey() (tea.Model, tea.Cmd) {
	switch {
	case m.turn != nil:
		m.armed = false
		m.interruptTurn()
		return m, nil
	case m.focus == paneKanban && m.kanban.Editing():
		m.armed = false
		return m.updateKanban(kanban.CancelFormMsg{})
	case m.showHelp:
		m.showHelp = false
		return m, nil
	case m.input.Value() != "":
		m.armed = false
		m.input.Reset()
		m.layout()
		m.notice = "input cleared"
		return m, nil
	case m.armed:
		return m.quit()
	}
	m.armed = true
	m.quitID++
	id := m.quitID
	return m, tea.Tick(quitWindow, func(time.Time) tea.Msg { return disarmQuitMsg{id: id} })
}

// quit ends the program, interrupting a running turn first so that its
// sockets are shut down and its partial reply is saved before the agent is
// closed.
func (m Model) quit() (tea.Model, tea.Cmd) {
	m.quitting = true
	if m.turn == nil || m.turn.events == nil {
		if m.turn != nil {
			m.interruptTurn()
		}
		return m, tea.Quit
	}
	m.interruptTurn()
	// The turn ends within milliseconds of the interrupt; quit then, or
	// after quitGrace if the agent does not answer.
	return m, tea.Tick(quitGrace, func(time.Time) tea.Msg { return forceQuitMsg{} })
}

// switchPane moves the focus to the other pane.
func (m *Model) switchPane() {
	if m.focus == paneChat {
		m.focus = paneKanban
		m.input.Blur()
		m.kanban.Focus()
	} else {
		m.focus = paneChat
		m.kanban.Blur()
		m.input.Focus()
	}
}

// wheel scrolls the chat history when the wheel turns over it.
func (m *Model) wheel(msg tea.MouseWheelMsg) {
	l := m.computeLayout()
	mouse := msg.Mouse()
	if !l.chatVisible || mouse.X >= l.chatW {
		return
	}
	switch mouse.Button {
	case tea.MouseWheelUp:
		m.hist.scroll(m.renderer(l.chatW), l.histH, -3)
	case tea.MouseWheelDown:
		m.hist.scroll(m.renderer(l.chatW), l.histH, 3)
	}
}

// renderer is how the history draws items at width.
func (m *Model) renderer(width int) renderer {
	return renderer{width: width, md: m.md, st: m.st, spin: m.spinner.View()}
}
