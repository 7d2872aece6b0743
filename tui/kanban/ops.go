package kanban

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/store"
)

// actor is who the board's event history names for changes made here.
const actor = store.ActorMe

// ioTimeout bounds one store call made from a Cmd.
const ioTimeout = 10 * time.Second

// loadedMsg carries a fresh copy of the board and the data_version it was
// read at.
type loadedMsg struct {
	cards   []store.Card
	claims  []store.Claim
	version int64
	err     error
}

// pollMsg is the one-second tick.
type pollMsg struct{}

// versionMsg carries the board's data_version.
type versionMsg struct {
	version int64
	err     error
}

// eventsMsg carries one card's event history.
type eventsMsg struct {
	id     int64
	events []store.Event
	runs   []store.Run
	err    error
}

// writeDoneMsg reports the outcome of one queued write.
type writeDoneMsg struct {
	op    writeOp
	card  store.Card  // a create's, edit's or move's result
	event store.Event // a comment's result
	err   error
}

type opKind int

const (
	opCreate opKind = iota
	opEdit
	opMove
	opDelete
	opComment
	opUndo
	opUndoCard // undo one card's latest change, whoever made it
)

// undoing reports whether op is one of the undos, whose outcome the pane
// says in its notice.
func (op writeOp) undoing() bool {
	return op.kind == opUndo || op.kind == opUndoCard
}

// writeOp is one change to write. It is a value: the Cmd that runs it reads
// only its own copy.
type writeOp struct {
	kind    opKind
	id      int64 // the card; a negative temporary id until its create commits
	newCard store.NewCard
	patch   store.CardPatch
	to      store.Status
	pos     int
	text    string
	// before is the card as it was before the optimistic change (nil for a
	// create or a comment) and beforeIdx its index in its column: a failed
	// write puts it back there.
	before    *store.Card
	beforeIdx int
}

func (op writeOp) describe() string {
	switch op.kind {
	case opCreate:
		return "create card"
	case opEdit:
		return fmt.Sprintf("edit card %d", op.id)
	case opMove:
		return fmt.Sprintf("move card %d", op.id)
	case opDelete:
		return fmt.Sprintf("delete card %d", op.id)
	case opComment:
		return fmt.Sprintf("comment on card %d", op.id)
	case opUndoCard:
		return fmt.Sprintf("undo card %d's latest change", op.id)
	default:
		return "undo"
	}
}

// run performs op on b. It runs inside a Cmd, off the UI goroutine.
func (op writeOp) run(ctx context.Context, b Board) writeDoneMsg {
	ctx, cancel := context.WithTimeout(ctx, ioTimeout)
	defer cancel()
	out := writeDoneMsg{op: op}
	switch op.kind {
	case opCreate:
		out.card, out.err = b.Create(ctx, actor, op.newCard)
	case opEdit:
		out.card, out.err = b.Edit(ctx, actor, op.id, op.patch)
	case opMove:
		out.card, out.err = b.Move(ctx, actor, op.id, op.to, op.pos)
	case opDelete:
		out.err = b.Delete(ctx, actor, op.id)
	case opComment:
		out.event, out.err = b.Comment(ctx, actor, op.id, op.text)
	case opUndoCard:
		out.event, out.err = undoLatest(ctx, b, op.id)
	default:
		out.event, out.err = b.Undo(ctx, actor)
	}
	return out
}

// undoLatest undoes card id's latest change that is not undone yet,
// whoever made it; store.ErrNothingToUndo when there is none.
func undoLatest(ctx context.Context, b Board, id int64) (store.Event, error) {
	evs, err := b.Events(ctx, id)
	if err != nil {
		return store.Event{}, err
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if !evs[i].Undone {
			return b.UndoEvent(ctx, evs[i].ID)
		}
	}
	return store.Event{}, store.ErrNothingToUndo
}

func (m *Model) loadCmd() tea.Cmd {
	b, parent := m.board, m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, ioTimeout)
		defer cancel()
		// The version is read first: a commit between the two reads makes
		// the next poll see a newer version and load again.
		v, err := b.DataVersion(ctx)
		if err != nil {
			return loadedMsg{err: fmt.Errorf("kanban: load board: %w", err)}
		}
		// Claims before cards: a claim taken between the two reads then
		// shows as a card still in To do, never as a Running card that
		// seems to have no worker.
		claims, err := b.Claims(ctx)
		if err != nil {
			return loadedMsg{err: fmt.Errorf("kanban: load board: %w", err)}
		}
		cards, err := b.List(ctx, true)
		if err != nil {
			return loadedMsg{err: fmt.Errorf("kanban: load board: %w", err)}
		}
		return loadedMsg{cards: cards, claims: claims, version: v}
	}
}

func (m *Model) versionCmd() tea.Cmd {
	b, parent := m.board, m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, ioTimeout)
		defer cancel()
		v, err := b.DataVersion(ctx)
		if err != nil {
			err = fmt.Errorf("kanban: poll the board for changes: %w", err)
		}
		return versionMsg{version: v, err: err}
	}
}

