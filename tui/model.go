// Package tui is spindle's full-screen interface: a Bubble Tea v2 program
// whose root model lays out two components, the chat pane (tui/chat) and
// the kanban pane (tui/kanban), side by side when the terminal is wide and
// as tabs when it is narrow; routes keys and messages to them; draws the
// status bar; and keeps a stack of overlays (help, the command palette)
// whose top takes the keys first. Every action a person can take is one
// entry of the command registry (commands.go), which the slash commands,
// the help overlay and the palette all read.
//
// The rules the package keeps: no I/O in Update or View (disk, network and
// the clock are read in commands that return one typed message); nothing
// ticks while idle; everything the model or a tool says is sanitized before
// it is drawn; and a frame costs the visible lines, not the length of the
// transcript.
package tui

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/tui/chat"
	"github.com/spindle-sh/spindle/tui/kanban"
	"github.com/spindle-sh/spindle/tui/theme"
)

// quitWindow is how long "press Ctrl-C again to quit" stays armed.
const quitWindow = 2 * time.Second

// quitGrace bounds how long quitting waits for interrupted turns to end.
const quitGrace = 2 * time.Second

// wideWidth is the narrowest terminal that shows both panes side by side.
const wideWidth = 120

// Options is what the program is built from.
type Options struct {
	// Context bounds every command the UI runs (sends, loads); nil is
	// context.Background().
	Context context.Context
	// Agent runs turns; Sessions reads and creates sessions. Both may be
	// nil when RunOptions.Open opens them after the first frame.
	Agent    Agent
	Sessions Sessions
	// Board is the kanban board; nil with BoardErr set when it was refused.
	Board    Board
	BoardErr error
	// Keys is the key map with the user's overrides already applied.
	Keys keymap.KeyMap
	// Palette is the colour palette; FollowTheme switches it to the
	// terminal's background once the terminal reports it (theme = auto).
	Palette     theme.Palette
	FollowTheme bool
	// Logger receives the UI's own failures (from commands, never from
	// Update or View); nil discards.
	Logger *slog.Logger
	// Continue resumes the most recently updated chat session at start-up.
	Continue bool
	// Yolo says tool calls run without asking (--yolo); the status bar
	// warns about it.
	Yolo bool
	// NoMouse leaves the mouse to the terminal (its own selection and
	// scrolling), for people who prefer it (mouse = false in the config).
	NoMouse bool
	// Dispatcher and Rules, as in Parts.
	Dispatcher Dispatcher
	Rules      Rules
	// Now is the UI's clock; nil is time.Now. Tests drive it.
	Now func() time.Time
}

// Parts are what the UI runs on: the agent, state.db and the board. Options
// carries them when they are already open; RunOptions.Open opens them after
// the first frame instead, so that the screen appears before the databases
// are checked and the agent (with its offline server) has started.
type Parts struct {
	Agent    Agent
	Sessions Sessions
	Board    Board // nil when refused
	BoardErr error // why Board is nil
	// Dispatcher runs the cards assigned to the agent; nil when there is
	// none (the board was refused). Its owner starts and stops it.
	Dispatcher Dispatcher
	// Rules are the approval rules /permissions lists and edits; nil when
	// there are none to show.
	Rules Rules
}

// pane identifies a pane.
type pane int

const (
	paneChat pane = iota
	paneKanban
)

// Model is the root model.
type Model struct {
	ctx     context.Context
	logger  *slog.Logger
	keys    keymap.KeyMap
	palette theme.Palette
	st      *Styles
	cache   *viewCache
	cmds    []command

	followTheme bool // the palette follows the terminal's background

	width, height int
	focus         pane
	help          help.Model
	overlays      []overlay // the top (last) takes the keys first

	chat    chat.Model
	kanban  kanban.Model
	started bool // the agent and state.db are open
	agent   Agent
	state   Sessions

	approvalSeq int // numbers approval dialogs

	errText  string // the latest error from the board or a command
	notice   string // a transient notice (e.g. "input cleared")
	quitID   int
	armed    bool // "press Ctrl-C again to quit"
	quitting bool
	yolo     bool
	noMouse  bool

	// kanbanGen counts changes to the kanban pane (every Update, size,
	// focus, workers): its View is drawn again only when it moved.
	kanbanGen int

	dispatcher Dispatcher // nil: no workers
	workers    workersState
	rules      Rules
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
	m := Model{
		ctx:        ctx,
		logger:     logger,
		keys:       o.Keys,
		palette:    o.Palette,
		cache:      &viewCache{},
		help:       help.New(),
		started:    o.Agent != nil && o.Sessions != nil,
		agent:      o.Agent,
		yolo:       o.Yolo,
		noMouse:    o.NoMouse,
		dispatcher: o.Dispatcher,
		rules:      o.Rules,
		state:      o.Sessions,
	}
	m.followTheme = o.FollowTheme
	m.applyStyles()
	m.chat = chat.New(chat.Options{
		Context: ctx, Agent: o.Agent, Sessions: o.Sessions, Keys: o.Keys, Palette: o.Palette,
		Logger: logger, Continue: o.Continue, Now: o.Now,
	})
	m.chat.Focus()
	m.kanban = m.newKanban(o.Board, o.BoardErr)
	m.kanbanGen++
	m.cmds = m.commands()
	names := map[string]bool{}
	for _, c := range m.cmds {
		names[c.name] = c.name != ""
		for _, a := range c.aliases {
			names[a] = true
		}
	}
	m.chat.SetCommands(func(name string) bool { return names[name] })
	return m
}

