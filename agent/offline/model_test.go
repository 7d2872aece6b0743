package offline

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestCardTitles(t *testing.T) {
	tests := []struct {
		prompt string
		title  string
		isCard bool
	}{
		{"add a card Buy milk", "Buy milk", true},
		{"Add card: Buy milk.", "Buy milk", true},
		{"ADD A CARD 'Buy milk'", "Buy milk", true},
		{`create a card called "Ship v1"`, "Ship v1", true},
		{"create a card titled “Ship v1”!", "Ship v1", true},
		{"Please add a new card named `Fix login`", "Fix login", true},
		{"could you add a card for the release notes?", "the release notes", true},
		{"add a card to the board titled Plan Q3", "Plan Q3", true},
		{"add a card called \"Say \"hi\"\"", `Say "hi"`, true},
		{"add a card\n  spanning\tlines ", "spanning lines", true},
		{"add a card: fix the function called twice", "fix the function called twice", true},
		{"add a card on my board named: Tidy up", "Tidy up", true},
		{"add a card", "", true},
		{"add a card called", "", true},
		{"create card: ", "", true},
		{"tell me about cards", "", false},
		{"add cards to the deck", "", false},
		{"discard the card", "", false},
	}
	for _, tt := range tests {
		title, ok := cardTitle(tt.prompt)
		if ok != tt.isCard || title != tt.title {
			t.Errorf("cardTitle(%q) = %q, %v; want %q, %v", tt.prompt, title, ok, tt.title, tt.isCard)
		}
	}
}

func TestReplyKinds(t *testing.T) {
	withTool := []toolDef{kanbanCreateDef()}
	tests := []struct {
		name     string
		messages []chatMessage
		tools    []toolDef
		choice   string
		kind     string
	}{
		{"long", []chatMessage{user("How does the transport work?")}, withTool, "", replyLong},
		{"hello", []chatMessage{user("Hello!")}, nil, "", replyShort},
		{"hi", []chatMessage{user("hi")}, nil, "", replyShort},
		{"short", []chatMessage{user("Give me a short answer")}, nil, "", replyShort},
		{"this is not hi", []chatMessage{user("this thing, which shows history")}, nil, "", replyLong},
		{"card", []chatMessage{user("add a card X")}, withTool, "", replyToolCall},
		{"card beats hello", []chatMessage{user("hi, add a card X")}, withTool, "", replyToolCall},
		{"card without title", []chatMessage{user("add a card")}, withTool, "", replyNeedTitle},
		{"card without tools", []chatMessage{user("add a card X")}, nil, "", replyNoTool},
		{"card with tool_choice none", []chatMessage{user("add a card X")}, withTool, `"none"`, replyNoTool},
		{"tool result", []chatMessage{user("add a card X"), {Role: "assistant", ToolCalls: []toolCall{{ID: "c1", Function: toolFunction{Name: createTool}}}}, {Role: "tool", ToolCallID: "c1", Content: mustJSON(`{"id":1}`)}}, withTool, "", replyConfirm},
		{"last user decides", []chatMessage{user("add a card X"), {Role: "assistant", Content: mustJSON("ok")}, user("hello")}, withTool, "", replyShort},
		{"system only", []chatMessage{{Role: "system", Content: mustJSON("be nice")}}, nil, "", replyLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := chatRequest{Messages: tt.messages, Tools: tt.tools}
			if tt.choice != "" {
				req.ToolChoice = []byte(tt.choice)
			}
			if _, err := req.validate(); err != nil {
				t.Fatal(err)
			}
			r := planReply(&req)
			if r.kind != tt.kind {
				t.Fatalf("kind = %s, want %s", r.kind, tt.kind)
			}
			joined := strings.Join(r.pieces, "")
			if r.call != nil {
				if joined != r.call.Function.Arguments || r.text != "" || r.finish != "tool_calls" {
					t.Fatalf("tool call pieces %q do not add up to %q", joined, r.call.Function.Arguments)
				}
			} else if joined != r.text || r.text == "" || r.finish != "stop" {
				t.Fatalf("pieces do not add up to the text")
			}
		})
	}
}

func user(text string) chatMessage { return chatMessage{Role: "user", Content: mustJSON(text)} }