func (m *Model) eventsCmd(id int64) tea.Cmd {
	if id <= 0 {
		return nil
	}
	b, parent := m.board, m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, ioTimeout)
		defer cancel()
		evs, err := b.Events(ctx, id)
		if err != nil {
			return eventsMsg{id: id, err: fmt.Errorf("kanban: events of card %d: %w", id, err)}
		}
		runs, err := b.Runs(ctx, id)
		if err != nil {
			err = fmt.Errorf("kanban: runs of card %d: %w", id, err)
		}
		return eventsMsg{id: id, events: evs, runs: runs, err: err}
	}
}

func errorCmd(err error) tea.Cmd {
	return func() tea.Msg { return ErrorMsg{Err: err} }
}

func (m *Model) writeCmd(op writeOp) tea.Cmd {
	b, ctx := m.board, m.ctx
	return func() tea.Msg { return op.run(ctx, b) }
}

// enqueue adds op to the write queue and starts it if nothing is running.
func (m *Model) enqueue(op writeOp) tea.Cmd {
	m.queue = append(m.queue, op)
	return m.dispatch()
}

func (m *Model) dispatch() tea.Cmd {
	if m.inflight || len(m.queue) == 0 {
		return nil
	}
	op := m.queue[0]
	m.queue = m.queue[1:]
	m.inflight = true
	return m.writeCmd(op)
}

func (m Model) handleWriteDone(msg writeDoneMsg) (Model, tea.Cmd) {
	m.inflight = false
	var cmds []tea.Cmd
	op := msg.op
	switch {
	case op.undoing():
		cmds = append(cmds, m.undone(op, msg))
	case msg.err != nil:
		m.revert(op)
		if op.kind == opCreate {
			// Changes queued for the card that was never stored cannot
			// succeed, and reverting them would bring it back.
			m.queue = slices.DeleteFunc(m.queue, func(q writeOp) bool { return q.id == op.id })
		}
		err := msg.err
		switch {
		case errors.Is(err, store.ErrCorrupt):
			// kanban.db was found damaged while open: the store refuses
			// every write from now on. Say what to do, once, and keep it.
			m.damaged = err
			err = fmt.Errorf("kanban: %w", err)
		default:
			// The store's errors name the operation and the card.
			err = fmt.Errorf("kanban: %w", err)
		}
		cmds = append(cmds, errorCmd(err))
		// What the person typed is not lost with the write: a new card,
		// an edit or a comment that could not be saved opens again with
		// the text, to save once the disk has room (or to copy out).
		if cmd := m.keepTyped(op); cmd != nil {
			cmds = append(cmds, cmd)
		}
	case op.kind == opCreate:
		m.created(op.id, msg.card)
	}
	if op.kind == opComment && m.detail.id == op.id {
		if len(m.detail.pending) > 0 {
			m.detail.pending = m.detail.pending[1:]
		}
		if msg.err == nil {
			m.detail.events = append(m.detail.events, msg.event)
		}
		m.rebuildDetail()
		cmds = append(cmds, m.eventsCmd(op.id))
	}
	if next := m.dispatch(); next != nil {
		cmds = append(cmds, next)
	} else {
		// The queue drained: read the board back so the screen matches the
		// file, including anything another process did meanwhile.
		cmds = append(cmds, m.loadCmd())
	}
	return m, tea.Batch(cmds...)
}

// created swaps the temporary card tmp for the stored card, in the board
// and in queued ops that were typed before the create committed.
func (m *Model) created(tmp int64, card store.Card) {
	if c, i, ok := m.find(tmp); ok {
		stored := card
		// Keep the optimistic column and position: queued moves already
		// placed it; the reload after the queue drains settles the rest.
		cur := m.cols[c][i]
		stored.Status, stored.Position = cur.Status, cur.Position
		stored.Title, stored.Body = cur.Title, cur.Body
		stored.Priority, stored.Assignee = cur.Priority, cur.Assignee
		m.cols[c][i] = stored
	}
	for i := range m.queue {
		if m.queue[i].id == tmp {
			m.queue[i].id = card.ID
		}
		if b := m.queue[i].before; b != nil && b.ID == tmp {
			cp := *b
			cp.ID = card.ID
			m.queue[i].before = &cp
		}
	}
	if m.detail.id == tmp {
		m.detail.id = card.ID
	}
	if m.target == tmp {
		m.target = card.ID
	}
	if m.form.id == tmp {
		m.form.id = card.ID
	}
}

// revert undoes op's optimistic change: the card goes back to how it was
// stored before op.
func (m *Model) revert(op writeOp) {
	sel := m.selectedID()
	switch op.kind {
	case opCreate:
		m.remove(op.id)
	case opEdit, opMove, opDelete:
		if op.before == nil {
			break
		}
		m.remove(op.id)
		m.insert(*op.before, op.beforeIdx)
	}
	if op.kind == opDelete {
		sel = op.id // the card comes back where the selection left it
	}
	m.refilter()
	m.reselect(sel)
}

