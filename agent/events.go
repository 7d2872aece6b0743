package agent

import (
	"errors"

	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/transport"
)

// Reason is why a turn was aborted; the words are the transport's, which
// its log lines use too.
type Reason = transport.Reason

// The abort reasons a turn can end with.
const (
	// InterruptAbort: someone called Interrupt (Ctrl-C, Esc, /stop, a
	// worker stop).
	InterruptAbort = transport.InterruptAbort
	// StaleAbort: no data from the server for the stale timeout.
	StaleAbort = transport.StaleAbort
	// ShutdownAbort: the agent was closed while the turn ran.
	ShutdownAbort = transport.ShutdownAbort
)

// ErrInterrupted is returned (wrapped) when a turn ended because someone
// called Interrupt, or the stale-stream detector fired.
var ErrInterrupted = errors.New("agent: interrupted")

// Event is one thing that happened during a turn. A turn's channel carries
// any number of Delta, ToolCall, ToolResult, Usage and Trimmed events and ends with
// exactly one terminal event: Done, Interrupted or Failed. The channel is
// closed right after the terminal event.
type Event interface{ event() }

// Delta is text the model produced since the previous Delta. Deltas are
// coalesced so that at most one is sent per 16 ms; no text is ever dropped.
// The text that arrived just before the end is sent at once, followed by
// the terminal event.
type Delta struct{ Text string }

// ToolCall says the model asked for a tool and spindle is about to run it.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string // JSON, as the model sent it
}

// ToolResult is the outcome of a ToolCall: what the model is told and what
// the screen shows, in the one shape that state.db keeps too.
type ToolResult struct {
	ID     string
	Name   string
	Result tool.Result
	// Stopped is true when the call did not run or was stopped because
	// the turn was interrupted.
	Stopped bool
}

// Usage reports token counts when the endpoint sends them.
type Usage struct {
	PromptTokens     int64
	CompletionTokens int64
}

// Done ends a turn that completed; the assistant message is saved with
// status complete. When the turn ran tools, the model answered more than
// once: MessageID and Text are those of its last answer, and the earlier
// text arrived as Deltas before the ToolCall events.
type Done struct {
	MessageID int64
	Text      string
}

// Interrupted ends a turn that was aborted; the partial text is saved with
// status interrupted (exactly as streamed). If the abort came while tools
// ran, MessageID is the reply that asked for them and Text is empty.
// Reason is the abort reason (interrupt_abort, stale_abort, shutdown_abort).
type Interrupted struct {
	MessageID int64
	Text      string
	Reason    Reason
}

// Failed ends a turn that failed; whatever text arrived is saved with status
// failed and the error's one-line message.
type Failed struct {
	MessageID int64
	Text      string
	Err       error
}

func (Delta) event()       {}
func (ToolCall) event()    {}
func (ToolResult) event()  {}
func (Usage) event()       {}
func (Done) event()        {}
func (Interrupted) event() {}
func (Failed) event()      {}
