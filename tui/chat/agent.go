package chat

import (
	"context"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/store"
)

// Agent is what the chat needs from the conversation loop; *agent.Agent
// implements it.
//
// Send saves the user message and starts a turn; the returned channel
// carries the turn's events and is closed after exactly one terminal event
// (Done, Interrupted or Failed). Send fails, with no channel, if the session
// already streams or the message cannot be saved. Interrupt may be called
// from any goroutine at any time and returns whether a running turn was
// aborted; the turn then ends with Interrupted. Models asks the endpoint and
// honours ctx.
type Agent interface {
	Send(ctx context.Context, sessionID int64, text string) (<-chan agent.Event, error)
	Interrupt(sessionID int64) bool
	Model() string
	SetModel(name string)
	Offline() bool
	Models(ctx context.Context) ([]string, error)
}

// Sessions is what the chat needs from state.db; *store.State implements
// it. Every method may fail (the error is shown in the status bar);
// LastSession returns store.ErrNotFound when there is no session yet.
type Sessions interface {
	CreateSession(ctx context.Context, title string) (store.Session, error)
	Sessions(ctx context.Context) ([]store.Session, error)
	Session(ctx context.Context, id int64) (store.Session, error)
	LastSession(ctx context.Context) (store.Session, error)
	Messages(ctx context.Context, sessionID int64) ([]store.Message, error)
}

var (
	_ Agent    = (*agent.Agent)(nil)
	_ Sessions = (*store.State)(nil)
)
