package transcript

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/sanitize"
)

// Turn applies one running turn's events to a transcript: the reply
// streams into an entry that is rendered block by block, tool calls get an
// entry each, and the terminal event marks how the turn ended.
type Turn struct {
	t     *Transcript
	cur   *Item            // the reply being streamed, nil between a tool call and the next reply
	parts []*Item          // the parts cut off the front of cur, in order
	tools map[string]*Item // tool calls by id

	interrupted bool      // the person asked to stop it
	firstAt     time.Time // first text
	lastAt      time.Time // latest text
	tokens      float64   // estimated from the text (≈4 bytes a token) until the server says
	usage       agent.Usage
}

// StartTurn adds a reply waiting for its first text to t and returns the
// turn that fills it.
func StartTurn(t *Transcript) *Turn {
	tu := &Turn{t: t, tools: map[string]*Item{}}
	tu.cur = NewReply()
	t.Add(tu.cur)
	return tu
}

// Interrupted reports whether the turn was asked to stop.
func (tu *Turn) Interrupted() bool { return tu.interrupted }

// AwaitingText reports whether the turn's reply waits for its first text
// (at the start, or after a tool round): what the spinner is for.
func (tu *Turn) AwaitingText() bool {
	return tu.cur != nil && tu.cur.status == StatusWaiting && tu.cur.text == ""
}

// Waiting reports whether no text has arrived yet.
func (tu *Turn) Waiting() bool { return tu.firstAt.IsZero() }

// Rate is the tokens per second so far, 0 until there is enough to say.
func (tu *Turn) Rate() float64 {
	d := tu.lastAt.Sub(tu.firstAt).Seconds()
	if d < 0.2 {
		return 0
	}
	return tu.tokens / d
}

// Usage is the token usage the server reported for the turn's last
// request (zero when it sent none).
func (tu *Turn) Usage() agent.Usage { return tu.usage }

// MarkInterrupted shows the reply as interrupted at once, before the agent
// confirms it with the Interrupted event.
func (tu *Turn) MarkInterrupted() {
	tu.interrupted = true
	if tu.cur != nil {
		tu.cur.setStatus(StatusInterrupted)
	}
}

// Fail ends a turn that never started (the message could not be sent).
func (tu *Turn) Fail(errText string) {
	it := tu.markedReply("")
	it.errMsg = sanitize.Line(errText)
	it.setStatus(StatusFailed)
}

// Closed ends a turn whose event channel closed without a terminal event;
// it reports whether that left the reply failed.
func (tu *Turn) Closed() bool {
	if tu.cur != nil && tu.cur.live() {
		tu.cur.errMsg = "the stream ended without a result"
		tu.cur.setStatus(StatusFailed)
		return true
	}
	return false
}

// Apply applies one event and reports whether it ended the turn.
func (tu *Turn) Apply(ev agent.Event, at time.Time) bool {
	switch ev := ev.(type) {
	case agent.Delta:
		if tu.interrupted {
			return false // the final text arrives with Interrupted
		}
		it := tu.openReply()
		it.appendText(ev.Text, tu.emit)
		it.status = StatusStreaming
		if tu.firstAt.IsZero() {
			tu.firstAt = at
		}
		tu.lastAt = at
		tu.tokens += float64(utf8.RuneCountInString(ev.Text)) / 4
	case agent.ToolCall:
		tu.closeReply()
		it := newTool(ev.ID, ev.Name, ev.Arguments)
		tu.tools[ev.ID] = it
		tu.t.Add(it)
	case agent.ApprovalNeeded:
		if it, ok := tu.tools[ev.CallID]; ok {
			it.toolAwaiting = true
			it.gen++
		}
	case agent.ToolResult:
		it, ok := tu.tools[ev.ID]
		if !ok {
			it = newTool(ev.ID, ev.Name, "")
			tu.t.Add(it)
		}
		it.toolDone, it.toolErr, it.toolAwaiting = true, ev.Result.Err || ev.Result.Unsuccessful, false
		it.toolScreen = sanitize.String(ev.Result.ScreenText())
		it.gen++
		if !tu.interrupted && !ev.Stopped {
			// The model answers the tool's result next.
			tu.openReply()
		}
	case agent.Trimmed:
		tu.trimmed(ev)
	case agent.Usage:
		tu.usage = ev
		if ev.CompletionTokens > 0 {
			tu.tokens = float64(ev.CompletionTokens)
		}
	case agent.Done:
		if it := tu.finalReply(ev.Text); it != nil {
			it.setStatus(StatusDone)
		}
		return true
	case agent.Interrupted:
		it := tu.markedReply(ev.Text)
		it.reason = ev.Reason
		it.setStatus(StatusInterrupted)
		return true
	case agent.Failed:
		it := tu.markedReply(ev.Text)
		if ev.Err != nil {
			it.errMsg = sanitize.Line(ev.Err.Error())
		}
		it.setStatus(StatusFailed)
		return true
	}
	return false
}

