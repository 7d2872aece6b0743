package kanban

import (
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
)

// undoCard queues the undo of card id's latest change, whoever made it (U,
// on the selected card or in its detail).
func (m *Model) undoCard(id int64) tea.Cmd {
	if id <= 0 {
		m.notice = "the card is still being saved: nothing to undo yet"
		return nil
	}
	return m.enqueue(writeOp{kind: opUndoCard, id: id})
}

// undone says in the notice what an undo did, or why it did nothing; a
// failure to reach the board is an ErrorMsg as for any write.
func (m *Model) undone(op writeOp, msg writeDoneMsg) tea.Cmd {
	m.notice, m.noticeBad = "", false
	err := msg.err
	var conflict *store.UndoConflictError
	switch {
	case err == nil:
		m.notice = "undone: " + describeUndo(msg.event)
		// An undo may give a card back to the agent, or put one back in
		// To do or Running for it: the dispatcher may look at once.
		return rerunCmd(msg.event.CardID)
	case errors.Is(err, store.ErrNothingToUndo) && op.kind == opUndo:
		m.notice = fmt.Sprintf("nothing of yours to undo (%s undoes the selected card's last change, the agent's too)", m.keys.UndoCard.Help().Key)
	case errors.Is(err, store.ErrNothingToUndo):
		m.notice = fmt.Sprintf("card %d has no change left to undo", op.id)
	case errors.As(err, &conflict):
		m.notice = fmt.Sprintf("not undone: card %d was changed later by %s (%s); %s on the card undoes its latest change first",
			conflict.Event.CardID, who(conflict.Later.Actor), describeEvent(conflict.Later), m.keys.UndoCard.Help().Key)
		m.noticeBad = true
	default:
		if errors.Is(err, store.ErrCorrupt) {
			m.damaged = err
		}
		return errorCmd(fmt.Errorf("kanban: %w", err))
	}
	return nil
}

// who names an actor in the pane's words: the person is "you".
func who(actor string) string {
	if actor == store.ActorMe {
		return "you"
	}
	return sanitize.Line(actor)
}

// describeEvent is a change in a few words: "moved it todo → review".
func describeEvent(e store.Event) string {
	switch e.Kind {
	case store.EventCreated:
		return "created it"
	case store.EventDeleted:
		return "deleted it"
	case store.EventCommented:
		return "commented"
	case store.EventEdited:
		return "edited " + sanitize.Line(e.Text)
	case store.EventMoved:
		return "moved it " + sanitize.Line(e.Text)
	}
	return sanitize.Line(string(e.Kind))
}

// describeUndo says what undoing ev did, naming who had made the change,
// as `spindle kanban undo` does.
func describeUndo(ev store.Event) string {
	title := sanitize.Line(ev.Text)
	switch ev.Kind {
	case store.EventCreated:
		return fmt.Sprintf("removed card %d “%s”, created by %s", ev.CardID, title, who(ev.Actor))
	case store.EventDeleted:
		return fmt.Sprintf("restored card %d “%s”, deleted by %s", ev.CardID, title, who(ev.Actor))
	case store.EventEdited:
		return fmt.Sprintf("reverted %s edit of card %d (%s)", possessive(ev.Actor), ev.CardID, title)
	case store.EventMoved:
		from, _, ok := strings.Cut(ev.Text, " → ")
		if ok && !strings.Contains(from, ":") {
			return fmt.Sprintf("card %d is back in %s (%s had moved it %s)", ev.CardID, columnName(store.Status(from)), who(ev.Actor), title)
		}
		return fmt.Sprintf("card %d is back in place (%s had moved it %s)", ev.CardID, who(ev.Actor), title)
	case store.EventCommented:
		return fmt.Sprintf("withdrew %s comment on card %d", possessive(ev.Actor), ev.CardID)
	}
	return fmt.Sprintf("%s of card %d by %s", sanitize.Line(string(ev.Kind)), ev.CardID, who(ev.Actor))
}

// possessive is "your" for the person, "worker:3's" for the others.
func possessive(actor string) string {
	if actor == store.ActorMe {
		return "your"
	}
	return sanitize.Line(actor) + "'s"
}
