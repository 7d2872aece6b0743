package agent

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/sanitize"
)

// ApprovalNeeded says a tool call waits for the person's answer: the rules
// (deny and allow rules, the session's grants, --yolo) did not decide it.
// Whoever receives the turn's events answers it, exactly once, with Answer:
// the TUI shows a dialog, `spindle run` denies (it cannot ask), the
// dispatcher holds it on the worker's card. The turn waits; an interrupt,
// the turn's approval timeout, or the agent closing answer Deny.
type ApprovalNeeded struct {
	CallID  string
	Request tool.Request
	answer  *answerBox
}

// Answer answers the request. The first answer wins; later ones, and
// answers after the turn stopped waiting, are ignored. It never blocks, so
// the UI goroutine may call it.
func (e ApprovalNeeded) Answer(d approval.Decision) {
	if e.answer != nil {
		e.answer.give(d)
	}
}

func (ApprovalNeeded) event() {}

// answerBox carries one decision from whoever answers to the waiting turn.
type answerBox struct {
	once sync.Once
	ch   chan approval.Decision // capacity 1
}

func newAnswerBox() *answerBox { return &answerBox{ch: make(chan approval.Decision, 1)} }

func (b *answerBox) give(d approval.Decision) {
	b.once.Do(func() { b.ch <- d })
}

// decide answers whether call may run: the policy's rules first, then the
// receiver of the turn's events (ApprovalNeeded), bounded by the turn's
// approval timeout and ended by an interrupt. A grant for the session or
// for the project is recorded here, so the next identical call is not
// asked again.
func (a *Agent) decide(t *turn, call tool.Call, req tool.Request) approval.Decision {
	req.Summary = sanitize.Line(req.Summary)
	if a.policy != nil {
		if d, ok := a.policy.Check(t.session, req); ok {
			return d
		}
	}
	box := newAnswerBox()
	t.c.Event(ApprovalNeeded{CallID: call.ID, Request: req, answer: box})
	var timeout <-chan time.Time
	if t.approvalTimeout > 0 {
		timer := time.NewTimer(t.approvalTimeout)
		defer timer.Stop()
		timeout = timer.C
	}
	var d approval.Decision
	select {
	case d = <-box.ch:
		if d.Rule == "" {
			d.Rule = approval.DecidedByYou
		}
	case <-timeout:
		d = approval.Decision{Answer: approval.Deny, Rule: approval.DecidedByTimeout,
			Note: fmt.Sprintf("nobody answered within %s", t.approvalTimeout)}
	case <-t.ctx.Done():
		d = approval.Decision{Answer: approval.Deny, Rule: approval.DecidedByYou, Note: "the turn was interrupted"}
	case <-a.shutdown:
		d = approval.Decision{Answer: approval.Deny, Rule: "shutdown", Note: "spindle is quitting"}
	}
	// Whatever answered late is ignored from now on.
	box.give(approval.Decision{})
	if a.policy != nil && d.Answer.Allowed() {
		if err := a.policy.Grant(t.session, req, d.Answer); err != nil {
			a.log.Warn("agent: grant", "session", t.session, "tool", req.Tool, "err", err)
			d.Note = strings.TrimSpace(d.Note + " " + err.Error())
		}
	}
	return d
}

// deniedResult is what the model is told about a call it may not make.
func deniedResult(call tool.Call, req tool.Request, d approval.Decision) tool.Result {
	msg := fmt.Sprintf("%s was not run: %s denied it", call.Name, d.Rule)
	if d.Rule == approval.DecidedByYou {
		msg = fmt.Sprintf("%s was not run: the person denied it", call.Name)
	}
	if d.Note != "" {
		msg += " (" + sanitize.Line(d.Note) + ")"
	}
	return tool.Result{Err: true, Model: msg, Screen: "denied: " + sanitize.Line(req.Summary) + " · " + describeDecision(d)}
}

// describeDecision is how a decision is recorded and shown: "allowed once
// by you", "denied by deny rule bash:rm *".
func describeDecision(d approval.Decision) string {
	verb := "denied"
	switch d.Answer {
	case approval.AllowOnce:
		verb = "allowed once"
	case approval.AllowSession:
		verb = "allowed for this session"
	case approval.AllowAlways:
		verb = "allowed always"
	}
	by := d.Rule
	if by == "" {
		by = approval.DecidedByYou
	}
	s := verb + " by " + by
	if d.Note != "" && d.Answer == approval.Deny {
		s += ": " + sanitize.Line(d.Note)
	}
	return s
}

// NewApprovalNeeded makes a request whose answer arrives on the returned
// channel: for code that relays requests (the dispatcher) and for tests of
// the code that answers them.
func NewApprovalNeeded(callID string, req tool.Request) (ApprovalNeeded, <-chan approval.Decision) {
	box := newAnswerBox()
	return ApprovalNeeded{CallID: callID, Request: req, answer: box}, box.ch
}
