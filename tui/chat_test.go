package tui

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/sanitize/sanitizetest"
	"github.com/spindle-sh/spindle/store"
)

func TestModelOutputIsSanitized(t *testing.T) {
	evil := "ok \x1b]52;c;c2VjcmV0\x07 \x1b[2J\u202Egnp.exe\u202C \u009b31m done\r\n"
	h := newHarness(t, 120, 40)
	h.startTurn("hi")
	h.event(agent.ToolCall{ID: "c1", Name: "kanban\x1b[31m_create", Arguments: `{"title":"` + "\x1b]0;pwned\x07" + `"}`})
	h.event(agent.ToolResult{ID: "c1", Name: "kanban_create", Result: tool.OK(evil, evil)})
	h.event(agent.Delta{Text: evil})
	check := func(when string) {
		t.Helper()
		screen := h.m.screen()
		for _, bad := range []string{"\x1b]", "\x1b[2J", "\u202E", "\u009b", "\r", "\x07"} {
			if strings.Contains(screen, bad) {
				t.Errorf("%s: screen contains %q", when, bad)
			}
		}
	}
	check("streaming")
	h.event(agent.Done{Text: evil + evil})
	check("done")
}

// TestStreamedEscapesSplitAcrossDeltasAreRemovedWhole is the TUI's half of
// the streaming sanitizer's property: every hostile string, cut into
// deltas at every byte boundary, shows on screen exactly as the whole
// string sanitized. Sanitizing each delta alone (as the TUI did) shows an
// OSC payload cut in two as text.
func TestStreamedEscapesSplitAcrossDeltasAreRemovedWhole(t *testing.T) {
	h := newHarness(t, 110, 12) // the narrow layout: the chat alone
	for _, s := range sanitizetest.Hostile {
		want := strings.Join(strings.Fields(sanitize.String(s)), " ")
		for _, pieces := range sanitizetest.Splits(s) {
			h.command("/new")
			h.startTurn("q")
			for _, p := range pieces {
				if p != "" {
					h.event(agent.Delta{Text: p})
				}
			}
			// While streaming, what shows is the start of the whole text
			// sanitized (a character cut in two waits for its end).
			if got := replyLine(h.screen()); !strings.HasPrefix(want, got) {
				t.Fatalf("%q in %q: streaming shows %q, want a prefix of %q", s, pieces, got, want)
			}
			h.event(agent.Done{})
			if got := replyLine(h.screen()); got != want {
				t.Fatalf("%q in %q: shows %q, want %q", s, pieces, got, want)
			}
		}
	}
}

// replyLine is the reply's text on screen: the lines between "assistant"
// and the next blank line, joined.
func replyLine(screen string) string {
	lines := strings.Split(screen, "\n")
	var out []string
	in := false
	for _, l := range lines {
		l = strings.TrimRight(l, " ")
		switch {
		case strings.HasPrefix(l, "assistant"):
			in, out = true, nil
		case in && strings.TrimSpace(l) == "":
			in = false
		case in:
			out = append(out, strings.TrimSpace(l))
		}
	}
	return strings.Join(strings.Fields(strings.Join(out, " ")), " ")
}

// TestSmallSizesAndResizeStorm draws every size from 0×0 to 30×12 and then
// a random storm of sizes, with a transcript, a running stream and the help
// overlay, and checks each frame fills the terminal exactly.
func TestSmallSizesAndResizeStorm(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.startTurn("How do I read a stream in Go?")
	h.streamIn(answerWithCode, 20)
	h.typeText("a draft")
	h.send(tea.KeyPressMsg{Code: tea.KeyEnter, Mod: tea.ModAlt})
	h.typeText("with lines")
	check := func() {
		t.Helper()
		m := h.m
		screen := m.screen()
		if m.width <= 0 || m.height <= 0 {
			if screen != "" {
				t.Fatalf("%dx%d: non-empty screen", m.width, m.height)
			}
			return
		}
		lines := strings.Split(screen, "\n")
		if len(lines) != m.height {
			t.Fatalf("%dx%d: %d lines", m.width, m.height, len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w != m.width {
				t.Fatalf("%dx%d: line %d is %d wide", m.width, m.height, i, w)
			}
		}
		_ = m.View()
	}
	for _, help := range []bool{false, true} {
		if help {
			h.m.push(newHelpOverlay(""))
		}
		for w := 0; w <= 30; w++ {
			for hh := 0; hh <= 12; hh++ {
				h.send(tea.WindowSizeMsg{Width: w, Height: hh})
				check()
			}
		}
	}
	h.m.overlays = nil
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		h.send(tea.WindowSizeMsg{Width: r.IntN(220), Height: r.IntN(70)})
		if i%7 == 0 {
			h.event(agent.Delta{Text: "more text "})
		}
		if i%11 == 0 {
			h.key(tea.KeyPressMsg{Code: tea.KeyPgUp})
		}
		if i%13 == 0 {
			h.key(tab)
		}
		check()
	}
}

