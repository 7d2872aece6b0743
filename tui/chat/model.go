// Package chat is spindle's chat pane: a Bubble Tea component that owns the
// conversation on screen (a transcript and the session it belongs to), the
// multi-line input, and every running turn, in any session.
//
// # Embedding
//
// The root model builds it with New, calls Init once the agent and
// state.db are open, sizes it with SetSize, moves focus with Focus and Blur,
// and routes to Update every key press while the pane has focus and every
// message that implements Msg (the chat's own command results), plus
// spinner ticks. View draws exactly the size it was given.
//
// # Turns
//
// Enter sends the input as the visible session's next message (or, while
// that session streams, queues it to be sent when the reply ends). Each
// send starts a turn with an id; its events arrive through a command that is
// re-armed after each one, so several sessions' turns stream at once
// without one waiting on another, and an event of a turn that is no longer
// known is dropped. Switching sessions (/new, /resume) leaves a running
// turn streaming into its own transcript; coming back to that session shows
// it live.
//
// # Ctrl-C
//
// The chat binds no interrupt key. The root decides what Ctrl-C means and
// calls Interrupt (the visible session's turn), ClearInput or InterruptAll
// (quitting).
//
// # Rules
//
// No I/O in Update or View; everything the model says is sanitized as it
// enters the transcript; a frame costs the visible lines.
package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/cell"
	"github.com/spindle-sh/spindle/tui/markdown"
	"github.com/spindle-sh/spindle/tui/theme"
	"github.com/spindle-sh/spindle/tui/transcript"
)

// maxInputLines is the tallest the input grows before it scrolls.
const maxInputLines = 6

// StartingNotice answers what needs the agent or state.db in the moment
// before they are open.
const StartingNotice = "still starting: try again in a moment"

// Options is what the pane is built from.
type Options struct {
	// Context bounds every command the pane runs; nil is Background.
	Context context.Context
	// Agent and Sessions may be nil until the parts are open (SetParts).
	Agent    Agent
	Sessions Sessions
	// Keys is the whole key map: the chat's own bindings, and the global
	// ones its welcome text names.
	Keys keymap.KeyMap
	// Palette is what the pane draws with; its Dark chooses the markdown
	// style too.
	Palette theme.Palette
	// Logger receives the pane's failures from commands; nil discards.
	Logger *slog.Logger
	// Continue resumes the most recently updated chat session at Init.
	Continue bool
	// Now is the pane's clock (a paste's tail is timed by it); nil is
	// time.Now. Tests drive it.
	Now func() time.Time
}

// turn is a running turn: its events, the transcript it fills (the
// visible one, or the one of a session the person switched away from), and
// whether the person asked to stop it.
type turn struct {
	id        int
	text      string // what the person sent, given back if it could not be saved
	sessionID int64  // 0 until Send has accepted it when the session was new
	events    <-chan agent.Event
	view      *transcript.Transcript
	tu        *transcript.Turn
	tally     *agent.Tally // its session's, shared with the Model while visible
}

// Model is the chat pane.
type Model struct {
	ctx      context.Context
	agent    Agent
	sessions Sessions
	logger   *slog.Logger
	keys     keymap.KeyMap
	st       *Styles
	md       *markdown.Renderer
	cache    *viewCache

	width, height int
	focused       bool

	input  textarea.Model
	pastes []attachment // large pastes held beside the input (paste.go)
	// pasteTail is when the latest paste, or a key that followed it
	// closely, arrived: Enter inside pasteGuard of it is a line break
	// (paste.go). now is the clock, replaced in tests.
	pasteTail time.Time
	now       func() time.Time
	spinner   spinner.Model

	session store.Session          // the visible session; ID 0 until the first message is saved
	view    *transcript.Transcript // the visible session's transcript
	tally   *agent.Tally           // the visible session's token figures
	turns   map[int]*turn          // running turns by id, in any session
	turnSeq int
	queued  *queued // a message typed ahead of the visible session's reply
	// discarded is the input Ctrl-C cleared, until ↑ brings it back or
	// another clear replaces it (only input and pastes are set).
	discarded *queued
	// expandTools shows tool calls' output in the transcript.
	expandTools bool
	// sel is a mouse selection in progress, nil when none.
	sel *selection
	// spinning is true while a spinner tick is on its way.
	spinning bool

	outcome string // "", "interrupted" or "error": how the visible session's last turn ended
	errText string // the latest error
	notice  string // a transient notice
	// isCommand says whether a slash name is a command (SetCommands);
	// nil takes every line starting with "/" for one.
	isCommand func(name string) bool
	// noticeTurn says the notice is about the visible session's running
	// turn: it goes when the turn ends.
	noticeTurn bool
	cont       bool

	// pending are notes to show again once --continue's load (cont is
	// set until it arrives) has replaced the view.
	pending []string
}