// newKanban builds the board pane over b (nil: refused, with err).
func (m *Model) newKanban(b Board, err error) kanban.Model {
	k := kanban.New(kanban.Options{Context: m.ctx, Board: b, BoardErr: err, Keys: m.keys.Kanban, Palette: m.palette})
	k.Blur()
	return k
}

// Init starts the kanban pane's polling and, with --continue, loads the
// last session; when the parts are still being opened, partsOpenedMsg does
// that instead.
func (m Model) Init() tea.Cmd {
	if !m.started {
		return m.themeCmd()
	}
	return tea.Batch(m.kanban.Init(), m.chat.Init(), m.themeCmd(), m.watchWorkers(), m.resolveModel())
}

// watchWorkers starts following the dispatcher, if there is one.
func (m Model) watchWorkers() tea.Cmd {
	if m.dispatcher == nil {
		return nil
	}
	return waitWorkers(m.dispatcher)
}

// partsOpened takes the parts RunOptions.Open opened; if that failed the
// program ends and Run returns the error.
func (m Model) partsOpened(msg partsOpenedMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.quitting = true
		return m, tea.Quit
	}
	p := msg.parts
	m.agent, m.state, m.started = p.Agent, p.Sessions, true
	m.chat.SetParts(p.Agent, p.Sessions)
	if m.notice == chat.StartingNotice {
		m.notice = "" // it was true only until now
	}
	m.kanban = m.newKanban(p.Board, p.BoardErr)
	m.kanbanGen++
	m.dispatcher, m.rules = p.Dispatcher, p.Rules
	if m.focus == paneKanban {
		m.kanban.Focus()
	}
	m.layout()
	return m, tea.Batch(m.kanban.Init(), m.chat.Init(), m.watchWorkers(), m.resolveModel())
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

// Update handles one message. The program runs the Model behind a
// pointer (program.go), so that a message does not box a copy of the
// whole Model (some 80 KB) into a new interface value.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) { return m.update(msg) }

// pasteOverlay gives a paste to the top overlay if it has a text field. It
// is a method of its own because taking m's address moves m to the heap:
// in update, that would copy the whole Model at every message.
func (m Model) pasteOverlay(msg tea.PasteMsg) (Model, tea.Cmd) {
	p, ok := m.overlays[len(m.overlays)-1].(paster)
	if !ok {
		return m, nil
	}
	// Terminals send a pasted line break as CR: Paste keeps it a line
	// break, which the dialogs' one-line fields turn into a space.
	if msg.Content = sanitize.Paste(msg.Content); msg.Content == "" {
		return m, nil // nothing left to paste: a title being renamed stays
	}
	cmd := p.paste(&m, msg)
	return m, cmd
}

