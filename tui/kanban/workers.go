package kanban

import (
	"context"
	"errors"
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/store"
)

// Worker is an agent worker running a card, as the root hands it to the
// pane (from the dispatcher's snapshot, a few times a second while workers
// run).
type Worker struct {
	CardID        int64
	Elapsed       time.Duration
	LastLine      string // sanitized by the pane when drawn
	NeedsApproval bool
	Stopping      bool
}

// The pane's requests to the root, which owns the dispatcher.
type (
	// StopWorkerMsg asks to stop the worker running CardID.
	StopWorkerMsg struct{ CardID int64 }
	// PauseWorkersMsg asks to pause (or resume) the dispatcher.
	PauseWorkersMsg struct{}
	// AnswerWorkerMsg asks to open the approval dialog of CardID's worker.
	AnswerWorkerMsg struct{ CardID int64 }
	// RerunMsg says a card may have become runnable (put back in To do
	// for a worker, given to the agent, a change undone): the dispatcher
	// may look for it at once.
	RerunMsg struct{ CardID int64 }
)

// rerunCmd asks the root to wake the dispatcher for card id.
func rerunCmd(id int64) tea.Cmd {
	return func() tea.Msg { return RerunMsg{CardID: id} }
}

// SetWorkers replaces the running workers the pane shows, with the
// spinner's current frame. Workers of cards not on the board are ignored.
func (m *Model) SetWorkers(ws []Worker, spin string) {
	if len(ws) == 0 && len(m.workers) == 0 {
		return
	}
	m.workers = make(map[int64]Worker, len(ws))
	for _, w := range ws {
		m.workers[w.CardID] = w
	}
	m.spin = spin
	if m.mode == modeDetail || m.back == modeDetail {
		m.rebuildDetail()
	}
}

// Reload reads the board again now (a worker moved a card), instead of at
// the next poll.
func (m Model) Reload() tea.Cmd {
	if m.board == nil {
		return nil
	}
	return m.loadCmd()
}

// SetLive gives the open card's detail the lines of its running worker's
// transcript (the root renders them); nil when it has none.
func (m *Model) SetLive(cardID int64, lines []string) {
	if m.detail.id != cardID {
		return
	}
	m.detail.live = lines
	m.rebuildDetail()
}

// DetailID is the card whose detail is open, 0 when none.
func (m Model) DetailID() int64 {
	if m.mode == modeDetail || m.back == modeDetail {
		return m.detail.id
	}
	return 0
}

// workerLine is the second line of a running card: the spinner, how long
// it has run, and its latest output as plain text, or that it waits for
// approval.
func (m *Model) workerLine(w Worker) (string, bool) {
	if w.NeedsApproval {
		return fmt.Sprintf("! needs approval · %s answers", firstKey(m.keys.AnswerWorker)), true
	}
	state := m.spin
	if w.Stopping {
		state = "stopping…"
	}
	line := fmt.Sprintf("%s %s", state, w.Elapsed.Round(time.Second))
	if l := plainLine(w.LastLine); l != "" {
		line += " · " + l
	}
	return line, false
}

// noWorkerLine is what a card in Running for the agent shows when no worker
// runs it; its detail says more (noWorkerDetail).
const noWorkerLine = "! no worker"

// noWorkerDetail explains noWorkerLine in the card's detail.
const noWorkerDetail = "none: the card is in Running for the agent but no worker runs it. " +
	"The next free worker takes it (unless workers are paused, or none runs: start spindle or spindle work); " +
	"give it back to yourself or move it to stop that."

// runLine is the second line of a card that has a worker, or should: its
// worker's progress (workerLine), a worker in another process, or that a
// card in Running for the agent has none. It reports whether it needs the
// person's attention, and ok false for any other card (which shows its
// meta).
func (m *Model) runLine(c *store.Card) (line string, attention, ok bool) {
	if w, running := m.workers[c.ID]; running {
		line, attention = m.workerLine(w)
		return line, attention, true
	}
	if c.Status != store.Running || c.Assignee != store.AgentAssignee {
		return "", false, false
	}
	if cl, claimed := m.claims[c.ID]; claimed {
		return fmt.Sprintf("run by pid %d", cl.PID), false, true
	}
	return noWorkerLine, true, true
}