// trimmed says, before the reply it concerns, that the agent left the
// oldest messages out of the request.
func (tu *Turn) trimmed(ev agent.Trimmed) {
	what := "left out of"
	if ev.Summarised {
		what = "replaced by a summary in"
	}
	note := NewNote(fmt.Sprintf("The conversation no longer fits the model's context window (%d tokens): the oldest %d messages were %s this request.",
		ev.Window, ev.Dropped, what))
	if it := tu.cur; it != nil && it.text == "" {
		tu.t.Remove(it)
		tu.t.Add(note)
		tu.t.Add(it)
		return
	}
	tu.t.Add(note)
}

// openReply returns the reply being streamed, starting one if the previous
// was closed by a tool call.
func (tu *Turn) openReply() *Item {
	if tu.cur == nil {
		tu.cur = NewReply()
		tu.parts = nil
		tu.t.Add(tu.cur)
	}
	return tu.cur
}

// emit places a part cut off the front of the reply being streamed.
func (tu *Turn) emit(p *Item) {
	tu.t.insertBefore(tu.cur, p)
	tu.parts = append(tu.parts, p)
}

// closeReply ends the reply before a tool call: a reply with no text is
// removed (the tool call says what happened), else it is finished.
func (tu *Turn) closeReply() {
	it := tu.cur
	if it == nil {
		return
	}
	it.flush(tu.emit)
	parts := tu.parts
	tu.cur, tu.parts = nil, nil
	if it.text == "" && len(parts) == 0 {
		it.finish()
		tu.t.Remove(it)
		return
	}
	tu.settle(it, parts).setStatus(StatusDone)
}

// finalReply sets the reply's final text (the saved one) and returns its
// last entry; a reply that never had text and gets none is removed and nil
// returned.
func (tu *Turn) finalReply(text string) *Item {
	it := tu.cur
	if it == nil {
		if text == "" {
			return nil
		}
		it = NewReply()
		tu.t.Add(it)
		tu.cur, tu.parts = it, nil
	}
	if text == "" {
		it.flush(tu.emit)
	} else {
		text = sanitize.String(text)
		// The parts cut while streaming stay when the final text extends
		// them (it almost always equals what streamed); else the reply
		// starts again from the final text.
		rest, same := text, true
		for _, p := range tu.parts {
			if !strings.HasPrefix(rest, p.text) {
				same = false
				break
			}
			rest = rest[len(p.text):]
		}
		if !same || !strings.HasPrefix(rest, it.text) {
			for _, p := range tu.parts {
				tu.t.Remove(p)
			}
			tu.parts = nil
			it.restart()
			rest = text
		}
		it.setText(rest, tu.emit)
	}
	parts := tu.parts
	tu.cur, tu.parts = nil, nil
	return tu.settle(it, parts)
}

// settle ends a reply's stream and returns the entry that carries its
// status: the last part when the live one was left empty by a cut, nil
// when the reply had no text at all (it is removed unless interrupted).
func (tu *Turn) settle(it *Item, parts []*Item) *Item {
	it.finish()
	if it.text == "" && len(parts) > 0 {
		tu.t.Remove(it)
		last := parts[len(parts)-1]
		if !it.live() {
			last.status, last.reason, last.errMsg = it.status, it.reason, it.errMsg
		}
		last.gen++
		return last
	}
	if it.text == "" && it.status != StatusInterrupted {
		tu.t.Remove(it)
		return nil
	}
	return it
}

// markedReply is finalReply for a turn that ended interrupted or failed:
// such a turn always leaves a reply in the transcript, even an empty one,
// to carry its mark.
func (tu *Turn) markedReply(text string) *Item {
	if it := tu.finalReply(text); it != nil {
		return it
	}
	it := NewReply()
	tu.t.Add(it)
	return it
}
