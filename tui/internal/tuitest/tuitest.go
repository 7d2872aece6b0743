// Package tuitest holds what the UI's tests share: a scripted agent whose
// turns a test drives event by event, real stores in a temporary directory,
// and a pump that runs a component's commands the way a Bubble Tea program
// would (each on its own goroutine, results applied in order by the test).
package tuitest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/store"
)

// Agent is a stand-in for the conversation loop: Send hands out a channel
// the test writes the turn's events to (Events). It records every Send and
// Interrupt. The real agent against the offline model is used by the
// tests that need the whole path; this one makes screens deterministic.
type Agent struct {
	mu         sync.Mutex
	model      string
	offline    bool
	SendErr    error
	events     map[int64]chan agent.Event
	last       chan agent.Event
	sent       []string
	interrupts []int64
	window     int     // 0: the demo model's 8,192
	inPrice    float64 // per million tokens; 0 with outPrice 0: not priced
	outPrice   float64

	// The model picker's side: endpoints (the current one by name), each
	// one's models, and how often they were listed.
	endpoints  []agent.EndpointInfo
	current    string
	models     map[string][]string
	listed     int
	running    map[int64]bool
	remembered []int64
	// ListErr, when set, is every ListModels' error.
	ListErr error
}

// NewAgent returns a scripted agent that says it is the offline model, the
// one endpoint it has, which lists that one model.
func NewAgent() *Agent {
	return &Agent{
		model: "spindle-demo", offline: true, events: map[int64]chan agent.Event{},
		endpoints: []agent.EndpointInfo{{Offline: true, Model: "spindle-demo", BaseURL: "https://127.0.0.1:1/v1"}},
		models:    map[string][]string{"": {"spindle-demo"}},
		running:   map[int64]bool{},
	}
}

// SetEndpoints replaces the endpoints (the first is the start-up one, and
// becomes current with its model) and what each lists (by name).
func (a *Agent) SetEndpoints(eps []agent.EndpointInfo, models map[string][]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.endpoints, a.models = eps, models
	a.current, a.model, a.offline = eps[0].Name, eps[0].Model, eps[0].Offline
}

// Endpoints lists the endpoints, the current one marked.
func (a *Agent) Endpoints() []agent.EndpointInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := append([]agent.EndpointInfo(nil), a.endpoints...)
	for i := range out {
		out[i].Current = out[i].Name == a.current
	}
	return out
}

// Endpoint is the current endpoint.
func (a *Agent) Endpoint() agent.EndpointInfo {
	for _, e := range a.Endpoints() {
		if e.Current {
			return e
		}
	}
	return agent.EndpointInfo{}
}

// SetEndpoint switches to the named endpoint and its configured model.
func (a *Agent) SetEndpoint(name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.endpoints {
		if e.Name == name {
			a.current, a.model, a.offline = name, e.Model, e.Offline
			return nil
		}
	}
	return fmt.Errorf("tuitest: set endpoint %q: %w", name, agent.ErrUnknownEndpoint)
}

// ListModels returns the endpoint's scripted models, sorted.
func (a *Agent) ListModels(_ context.Context, endpoint string, _ bool) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.listed++
	if a.ListErr != nil {
		return nil, a.ListErr
	}
	return slices.Sorted(slices.Values(a.models[endpoint])), nil
}

// Listed is how many times ListModels was called.
func (a *Agent) Listed() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.listed
}

// ResolveModel picks the current endpoint's first model when none is set.
func (a *Agent) ResolveModel(context.Context) (string, bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.model != "" {
		return a.model, false, nil
	}
	if ms := a.models[a.current]; len(ms) > 0 {
		a.model = ms[0]
		return a.model, true, nil
	}
	return "", false, errors.New("tuitest: the endpoint lists no model")
}

// SessionRoute returns the session's endpoint and model when it has them
// and the endpoint exists.
func (a *Agent) SessionRoute(s store.Session) (string, string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.endpoints {
		if e.Name == s.Endpoint && s.Model != "" {
			return s.Endpoint, s.Model, true
		}
	}
	return "", "", false
}

// RememberRoute records the call.
func (a *Agent) RememberRoute(_ context.Context, sessionID int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.remembered = append(a.remembered, sessionID)
	return nil
}

