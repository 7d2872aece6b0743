// Package board holds the tools that read and change the kanban board: the
// chat's kanban_* tools, which act on any card as the actor "agent", and a
// dispatcher worker's card_* tools, which act only on the worker's own card
// (and create cards linked to it) as the actor worker:<card id>.
package board

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
)

// Board is what the tools need from kanban.db; *store.Board implements it.
// Every method honours ctx and fails with an error that names the card.
type Board interface {
	List(ctx context.Context, includeArchived bool) ([]store.Card, error)
	Get(ctx context.Context, id int64) (store.Card, error)
	Create(ctx context.Context, actor string, c store.NewCard) (store.Card, error)
	Edit(ctx context.Context, actor string, id int64, p store.CardPatch) (store.Card, error)
	Move(ctx context.Context, actor string, id int64, to store.Status, position int) (store.Card, error)
	Comment(ctx context.Context, actor string, id int64, text string) (store.Event, error)
}

var _ Board = (*store.Board)(nil)

// ErrNoBoard is the tools' error when spindle refused to open kanban.db.
var ErrNoBoard = errors.New("the kanban board is unavailable (spindle refused to open kanban.db; run `spindle doctor`)")

// Tool names, as the model sees them.
const (
	KanbanList    = "kanban_list"
	KanbanCreate  = "kanban_create"
	KanbanUpdate  = "kanban_update"
	KanbanMove    = "kanban_move"
	KanbanComment = "kanban_comment"

	CardComment = "card_comment"
	CardDone    = "card_done"
	CardBlock   = "card_block"
	CardCreate  = "card_create"
)

var (
	statusEnum   = []any{"todo", "running", "blocked", "review", "done", "archived"}
	priorityEnum = []any{"low", "normal", "high", "urgent"}
	assigneeEnum = []any{"me", "agent"}
)

// Card is a card as the model sees it.
type Card struct {
	ID          int64  `json:"id"`
	Title       string `json:"title"`
	Body        string `json:"body,omitempty"`
	Status      string `json:"status"`
	Position    int    `json:"position"`
	Priority    string `json:"priority"`
	Assignee    string `json:"assignee"`
	UpdatedAt   string `json:"updated_at"`
	CompletedAt string `json:"completed_at,omitempty"`
}

// ToCard is c as the model sees it.
func ToCard(c store.Card) Card {
	j := Card{
		ID: c.ID, Title: c.Title, Body: c.Body, Status: string(c.Status), Position: c.Position,
		Priority: c.Priority.String(), Assignee: string(c.Assignee),
		UpdatedAt: c.UpdatedAt.UTC().Format(time.RFC3339),
	}
	if !c.CompletedAt.IsZero() {
		j.CompletedAt = c.CompletedAt.UTC().Format(time.RFC3339)
	}
	return j
}

// spec is the part every board tool shares: name, description, schema and
// the function that does the work.
type spec struct {
	name, desc string
	schema     tool.Schema
	board      Board
	run        func(ctx context.Context, b Board, call tool.Call) tool.Result
}

func (s *spec) Name() string        { return s.name }
func (s *spec) Description() string { return s.desc }
func (s *spec) Schema() tool.Schema { return s.schema }

// Run runs the tool, or says the board is unavailable.
func (s *spec) Run(ctx context.Context, call tool.Call) tool.Result {
	if s.board == nil {
		return tool.Failed(ErrNoBoard)
	}
	return s.run(ctx, s.board, call)
}

// result is a successful result: v as JSON for the model, screen for the
// transcript.
func result(v any, screen string) tool.Result {
	bs, err := json.Marshal(v)
	if err != nil {
		return tool.Errorf("encode the result: %v", err)
	}
	return tool.OK(string(bs), screen)
}

// cardLine is a card as one line of the transcript.
func cardLine(verb string, c store.Card) string {
	return fmt.Sprintf("%s #%d %s (%s)", verb, c.ID, sanitize.Line(c.Title), c.Status)
}

func parseAssignee(s string) (store.Assignee, error) {
	switch a := store.Assignee(strings.ToLower(strings.TrimSpace(s))); a {
	case store.Me, store.AgentAssignee:
		return a, nil
	}
	return "", fmt.Errorf("assignee %q: want me or agent", s)
}

