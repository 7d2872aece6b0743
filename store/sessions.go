package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The session browser's queries. It must open at once over thousands of
// sessions and filter as the person types, so a page reads only its own
// rows (LIMIT/OFFSET over the sessions_by_update or sessions_by_kind
// index), message counts are computed for those rows alone, and the total
// is a separate call the browser makes after the page is on screen.
// Message text is found through messages_fts, a trigram index (migration
// 3), never by reading messages.

// MinSearchRunes is the shortest text SessionPage looks for in messages: a
// trigram index cannot find fewer than three characters. Shorter text is
// looked for in titles only.
const MinSearchRunes = 3

// DefaultSessionPage and MaxSessionPage bound SessionQuery.Limit.
const (
	DefaultSessionPage = 50
	MaxSessionPage     = 1000
)

// SessionQuery selects sessions for SessionPage and SessionCount.
type SessionQuery struct {
	// Text, when not blank, keeps the sessions whose title holds it or
	// one of whose user or assistant messages holds it (from
	// MinSearchRunes characters), ignoring case. Tool results are not
	// searched.
	Text string
	// Kinds keeps the sessions of these kinds; nil or empty keeps all.
	Kinds []SessionKind
	// Offset skips that many sessions of the order; Limit is the page's
	// size (0 = DefaultSessionPage, at most MaxSessionPage).
	Offset int
	Limit  int
}

// SessionSummary is one row of the session browser.
type SessionSummary struct {
	Session
	// Messages is how many messages the session holds.
	Messages int
	// LastActivity is when its last message was saved (its creation when
	// it has none).
	LastActivity time.Time
	// MatchID is the newest message that holds SessionQuery.Text, and
	// Match a stretch of its text around the first place it does (at most
	// a few hundred characters, with "…" where it was cut; raw: sanitize
	// before drawing). Both are zero when there was no text or only the
	// title matched.
	MatchID int64
	Match   string
}

// matchContext is how many characters of a matching message before the
// match SessionPage returns; matchLen is how many in all.
const (
	matchContext = 24
	matchLen     = 240
)

// The filter runs in two steps inside one read transaction. With text of
// MinSearchRunes or more, the trigram index gives the sessions whose
// messages hold it (one pass over its posting lists, reading no message).
// Then the sessions are walked in order (newest first, over the index of
// their kind) and kept when their title holds the text or the first step
// found them, until the page is full: a broad search stops after a page's
// worth of sessions, a narrow one walks them all, which is the same cost as
// a count. SQLite's planner, given this as one statement, joined the
// sessions to the hits without an index (two seconds for "the" over 10,000
// sessions), hence the walk in Go.

// kindClause is " WHERE kind IN (...)" for q's kinds ("" for all) and its
// arguments.
func (q SessionQuery) kindClause() (string, []any, error) {
	if len(q.Kinds) == 0 {
		return "", nil, nil
	}
	args := make([]any, len(q.Kinds))
	for i, k := range q.Kinds {
		if !k.valid() {
			return "", nil, fmt.Errorf("unknown kind %q", k)
		}
		args[i] = string(k)
	}
	return " WHERE kind IN (" + marks(len(args)) + ")", args, nil
}

