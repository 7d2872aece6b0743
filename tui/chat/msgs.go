package chat

import (
	"time"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/store"
)

// Msg is implemented by every message the chat's commands produce; the
// root routes them to the chat by this interface.
type Msg interface{ chatMsg() }

// CommandMsg is a slash command typed into the input ("/model gpt-4o"):
// the root looks it up in its command registry.
type CommandMsg struct {
	Name string // with the slash
	Arg  string // the rest, trimmed
}

// turnStartedMsg: Agent.Send accepted the message. session is set when the
// command had to create the session first.
type turnStartedMsg struct {
	turn    int
	session store.Session
	events  <-chan agent.Event
}

// turnFailedMsg: the message could not be sent (no turn started).
type turnFailedMsg struct {
	turn int
	err  error
}

// turnEventMsg carries one event of a running turn, stamped when it was
// received (the clock is read in the command, not in Update).
type turnEventMsg struct {
	turn  int
	event agent.Event
	at    time.Time
}

// turnClosedMsg: the turn's channel was closed.
type turnClosedMsg struct{ turn int }

// sessionLoadedMsg: a session and its messages were read (for /resume and
// --continue). err is store.ErrNotFound when --continue found no session.
type sessionLoadedMsg struct {
	session  store.Session
	messages []store.Message
	err      error
	cont     bool // from --continue
}

// sessionRefreshedMsg carries a session's record read again after a turn
// (its title may have been set).
type sessionRefreshedMsg struct {
	session store.Session
	err     error
}

// ApprovalMsg asks the root to show the approval dialog for a tool call of
// one of the chat's turns; the dialog answers with Event.Answer.
type ApprovalMsg struct {
	Turn    int   // the turn that waits
	Session int64 // its session
	Event   agent.ApprovalNeeded
}

// TurnEndedMsg tells the root a turn ended: an approval dialog still open
// for it has nothing left to answer.
type TurnEndedMsg struct{ Turn int }

func (CommandMsg) chatMsg()          {}
func (ApprovalMsg) chatMsg()         {}
func (TurnEndedMsg) chatMsg()        {}
func (turnStartedMsg) chatMsg()      {}
func (turnFailedMsg) chatMsg()       {}
func (turnEventMsg) chatMsg()        {}
func (turnClosedMsg) chatMsg()       {}
func (sessionLoadedMsg) chatMsg()    {}
func (sessionRefreshedMsg) chatMsg() {}
