// Package agent is spindle's conversation loop: it saves the person's
// message, streams the model's reply through openai-go on a socket owner
// from transport, turns it into typed events for the UI, runs the kanban_*
// tools, and saves every message with its final status. With no endpoint
// configured it starts the offline demo model (agent/offline) in-process.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/agent/offline"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/agent/tool/board"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/transport"
)

// Config is what an Agent needs. BaseURL "" starts the offline demo model.
type Config struct {
	BaseURL, APIKey, Model string       // BaseURL "" → start the offline demo model in-process
	State                  *store.State // required
	Board                  *store.Board // may be nil (board refused): kanban tools then fail with a clear error result
	// Tools are offered to the chat's model after the board tools (the
	// file and shell tools); nil offers the board tools only.
	Tools []tool.Tool
	// Policy decides tool calls that ask for approval by rules and grants;
	// nil leaves every such call to the person (ApprovalNeeded).
	Policy            *approval.Policy
	Logger            *slog.Logger  // nil = slog.Default()
	StaleTimeout      time.Duration // 0 = 60s: no chunk for this long aborts with stale_abort
	MaxRetries        int           // 0 = 3 (before the first token only)
	OfflineTokenDelay time.Duration // passed to offline.Options

	// MaxToolRounds bounds how many times one turn loops back to the model
	// after running tools; 0 = 8.
	MaxToolRounds int
	// MaxReplyBytes bounds one reply (its text and tool calls, per round):
	// past it the turn fails and what arrived is saved; 0 = 4 MiB.
	MaxReplyBytes int
	// MaxEventBytes bounds one server-sent event and any one line of the
	// stream: past it the turn fails; 0 = 1 MiB.
	MaxEventBytes int
	// Context fits long conversations into the model's window (context.go).
	Context ContextOptions
	// Endpoints are the configuration's named endpoints, which
	// SetEndpoint switches to (endpoints.go).
	Endpoints []NamedEndpoint
	// Test seams: the first backoff wait, the delta interval, Close's
	// grace period for receivers that stopped reading, and the read pace
	// (negative: off). They are fields, not
	// variables set from export_test.go, because the tests that set them run
	// in parallel with different values.
	retryBase     time.Duration
	frameInterval time.Duration
	closeGrace    time.Duration
	readPace      time.Duration
	// mangleInterrupted is a deliberate bug for the interrupt test's
	// negative control: it alters an interrupted reply before it is saved.
	mangleInterrupted func(string) string
}

const (
	defaultStaleTimeout  = 60 * time.Second
	defaultMaxRetries    = 3
	defaultMaxToolRounds = 8
	// eventBuffer absorbs bursts of non-text events; text never waits on it
	// (the coalescer merges text while the receiver is busy).
	eventBuffer = 64
	// pumpGrace is how long Close lets the event pumps deliver the terminal
	// events of aborted turns before giving up on a receiver that stopped
	// reading.
	pumpGrace = 2 * time.Second
	// offlineKey is sent to the offline model instead of any real key, so
	// that a configured key never leaves for the demo server.
	offlineKey = "spindle-offline-demo"
)

// systemPrompt is sent first with every request; it is not stored.
const systemPrompt = `You are the assistant inside spindle, a terminal agent shell with a chat pane and a kanban board the person and you both edit. ` +
	`Answer in concise markdown. Use the kanban_* tools to read and change the board when the person asks about tasks; ` +
	`after changing the board, say briefly what you did.`

// Agent runs turns: one streaming request (plus tool rounds) per Send. It is
// safe for concurrent use. Each session has at most one running turn.
type Agent struct {
	cfg        Config
	log        *slog.Logger
	srv        *offline.Server
	stale      time.Duration
	maxRetries int
	maxRounds  int
	maxReply   int
	maxEvent   int
	backoff    backoff
	frame      time.Duration
	grace      time.Duration
	pace       time.Duration // readPace

	tools  *tool.Registry // the chat's tools
	policy *approval.Policy

	mu     sync.Mutex
	model  string
	turns  map[int64]*turn
	closed bool
	// Also under mu (endpoints.go): where the next turn goes, every
	// endpoint (fixed after New), and the models each one listed.
	route      route
	routes     []route
	modelCache map[string][]string

	shutdown chan struct{} // closed by Close
	abandon  chan struct{} // closed by Close when pumps outlive pumpGrace
	workers  sync.WaitGroup
	pumps    sync.WaitGroup
}