// remove takes card id out of the board, renumbering its column.
func (m *Model) remove(id int64) (store.Card, int, bool) {
	c, i, ok := m.find(id)
	if !ok {
		return store.Card{}, 0, false
	}
	// In place: Bubble Tea drops the previous Model, and a column of a
	// 10,000-card board is too big to copy per key press.
	col := m.cols[c]
	card := col[i]
	copy(col[i:], col[i+1:])
	col = col[:len(col)-1]
	renumber(col, i)
	m.cols[c] = col
	return card, i, true
}

// insert puts card into its status's column at index i (clamped; -1 is
// the end), renumbering the column.
func (m *Model) insert(card store.Card, i int) int {
	c := statusIndex(card.Status)
	if c < 0 {
		return -1
	}
	col := m.cols[c]
	if i < 0 || i > len(col) {
		i = len(col)
	}
	col = append(col, store.Card{})
	copy(col[i+1:], col[i:])
	col[i] = card
	renumber(col, i)
	m.cols[c] = col
	return i
}

// renumber makes positions dense from index from on.
func renumber(col []store.Card, from int) {
	for k := from; k < len(col); k++ {
		col[k].Position = k
	}
}

// beforeOf snapshots card id for a revert.
func (m *Model) beforeOf(id int64) (*store.Card, int, bool) {
	c, i, ok := m.find(id)
	if !ok {
		return nil, 0, false
	}
	card := m.cols[c][i]
	return &card, i, true
}

// createCard adds a card optimistically and queues its create.
func (m *Model) createCard(nc store.NewCard) tea.Cmd {
	m.nextTemp--
	// Timestamps stay zero until the store answers: Update reads no clock.
	card := store.Card{
		ID: m.nextTemp, Title: nc.Title, Body: nc.Body, Status: nc.Status,
		Priority: nc.Priority, Assignee: nc.Assignee,
	}
	m.insert(card, -1)
	m.refilter()
	m.reselect(card.ID)
	return m.enqueue(writeOp{kind: opCreate, id: card.ID, newCard: nc})
}

// editCard applies patch optimistically and queues the edit.
func (m *Model) editCard(id int64, p store.CardPatch) tea.Cmd {
	before, idx, ok := m.beforeOf(id)
	if !ok {
		return goneCmd(id)
	}
	c, i, _ := m.find(id)
	card := &m.cols[c][i]
	if p.Title != nil {
		card.Title = *p.Title
	}
	if p.Body != nil {
		card.Body = *p.Body
	}
	if p.Priority != nil {
		card.Priority = *p.Priority
	}
	if p.Assignee != nil {
		card.Assignee = *p.Assignee
	}
	m.refilter()
	m.reselect(id)
	if m.detail.id == id {
		m.rebuildDetail()
	}
	return m.enqueue(writeOp{kind: opEdit, id: id, patch: p, before: before, beforeIdx: idx})
}

// moveCard moves card id to column to at index pos (-1 = end)
// optimistically and queues the move.
func (m *Model) moveCard(id int64, to store.Status, pos int) tea.Cmd {
	before, idx, ok := m.beforeOf(id)
	if !ok {
		return goneCmd(id)
	}
	card, _, _ := m.remove(id)
	card.Status = to
	m.insert(card, pos)
	m.refilter()
	m.reselect(id)
	if m.detail.id == id {
		m.rebuildDetail()
	}
	// pos stays -1 for "the end": the store's end of the column counts
	// cards another process may have added since the last load.
	return m.enqueue(writeOp{kind: opMove, id: id, to: to, pos: pos, before: before, beforeIdx: idx})
}

// deleteCard removes card id optimistically and queues the delete.
func (m *Model) deleteCard(id int64) tea.Cmd {
	before, idx, ok := m.beforeOf(id)
	if !ok {
		return goneCmd(id)
	}
	sel := m.row
	m.remove(id)
	m.refilter()
	m.row = sel
	m.reselect(0)
	if m.detail.id == id {
		m.detail = detailState{}
	}
	return m.enqueue(writeOp{kind: opDelete, id: id, before: before, beforeIdx: idx})
}

// goneCmd reports a change to a card that is no longer on the board
// (another process deleted it since the last load).
func goneCmd(id int64) tea.Cmd {
	return errorCmd(fmt.Errorf("kanban: card %d: %w", id, store.ErrNotFound))
}

// keepTyped reopens the form or input of a write that failed, holding what
// the person typed; nil when the write held no text of theirs or another
// form has the keyboard.
func (m *Model) keepTyped(op writeOp) tea.Cmd {
	if m.Editing() {
		return nil
	}
	switch op.kind {
	case opCreate:
		return m.openForm(0, op.newCard.Status, op.newCard.Title, op.newCard.Body)
	case opEdit:
		if op.before == nil || (op.patch.Title == nil && op.patch.Body == nil) {
			return nil
		}
		title, body := op.before.Title, op.before.Body
		if op.patch.Title != nil {
			title = *op.patch.Title
		}
		if op.patch.Body != nil {
			body = *op.patch.Body
		}
		return m.openForm(op.id, op.before.Status, title, body)
	case opComment:
		cmd := m.openLineInput(modeComment, "comment: ", "", op.text)
		m.target = op.id
		return cmd
	}
	return nil
}
