package tui

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/store"
)

// chatKey handles a key press while the chat pane has focus.
func (m Model) chatKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys.Chat
	l := m.computeLayout()
	r := m.renderer(l.chatW)
	switch {
	case key.Matches(msg, k.Send):
		return m.submit()
	case key.Matches(msg, k.PageUp):
		m.hist.scroll(r, l.histH, -max(l.histH-1, 1))
		return m, nil
	case key.Matches(msg, k.PageDown):
		m.hist.scroll(r, l.histH, max(l.histH-1, 1))
		return m, nil
	case key.Matches(msg, k.LineUp):
		m.hist.scroll(r, l.histH, -3)
		return m, nil
	case key.Matches(msg, k.LineDown):
		m.hist.scroll(r, l.histH, 3)
		return m, nil
	case key.Matches(msg, k.Top):
		m.hist.top()
		return m, nil
	case key.Matches(msg, k.Bottom):
		m.hist.bottom()
		return m, nil
	}
	// Everything else is the input's: its editing keys come from
	// keymap.Chat.Editor; other keys with text insert it.
	var cmd tea.Cmd
	before := m.input.LineCount()
	m.input, cmd = m.input.Update(msg)
	if m.input.LineCount() != before {
		m.layout()
	}
	return m, cmd
}

// startingNotice answers what needs the agent or state.db in the moment
// before they are open.
const startingNotice = "still starting: try again in a moment"

// submit sends the input, or runs it as a slash command.
func (m Model) submit() (tea.Model, tea.Cmd) {
	text := strings.TrimSpace(m.input.Value())
	if text == "" {
		return m, nil
	}
	if strings.HasPrefix(text, "/") {
		m.input.Reset()
		m.layout()
		return m.command(text)
	}
	if m.turn != nil {
		m.errText = "a reply is still streaming: ctrl+c or esc stops it"
		return m, nil
	}
	if !m.started() {
		m.notice = startingNotice
		return m, nil
	}
	m.input.Reset()
	m.layout()
	m.errText, m.outcome = "", ""
	m.hist.add(newItem(kindUser, text))
	m.turnSeq++
	t := &turn{id: m.turnSeq, sessionID: m.session.ID, tools: map[string]*item{}}
	t.cur = newItem(kindAssistant, "")
	t.cur.status = statusWaiting
	m.hist.add(t.cur)
	m.hist.bottom()
	m.turn = t
	return m, tea.Batch(m.sendCmd(t.id, m.session.ID, text), m.spinner.Tick)
}

