package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func agentCard(t *testing.T, b *Board, title string, p Priority) Card {
	t.Helper()
	c, err := b.Create(context.Background(), ActorMe, NewCard{Title: title, Assignee: AgentAssignee, Priority: p})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRunnableOrderAndClaim(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	low := agentCard(t, b, "low", PriorityLow)
	high := agentCard(t, b, "high", PriorityHigh)
	mine, _ := b.Create(ctx, ActorMe, NewCard{Title: "mine"})
	run, _ := b.Runnable(ctx, 10)
	if len(run) != 2 || run[0].ID != high.ID || run[1].ID != low.ID {
		t.Fatalf("runnable = %+v", run)
	}
	r, err := b.Claim(ctx, high.ID, "h", 42, time.Minute)
	if err != nil || r.Outcome != RunRunning {
		t.Fatalf("claim = %+v, %v", r, err)
	}
	if c, _ := b.Get(ctx, high.ID); c.Status != Running {
		t.Errorf("claimed card in %s", c.Status)
	}
	if evs, _ := b.Events(ctx, high.ID); evs[len(evs)-1].Actor != WorkerActor(high.ID) {
		t.Errorf("the move to Running is by %q", evs[len(evs)-1].Actor)
	}
	if _, err := b.Claim(ctx, high.ID, "h", 43, time.Minute); !errors.Is(err, ErrNotRunnable) && !errors.Is(err, ErrClaimed) {
		t.Errorf("second claim = %v", err)
	}
	if _, err := b.Claim(ctx, mine.ID, "h", 42, time.Minute); !errors.Is(err, ErrNotRunnable) {
		t.Errorf("claiming a card assigned to me = %v", err)
	}
	if run, _ := b.Runnable(ctx, 10); len(run) != 1 || run[0].ID != low.ID {
		t.Errorf("runnable after the claim = %+v", run)
	}
}

func TestFinishRunMovesAndComments(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	c := agentCard(t, b, "do it", PriorityNormal)
	r, _ := b.Claim(ctx, c.ID, "h", 1, time.Minute)
	done, err := b.FinishRun(ctx, r.ID, RunEnd{Outcome: RunReview, To: Review, Comment: "did it", Tokens: 99})
	if err != nil || done.Outcome != RunReview || done.EndedAt.IsZero() {
		t.Fatalf("finish = %+v, %v", done, err)
	}
	if got, _ := b.Get(ctx, c.ID); got.Status != Review {
		t.Errorf("card in %s", got.Status)
	}
	evs, _ := b.Events(ctx, c.ID)
	if last := evs[len(evs)-1]; last.Kind != EventCommented || last.Text != "did it" || last.Actor != WorkerActor(c.ID) {
		t.Errorf("last event %+v", last)
	}
	if cl, _ := b.Claims(ctx); len(cl) != 0 {
		t.Errorf("claims left %+v", cl)
	}
	if _, err := b.FinishRun(ctx, r.ID, RunEnd{Outcome: RunBlocked, To: Blocked}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("finishing twice = %v", err)
	}
	runs, _ := b.Runs(ctx, c.ID)
	if len(runs) != 1 || runs[0].Tokens != 99 {
		t.Errorf("runs %+v", runs)
	}
}

func TestHeartbeatStopAndRecover(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	c := agentCard(t, b, "a", PriorityNormal)
	d := agentCard(t, b, "b", PriorityNormal)
	rc, _ := b.Claim(ctx, c.ID, "here", 100, time.Minute)
	rd, _ := b.Claim(ctx, d.ID, "elsewhere", 200, time.Millisecond)
	if stop, err := b.Heartbeat(ctx, rc.ID, time.Minute); err != nil || stop != StopNone {
		t.Fatalf("heartbeat = %q, %v", stop, err)
	}
	if _, err := b.RequestStop(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if stop, _ := b.Heartbeat(ctx, rc.ID, time.Minute); stop != StopRequested {
		t.Errorf("the stop request is not seen by the heartbeat: %q", stop)
	}
	time.Sleep(5 * time.Millisecond) // d's claim expires
	// pid 100 on "here" is dead; d's claim on another host has expired.
	got, err := b.Recover(ctx, "here", func(pid int) bool { return pid != 100 })
	if err != nil || len(got) != 2 {
		t.Fatalf("recover = %+v, %v", got, err)
	}
	for _, id := range []int64{c.ID, d.ID} {
		card, _ := b.Get(ctx, id)
		runs, _ := b.Runs(ctx, id)
		if card.Status != Todo || len(runs) != 1 || runs[0].Outcome != RunCrashed {
			t.Errorf("card %d: %s, runs %+v", id, card.Status, runs)
		}
	}
	if _, err := b.Heartbeat(ctx, rd.ID, time.Minute); !errors.Is(err, ErrNotRunning) {
		t.Errorf("heartbeat of a recovered run = %v", err)
	}
	// A live claim is left alone: the control.
	e := agentCard(t, b, "c", PriorityNormal)
	b.Claim(ctx, e.ID, "here", 300, time.Minute)
	if got, _ := b.Recover(ctx, "here", func(int) bool { return true }); len(got) != 0 {
		t.Errorf("recover released a live claim: %+v", got)
	}
}

// TestRecoverWithNothingToReleaseWritesNothing: an idle dispatcher's tick
// must not commit (other processes poll data_version and would reload the
// board every second). The control: a release does change it.
func TestRecoverWithNothingToReleaseWritesNothing(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	other, err := OpenBoard(b.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	c := agentCard(t, b, "running", PriorityNormal)
	if _, err := b.Claim(ctx, c.ID, "h", 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	before, _ := other.DataVersion(ctx)
	if got, err := b.Recover(ctx, "h", func(int) bool { return true }); err != nil || len(got) != 0 {
		t.Fatalf("recover = %v, %v", got, err)
	}
	if after, _ := other.DataVersion(ctx); after != before {
		t.Error("a recover that released nothing committed a change")
	}
	if got, _ := b.Recover(ctx, "h", func(int) bool { return false }); len(got) != 1 {
		t.Fatalf("the control released %d runs", len(got))
	}
	if after, _ := other.DataVersion(ctx); after == before {
		t.Error("the control: a release did not change data_version")
	}
}

// TestHeartbeatSaysWhenTheCardIsNoLongerTheAgents: a running card given
// back to the person, deleted, archived or moved out of Running tells its
// worker to stop on its next heartbeat, whoever changed it. The controls:
// an untouched card, a title edit and a reorder within Running say go on.
func TestHeartbeatSaysWhenTheCardIsNoLongerTheAgents(t *testing.T) {
	me := Me
	title := "renamed"
	cases := []struct {
		name   string
		change func(ctx context.Context, b *Board, id int64) error
		want   StopCause
	}{
		{"untouched", func(context.Context, *Board, int64) error { return nil }, StopNone},
		{"title edited", func(ctx context.Context, b *Board, id int64) error {
			_, err := b.Edit(ctx, ActorMe, id, CardPatch{Title: &title})
			return err
		}, StopNone},
		{"reordered in Running", func(ctx context.Context, b *Board, id int64) error {
			_, err := b.Move(ctx, ActorMe, id, Running, 0)
			return err
		}, StopNone},
		{"given back", func(ctx context.Context, b *Board, id int64) error {
			_, err := b.Edit(ctx, ActorMe, id, CardPatch{Assignee: &me})
			return err
		}, StopGivenBack},
		{"deleted", func(ctx context.Context, b *Board, id int64) error { return b.Delete(ctx, ActorMe, id) }, StopDeleted},
		{"archived", func(ctx context.Context, b *Board, id int64) error {
			_, err := b.Move(ctx, ActorAgent, id, Archived, -1)
			return err
		}, StopArchived},
		{"moved to Done", func(ctx context.Context, b *Board, id int64) error {
			_, err := b.Move(ctx, ActorMe, id, Done, -1)
			return err
		}, StopMoved},
		{"stop requested", func(ctx context.Context, b *Board, id int64) error {
			_, err := b.RequestStop(ctx, id)
			return err
		}, StopRequested},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			b := openTestBoard(t)
			agentCard(t, b, "another running card", PriorityNormal) // a reorder has something to pass
			other, _ := b.Claim(ctx, 1, "h", 1, time.Minute)
			c := agentCard(t, b, "work", PriorityNormal)
			r, err := b.Claim(ctx, c.ID, "h", 1, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.change(ctx, b, c.ID); err != nil {
				t.Fatal(err)
			}
			if got, err := b.Heartbeat(ctx, r.ID, time.Minute); err != nil || got != tc.want {
				t.Errorf("heartbeat = %q, %v; want %q", got, err, tc.want)
			}
			// The other card's worker is not concerned.
			if got, err := b.Heartbeat(ctx, other.ID, time.Minute); err != nil || got != StopNone {
				t.Errorf("the other card's heartbeat = %q, %v", got, err)
			}
		})
	}
}

// TestFinishRunLeavesAGivenBackCardWhereItIs: the worker of a card the
// person took back ends with a result anyway (it finished before its
// heartbeat saw the change): the card stays in Running, the person's, with
// the worker's comment; it is not moved to Review under them. The control:
// a card still the agent's moves.
func TestFinishRunLeavesAGivenBackCardWhereItIs(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	mine := agentCard(t, b, "taken back", PriorityNormal)
	theirs := agentCard(t, b, "still the agent's", PriorityNormal)
	rm, _ := b.Claim(ctx, mine.ID, "h", 1, time.Minute)
	rt, _ := b.Claim(ctx, theirs.ID, "h", 1, time.Minute)
	me := Me
	if _, err := b.Edit(ctx, ActorMe, mine.ID, CardPatch{Assignee: &me}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Run{rm, rt} {
		if _, err := b.FinishRun(ctx, r.ID, RunEnd{Outcome: RunReview, To: Review, Comment: "done: it"}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := b.Get(ctx, mine.ID); got.Status != Running || got.Assignee != Me {
		t.Errorf("the given-back card is in %s, %s", got.Status, got.Assignee)
	}
	if evs, _ := b.Events(ctx, mine.ID); evs[len(evs)-1].Text != "done: it" {
		t.Errorf("the worker's comment is missing: %+v", evs[len(evs)-1])
	}
	if got, _ := b.Get(ctx, theirs.ID); got.Status != Review {
		t.Errorf("the control: the agent's card is in %s, want review", got.Status)
	}
}

// TestRunningCardWithoutWorkerIsRunnable: a card in Running for the agent
// with no claim (added there by hand, or a worker's move out of Running
// undone) is runnable, and its claim leaves it in Running without a second
// move. The controls: the same card the person's, and a claimed one, are
// not runnable.
func TestRunningCardWithoutWorkerIsRunnable(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	byHand, err := b.Create(ctx, ActorMe, NewCard{Title: "by hand", Status: Running, Assignee: AgentAssignee, Priority: PriorityNormal})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(ctx, ActorMe, NewCard{Title: "mine", Status: Running, Assignee: Me}); err != nil {
		t.Fatal(err)
	}
	undone := agentCard(t, b, "undone", PriorityNormal)
	r, _ := b.Claim(ctx, undone.ID, "h", 1, time.Minute)
	if _, err := b.FinishRun(ctx, r.ID, RunEnd{Outcome: RunReview, To: Review}); err != nil {
		t.Fatal(err)
	}
	evs, _ := b.Events(ctx, undone.ID)
	move := evs[len(evs)-1]
	if move.Kind != EventMoved || move.Text != "running → review" {
		t.Fatalf("last event %+v", move)
	}
	if _, err := b.UndoEvent(ctx, move.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := b.Runnable(ctx, 10)
	if len(got) != 2 || got[0].ID != byHand.ID || got[1].ID != undone.ID {
		t.Fatalf("runnable = %v", titlesOf(got))
	}
	run, err := b.Claim(ctx, byHand.ID, "h", 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := b.Get(ctx, byHand.ID); c.Status != Running {
		t.Errorf("claimed card in %s", c.Status)
	}
	if evs, _ := b.Events(ctx, byHand.ID); len(evs) != 1 {
		t.Errorf("the claim wrote a move: %+v", evs)
	}
	if got, _ := b.Runnable(ctx, 10); len(got) != 1 || got[0].ID != undone.ID {
		t.Errorf("runnable after the claim = %v", titlesOf(got))
	}
	if _, err := b.FinishRun(ctx, run.ID, RunEnd{Outcome: RunReview, To: Review}); err != nil {
		t.Fatal(err)
	}
	if c, _ := b.Get(ctx, byHand.ID); c.Status != Review {
		t.Errorf("finished card in %s", c.Status)
	}
}

func titlesOf(cs []Card) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Title)
	}
	return out
}