// New checks the configuration and, when BaseURL is empty, starts the
// offline demo model. It makes no request.
func New(cfg Config) (*Agent, error) {
	if cfg.State == nil {
		return nil, errors.New("agent: new: Config.State is required")
	}
	a := &Agent{
		cfg:        cfg,
		log:        cfg.Logger,
		stale:      cfg.StaleTimeout,
		maxRetries: cfg.MaxRetries,
		maxRounds:  cfg.MaxToolRounds,
		maxReply:   cfg.MaxReplyBytes,
		maxEvent:   cfg.MaxEventBytes,
		backoff:    defaultBackoff,
		turns:      make(map[int64]*turn),
		shutdown:   make(chan struct{}),
		abandon:    make(chan struct{}),
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	var b board.Board
	if cfg.Board != nil {
		b = cfg.Board
	}
	a.tools = ChatTools(b, cfg.Tools...)
	a.policy = cfg.Policy
	if a.stale <= 0 {
		a.stale = defaultStaleTimeout
	}
	if a.maxRetries <= 0 {
		a.maxRetries = defaultMaxRetries
	}
	if a.maxRounds <= 0 {
		a.maxRounds = defaultMaxToolRounds
	}
	if a.maxReply <= 0 {
		a.maxReply = defaultMaxReplyBytes
	}
	if a.maxEvent <= 0 {
		a.maxEvent = defaultMaxEventBytes
	}
	if cfg.retryBase > 0 {
		a.backoff.Base = cfg.retryBase
	}
	a.frame, a.grace = FrameInterval, pumpGrace
	if cfg.frameInterval > 0 {
		a.frame = cfg.frameInterval
	}
	if cfg.closeGrace > 0 {
		a.grace = cfg.closeGrace
	}
	a.pace = readPace
	if cfg.readPace != 0 {
		a.pace = max(cfg.readPace, 0)
	}
	if err := a.initEndpoints(cfg); err != nil {
		return nil, err
	}
	return a, nil
}

// Close aborts every running turn with reason shutdown_abort, waits for
// every worker goroutine, lets the event channels deliver their terminal
// events (for at most a short grace period if nobody reads them), and stops
// the offline server. It is safe to call more than once.
func (a *Agent) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	turns := make([]*turn, 0, len(a.turns))
	for _, t := range a.turns {
		turns = append(turns, t)
	}
	a.mu.Unlock()

	close(a.shutdown)
	for _, t := range turns {
		t.abort(transport.ShutdownAbort)
	}
	a.workers.Wait()

	pumped := make(chan struct{})
	go func() { a.pumps.Wait(); close(pumped) }()
	timer := time.NewTimer(a.grace)
	select {
	case <-pumped:
	case <-timer.C:
		a.log.Warn("agent: close: a receiver stopped reading events; dropping the rest")
		close(a.abandon)
		<-pumped
	}
	timer.Stop()

	if a.srv != nil {
		if err := a.srv.Close(); err != nil {
			return fmt.Errorf("agent: close the offline demo model: %w", err)
		}
	}
	return nil
}

// Model is the model name sent with the next request.
func (a *Agent) Model() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.model
}

// SetModel changes the model for the turns that start after it.
func (a *Agent) SetModel(name string) {
	name = strings.TrimSpace(name)
	if name == "" {
		return
	}
	a.mu.Lock()
	a.model = name
	a.mu.Unlock()
}

// Running reports whether the session has a turn in progress.
func (a *Agent) Running(sessionID int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.turns[sessionID]
	return ok
}

// Interrupt aborts the session's running turn, from any goroutine, at any
// time, any number of times. It routes to the transport's stranger-safe
// abort (the sockets are shut down, never closed, from here); if the turn's
// worker has not created its socket owner yet, the abort is remembered and
// applied the moment it does. The turn then ends with an Interrupted event
// and its partial text saved with status interrupted. It returns true when
// a running turn was found (and is now aborted).
func (a *Agent) Interrupt(sessionID int64) bool {
	a.mu.Lock()
	t := a.turns[sessionID]
	a.mu.Unlock()
	if t == nil {
		return false
	}
	t.abort(transport.InterruptAbort)
	return true
}

// Models lists the next turn's endpoint's models (GET /v1/models),
// sorted, asking every time (ListModels keeps them). Endpoints without that
// route return an error; the caller can still use Model.
func (a *Agent) Models(ctx context.Context) ([]string, error) {
	a.mu.Lock()
	r := a.route
	a.mu.Unlock()
	ids, err := a.list(ctx, r)
	sort.Strings(ids)
	return ids, err
}

// afterClose runs f in its own goroutine when ch is closed (never, if ch is
// nil), unless the returned stop is called first; stop waits for that
// goroutine, so f never runs after stop returns.
func afterClose(ch <-chan struct{}, f func()) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-ch:
			f()
		case <-quit:
		}
	}()
	return func() { close(quit); <-finished }
}

