package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// A conversation longer than the model's context window is sent without
// its oldest messages; with history = "summarise" a summary of them takes
// their place. Making a summary costs a request, so it is kept in state.db
// as a system message of the session that stands for every earlier message
// up to and including messages.summary_through. Messages returns it like
// any other message, in the order it was written; the agent recognises it
// by its ID (Summaries) and puts it where the messages it covers were.

// Summary is a stored summary of a session's oldest messages.
type Summary struct {
	// MessageID is the system message that holds it.
	MessageID int64
	SessionID int64
	// Through is the last message it covers: it stands for every message
	// of the session whose ID is at most Through.
	Through int64
	Text    string
	// PromptTokens and CompletionTokens are what making it cost, as the
	// server reported it (0 when it did not).
	PromptTokens     int64
	CompletionTokens int64
}

// AddSummary stores a summary of the session's messages up to and including
// through. Like a rename it is not activity: the session's UpdatedAt stays.
// It fails with ErrNotFound if the session does not exist.
func (s *State) AddSummary(ctx context.Context, sum Summary) (Summary, error) {
	var err error
	switch {
	case strings.TrimSpace(sum.Text) == "":
		err = errors.New("empty text")
	case sum.Through <= 0:
		err = fmt.Errorf("covers no message (through %d)", sum.Through)
	}
	if err != nil {
		return Summary{}, fmt.Errorf("store: add summary to session %d: %w", sum.SessionID, err)
	}
	now := nowMilli()
	err = s.db.write(ctx, func(tx *wtx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM sessions WHERE id = ?`, sum.SessionID).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO messages (session_id, role, content, status, prompt_tokens, completion_tokens,
			summary_through, created_at) VALUES (?, 'system', ?, 'complete', ?, ?, ?, ?)`,
			sum.SessionID, sum.Text, sum.PromptTokens, sum.CompletionTokens, sum.Through, now)
		if err != nil {
			return err
		}
		sum.MessageID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return Summary{}, fmt.Errorf("store: add summary to session %d: %w", sum.SessionID, err)
	}
	return sum, nil
}

// Summaries returns the session's summaries, oldest first; the last is the
// newest. A session that does not exist has none.
func (s *State) Summaries(ctx context.Context, sessionID int64) ([]Summary, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT id, session_id, summary_through, content, prompt_tokens, completion_tokens
		FROM messages WHERE session_id = ? AND role = 'system' AND summary_through > 0 ORDER BY id`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("store: summaries of session %d: %w", sessionID, err)
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var sum Summary
		if err := rows.Scan(&sum.MessageID, &sum.SessionID, &sum.Through, &sum.Text, &sum.PromptTokens, &sum.CompletionTokens); err != nil {
			return nil, fmt.Errorf("store: summaries of session %d: %w", sessionID, err)
		}
		out = append(out, sum)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: summaries of session %d: %w", sessionID, err)
	}
	return out, nil
}