// queued is a message typed while the visible session streams; it is sent
// when the turn ends, or handed back to the input when the turn is
// interrupted or the person takes it back.
type queued struct {
	text   string       // as sent
	input  string       // as typed, with its pastes' markers
	pastes []attachment // the pastes it holds, for taking it back
	item   *transcript.Item
	view   *transcript.Transcript
}

// New builds the pane. Nothing is read from disk here.
func New(o Options) Model {
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	st := NewStyles(o.Palette)
	m := Model{
		ctx:      ctx,
		agent:    o.Agent,
		sessions: o.Sessions,
		logger:   logger,
		now:      o.Now,
		keys:     o.Keys,
		st:       &st,
		md:       markdown.ForPalette(o.Palette),
		cache:    &viewCache{},
		view:     transcript.New(),
		tally:    &agent.Tally{},
		turns:    map[int]*turn{},
		cont:     o.Continue,
		width:    80,
		height:   24,
	}
	m.spinner = spinner.New(spinner.WithSpinner(spinner.Dot), spinner.WithStyle(st.Transcript.Spinner))
	m.input = newInput(o.Keys.Chat, &st)
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
	ta.MaxHeight = 0
	ta.SetVirtualCursor(false)
	ta.SetStyles(inputStyles(st))
	ta.SetHeight(1)
	return ta
}

// SetParts gives the pane the agent and state.db once they are open.
func (m *Model) SetParts(a Agent, s Sessions) {
	m.agent, m.sessions = a, s
	if m.notice == StartingNotice {
		m.notice = "" // it was true only until now
	}
}

// SetCommands tells the pane which slash names are commands: a line
// starting with "/" that names none stays in the input (a path, say)
// instead of being taken for a command and lost.
func (m *Model) SetCommands(isCommand func(name string) bool) { m.isCommand = isCommand }

// started reports whether the agent and state.db are there.
func (m *Model) started() bool { return m.agent != nil && m.sessions != nil }

// Init loads the last session with --continue.
func (m Model) Init() tea.Cmd {
	if !m.started() || !m.cont {
		return nil
	}
	return m.loadLastSession()
}

// SetSize sets the pane's size in cells.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = max(w, 1), max(h, 0)
	m.layoutInput()
}

// Focus gives the pane the keyboard.
func (m *Model) Focus() {
	m.focused = true
	m.input.Focus()
}

// Blur takes the keyboard away.
func (m *Model) Blur() {
	m.focused = false
	m.input.Blur()
}

// ShortHelp is the chat's part of the status bar's hints.
func (m Model) ShortHelp() []key.Binding { return m.keys.Chat.ShortHelp() }

// FullHelp is the chat's columns of the help overlay.
func (m Model) FullHelp() [][]key.Binding { return m.keys.Chat.FullHelp() }

// Session is the visible session (ID 0 while it is new and unsaved).
func (m Model) Session() store.Session { return m.session }

// InputValue is what the input holds.
func (m Model) InputValue() string { return m.input.Value() }

// SetInput replaces the input's text (the palette puts a command there to
// finish typing its argument).
func (m *Model) SetInput(s string) {
	m.pastes = nil
	m.input.SetValue(stripMarks(s))
	m.input.CursorEnd()
	m.layoutInput()
}

// ClearInput empties the input.
func (m *Model) ClearInput() {
	m.pastes = nil
	m.input.Reset()
	m.layoutInput()
}

// DiscardInput clears the input (Ctrl-C), keeping what it held: the
// unqueue key (↑) on an empty input brings it back, so a Ctrl-C meant for
// a reply that had just ended loses nothing.
func (m *Model) DiscardInput() {
	m.discarded = &queued{input: m.input.Value(), pastes: m.pastes}
	m.ClearInput()
}

// AddNote adds a note from spindle to the visible transcript.
func (m *Model) AddNote(text string) {
	m.view.Add(transcript.NewNote(text))
	m.view.Bottom()
}

