package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/spindle-sh/spindle/store"
)

// ToolActor is the actor recorded in the board's history for changes the
// model makes through the kanban_* tools.
const ToolActor = "agent"

// Tool names, as the model sees them.
const (
	ToolKanbanList    = "kanban_list"
	ToolKanbanCreate  = "kanban_create"
	ToolKanbanUpdate  = "kanban_update"
	ToolKanbanMove    = "kanban_move"
	ToolKanbanComment = "kanban_comment"
)

// errNoBoard is the tool error when spindle refused to open kanban.db.
var errNoBoard = errors.New("the kanban board is unavailable (spindle refused to open kanban.db; run `spindle doctor`)")

var statusEnum = []any{"todo", "running", "blocked", "review", "done", "archived"}
var priorityEnum = []any{"low", "normal", "high", "urgent"}
var assigneeEnum = []any{"me", "agent"}

// toolDefs are the function tools offered with every request.
var toolDefs = []openai.ChatCompletionToolUnionParam{
	fn(ToolKanbanList, "List the cards on the kanban board, in column order (todo, running, blocked, review, done).", map[string]any{
		"include_archived": map[string]any{"type": "boolean", "description": "also list archived cards"},
	}),
	fn(ToolKanbanCreate, "Create a card on the kanban board. It goes to the end of its column.", map[string]any{
		"title":    map[string]any{"type": "string", "description": "short title"},
		"body":     map[string]any{"type": "string", "description": "details, markdown"},
		"status":   map[string]any{"type": "string", "enum": statusEnum, "description": "column; default todo"},
		"priority": map[string]any{"type": "string", "enum": priorityEnum, "description": "default normal"},
		"assignee": map[string]any{"type": "string", "enum": assigneeEnum, "description": "default me (the person)"},
	}, "title"),
	fn(ToolKanbanUpdate, "Change a card's title, body, priority or assignee. Omitted fields stay as they are.", map[string]any{
		"id":       map[string]any{"type": "integer"},
		"title":    map[string]any{"type": "string"},
		"body":     map[string]any{"type": "string"},
		"priority": map[string]any{"type": "string", "enum": priorityEnum},
		"assignee": map[string]any{"type": "string", "enum": assigneeEnum},
	}, "id"),
	fn(ToolKanbanMove, "Move a card to a column, optionally to a position in it (0 = top; default the end).", map[string]any{
		"id":       map[string]any{"type": "integer"},
		"status":   map[string]any{"type": "string", "enum": statusEnum},
		"position": map[string]any{"type": "integer", "description": "0-based; omit for the end"},
	}, "id", "status"),
	fn(ToolKanbanComment, "Add a comment to a card's history.", map[string]any{
		"id":   map[string]any{"type": "integer"},
		"text": map[string]any{"type": "string"},
	}, "id", "text"),
}

func fn(name, desc string, props map[string]any, required ...string) openai.ChatCompletionToolUnionParam {
	if required == nil {
		required = []string{}
	}
	return openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name:        name,
		Description: openai.String(desc),
		Parameters: shared.FunctionParameters{
			"type":                 "object",
			"properties":           props,
			"required":             required,
			"additionalProperties": false,
		},
	})
}