// escapeLike makes s a literal inside a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ftsPhrase makes s one FTS5 phrase: with the trigram tokenizer, a
// substring.
func ftsPhrase(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// pageRow is a session selected for a page, with its newest matching
// message (0 for none).
type pageRow struct{ id, matchID int64 }

// selectSessions returns the sessions of q from skip, at most take of them
// (take < 0: all), and how many sessions q selects in all when count is
// set (else -1).
func selectSessions(ctx context.Context, tx *sql.Tx, q SessionQuery, skip, take int, count bool) ([]pageRow, int, error) {
	kinds, args, err := q.kindClause()
	if err != nil {
		return nil, 0, err
	}
	text := strings.TrimSpace(q.Text)
	if text == "" {
		if count {
			var n int
			err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sessions`+kinds, args...).Scan(&n)
			return nil, n, err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM sessions`+kinds+` ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?`, append(args, take, skip)...)
		if err != nil {
			return nil, 0, err
		}
		defer rows.Close()
		var page []pageRow
		for rows.Next() {
			var r pageRow
			if err := rows.Scan(&r.id); err != nil {
				return nil, 0, err
			}
			page = append(page, r)
		}
		return page, -1, rows.Err()
	}

	var hits map[int64]int64 // session → newest matching message
	if utf8.RuneCountInString(text) >= MinSearchRunes {
		hits = map[int64]int64{}
		rows, err := tx.QueryContext(ctx, `SELECT rowid, session_id FROM messages_fts WHERE messages_fts MATCH ?`, ftsPhrase(text))
		if err != nil {
			return nil, 0, err
		}
		defer rows.Close()
		for rows.Next() {
			var msg, sess int64
			if err := rows.Scan(&msg, &sess); err != nil {
				return nil, 0, err
			}
			hits[sess] = max(hits[sess], msg)
		}
		if err := rows.Err(); err != nil {
			return nil, 0, err
		}
		rows.Close()
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, title LIKE ? ESCAPE '\' FROM sessions`+kinds+` ORDER BY updated_at DESC, id DESC`,
		append([]any{"%" + escapeLike(text) + "%"}, args...)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var page []pageRow
	n := 0
	for rows.Next() {
		var id int64
		var inTitle bool
		if err := rows.Scan(&id, &inTitle); err != nil {
			return nil, 0, err
		}
		match, inMessages := hits[id]
		if !inTitle && !inMessages {
			continue
		}
		if n >= skip && (take < 0 || len(page) < take) {
			page = append(page, pageRow{id: id, matchID: match})
		}
		n++
		if !count && take >= 0 && len(page) == take {
			break
		}
	}
	if !count {
		n = -1
	}
	return page, n, rows.Err()
}

// SessionPage returns one page of the sessions q selects, most recently
// active first (the order of Sessions). It reads only the page's rows.
func (s *State) SessionPage(ctx context.Context, q SessionQuery) ([]SessionSummary, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultSessionPage
	}
	limit = min(limit, MaxSessionPage)
	var out []SessionSummary
	err := s.db.read(ctx, func(tx *sql.Tx) error {
		page, _, err := selectSessions(ctx, tx, q, max(q.Offset, 0), limit, false)
		if err != nil {
			return err
		}
		out, err = summarise(ctx, tx, page, strings.TrimSpace(q.Text))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: session page: %w", err)
	}
	return out, nil
}

// summarise reads the page's sessions, their message counts and last
// activity, and the text around each match: two statements, whatever the
// page's size.
func summarise(ctx context.Context, tx *sql.Tx, page []pageRow, text string) ([]SessionSummary, error) {
	if len(page) == 0 {
		return nil, nil
	}
	ids := make([]any, 0, len(page))
	var matchIDs []any
	for _, p := range page {
		ids = append(ids, p.id)
		if p.matchID != 0 {
			matchIDs = append(matchIDs, p.matchID)
		}
	}
	byID := make(map[int64]SessionSummary, len(page))
	rows, err := tx.QueryContext(ctx, `SELECT `+sessionColumns+`,
		(SELECT count(*) FROM messages WHERE session_id = s.id),
		coalesce((SELECT created_at FROM messages WHERE session_id = s.id ORDER BY id DESC LIMIT 1), s.created_at)
		FROM sessions s WHERE id IN (`+marks(len(ids))+`)`, ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r SessionSummary
		var c, u, last int64
		if err := rows.Scan(&r.ID, &r.Title, &r.Kind, &r.CardID, &r.Model, &r.Endpoint, &c, &u, &r.Messages, &last); err != nil {
			return nil, err
		}
		r.CreatedAt, r.UpdatedAt, r.LastActivity = fromMilli(c), fromMilli(u), fromMilli(last)
		byID[r.ID] = r
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	matches := map[int64]string{}
	if len(matchIDs) > 0 {
		rows, err := tx.QueryContext(ctx, `SELECT id, substr(content, start, ?), start > 1, length(content) >= start + ?
			FROM (SELECT id, content, max(1, instr(lower(content), lower(?)) - ?) AS start FROM messages WHERE id IN (`+marks(len(matchIDs))+`))`,
			append([]any{matchLen, matchLen, text, matchContext}, matchIDs...)...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var m string
			var cutBefore, cutAfter bool
			if err := rows.Scan(&id, &m, &cutBefore, &cutAfter); err != nil {
				return nil, err
			}
			if cutBefore {
				m = "…" + m
			}
			if cutAfter {
				m += "…"
			}
			matches[id] = m
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]SessionSummary, 0, len(page))
	for _, p := range page {
		r, ok := byID[p.id]
		if !ok {
			continue // cannot happen inside one snapshot
		}
		if p.matchID != 0 {
			r.MatchID, r.Match = p.matchID, matches[p.matchID]
		}
		out = append(out, r)
	}
	return out, nil
}

// marks is n comma-separated placeholders.
func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// SessionCount is how many sessions q selects (Offset and Limit aside).
func (s *State) SessionCount(ctx context.Context, q SessionQuery) (int, error) {
	var n int
	err := s.db.read(ctx, func(tx *sql.Tx) error {
		var err error
		_, n, err = selectSessions(ctx, tx, q, 0, 0, true)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: count sessions: %w", err)
	}
	return n, nil
}

// DeleteSession deletes a session and, through the foreign key's ON
// DELETE CASCADE (foreign keys are on in the writer), every message of it
// and their search entries. It touches nothing else: a worker session's
// card stays on the board. ErrNotFound when there is no such session.
func (s *State) DeleteSession(ctx context.Context, id int64) error {
	err := s.db.write(ctx, func(tx *wtx) error {
		return tx.execOne(ctx, ErrNotFound, `DELETE FROM sessions WHERE id = ?`, id)
	})
	if err != nil {
		return fmt.Errorf("store: delete session %d: %w", id, err)
	}
	return nil
}

// SetSessionRoute records the endpoint (as the agent names it) and the
// model a session uses from now on. Like a rename it is not activity.
func (s *State) SetSessionRoute(ctx context.Context, id int64, endpoint, model string) error {
	err := s.db.write(ctx, func(tx *wtx) error {
		return tx.execOne(ctx, ErrNotFound, `UPDATE sessions SET endpoint = ?, model = ? WHERE id = ?`, endpoint, model, id)
	})
	if err != nil {
		return fmt.Errorf("store: set the endpoint of session %d: %w", id, err)
	}
	return nil
}