// seedSession stores a session of n messages and resumes it.
func seedSession(t testing.TB, h *harness, n int) {
	t.Helper()
	ctx := context.Background()
	s, err := h.state.CreateSession(ctx, "seeded")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m := store.Message{SessionID: s.ID, Role: store.RoleUser, Content: fmt.Sprintf("question %d: what about **this**?", i)}
		if i%2 == 1 {
			m = store.Message{SessionID: s.ID, Role: store.RoleAssistant, Content: fmt.Sprintf("Answer %d.\n\n- one point\n- another point\n\n```go\nx := %d\n```", i, i)}
		}
		if _, err := h.state.AddMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	h.command(fmt.Sprintf("/resume %d", s.ID))
	h.untilChat()
}

// topLine is the first line of the chat's history on screen (the line
// under the pane's title).
func topLine(h *harness) string {
	lines := chatLines(h)
	if len(lines) < 2 {
		return ""
	}
	return strings.TrimSpace(lines[1])
}

// chatLines are the chat pane's lines on screen (left of the rule).
func chatLines(h *harness) []string {
	var out []string
	for _, l := range strings.Split(h.screen(), "\n") {
		out = append(out, strings.SplitN(l, "│", 2)[0])
	}
	return out
}

// TestScrollingHistory checks that each scrolling key moves the window, by
// what is on screen: the first line changes, and moves the right way.
func TestScrollingHistory(t *testing.T) {
	h := newHarness(t, 120, 40)
	seedSession(t, h, 200)
	if !strings.Contains(h.screen(), "Answer 199.") {
		t.Fatal("the window does not show the newest message")
	}
	bottom := topLine(h)
	h.key(tea.KeyPressMsg{Code: tea.KeyPgUp})
	up := topLine(h)
	if up == bottom || strings.Contains(h.screen(), "Answer 199.") || !strings.Contains(h.screen(), "more below") {
		t.Fatalf("PgUp did not move the window (top line %q stayed %q)", up, bottom)
	}
	h.key(tea.KeyPressMsg{Code: tea.KeyPgUp})
	up2 := topLine(h)
	if up2 == up {
		t.Fatal("a second PgUp did not move the window")
	}
	h.key(tea.KeyPressMsg{Code: tea.KeyHome})
	if !strings.HasPrefix(topLine(h), "you") || !strings.Contains(h.screen(), "question 0:") {
		t.Fatalf("Home did not show the oldest message first (top line %q)", topLine(h))
	}
	h.key(tea.KeyPressMsg{Code: tea.KeyPgDown})
	if strings.Contains(h.screen(), "question 0:") {
		t.Fatal("PgDn did not scroll down")
	}
	// The mouse wheel over the chat scrolls; over the board it does not.
	before := strings.Join(chatLines(h), "\n")
	h.send(tea.MouseWheelMsg{X: 10, Y: 10, Button: tea.MouseWheelDown})
	if strings.Join(chatLines(h), "\n") == before {
		t.Error("wheel down over the chat did not scroll")
	}
	before = strings.Join(chatLines(h), "\n")
	h.send(tea.MouseWheelMsg{X: 110, Y: 10, Button: tea.MouseWheelDown})
	if strings.Join(chatLines(h), "\n") != before {
		t.Error("wheel over the board scrolled the chat")
	}
	h.key(tea.KeyPressMsg{Code: tea.KeyEnd})
	if !strings.Contains(h.screen(), "Answer 199.") || strings.Contains(h.screen(), "more below") {
		t.Fatal("End did not return to the newest message")
	}
	// Scrolling down past the end resumes following.
	h.key(tea.KeyPressMsg{Code: tea.KeyPgUp})
	for range 5 {
		h.key(tea.KeyPressMsg{Code: tea.KeyPgDown})
	}
	if strings.Contains(h.screen(), "more below") {
		t.Error("scrolling to the end did not resume following")
	}
}

