package tui

import (
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"pgregory.net/rapid"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/store"
)

// keyPool is every kind of key the root model routes: global keys, chat
// keys and editing, slash-command text, and the kanban pane's keys.
var keyPool = []tea.KeyPressMsg{
	ctrlC, enter, esc, tab,
	{Code: '?', Text: "?"}, {Code: tea.KeyF1},
	{Code: '/', Text: "/"}, {Code: 'n', Text: "n"}, {Code: 'e', Text: "e"}, {Code: 'w', Text: "w"},
	{Code: 'd', Text: "d"}, {Code: 'y', Text: "y"}, {Code: 'u', Text: "u"}, {Code: 'H', Text: "H"},
	{Code: 'L', Text: "L"}, {Code: 'J', Text: "J"}, {Code: 'K', Text: "K"}, {Code: ' ', Text: " "},
	{Code: 'j', Mod: tea.ModCtrl}, {Code: tea.KeyEnter, Mod: tea.ModAlt},
	{Code: tea.KeyPgUp}, {Code: tea.KeyPgDown}, {Code: tea.KeyHome}, {Code: tea.KeyEnd},
	{Code: tea.KeyUp}, {Code: tea.KeyDown}, {Code: tea.KeyLeft}, {Code: tea.KeyRight},
	{Code: tea.KeyUp, Mod: tea.ModShift}, {Code: tea.KeyBackspace}, {Code: tea.KeyBackspace, Mod: tea.ModAlt},
	{Code: 's', Mod: tea.ModCtrl}, {Code: 'a', Mod: tea.ModCtrl},
}

// commandPool is slash commands typed whole, valid and not.
var commandPool = []string{"/new", "/sessions", "/resume 1", "/resume x", "/model", "/model other", "/stop", "/help", "/nope", "/"}

// TestRandomKeysSizesAndEventsKeepTheScreenWhole drives the root model
// with random key presses, pastes, wheel turns, resizes (down to 0×0) and
// turn events (escape sequences in the text included), and checks after
// each step that the frame is exactly the terminal's size and that no
// model text brought an escape sequence of its own. Nothing may panic.
func TestRandomKeysSizesAndEventsKeepTheScreenWhole(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		m := newTestModel(t, newScriptedAgent(), 120, 40)
		var ch chan agent.Event
		steps := rapid.IntRange(1, 60).Draw(rt, "steps")
		for i := range steps {
			switch rapid.IntRange(0, 9).Draw(rt, "action") {
			case 0:
				w, h := rapid.IntRange(0, 200).Draw(rt, "w"), rapid.IntRange(0, 60).Draw(rt, "h")
				m = update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
			case 1:
				m = typeText(t, m, rapid.SampledFrom(commandPool).Draw(rt, "command"))
			case 2:
				m = update(t, m, tea.PasteMsg{Content: rapid.String().Draw(rt, "paste")})
			case 3:
				m = update(t, m, tea.MouseWheelMsg{X: rapid.IntRange(0, 200).Draw(rt, "x"), Button: tea.MouseWheelUp})
			case 4, 5:
				// The turn's Send returns (once), then its events.
				if m.turn == nil {
					m = typeText(t, m, "q")
					m = update(t, m, enter)
					continue
				}
				if m.turn.events == nil {
					ch = make(chan agent.Event, 1)
					close(ch)
					m = update(t, m, turnStartedMsg{turn: m.turn.id, session: store.Session{ID: 1}, events: ch})
					continue
				}
				var ev agent.Event
				text := rapid.SampledFrom([]string{"plain ", "\n\n", "```go\nx := 1\n", "\x1b[31mred\x1b]0;title\a", "# head\n", "\u202eevil"}).Draw(rt, "delta")
				switch rapid.IntRange(0, 6).Draw(rt, "event") {
				case 0:
					ev = agent.ToolCall{ID: "c1", Name: "kanban_create", Arguments: `{"title":"\u001b[2J"}`}
				case 1:
					ev = agent.ToolResult{ID: "c1", Name: "kanban_create", Result: tool.OK("ok\x1b[H", "")}
				case 2:
					ev = agent.Done{Text: text}
				case 3:
					ev = agent.Interrupted{Text: text, Reason: agent.InterruptAbort}
				case 4:
					ev = agent.Failed{Text: text, Err: errors.New("boom\x1b[2J")}
				default:
					ev = agent.Delta{Text: text}
				}
				m = update(t, m, turnEventMsg{turn: m.turn.id, event: ev})
			default:
				m = update(t, m, rapid.SampledFrom(keyPool).Draw(rt, "key"))
			}
			checkFrame(rt, m, i)
		}
	})
}

// checkFrame: the frame is exactly width×height cells, and every escape
// sequence in it is one the UI drew (SGR styles), none from model text.
func checkFrame(rt *rapid.T, m Model, step int) {
	screen := m.screen()
	if m.width <= 0 || m.height <= 0 {
		if screen != "" {
			rt.Fatalf("step %d, %dx%d: non-empty screen", step, m.width, m.height)
		}
		return
	}
	lines := strings.Split(screen, "\n")
	if len(lines) != m.height {
		rt.Fatalf("step %d, %dx%d: %d lines", step, m.width, m.height, len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != m.width {
			rt.Fatalf("step %d, %dx%d: line %d is %d wide: %q", step, m.width, m.height, i, w, l)
		}
		if strings.Contains(ansi.Strip(l), "\x1b") || strings.ContainsRune(l, '\u202e') || strings.Contains(l, "\x1b]") || strings.Contains(l, "\a") {
			rt.Fatalf("step %d: line %d carries a foreign escape or bidi override: %q", step, i, l)
		}
	}
}
