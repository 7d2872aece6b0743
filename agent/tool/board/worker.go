package board

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
)

// Verdict is what a worker's card_done or card_block said; the dispatcher
// reads it when the worker's turn ends and moves the card then, in the
// same transaction that ends the run.
type Verdict struct {
	mu      sync.Mutex
	done    string // the summary, when card_done was called
	blocked string // the reason, when card_block was called
}

// Result returns the verdict: the summary of a finished card, or the
// reason it is blocked ("" for each when the tool was not called).
func (v *Verdict) Result() (done, blocked string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.done, v.blocked
}

// WorkerTools are the card_* tools of the worker running card id: they
// act on that card only (comments, its verdict) and create new cards
// linked to it, all as the actor worker:<id>. The worker cannot move or
// edit any card: its card moves when its run ends.
func WorkerTools(b Board, id int64, v *Verdict) []tool.Tool {
	actor := store.WorkerActor(id)
	text := func(call tool.Call, field string) (string, *tool.Result) {
		var a map[string]string
		if err := tool.Decode(call, &a, field); err != nil {
			r := tool.Failed(err)
			return "", &r
		}
		s := strings.TrimSpace(a[field])
		if s == "" {
			r := tool.Errorf("%s: %s is empty", call.Name, field)
			return "", &r
		}
		for k := range a {
			if k != field {
				r := tool.Errorf("%s: bad arguments: unknown field %q", call.Name, k)
				return "", &r
			}
		}
		return s, nil
	}
	return []tool.Tool{
		&spec{
			name: CardComment, board: b,
			desc: fmt.Sprintf("Add a progress comment to your card (#%d). The person sees it in the card's history.", id),
			schema: tool.Schema{Properties: map[string]any{
				"text": map[string]any{"type": "string"},
			}, Required: []string{"text"}},
			run: func(ctx context.Context, b Board, call tool.Call) tool.Result {
				s, bad := text(call, "text")
				if bad != nil {
					return *bad
				}
				if _, err := b.Comment(ctx, actor, id, s); err != nil {
					return tool.Failed(err)
				}
				return tool.OK(`{"commented":true}`, "commented: "+sanitize.Line(s))
			},
		},
		&spec{
			name: CardDone, board: b,
			desc: fmt.Sprintf("Finish your card (#%d): it goes to Review with your one-line summary. Call it last.", id),
			schema: tool.Schema{Properties: map[string]any{
				"summary": map[string]any{"type": "string", "description": "what you did, one line"},
			}, Required: []string{"summary"}},
			run: func(ctx context.Context, b Board, call tool.Call) tool.Result {
				s, bad := text(call, "summary")
				if bad != nil {
					return *bad
				}
				v.mu.Lock()
				v.done, v.blocked = s, ""
				v.mu.Unlock()
				return tool.OK(`{"done":true,"next":"the card goes to Review when you end your turn"}`, "done: "+sanitize.Line(s))
			},
		},
		&spec{
			name: CardBlock, board: b,
			desc: fmt.Sprintf("Stop working on your card (#%d) because you cannot go on: it goes to Blocked with your reason.", id),
			schema: tool.Schema{Properties: map[string]any{
				"reason": map[string]any{"type": "string", "description": "why, and what the person should do"},
			}, Required: []string{"reason"}},
			run: func(ctx context.Context, b Board, call tool.Call) tool.Result {
				s, bad := text(call, "reason")
				if bad != nil {
					return *bad
				}
				v.mu.Lock()
				v.blocked, v.done = s, ""
				v.mu.Unlock()
				return tool.OK(`{"blocked":true}`, "blocked: "+sanitize.Line(s))
			},
		},
		&spec{
			name: CardCreate, board: b,
			desc: fmt.Sprintf("Create a new card for follow-up work, linked to your card (#%d). It goes to To do, assigned to the person.", id),
			schema: tool.Schema{Properties: map[string]any{
				"title": map[string]any{"type": "string"},
				"body":  map[string]any{"type": "string"},
			}, Required: []string{"title"}},
			run: func(ctx context.Context, b Board, call tool.Call) tool.Result {
				var a struct {
					Title string `json:"title"`
					Body  string `json:"body"`
				}
				if err := tool.Decode(call, &a, "title"); err != nil {
					return tool.Failed(err)
				}
				if strings.TrimSpace(a.Title) == "" {
					return tool.Errorf("%s: title is empty", call.Name)
				}
				c, err := b.Create(ctx, actor, store.NewCard{Title: strings.TrimSpace(a.Title), Body: a.Body, Priority: store.PriorityNormal, Parent: id})
				if err != nil {
					return tool.Failed(err)
				}
				return result(map[string]any{"created": ToCard(c)}, cardLine("created", c))
			},
		},
	}
}