// TurnOptions change one turn from the chat's defaults; the zero value is
// the chat's turn.
type TurnOptions struct {
	// Tools replaces the chat's tools (a worker's are scoped to its card).
	Tools *tool.Registry
	// System replaces the system prompt.
	System string
	// ApprovalTimeout denies a call nobody answered for this long (a
	// worker's); 0 waits until the turn ends.
	ApprovalTimeout time.Duration
}

// Send is SendWith with the chat's tools and system prompt.
func (a *Agent) Send(ctx context.Context, sessionID int64, text string) (<-chan Event, error) {
	return a.SendWith(ctx, sessionID, text, TurnOptions{})
}

// SendWith saves text as the session's next user message and starts a turn
// that streams the reply. The returned channel carries the turn's events and ends
// with exactly one Done, Interrupted or Failed, after which it is closed.
// ctx bounds only the saving of the user message; stop a turn with
// Interrupt. It fails with ErrBusy if the session already streams, and with
// the store's error if the session does not exist or saving fails (then no
// turn starts).
func (a *Agent) SendWith(ctx context.Context, sessionID int64, text string, o TurnOptions) (<-chan Event, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("agent: send: empty message")
	}
	if _, _, err := a.ResolveModel(ctx); err != nil {
		return nil, fmt.Errorf("agent: send: %w", err)
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, ErrClosed
	}
	if _, busy := a.turns[sessionID]; busy {
		a.mu.Unlock()
		return nil, ErrBusy
	}
	if o.Tools == nil {
		o.Tools = a.tools
	}
	if o.System == "" {
		o.System = systemPrompt
	}
	t := newTurn(sessionID, a.frame, o)
	a.turns[sessionID] = t
	model := a.model
	t.route = a.route
	a.mu.Unlock()

	history, err := a.saveUserMessage(ctx, sessionID, text)
	if err != nil {
		a.mu.Lock()
		delete(a.turns, sessionID)
		a.mu.Unlock()
		return nil, err
	}
	a.rememberRoute(ctx, sessionID, t.route, model)

	a.mu.Lock()
	if a.closed {
		// Close ran while the message was being saved; it did not see this
		// turn's goroutines, so none may start now.
		delete(a.turns, sessionID)
		a.mu.Unlock()
		return nil, ErrClosed
	}
	a.workers.Add(1)
	a.pumps.Add(1)
	a.mu.Unlock()

	go func() {
		defer a.pumps.Done()
		t.c.run(a.abandon)
	}()
	go a.work(t, model, history)
	return t.c.out, nil
}

// saveUserMessage stores the message, titles an untitled session from it,
// and returns the session's history including it.
func (a *Agent) saveUserMessage(ctx context.Context, sessionID int64, text string) ([]store.Message, error) {
	sess, err := a.cfg.State.Session(ctx, sessionID)
	if err != nil {
		return nil, fmt.Errorf("agent: send: session %d: %w", sessionID, err)
	}
	if _, err := a.cfg.State.AddMessage(ctx, store.Message{SessionID: sessionID, Role: store.RoleUser, Content: text, Status: store.MessageComplete}); err != nil {
		return nil, fmt.Errorf("agent: send: save message: %w", err)
	}
	if isUntitled(sess.Title) {
		if err := a.cfg.State.RenameSession(ctx, sessionID, TitleFrom(text)); err != nil {
			a.log.Warn("agent: title session", "session", sessionID, "err", err)
		}
	}
	history, err := a.cfg.State.Messages(ctx, sessionID)
	if err != nil {
		return nil, fmt.Errorf("agent: send: load session %d: %w", sessionID, err)
	}
	return history, nil
}

func isUntitled(title string) bool {
	switch strings.ToLower(strings.TrimSpace(title)) {
	case "", "new session", "untitled", "new chat":
		return true
	}
	return false
}

// TitleFrom makes a session title from a first message: its first line,
// whitespace folded, cut to 48 characters on a word boundary when possible.
func TitleFrom(text string) string {
	line := strings.TrimSpace(text)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	line = strings.Join(strings.Fields(line), " ")
	const max = 48
	if utf8.RuneCountInString(line) <= max {
		if line == "" {
			return "untitled"
		}
		return line
	}
	r := []rune(line)[:max]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > max/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:") + "…"
}

// turnDone removes the turn from the running set.
func (a *Agent) turnDone(t *turn) {
	a.mu.Lock()
	if a.turns[t.session] == t {
		delete(a.turns, t.session)
	}
	a.mu.Unlock()
}
