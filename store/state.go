package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Role is who wrote a message.
type Role string

// The roles, as the chat-completions API names them.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

func (r Role) valid() bool {
	return r == RoleSystem || r == RoleUser || r == RoleAssistant || r == RoleTool
}

// MessageStatus is how a message ended.
type MessageStatus string

// The message statuses.
const (
	MessageComplete    MessageStatus = "complete"
	MessageInterrupted MessageStatus = "interrupted"
	MessageFailed      MessageStatus = "failed"
)

func (s MessageStatus) valid() bool {
	return s == MessageComplete || s == MessageInterrupted || s == MessageFailed
}

// SessionKind says who made a session.
type SessionKind string

// The session kinds.
const (
	// SessionChat is a conversation in the full-screen shell.
	SessionChat SessionKind = "chat"
	// SessionRun is one made by `spindle run`.
	SessionRun SessionKind = "run"
	// SessionWorker is a dispatcher worker's run of a card.
	SessionWorker SessionKind = "worker"
)

func (k SessionKind) valid() bool { return k == SessionChat || k == SessionRun || k == SessionWorker }

// Session is one conversation.
type Session struct {
	ID        int64
	Title     string
	Kind      SessionKind
	CardID    int64  // the card a worker session works; 0 otherwise
	Model     string // the model the session last used; "" = the default
	Endpoint  string // where Model was used, as the agent names endpoints; "" = not recorded
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewSession is what StartSession needs.
type NewSession struct {
	Title  string
	Kind   SessionKind // "" = SessionChat
	CardID int64
	Model  string
}

// Message is one message of a session.
type Message struct {
	ID        int64
	SessionID int64
	Role      Role
	Content   string
	// ToolCalls is the assistant's tool calls as a JSON array, "" if none.
	ToolCalls string
	// ToolCallID is the call a tool message answers.
	ToolCallID string
	// ToolName and Screen belong to a tool message: the tool that ran and
	// what the transcript shows of its result (Content is what the model
	// was told). A tool result that failed has status failed.
	ToolName string
	Screen   string
	// Approval is how a tool call that asked was decided: "allowed once
	// by you", "denied by deny rule bash:rm *"; "" when it did not ask.
	Approval string
	Status   MessageStatus // "" is stored as complete
	Error    string
	// PromptTokens and CompletionTokens are an assistant reply's usage, as
	// the server reported it (0 when it did not).
	PromptTokens     int64
	CompletionTokens int64
	CreatedAt        time.Time
}

// State is state.db: sessions and messages. It is safe for concurrent use.
type State struct {
	db *db
}

// OpenState opens (creating if missing) the state database at path, with
// the same checks as OpenBoard.
func OpenState(path string) (*State, error) {
	d, err := openDB(path, stateKind)
	if err != nil {
		return nil, err
	}
	return &State{db: d}, nil
}

// Close closes every connection. Calling it again returns the first result.
func (s *State) Close() error { return s.db.close() }

// Path returns the path the database was opened with.
func (s *State) Path() string { return s.db.path }

// Backup writes a consistent copy to dest (which must not exist) with
// VACUUM INTO.
func (s *State) Backup(ctx context.Context, dest string) error {
	if err := s.db.backup(ctx, dest); err != nil {
		return fmt.Errorf("store: back up state to %s: %w", dest, err)
	}
	return nil
}

const sessionColumns = `id, title, kind, card_id, model, endpoint, created_at, updated_at`

func scanSession(sc scanner) (Session, error) {
	var s Session
	var c, u int64
	err := sc.Scan(&s.ID, &s.Title, &s.Kind, &s.CardID, &s.Model, &s.Endpoint, &c, &u)
	s.CreatedAt, s.UpdatedAt = fromMilli(c), fromMilli(u)
	return s, err
}

// Session order. Sessions are listed by updated_at, newest first, then by
// id. Times are milliseconds, and several changes often fall in one
// millisecond (a tool call and its result, a new session right after a
// reply), so updated_at is kept strictly in activity order: a session that
// gets a message is moved past every other session's updated_at, even if
// that means a millisecond ahead of the clock, and a new session never sorts
// below an older one. Otherwise a tie would be broken by id, and the older
// session that had just received a message would not be "last".

// CreateSession starts a chat session. It sorts first in Sessions until
// another session has activity.
func (s *State) CreateSession(ctx context.Context, title string) (Session, error) {
	return s.StartSession(ctx, NewSession{Title: title})
}

// StartSession starts a session of any kind.
func (s *State) StartSession(ctx context.Context, ns NewSession) (Session, error) {
	if ns.Kind == "" {
		ns.Kind = SessionChat
	}
	if !ns.Kind.valid() {
		return Session{}, fmt.Errorf("store: create session: unknown kind %q", ns.Kind)
	}
	now := nowMilli()
	var se Session
	err := s.db.write(ctx, func(tx *wtx) error {
		// A tie with the newest session is fine: the new id is larger.
		updated := now
		if err := tx.QueryRowContext(ctx, `SELECT max(?, coalesce(max(updated_at), 0)) FROM sessions`, now).Scan(&updated); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions (title, kind, card_id, model, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			ns.Title, string(ns.Kind), ns.CardID, ns.Model, now, updated)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		se = Session{ID: id, Title: ns.Title, Kind: ns.Kind, CardID: ns.CardID, Model: ns.Model, CreatedAt: fromMilli(now), UpdatedAt: fromMilli(updated)}
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("store: create session: %w", err)
	}
	return se, nil
}

// Sessions lists every session, most recently updated first.
func (s *State) Sessions(ctx context.Context) ([]Session, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions ORDER BY updated_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		se, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list sessions: %w", err)
		}
		out = append(out, se)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list sessions: %w", err)
	}
	return out, nil
}