// sendCmd creates the session if there is none yet, then starts the turn.
func (m Model) sendCmd(turnID int, sessionID int64, text string) tea.Cmd {
	ctx, ag, sessions, logger := m.ctx, m.agent, m.sessions, m.logger
	return func() tea.Msg {
		var created store.Session
		if sessionID == 0 {
			s, err := sessions.CreateSession(ctx, "")
			if err != nil {
				logger.Warn("tui: create session failed", "err", err)
				return turnFailedMsg{turn: turnID, err: fmt.Errorf("create session: %w", err)}
			}
			created, sessionID = s, s.ID
		}
		ch, err := ag.Send(ctx, sessionID, text)
		if err != nil {
			logger.Warn("tui: send failed", "session", sessionID, "err", err)
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

// handleTurn applies a turn's messages. Messages of an older turn are
// dropped (their channel is drained by then).
func (m Model) handleTurn(msg tea.Msg) (tea.Model, tea.Cmd) {
	t := m.turn
	switch msg := msg.(type) {
	case turnStartedMsg:
		if t == nil || t.id != msg.turn {
			// The turn was abandoned (cannot happen today); drain it.
			return m, drain(msg.events)
		}
		t.events = msg.events
		if t.sessionID == 0 {
			t.sessionID = msg.session.ID
			if m.session.ID == 0 {
				m.session = msg.session
			}
		}
		if t.interrupted {
			// Ctrl-C came before Send returned: interrupt now.
			m.agent.Interrupt(t.sessionID)
		}
		return m, waitEvent(t.id, t.events)
	case turnFailedMsg:
		if t == nil || t.id != msg.turn {
			return m, nil
		}
		t.cur.errMsg = describeErr(msg.err)
		t.cur.setStatus(statusFailed)
		m.errText, m.outcome = t.cur.errMsg, "error"
		m.turn = nil
		return m, m.afterTurn(t)
	case turnEventMsg:
		if t == nil || t.id != msg.turn {
			return m, nil
		}
		if m.applyEvent(t, msg.event, msg.at) {
			// The terminal event ends the turn; the channel closes right
			// after it, and drain sees that.
			m.turn = nil
			return m, tea.Batch(drain(t.events), m.afterTurn(t))
		}
		return m, waitEvent(t.id, t.events)
	case turnClosedMsg:
		if t == nil || t.id != msg.turn {
			return m, nil
		}
		if t.cur != nil && (t.cur.status == statusWaiting || t.cur.status == statusStreaming) {
			// Closed without a terminal event: treat as failed.
			t.cur.errMsg = "the stream ended without a result"
			t.cur.setStatus(statusFailed)
			m.outcome = "error"
		}
		m.turn = nil
		return m, m.afterTurn(t)
	}
	return m, nil
}

// afterTurn runs when a turn has ended: quit if that was asked for, else
// read the session again (the agent titles a new session from its first
// message).
func (m *Model) afterTurn(t *turn) tea.Cmd {
	if t.quitAfter {
		return tea.Quit
	}
	if t.sessionID == 0 {
		return nil
	}
	ctx, sessions, id := m.ctx, m.sessions, t.sessionID
	return func() tea.Msg {
		s, err := sessions.Session(ctx, id)
		return sessionRefreshedMsg{session: s, err: err}
	}
}

// drain empties an abandoned turn's channel so its sender never blocks.
func drain(ch <-chan agent.Event) tea.Cmd {
	return func() tea.Msg {
		for range ch {
		}
		return nil
	}
}

// applyEvent applies one event; it reports whether the event was terminal.
func (m *Model) applyEvent(t *turn, ev agent.Event, at time.Time) bool {
	switch ev := ev.(type) {
	case agent.Delta:
		if t.interrupted {
			return false // the final text arrives with Interrupted
		}
		it := m.openReply(t)
		it.appendText(ev.Text)
		it.status = statusStreaming
		if t.firstAt.IsZero() {
			t.firstAt = at
		}
		t.lastAt = at
		t.tokens += float64(utf8.RuneCountInString(ev.Text)) / 4
	case agent.ToolCall:
		m.closeReply(t)
		it := newItem(kindToolCall, "")
		it.toolID, it.toolName, it.toolArgs = ev.ID, oneLine(ev.Name), ev.Arguments
		t.tools[ev.ID] = it
		m.hist.add(it)
	case agent.ToolResult:
		it, ok := t.tools[ev.ID]
		if !ok {
			it = newItem(kindToolCall, "")
			it.toolID, it.toolName = ev.ID, oneLine(ev.Name)
			m.hist.add(it)
		}
		it.toolDone = true
		if ev.Result.Err {
			it.toolErr = ev.Result.ScreenText()
		} else {
			it.toolResult = ev.Result.ScreenText()
		}
		it.gen++
		if !t.interrupted {
			// The model answers the tool's result next.
			m.openReply(t)
		}
	case agent.Usage:
		if ev.CompletionTokens > 0 {
			t.tokens = float64(ev.CompletionTokens)
		}
	case agent.Done:
		it := m.finalReply(t, ev.Text)
		if it != nil {
			it.setStatus(statusDone)
		}
		m.outcome = ""
		return true
	case agent.Interrupted:
		it := m.markedReply(t, ev.Text)
		it.reason = string(ev.Reason)
		it.setStatus(statusInterrupted)
		m.outcome = "interrupted"
		return true
	case agent.Failed:
		it := m.markedReply(t, ev.Text)
		it.errMsg = describeErr(ev.Err)
		it.setStatus(statusFailed)
		m.errText, m.outcome = it.errMsg, "error"
		return true
	}
	return false
}

// openReply returns the reply being streamed, starting one if the previous
// was closed by a tool call.
func (m *Model) openReply(t *turn) *item {
	if t.cur == nil {
		t.cur = newItem(kindAssistant, "")
		t.cur.status = statusWaiting
		m.hist.add(t.cur)
	}
	return t.cur
}

// closeReply ends the reply before a tool call: a reply with no text is
// removed (the tool call says what happened), else it is finished.
func (m *Model) closeReply(t *turn) {
	it := t.cur
	t.cur = nil
	if it == nil {
		return
	}
	if it.text == "" {
		m.removeItem(it)
		return
	}
	it.setStatus(statusDone)
}

// finalReply sets the reply's final text (the saved one) and returns it; a
// reply that never had text and gets none is removed and nil returned.
func (m *Model) finalReply(t *turn, text string) *item {
	it := t.cur
	t.cur = nil
	if it == nil {
		if text == "" {
			return nil
		}
		it = newItem(kindAssistant, "")
		m.hist.add(it)
	}
	if text != "" {
		it.setText(text)
	}
	if it.text == "" && it.status != statusInterrupted {
		m.removeItem(it)
		return nil
	}
	return it
}

// markedReply is finalReply for a turn that ended interrupted or failed:
// such a turn always leaves a reply in the transcript, even an empty one, to
// carry its mark.
func (m *Model) markedReply(t *turn, text string) *item {
	if it := m.finalReply(t, text); it != nil {
		return it
	}
	it := newItem(kindAssistant, "")
	m.hist.add(it)
	return it
}

// removeItem drops an item from the transcript (only recent ones are ever
// removed, so the scan from the end is short).
func (m *Model) removeItem(it *item) {
	items := m.hist.items
	for i := len(items) - 1; i >= 0; i-- {
		if items[i] == it {
			m.hist.items = append(items[:i], items[i+1:]...)
			if m.hist.topItem > i {
				m.hist.topItem--
			}
			return
		}
	}
}

// interruptTurn is the interrupt path from the UI goroutine, a stranger to
// the turn's owner thread: the agent shuts the request's sockets down and
// the turn ends with Interrupted. The reply is marked interrupted at once,
// without waiting for that event.
func (m *Model) interruptTurn() {
	t := m.turn
	if t == nil {
		return
	}
	if m.quitting {
		t.quitAfter = true
	}
	if t.interrupted {
		return
	}
	t.interrupted = true
	if t.sessionID != 0 && t.events != nil {
		m.agent.Interrupt(t.sessionID)
	}
	if t.cur != nil {
		t.cur.setStatus(statusInterrupted)
	}
	m.outcome = "interrupted"
}

// command runs a slash command.
func (m Model) command(text string) (tea.Model, tea.Cmd) {
	name, arg, _ := strings.Cut(text, " ")
	arg = strings.TrimSpace(arg)
	busy := func() (tea.Model, tea.Cmd) {
		m.errText = name + ": a reply is streaming; stop it first (ctrl+c)"
		return m, nil
	}
	if !m.started() && (name == "/sessions" || name == "/resume" || name == "/model") {
		m.notice = startingNotice
		return m, nil
	}
	switch name {
	case "/new":
		if m.turn != nil {
			return busy()
		}
		m.session = store.Session{}
		m.hist.reset(nil)
		m.hist.add(newItem(kindNote, "New session: it is saved when you send the first message."))
		m.errText, m.outcome = "", ""
		return m, nil
	case "/sessions":
		return m, m.listSessions()
	case "/resume":
		if m.turn != nil {
			return busy()
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(arg, "#"), 10, 64)
		if err != nil || id <= 0 {
			m.errText = "usage: /resume ID (see /sessions)"
			return m, nil
		}
		return m, m.loadSession(id)
	case "/model":
		if arg == "" {
			return m, m.listModels()
		}
		m.agent.SetModel(arg)
		m.hist.add(newItem(kindNote, "Model set to "+arg+"."))
		return m, nil
	case "/stop":
		if m.turn == nil {
			m.notice = "nothing is streaming"
			return m, nil
		}
		m.interruptTurn()
		return m, nil
	case "/help":
		m.showHelp = true
		return m, nil
	case "/quit", "/exit":
		return m.quit()
	}
	m.errText = fmt.Sprintf("unknown command %s: try /help", oneLine(name))
	return m, nil
}

// loadLastSession is --continue.
func (m Model) loadLastSession() tea.Cmd {
	ctx, sessions := m.ctx, m.sessions
	return func() tea.Msg {
		s, err := sessions.LastSession(ctx)
		if err != nil {
			return sessionLoadedMsg{err: err}
		}
		msgs, err := sessions.Messages(ctx, s.ID)
		return sessionLoadedMsg{session: s, messages: msgs, err: err}
	}
}

// loadSession is /resume ID.
func (m Model) loadSession(id int64) tea.Cmd {
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

func (m Model) listSessions() tea.Cmd {
	ctx, sessions := m.ctx, m.sessions
	return func() tea.Msg {
		s, err := sessions.Sessions(ctx)
		return sessionsListedMsg{sessions: s, err: err}
	}
}

func (m Model) listModels() tea.Cmd {
	ctx, ag := m.ctx, m.agent
	return func() tea.Msg {
		models, err := ag.Models(ctx)
		return modelsListedMsg{models: models, err: err}
	}
}

func (m Model) sessionLoaded(msg sessionLoadedMsg) Model {
	if msg.err != nil {
		if errors.Is(msg.err, store.ErrNotFound) && msg.session.ID == 0 && m.cont {
			m.cont = false
			m.hist.add(newItem(kindNote, "No earlier session to continue; this is a new one."))
			return m
		}
		m.errText = describeErr(msg.err)
		return m
	}
	if m.turn != nil {
		m.errText = "cannot switch sessions while a reply streams"
		return m
	}
	m.session = msg.session
	m.hist.reset(itemsFromMessages(msg.messages))
	m.errText, m.outcome = "", ""
	return m
}

func (m Model) sessionsListed(msg sessionsListedMsg) Model {
	if msg.err != nil {
		m.errText = describeErr(msg.err)
		return m
	}
	if len(msg.sessions) == 0 {
		m.hist.add(newItem(kindNote, "No sessions yet."))
		return m
	}
	var b strings.Builder
	b.WriteString("Sessions (/resume ID):")
	for _, s := range msg.sessions {
		title := s.Title
		if title == "" {
			title = "(untitled)"
		}
		mark := ""
		if s.ID == m.session.ID {
			mark = "  ← current"
		}
		fmt.Fprintf(&b, "\n  %d  %s  %s%s", s.ID, s.UpdatedAt.Local().Format("2006-01-02 15:04"), title, mark)
	}
	m.hist.add(newItem(kindNote, b.String()))
	m.hist.bottom()
	return m
}

func (m Model) modelsListed(msg modelsListedMsg) Model {
	if msg.err != nil {
		m.errText = describeErr(msg.err)
		return m
	}
	text := "Model: " + m.agent.Model() + "\nAvailable (/model NAME): " + strings.Join(msg.models, ", ")
	m.hist.add(newItem(kindNote, text))
	m.hist.bottom()
	return m
}

// itemsFromMessages turns stored messages into transcript items.
func itemsFromMessages(msgs []store.Message) []*item {
	items := make([]*item, 0, len(msgs))
	tools := map[string]*item{}
	for _, msg := range msgs {
		switch msg.Role {
		case store.RoleUser:
			items = append(items, newItem(kindUser, msg.Content))
		case store.RoleAssistant:
			if msg.Content != "" || msg.Status != store.MessageComplete && msg.Status != "" {
				it := newItem(kindAssistant, msg.Content)
				switch msg.Status {
				case store.MessageInterrupted:
					it.status = statusInterrupted
				case store.MessageFailed:
					it.status = statusFailed
					it.errMsg = oneLine(msg.Error)
				}
				items = append(items, it)
			}
			for _, tc := range parseToolCalls(msg.ToolCalls) {
				tools[tc.toolID] = tc
				items = append(items, tc)
			}
		case store.RoleTool:
			it, ok := tools[msg.ToolCallID]
			if !ok {
				it = newItem(kindToolCall, "")
				it.toolName = "tool"
				items = append(items, it)
			}
			it.toolDone = true
			switch e := toolError(msg.Content); {
			case msg.Status == store.MessageFailed || msg.Error != "":
				it.toolErr = msg.Error
				if it.toolErr == "" {
					it.toolErr = msg.Content
				}
			case e != "":
				it.toolErr = e
			default:
				it.toolResult = msg.Content
			}
		}
	}
	return items
}

// toolError returns the message of a stored tool result that reports a
// failure ({"error": "..."}, as the agent feeds failures to the model), or "".
func toolError(content string) string {
	var v struct {
		Error string `json:"error"`
	}
	if !strings.HasPrefix(strings.TrimSpace(content), "{") || json.Unmarshal([]byte(content), &v) != nil {
		return ""
	}
	return v.Error
}
