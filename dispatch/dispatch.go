// Package dispatch runs kanban cards as agent workers. A card in To do
// assigned to the agent (or left in Running for the agent with no worker)
// is claimed (one immediate transaction in kanban.db,
// so that two spindle processes on one board never run the same card),
// moved to Running, and worked by one agent turn in a session of its own,
// with tools scoped to the card; when the turn ends the run is recorded and
// the card moves to Review, or to Blocked with the reason.
//
// Each worker is a turn of the agent, so it has its own socket owner on its
// own locked OS thread; stopping it is Agent.Interrupt, the same stranger
// abort as Ctrl-C in the chat. A worker refreshes its claim's heartbeat
// while it runs, and stops when the heartbeat says so: a stop was asked
// for from any process, or its card was given back to the person, deleted,
// archived or moved out of Running. A claim whose process died or whose heartbeat expired is
// released by the next dispatcher (on any host for an expiry, on this host
// for a dead pid), its run recorded crashed and its card put back in To do.
//
// The UI learns of workers through Changed (a signal) and Snapshot; the
// headless `spindle work` through Events.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/agent/tool/board"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
)

// Board is what the dispatcher needs from kanban.db; *store.Board
// implements it. The worker tools' board.Board is part of it.
type Board interface {
	board.Board
	Runnable(ctx context.Context, limit int) ([]store.Card, error)
	Claim(ctx context.Context, id int64, host string, pid int, ttl time.Duration) (store.Run, error)
	SetRunSession(ctx context.Context, runID, sessionID int64) error
	Heartbeat(ctx context.Context, runID int64, ttl time.Duration) (store.StopCause, error)
	FinishRun(ctx context.Context, runID int64, e store.RunEnd) (store.Run, error)
	Recover(ctx context.Context, host string, alive func(pid int) bool) ([]store.Run, error)
	Events(ctx context.Context, id int64) ([]store.Event, error)
}

// Agent runs the workers' turns; *agent.Agent implements it.
type Agent interface {
	SendWith(ctx context.Context, sessionID int64, text string, o agent.TurnOptions) (<-chan agent.Event, error)
	Interrupt(sessionID int64) bool
}

// Sessions makes the workers' sessions; *store.State implements it.
type Sessions interface {
	StartSession(ctx context.Context, ns store.NewSession) (store.Session, error)
}

var (
	_ Board    = (*store.Board)(nil)
	_ Agent    = (*agent.Agent)(nil)
	_ Sessions = (*store.State)(nil)
)

// Defaults.
const (
	DefaultMaxWorkers      = 2
	DefaultApprovalTimeout = 10 * time.Minute
	defaultTick            = time.Second
	defaultClaimTTL        = 30 * time.Second
	defaultHeartbeat       = 500 * time.Millisecond
	// failBackoff keeps a card the dispatcher could not claim or start
	// from being tried again at once (no tight loop on a broken board).
	failBackoff = 30 * time.Second
	// maxPromptBody caps how much of a card's body and comments the
	// worker's prompt carries.
	maxPromptBody = 64 << 10
)

// Config is what a Dispatcher is built from.
type Config struct {
	Board    Board
	Agent    Agent
	Sessions Sessions
	// Tools are added to every worker's card tools: the project's file
	// and shell tools, behind the agent's approval policy.
	Tools           []tool.Tool
	MaxWorkers      int           // 0 = DefaultMaxWorkers
	ApprovalTimeout time.Duration // 0 = DefaultApprovalTimeout: a worker's unanswered request is denied
	Logger          *slog.Logger
	// Paused starts the dispatcher without claiming anything.
	Paused bool
	// NoAsk denies at once every call that needs the person's approval
	// (spindle work: nobody is there to answer), with an Event saying so.
	NoAsk bool

	// Host and PID name this process in claims; "" and 0 are the real
	// ones. Alive says whether a pid on this host is running; nil is
	// kill(pid, 0). Tick, ClaimTTL and HeartbeatEvery pace the loop.
	Host           string
	PID            int
	Alive          func(pid int) bool
	Tick           time.Duration
	ClaimTTL       time.Duration
	HeartbeatEvery time.Duration
}