// Remembered returns the sessions RememberRoute was called for.
func (a *Agent) Remembered() []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int64(nil), a.remembered...)
}

// Running reports what SetRunning said of the session.
func (a *Agent) Running(sessionID int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.running[sessionID]
}

// SetRunning makes Running report v for the session (a worker's turn).
func (a *Agent) SetRunning(sessionID int64, v bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.running[sessionID] = v
}

// Send starts a turn whose events the test sends with Events.
func (a *Agent) Send(_ context.Context, sessionID int64, text string) (<-chan agent.Event, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.SendErr != nil {
		return nil, a.SendErr
	}
	a.sent = append(a.sent, text)
	ch := make(chan agent.Event, 64)
	a.events[sessionID] = ch
	a.last = ch
	return ch, nil
}

// Events is the channel of the session's latest turn (0: the latest turn
// of any session).
func (a *Agent) Events(sessionID int64) chan agent.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	if sessionID == 0 {
		return a.last
	}
	return a.events[sessionID]
}

// Interrupt records the call.
func (a *Agent) Interrupt(sessionID int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.interrupts = append(a.interrupts, sessionID)
	return true
}

// Interrupts returns the sessions Interrupt was called for, in order.
func (a *Agent) Interrupts() []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int64(nil), a.interrupts...)
}

// Sent returns the texts sent, in order.
func (a *Agent) Sent() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.sent...)
}

// Model returns the model name.
func (a *Agent) Model() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.model
}

// SetModel sets the model name.
func (a *Agent) SetModel(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.model = name
}

// Offline reports whether the agent pretends to be the demo model.
func (a *Agent) Offline() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.offline
}

// SetOffline changes what Offline reports.
func (a *Agent) SetOffline(v bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.offline = v
}

// ContextInfo reports the window SetContext set, else the demo model's
// 8,192 tokens.
func (a *Agent) ContextInfo(string) (int, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.window > 0 {
		return a.window, true
	}
	return 8192, true
}

// Price reports the prices SetContext set; none by default.
func (a *Agent) Price(string) (float64, float64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inPrice, a.outPrice, a.inPrice != 0 || a.outPrice != 0
}

// SetContext sets what ContextInfo and Price report.
func (a *Agent) SetContext(window int, inPrice, outPrice float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.window, a.inPrice, a.outPrice = window, inPrice, outPrice
}

// Models lists one model.
func (a *Agent) Models(context.Context) ([]string, error) { return []string{"spindle-demo"}, nil }

// OpenStores opens a real state.db and kanban.db in a temporary directory.
func OpenStores(t testing.TB) (*store.State, *store.Board) {
	t.Helper()
	// Not t.TempDir: a command still running when the test ends (the pump
	// leaves blocked ones behind) may open the database as it is closed,
	// and SQLite then writes its -wal beside it while t.TempDir's removal
	// runs, which fails the test. The directory goes after the stores are
	// closed, with a few tries.
	dir, err := os.MkdirTemp("", "spindle-tui-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 10 {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("remove %s: %v", dir, err)
	})
	st, err := store.OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := store.OpenBoard(filepath.Join(dir, "kanban.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return st, b
}

// Pump runs commands as a program would: every command of a batch on its
// own goroutine, each result queued for the test to apply in order with
// Next or Until. Commands still blocked when the test ends (a wait on a
// channel nobody writes) are left behind.
type Pump struct {
	t    testing.TB
	msgs chan tea.Msg
}

// NewPump returns an empty pump.
func NewPump(t testing.TB) *Pump { return &Pump{t: t, msgs: make(chan tea.Msg, 1024)} }

// Run starts cmd (flattening batches).
func (p *Pump) Run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				p.Run(c)
			}
			return
		}
		if msg != nil {
			p.msgs <- msg
		}
	}()
}

// Next returns the next result, failing the test after 10 s.
func (p *Pump) Next() tea.Msg {
	p.t.Helper()
	select {
	case msg := <-p.msgs:
		return msg
	case <-time.After(10 * time.Second):
		p.t.Fatal("no message from the running commands")
		return nil
	}
}

// Pending returns the results already queued, without waiting.
func (p *Pump) Pending() []tea.Msg {
	var out []tea.Msg
	for {
		select {
		case msg := <-p.msgs:
			out = append(out, msg)
		default:
			return out
		}
	}
}