// update is Update with the concrete type.
func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 0), max(msg.Height, 0)
		m.layout()
		return m, nil
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.PasteMsg:
		if len(m.overlays) > 0 {
			return m.pasteOverlay(msg)
		}
		if m.focus == paneChat {
			return m.updateChat(msg)
		}
		return m.updateKanban(msg)
	case tea.MouseWheelMsg:
		return m.wheel(msg)
	case tea.MouseClickMsg:
		return m.click(msg.Mouse())
	case tea.MouseMotionMsg:
		if m.chat.Selecting() {
			mouse := msg.Mouse()
			m.chat.ExtendSelection(mouse.X, mouse.Y-m.computeLayout().tabsH)
		}
		return m, nil
	case tea.MouseReleaseMsg:
		return m.release()
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
	case partsOpenedMsg:
		return m.partsOpened(msg)
	case tea.BackgroundColorMsg:
		return m.backgroundColor(msg)
	case chat.CommandMsg:
		return m.runCommand(msg.Name, msg.Arg)
	case chat.ApprovalMsg:
		return m, m.openApproval(msg)
	case chat.TurnEndedMsg:
		m.dropApprovals(msg.Turn)
		m.tellRulesError()
		return m.updateChat(msg)
	case approvalArmMsg:
		m.armApproval(msg.id)
		return m, nil
	case workersChangedMsg:
		return m.workersChanged(msg.at)
	case workersTickMsg:
		return m.workersTicked(msg.at)
	case kanban.StopWorkerMsg:
		if m.dispatcher != nil && !m.dispatcher.Stop(msg.CardID) {
			m.errText = "no worker of this spindle runs that card (spindle kanban stop stops one elsewhere)"
		}
		return m, nil
	case kanban.PauseWorkersMsg:
		if m.dispatcher == nil {
			m.errText = "there are no workers: the board is unavailable"
			return m, nil
		}
		m.dispatcher.SetPaused(!m.dispatcher.Paused())
		return m, nil
	case kanban.AnswerWorkerMsg:
		return m, m.workerApproval(msg.CardID)
	case kanban.RerunMsg:
		if m.dispatcher != nil {
			m.dispatcher.Wake()
		}
		return m, nil
	case paletteChoseMsg:
		if msg.index < 0 || msg.index >= len(m.cmds) {
			return m, nil
		}
		return m.run(m.cmds[msg.index], "")
	case chat.Msg, spinner.TickMsg:
		return m.updateChat(msg)
	case dialogMsg:
		return m.dialogUpdate(msg)
	case chat.SessionShownMsg:
		return m.sessionShown(msg)
	case kanban.ErrorMsg:
		m.errText = describeErr(msg.Err)
		return m, nil
	}
	return m.updateKanban(msg)
}

// updateChat passes a message to the chat pane, and quits once quitting
// has waited for the last turn to end.
func (m Model) updateChat(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.chat, cmd = m.chat.Update(msg)
	if m.quitting && m.chat.Running() == 0 {
		return m, tea.Batch(cmd, tea.Quit)
	}
	return m, cmd
}

// updateKanban passes a message to the kanban pane.
func (m Model) updateKanban(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.kanban, cmd = m.kanban.Update(msg)
	m.kanbanGen++
	return m, cmd
}

// handleKey routes a key press: Ctrl-C first, then the top overlay, then a
// kanban form that owns the keyboard, then the global keys, then the
// focused pane.
func (m Model) handleKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	g := m.keys.Global
	if key.Matches(msg, g.Interrupt) {
		return m.interruptKey()
	}
	m.armed = false
	// A notice or an error of the root's is about what the person did
	// last (a command, a board action): the next key press moves on from
	// it. (The chat's turn errors stay until the next turn: they are the
	// state of the session.)
	m.notice, m.errText = "", ""
	m.chat.ClearNotice()
	if n := len(m.overlays); n > 0 {
		top := m.overlays[n-1]
		cmd, closed := top.update(&m, msg)
		if closed {
			m.overlays = slices.DeleteFunc(m.overlays, func(o overlay) bool { return o == top })
		}
		return m, cmd
	}
	if m.focus == paneKanban && m.kanban.Editing() {
		return m.updateKanban(msg)
	}
	switch {
	case key.Matches(msg, g.Help) && !m.typing(msg):
		return m.runCommand("/help", "")
	case key.Matches(msg, g.Palette):
		return m.runCommand("/commands", "")
	case key.Matches(msg, g.SwitchPane):
		m.switchPane()
		return m, nil
	case key.Matches(msg, g.Stop) && m.chat.Streaming() && !(m.focus == paneKanban && m.kanban.HasBack()):
		// Esc stops the stream, unless the board has something to go
		// back from (a card view, a filter): there it means back, as the
		// board's hints say. Ctrl-C stops the stream from anywhere.
		m.chat.Interrupt()
		return m, nil
	}
	if m.focus == paneKanban {
		return m.updateKanban(msg)
	}
	return m.updateChat(msg)
}

// typing reports whether msg is a character typed into a chat input that
// already holds text: "?" then belongs to the question, not to the help.
func (m Model) typing(msg tea.KeyPressMsg) bool {
	return m.focus == paneChat && msg.Text != "" && m.chat.InputValue() != ""
}