// SetError shows err in the status bar until the next message is sent.
func (m *Model) SetError(err string) { m.errText = sanitize.Line(err) }

// SetNotice shows a transient notice.
func (m *Model) SetNotice(s string) { m.notice, m.noticeTurn = s, false }

// ClearNotice drops the transient notice (any key press does).
func (m *Model) ClearNotice() { m.notice, m.noticeTurn = "", false }

// visibleTurn is the running turn of the visible session, or nil.
func (m Model) visibleTurn() *turn {
	for _, t := range m.turns {
		if t.view == m.view {
			return t
		}
	}
	return nil
}

// Streaming reports whether the visible session has a running turn.
func (m Model) Streaming() bool { return m.visibleTurn() != nil }

// Running is how many turns run, in every session.
func (m Model) Running() int { return len(m.turns) }

// TurnState is what the status bar says about the visible session.
type TurnState int

// The turn states.
const (
	Idle TurnState = iota
	Waiting
	Streaming
	Interrupting
)

// Status is everything the root's status bar shows of the chat.
type Status struct {
	Turn    TurnState
	Rate    float64 // tokens per second while streaming; 0 until known
	Spinner string
	Running int    // turns running in all sessions
	Outcome string // "", "interrupted" or "error"
	Err     string
	Notice  string
	Session store.Session
	Usage   Usage // the visible session's tokens, window and cost
}

// Status reports the pane's state for the status bar.
func (m Model) Status() Status {
	s := Status{Running: len(m.turns), Outcome: m.outcome, Err: m.errText, Notice: m.notice, Session: m.session, Spinner: m.spinner.View(), Usage: m.usage()}
	if t := m.visibleTurn(); t != nil {
		switch {
		case t.tu.Interrupted():
			s.Turn = Interrupting
		case t.tu.Waiting():
			s.Turn = Waiting
		default:
			s.Turn, s.Rate = Streaming, t.tu.Rate()
		}
	}
	return s
}

// Update handles key presses (while focused), pastes, the pane's own
// messages and spinner ticks.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.PasteMsg:
		return m.paste(msg.Content)
	case spinner.TickMsg:
		// The spinner runs only while a reply waits for its first text:
		// once text streams, the text is the sign of life, and a tick of
		// its own would only add frames. Dropping the tick stops it.
		if !m.needSpin() {
			m.spinning = false
			return m, nil
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return m, cmd
	case turnStartedMsg, turnFailedMsg, turnEventMsg, turnClosedMsg:
		return m.handleTurn(msg)
	case sessionLoadedMsg:
		return m.sessionLoaded(msg)
	case sessionRefreshedMsg:
		if msg.err == nil && msg.session.ID == m.session.ID {
			m.session = msg.session
		}
		return m, nil
	}
	return m, nil
}

// handleKey handles a key press while the pane has focus.
func (m Model) handleKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys.Chat
	tail := m.notePasteTail()
	r := m.renderer()
	histH := m.layout().histH
	switch {
	case key.Matches(msg, k.Send) && tail:
		m.input.InsertRune('\n')
		m.layoutInput()
		return m, nil
	case key.Matches(msg, k.Send):
		return m.submit()
	case key.Matches(msg, k.PageUp):
		m.view.Scroll(r, histH, -max(histH-1, 1))
		return m, nil
	case key.Matches(msg, k.PageDown):
		m.view.Scroll(r, histH, max(histH-1, 1))
		return m, nil
	case key.Matches(msg, k.LineUp):
		m.view.Scroll(r, histH, -3)
		return m, nil
	case key.Matches(msg, k.LineDown):
		m.view.Scroll(r, histH, 3)
		return m, nil
	case key.Matches(msg, k.Top):
		m.view.Top()
		return m, nil
	case key.Matches(msg, k.Bottom):
		m.view.Bottom()
		return m, nil
	case key.Matches(msg, k.Unqueue) && m.queued != nil && m.input.Value() == "":
		m.unqueue()
		return m, nil
	case key.Matches(msg, k.Unqueue) && m.discarded != nil && m.input.Value() == "":
		d := m.discarded
		m.discarded = nil
		m.input.SetValue(d.input)
		m.pastes = d.pastes
		m.input.CursorEnd()
		m.layoutInput()
		m.notice = "the cleared text is back"
		return m, nil
	case key.Matches(msg, k.ToolOutput):
		m.expandTools = !m.expandTools
		return m, nil
	case key.Matches(msg, k.RemovePaste) && len(m.pastes) > 0:
		m.removePaste()
		return m, nil
	case strings.IndexFunc(msg.Text, isMark) >= 0:
		return m, nil // only the chat's own markers stand for a paste
	}
	// Everything else is the input's: its editing keys come from
	// keymap.Chat.Editor; other keys with text insert it.
	var cmd tea.Cmd
	before := m.input.LineCount()
	m.input, cmd = m.input.Update(msg)
	if m.input.LineCount() != before {
		m.layoutInput()
	}
	m.prunePastes()
	return m, cmd
}

