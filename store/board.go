package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Status is a card's column.
type Status string

// The statuses. Archived cards are hidden from the board.
const (
	Todo     Status = "todo"
	Running  Status = "running"
	Blocked  Status = "blocked"
	Review   Status = "review"
	Done     Status = "done"
	Archived Status = "archived"
)

// Columns are the visible statuses in board order.
var Columns = []Status{Todo, Running, Blocked, Review, Done}

// allStatuses is Columns followed by Archived: the order List uses.
var allStatuses = []Status{Todo, Running, Blocked, Review, Done, Archived}

// ParseStatus accepts a status name in any case.
func ParseStatus(s string) (Status, error) {
	st := Status(strings.ToLower(strings.TrimSpace(s)))
	for _, c := range allStatuses {
		if st == c {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown status %q (want todo, running, blocked, review, done or archived)", s)
}

// valid reports whether s is one of the statuses exactly as stored (the
// lower-case name, no spaces: ParseStatus is for what people type).
func (s Status) valid() bool { return slices.Contains(allStatuses, s) }

// Priority orders cards by urgency. The zero value is PriorityLow; the
// default that people see (CLI, TUI) is PriorityNormal.
type Priority int

// The priorities, lowest first.
const (
	PriorityLow Priority = iota
	PriorityNormal
	PriorityHigh
	PriorityUrgent
)

var priorityNames = []string{"low", "normal", "high", "urgent"}

// String returns "low", "normal", "high" or "urgent".
func (p Priority) String() string {
	if p >= 0 && int(p) < len(priorityNames) {
		return priorityNames[p]
	}
	return "priority(" + strconv.Itoa(int(p)) + ")"
}

// Next cycles low → normal → high → urgent → low.
func (p Priority) Next() Priority {
	if p < PriorityLow || p >= PriorityUrgent {
		return PriorityLow
	}
	return p + 1
}

// ParsePriority accepts a name ("low" … "urgent", any case) or 0..3.
func ParsePriority(s string) (Priority, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i, n := range priorityNames {
		if t == n || t == strconv.Itoa(i) {
			return Priority(i), nil
		}
	}
	return 0, fmt.Errorf("unknown priority %q (want low, normal, high, urgent or 0..3)", s)
}

func (p Priority) valid() bool { return p >= PriorityLow && p <= PriorityUrgent }

// MarshalText writes the priority's name, so JSON shows "high", not 2.
func (p Priority) MarshalText() ([]byte, error) {
	if !p.valid() {
		return nil, fmt.Errorf("invalid priority %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText accepts what ParsePriority accepts.
func (p *Priority) UnmarshalText(b []byte) error {
	v, err := ParsePriority(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Assignee is who works on a card.
type Assignee string

// The assignees.
const (
	Me            Assignee = "me"
	AgentAssignee Assignee = "agent"
)

func (a Assignee) valid() bool { return a == Me || a == AgentAssignee }

// Card is one card on the board.
type Card struct {
	ID       int64    `json:"id"`
	Title    string   `json:"title"`
	Body     string   `json:"body"`
	Status   Status   `json:"status"`
	Position int      `json:"position"` // 0-based, dense within the status
	Priority Priority `json:"priority"`
	Assignee Assignee `json:"assignee"`
	// Parent is the card whose worker created this one; 0 when none.
	Parent int64 `json:"parent_id,omitzero"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// CompletedAt is zero unless the card is done.
	CompletedAt time.Time `json:"completed_at,omitzero"`
}

// EventKind names what an event did.
type EventKind string

// The event kinds.
const (
	EventCreated   EventKind = "created"
	EventEdited    EventKind = "edited"
	EventMoved     EventKind = "moved"
	EventCommented EventKind = "commented"
	EventDeleted   EventKind = "deleted"
)

// Event is one entry of a card's history. Every change to the board writes
// one, in the same transaction as the change.
type Event struct {
	ID     int64     `json:"id"`
	CardID int64     `json:"card_id"`
	Kind   EventKind `json:"kind"`
	Actor  string    `json:"actor"`
	// Text is the comment for "commented", the title for "created" and
	// "deleted", the fields changed for "edited", "from → to" for "moved".
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
	Undone bool      `json:"undone"`
}

// NewCard is what Create needs.
type NewCard struct {
	Title, Body string
	Status      Status   // "" means Todo
	Priority    Priority // taken as given: the zero value is PriorityLow
	Assignee    Assignee // "" means Me
	Parent      int64    // the card whose worker made this one; 0 for none
}

// CardPatch changes the fields that are not nil.
type CardPatch struct {
	Title, Body *string
	Priority    *Priority
	Assignee    *Assignee
}

// Board is kanban.db. It is safe for concurrent use, and several processes
// may open the same file: writes are serialised by SQLite's lock, waiting up
// to the busy timeout.
type Board struct {
	db *db
}

// OpenBoard opens (creating if missing) the board at path. The header is
// validated before SQLite touches the file and the contents are checked
// once per process; a refused file gives a *CorruptError.
func OpenBoard(path string) (*Board, error) {
	d, err := openDB(path, boardKind)
	if err != nil {
		return nil, err
	}
	return &Board{db: d}, nil
}

// Close closes every connection. Calling it again returns the first result.
func (b *Board) Close() error { return b.db.close() }

// Path returns the path the board was opened with.
func (b *Board) Path() string { return b.db.path }

// DataVersion returns a number that changes whenever any connection or
// process commits a change to the board; the TUI polls it to pick up other
// processes' edits.
func (b *Board) DataVersion(ctx context.Context) (int64, error) {
	v, err := b.db.dataVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: board data version: %w", err)
	}
	return v, nil
}

// Backup writes a consistent copy of the board to dest (which must not
// exist) with VACUUM INTO.
func (b *Board) Backup(ctx context.Context, dest string) error {
	if err := b.db.backup(ctx, dest); err != nil {
		return fmt.Errorf("store: back up board to %s: %w", dest, err)
	}
	return nil
}

const cardColumns = `id, title, body, status, rank, priority, assignee, created_at, updated_at, completed_at, parent_id`

// The statements of the write path, prepared once on the writer connection
// (see db.prepared): preparing costs as much as running them.
const (
	qCardByID    = `SELECT ` + cardColumns + ` FROM cards WHERE id = ?`
	qPosition    = `SELECT count(*) FROM cards WHERE status = ? AND (rank, id) < (?, ?)`
	qColumnLen   = `SELECT count(*) FROM cards WHERE status = ?`
	qNeighbours  = `SELECT rank FROM cards WHERE status = ? AND id != ? ORDER BY rank, id LIMIT 2 OFFSET ?`
	qMoveCard    = `UPDATE cards SET status = ?, rank = ?, updated_at = ?, completed_at = ? WHERE id = ?`
	qInsertEvent = `INSERT INTO card_events (card_id, kind, actor, text, at, before) VALUES (?, ?, ?, ?, ?, ?)`
	qInsertCard  = `INSERT INTO cards (` + cardColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qEditCard    = `UPDATE cards SET title = ?, body = ?, priority = ?, assignee = ?, updated_at = ? WHERE id = ?`
)

var boardPrepared = []string{qCardByID, qPosition, qColumnLen, qNeighbours, qMoveCard, qInsertEvent, qInsertCard, qEditCard}

// rankGap is the spacing of ranks when a column is numbered afresh; a move
// takes the midpoint of its neighbours, so about 20 moves into the same gap
// fit before the column is renumbered.
var rankGap int64 = 1 << 20 // a variable so that tests can make renumbering frequent

// row is a card as stored, plus its dense position. It is also the JSON
// image kept in card_events.before for undo.
type row struct {
	ID        int64  `json:"id"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Status    string `json:"status"`
	Rank      int64  `json:"rank"`
	Position  int    `json:"position"` // computed, not a column
	Priority  int    `json:"priority"`
	Assignee  string `json:"assignee"`
	Created   int64  `json:"created_at"`
	Updated   int64  `json:"updated_at"`
	Completed *int64 `json:"completed_at"`
	Parent    int64  `json:"parent_id,omitempty"`
}

type scanner interface{ Scan(...any) error }

func scanRow(s scanner) (row, error) {
	var r row
	var completed sql.NullInt64
	err := s.Scan(&r.ID, &r.Title, &r.Body, &r.Status, &r.Rank, &r.Priority, &r.Assignee, &r.Created, &r.Updated, &completed, &r.Parent)
	if completed.Valid {
		r.Completed = &completed.Int64
	}
	return r, err
}

func (r row) card() Card {
	c := Card{
		ID: r.ID, Title: r.Title, Body: r.Body, Status: Status(r.Status), Position: r.Position,
		Priority: Priority(r.Priority), Assignee: Assignee(r.Assignee), Parent: r.Parent,
		CreatedAt: fromMilli(r.Created), UpdatedAt: fromMilli(r.Updated),
	}
	if r.Completed != nil {
		c.CompletedAt = fromMilli(*r.Completed)
	}
	return c
}

type querier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

// getRow reads a card and its dense position.
func getRow(ctx context.Context, q querier, id int64) (row, error) {
	r, err := scanRow(q.QueryRowContext(ctx, qCardByID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, err
	}
	err = q.QueryRowContext(ctx, qPosition,
		r.Status, r.Rank, r.ID).Scan(&r.Position)
	return r, err
}

// List returns the cards in column order (todo … done, then archived if
// asked for), each column by position.
func (b *Board) List(ctx context.Context, includeArchived bool) ([]Card, error) {
	var cards []Card
	err := b.db.read(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM cards`).Scan(&n); err != nil {
			return err
		}
		cards = make([]Card, 0, n)
		// One indexed query per column, in order, instead of sorting by a
		// computed column rank.
		for _, st := range allStatuses {
			if st == Archived && !includeArchived {
				continue
			}
			rows, err := tx.QueryContext(ctx, `SELECT `+cardColumns+` FROM cards WHERE status = ? ORDER BY rank, id`, string(st))
			if err != nil {
				return err
			}
			pos := 0
			for rows.Next() {
				r, err := scanRow(rows)
				if err != nil {
					rows.Close()
					return err
				}
				r.Position = pos
				pos++
				cards = append(cards, r.card())
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list cards: %w", err)
	}
	return cards, nil
}

// Get returns one card, or ErrNotFound.
func (b *Board) Get(ctx context.Context, id int64) (Card, error) {
	var r row
	err := b.db.read(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = getRow(ctx, tx, id)
		return err
	})
	if err != nil {
		return Card{}, fmt.Errorf("store: get card %d: %w", id, err)
	}
	return r.card(), nil
}

func checkTitle(t string) error {
	if strings.TrimSpace(t) == "" {
		return errors.New("the title is empty")
	}
	return nil
}

// Create adds a card at the end of its column.
func (b *Board) Create(ctx context.Context, actor string, c NewCard) (Card, error) {
	if c.Status == "" {
		c.Status = Todo
	}
	if c.Assignee == "" {
		c.Assignee = Me
	}
	err := checkTitle(c.Title)
	switch {
	case err != nil:
	case !c.Status.valid():
		err = fmt.Errorf("unknown status %q", c.Status)
	case !c.Priority.valid():
		err = fmt.Errorf("invalid priority %d", int(c.Priority))
	case !c.Assignee.valid():
		err = fmt.Errorf("unknown assignee %q", c.Assignee)
	}
	if err != nil {
		return Card{}, fmt.Errorf("store: create card: %w", err)
	}
	var r row
	err = b.db.write(ctx, func(tx *wtx) error {
		now := nowMilli()
		r = row{Title: c.Title, Body: c.Body, Status: string(c.Status), Priority: int(c.Priority),
			Assignee: string(c.Assignee), Created: now, Updated: now, Parent: c.Parent}
		if c.Status == Done {
			r.Completed = &now
		}
		var err error
		if r.Position, err = columnLen(ctx, tx, c.Status); err != nil {
			return err
		}
		if r.Rank, err = rankFor(ctx, tx, c.Status, 0, r.Position); err != nil {
			return err
		}
		if r.ID, err = insertRow(ctx, tx, r); err != nil {
			return err
		}
		return addEvent(ctx, tx, r.ID, EventCreated, actor, r.Title, now, nil)
	})
	if err != nil {
		return Card{}, fmt.Errorf("store: create card: %w", err)
	}
	return r.card(), nil
}

// insertRow inserts r, with its id if it has one.
func insertRow(ctx context.Context, tx *wtx, r row) (int64, error) {
	var id any
	if r.ID != 0 {
		id = r.ID
	}
	res, err := tx.ExecContext(ctx, qInsertCard,
		id, r.Title, r.Body, r.Status, r.Rank, r.Priority, r.Assignee, r.Created, r.Updated, r.Completed, r.Parent)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// columnLen counts the cards in a column.
func columnLen(ctx context.Context, q querier, st Status) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, qColumnLen, string(st)).Scan(&n)
	return n, err
}

// rankFor returns a rank that puts a card at dense position pos of column
// st, the card except (0 for none) not counted: the midpoint of its would-be
// neighbours, renumbering the column when they are adjacent.
func rankFor(ctx context.Context, tx *wtx, st Status, except int64, pos int) (int64, error) {
	for attempt := 0; ; attempt++ {
		offset := max(pos-1, 0)
		rows, err := tx.QueryContext(ctx, qNeighbours,
			string(st), except, offset)
		if err != nil {
			return 0, err
		}
		var ranks []int64
		for rows.Next() {
			var r int64
			if err := rows.Scan(&r); err != nil {
				rows.Close()
				return 0, err
			}
			ranks = append(ranks, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		var lo, hi *int64
		if pos > 0 && len(ranks) > 0 {
			lo = &ranks[0]
			ranks = ranks[1:]
		}
		if len(ranks) > 0 {
			hi = &ranks[0]
		}
		switch {
		case lo == nil && hi == nil:
			return 0, nil
		case hi == nil:
			return *lo + rankGap, nil
		case lo == nil:
			return *hi - rankGap, nil
		case *hi-*lo >= 2:
			return *lo + (*hi-*lo)/2, nil
		}
		if attempt > 0 {
			return 0, fmt.Errorf("no rank between %d and %d after renumbering %s", *lo, *hi, st)
		}
		if err := renumber(ctx, tx, st); err != nil {
			return 0, err
		}
	}
}

// renumbers counts renumber calls, for tests.
var renumbers atomic.Int64

// renumber spaces a column's ranks rankGap apart, keeping the order.
func renumber(ctx context.Context, tx *wtx, st Status) error {
	renumbers.Add(1)
	_, err := tx.ExecContext(ctx, `UPDATE cards SET rank = ranked.n * ?
		FROM (SELECT id, row_number() OVER (ORDER BY rank, id) AS n FROM cards WHERE status = ?) AS ranked
		WHERE cards.id = ranked.id`, rankGap, string(st))
	return err
}

func addEvent(ctx context.Context, tx *wtx, cardID int64, k EventKind, actor, text string, at int64, before *row) error {
	if !ValidActor(actor) {
		return fmt.Errorf("unknown actor %q (want me, agent or worker:<card id>)", actor)
	}
	var img any
	if before != nil {
		b, err := json.Marshal(before)
		if err != nil {
			return err
		}
		img = string(b)
	}
	_, err := tx.ExecContext(ctx, qInsertEvent,
		cardID, string(k), actor, text, at, img)
	return err
}

// Edit changes a card's title, body, priority or assignee. A patch that
// changes nothing writes nothing and returns the card as it is.
func (b *Board) Edit(ctx context.Context, actor string, id int64, p CardPatch) (Card, error) {
	var out row
	err := b.db.write(ctx, func(tx *wtx) error {
		before, err := getRow(ctx, tx, id)
		if err != nil {
			return err
		}
		after := before
		var changed []string
		if p.Title != nil && *p.Title != before.Title {
			if err := checkTitle(*p.Title); err != nil {
				return err
			}
			after.Title = *p.Title
			changed = append(changed, "title")
		}
		if p.Body != nil && *p.Body != before.Body {
			after.Body = *p.Body
			changed = append(changed, "body")
		}
		if p.Priority != nil && int(*p.Priority) != before.Priority {
			if !p.Priority.valid() {
				return fmt.Errorf("invalid priority %d", int(*p.Priority))
			}
			after.Priority = int(*p.Priority)
			changed = append(changed, "priority "+Priority(before.Priority).String()+" → "+p.Priority.String())
		}
		if p.Assignee != nil && string(*p.Assignee) != before.Assignee {
			if !p.Assignee.valid() {
				return fmt.Errorf("unknown assignee %q", *p.Assignee)
			}
			after.Assignee = string(*p.Assignee)
			changed = append(changed, "assignee "+before.Assignee+" → "+after.Assignee)
		}
		if len(changed) == 0 {
			out = before
			return nil
		}
		now := nowMilli()
		after.Updated = now
		if _, err := tx.ExecContext(ctx, qEditCard,
			after.Title, after.Body, after.Priority, after.Assignee, after.Updated, id); err != nil {
			return err
		}
		out = after
		return addEvent(ctx, tx, id, EventEdited, actor, strings.Join(changed, ", "), now, &before)
	})
	if err != nil {
		return Card{}, fmt.Errorf("store: edit card %d: %w", id, err)
	}
	return out.card(), nil
}

// Move puts a card at position in column to (-1, or anything past the end,
// means the end). Within the same column it reorders. Positions stay dense:
// the cards after the old place move up one, those from the new place on
// move down one. Moving to done sets CompletedAt; moving away clears it. A
// move to where the card already is writes nothing.
func (b *Board) Move(ctx context.Context, actor string, id int64, to Status, position int) (Card, error) {
	if !to.valid() {
		return Card{}, fmt.Errorf("store: move card %d: unknown status %q", id, to)
	}
	var out row
	err := b.db.write(ctx, func(tx *wtx) error {
		before, err := getRow(ctx, tx, id)
		if err != nil {
			return err
		}
		from := Status(before.Status)
		n, err := columnLen(ctx, tx, to)
		if err != nil {
			return err
		}
		if from == to {
			n-- // not counting the card itself
		}
		if position < 0 || position > n {
			position = n
		}
		if from == to && position == before.Position {
			out = before
			return nil
		}
		now := nowMilli()
		after := before
		after.Status, after.Position, after.Updated = string(to), position, now
		if after.Rank, err = rankFor(ctx, tx, to, id, position); err != nil {
			return err
		}
		switch {
		case to == Done && from != Done:
			after.Completed = &now
		case to != Done:
			after.Completed = nil
		}
		if _, err := tx.ExecContext(ctx, qMoveCard,
			after.Status, after.Rank, after.Updated, after.Completed, id); err != nil {
			return err
		}
		out = after
		text := string(from) + " → " + string(to)
		if from == to {
			text = fmt.Sprintf("%s: position %d → %d", from, before.Position, position)
		}
		return addEvent(ctx, tx, id, EventMoved, actor, text, now, &before)
	})
	if err != nil {
		return Card{}, fmt.Errorf("store: move card %d: %w", id, err)
	}
	return out.card(), nil
}

// Comment adds a comment to a card's history.
func (b *Board) Comment(ctx context.Context, actor string, id int64, text string) (Event, error) {
	if strings.TrimSpace(text) == "" {
		return Event{}, fmt.Errorf("store: comment on card %d: the comment is empty", id)
	}
	var ev Event
	err := b.db.write(ctx, func(tx *wtx) error {
		if _, err := getRow(ctx, tx, id); err != nil {
			return err
		}
		now := nowMilli()
		if err := addEvent(ctx, tx, id, EventCommented, actor, text, now, nil); err != nil {
			return err
		}
		var eid int64
		if err := tx.QueryRowContext(ctx, `SELECT last_insert_rowid()`).Scan(&eid); err != nil {
			return err
		}
		ev = Event{ID: eid, CardID: id, Kind: EventCommented, Actor: actor, Text: text, At: fromMilli(now)}
		return nil
	})
	if err != nil {
		return Event{}, fmt.Errorf("store: comment on card %d: %w", id, err)
	}
	return ev, nil
}

// Delete removes a card; Undo brings it back with the same id.
func (b *Board) Delete(ctx context.Context, actor string, id int64) error {
	err := b.db.write(ctx, func(tx *wtx) error {
		before, err := getRow(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM cards WHERE id = ?`, id); err != nil {
			return err
		}
		return addEvent(ctx, tx, id, EventDeleted, actor, before.Title, nowMilli(), &before)
	})
	if err != nil {
		return fmt.Errorf("store: delete card %d: %w", id, err)
	}
	return nil
}

const eventColumns = `id, card_id, kind, actor, text, at, undone_at IS NOT NULL`

func scanEvent(s scanner) (Event, error) {
	var e Event
	var at int64
	err := s.Scan(&e.ID, &e.CardID, &e.Kind, &e.Actor, &e.Text, &at, &e.Undone)
	e.At = fromMilli(at)
	return e, err
}

// Actors name who made a change in a card's history.
const (
	// ActorMe is the person, from the TUI or the command line.
	ActorMe = "me"
	// ActorAgent is the chat's model, through the kanban_* tools.
	ActorAgent = "agent"
	// workerPrefix starts the actor of a dispatcher worker: worker:<card id>.
	workerPrefix = "worker:"
)

// WorkerActor is the actor of the worker that runs card id.
func WorkerActor(cardID int64) string { return workerPrefix + strconv.FormatInt(cardID, 10) }

// ValidActor reports whether actor is one spindle records: me, agent or
// worker:<card id>.
func ValidActor(actor string) bool {
	switch actor {
	case ActorMe, ActorAgent:
		return true
	}
	id, ok := strings.CutPrefix(actor, workerPrefix)
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	return err == nil && n > 0 && strconv.FormatInt(n, 10) == id
}

// UndoConflictError is returned by Undo and UndoEvent when the change to
// undo is not the latest on its card: Later, by Later.Actor, changed the
// card since, and undoing the earlier change would throw Later away.
type UndoConflictError struct {
	Event Event // the change asked to be undone
	Later Event // the later change in the way
}

func (e *UndoConflictError) Error() string {
	return fmt.Sprintf("card %d was changed later by %s (%s %s); undo that first", e.Event.CardID, e.Later.Actor, e.Later.Kind, e.Later.Text)
}

// Undo reverts actor's latest change that is not undone yet, restoring the
// exact prior row (a deleted card comes back with its id, a created one
// goes) and keeping positions dense; changes by other actors are never
// undone by it. An undone comment is marked undone. It returns the event it
// reverted, ErrNothingToUndo when actor has nothing left to undo, or an
// *UndoConflictError when someone else changed that card since (undo theirs
// first, from the card's history).
func (b *Board) Undo(ctx context.Context, actor string) (Event, error) {
	ev, err := b.undo(ctx, `SELECT id FROM card_events WHERE undone_at IS NULL AND actor = ? ORDER BY id DESC LIMIT 1`, actor)
	if err != nil {
		return Event{}, fmt.Errorf("store: undo %s's latest change: %w", actor, err)
	}
	return ev, nil
}

// UndoEvent reverts one change by its event id, whoever made it: how the
// person undoes a model's or a worker's change, from the card's history. It
// fails with ErrNothingToUndo when the event is already undone, ErrNotFound
// when there is no such event, and *UndoConflictError when a later change
// to the same card is in the way.
func (b *Board) UndoEvent(ctx context.Context, id int64) (Event, error) {
	ev, err := b.undo(ctx, `SELECT id FROM card_events WHERE id = ?`, id)
	if err != nil {
		return Event{}, fmt.Errorf("store: undo event %d: %w", id, err)
	}
	return ev, nil
}

// undo reverts the event that pick (a query with one argument) selects.
func (b *Board) undo(ctx context.Context, pick string, arg any) (Event, error) {
	var ev Event
	err := b.db.write(ctx, func(tx *wtx) error {
		var id int64
		err := tx.QueryRowContext(ctx, pick, arg).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			if _, isID := arg.(int64); isID {
				return ErrNotFound
			}
			return ErrNothingToUndo
		}
		if err != nil {
			return err
		}
		var before sql.NullString
		var at int64
		var undone sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT id, card_id, kind, actor, text, at, before, undone_at FROM card_events WHERE id = ?`, id).
			Scan(&ev.ID, &ev.CardID, &ev.Kind, &ev.Actor, &ev.Text, &at, &before, &undone); err != nil {
			return err
		}
		ev.At = fromMilli(at)
		if undone.Valid {
			return ErrNothingToUndo
		}
		if ev.Kind != EventCommented {
			// A later change to the card would be lost by restoring the
			// image taken before this one. Comments change no row and are
			// never in the way.
			later, err := scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM card_events
				WHERE card_id = ? AND id > ? AND undone_at IS NULL AND kind != 'commented' ORDER BY id LIMIT 1`, ev.CardID, ev.ID))
			switch {
			case err == nil:
				return &UndoConflictError{Event: ev, Later: later}
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			if err := restore(ctx, tx, ev.CardID, before); err != nil {
				return fmt.Errorf("event %d: %w", ev.ID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE card_events SET undone_at = ? WHERE id = ?`, nowMilli(), ev.ID); err != nil {
			return err
		}
		ev.Undone = true
		return nil
	})
	return ev, err
}

// restore replaces card id's current row (if any) with the image in before
// (none for a created card). The card goes back to the dense position the
// image records: ranks may have been renumbered since, but the column
// without the card is exactly as it was before the change (every later
// change has been undone), so the position is what makes the board exact.
func restore(ctx context.Context, tx *wtx, id int64, before sql.NullString) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM cards WHERE id = ?`, id); err != nil {
		return err
	}
	if !before.Valid {
		return nil
	}
	var r row
	if err := json.Unmarshal([]byte(before.String), &r); err != nil {
		return fmt.Errorf("bad undo image: %w", err)
	}
	if r.ID != id {
		return fmt.Errorf("undo image is of card %d", r.ID)
	}
	n, err := columnLen(ctx, tx, Status(r.Status)) // the card is deleted above
	if err != nil {
		return err
	}
	if r.Rank, err = rankFor(ctx, tx, Status(r.Status), id, min(r.Position, n)); err != nil {
		return err
	}
	_, err = insertRow(ctx, tx, r)
	return err
}

// Events returns a card's history, oldest first, comments and undone
// changes included. It works for deleted cards too; ErrNotFound if the card
// never existed.
func (b *Board) Events(ctx context.Context, id int64) ([]Event, error) {
	var out []Event
	err := b.db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+eventColumns+` FROM card_events WHERE card_id = ? ORDER BY id`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			if _, err := getRow(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: events of card %d: %w", id, err)
	}
	return out, nil
}
