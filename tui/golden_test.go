package tui

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

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
	screen := steady(m.screen())
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
	tests := []struct {
		name string
		w, h int
		run  func(h *harness)
	}{
		{"empty_start", 120, 40, func(h *harness) {}},
		{"streaming_with_code", 120, 40, func(h *harness) {
			h.startTurn("How do I read a stream in Go?")
			// Stop inside the code block: closed blocks are rendered, the
			// open tail is plain text.
			cut := strings.Index(answerWithCode, "\treturn")
			h.streamIn(answerWithCode[:cut], 12)
		}},
		{"streamed_answer_with_code", 120, 40, func(h *harness) {
			h.startTurn("How do I read a stream in Go?")
			h.streamIn(answerWithCode, 24)
			h.event(agent.Done{MessageID: 2, Text: answerWithCode})
		}},
		{"interrupted_answer", 120, 40, func(h *harness) {
			h.startTurn("How do I read a stream in Go?")
			partial := answerWithCode[:strings.Index(answerWithCode, "```go")]
			h.streamIn(partial, 24)
			h.key(ctrlC)
			h.event(agent.Interrupted{MessageID: 2, Text: partial, Reason: agent.InterruptAbort})
		}},
		{"tool_call", 120, 40, func(h *harness) {
			h.startTurn("add a card write the docs")
			h.event(agent.ToolCall{ID: "call_1", Name: "kanban_create", Arguments: `{"title": "write the docs"}`})
			h.event(agent.ToolResult{ID: "call_1", Name: "kanban_create", Result: tool.OK(`{"id":1,"title":"write the docs"}`, "created #1 write the docs (todo)")})
			h.streamIn("Added card #1, **write the docs**, to To do.", 16)
			h.event(agent.Done{MessageID: 4, Text: "Added card #1, **write the docs**, to To do."})
		}},
		{"help_overlay", 120, 40, func(h *harness) { h.typeText("?") }},
		{"palette", 120, 40, func(h *harness) { h.key(tea.KeyPressMsg{Code: 'p', Mod: tea.ModCtrl}) }},
		{"palette_80x24", 80, 24, func(h *harness) { h.key(tea.KeyPressMsg{Code: 'p', Mod: tea.ModCtrl}) }},
		{"narrow_layout", 80, 24, func(h *harness) {
			h.startTurn("How do I read a stream in Go?")
			h.streamIn(answerWithCode, 24)
			h.event(agent.Done{MessageID: 2, Text: answerWithCode})
		}},
		{"narrow_layout_board_tab", 80, 24, func(h *harness) { h.key(tab) }},
		{"tiny_20x6", 20, 6, func(h *harness) {
			h.startTurn("hi")
			h.streamIn(answerWithCode, 24)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.w, tc.h)
			tc.run(h)
			checkScreen(t, h.m)
		})
	}
}

// steady removes what changes from run to run in a frame: the tokens per
// second (from the clock) and the spinner's frame (from its ticks).
func steady(screen string) string {
	screen = rateRE.ReplaceAllString(screen, "streaming")
	return spinnerRE.ReplaceAllString(screen, "⣾")
}

var (
	rateRE    = regexp.MustCompile(`streaming \d+ tok/s`)
	spinnerRE = regexp.MustCompile(`[⣾⣽⣻⢿⡿⣟⣯⣷]`)
)