// Scroll moves the transcript's window by delta lines (the mouse wheel).
func (m *Model) Scroll(delta int) {
	m.view.Scroll(m.renderer(), m.layout().histH, delta)
}

// submit sends the input, queues it behind a streaming reply, or hands a
// slash command to the root.
func (m Model) submit() (Model, tea.Cmd) {
	typed := strings.TrimSpace(m.input.Value())
	if typed == "" {
		return m, nil
	}
	switch {
	case strings.HasPrefix(typed, "//"):
		// "//" sends a message that starts with "/" (a path, say).
		typed = typed[1:]
	case strings.HasPrefix(typed, "/") && !strings.Contains(typed, "\n"):
		name, arg, _ := strings.Cut(stripMarks(typed), " ")
		if m.isCommand != nil && !m.isCommand(name) {
			// Not a command: the text stays, nothing is lost.
			m.notice = "no command " + sanitize.Line(name) + " (the text stays: start it with // to send it as a message)"
			return m, nil
		}
		m.ClearInput()
		return m, func() tea.Msg { return CommandMsg{Name: name, Arg: strings.TrimSpace(arg)} }
	}
	// A text of several lines is a message even when it starts with "/":
	// a command is one line.
	pastes := m.pastes
	text := strings.TrimSpace(expand(typed, pastes))
	if text == "" {
		m.ClearInput()
		return m, nil
	}
	if !m.started() {
		m.notice = StartingNotice
		return m, nil
	}
	if m.session.Kind == store.SessionWorker {
		// A worker's session is the record of its run of a card: what the
		// card's history and its runs point to. The text stays.
		m.notice = fmt.Sprintf("this is card #%d's worker session, kept as the run's record: /new starts a chat (the text stays)", m.session.CardID)
		return m, nil
	}
	if m.Streaming() {
		if m.queued != nil {
			m.notice = "a message is already queued: " + keyName(m.keys.Chat.Unqueue) + " takes it back to edit"
			m.noticeTurn = true
			return m, nil
		}
		m.ClearInput()
		it := transcript.NewQueued(text)
		m.queued = &queued{text: text, input: typed, pastes: pastes, item: it, view: m.view}
		m.view.Add(it)
		m.view.Bottom()
		return m, nil
	}
	m.ClearInput()
	return m, m.send(text)
}

// send starts a turn in the visible session.
func (m *Model) send(text string) tea.Cmd {
	m.errText, m.outcome = "", ""
	m.view.Add(transcript.NewUser(text))
	m.tally.Sent(text)
	m.turnSeq++
	t := &turn{id: m.turnSeq, text: text, sessionID: m.session.ID, view: m.view, tu: transcript.StartTurn(m.view), tally: m.tally}
	m.view.Bottom()
	m.turns[t.id] = t
	return tea.Batch(m.sendCmd(t.id, m.session.ID, text), m.spin())
}

// needSpin reports whether some turn's reply waits for its first text.
func (m *Model) needSpin() bool {
	for _, t := range m.turns {
		if t.tu.AwaitingText() {
			return true
		}
	}
	return false
}

// spin starts the spinner if a reply waits and it is not running.
func (m *Model) spin() tea.Cmd {
	if m.spinning || !m.needSpin() {
		return nil
	}
	m.spinning = true
	return m.spinner.Tick
}

// unqueue takes the queued message back into the input.
func (m *Model) unqueue() {
	q := m.queued
	m.queued = nil
	q.view.Remove(q.item)
	m.input.SetValue(q.input)
	m.pastes = q.pastes
	m.input.CursorEnd()
	m.layoutInput()
}

