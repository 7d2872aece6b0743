package dispatch

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/store"
)

// pacedWorld is a world whose demo model streams slowly enough (chunks
// tokenDelay apart) that a worker is still streaming when the test changes
// its card.
func pacedWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, "", withTokenDelay(30*time.Millisecond))
	return w
}

// waitStreaming waits until card id's worker has shown a line of output.
func waitStreaming(t *testing.T, d *Dispatcher, id int64) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		for _, wk := range d.Snapshot() {
			if wk.CardID == id && wk.SessionID != 0 && wk.LastLine != "" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("card %d's worker never streamed", id)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitRunEnded waits until card id's only run has an outcome.
func (w *world) waitRunEnded(id int64) store.Run {
	w.t.Helper()
	deadline := time.Now().Add(guard)
	for {
		runs := w.runs(id)
		if len(runs) == 1 && runs[0].Outcome != store.RunRunning {
			return runs[0]
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("card %d's run never ended: %+v", id, runs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWorkerStopsWhenItsCardIsNoLongerTheAgents: a running card given back
// to the person (a on the board, kanban edit --assignee me), deleted,
// archived or moved out of Running, from this process or any other, stops
// its worker on the next heartbeat through the same abort as x: the run
// ends stopped, the comment says why, and the card stays where the person
// put it (it is not moved to Review under them).
func TestWorkerStopsWhenItsCardIsNoLongerTheAgents(t *testing.T) {
	me := store.Me
	cases := []struct {
		name    string
		change  func(ctx context.Context, b *store.Board, id int64) error
		status  store.Status // "" = deleted
		comment string
	}{
		{"given back", func(ctx context.Context, b *store.Board, id int64) error {
			_, err := b.Edit(ctx, store.ActorMe, id, store.CardPatch{Assignee: &me})
			return err
		}, store.Running, "stopped: the card was given back to you"},
		{"deleted", func(ctx context.Context, b *store.Board, id int64) error {
			return b.Delete(ctx, store.ActorMe, id)
		}, "", ""},
		{"archived", func(ctx context.Context, b *store.Board, id int64) error {
			_, err := b.Move(ctx, store.ActorMe, id, store.Archived, -1)
			return err
		}, store.Archived, "stopped: the card was archived"},
		{"moved to Done", func(ctx context.Context, b *store.Board, id int64) error {
			_, err := b.Move(ctx, store.ActorMe, id, store.Done, -1)
			return err
		}, store.Done, "stopped: the card was moved out of Running"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := pacedWorld(t)
			c := w.card("A long job", "")
			d, _ := w.dispatcher(nil)
			w.waitStatus(c.ID, store.Running)
			waitStreaming(t, d, c.ID)
			// The change comes from another connection, as from the
			// command line or another spindle.
			other, err := store.OpenBoard(w.board.Path())
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if err := tc.change(context.Background(), other, c.ID); err != nil {
				t.Fatal(err)
			}
			run := w.waitRunEnded(c.ID)
			if run.Outcome != store.RunStopped {
				t.Fatalf("run ended %s, want stopped", run.Outcome)
			}
			if !strings.Contains(w.log.String(), "deferred_close=stranger_thread") {
				t.Errorf("the worker was not stopped through the stranger abort")
			}
			got, err := w.board.Get(context.Background(), c.ID)
			switch {
			case tc.status == "" && err == nil:
				t.Errorf("the deleted card is back, in %s", got.Status)
			case tc.status != "" && got.Status != tc.status:
				t.Errorf("card in %s, want %s", got.Status, tc.status)
			}
			if tc.comment != "" {
				if cs := w.comments(c.ID); len(cs) == 0 || cs[len(cs)-1].Text != tc.comment {
					t.Errorf("comments %+v, want the last %q", cs, tc.comment)
				}
			}
		})
	}
}

// oldHeartbeat is the board as the heartbeat saw it before a card's state
// could stop its worker: only a stop request counts. It counts the
// heartbeats that found the card given back.
type oldHeartbeat struct {
	*store.Board
	ignored atomic.Int64
}

func (b *oldHeartbeat) Heartbeat(ctx context.Context, runID int64, ttl time.Duration) (store.StopCause, error) {
	cause, err := b.Board.Heartbeat(ctx, runID, ttl)
	if err != nil || cause == store.StopRequested {
		return cause, err
	}
	if cause != store.StopNone {
		b.ignored.Add(1)
	}
	return store.StopNone, nil
}

// TestWorkerStopsWhenGivenBackControl is the negative control of
// TestWorkerStopsWhenItsCardIsNoLongerTheAgents: with a heartbeat that
// reports only stop requests (the old behaviour), a card given back keeps
// its worker running through many heartbeats, which is what that test
// would see as a failure.
func TestWorkerStopsWhenGivenBackControl(t *testing.T) {
	w := pacedWorld(t)
	c := w.card("A long job", "")
	old := &oldHeartbeat{Board: w.board}
	d, _ := w.dispatcher(func(cfg *Config) { cfg.Board = old })
	w.waitStatus(c.ID, store.Running)
	waitStreaming(t, d, c.ID)
	me := store.Me
	if _, err := w.board.Edit(context.Background(), store.ActorMe, c.ID, store.CardPatch{Assignee: &me}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(guard)
	for old.ignored.Load() < 5 {
		if time.Now().After(deadline) {
			t.Fatal("the heartbeat never saw the card given back")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ws := d.Snapshot()
	if len(ws) != 1 || ws[0].CardID != c.ID || ws[0].Stopping {
		t.Fatalf("the control: the worker was stopped without the fix: %+v", ws)
	}
	if runs := w.runs(c.ID); runs[0].Outcome != store.RunRunning {
		t.Fatalf("the control: run ended %s", runs[0].Outcome)
	}
	d.Stop(c.ID) // end it now rather than at the end of its stream
	w.waitRunEnded(c.ID)
}

// TestRunningCardWithoutWorkerRuns: a card in Running for the agent with
// no worker (added there by hand, or a worker's move to Review undone) is
// picked up by the dispatcher, and Idle (spindle work --until-idle) does
// not call the board idle while it waits.
func TestRunningCardWithoutWorkerRuns(t *testing.T) {
	w := newWorld(t, "")
	c, err := w.board.Create(context.Background(), store.ActorMe, store.NewCard{
		Title: "left in Running", Status: store.Running, Assignee: store.AgentAssignee, Priority: store.PriorityNormal})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := w.dispatcher(func(cfg *Config) { cfg.Paused = true })
	if idle, err := d.Idle(context.Background()); err != nil || idle {
		t.Fatalf("Idle = %v, %v with a Running card that no worker runs", idle, err)
	}
	d.SetPaused(false)
	w.waitStatus(c.ID, store.Review)
	if runs := w.runs(c.ID); len(runs) != 1 || runs[0].Outcome != store.RunReview {
		t.Fatalf("runs %+v", runs)
	}
	if idle, err := d.Idle(context.Background()); err != nil || !idle {
		t.Errorf("the control: Idle = %v, %v once the card ran", idle, err)
	}
}
