package kanban

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/store"
)

// handleKey routes a key press by mode.
func (m Model) handleKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	switch m.mode {
	case modeForm:
		return m.formKey(msg)
	case modeComment:
		return m.commentKey(msg)
	case modeFilter:
		return m.filterKey(msg)
	case modeConfirm:
		return m.confirmKey(msg)
	case modeDetail:
		return m.detailKey(msg)
	}
	return m.boardKey(msg)
}

func (m Model) boardKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Up):
		m.row = max(m.row-1, 0)
		m.ensureVisible()
	case key.Matches(msg, k.Down):
		m.row = clamp(m.row+1, 0, m.colLen(m.col)-1)
		m.ensureVisible()
	case key.Matches(msg, k.Left):
		m.selectColumn(m.col - 1)
	case key.Matches(msg, k.Right):
		m.selectColumn(m.col + 1)
	case key.Matches(msg, k.Open):
		card, ok := m.selected()
		if !ok {
			return m, nil
		}
		m.openDetail(card.ID)
		return m, m.eventsCmd(card.ID)
	case key.Matches(msg, k.Cancel):
		if m.filter != "" {
			m.setFilter("")
		}
	case key.Matches(msg, k.ToggleArchived):
		sel := m.selectedID()
		m.showArchived = !m.showArchived
		m.reselect(sel)
	case key.Matches(msg, k.Filter):
		return m, m.openLineInput(modeFilter, "/ ", "filter cards", m.filter)
	case key.Matches(msg, k.New):
		status := allStatuses[clamp(m.col, 0, len(allStatuses)-1)]
		return m, m.openForm(0, status, "", "")
	default:
		return m.cardKey(msg)
	}
	return m, nil
}

// cardKey handles the bindings that act on the selected card, shared by the
// board and the card's detail.
func (m Model) cardKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	card, ok := m.current()
	switch {
	case key.Matches(msg, k.Undo):
		return m, m.enqueue(writeOp{kind: opUndo})
	case key.Matches(msg, k.PauseWorkers):
		return m, func() tea.Msg { return PauseWorkersMsg{} }
	case key.Matches(msg, k.UndoCard):
		// The card's latest change, whoever made it: how the person undoes
		// the agent's or a worker's change.
		if !ok {
			m.notice = "no card is selected: nothing to undo"
			return m, nil
		}
		return m, m.undoCard(card.ID)
	}
	if !ok {
		return m, nil
	}
	if m2, cmd, handled := m.workerKey(msg, card); handled {
		return m2, cmd
	}
	ci := statusIndex(card.Status)
	switch {
	case key.Matches(msg, k.Edit):
		return m, m.openForm(card.ID, card.Status, card.Title, card.Body)
	case key.Matches(msg, k.Comment):
		cmd := m.openLineInput(modeComment, "comment: ", "", "")
		m.target = card.ID
		return m, cmd
	case key.Matches(msg, k.Delete):
		m.back = m.mode
		m.mode = modeConfirm
		m.target = card.ID
	case key.Matches(msg, k.MovePrev):
		if ci > 0 {
			return m, m.moveCard(card.ID, allStatuses[ci-1], -1)
		}
	case key.Matches(msg, k.MoveNext):
		if ci+1 < m.numCols() {
			return m, m.moveCard(card.ID, allStatuses[ci+1], -1)
		}
	case key.Matches(msg, k.MoveUp):
		_, i, _ := m.find(card.ID)
		if i > 0 {
			return m, m.moveCard(card.ID, card.Status, i-1)
		}
	case key.Matches(msg, k.MoveDown):
		_, i, _ := m.find(card.ID)
		if i+1 < len(m.cols[ci]) {
			return m, m.moveCard(card.ID, card.Status, i+1)
		}
	case key.Matches(msg, k.Priority):
		p := card.Priority.Next()
		return m, m.editCard(card.ID, store.CardPatch{Priority: &p})
	case key.Matches(msg, k.Assignee):
		a := store.AgentAssignee
		if card.Assignee == store.AgentAssignee {
			// A worker running it stops at its next heartbeat.
			a = store.Me
			return m, m.editCard(card.ID, store.CardPatch{Assignee: &a})
		}
		// The card may be runnable now: the dispatcher may look at once.
		return m, tea.Batch(m.editCard(card.ID, store.CardPatch{Assignee: &a}), rerunCmd(card.ID))
	}
	return m, nil
}

// current is the card the card bindings act on: the open card in its
// detail, else the selected card. The two differ when the open card left
// the visible board (archived or filtered out by a change made elsewhere).
func (m *Model) current() (store.Card, bool) {
	if m.mode != modeDetail {
		return m.selected()
	}
	c, i, ok := m.find(m.detail.id)
	if !ok {
		return store.Card{}, false
	}
	return m.cols[c][i], true
}

