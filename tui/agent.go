package tui

import (
	"context"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/chat"
	"github.com/spindle-sh/spindle/tui/kanban"
)

// Agent, Sessions and Board are the small interfaces the UI declares for
// what it needs; *agent.Agent, *store.State and *store.Board implement
// them. The panes get the parts they declare (chat.Agent, chat.Sessions,
// kanban.Board); the root adds what its dialogs use.
type (
	Board = kanban.Board

	// Agent is the chat's agent plus the model picker's needs
	// (endpoints.go in package agent): the endpoints and their models,
	// switching, and the start-up model choice. ListModels and
	// ResolveModel do network I/O and run in commands; the rest only take
	// the agent's lock.
	Agent interface {
		chat.Agent
		Endpoints() []agent.EndpointInfo
		Endpoint() agent.EndpointInfo
		SetEndpoint(name string) error
		ListModels(ctx context.Context, endpoint string, refresh bool) ([]string, error)
		ResolveModel(ctx context.Context) (model string, picked bool, err error)
		SessionRoute(s store.Session) (endpoint, model string, ok bool)
		RememberRoute(ctx context.Context, sessionID int64) error
		Running(sessionID int64) bool
	}

	// Sessions is the chat's state.db plus the session browser's needs
	// (sessions.go in package store). Every method may fail; the error is
	// shown in the status bar.
	Sessions interface {
		chat.Sessions
		SessionPage(ctx context.Context, q store.SessionQuery) ([]store.SessionSummary, error)
		SessionCount(ctx context.Context, q store.SessionQuery) (int, error)
		RenameSession(ctx context.Context, id int64, title string) error
		DeleteSession(ctx context.Context, id int64) error
	}
)

var (
	_ Agent    = (*agent.Agent)(nil)
	_ Sessions = (*store.State)(nil)
)
