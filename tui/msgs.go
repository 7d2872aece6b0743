package tui

import (
	"time"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/store"
)

// The messages below are the results of the root model's commands; each
// command returns exactly one of them.

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
}

// sessionsListedMsg answers /sessions.
type sessionsListedMsg struct {
	sessions []store.Session
	err      error
}

// modelsListedMsg answers /model with no name.
type modelsListedMsg struct {
	models []string
	err    error
}

// disarmQuitMsg ends the "press Ctrl-C again to quit" window it belongs to.
type disarmQuitMsg struct{ id int }

// InterruptMsg is a request to interrupt, from a SIGINT (see Filter); it
// takes the same path as Ctrl-C.
type InterruptMsg struct{}

// ShutdownMsg asks the program to quit, interrupting a running stream first
// (sent when the process is told to terminate).
type ShutdownMsg struct{}

// forceQuitMsg quits even though the interrupted turn has not ended.
type forceQuitMsg struct{}

// sessionRefreshedMsg carries the current session's record read again after
// a turn (its title may have been set).
type sessionRefreshedMsg struct {
	session store.Session
	err     error
}

// partsOpenedMsg carries the result of RunOptions.Open.
type partsOpenedMsg struct {
	parts Parts
	err   error
}
