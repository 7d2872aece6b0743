package kanban

import (
	"context"

	"github.com/spindle-sh/spindle/store"
)

// Board is what the pane needs from kanban.db; *store.Board implements it.
// Every method honours ctx (the root's: quitting cancels what is in
// flight) and fails with an error that names the operation and the card;
// Undo and UndoEvent fail with store.ErrNothingToUndo and
// *store.UndoConflictError as the store documents.
type Board interface {
	DataVersion(ctx context.Context) (int64, error)
	List(ctx context.Context, includeArchived bool) ([]store.Card, error)
	Events(ctx context.Context, id int64) ([]store.Event, error)
	Create(ctx context.Context, actor string, c store.NewCard) (store.Card, error)
	Edit(ctx context.Context, actor string, id int64, p store.CardPatch) (store.Card, error)
	Move(ctx context.Context, actor string, id int64, to store.Status, position int) (store.Card, error)
	Delete(ctx context.Context, actor string, id int64) error
	Comment(ctx context.Context, actor string, id int64, text string) (store.Event, error)
	Undo(ctx context.Context, actor string) (store.Event, error)
	UndoEvent(ctx context.Context, id int64) (store.Event, error)
	Runs(ctx context.Context, cardID int64) ([]store.Run, error)
	// Claims says which cards a worker holds, in any process: a card in
	// Running for the agent that no claim holds has no worker.
	Claims(ctx context.Context) ([]store.Claim, error)
	// RequestStop asks the worker holding card id, in any process, to
	// stop; its dispatcher sees the request on its next heartbeat.
	RequestStop(ctx context.Context, id int64) (store.Claim, error)
}

var _ Board = (*store.Board)(nil)