func TestSlashCommands(t *testing.T) {
	h := newHarness(t, 120, 40)
	// A first message creates session 1.
	h.startTurn("first")
	h.event(agent.Done{Text: "reply"})
	first := h.m.chat.Session().ID
	if first == 0 {
		t.Fatal("no session after the first message")
	}
	h.command("/new")
	if h.m.chat.Session().ID != 0 || strings.Contains(h.screen(), "reply") {
		t.Errorf("/new: session %d\n%s", h.m.chat.Session().ID, h.screen())
	}
	h.command("/sessions")
	untilMsg[sessionsPageMsg](h)
	if !strings.Contains(h.screen(), fmt.Sprintf("#%d ", first)) {
		t.Errorf("/sessions does not list session %d:\n%s", first, h.screen())
	}
	h.key(esc)
	h.command(fmt.Sprintf("/resume %d", first))
	h.untilChat()
	if h.m.chat.Session().ID != first || !strings.Contains(h.screen(), "reply") {
		t.Errorf("/resume: session %d", h.m.chat.Session().ID)
	}
	h.command("/resume 999")
	h.untilChat()
	if !strings.Contains(h.statusBar(), "resume session 999") || h.m.chat.Session().ID != first {
		t.Errorf("/resume 999: status %q, session %d", h.statusBar(), h.m.chat.Session().ID)
	}
	h.command("/model other-model")
	if h.ag.Model() != "other-model" {
		t.Errorf("/model: agent model %q", h.ag.Model())
	}
	h.command("/model")
	untilMsg[modelsListedMsg](h)
	if !strings.Contains(h.screen(), "spindle-demo") {
		t.Error("/model without a name lists nothing")
	}
	h.key(esc)
	h.command("/help")
	if len(h.m.overlays) != 1 || !strings.Contains(h.screen(), "Keys") {
		t.Fatal("/help did not open the help")
	}
	h.key(esc)
	h.typeText("/bogus")
	h.key(enter)
	if !strings.Contains(h.statusBar(), "no command /bogus") || h.m.chat.InputValue() != "/bogus" {
		t.Errorf("/bogus: input %q, status %q", h.m.chat.InputValue(), h.statusBar())
	}
	h.key(ctrlC) // clears the input
	h.command("/stop")
	if !strings.Contains(h.statusBar(), "nothing is streaming") {
		t.Errorf("/stop when idle: %q", h.statusBar())
	}
	h.command("/exit")
	h.untilQuit()
}

// TestEveryCommandIsInHelpAndPalette: the help overlay and the palette
// list what the registry holds, each command once, and nothing else does.
func TestEveryCommandIsInHelpAndPalette(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.command("/help")
	help := newHelpOverlay("")
	help.render(&h.m, 120)
	text := ansi.Strip(strings.Join(help.text, "\n"))
	h.key(esc)
	h.key(tea.KeyPressMsg{Code: 'p', Mod: tea.ModCtrl})
	if len(h.m.overlays) != 1 {
		t.Fatal("ctrl+p did not open the palette")
	}
	palette := h.screen()
	for _, c := range h.m.cmds {
		if c.name != "" && strings.Count(text, c.title()) != 1 {
			t.Errorf("help lists %q %d times", c.title(), strings.Count(text, c.title()))
		}
		if !strings.Contains(palette, c.desc) {
			t.Errorf("palette lacks %q", c.desc)
		}
	}
}

