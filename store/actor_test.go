package store

import (
	"context"
	"errors"
	"testing"
)

// TestUndoIsPerActor: the person adds A, the model adds B; the person's
// undo removes A and leaves B. Undoing "whoever made the latest change"
// (the old behaviour) would remove B: this test fails on it.
func TestUndoIsPerActor(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	a, err := b.Create(ctx, ActorMe, NewCard{Title: "A"})
	if err != nil {
		t.Fatal(err)
	}
	bb, err := b.Create(ctx, ActorAgent, NewCard{Title: "B"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := b.Undo(ctx, ActorMe)
	if err != nil || ev.CardID != a.ID || ev.Kind != EventCreated {
		t.Fatalf("Undo(me) = %+v, %v; want the creation of A", ev, err)
	}
	if _, err := b.Get(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("A is still there: %v", err)
	}
	if _, err := b.Get(ctx, bb.ID); err != nil {
		t.Errorf("the person's undo removed the model's card B: %v", err)
	}
	if _, err := b.Undo(ctx, ActorMe); !errors.Is(err, ErrNothingToUndo) {
		t.Errorf("second Undo(me) = %v, want ErrNothingToUndo", err)
	}
	if ev, err := b.Undo(ctx, ActorAgent); err != nil || ev.CardID != bb.ID {
		t.Errorf("Undo(agent) = %+v, %v; want B's creation", ev, err)
	}
}

// TestUndoRefusesToLoseALaterChange: the person creates a card, the model
// moves it; the person's undo of the creation would delete the model's
// move with it, so it is refused and names the model's change. Undoing the
// model's move from the card's history (UndoEvent) clears the way.
func TestUndoRefusesToLoseALaterChange(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	c, err := b.Create(ctx, ActorMe, NewCard{Title: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Move(ctx, ActorAgent, c.ID, Review, -1); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, b)
	_, err = b.Undo(ctx, ActorMe)
	var ce *UndoConflictError
	if !errors.As(err, &ce) || ce.Later.Actor != ActorAgent || ce.Later.Kind != EventMoved {
		t.Fatalf("Undo(me) = %v, want an UndoConflictError naming the agent's move", err)
	}
	if got := snapshot(t, b); len(got) != len(before) || got[0] != before[0] {
		t.Fatalf("a refused undo changed the board: %+v", got)
	}
	evs, err := b.Events(ctx, c.ID)
	if err != nil || len(evs) != 2 {
		t.Fatalf("Events = %+v, %v", evs, err)
	}
	moved, err := b.UndoEvent(ctx, evs[1].ID)
	if err != nil || moved.Kind != EventMoved || moved.Actor != ActorAgent {
		t.Fatalf("UndoEvent(agent's move) = %+v, %v", moved, err)
	}
	if got, _ := b.Get(ctx, c.ID); got.Status != Todo {
		t.Fatalf("after undoing the move the card is in %s", got.Status)
	}
	if _, err := b.UndoEvent(ctx, evs[1].ID); !errors.Is(err, ErrNothingToUndo) {
		t.Errorf("undoing an undone event = %v, want ErrNothingToUndo", err)
	}
	if _, err := b.UndoEvent(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("undoing a missing event = %v, want ErrNotFound", err)
	}
	if _, err := b.Undo(ctx, ActorMe); err != nil {
		t.Fatalf("Undo(me) once the way is clear: %v", err)
	}
}

func TestActors(t *testing.T) {
	for actor, want := range map[string]bool{
		"me": true, "agent": true, "worker:1": true, "worker:42": true,
		"": false, "you": false, "worker:": false, "worker:0": false, "worker:-1": false,
		"worker:01": false, "worker:x": false, "Me": false,
	} {
		if got := ValidActor(actor); got != want {
			t.Errorf("ValidActor(%q) = %v, want %v", actor, got, want)
		}
	}
	if WorkerActor(7) != "worker:7" {
		t.Errorf("WorkerActor(7) = %q", WorkerActor(7))
	}
	b := openTestBoard(t)
	if _, err := b.Create(context.Background(), "someone", NewCard{Title: "x"}); err == nil {
		t.Error("Create accepted an unknown actor")
	}
}
