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
//
// Request is as the tool made it, not sanitized: its Summary is the exact
// command, every line of it, and whoever shows it sanitizes it without
// losing its line breaks (the TUI's dialog shows each line as a line).
type ApprovalNeeded struct {
	CallID  string
	Request tool.Request
	// RulesError is why the project's rules file does not load ("" when it
	// does): the last good rules were used, and the person should know.
	RulesError string
	answer     *answerBox
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
//
// The request goes to whoever answers as the tool made it: flattening its
// Summary here once turned "echo safe\ntouch /tmp/x" into the one line
// "echo safe touch /tmp/x" on the dialog, which reads as one harmless echo.
func (a *Agent) decide(t *turn, call tool.Call, req tool.Request) approval.Decision {
	rulesErr := ""
	if a.policy != nil {
		if err := a.policy.Refresh(); err != nil {
			a.log.Warn("agent: the project's approval rules file does not load; the last good rules stay in force",
				"session", t.session, "err", err)
		}
		if d, ok := a.policy.Check(t.session, req); ok {
			return d
		}
		if err := a.policy.LoadError(); err != nil {
			rulesErr = err.Error()
		}
	}
	box := newAnswerBox()
	t.c.Event(ApprovalNeeded{CallID: call.ID, Request: req, RulesError: rulesErr, answer: box})
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

// deniedResult is what the model is told about a call it may not make,
// and what the transcript shows: who denied it, in words that cannot be
// mistaken for another ("the person denied it", `the deny rule "bash:rm *"
// denied it`, "denied by timeout").
func deniedResult(call tool.Call, req tool.Request, d approval.Decision) tool.Result {
	var msg string
	switch rule, byRule := strings.CutPrefix(d.Rule, approval.DenyRulePrefix); {
	case byRule:
		msg = fmt.Sprintf("%s was not run: the deny rule %q denied it, not the person; do not try to get around it", call.Name, rule)
	case d.Rule == approval.DecidedByYou || d.Rule == "":
		msg = fmt.Sprintf("%s was not run: the person denied it", call.Name)
	default:
		msg = fmt.Sprintf("%s was not run: denied by %s", call.Name, d.Rule)
	}
	if note := sanitize.Line(d.Note); note != "" && !strings.HasPrefix(d.Rule, approval.DenyRulePrefix) {
		msg += " (" + note + ")"
	}
	return tool.Result{Err: true, Model: msg, Screen: "denied: " + summaryLine(req.Summary) + " · " + describeDecision(d)}
}

// summaryLine is a request's summary on one line for the transcript: its
// first line, and how many lines it has when more than one, so that a
// multi-line command is never shown as one line of words.
func summaryLine(summary string) string {
	lines := strings.Split(strings.TrimRight(summary, "\n"), "\n")
	first := sanitize.Line(lines[0])
	if len(lines) > 1 {
		first += fmt.Sprintf(" … (%d lines)", len(lines))
	}
	return first
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
	// A rule of several lines (a saved here-document) stays one line, its
	// line breaks drawn as ␊ rather than folded into spaces.
	by := strings.ReplaceAll(sanitize.String(d.Rule), "\n", "␊")
	if by == "" {
		by = approval.DecidedByYou
	}
	s := verb + " by " + by
	// A deny rule's note restates the rule for the model.
	if d.Note != "" && d.Answer == approval.Deny && !strings.HasPrefix(by, approval.DenyRulePrefix) {
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
