package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/agent/tool/board"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
)

// EventKind says what happened to a card's run.
type EventKind string

// The kinds of Event.
const (
	Claimed   EventKind = "claimed"
	Finished  EventKind = "finished"
	Recovered EventKind = "recovered"
	Denied    EventKind = "denied" // a call that needed approval, with NoAsk
)

// Event is one line of `spindle work`'s output.
type Event struct {
	Kind    EventKind
	CardID  int64
	RunID   int64
	Title   string
	Outcome store.RunOutcome
	To      store.Status
	Text    string // the comment left on the card, the error
}

// Worker is a running worker as the UI shows it.
type Worker struct {
	CardID    int64
	RunID     int64
	SessionID int64
	Title     string
	Started   time.Time
	LastLine  string // the last line of its output so far, sanitized
	Tokens    int64
	// Approval is the request waiting for the person's answer, if any.
	Approval *agent.ApprovalNeeded
	Stopping bool
}

// stopReason is why a worker was stopped.
type stopReason int

const (
	stopNone      stopReason = iota
	stopByYou                // x on the card, spindle kanban stop: Blocked
	stopQuit                 // spindle is quitting: back to To do
	stopLost                 // the claim was released under it: already crashed
	stopGivenBack            // the card was assigned to the person: it stays where it is
	stopDeleted              // the card was deleted
	stopArchived             // the card was archived
	stopMoved                // the card was moved out of Running
)

// stopFor is the stop reason for what a heartbeat found (not StopNone).
func stopFor(c store.StopCause) stopReason {
	switch c {
	case store.StopGivenBack:
		return stopGivenBack
	case store.StopDeleted:
		return stopDeleted
	case store.StopArchived:
		return stopArchived
	case store.StopMoved:
		return stopMoved
	}
	return stopByYou // StopRequested
}

// cardGone says, for the reasons that leave the card where the person
// put it, what the run's comment says; "" for the others.
func (r stopReason) cardGone() string {
	switch r {
	case stopGivenBack:
		return "stopped: the card was given back to you"
	case stopDeleted:
		return "stopped: the card was deleted"
	case stopArchived:
		return "stopped: the card was archived"
	case stopMoved:
		return "stopped: the card was moved out of Running"
	}
	return ""
}

// maxWorkerEvents bounds the events a worker keeps for the live view;
// deltas are merged, so it is reached only by very long runs.
const maxWorkerEvents = 4096

// worker is one card's run: its turn, its heartbeat, what it showed.
type worker struct {
	d       *Dispatcher
	card    store.Card
	run     store.Run
	started time.Time
	verdict *board.Verdict

	mu       sync.Mutex
	session  int64
	why      stopReason
	lastLine string
	tokens   int64
	reply    strings.Builder // the last reply's text, for a turn that ends in plain text
	events   []agent.Event
	dropped  int // events dropped from the front of events
	// served is how many events (from the first, dropped ones included)
	// eventsFrom has handed out: a delta is merged only into one nobody
	// has read yet, or the reader would never see what was merged.
	served  int
	pending *agent.ApprovalNeeded
}

// stop interrupts the worker's turn (once it has one) for why.
func (w *worker) stop(why stopReason) {
	w.mu.Lock()
	if w.why == stopNone {
		w.why = why
	}
	session := w.session
	w.mu.Unlock()
	if session != 0 {
		w.d.cfg.Agent.Interrupt(session)
	}
	w.d.notify()
}

func (w *worker) stopReason() stopReason {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.why
}

// answer answers the pending approval.
func (w *worker) answer(d approval.Decision) bool {
	w.mu.Lock()
	p := w.pending
	w.pending = nil
	w.mu.Unlock()
	if p == nil {
		return false
	}
	p.Answer(d)
	w.d.notify()
	return true
}

func (w *worker) view() Worker {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Worker{
		CardID: w.card.ID, RunID: w.run.ID, SessionID: w.session, Title: w.card.Title, Started: w.started,
		LastLine: w.lastLine, Tokens: w.tokens, Approval: w.pending, Stopping: w.why != stopNone,
	}
}

func (w *worker) eventsFrom(from int) ([]agent.Event, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := max(from-w.dropped, 0)
	if i > len(w.events) {
		i = len(w.events)
	}
	out := append([]agent.Event(nil), w.events[i:]...)
	w.served = max(w.served, w.dropped+len(w.events))
	return out, w.dropped + len(w.events)
}