// TestPaletteFiltersAndRuns: typing filters the list fuzzily, Enter runs
// the best match; a command that needs an argument goes to the input.
func TestPaletteFiltersAndRuns(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.key(tea.KeyPressMsg{Code: 'p', Mod: tea.ModCtrl})
	h.typeText("nwsess")
	if s := h.screen(); !strings.Contains(s, "start a new session") || strings.Contains(s, "every key and command") {
		t.Fatalf("filter did not narrow the list:\n%s", s)
	}
	h.key(enter)
	h.until(func(msg tea.Msg) bool { _, ok := msg.(paletteChoseMsg); return ok })
	if len(h.m.overlays) != 0 || !strings.Contains(h.screen(), "New session") {
		t.Fatalf("Enter did not run /new:\n%s", h.screen())
	}
	h.key(tea.KeyPressMsg{Code: 'p', Mod: tea.ModCtrl})
	h.typeText("resume")
	h.key(enter)
	if v := h.m.chat.InputValue(); v != "/resume " {
		t.Errorf("a command that needs an argument left input %q", v)
	}
	h.key(ctrlC) // clears the input
	h.key(tea.KeyPressMsg{Code: 'p', Mod: tea.ModCtrl})
	h.typeText("zzzzqqq")
	if !strings.Contains(h.screen(), "no command matches") {
		t.Error("no match is not said")
	}
	h.key(esc)
	if len(h.m.overlays) != 0 {
		t.Error("esc did not close the palette")
	}
}

// TestSlashTextThatIsNoCommand: a line starting with "/" that names no
// command (a path) stays in the input with a notice, and nothing is sent;
// "//" sends it as a message with one slash; several lines starting with
// "/" (a pasted log) are a message. The control: a real command is run.
func TestSlashTextThatIsNoCommand(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.typeText("/tmp/proj is my project")
	h.key(enter)
	if got := h.m.chat.InputValue(); got != "/tmp/proj is my project" || len(h.ag.Sent()) != 0 {
		t.Fatalf("a path taken for a command: input %q, sent %q", got, h.ag.Sent())
	}
	if !strings.Contains(h.statusBar(), "no command /tmp/proj") {
		t.Errorf("no notice: %q", h.statusBar())
	}
	h.key(ctrlC)
	h.typeText("//tmp/proj is my project")
	h.key(enter)
	h.untilStarted()
	if sent := h.ag.Sent(); len(sent) != 1 || sent[0] != "/tmp/proj is my project" {
		t.Fatalf("// sent %q", sent)
	}
	h.event(agent.Done{Text: "ok"})
	h.send(tea.PasteMsg{Content: "/var/log/app.log:\nERROR something failed"})
	h.key(enter)
	h.untilStarted()
	if sent := h.ag.Sent(); len(sent) != 2 || sent[1] != "/var/log/app.log:\nERROR something failed" {
		t.Fatalf("a pasted log starting with / sent %q", sent)
	}
	h.event(agent.Done{Text: "ok"})
	h.command("/help")
	if _, ok := h.top().(*helpOverlay); !ok {
		t.Fatal("the control: /help did not run")
	}
}

// TestHelpScrollsAtSmallSizes: at 80×24 the help is longer than the
// screen; the arrows reach its last line.
func TestHelpScrollsAtSmallSizes(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.command("/help")
	first := h.screen()
	if strings.Contains(first, "/quit") {
		t.Skip("the help fits at 80×24; nothing to scroll")
	}
	for range 60 {
		h.key(tea.KeyPressMsg{Code: tea.KeyDown})
	}
	if !strings.Contains(h.screen(), "/quit") {
		t.Fatalf("scrolling did not reach the end of the help:\n%s", h.screen())
	}
	h.key(tea.KeyPressMsg{Code: tea.KeyHome})
	if h.screen() != first {
		t.Error("Home did not return to the top")
	}
}

// helpMissing lists the bindings of groups that text does not show: a
// binding is shown when a line holds its key followed by the first word of
// its description.
func helpMissing(text string, groups [][]key.Binding) []string {
	lines := strings.Split(ansi.Strip(text), "\n")
	var missing []string
	for _, g := range groups {
		for _, b := range g {
			k, d := b.Help().Key, b.Help().Desc
			if !b.Enabled() || k == "" {
				continue
			}
			first, _, _ := strings.Cut(d, " ")
			found := false
			for _, l := range lines {
				if i := strings.Index(l, k+" "); i >= 0 && strings.HasPrefix(strings.TrimLeft(l[i+len(k):], " "), first) {
					found = true
					break
				}
			}
			if !found {
				missing = append(missing, k+" "+d)
			}
		}
	}
	return missing
}