// ChatTools are the kanban_* tools of the chat's model: they read and
// change any card, recorded as the actor "agent". b may be nil (the board
// was refused): every tool then says so.
func ChatTools(b Board) []tool.Tool {
	const actor = store.ActorAgent
	return []tool.Tool{
		&spec{
			name: KanbanList, board: b,
			desc: "List the cards on the kanban board, in column order (todo, running, blocked, review, done).",
			schema: tool.Schema{Properties: map[string]any{
				"include_archived": map[string]any{"type": "boolean", "description": "also list archived cards"},
			}},
			run: func(ctx context.Context, b Board, call tool.Call) tool.Result {
				var a struct {
					IncludeArchived bool `json:"include_archived"`
				}
				if err := tool.Decode(call, &a); err != nil {
					return tool.Failed(err)
				}
				cards, err := b.List(ctx, a.IncludeArchived)
				if err != nil {
					return tool.Failed(err)
				}
				list := make([]Card, 0, len(cards))
				for _, c := range cards {
					list = append(list, ToCard(c))
				}
				return result(map[string]any{"cards": list}, fmt.Sprintf("%d cards", len(cards)))
			},
		},
		&spec{
			name: KanbanCreate, board: b,
			desc: "Create a card on the kanban board. It goes to the end of its column.",
			schema: tool.Schema{Properties: map[string]any{
				"title":    map[string]any{"type": "string", "description": "short title"},
				"body":     map[string]any{"type": "string", "description": "details, markdown"},
				"status":   map[string]any{"type": "string", "enum": statusEnum, "description": "column; default todo"},
				"priority": map[string]any{"type": "string", "enum": priorityEnum, "description": "default normal"},
				"assignee": map[string]any{"type": "string", "enum": assigneeEnum, "description": "default me (the person); agent to have a worker run it"},
			}, Required: []string{"title"}},
			run: func(ctx context.Context, b Board, call tool.Call) tool.Result {
				var a struct {
					Title    string `json:"title"`
					Body     string `json:"body"`
					Status   string `json:"status"`
					Priority string `json:"priority"`
					Assignee string `json:"assignee"`
				}
				if err := tool.Decode(call, &a, "title"); err != nil {
					return tool.Failed(err)
				}
				if strings.TrimSpace(a.Title) == "" {
					return tool.Errorf("%s: title is empty", call.Name)
				}
				nc := store.NewCard{Title: strings.TrimSpace(a.Title), Body: a.Body, Priority: store.PriorityNormal}
				var err error
				if a.Status != "" {
					if nc.Status, err = store.ParseStatus(a.Status); err != nil {
						return tool.Failed(err)
					}
				}
				if a.Priority != "" {
					if nc.Priority, err = store.ParsePriority(a.Priority); err != nil {
						return tool.Failed(err)
					}
				}
				if a.Assignee != "" {
					if nc.Assignee, err = parseAssignee(a.Assignee); err != nil {
						return tool.Failed(err)
					}
				}
				c, err := b.Create(ctx, actor, nc)
				if err != nil {
					return tool.Failed(err)
				}
				return result(map[string]any{"created": ToCard(c)}, cardLine("created", c))
			},
		},
		&spec{
			name: KanbanUpdate, board: b,
			desc: "Change a card's title, body, priority or assignee. Omitted fields stay as they are.",
			schema: tool.Schema{Properties: map[string]any{
				"id":       map[string]any{"type": "integer"},
				"title":    map[string]any{"type": "string"},
				"body":     map[string]any{"type": "string"},
				"priority": map[string]any{"type": "string", "enum": priorityEnum},
				"assignee": map[string]any{"type": "string", "enum": assigneeEnum},
			}, Required: []string{"id"}},
			run: func(ctx context.Context, b Board, call tool.Call) tool.Result {
				var a struct {
					ID       int64   `json:"id"`
					Title    *string `json:"title"`
					Body     *string `json:"body"`
					Priority *string `json:"priority"`
					Assignee *string `json:"assignee"`
				}
				if err := tool.Decode(call, &a, "id"); err != nil {
					return tool.Failed(err)
				}
				var p store.CardPatch
				p.Title, p.Body = a.Title, a.Body
				if a.Priority != nil {
					pr, err := store.ParsePriority(*a.Priority)
					if err != nil {
						return tool.Failed(err)
					}
					p.Priority = &pr
				}
				if a.Assignee != nil {
					as, err := parseAssignee(*a.Assignee)
					if err != nil {
						return tool.Failed(err)
					}
					p.Assignee = &as
				}
				c, err := b.Edit(ctx, actor, a.ID, p)
				if err != nil {
					return tool.Failed(err)
				}
				return result(map[string]any{"updated": ToCard(c)}, cardLine("updated", c))
			},
		},
		&spec{
			name: KanbanMove, board: b,
			desc: "Move a card to a column, optionally to a position in it (0 = top; default the end).",
			schema: tool.Schema{Properties: map[string]any{
				"id":       map[string]any{"type": "integer"},
				"status":   map[string]any{"type": "string", "enum": statusEnum},
				"position": map[string]any{"type": "integer", "description": "0-based; omit for the end"},
			}, Required: []string{"id", "status"}},
			run: func(ctx context.Context, b Board, call tool.Call) tool.Result {
				var a struct {
					ID       int64  `json:"id"`
					Status   string `json:"status"`
					Position *int   `json:"position"`
				}
				if err := tool.Decode(call, &a, "id", "status"); err != nil {
					return tool.Failed(err)
				}
				st, err := store.ParseStatus(a.Status)
				if err != nil {
					return tool.Failed(err)
				}
				pos := -1
				if a.Position != nil && *a.Position >= 0 {
					pos = *a.Position
				}
				c, err := b.Move(ctx, actor, a.ID, st, pos)
				if err != nil {
					return tool.Failed(err)
				}
				return result(map[string]any{"moved": ToCard(c)}, cardLine("moved", c))
			},
		},
		&spec{
			name: KanbanComment, board: b,
			desc: "Add a comment to a card's history.",
			schema: tool.Schema{Properties: map[string]any{
				"id":   map[string]any{"type": "integer"},
				"text": map[string]any{"type": "string"},
			}, Required: []string{"id", "text"}},
			run: func(ctx context.Context, b Board, call tool.Call) tool.Result {
				var a struct {
					ID   int64  `json:"id"`
					Text string `json:"text"`
				}
				if err := tool.Decode(call, &a, "id", "text"); err != nil {
					return tool.Failed(err)
				}
				if strings.TrimSpace(a.Text) == "" {
					return tool.Errorf("%s: text is empty", call.Name)
				}
				ev, err := b.Comment(ctx, actor, a.ID, a.Text)
				if err != nil {
					return tool.Failed(err)
				}
				return result(map[string]any{"commented": map[string]any{"card_id": ev.CardID, "event_id": ev.ID, "text": ev.Text}},
					fmt.Sprintf("commented on #%d", ev.CardID))
			},
		},
	}
}