// record keeps an event for the live view and the snapshot.
func (w *worker) record(ev agent.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev := ev.(type) {
	case agent.Delta:
		w.reply.WriteString(ev.Text)
		// The last whole line so far: a delta may end mid-word.
		r := w.reply.String()
		if i := strings.LastIndexByte(r, '\n'); i > 0 {
			r = r[:i]
		}
		if len(r) > 400 {
			r = r[len(r)-400:]
		}
		if line := lastLine(r); line != "" {
			w.lastLine = line
		}
		w.tokens += int64(utf8.RuneCountInString(ev.Text)+3) / 4
		// Merged with the previous delta if that one has not been read:
		// the live view applies them the same way, and the log stays short.
		if n := len(w.events); n > 0 && w.dropped+n > w.served {
			if prev, ok := w.events[n-1].(agent.Delta); ok {
				w.events[n-1] = agent.Delta{Text: prev.Text + ev.Text}
				return
			}
		}
	case agent.ToolCall:
		w.reply.Reset()
		w.lastLine = sanitize.Line("⚙ " + ev.Name + " " + tool.Describe(tool.Call{Name: ev.Name, Args: ev.Arguments}))
	case agent.ApprovalNeeded:
		p := ev
		w.pending = &p
		w.lastLine = "needs approval: " + sanitize.Line(ev.Request.Summary)
	case agent.ToolResult:
		if w.pending != nil && w.pending.CallID == ev.ID {
			w.pending = nil
		}
	case agent.Usage:
		if ev.CompletionTokens > 0 {
			w.tokens = ev.PromptTokens + ev.CompletionTokens
		}
	}
	w.events = append(w.events, ev)
	if len(w.events) > maxWorkerEvents {
		cut := len(w.events) - maxWorkerEvents
		w.events = append(w.events[:0], w.events[cut:]...)
		w.dropped += cut
	}
}

// lastLine is the last non-blank line of s, sanitized and cut.
func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := sanitize.Line(lines[i]); l != "" {
			if len(l) > 200 {
				l = l[:200]
			}
			return l
		}
	}
	return ""
}

// work is the worker's goroutine: a session, the turn, the heartbeat,
// and the run's end.
func (w *worker) work(ctx context.Context) {
	d := w.d
	defer d.wg.Done()
	end := w.runTurn(ctx)
	d.finish(w, end)
}

// runTurn runs the card's turn to its end and says how the run ends.
func (w *worker) runTurn(ctx context.Context) store.RunEnd {
	d := w.d
	bg := context.WithoutCancel(ctx)
	fail := func(err error) store.RunEnd {
		msg := sanitize.Line(err.Error())
		return store.RunEnd{Outcome: store.RunFailed, To: store.Blocked, Comment: "failed: " + msg, Error: msg}
	}
	sess, err := d.cfg.Sessions.StartSession(bg, store.NewSession{Kind: store.SessionWorker, CardID: w.card.ID, Title: fmt.Sprintf("Card #%d: %s", w.card.ID, w.card.Title)})
	if err != nil {
		return fail(err)
	}
	if err := d.cfg.Board.SetRunSession(bg, w.run.ID, sess.ID); err != nil {
		d.log.Warn("dispatch: record the run's session", "card", w.card.ID, "err", err)
	}
	evs, err := d.cfg.Board.Events(bg, w.card.ID)
	if err != nil {
		return fail(err)
	}
	tools := tool.NewRegistry(append(board.WorkerTools(d.cfg.Board, w.card.ID, w.verdict), d.cfg.Tools...)...)
	ch, err := d.cfg.Agent.SendWith(bg, sess.ID, prompt(w.card, evs), agent.TurnOptions{
		Tools: tools, System: workerSystem, ApprovalTimeout: d.cfg.ApprovalTimeout,
	})
	if err != nil {
		return fail(err)
	}
	w.mu.Lock()
	w.session = sess.ID
	why := w.why
	w.mu.Unlock()
	if why != stopNone {
		d.cfg.Agent.Interrupt(sess.ID) // stopped before the turn started
	}
	d.notify()

	beat := make(chan struct{})
	var beats sync.WaitGroup
	beats.Go(func() { w.heartbeat(beat) })
	defer func() { close(beat); beats.Wait() }()

	var last agent.Event
	for ev := range ch {
		if ask, ok := ev.(agent.ApprovalNeeded); ok && d.cfg.NoAsk {
			ask.Answer(approval.Decision{Answer: approval.Deny, Rule: "spindle work",
				Note: "nobody is there to ask; the person can allow it with --yolo or an allow rule in the config"})
			d.emit(Event{Kind: Denied, CardID: w.card.ID, RunID: w.run.ID, Title: w.card.Title,
				Text: ask.Request.Tool + ": " + sanitize.Line(ask.Request.Summary)})
			continue
		}
		w.record(ev)
		last = ev
		d.notify()
	}
	return w.outcome(last)
}