// TestHelpListsEveryKey: at 80 and 120 columns the help, scrolled, lists
// every binding of every section (bubbles' full help view, which it used,
// drops the columns that do not fit: the control shows it loses the
// board's keys at 80).
func TestHelpListsEveryKey(t *testing.T) {
	for _, w := range []int{80, 120} {
		h := newHarness(t, w, 24)
		h.command("/help")
		o := h.top().(*helpOverlay)
		h.screen()
		text := strings.Join(o.text, "\n")
		k := h.m.keys
		groups := [][]key.Binding{k.Global.FullHelp(), k.Approval.FullHelp()}
		groups = append(groups, h.m.chat.FullHelp()...)
		groups = append(groups, k.Kanban.FullHelp()...)
		groups = append(groups, k.Sessions.FullHelp()...)
		groups = append(groups, k.Models.FullHelp()...)
		if missing := helpMissing(text, groups); len(missing) > 0 {
			t.Errorf("at %d columns the help lacks %q", w, missing)
		}
		for _, c := range h.m.cmds {
			if c.name != "" && !strings.Contains(ansi.Strip(text), c.title()) {
				t.Errorf("at %d columns the help lacks %s", w, c.title())
			}
		}
	}
	hm := help.New()
	hm.SetWidth(80)
	if missing := helpMissing(hm.FullHelpView(keymap.Default().Kanban.FullHelp()), keymap.Default().Kanban.FullHelp()); len(missing) == 0 {
		t.Error("the control: bubbles' full help view at 80 columns lists every board key")
	}
}

// TestHelpOpensAtTheDialogsSection: F1 in the session browser opens the
// help at the browser's keys; from the board, at the board's.
func TestHelpOpensAtTheDialogsSection(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.key(tea.KeyPressMsg{Code: tea.KeyTab})
	h.key(tea.KeyPressMsg{Code: '?', Text: "?"})
	if body := strings.Split(h.screen(), "\n"); len(body) < 2 || !strings.HasPrefix(body[1], "Board") {
		t.Fatalf("help from the board does not open at the board's keys:\n%s", h.screen())
	}
	h.key(esc)
	h.key(tea.KeyPressMsg{Code: tea.KeyTab})
	h.key(tea.KeyPressMsg{Code: '?', Text: "?"})
	if !strings.Contains(h.screen(), "Keys  (") {
		t.Fatalf("help from the chat does not open at the top:\n%s", h.screen())
	}
}

func TestInputNewlineSendAndTypeAhead(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.typeText("line one")
	h.key(tea.KeyPressMsg{Code: tea.KeyEnter, Mod: tea.ModAlt})
	h.typeText("line two")
	h.key(tea.KeyPressMsg{Code: 'j', Mod: tea.ModCtrl})
	h.typeText("three")
	if got := h.m.chat.InputValue(); got != "line one\nline two\nthree" {
		t.Fatalf("input = %q", got)
	}
	h.key(enter)
	h.untilChat()
	if !h.m.chat.Streaming() || h.m.chat.InputValue() != "" {
		t.Fatal("Enter did not send")
	}
	// Typed while the reply streams: queued, shown as such, sent once
	// when the reply ends.
	h.typeText("next question")
	h.key(enter)
	if h.m.chat.InputValue() != "" || !strings.Contains(h.screen(), "queued") || len(h.ag.Sent()) != 1 {
		t.Fatalf("type-ahead: input %q, sent %v\n%s", h.m.chat.InputValue(), h.ag.Sent(), h.screen())
	}
	h.event(agent.Delta{Text: "an answer"})
	h.event(agent.Done{Text: "an answer"})
	h.untilStarted() // the queued message's turn
	if sent := h.ag.Sent(); len(sent) != 2 || sent[1] != "next question" {
		t.Fatalf("queued message sent as %v", sent)
	}
	if strings.Contains(h.screen(), "queued") {
		t.Error("the queued mark stayed after sending")
	}
	// Ctrl-C still interrupts first; a message queued behind the
	// interrupted reply comes back to the input instead of being sent.
	h.typeText("third")
	h.key(enter)
	h.key(ctrlC)
	if len(h.ag.Interrupts()) != 1 {
		t.Fatal("Ctrl-C with a queued message did not interrupt")
	}
	h.event(agent.Interrupted{Reason: agent.InterruptAbort})
	if len(h.ag.Sent()) != 2 || h.m.chat.InputValue() != "third" {
		t.Errorf("after the interrupt: sent %v, input %q", h.ag.Sent(), h.m.chat.InputValue())
	}
}

