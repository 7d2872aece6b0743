package tui

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"pgregory.net/rapid"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/tui/cell"
)

// keyPool is every kind of key the root model routes: global keys, chat
// keys and editing, slash-command text, and the kanban pane's keys.
var keyPool = []tea.KeyPressMsg{
	ctrlC, enter, esc, tab,
	{Code: '?', Text: "?"}, {Code: tea.KeyF1}, {Code: 'p', Mod: tea.ModCtrl},
	{Code: '/', Text: "/"}, {Code: 'n', Text: "n"}, {Code: 'e', Text: "e"}, {Code: 'w', Text: "w"},
	{Code: 'd', Text: "d"}, {Code: 'y', Text: "y"}, {Code: 'u', Text: "u"}, {Code: 'U', Text: "U"}, {Code: 'H', Text: "H"},
	{Code: 'L', Text: "L"}, {Code: 'J', Text: "J"}, {Code: 'K', Text: "K"}, {Code: ' ', Text: " "},
	{Code: 'j', Mod: tea.ModCtrl}, {Code: tea.KeyEnter, Mod: tea.ModAlt},
	{Code: tea.KeyPgUp}, {Code: tea.KeyPgDown}, {Code: tea.KeyHome}, {Code: tea.KeyEnd},
	{Code: tea.KeyUp}, {Code: tea.KeyDown}, {Code: tea.KeyLeft}, {Code: tea.KeyRight},
	{Code: tea.KeyUp, Mod: tea.ModShift}, {Code: tea.KeyBackspace}, {Code: tea.KeyBackspace, Mod: tea.ModAlt},
	{Code: 's', Mod: tea.ModCtrl}, {Code: 'a', Mod: tea.ModCtrl},
}

// commandPool is slash commands typed whole, valid and not.
var commandPool = []string{"/new", "/sessions", "/resume 1", "/resume x", "/model", "/model other", "/stop", "/help", "/commands", "/nope", "/"}

// deltaPool is streamed text, hostile pieces included: escape sequences
// that other deltas complete, bidi overrides, code fences.
var deltaPool = []string{"plain ", "\n\n", "```go\nx := 1\n", "\x1b[31mred\x1b]0;title\a", "# head\n", "\u202eevil",
	"\x1b]52;c;c2Vj", "cmV0\x07after", "\x1b[2", "J", "\x1bP", "dcs\x1b\\", "\u009b3", "1m"}

// TestRandomKeysSizesAndEventsKeepTheScreenWhole drives the root model
// with random key presses, pastes, wheel turns, resizes (down to 0×0) and
// turn events (escape sequences in the text included, some split across
// deltas), and checks after each step that the frame is exactly the
// terminal's size and that no model text brought an escape sequence of its
// own. Nothing may panic.
func TestRandomKeysSizesAndEventsKeepTheScreenWhole(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		h := newHarness(t, 120, 40)
		steps := rapid.IntRange(1, 50).Draw(rt, "steps")
		for i := range steps {
			switch rapid.IntRange(0, 9).Draw(rt, "action") {
			case 0:
				w, hh := rapid.IntRange(0, 200).Draw(rt, "w"), rapid.IntRange(0, 60).Draw(rt, "h")
				h.send(tea.WindowSizeMsg{Width: w, Height: hh})
			case 1:
				h.typeText(rapid.SampledFrom(commandPool).Draw(rt, "command"))
			case 2:
				h.send(tea.PasteMsg{Content: rapid.String().Draw(rt, "paste")})
			case 3:
				h.send(tea.MouseWheelMsg{X: rapid.IntRange(0, 200).Draw(rt, "x"), Button: tea.MouseWheelUp})
			case 4, 5:
				if !h.m.chat.Streaming() {
					if h.m.chat.InputValue() != "" || len(h.m.overlays) > 0 || h.m.focus != paneChat {
						continue
					}
					h.startTurn("q")
					continue
				}
				var ev agent.Event
				text := rapid.SampledFrom(deltaPool).Draw(rt, "delta")
				switch rapid.IntRange(0, 6).Draw(rt, "event") {
				case 0:
					ev = agent.ToolCall{ID: "c1", Name: "kanban_create", Arguments: `{"title":"\u001b[2J"}`}
				case 1:
					ev = agent.ToolResult{ID: "c1", Name: "kanban_create", Result: tool.OK("ok\x1b[H", "ok\x1b]0;x\a")}
				case 2:
					ev = agent.Done{Text: text}
				case 3:
					ev = agent.Interrupted{Text: text, Reason: agent.InterruptAbort}
				case 4:
					ev = agent.Failed{Text: text, Err: errors.New("boom\x1b[2J")}
				default:
					ev = agent.Delta{Text: text}
				}
				h.event(ev)
			default:
				h.key(rapid.SampledFrom(keyPool).Draw(rt, "key"))
			}
			if msg := checkFrame(h.m); msg != "" {
				rt.Fatalf("step %d: %s", i, msg)
			}
			// The board's cached lines are what a fresh draw gives: no
			// change to the pane left them stale.
			if l := h.m.computeLayout(); l.kanbanVisible && l.bodyH > 0 && h.m.width > 0 {
				cached := strings.Join(h.m.boardLines(l.kanbanW, l.bodyH), "\n")
				fresh := strings.Join(cell.Fit(strings.Split(h.m.kanban.View(), "\n"), l.kanbanW, l.bodyH), "\n")
				if cached != fresh {
					rt.Fatalf("step %d: the board's cached lines are stale", i)
				}
			}
		}
	})
}