// heartbeat refreshes the claim until quit is closed. A stop requested
// from any process (spindle kanban stop), a card that is no longer the
// agent's to work (given back, deleted, archived, moved out of Running) or
// a lost claim interrupts the turn.
func (w *worker) heartbeat(quit <-chan struct{}) {
	d := w.d
	t := time.NewTicker(d.cfg.HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cause, err := d.cfg.Board.Heartbeat(ctx, w.run.ID, d.cfg.ClaimTTL)
		cancel()
		switch {
		case errors.Is(err, store.ErrNotRunning):
			d.log.Warn("dispatch: claim lost", "card", w.card.ID, "run", w.run.ID)
			w.stop(stopLost)
		case err != nil:
			d.log.Warn("dispatch: heartbeat", "card", w.card.ID, "err", err)
		case cause != store.StopNone:
			d.log.Info("dispatch: stopping", "card", w.card.ID, "run", w.run.ID, "why", string(cause))
			w.stop(stopFor(cause))
		}
	}
}

// outcome is how the run ends, from the turn's terminal event, the
// worker's verdict (card_done, card_block) and why it was stopped.
func (w *worker) outcome(last agent.Event) store.RunEnd {
	w.mu.Lock()
	tokens, why, reply := w.tokens, w.why, strings.TrimSpace(w.reply.String())
	w.mu.Unlock()
	done, blocked := w.verdict.Result()
	if msg := why.cardGone(); msg != "" {
		if _, ok := last.(agent.Interrupted); ok {
			// The card is no longer the agent's: it stays where it is
			// (FinishRun moves only a card still Running for the agent).
			return store.RunEnd{Outcome: store.RunStopped, To: "", Comment: msg, Tokens: tokens}
		}
	}
	switch ev := last.(type) {
	case agent.Done:
		switch {
		case blocked != "":
			return store.RunEnd{Outcome: store.RunBlocked, To: store.Blocked, Comment: "blocked: " + blocked, Tokens: tokens}
		case done != "":
			return store.RunEnd{Outcome: store.RunReview, To: store.Review, Comment: "done: " + done, Tokens: tokens}
		default:
			// Plain text and no verdict: the text is the result.
			if reply == "" {
				reply = "(the worker ended without a word)"
			}
			if len(reply) > maxPromptBody {
				reply = reply[:maxPromptBody] + "…"
			}
			return store.RunEnd{Outcome: store.RunReview, To: store.Review, Comment: reply, Tokens: tokens}
		}
	case agent.Interrupted:
		switch {
		case why == stopQuit:
			return store.RunEnd{Outcome: store.RunStopped, To: store.Todo, Comment: "stopped: spindle quit; it runs again next time", Tokens: tokens}
		case why == stopLost:
			return store.RunEnd{Outcome: store.RunStopped, To: "", Tokens: tokens}
		case ev.Reason == agent.StaleAbort:
			msg := "no data from the server for too long (stale_abort)"
			return store.RunEnd{Outcome: store.RunFailed, To: store.Blocked, Comment: "failed: " + msg, Error: msg, Tokens: tokens}
		default:
			return store.RunEnd{Outcome: store.RunStopped, To: store.Blocked, Comment: "stopped by you", Tokens: tokens}
		}
	case agent.Failed:
		msg := "the turn failed"
		if ev.Err != nil {
			msg = sanitize.Line(ev.Err.Error())
		}
		return store.RunEnd{Outcome: store.RunFailed, To: store.Blocked, Comment: "failed: " + msg, Error: msg, Tokens: tokens}
	}
	return store.RunEnd{Outcome: store.RunFailed, To: store.Blocked, Comment: "failed: the turn ended without a result", Error: "no terminal event", Tokens: tokens}
}