// Dispatcher claims runnable cards and runs them as workers. Build it with
// New and start it with Run; every method is safe for concurrent use.
type Dispatcher struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	workers  map[int64]*worker // running, by card id
	paused   bool
	notUntil map[int64]time.Time // cards not to try again before
	closing  bool

	changed chan struct{} // capacity 1: "the snapshot changed"
	events  chan Event
	wake    chan struct{} // capacity 1: look for work now
	wg      sync.WaitGroup
}

// New builds a dispatcher; Run starts it.
func New(cfg Config) *Dispatcher {
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = DefaultMaxWorkers
	}
	if cfg.ApprovalTimeout <= 0 {
		cfg.ApprovalTimeout = DefaultApprovalTimeout
	}
	if cfg.Host == "" {
		cfg.Host, _ = os.Hostname()
	}
	if cfg.PID == 0 {
		cfg.PID = os.Getpid()
	}
	if cfg.Alive == nil {
		cfg.Alive = pidAlive
	}
	if cfg.Tick <= 0 {
		cfg.Tick = defaultTick
	}
	if cfg.ClaimTTL <= 0 {
		cfg.ClaimTTL = defaultClaimTTL
	}
	if cfg.HeartbeatEvery <= 0 {
		cfg.HeartbeatEvery = defaultHeartbeat
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{
		cfg: cfg, log: log, paused: cfg.Paused,
		workers: map[int64]*worker{}, notUntil: map[int64]time.Time{},
		changed: make(chan struct{}, 1), events: make(chan Event, 256), wake: make(chan struct{}, 1),
	}
}

// pidAlive reports whether a process with pid exists on this host.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// MaxWorkers is the limit on workers at once.
func (d *Dispatcher) MaxWorkers() int { return d.cfg.MaxWorkers }

// Changed signals that Snapshot has something new. It never closes; a
// reader that falls behind sees one signal for many changes.
func (d *Dispatcher) Changed() <-chan struct{} { return d.changed }

// Events carries what `spindle work` prints: claims, ends, recoveries. It
// is buffered; when nobody reads, events are dropped rather than stalling a
// worker.
func (d *Dispatcher) Events() <-chan Event { return d.events }

// Wake makes the dispatcher look for runnable cards now, instead of at its
// next tick (a card was just assigned to the agent).
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// SetPaused pauses or resumes claiming new cards; running workers go on.
func (d *Dispatcher) SetPaused(p bool) {
	d.mu.Lock()
	d.paused = p
	d.mu.Unlock()
	d.notify()
	if !p {
		d.Wake()
	}
}

// Paused reports whether claiming is paused.
func (d *Dispatcher) Paused() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.paused
}

func (d *Dispatcher) notify() {
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) emit(e Event) {
	select {
	case d.events <- e:
	default:
		d.log.Warn("dispatch: event dropped (nobody reads)", "kind", e.Kind, "card", e.CardID)
	}
}

// Run recovers crashed claims, then claims and runs cards until ctx ends;
// then it stops every worker through the abort path, their cards go back to
// To do with their claims released, and Run returns once they have ended.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.recover(ctx)
	tick := time.NewTicker(d.cfg.Tick)
	defer tick.Stop()
	for {
		d.fill(ctx)
		select {
		case <-ctx.Done():
			d.stopAll(stopQuit)
			d.wg.Wait()
			return nil
		case <-tick.C:
			d.recover(ctx)
		case <-d.wake:
		}
	}
}