// sgr matches the styles the UI draws: ESC [ params m.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// checkFrame says what is wrong with a frame, or "": it must be exactly
// width×height cells, and the only escape sequences in it may be the
// styles (SGR) the UI draws itself. It looks at the frame as the terminal
// gets it, escapes and all: an OSC, a cursor move, a screen clear, a C1
// control or a bidi override can only have come from text that escaped the
// sanitizer.
func checkFrame(m Model) string {
	screen := m.screen()
	if m.width <= 0 || m.height <= 0 {
		if screen != "" {
			return "non-empty screen at zero size"
		}
		return ""
	}
	lines := strings.Split(screen, "\n")
	if len(lines) != m.height {
		return "wrong number of lines"
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != m.width {
			return fmt.Sprintf("line %d is %d wide", i, w)
		}
	}
	return foreignEscape(screen)
}

// foreignEscape names the first control character, C1 control or bidi
// override left in a frame once the UI's own styles are taken out, or "".
func foreignEscape(screen string) string {
	for i, l := range strings.Split(screen, "\n") {
		for _, r := range sgr.ReplaceAllString(l, "") {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				return fmt.Sprintf("line %d carries %U, which the UI did not draw: %q", i, r, l)
			}
		}
	}
	return ""
}

// TestFrameCheckSeesForeignEscapes is the check's negative control: a frame
// with model text that bypassed the sanitizer (an OSC title, a screen
// clear, a C1 CSI, a bidi override put into a transcript line, as an
// unsanitized reply would be drawn) fails it, while the same frame with
// only the UI's own styles passes.
func TestFrameCheckSeesForeignEscapes(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.startTurn("hi")
	h.event(agent.Delta{Text: "a normal reply"})
	if msg := checkFrame(h.m); msg != "" {
		t.Fatalf("a clean frame fails the check: %s", msg)
	}
	clean := h.m.screen()
	for _, foreign := range []string{"\x1b]0;pwned\a", "\x1b[2J", "\u009b31m", "\u202eevil", "\x1b]52;c;c2VjcmV0\x07"} {
		// An unsanitized reply: the model's text reaches the frame as is.
		dirty := strings.Replace(clean, "a normal reply", "a normal"+foreign+"rep", 1)
		if dirty == clean {
			t.Fatal("the reply is not on screen")
		}
		if msg := foreignEscape(dirty); msg == "" {
			t.Errorf("the check missed %q in a frame", foreign)
		}
	}
}
