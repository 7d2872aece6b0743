package transcript

import (
	"encoding/json"
	"strings"

	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/store"
)

// FromMessages turns a session's stored messages into entries, in the same
// shapes a live turn leaves: a tool result's status says whether it failed.
func FromMessages(msgs []store.Message) []*Item {
	items := make([]*Item, 0, len(msgs))
	tools := map[string]*Item{}
	for _, msg := range msgs {
		switch msg.Role {
		case store.RoleUser:
			items = append(items, NewUser(msg.Content))
		case store.RoleAssistant:
			if msg.Content != "" || msg.Status != store.MessageComplete && msg.Status != "" {
				// A long reply (saved before max_reply_bytes, or under a
				// raised one) becomes its parts, none rendered until shown.
				parts := replyItems(msg.Content)
				items = append(items, parts...)
				it := parts[len(parts)-1]
				switch msg.Status {
				case store.MessageInterrupted:
					it.status = StatusInterrupted
				case store.MessageFailed:
					it.status = StatusFailed
					it.errMsg = sanitize.Line(msg.Error)
				}
			}
			for _, tc := range parseToolCalls(msg.ToolCalls) {
				tools[tc.toolID] = tc
				items = append(items, tc)
			}
		case store.RoleTool:
			it, ok := tools[msg.ToolCallID]
			if !ok {
				name := msg.ToolName
				if name == "" {
					name = "tool"
				}
				it = newTool(msg.ToolCallID, name, "")
				items = append(items, it)
			}
			it.toolDone = true
			it.toolErr = msg.Status == store.MessageFailed || msg.Status == store.MessageInterrupted
			screen := msg.Screen
			if screen == "" {
				screen = strings.TrimPrefix(msg.Content, "error: ")
			}
			it.toolScreen = sanitize.String(screen)
		}
	}
	for _, it := range tools {
		if !it.toolDone {
			// The turn ended (a crash, a kill) before the call's result was
			// saved: it is not running any more.
			it.toolDone, it.toolErr = true, true
			it.toolScreen = "no result was saved"
		}
	}
	return items
}

// storedToolCall is one entry of store.Message.ToolCalls (the OpenAI
// tool_calls array).
type storedToolCall struct {
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// parseToolCalls reads a stored tool_calls JSON array; malformed JSON yields
// one call that shows the raw text, so nothing is hidden.
func parseToolCalls(s string) []*Item {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var calls []storedToolCall
	if err := json.Unmarshal([]byte(s), &calls); err != nil {
		return []*Item{newTool("", "tool call", s)}
	}
	items := make([]*Item, 0, len(calls))
	for _, c := range calls {
		it := newTool(c.ID, c.Function.Name, c.Function.Arguments)
		it.toolDone = false
		items = append(items, it)
	}
	return items
}