// takeBackQueued puts the queued message back in the input after an
// interrupt or a failure, above what the person has typed since (so that
// nothing is sent out of order, nor lost); the pastes of both keep their
// own markers. merged says there was typed text below it; ok is false,
// the message left queued, only when the two hold more pastes than a
// message may.
func (m *Model) takeBackQueued() (merged, ok bool) {
	typed, typedPastes := m.input.Value(), m.pastes
	q := m.queued
	if typed == "" {
		m.unqueue()
		return false, true
	}
	// The typed text's markers move to ones the queued pastes do not use.
	used := map[rune]bool{}
	for _, a := range q.pastes {
		used[a.mark] = true
	}
	remap := map[rune]rune{}
	pastes := slices.Clone(q.pastes)
	for _, a := range typedPastes {
		r := rune(firstMark)
		for ; r <= lastMark && used[r]; r++ {
		}
		if r > lastMark {
			return false, false
		}
		used[r], remap[a.mark] = true, r
		a.mark = r
		pastes = append(pastes, a)
	}
	typed = strings.Map(func(r rune) rune {
		if n, ok := remap[r]; ok {
			return n
		}
		return r
	}, typed)
	m.unqueue()
	m.input.SetValue(q.input + "\n\n" + typed)
	m.pastes = pastes
	m.input.CursorEnd()
	m.layoutInput()
	return true, true
}

// sendCmd creates the session if there is none yet, then starts the turn.
func (m Model) sendCmd(turnID int, sessionID int64, text string) tea.Cmd {
	ctx, ag, sessions, logger := m.ctx, m.agent, m.sessions, m.logger
	return func() tea.Msg {
		var created store.Session
		if sessionID == 0 {
			s, err := sessions.CreateSession(ctx, "")
			if err != nil {
				logger.Warn("chat: create session failed", "err", err)
				return turnFailedMsg{turn: turnID, err: fmt.Errorf("create session: %w", err)}
			}
			created, sessionID = s, s.ID
		}
		ch, err := ag.Send(ctx, sessionID, text)
		if err != nil {
			logger.Warn("chat: send failed", "session", sessionID, "err", err)
			return turnFailedMsg{turn: turnID, err: err}
		}
		if created.ID == 0 {
			created.ID = sessionID
		}
		return turnStartedMsg{turn: turnID, session: created, events: ch}
	}
}

// waitEvent receives the turn's next event; it is re-armed after each one.
func waitEvent(turnID int, ch <-chan agent.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return turnClosedMsg{turn: turnID}
		}
		return turnEventMsg{turn: turnID, event: ev, at: time.Now()}
	}
}

// drain empties a channel nobody else reads any more, so its sender never
// blocks.
func drain(ch <-chan agent.Event) tea.Cmd {
	return func() tea.Msg {
		for range ch {
		}
		return nil
	}
}

// handleTurn applies a turn's messages. Messages of a turn that is no
// longer running are dropped.
func (m Model) handleTurn(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case turnStartedMsg:
		t := m.turns[msg.turn]
		if t == nil {
			return m, drain(msg.events)
		}
		t.events = msg.events
		if t.sessionID == 0 {
			t.sessionID = msg.session.ID
			if t.view == m.view && m.session.ID == 0 {
				m.session = msg.session
			}
		}
		if t.tu.Interrupted() {
			// Ctrl-C came before Send returned: interrupt now.
			m.agent.Interrupt(t.sessionID)
		}
		return m, waitEvent(t.id, t.events)
	case turnFailedMsg:
		t := m.turns[msg.turn]
		if t == nil {
			return m, nil
		}
		t.tu.Fail(msg.err.Error())
		if t.view == m.view {
			m.errText, m.outcome = sanitize.Line(msg.err.Error()), "error"
			// The message was not saved (a full disk, a refused state.db):
			// nothing the person typed is lost; it is back in the input.
			if m.input.Value() == "" {
				m.SetInput(t.text)
			}
		}
		return m, m.ended(t, false)
	case turnEventMsg:
		t := m.turns[msg.turn]
		if t == nil {
			if ev, ok := msg.event.(agent.ApprovalNeeded); ok {
				ev.Answer(approval.Decision{Answer: approval.Deny, Note: "the turn is no longer shown"})
			}
			return m, nil
		}
		t.tally.Apply(msg.event)
		if !t.tu.Apply(msg.event, msg.at) {
			if ev, ok := msg.event.(agent.ApprovalNeeded); ok {
				ask := ApprovalMsg{Turn: t.id, Session: t.sessionID, Event: ev}
				return m, tea.Batch(waitEvent(t.id, t.events), func() tea.Msg { return ask }, m.spin())
			}
			if spin := m.spin(); spin != nil {
				return m, tea.Batch(waitEvent(t.id, t.events), spin)
			}
			return m, waitEvent(t.id, t.events)
		}
		// The terminal event ends the turn; the channel closes right after
		// it, and drain sees that.
		completed := false
		if t.view == m.view {
			switch ev := msg.event.(type) {
			case agent.Done:
				m.outcome, completed = "", true
			case agent.Interrupted:
				m.outcome = "interrupted"
			case agent.Failed:
				m.outcome = "error"
				if ev.Err != nil {
					m.errText = sanitize.Line(ev.Err.Error())
				}
			}
		}
		return m, tea.Batch(drain(t.events), m.ended(t, completed))
	case turnClosedMsg:
		t := m.turns[msg.turn]
		if t == nil {
			return m, nil
		}
		if t.tu.Closed() && t.view == m.view {
			m.outcome = "error"
		}
		return m, m.ended(t, false)
	}
	return m, nil
}

