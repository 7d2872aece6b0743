package tui

import (
	"github.com/spindle-sh/spindle/tui/chat"
	"github.com/spindle-sh/spindle/tui/kanban"
)

// Agent, Sessions and Board are the small interfaces the panes declare for
// what they need; *agent.Agent, *store.State and *store.Board implement
// them. The root only passes them on.
type (
	Agent    = chat.Agent
	Sessions = chat.Sessions
	Board    = kanban.Board
)