// selectColumn moves the selection to column c, keeping the row as far as
// that column allows.
func (m *Model) selectColumn(c int) {
	c = clamp(c, 0, m.numCols()-1)
	if c == m.col {
		return
	}
	m.col = c
	m.row = clamp(m.row, 0, m.colLen(c)-1)
	m.ensureVisible()
}

func (m *Model) setFilter(q string) {
	sel := m.selectedID()
	m.filter = q
	m.refilter()
	m.reselect(sel)
}

func (m Model) filterKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Cancel):
		m.setFilter("")
		m.closeEditing()
		return m, nil
	case key.Matches(msg, m.keys.Submit):
		m.closeEditing()
		return m, nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if v := m.input.Value(); v != m.filter {
		m.setFilter(v)
	}
	return m, cmd
}

func (m Model) commentKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Cancel):
		m.closeEditing()
		return m, nil
	case key.Matches(msg, m.keys.Submit):
		text := strings.TrimSpace(m.input.Value())
		id := m.target
		m.closeEditing()
		if text == "" {
			return m, nil
		}
		if m.detail.id == id {
			m.detail.pending = append(m.detail.pending, text)
			m.rebuildDetail()
		}
		return m, m.enqueue(writeOp{kind: opComment, id: id, text: text})
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return m, cmd
}

func (m Model) confirmKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	id := m.target
	m.closeEditing()
	if key.Matches(msg, m.keys.Confirm) {
		if m.mode == modeDetail {
			m.mode = modeBoard
		}
		return m, m.deleteCard(id)
	}
	return m, nil
}

func (m Model) detailKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Cancel), key.Matches(msg, k.Open):
		m.mode = modeBoard
		m.detail = detailState{}
	case key.Matches(msg, k.Up):
		m.detail.scroll = max(m.detail.scroll-1, 0)
	case key.Matches(msg, k.Down):
		m.detail.scroll = clamp(m.detail.scroll+1, 0, m.detailMaxScroll())
	default:
		return m.cardKey(msg)
	}
	return m, nil
}

// openLineInput gives the keyboard to the one-line input on the last row
// (the comment or the filter), holding value with the cursor at its end.
func (m *Model) openLineInput(md mode, prompt, placeholder, value string) tea.Cmd {
	m.back = m.mode
	m.mode = md
	m.input.Prompt = prompt
	m.input.Placeholder = placeholder
	m.input.SetValue(value)
	m.input.CursorEnd()
	return m.input.Focus()
}

// closeEditing leaves any form, input or confirmation without saving.
func (m *Model) closeEditing() {
	if !m.Editing() {
		return
	}
	m.input.Blur()
	m.form.blur()
	m.target = 0
	m.mode = m.back
	if m.mode == modeDetail && m.detail.id == 0 {
		m.mode = modeBoard
	}
	m.back = modeBoard
}

// updateInputs passes a non-key message (a paste) to the input that has
// the keyboard.
func (m Model) updateInputs(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	switch m.mode {
	case modeForm:
		m.form, cmd = m.form.update(msg)
	case modeComment:
		m.input, cmd = m.input.Update(msg)
	case modeFilter:
		m.input, cmd = m.input.Update(msg)
		if v := m.input.Value(); v != m.filter {
			m.setFilter(v)
		}
	}
	return m, cmd
}

// Action is something the pane does that the root can ask for by name
// (from the command palette) instead of by key.
type Action int

// The actions.
const (
	ActionNew Action = iota
	ActionFilter
	ActionToggleArchived
	ActionUndo
)

// Do performs a, as its key would on the board.
func (m Model) Do(a Action) (Model, tea.Cmd) {
	if m.board == nil || m.Editing() {
		return m, nil
	}
	if m.mode == modeDetail {
		m.mode = modeBoard
		m.detail = detailState{}
	}
	k := m.keys
	var b key.Binding
	switch a {
	case ActionNew:
		b = k.New
	case ActionFilter:
		b = k.Filter
	case ActionToggleArchived:
		b = k.ToggleArchived
	case ActionUndo:
		b = k.Undo
	default:
		return m, nil
	}
	keys := b.Keys()
	if len(keys) == 0 {
		return m, nil
	}
	return m.boardKey(keyPress(keys[0]))
}

// keyPress is the key press that a binding's key string names, for the
// single characters and named keys the board's actions use.
func keyPress(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	if r := []rune(s); len(r) == 1 {
		return tea.KeyPressMsg{Code: r[0], Text: s}
	}
	if strings.HasPrefix(s, "ctrl+") && len(s) == 6 {
		return tea.KeyPressMsg{Code: rune(s[5]), Mod: tea.ModCtrl}
	}
	return tea.KeyPressMsg{}
}