// workerKey handles the worker keys on the selected (or open) card.
func (m Model) workerKey(msg tea.KeyPressMsg, card store.Card) (Model, tea.Cmd, bool) {
	k := m.keys
	switch {
	case key.Matches(msg, k.StopWorker):
		id := card.ID
		if _, running := m.workers[id]; running {
			return m, func() tea.Msg { return StopWorkerMsg{CardID: id} }, true
		}
		if _, claimed := m.claims[id]; claimed {
			// Another spindle's worker: ask it through the board, as
			// spindle kanban stop does.
			return m, m.requestStopCmd(id), true
		}
		return m, errorCmd(fmt.Errorf("kanban: no worker is running card %d", id)), true
	case key.Matches(msg, k.AnswerWorker):
		w, running := m.workers[card.ID]
		if !running || !w.NeedsApproval {
			return m, errorCmd(fmt.Errorf("kanban: card %d's worker is not waiting for an answer", card.ID)), true
		}
		id := card.ID
		return m, func() tea.Msg { return AnswerWorkerMsg{CardID: id} }, true
	case key.Matches(msg, k.Rerun):
		if card.Status != store.Blocked && card.Status != store.Review {
			return m, errorCmd(fmt.Errorf("kanban: only a Blocked or Review card runs again (card %d is in %s)", card.ID, card.Status)), true
		}
		var cmds []tea.Cmd
		if card.Assignee != store.AgentAssignee {
			a := store.AgentAssignee
			cmds = append(cmds, m.editCard(card.ID, store.CardPatch{Assignee: &a}))
		}
		cmds = append(cmds, m.moveCard(card.ID, store.Todo, -1))
		cmds = append(cmds, rerunCmd(card.ID))
		return m, tea.Sequence(cmds...), true
	case key.Matches(msg, k.PauseWorkers):
		return m, func() tea.Msg { return PauseWorkersMsg{} }, true
	}
	return m, nil, false
}

// Click selects the card at cell (x, y) of the pane, on the board; a click
// on a column's empty space selects that column. Other modes ignore it.
func (m *Model) Click(x, y int) {
	if m.board == nil || m.mode != modeBoard || !m.loaded {
		return
	}
	first, widths := m.columnLayout()
	c, left := -1, 0
	for i, w := range widths {
		if x >= left && x < left+w {
			c = first + i
			break
		}
		left += w
	}
	if c < 0 {
		return
	}
	m.selectColumn(c)
	// The header and the rule, then cards of cardHeight rows.
	if row := (y - 2) / cardHeight; y >= 2 && row >= 0 {
		if r := m.offsets[c] + row; r < m.colLen(c) {
			m.row = r
			m.ensureVisible()
		}
	}
}

// Wheel moves the selection by delta cards in its column (the mouse wheel
// over the board).
func (m *Model) Wheel(delta int) {
	if m.board == nil || m.mode != modeBoard {
		if m.mode == modeDetail {
			m.detail.scroll = clamp(m.detail.scroll+delta, 0, m.detailMaxScroll())
		}
		return
	}
	m.row = clamp(m.row+delta, 0, m.colLen(m.col)-1)
	m.ensureVisible()
}

// stopRequestedMsg reports a stop asked of another process's worker.
type stopRequestedMsg struct {
	id    int64
	claim store.Claim
	stale bool // the claim had expired: its worker is gone or stuck
	err   error
}

// requestStopCmd asks, through the board, the worker of another process
// that holds card id to stop.
func (m Model) requestStopCmd(id int64) tea.Cmd {
	b, ctx := m.board, m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		c, err := b.RequestStop(ctx, id)
		return stopRequestedMsg{id: id, claim: c, stale: err == nil && time.Now().After(c.Expires), err: err}
	}
}

// stopRequested says what came of a stop asked of another process.
func (m Model) stopRequested(msg stopRequestedMsg) (Model, tea.Cmd) {
	switch {
	case errors.Is(msg.err, store.ErrNotRunning):
		m.notice, m.noticeBad = fmt.Sprintf("card %d is no longer running", msg.id), false
		return m, m.loadCmd()
	case msg.err != nil:
		return m, errorCmd(fmt.Errorf("kanban: %w", msg.err))
	}
	c := msg.claim
	if msg.stale {
		// Nobody is refreshing the claim: no heartbeat will read the
		// request. The next dispatcher to start or tick releases it.
		m.notice, m.noticeBad = fmt.Sprintf("card %d's worker (pid %d on %s) has not been heard from since %s: its claim is released, and the card put back in To do, when a spindle next looks for work", c.CardID, c.PID, c.Host, c.Heartbeat.Local().Format("15:04:05")), true
		return m, nil
	}
	m.notice, m.noticeBad = fmt.Sprintf("asked the spindle running card %d (pid %d on %s) to stop it: it stops at its next heartbeat, within a second", c.CardID, c.PID, c.Host), false
	return m, nil
}