// cardJSON is a card as the model sees it.
type cardJSON struct {
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

func toCardJSON(c store.Card) cardJSON {
	j := cardJSON{
		ID: c.ID, Title: c.Title, Body: c.Body, Status: string(c.Status), Position: c.Position,
		Priority: c.Priority.String(), Assignee: string(c.Assignee),
		UpdatedAt: c.UpdatedAt.UTC().Format(time.RFC3339),
	}
	if !c.CompletedAt.IsZero() {
		j.CompletedAt = c.CompletedAt.UTC().Format(time.RFC3339)
	}
	return j
}

// runTool executes one tool call against the board and returns the text fed
// back to the model. A failure is returned as an error whose message is fed
// back instead (as {"error": ...}), so the model can correct itself.
func runTool(ctx context.Context, b *store.Board, name, args string) (string, error) {
	if b == nil && strings.HasPrefix(name, "kanban_") {
		return "", errNoBoard
	}
	if strings.TrimSpace(args) == "" {
		args = "{}"
	}
	dec := func(v any) error {
		d := json.NewDecoder(strings.NewReader(args))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return fmt.Errorf("%s: bad arguments: %v", name, err)
		}
		// Anything after the object (two objects run together by a model
		// merging parallel calls) would otherwise be silently dropped.
		if _, err := d.Token(); err != io.EOF {
			return fmt.Errorf("%s: bad arguments: more than one JSON value", name)
		}
		return nil
	}
	var out any
	switch name {
	case ToolKanbanList:
		var a struct {
			IncludeArchived bool `json:"include_archived"`
		}
		if err := dec(&a); err != nil {
			return "", err
		}
		cards, err := b.List(ctx, a.IncludeArchived)
		if err != nil {
			return "", err
		}
		list := make([]cardJSON, 0, len(cards))
		for _, c := range cards {
			list = append(list, toCardJSON(c))
		}
		out = map[string]any{"cards": list}
	case ToolKanbanCreate:
		var a struct {
			Title    string `json:"title"`
			Body     string `json:"body"`
			Status   string `json:"status"`
			Priority string `json:"priority"`
			Assignee string `json:"assignee"`
		}
		if err := dec(&a); err != nil {
			return "", err
		}
		if strings.TrimSpace(a.Title) == "" {
			return "", fmt.Errorf("%s: title is required", name)
		}
		nc := store.NewCard{Title: strings.TrimSpace(a.Title), Body: a.Body, Priority: store.PriorityNormal}
		var err error
		if a.Status != "" {
			if nc.Status, err = store.ParseStatus(a.Status); err != nil {
				return "", err
			}
		}
		if a.Priority != "" {
			if nc.Priority, err = store.ParsePriority(a.Priority); err != nil {
				return "", err
			}
		}
		if a.Assignee != "" {
			if nc.Assignee, err = parseAssignee(a.Assignee); err != nil {
				return "", err
			}
		}
		c, err := b.Create(ctx, ToolActor, nc)
		if err != nil {
			return "", err
		}
		out = map[string]any{"created": toCardJSON(c)}
	case ToolKanbanUpdate:
		var a struct {
			ID       int64   `json:"id"`
			Title    *string `json:"title"`
			Body     *string `json:"body"`
			Priority *string `json:"priority"`
			Assignee *string `json:"assignee"`
		}
		if err := dec(&a); err != nil {
			return "", err
		}
		var p store.CardPatch
		p.Title, p.Body = a.Title, a.Body
		if a.Priority != nil {
			pr, err := store.ParsePriority(*a.Priority)
			if err != nil {
				return "", err
			}
			p.Priority = &pr
		}
		if a.Assignee != nil {
			as, err := parseAssignee(*a.Assignee)
			if err != nil {
				return "", err
			}
			p.Assignee = &as
		}
		c, err := b.Edit(ctx, ToolActor, a.ID, p)
		if err != nil {
			return "", err
		}
		out = map[string]any{"updated": toCardJSON(c)}
	case ToolKanbanMove:
		var a struct {
			ID       int64  `json:"id"`
			Status   string `json:"status"`
			Position *int   `json:"position"`
		}
		if err := dec(&a); err != nil {
			return "", err
		}
		st, err := store.ParseStatus(a.Status)
		if err != nil {
			return "", err
		}
		pos := -1
		if a.Position != nil && *a.Position >= 0 {
			pos = *a.Position
		}
		c, err := b.Move(ctx, ToolActor, a.ID, st, pos)
		if err != nil {
			return "", err
		}
		out = map[string]any{"moved": toCardJSON(c)}
	case ToolKanbanComment:
		var a struct {
			ID   int64  `json:"id"`
			Text string `json:"text"`
		}
		if err := dec(&a); err != nil {
			return "", err
		}
		if strings.TrimSpace(a.Text) == "" {
			return "", fmt.Errorf("%s: text is required", name)
		}
		ev, err := b.Comment(ctx, ToolActor, a.ID, a.Text)
		if err != nil {
			return "", err
		}
		out = map[string]any{"commented": map[string]any{"card_id": ev.CardID, "event_id": ev.ID, "text": ev.Text}}
	default:
		return "", fmt.Errorf("unknown tool %q", name)
	}
	bs, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("%s: encode result: %w", name, err)
	}
	return string(bs), nil
}

func parseAssignee(s string) (store.Assignee, error) {
	switch a := store.Assignee(strings.ToLower(strings.TrimSpace(s))); a {
	case store.Me, store.AgentAssignee:
		return a, nil
	}
	return "", fmt.Errorf("assignee %q: want me or agent", s)
}

// toolErrorResult is what the model sees when a tool failed.
func toolErrorResult(err error) string {
	bs, _ := json.Marshal(map[string]string{"error": oneLine(err.Error())})
	return string(bs)
}