// interruptKey is Ctrl-C (and SIGINT): let the top overlay answer it (the
// approval dialog denies and interrupts); else interrupt the visible
// session's stream; else cancel a kanban form; else close an overlay; else
// clear the input; else arm quitting, and quit when already armed.
func (m Model) interruptKey() (Model, tea.Cmd) {
	if n := len(m.overlays); n > 0 {
		if o, ok := m.overlays[n-1].(interrupter); ok {
			m.armed = false
			cmd := o.interrupt(&m)
			m.overlays = m.overlays[:n-1]
			return m, cmd
		}
	}
	switch {
	case m.chat.Streaming():
		m.armed = false
		m.chat.Interrupt()
		return m, nil
	case m.focus == paneKanban && m.kanban.Editing():
		m.armed = false
		return m.updateKanban(kanban.CancelFormMsg{})
	case len(m.overlays) > 0:
		m.armed = false
		m.overlays = m.overlays[:len(m.overlays)-1]
		return m, nil
	case m.chat.InputValue() != "":
		m.armed = false
		m.chat.DiscardInput()
		m.layout()
		m.notice = "input cleared · " + m.keys.Chat.Unqueue.Help().Key + " brings it back"
		return m, nil
	case m.armed:
		return m.quit()
	}
	m.armed = true
	m.quitID++
	id := m.quitID
	return m, tea.Tick(quitWindow, func(time.Time) tea.Msg { return disarmQuitMsg{id: id} })
}

// quit ends the program, interrupting every running turn first so that
// their sockets are shut down and their partial replies saved before the
// agent is closed.
func (m Model) quit() (Model, tea.Cmd) {
	cmd := m.quitCmd()
	return m, cmd
}

// quitCmd is quit on the model in hand.
func (m *Model) quitCmd() tea.Cmd {
	m.quitting = true
	if m.chat.InterruptAll() == 0 {
		return tea.Quit
	}
	// The turns end within milliseconds of the interrupt; updateChat quits
	// then, or forceQuitMsg after quitGrace if the agent does not answer.
	return tea.Tick(quitGrace, func(time.Time) tea.Msg { return forceQuitMsg{} })
}

// switchPane moves the focus to the other pane.
func (m *Model) switchPane() {
	if m.focus == paneChat {
		m.focus = paneKanban
		m.chat.Blur()
		m.kanban.Focus()
	} else {
		m.focus = paneChat
		m.kanban.Blur()
		m.chat.Focus()
	}
	m.kanbanGen++
	m.layout()
}

// wheel scrolls the pane under the pointer.
func (m Model) wheel(msg tea.MouseWheelMsg) (Model, tea.Cmd) {
	if len(m.overlays) > 0 {
		return m, nil
	}
	mouse := msg.Mouse()
	delta := 0
	switch mouse.Button {
	case tea.MouseWheelUp:
		delta = -1
	case tea.MouseWheelDown:
		delta = 1
	}
	switch m.paneAt(mouse.X, mouse.Y) {
	case paneChat:
		m.chat.Scroll(3 * delta)
	case paneKanban:
		m.kanban.Wheel(delta)
		m.kanbanGen++
	}
	return m, nil
}

// noPane is a cell that belongs to no pane (the tab bar, the status bar,
// the rule between the panes).
const noPane pane = -1

// paneAt is the pane drawn at cell (x, y).
func (m *Model) paneAt(x, y int) pane {
	l := m.computeLayout()
	if y < l.tabsH || y >= l.tabsH+l.bodyH {
		return noPane
	}
	switch {
	case l.wide && x < l.chatW:
		return paneChat
	case l.wide && x >= l.kanbanX:
		return paneKanban
	case !l.wide && l.chatVisible:
		return paneChat
	case !l.wide:
		return paneKanban
	}
	return noPane
}

// click focuses the pane under the pointer; on the board it selects the
// card there, in the transcript it starts a selection to copy.
func (m Model) click(mouse tea.Mouse) (Model, tea.Cmd) {
	if len(m.overlays) > 0 || mouse.Button != tea.MouseLeft {
		return m, nil
	}
	l := m.computeLayout()
	switch m.paneAt(mouse.X, mouse.Y) {
	case paneChat:
		if m.focus != paneChat {
			m.switchPane()
		}
		m.chat.StartSelection(mouse.X, mouse.Y-l.tabsH)
	case paneKanban:
		if m.focus != paneKanban {
			m.switchPane()
		}
		x := mouse.X
		if l.wide {
			x -= l.kanbanX
		}
		m.kanban.Click(x, mouse.Y-l.tabsH)
		m.kanbanGen++
	}
	return m, nil
}

// release ends a selection in the transcript and copies it to the
// terminal's clipboard (OSC 52).
func (m Model) release() (Model, tea.Cmd) {
	if !m.chat.Selecting() {
		return m, nil
	}
	text := m.chat.EndSelection()
	if text == "" {
		return m, nil
	}
	m.notice = fmt.Sprintf("copied %d characters (through the terminal: if it ignores OSC 52, hold shift and select)", utf8.RuneCountInString(text))
	return m, tea.SetClipboard(text)
}

// push opens an overlay on top of the others.
func (m *Model) push(o overlay) { m.overlays = append(m.overlays, o) }