// ended removes a finished turn, reads its session again (the agent titles
// a new session from its first message), and sends a queued message if the
// turn completed; after an interrupt or a failure the queued message goes
// back to the input instead, since the person may not want it any more.
func (m *Model) ended(t *turn, completed bool) tea.Cmd {
	delete(m.turns, t.id)
	if t.view == m.view && m.noticeTurn {
		m.ClearNotice() // it was about this turn
	}
	id := t.id
	cmds := []tea.Cmd{func() tea.Msg { return TurnEndedMsg{Turn: id} }}
	if t.view == m.view && t.sessionID != 0 {
		ctx, sessions, id := m.ctx, m.sessions, t.sessionID
		cmds = append(cmds, func() tea.Msg {
			s, err := sessions.Session(ctx, id)
			return sessionRefreshedMsg{session: s, err: err}
		})
	}
	if q := m.queued; q != nil && q.view == t.view {
		if completed && t.view == m.view {
			m.queued = nil
			q.view.Remove(q.item)
			cmds = append(cmds, m.send(q.text))
		} else if merged, ok := m.takeBackQueued(); ok {
			m.notice = "the queued message is back in the input"
			if merged {
				m.notice += ", above what you typed since"
			}
		}
	}
	return tea.Batch(cmds...)
}

// Interrupt is the interrupt path for the visible session, from the UI
// goroutine, a stranger to the turn's owner thread: the agent shuts the
// request's sockets down and the turn ends with Interrupted. The reply is
// marked interrupted at once. It reports whether there was a turn.
func (m *Model) Interrupt() bool {
	t := m.visibleTurn()
	if t == nil {
		return false
	}
	m.interrupt(t)
	m.outcome = "interrupted"
	return true
}

// InterruptSession interrupts the running turn of session id (an approval
// dialog's Ctrl-C, for a turn that may not be the visible one).
func (m *Model) InterruptSession(id int64) bool {
	for _, t := range m.turns {
		if t.sessionID == id {
			m.interrupt(t)
			if t.view == m.view {
				m.outcome = "interrupted"
			}
			return true
		}
	}
	return false
}

// InterruptAll interrupts every running turn (quitting) and returns how
// many there were.
func (m *Model) InterruptAll() int {
	for _, t := range m.turns {
		m.interrupt(t)
	}
	return len(m.turns)
}

func (m *Model) interrupt(t *turn) {
	if t.tu.Interrupted() {
		return
	}
	t.tu.MarkInterrupted()
	if t.sessionID != 0 && t.events != nil {
		m.agent.Interrupt(t.sessionID)
	}
}

// Unfinished returns the event channels of turns still running, for the
// program's end: they are drained so the agent can finish and save them.
func (m Model) Unfinished() []<-chan agent.Event {
	var out []<-chan agent.Event
	for _, t := range m.turns {
		if t.events != nil {
			out = append(out, t.events)
		}
	}
	return out
}

// NewSession starts a new, unsaved session. A turn running in the old one
// goes on streaming into it.
func (m *Model) NewSession() {
	m.dropQueued()
	m.session = store.Session{}
	m.view = transcript.New()
	m.tally = &agent.Tally{}
	m.view.Add(transcript.NewNote("New session."))
	m.errText, m.outcome = "", ""
}

// dropQueued gives a queued message back to the input before the visible
// session changes.
func (m *Model) dropQueued() {
	if m.queued != nil && m.input.Value() == "" {
		m.unqueue()
	}
	m.queued = nil
}