// recover releases the claims of workers that are gone.
func (d *Dispatcher) recover(ctx context.Context) {
	runs, err := d.cfg.Board.Recover(ctx, d.cfg.Host, d.alive)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("dispatch: recover claims", "err", err)
		}
		return
	}
	for _, r := range runs {
		d.log.Info("dispatch: crashed run recovered", "card", r.CardID, "run", r.ID, "err", r.Error)
		d.emit(Event{Kind: Recovered, CardID: r.CardID, RunID: r.ID, Outcome: store.RunCrashed, Text: r.Error})
	}
	if len(runs) > 0 {
		d.notify()
	}
}

// alive is cfg.Alive, except that this process's own pid is alive only
// through its workers: a claim of ours that no worker holds is a leftover
// (a worker that died without finishing) and may be released.
func (d *Dispatcher) alive(pid int) bool {
	if pid == d.cfg.PID {
		return true
	}
	return d.cfg.Alive(pid)
}

// fill claims runnable cards up to the worker limit.
func (d *Dispatcher) fill(ctx context.Context) {
	d.mu.Lock()
	free := d.cfg.MaxWorkers - len(d.workers)
	paused := d.paused || d.closing
	d.mu.Unlock()
	if paused || free <= 0 || ctx.Err() != nil {
		return
	}
	cards, err := d.cfg.Board.Runnable(ctx, free+len(d.notUntil))
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("dispatch: list runnable cards", "err", err)
		}
		return
	}
	now := time.Now()
	for _, c := range cards {
		if free == 0 {
			return
		}
		d.mu.Lock()
		blocked := now.Before(d.notUntil[c.ID])
		d.mu.Unlock()
		if blocked {
			continue
		}
		if d.start(ctx, c) {
			free--
		}
	}
}

// backoff keeps card id from being tried again for failBackoff.
func (d *Dispatcher) backoff(id int64) {
	d.mu.Lock()
	d.notUntil[id] = time.Now().Add(failBackoff)
	d.mu.Unlock()
}

// start claims card c and starts its worker; it reports whether a worker
// started.
func (d *Dispatcher) start(ctx context.Context, c store.Card) bool {
	run, err := d.cfg.Board.Claim(ctx, c.ID, d.cfg.Host, d.cfg.PID, d.cfg.ClaimTTL)
	if errors.Is(err, store.ErrClaimed) || errors.Is(err, store.ErrNotRunnable) {
		return false // another dispatcher was quicker, or it changed
	}
	if err != nil {
		d.log.Warn("dispatch: claim", "card", c.ID, "err", err)
		d.backoff(c.ID)
		return false
	}
	w := &worker{d: d, card: c, run: run, started: time.Now(), verdict: &board.Verdict{}}
	d.mu.Lock()
	if d.closing {
		d.mu.Unlock()
		d.finish(w, store.RunEnd{Outcome: store.RunStopped, To: store.Todo, Comment: "stopped: spindle is quitting"})
		return false
	}
	d.workers[c.ID] = w
	delete(d.notUntil, c.ID)
	d.wg.Add(1)
	d.mu.Unlock()
	d.log.Info("dispatch: claimed", "card", c.ID, "run", run.ID, "title", sanitize.Line(c.Title))
	d.emit(Event{Kind: Claimed, CardID: c.ID, RunID: run.ID, Title: c.Title})
	d.notify()
	go w.work(ctx)
	return true
}

// Stop stops the worker of card id as the person's stop: the turn is
// interrupted through the stranger-safe abort, the partial transcript
// kept, and the card goes to Blocked with "stopped by you". It reports
// whether a worker of this process was running it.
func (d *Dispatcher) Stop(id int64) bool {
	d.mu.Lock()
	w := d.workers[id]
	d.mu.Unlock()
	if w == nil {
		return false
	}
	w.stop(stopByYou)
	return true
}

// stopAll stops every worker, as quitting does.
func (d *Dispatcher) stopAll(why stopReason) {
	d.mu.Lock()
	d.closing = true
	ws := make([]*worker, 0, len(d.workers))
	for _, w := range d.workers {
		ws = append(ws, w)
	}
	d.mu.Unlock()
	for _, w := range ws {
		w.stop(why)
	}
}

