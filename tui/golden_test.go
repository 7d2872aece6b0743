package tui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/tool"
)

// answerWithCode is a reply as the model streams it: a heading, a list and
// a fenced Go block.
const answerWithCode = "## Reading a stream\n\nA client reads one event at a time:\n\n" +
	"- append each delta\n- flush often\n\n" +
	"```go\nfunc read(r io.Reader) error {\n\tsc := bufio.NewScanner(r)\n\tfor sc.Scan() {\n\t\tfmt.Println(sc.Text())\n\t}\n\treturn sc.Err()\n}\n```\n\n" +
	"That is all it takes.\n"

// streamIn feeds text to the running turn in chunks of n bytes, 16 ms
// apart (fixed timestamps keep the tokens/s figure stable).
func streamIn(t testing.TB, m Model, text string, n int, start time.Time) Model {
	t.Helper()
	at := start
	for len(text) > 0 {
		k := min(n, len(text))
		m = event(t, m, agent.Delta{Text: text[:k]}, at)
		text = text[k:]
		at = at.Add(16 * time.Millisecond)
	}
	return m
}

// ansi256 passes a frame through the colour downsampling a 256-colour
// terminal gets, so the styled goldens hold one fixed colour profile
// whatever the styles and chroma emit.
func ansi256(t *testing.T, screen string) string {
	t.Helper()
	var buf bytes.Buffer
	w := colorprofile.NewWriter(&buf, nil)
	w.Profile = colorprofile.ANSI256
	if _, err := w.WriteString(screen); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// checkScreen compares the screen with two golden files: the text as a
// person sees it, and the same with its styling (escape sequences shown).
// Run with -update to refresh them.
func checkScreen(t *testing.T, m Model) {
	t.Helper()
	screen := m.screen()
	lines := strings.Split(screen, "\n")
	if len(lines) != m.height {
		t.Errorf("screen has %d lines, want %d", len(lines), m.height)
	}
	for i, l := range lines {
		if strings.ContainsRune(l, '\t') {
			t.Errorf("line %d holds a tab: its width on screen is unknown", i)
		}
		if w := ansi.StringWidth(l); w != m.width {
			t.Errorf("line %d is %d cells wide, want %d: %q", i, w, m.width, ansi.Strip(l))
		}
	}
	t.Run("text", func(t *testing.T) { golden.RequireEqual(t, ansi.Strip(screen)) })
	t.Run("styled", func(t *testing.T) { golden.RequireEqualEscape(t, []byte(ansi256(t, screen)), true) })
}

func TestGoldenScreens(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		w, h int
		run  func(t *testing.T, m Model) Model
	}{
		{"empty_start", 120, 40, func(t *testing.T, m Model) Model { return m }},
		{"streaming_with_code", 120, 40, func(t *testing.T, m Model) Model {
			m = startTurn(t, m, "How do I read a stream in Go?")
			// Stop inside the code block: closed blocks are rendered, the
			// open tail is plain text.
			cut := strings.Index(answerWithCode, "\treturn")
			return streamIn(t, m, answerWithCode[:cut], 12, start)
		}},
		{"streamed_answer_with_code", 120, 40, func(t *testing.T, m Model) Model {
			m = startTurn(t, m, "How do I read a stream in Go?")
			m = streamIn(t, m, answerWithCode, 24, start)
			return event(t, m, agent.Done{MessageID: 2, Text: answerWithCode}, start.Add(time.Second))
		}},
		{"interrupted_answer", 120, 40, func(t *testing.T, m Model) Model {
			m = startTurn(t, m, "How do I read a stream in Go?")
			partial := answerWithCode[:strings.Index(answerWithCode, "```go")]
			m = streamIn(t, m, partial, 24, start)
			m = update(t, m, ctrlC)
			return event(t, m, agent.Interrupted{MessageID: 2, Text: partial, Reason: "interrupt_abort"}, start.Add(time.Second))
		}},
		{"tool_call", 120, 40, func(t *testing.T, m Model) Model {
			m = startTurn(t, m, "add a card write the docs")
			m = event(t, m, agent.ToolCall{ID: "call_1", Name: "kanban_create", Arguments: `{"title": "write the docs"}`}, start)
			m = event(t, m, agent.ToolResult{ID: "call_1", Name: "kanban_create", Result: tool.OK(`{"id":1,"title":"write the docs"}`, "created #1 write the docs (todo)")}, start)
			m = streamIn(t, m, "Added card #1, **write the docs**, to To do.", 16, start)
			return event(t, m, agent.Done{MessageID: 4, Text: "Added card #1, **write the docs**, to To do."}, start)
		}},
		{"help_overlay", 120, 40, func(t *testing.T, m Model) Model {
			return update(t, m, tea.KeyPressMsg{Code: '?', Text: "?"})
		}},
		{"narrow_layout", 80, 24, func(t *testing.T, m Model) Model {
			m = startTurn(t, m, "How do I read a stream in Go?")
			m = streamIn(t, m, answerWithCode, 24, start)
			return event(t, m, agent.Done{MessageID: 2, Text: answerWithCode}, start.Add(time.Second))
		}},
		{"narrow_layout_board_tab", 80, 24, func(t *testing.T, m Model) Model {
			return update(t, m, tab)
		}},
		{"tiny_20x6", 20, 6, func(t *testing.T, m Model) Model {
			m = startTurn(t, m, "hi")
			return streamIn(t, m, answerWithCode, 24, start)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestModel(t, newScriptedAgent(), tc.w, tc.h)
			m = tc.run(t, m)
			checkScreen(t, m)
		})
	}
}
