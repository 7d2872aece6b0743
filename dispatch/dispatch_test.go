package dispatch

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// guard turns a hang into a failure; it is not a speed assertion.
const guard = 30 * time.Second

// syncBuffer is a log the agent and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// world is a board, a state.db and the real agent on the offline demo
// model (whose worker answers with card_comment then card_done).
type world struct {
	t     *testing.T
	board *store.Board
	state *store.State
	agent *agent.Agent
	log   *syncBuffer
}

// worldOption changes how newWorld builds the agent.
type worldOption func(*agent.Config)

// withTokenDelay paces the demo model's chunks.
func withTokenDelay(d time.Duration) worldOption {
	return func(c *agent.Config) { c.OfflineTokenDelay = d }
}

func newWorld(t *testing.T, baseURL string, opts ...worldOption) *world {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.OpenBoard(filepath.Join(dir, "kanban.db"))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, board: b, state: st, log: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(w.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := agent.Config{BaseURL: baseURL, State: st, Board: b, Logger: logger, OfflineTokenDelay: time.Millisecond, MaxRetries: 1}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.agent = a
	t.Cleanup(func() { a.Close(); b.Close(); st.Close() })
	return w
}

func (w *world) card(title, body string) store.Card {
	w.t.Helper()
	c, err := w.board.Create(context.Background(), store.ActorMe, store.NewCard{Title: title, Body: body, Assignee: store.AgentAssignee, Priority: store.PriorityNormal})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// dispatcher starts a dispatcher over the world; the returned stop ends it
// and waits for Run to return.
func (w *world) dispatcher(mod func(*Config)) (*Dispatcher, func()) {
	cfg := Config{Board: w.board, Agent: w.agent, Sessions: w.state, Tick: 20 * time.Millisecond, HeartbeatEvery: 20 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	d := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(guard):
			w.t.Fatal("Run did not return")
		}
	}
	w.t.Cleanup(stop)
	return d, stop
}

// waitStatus waits until card id is in st.
func (w *world) waitStatus(id int64, st store.Status) store.Card {
	w.t.Helper()
	deadline := time.Now().Add(guard)
	for {
		c, err := w.board.Get(context.Background(), id)
		if err == nil && c.Status == st {
			return c
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("card %d is in %s, want %s", id, c.Status, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (w *world) runs(id int64) []store.Run {
	w.t.Helper()
	runs, err := w.board.Runs(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return runs
}

func (w *world) comments(id int64) []store.Event {
	evs, _ := w.board.Events(context.Background(), id)
	var out []store.Event
	for _, e := range evs {
		if e.Kind == store.EventCommented {
			out = append(out, e)
		}
	}
	return out
}

// TestWorkerTakesACardToReview: a card assigned to the agent is claimed,
// goes Running, is worked by the demo model's worker (a progress comment,
// then card_done), and lands in Review with the summary, one run recorded
// review, in a worker session of its own.
func TestWorkerTakesACardToReview(t *testing.T) {
	w := newWorld(t, "")
	c := w.card("Summarise the README", "Read it and write three lines.")
	w.dispatcher(nil)
	w.waitStatus(c.ID, store.Review)
	runs := w.runs(c.ID)
	if len(runs) != 1 || runs[0].Outcome != store.RunReview || runs[0].SessionID == 0 {
		t.Fatalf("runs %+v", runs)
	}
	cs := w.comments(c.ID)
	if len(cs) < 2 || cs[0].Actor != store.WorkerActor(c.ID) || !strings.HasPrefix(cs[len(cs)-1].Text, "done: ") {
		t.Fatalf("comments %+v", cs)
	}
	s, err := w.state.Session(context.Background(), runs[0].SessionID)
	if err != nil || s.Kind != store.SessionWorker || s.CardID != c.ID {
		t.Errorf("session %+v, %v", s, err)
	}
	evs, _ := w.board.Events(context.Background(), c.ID)
	var moves []string
	for _, e := range evs {
		if e.Kind == store.EventMoved {
			moves = append(moves, e.Text+" by "+e.Actor)
		}
	}
	if got := strings.Join(moves, "; "); got != "todo → running by worker:1; running → review by worker:1" {
		t.Errorf("moves: %s", got)
	}
}

func TestWorkerBlocksACardThatSaysSo(t *testing.T) {
	w := newWorld(t, "")
	c := w.card("Deploy", "This is blocked until the keys arrive.")
	w.dispatcher(nil)
	w.waitStatus(c.ID, store.Blocked)
	if runs := w.runs(c.ID); len(runs) != 1 || runs[0].Outcome != store.RunBlocked {
		t.Fatalf("runs %+v", runs)
	}
	if cs := w.comments(c.ID); !strings.HasPrefix(cs[len(cs)-1].Text, "blocked: ") {
		t.Errorf("comments %+v", cs)
	}
}

// TestStopFromTheBoard: Stop (x on a running card) interrupts the worker
// through the agent's stranger abort (the log says deferred_close=
// stranger_thread), keeps the partial transcript, and leaves the card
// Blocked "stopped by you" with the run recorded stopped.
func TestStopFromTheBoard(t *testing.T) {
	w := newWorld(t, "")
	c := w.card("A long job", "")
	d, _ := w.dispatcher(nil)
	w.waitStatus(c.ID, store.Running)
	deadline := time.Now().Add(guard)
	for {
		ws := d.Snapshot()
		if len(ws) == 1 && ws[0].SessionID != 0 && ws[0].LastLine != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker never streamed")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if !d.Stop(c.ID) {
		t.Fatal("Stop found no worker")
	}
	w.waitStatus(c.ID, store.Blocked)
	runs := w.runs(c.ID)
	if len(runs) != 1 || runs[0].Outcome != store.RunStopped {
		t.Fatalf("runs %+v", runs)
	}
	if cs := w.comments(c.ID); cs[len(cs)-1].Text != "stopped by you" {
		t.Errorf("comments %+v", cs)
	}
	if !strings.Contains(w.log.String(), "deferred_close=stranger_thread") {
		t.Errorf("no stranger abort in the log")
	}
	msgs, _ := w.state.Messages(context.Background(), runs[0].SessionID)
	if last := msgs[len(msgs)-1]; last.Status != store.MessageInterrupted && last.Role != store.RoleTool {
		t.Errorf("the partial transcript was not kept: %+v", last)
	}
}

// TestQuitStopsWorkersAndReleasesClaims: ending Run stops every worker the
// same way; their cards go back to To do to run again, claims released.
func TestQuitStopsWorkersAndReleasesClaims(t *testing.T) {
	w := newWorld(t, "")
	a, b := w.card("one", ""), w.card("two", "")
	_, stop := w.dispatcher(nil)
	w.waitStatus(a.ID, store.Running)
	w.waitStatus(b.ID, store.Running)
	stop()
	for _, id := range []int64{a.ID, b.ID} {
		if c, _ := w.board.Get(context.Background(), id); c.Status != store.Todo {
			t.Errorf("card %d in %s after quitting", id, c.Status)
		}
		if runs := w.runs(id); len(runs) != 1 || runs[0].Outcome != store.RunStopped {
			t.Errorf("card %d runs %+v", id, runs)
		}
	}
	if cl, _ := w.board.Claims(context.Background()); len(cl) != 0 {
		t.Errorf("claims left: %+v", cl)
	}
}

// TestEndpointDownBlocksTheCardWithoutSpinning: the model cannot be
// reached; after the agent's retries the card goes to Blocked with the
// error, and the dispatcher does not claim it again.
func TestEndpointDownBlocksTheCardWithoutSpinning(t *testing.T) {
	w := newWorld(t, "http://127.0.0.1:1/v1")
	c := w.card("Unreachable", "")
	w.dispatcher(nil)
	w.waitStatus(c.ID, store.Blocked)
	time.Sleep(200 * time.Millisecond) // ten ticks
	runs := w.runs(c.ID)
	if len(runs) != 1 || runs[0].Outcome != store.RunFailed || !strings.Contains(runs[0].Error, "connection refused") {
		t.Fatalf("runs %+v", runs)
	}
}

// TestTwoDispatchersRunEachCardOnce: two dispatchers on one board (two
// connections, as two processes would have) with 20 cards: every card is
// run exactly once.
func TestTwoDispatchersRunEachCardOnce(t *testing.T) {
	w := newWorld(t, "")
	b2, err := store.OpenBoard(w.board.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	var cards []store.Card
	for i := range 20 {
		cards = append(cards, w.card("card "+string(rune('a'+i)), ""))
	}
	w.dispatcher(func(c *Config) { c.MaxWorkers = 3; c.PID = 1000001; c.Alive = func(int) bool { return true } })
	w.dispatcher(func(c *Config) {
		c.Board = b2
		c.MaxWorkers = 3
		c.PID = 1000002
		c.Alive = func(int) bool { return true }
	})
	for _, c := range cards {
		w.waitStatus(c.ID, store.Review)
	}
	for _, c := range cards {
		if runs := w.runs(c.ID); len(runs) != 1 {
			t.Errorf("card %d ran %d times", c.ID, len(runs))
		}
	}
}

// TestCrashedClaimIsRecoveredAndRunAgain: a claim left by a process that
// died (same host, a pid that is not running) is released on start, its
// run recorded crashed, and the card runs again.
func TestCrashedClaimIsRecoveredAndRunAgain(t *testing.T) {
	w := newWorld(t, "")
	c := w.card("survive a crash", "")
	host := "test-host"
	if _, err := w.board.Claim(context.Background(), c.ID, host, 999999, time.Hour); err != nil {
		t.Fatal(err)
	}
	w.dispatcher(func(cfg *Config) { cfg.Host = host })
	w.waitStatus(c.ID, store.Review)
	runs := w.runs(c.ID)
	if len(runs) != 2 || runs[0].Outcome != store.RunCrashed || runs[1].Outcome != store.RunReview {
		t.Fatalf("runs %+v", runs)
	}
}

// TestPausedDispatcherClaimsNothing, until resumed.
func TestPausedDispatcherClaimsNothing(t *testing.T) {
	w := newWorld(t, "")
	c := w.card("wait for me", "")
	d, _ := w.dispatcher(func(cfg *Config) { cfg.Paused = true })
	time.Sleep(100 * time.Millisecond)
	if got, _ := w.board.Get(context.Background(), c.ID); got.Status != store.Todo || !d.Paused() {
		t.Fatalf("paused dispatcher moved the card to %s", got.Status)
	}
	d.SetPaused(false)
	w.waitStatus(c.ID, store.Review)
}

func TestPromptCarriesTheCardAsText(t *testing.T) {
	c := store.Card{ID: 7, Title: "Fix \x1b[31mit", Body: strings.Repeat("x", 70000)}
	p := prompt(c, []store.Event{{Kind: store.EventCommented, Actor: "me", Text: "please"}})
	if !strings.HasPrefix(p, "Card #7: Fix \x1b[31mit\n") {
		t.Errorf("prompt starts %q", p[:30])
	}
	if len(p) > maxPromptBody+200 || !strings.Contains(p, "more bytes of the card were left out") {
		t.Errorf("a huge body is not capped: %d bytes", len(p))
	}
}