// Answer answers the pending approval of card id's worker; it reports
// whether there was one.
func (d *Dispatcher) Answer(id int64, dec approval.Decision) bool {
	d.mu.Lock()
	w := d.workers[id]
	d.mu.Unlock()
	if w == nil {
		return false
	}
	return w.answer(dec)
}

// Idle reports whether no worker runs and, unless paused, no card is
// runnable (for spindle work --until-idle).
func (d *Dispatcher) Idle(ctx context.Context) (bool, error) {
	d.mu.Lock()
	n := len(d.workers)
	d.mu.Unlock()
	if n > 0 {
		return false, nil
	}
	cards, err := d.cfg.Board.Runnable(ctx, 1)
	if err != nil {
		return false, err
	}
	return len(cards) == 0, nil
}

// Snapshot is the running workers, ordered by card id.
func (d *Dispatcher) Snapshot() []Worker {
	d.mu.Lock()
	ws := make([]*worker, 0, len(d.workers))
	for _, w := range d.workers {
		ws = append(ws, w)
	}
	d.mu.Unlock()
	out := make([]Worker, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.view())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CardID < out[j].CardID })
	return out
}

// Transcript returns the events of card id's running worker from index
// from on (for the card's live view), and the index to ask from next.
func (d *Dispatcher) Transcript(id int64, from int) ([]agent.Event, int) {
	d.mu.Lock()
	w := d.workers[id]
	d.mu.Unlock()
	if w == nil {
		return nil, from
	}
	return w.eventsFrom(from)
}

// finish ends a worker's run in kanban.db and forgets the worker.
func (d *Dispatcher) finish(w *worker, e store.RunEnd) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.cfg.Board.FinishRun(ctx, w.run.ID, e); err != nil && !errors.Is(err, store.ErrNotRunning) {
		d.log.Error("dispatch: finish run", "card", w.card.ID, "run", w.run.ID, "err", err)
	}
	d.mu.Lock()
	if d.workers[w.card.ID] == w {
		delete(d.workers, w.card.ID)
	}
	d.mu.Unlock()
	d.log.Info("dispatch: finished", "card", w.card.ID, "run", w.run.ID, "outcome", e.Outcome, "to", e.To)
	d.emit(Event{Kind: Finished, CardID: w.card.ID, RunID: w.run.ID, Title: w.card.Title, Outcome: e.Outcome, To: e.To, Text: e.Comment})
	d.notify()
	d.Wake()
}

// workerSystem is the system prompt of a worker's turn.
const workerSystem = `You are a worker inside spindle, a terminal agent shell with a kanban board. ` +
	`You work exactly one card, given in the user message. Do the work it asks for with your tools. ` +
	`Use card_comment for short progress notes. When the card is finished, call card_done with a one-line summary. ` +
	`If you cannot go on (missing information, a decision only the person can make), call card_block with the reason. ` +
	`Do not ask the person questions in text: they are not watching; block the card instead. Answer in concise markdown.`

// prompt is the card as the worker's user message: its title, body and
// comments, capped, as text (what the model sees is not drawn anywhere).
func prompt(c store.Card, events []store.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Card #%d: %s\n", c.ID, strings.TrimSpace(c.Title))
	if body := strings.TrimSpace(c.Body); body != "" {
		b.WriteString("\n" + body + "\n")
	}
	var comments []string
	for _, e := range events {
		if e.Kind == store.EventCommented && !e.Undone {
			comments = append(comments, fmt.Sprintf("- %s: %s", e.Actor, strings.TrimSpace(e.Text)))
		}
	}
	if len(comments) > 0 {
		b.WriteString("\nComments so far:\n" + strings.Join(comments, "\n") + "\n")
	}
	s := b.String()
	if len(s) > maxPromptBody {
		s = s[:maxPromptBody] + fmt.Sprintf("\n[… %d more bytes of the card were left out]\n", len(b.String())-maxPromptBody)
	}
	return s
}