func TestConfirmation(t *testing.T) {
	tests := []struct{ tool, result, want string }{
		{"kanban_create", `{"id": 12, "title": "Ship it", "status": "todo"}`, "Done: **Ship it** is on the board as card #12 in *todo*."},
		{"kanban_create", `{"card": {"ID": 3, "Title": "Nested"}}`, "Done: **Nested** is on the board as card #3."},
		{"kanban_create", `{"created": {"id": 1, "title": "Write the docs", "status": "todo"}}`, "Done: **Write the docs** is on the board as card #1 in *todo*."},
		{"kanban_move", `{"moved": {"id": 4, "title": "Ship", "status": "done"}}`, "Done: **Ship** is on the board as card #4 in *done*."},
		{"kanban_create", `{"title": "No id"}`, "Done: **No id** is on the board."},
		{"kanban_create", `{"error": "board unavailable"}`, "The `kanban_create` tool failed: board unavailable"},
		{"kanban_create", "error: board refused", "The `kanban_create` tool failed: error: board refused"},
		{"kanban_list", `[{"id":1},{"id":2}]`, "The `kanban_list` tool returned 2 item(s)"},
		{"kanban_move", "moved\ncard 4", "The `kanban_move` tool answered: moved card 4"},
		{"", "", "The `tool` tool finished without saying anything"},
		{"x", strings.Repeat("long ", 100), "…"},
	}
	for _, tt := range tests {
		if got := confirmation(tt.tool, tt.result); !strings.Contains(got, tt.want) || strings.Count(got, "\n") > 4 {
			t.Errorf("confirmation(%q, %q) = %q, want it to contain %q", tt.tool, tt.result, got, tt.want)
		}
	}
}

// TestAnswerShapes pins what the answers are made of: every long answer has
// headings, paragraphs, a bulleted list and one Go block of 10 to 15 lines,
// and lasts 6 to 10 seconds at the default pace; short ones about a second.
func TestAnswerShapes(t *testing.T) {
	for i, a := range longAnswers {
		if !strings.HasPrefix(a, "# ") || strings.Count(a, "\n## ") < 2 || strings.Count(a, "\n- ") < 3 || strings.Count(a, "```go\n") != 1 || strings.Count(a, "\n```\n") != 1 {
			t.Errorf("long answer %d lacks a heading, sections, a list or exactly one Go block", i)
		}
		code := strings.SplitN(strings.SplitN(a, "```go\n", 2)[1], "```", 2)[0]
		if n := strings.Count(code, "\n"); n < 10 || n > 15 {
			t.Errorf("long answer %d: Go block has %d lines, want 10-15", i, n)
		}
		p := planFor(promptForVariant(t, i))
		if d := time.Duration(len(p.pieces)) * DefaultTokenDelay; d < 6*time.Second || d > 10*time.Second {
			t.Errorf("long answer %d: %d chunks last %v at the default pace, want 6-10 s", i, len(p.pieces), d)
		}
	}
	for i, a := range shortAnswers {
		p := planFor(promptForShort(t, i))
		if d := time.Duration(len(p.pieces)) * DefaultTokenDelay; d < 400*time.Millisecond || d > 1500*time.Millisecond || strings.Count(a, "\n") > 8 {
			t.Errorf("short answer %d: %d chunks (%v), %d lines", i, len(p.pieces), d, strings.Count(a, "\n"))
		}
	}
}

func TestSplitWordsAddsUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, text := range append([]string{"", " ", "a", "  lead and trail  ", "tabs\tand\n\nnewlines\n"}, longAnswers...) {
		pieces := splitWords(text, rng)
		if strings.Join(pieces, "") != text {
			t.Fatalf("pieces of %q do not add up", text)
		}
		for _, p := range pieces {
			if n := len(strings.Fields(p)); p == "" || n > 4 {
				t.Fatalf("piece %q has %d words", p, n)
			}
		}
	}
	args := `{"title":"Café ☕ über 日本語"}`
	for range 50 {
		pieces := splitBytes(args, rng)
		if strings.Join(pieces, "") != args {
			t.Fatal("argument pieces do not add up")
		}
		for _, p := range pieces {
			if !strings.ContainsRune(p, 0xFFFD) && !isValidUTF8(p) {
				t.Fatalf("piece %q splits a UTF-8 sequence", p)
			}
		}
	}
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestEffectiveDelay(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		0: DefaultTokenDelay, -1: 0, time.Nanosecond: 0, time.Microsecond: time.Microsecond, 5 * time.Millisecond: 5 * time.Millisecond,
	} {
		if got := effectiveDelay(in); got != want {
			t.Errorf("effectiveDelay(%v) = %v, want %v", in, got, want)
		}
	}
}

// promptForShort finds a greeting whose answer is shortAnswers[v].
func promptForShort(t testing.TB, v int) string {
	t.Helper()
	for i := range 100 {
		p := fmt.Sprintf("hello %d", i)
		if Reply(p) == shortAnswers[v] {
			return p
		}
	}
	t.Fatalf("no greeting reaches short answer %d", v)
	return ""
}