// Session returns one session, or ErrNotFound.
func (s *State) Session(ctx context.Context, id int64) (Session, error) {
	se, err := scanSession(s.db.r.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: get session %d: %w", id, err)
	}
	return se, nil
}

// LastSession returns the most recently updated chat session (not one made
// by spindle run or a worker), or ErrNotFound when there is none.
func (s *State) LastSession(ctx context.Context) (Session, error) {
	se, err := scanSession(s.db.r.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE kind = 'chat' ORDER BY updated_at DESC, id DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: last session: %w", err)
	}
	return se, nil
}

// RenameSession changes a session's title. It does not count as activity:
// UpdatedAt stays.
func (s *State) RenameSession(ctx context.Context, id int64, title string) error {
	err := s.db.write(ctx, func(tx *wtx) error {
		return tx.execOne(ctx, ErrNotFound, `UPDATE sessions SET title = ? WHERE id = ?`, title, id)
	})
	if err != nil {
		return fmt.Errorf("store: rename session %d: %w", id, err)
	}
	return nil
}

// SetSessionModel records the model a session uses from now on. Like a
// rename it is not activity.
func (s *State) SetSessionModel(ctx context.Context, id int64, model string) error {
	err := s.db.write(ctx, func(tx *wtx) error {
		return tx.execOne(ctx, ErrNotFound, `UPDATE sessions SET model = ? WHERE id = ?`, model, id)
	})
	if err != nil {
		return fmt.Errorf("store: set the model of session %d: %w", id, err)
	}
	return nil
}

// AddMessage appends a message to its session, sets its ID and CreatedAt
// and bumps the session's UpdatedAt past every other session's (see
// "Session order" above), in one transaction. ErrNotFound if the
// session does not exist.
func (s *State) AddMessage(ctx context.Context, m Message) (Message, error) {
	if m.Status == "" {
		m.Status = MessageComplete
	}
	var err error
	switch {
	case !m.Role.valid():
		err = fmt.Errorf("unknown role %q", m.Role)
	case !m.Status.valid():
		err = fmt.Errorf("unknown status %q", m.Status)
	case m.ToolCalls != "" && !isJSONArray(m.ToolCalls):
		err = errors.New("tool calls are not a JSON array")
	}
	if err != nil {
		return Message{}, fmt.Errorf("store: add message to session %d: %w", m.SessionID, err)
	}
	now := nowMilli()
	err = s.db.write(ctx, func(tx *wtx) error {
		if err := tx.execOne(ctx, ErrNotFound, `UPDATE sessions SET updated_at = max(updated_at, ?,
			coalesce((SELECT max(updated_at) + 1 FROM sessions WHERE id != ?), 0)) WHERE id = ?`, now, m.SessionID, m.SessionID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO messages (session_id, role, content, tool_calls, tool_call_id, tool_name, screen,
			approval, status, error, prompt_tokens, completion_tokens, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.SessionID, string(m.Role), m.Content, m.ToolCalls, m.ToolCallID, m.ToolName, m.Screen,
			m.Approval, string(m.Status), m.Error, m.PromptTokens, m.CompletionTokens, now)
		if err != nil {
			return err
		}
		m.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return Message{}, fmt.Errorf("store: add message to session %d: %w", m.SessionID, err)
	}
	m.CreatedAt = fromMilli(now)
	return m, nil
}

func isJSONArray(s string) bool {
	var v []json.RawMessage
	return json.Unmarshal([]byte(s), &v) == nil
}

// Messages returns a session's messages, oldest first; ErrNotFound if the
// session does not exist.
func (s *State) Messages(ctx context.Context, sessionID int64) ([]Message, error) {
	var out []Message
	err := s.db.read(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM sessions WHERE id = ?`, sessionID).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, session_id, role, content, tool_calls, tool_call_id, tool_name, screen,
			approval, status, error, prompt_tokens, completion_tokens, created_at
			FROM messages WHERE session_id = ? ORDER BY id`, sessionID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m Message
			var at int64
			if err := rows.Scan(&m.ID, &m.SessionID, &m.Role, &m.Content, &m.ToolCalls, &m.ToolCallID, &m.ToolName, &m.Screen,
				&m.Approval, &m.Status, &m.Error, &m.PromptTokens, &m.CompletionTokens, &at); err != nil {
				return err
			}
			m.CreatedAt = fromMilli(at)
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: messages of session %d: %w", sessionID, err)
	}
	return out, nil
}