// Resume shows session id: at once when a turn of it is running (its live
// transcript), else after loading it.
func (m *Model) Resume(id int64) tea.Cmd {
	if !m.started() {
		m.notice = StartingNotice
		return nil
	}
	if id == m.session.ID {
		return nil
	}
	for _, t := range m.turns {
		if t.sessionID == id {
			m.dropQueued()
			m.view, m.tally = t.view, t.tally
			m.view.Bottom()
			ctx, sessions := m.ctx, m.sessions
			return func() tea.Msg {
				s, err := sessions.Session(ctx, id)
				return sessionRefreshedMsg{session: s, err: err}
			}
		}
	}
	ctx, sessions := m.ctx, m.sessions
	return func() tea.Msg {
		s, err := sessions.Session(ctx, id)
		if err != nil {
			return sessionLoadedMsg{err: fmt.Errorf("resume session %d: %w", id, err)}
		}
		msgs, err := sessions.Messages(ctx, s.ID)
		return sessionLoadedMsg{session: s, messages: msgs, err: err}
	}
}

// loadLastSession is --continue.
func (m Model) loadLastSession() tea.Cmd {
	ctx, sessions := m.ctx, m.sessions
	return func() tea.Msg {
		s, err := sessions.LastSession(ctx)
		if err != nil {
			return sessionLoadedMsg{err: err, cont: true}
		}
		msgs, err := sessions.Messages(ctx, s.ID)
		return sessionLoadedMsg{session: s, messages: msgs, err: err, cont: true}
	}
}

// SessionShownMsg says that a stored session was loaded into the chat
// (/resume, the session browser, --continue), so that the root can use
// the session's model again. The chat sends it and does not handle it.
type SessionShownMsg struct {
	Session store.Session
}

func (m Model) sessionLoaded(msg sessionLoadedMsg) (Model, tea.Cmd) {
	pending := m.pending
	if msg.cont {
		m.cont, m.pending = false, nil
	}
	if msg.err != nil {
		if errors.Is(msg.err, store.ErrNotFound) && msg.cont {
			m.AddNote("No earlier session to continue; this is a new one.")
			return m, nil
		}
		m.errText = sanitize.Line(msg.err.Error())
		return m, nil
	}
	m.dropQueued()
	m.session = msg.session
	m.view = transcript.New()
	m.view.Reset(transcript.FromMessages(msg.messages))
	tally := agent.TallyOf(msg.messages)
	m.tally = &tally
	m.errText, m.outcome = "", ""
	if msg.cont {
		for _, note := range pending {
			m.AddNote(note)
		}
	}
	s := msg.session
	return m, func() tea.Msg { return SessionShownMsg{Session: s} }
}

// Announce adds a note from spindle that must be seen: one that arrives
// before --continue has loaded the last session is shown again after the
// load replaces the transcript.
func (m *Model) Announce(text string) {
	m.AddNote(text)
	if m.cont {
		m.pending = append(m.pending, text)
	}
}

// SessionRenamed takes a new title for the session (the session browser
// renamed it).
func (m *Model) SessionRenamed(id int64, title string) {
	if id != 0 && m.session.ID == id {
		m.session.Title = title
	}
}

// SessionDeleted forgets a deleted session: when it is the visible one,
// the chat starts a new, unsaved session instead.
func (m *Model) SessionDeleted(id int64) {
	if id == 0 || m.session.ID != id {
		return
	}
	m.NewSession()
	m.view.Add(transcript.NewNote(fmt.Sprintf("Session #%d was deleted.", id)))
}

// RunningIn reports whether a turn of the session runs in the chat.
func (m Model) RunningIn(id int64) bool {
	for _, t := range m.turns {
		if t.sessionID == id {
			return true
		}
	}
	return false
}

// renderer is how the transcript draws entries at the pane's width.
func (m *Model) renderer() transcript.Renderer {
	return transcript.Renderer{Width: m.width, MD: m.md, St: &m.st.Transcript, Spin: m.spinner.View(), ExpandTools: m.expandTools}
}

// keyName is a binding's first key as the key map spells it.
func keyName(b key.Binding) string {
	if keys := b.Keys(); len(keys) > 0 {
		return keys[0]
	}
	return b.Help().Key
}

// fit is cell.Fit, for the pane's own lines.
func fit(lines []string, w, h int) []string { return cell.Fit(lines, w, h) }
