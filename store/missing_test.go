package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestChangesToWhatIsNotThereSayWhy: each change that names a session, a
// run or a claim that does not exist returns ErrNotFound or ErrNotRunning
// (which the shell and the CLI turn into their own messages); the same
// change to one that exists succeeds, as the control.
func TestChangesToWhatIsNotThereSayWhy(t *testing.T) {
	ctx := context.Background()
	st := openTestState(t)
	b := openTestBoard(t)
	s, err := st.CreateSession(ctx, "here")
	if err != nil {
		t.Fatal(err)
	}
	card, err := b.Create(ctx, ActorMe, NewCard{Title: "job", Assignee: AgentAssignee})
	if err != nil {
		t.Fatal(err)
	}
	run, err := b.Claim(ctx, card.ID, "host", 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	const missing = 999
	for _, c := range []struct {
		name string
		want error
		do   func(id int64) error
	}{
		{"rename session", ErrNotFound, func(id int64) error { return st.RenameSession(ctx, id, "t") }},
		{"set session model", ErrNotFound, func(id int64) error { return st.SetSessionModel(ctx, id, "m") }},
		{"set session route", ErrNotFound, func(id int64) error { return st.SetSessionRoute(ctx, id, "e", "m") }},
		{"add message", ErrNotFound, func(id int64) error {
			_, err := st.AddMessage(ctx, Message{SessionID: id, Role: RoleUser, Content: "hi", Status: MessageComplete})
			return err
		}},
		{"delete session", ErrNotFound, func(id int64) error { return st.DeleteSession(ctx, id) }},
	} {
		if err := c.do(missing); !errors.Is(err, c.want) {
			t.Errorf("%s of a missing session = %v, want %v", c.name, err, c.want)
		}
		if err := c.do(s.ID); err != nil {
			t.Errorf("control: %s of session %d = %v", c.name, s.ID, err)
		}
	}
	if _, err := b.RequestStop(ctx, missing); !errors.Is(err, ErrNotRunning) {
		t.Errorf("stop of an unclaimed card = %v, want ErrNotRunning", err)
	}
	if _, err := b.RequestStop(ctx, card.ID); err != nil {
		t.Errorf("control: stop of a claimed card = %v", err)
	}
	if _, err := b.Heartbeat(ctx, missing, time.Minute); !errors.Is(err, ErrNotRunning) {
		t.Errorf("heartbeat of an unknown run = %v, want ErrNotRunning", err)
	}
	if _, err := b.Heartbeat(ctx, run.ID, time.Minute); err != nil {
		t.Errorf("control: heartbeat of run %d = %v", run.ID, err)
	}
}
