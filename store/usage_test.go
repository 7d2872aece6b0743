package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// A summary is kept across a reopen, comes back from Summaries, shows in
// Messages as the system message it is, and is not activity.
func TestSummaryRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	se, err := s.CreateSession(ctx, "long")
	if err != nil {
		t.Fatal(err)
	}
	var last Message
	for _, text := range []string{"one", "two", "three"} {
		if last, err = s.AddMessage(ctx, Message{SessionID: se.ID, Role: RoleUser, Content: text}); err != nil {
			t.Fatal(err)
		}
	}
	before, err := s.Session(ctx, se.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.AddSummary(ctx, Summary{SessionID: se.ID, Through: last.ID, Text: "they counted to three", PromptTokens: 40, CompletionTokens: 6})
	if err != nil {
		t.Fatal(err)
	}
	if got.MessageID <= last.ID {
		t.Fatalf("summary message id %d, want one after %d", got.MessageID, last.ID)
	}
	s.Close()

	s, err = OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sums, err := s.Summaries(ctx, se.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 1 || sums[0] != got {
		t.Fatalf("Summaries = %+v, want [%+v]", sums, got)
	}
	msgs, err := s.Messages(ctx, se.ID)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[len(msgs)-1]
	if m.ID != got.MessageID || m.Role != RoleSystem || m.Content != got.Text || m.PromptTokens != 40 || m.CompletionTokens != 6 {
		t.Errorf("the summary in Messages = %+v", m)
	}
	after, err := s.Session(ctx, se.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("AddSummary moved the session's UpdatedAt from %v to %v", before.UpdatedAt, after.UpdatedAt)
	}

	// An ordinary system message is not a summary.
	if _, err := s.AddMessage(ctx, Message{SessionID: se.ID, Role: RoleSystem, Content: "be brief"}); err != nil {
		t.Fatal(err)
	}
	if sums, err := s.Summaries(ctx, se.ID); err != nil || len(sums) != 1 {
		t.Errorf("Summaries after a plain system message = %d, %v; want 1", len(sums), err)
	}
}

func TestAddSummaryRefuses(t *testing.T) {
	ctx := context.Background()
	s, err := OpenState(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	se, err := s.CreateSession(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddSummary(ctx, Summary{SessionID: se.ID + 1, Through: 1, Text: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("a missing session: %v, want ErrNotFound", err)
	}
	if _, err := s.AddSummary(ctx, Summary{SessionID: se.ID, Through: 1, Text: "  "}); err == nil {
		t.Error("an empty summary was stored")
	}
	if _, err := s.AddSummary(ctx, Summary{SessionID: se.ID, Through: 0, Text: "x"}); err == nil {
		t.Error("a summary of no message was stored")
	}
	if sums, _ := s.Summaries(ctx, se.ID); len(sums) != 0 {
		t.Errorf("refused summaries were stored: %+v", sums)
	}
}