func TestTabSwitchesFocusAndHelpToggles(t *testing.T) {
	h := newHarness(t, 80, 24)
	if !strings.Contains(h.screen(), "Ask anything") {
		t.Fatal("narrow layout does not start on the chat tab")
	}
	h.key(tab)
	if h.m.focus != paneKanban || strings.Contains(h.screen(), "Ask anything") {
		t.Fatal("tab did not switch to the board tab")
	}
	h.key(tab)
	if h.m.focus != paneChat {
		t.Fatal("tab did not switch back")
	}
	h.typeText("?")
	if len(h.m.overlays) != 1 {
		t.Fatal("? did not open help")
	}
	h.typeText("?")
	if len(h.m.overlays) != 0 {
		t.Fatal("? did not close help")
	}
	h.typeText("why?")
	if len(h.m.overlays) != 0 || h.m.chat.InputValue() != "why?" {
		t.Errorf("? in a question opened help: input %q", h.m.chat.InputValue())
	}
}

// TestMouseFocusSelectAndCopy: a click on the board focuses it and selects
// the card under the pointer; a click in the chat focuses the chat; a drag
// in the transcript copies the text through the terminal (OSC 52) and says
// so.
func TestMouseFocusSelectAndCopy(t *testing.T) {
	h := newHarness(t, 120, 40)
	for _, title := range []string{"Alpha", "Bravo"} {
		if _, err := h.board.Create(t.Context(), "me", store.NewCard{Title: title}); err != nil {
			t.Fatal(err)
		}
	}
	h.key(tab)
	h.key(tab) // back to the chat; the board reloads on its poll
	h.send(h.m.kanban.Reload()())
	// Bravo is the second card: rows 2-4 are Alpha, 5-7 Bravo.
	h.send(tea.MouseClickMsg{X: 75, Y: 6, Button: tea.MouseLeft})
	if h.m.focus != paneKanban {
		t.Fatal("a click on the board did not focus it")
	}
	if s := h.screen(); !strings.Contains(s, "▌ Bravo") {
		t.Fatalf("the click did not select Bravo:\n%s", s)
	}
	h.startTurnAfterClick(t)
	h.event(agent.Done{Text: "Copy this sentence."})
	row := -1
	for i, l := range chatLines(h) {
		if strings.Contains(l, "Copy this sentence.") {
			row = i
		}
	}
	h.send(tea.MouseClickMsg{X: 0, Y: row, Button: tea.MouseLeft})
	h.send(tea.MouseMotionMsg{X: 3, Y: row, Button: tea.MouseLeft})
	cmd := h.sendCmd(tea.MouseReleaseMsg{X: 3, Y: row, Button: tea.MouseLeft})
	if cmd == nil || !strings.Contains(h.statusBar(), "copied 4 characters") {
		t.Fatalf("the drag did not copy: cmd %v, status %q", cmd != nil, h.statusBar())
	}
}

// startTurnAfterClick focuses the chat with a click and starts a turn.
func (h *harness) startTurnAfterClick(t *testing.T) {
	t.Helper()
	h.send(tea.MouseClickMsg{X: 10, Y: 10, Button: tea.MouseLeft})
	h.send(tea.MouseReleaseMsg{X: 10, Y: 10, Button: tea.MouseLeft})
	if h.m.focus != paneChat {
		t.Fatal("a click in the chat did not focus it")
	}
	h.startTurn("q")
}
