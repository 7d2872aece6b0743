package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/dispatch"
	"github.com/spindle-sh/spindle/tui/chat"
	"github.com/spindle-sh/spindle/tui/kanban"
	"github.com/spindle-sh/spindle/tui/markdown"
	"github.com/spindle-sh/spindle/tui/transcript"
)

// Dispatcher is what the UI needs from the dispatcher that runs cards as
// workers; *dispatch.Dispatcher implements it. The UI never starts or ends
// it (its owner does); it shows the workers, stops them, pauses it and
// answers the workers' approvals.
type Dispatcher interface {
	Changed() <-chan struct{}
	Snapshot() []dispatch.Worker
	Transcript(cardID int64, from int) ([]agent.Event, int)
	Stop(cardID int64) bool
	SetPaused(bool)
	Paused() bool
	MaxWorkers() int
	Wake()
}

var _ Dispatcher = (*dispatch.Dispatcher)(nil)

// workerRefresh is the least time between two refreshes of the running
// cards: a few a second, however much the workers stream.
const workerRefresh = 250 * time.Millisecond

// workersChangedMsg: the dispatcher signalled a change.
type workersChangedMsg struct{ at time.Time }

// workersTickMsg refreshes the running cards (their elapsed time, the
// spinner) while workers run, and a change held back by the rate limit.
type workersTickMsg struct{ at time.Time }

// waitWorkers waits for the dispatcher's next change; re-armed after each.
func waitWorkers(d Dispatcher) tea.Cmd {
	return func() tea.Msg {
		<-d.Changed()
		return workersChangedMsg{at: time.Now()}
	}
}

func workersTick() tea.Cmd {
	return tea.Tick(workerRefresh, func(t time.Time) tea.Msg { return workersTickMsg{at: t} })
}

// workersState is the root's view of the workers.
type workersState struct {
	list      []dispatch.Worker
	refreshed time.Time // when the pane was last given the list
	ticking   bool      // a workersTickMsg is on its way
	frame     int       // the running cards' spinner frame

	// The open card's live transcript.
	liveCard int64
	liveFrom int
	live     *transcript.Transcript
	liveTurn *transcript.Turn
	md       *markdown.Renderer
}

var spinFrames = []string{"⣾", "⣽", "⣻", "⢿", "⡿", "⣟", "⣯", "⣷"}

// workersChanged handles a change signal: refresh now, or on the next
// tick if the last refresh was too recent; and wait for the next change.
func (m Model) workersChanged(at time.Time) (Model, tea.Cmd) {
	cmds := []tea.Cmd{waitWorkers(m.dispatcher)}
	before := m.workers.list
	if at.Sub(m.workers.refreshed) >= workerRefresh || !sameCards(before, m.dispatcher.Snapshot()) {
		m.refreshWorkers(at)
	}
	if !sameCards(before, m.workers.list) {
		// A worker started or ended: its card moved in kanban.db. Read
		// the board now rather than at the next second's poll, so that a
		// stopped card shows Blocked at once.
		cmds = append(cmds, m.kanban.Reload())
	}
	if !m.workers.ticking {
		m.workers.ticking = true
		cmds = append(cmds, workersTick())
	}
	return m, tea.Batch(cmds...)
}

// workersTicked refreshes and keeps ticking while workers run; with none,
// the tick stops (an idle UI runs no timer).
func (m Model) workersTicked(at time.Time) (Model, tea.Cmd) {
	m.workers.ticking = false
	m.workers.frame++
	m.refreshWorkers(at)
	if len(m.workers.list) == 0 {
		return m, nil
	}
	m.workers.ticking = true
	return m, workersTick()
}

// refreshWorkers gives the kanban pane the running workers and, when a
// running card's detail is open, its live transcript.
func (m *Model) refreshWorkers(at time.Time) {
	d := m.dispatcher
	m.workers.refreshed = at
	m.workers.list = d.Snapshot()
	views := make([]kanban.Worker, 0, len(m.workers.list))
	for _, w := range m.workers.list {
		views = append(views, kanban.Worker{
			CardID: w.CardID, Elapsed: at.Sub(w.Started), LastLine: w.LastLine,
			NeedsApproval: w.Approval != nil, Stopping: w.Stopping,
		})
	}
	m.kanban.SetWorkers(views, spinFrames[m.workers.frame%len(spinFrames)])
	m.kanbanGen++
	m.refreshLive()
}

// refreshLive applies the open card's new worker events to its live
// transcript and hands the pane the tail of it.
func (m *Model) refreshLive() {
	ws := &m.workers
	id := m.kanban.DetailID()
	running := false
	for _, w := range ws.list {
		if w.CardID == id {
			running = true
		}
	}
	if id == 0 || !running {
		ws.liveCard, ws.live, ws.liveTurn = 0, nil, nil
		return
	}
	if ws.liveCard != id {
		ws.liveCard, ws.liveFrom = id, 0
		ws.live = transcript.New()
		ws.liveTurn = transcript.StartTurn(ws.live)
		if ws.md == nil {
			ws.md = markdown.ForPalette(m.palette)
		}
	}
	evs, next := m.dispatcher.Transcript(id, ws.liveFrom)
	ws.liveFrom = next
	for _, ev := range evs {
		ws.liveTurn.Apply(ev, time.Time{})
	}
	l := m.computeLayout()
	st := transcript.NewStyles(m.palette)
	lines, _ := ws.live.Window(transcript.Renderer{Width: max(l.kanbanW, 1), MD: ws.md, St: &st}, max(l.bodyH/2, 8))
	m.kanban.SetLive(id, lines)
	m.kanbanGen++
}

// workerApproval opens the approval dialog of a card's worker.
func (m *Model) workerApproval(cardID int64) tea.Cmd {
	for _, w := range m.workers.list {
		if w.CardID == cardID && w.Approval != nil {
			cmd := m.openApproval(chat.ApprovalMsg{Turn: -1, Session: w.SessionID, Event: *w.Approval})
			if o, ok := m.overlays[len(m.overlays)-1].(*approvalOverlay); ok {
				d := m.dispatcher
				o.card = cardID
				o.onInterrupt = func(*Model) { d.Stop(cardID) }
			}
			return cmd
		}
	}
	m.errText = "that worker is no longer waiting for an answer"
	return nil
}

// workerApprovals counts the workers waiting for an answer.
func (m *Model) workerApprovals() int {
	n := 0
	for _, w := range m.workers.list {
		if w.Approval != nil {
			n++
		}
	}
	return n
}

// sameCards reports whether two snapshots hold the same cards' workers.
func sameCards(a, b []dispatch.Worker) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].CardID != b[i].CardID || a[i].RunID != b[i].RunID {
			return false
		}
	}
	return true
}
