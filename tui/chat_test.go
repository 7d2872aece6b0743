package tui

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/store"
)

func TestModelOutputIsSanitized(t *testing.T) {
	evil := "ok \x1b]52;c;c2VjcmV0\x07 \x1b[2J\u202Egnp.exe\u202C \u009b31m done\r\n"
	ag := newScriptedAgent()
	m := newTestModel(t, ag, 120, 40)
	m = startTurn(t, m, "hi")
	m = event(t, m, agent.ToolCall{ID: "c1", Name: "kanban\x1b[31m_create", Arguments: `{"title":"` + "\x1b]0;pwned\x07" + `"}`}, time.Now())
	m = event(t, m, agent.ToolResult{ID: "c1", Name: "kanban_create", Result: tool.OK(evil, evil)}, time.Now())
	m = event(t, m, agent.Delta{Text: evil}, time.Now())
	check := func(when string) {
		t.Helper()
		screen := m.screen()
		for _, bad := range []string{"\x1b]", "\x1b[2J", "\u202E", "\u009b", "\r", "\x07"} {
			if strings.Contains(screen, bad) {
				t.Errorf("%s: screen contains %q", when, bad)
			}
		}
	}
	check("streaming")
	m = event(t, m, agent.Done{Text: evil + evil}, time.Now())
	check("done")
	// Negative control: the same check does see an unsanitized string.
	if !strings.Contains(evil, "\x1b]") {
		t.Fatal("the sample holds no escape sequence")
	}
}

// TestSmallSizesAndResizeStorm draws every size from 0×0 to 30×12 and then a
// random storm of sizes, with a transcript, a running stream and the help
// overlay, and checks each frame fills the terminal exactly.
func TestSmallSizesAndResizeStorm(t *testing.T) {
	ag := newScriptedAgent()
	m := newTestModel(t, ag, 120, 40)
	m = startTurn(t, m, "How do I read a stream in Go?")
	m = streamIn(t, m, answerWithCode, 20, time.Now())
	m = typeText(t, m, "a draft\nwith lines")
	check := func(m Model) {
		t.Helper()
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
		m.showHelp = help
		for w := 0; w <= 30; w++ {
			for h := 0; h <= 12; h++ {
				m = update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
				check(m)
			}
		}
	}
	m.showHelp = false
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		m = update(t, m, tea.WindowSizeMsg{Width: r.IntN(220), Height: r.IntN(70)})
		if i%7 == 0 {
			m = event(t, m, agent.Delta{Text: "more text "}, time.Now())
		}
		if i%11 == 0 {
			m = update(t, m, tea.KeyPressMsg{Code: tea.KeyPgUp})
		}
		if i%13 == 0 {
			m = update(t, m, tab)
		}
		check(m)
	}
}

// plain is the screen as text.
func plain(m Model) string { return ansi.Strip(m.screen()) }

// transcript fills the history with n finished messages.
func transcript(m Model, n int) Model {
	items := make([]*item, 0, n)
	for i := range n {
		if i%2 == 0 {
			items = append(items, newItem(kindUser, fmt.Sprintf("question %d: what about **this**?", i)))
		} else {
			items = append(items, newItem(kindAssistant, fmt.Sprintf("Answer %d.\n\n- one point\n- another point\n\n```go\nx := %d\n```", i, i)))
		}
	}
	m.hist.reset(items)
	return m
}

func TestScrollingHistory(t *testing.T) {
	m := newTestModel(t, newScriptedAgent(), 120, 40)
	m = transcript(m, 200)
	if !strings.Contains(plain(m), "Answer 199.") {
		t.Fatal("the window does not show the newest message")
	}
	m = update(t, m, tea.KeyPressMsg{Code: tea.KeyPgUp})
	if m.hist.follow || strings.Contains(plain(m), "Answer 199.") || !strings.Contains(plain(m), "more below") {
		t.Fatal("PgUp did not scroll up")
	}
	m = update(t, m, tea.KeyPressMsg{Code: tea.KeyHome})
	if !strings.Contains(plain(m), "question 0:") {
		t.Fatal("Home did not show the oldest message")
	}
	m = update(t, m, tea.KeyPressMsg{Code: tea.KeyPgDown})
	if strings.Contains(plain(m), "question 0:") {
		t.Fatal("PgDn did not scroll down")
	}
	// The mouse wheel over the chat scrolls too; over the board it does not.
	before := m.hist.topLine + 1000*m.hist.topItem
	m = update(t, m, tea.MouseWheelMsg{X: 10, Y: 10, Button: tea.MouseWheelDown})
	if after := m.hist.topLine + 1000*m.hist.topItem; after <= before {
		t.Error("wheel down over the chat did not scroll")
	}
	before = m.hist.topLine + 1000*m.hist.topItem
	m = update(t, m, tea.MouseWheelMsg{X: 110, Y: 10, Button: tea.MouseWheelDown})
	if after := m.hist.topLine + 1000*m.hist.topItem; after != before {
		t.Error("wheel over the board scrolled the chat")
	}
	m = update(t, m, tea.KeyPressMsg{Code: tea.KeyEnd})
	if !m.hist.follow || !strings.Contains(plain(m), "Answer 199.") {
		t.Fatal("End did not return to the newest message")
	}
	// Scrolling down past the end resumes following.
	m = update(t, m, tea.KeyPressMsg{Code: tea.KeyPgUp})
	for range 5 {
		m = update(t, m, tea.KeyPressMsg{Code: tea.KeyPgDown})
	}
	if !m.hist.follow {
		t.Error("scrolling to the end did not resume following")
	}
}

// TestHistoryWindowMatchesFullLayout compares the window with a slice of the
// whole transcript laid out at once, for every scroll position.
func TestHistoryWindowMatchesFullLayout(t *testing.T) {
	m := newTestModel(t, newScriptedAgent(), 100, 30)
	m = transcript(m, 30)
	r := m.renderer(60)
	var all []string
	for _, it := range m.hist.items {
		all = append(all, it.lines(60, m.md, m.st, "")...)
	}
	const h = 10
	m.hist.top()
	for pos := 0; pos+h <= len(all); pos++ {
		got, _ := m.hist.window(r, h)
		if strings.Join(got, "\n") != strings.Join(all[pos:pos+h], "\n") {
			t.Fatalf("window at line %d differs from the full layout", pos)
		}
		m.hist.scroll(r, h, 1)
	}
	if !m.hist.follow {
		t.Error("reaching the end did not resume following")
	}
}

func TestSlashCommands(t *testing.T) {
	ag := newScriptedAgent()
	m := newTestModel(t, ag, 120, 40)
	run := func(cmdline string) (Model, tea.Cmd) {
		m = typeText(t, m, cmdline)
		return updateCmd(t, m, enter)
	}
	// A first message creates session 1.
	m = startTurn(t, m, "first")
	m = event(t, m, agent.Done{Text: "reply"}, time.Now())
	first := m.session.ID
	if first == 0 {
		t.Fatal("no session after the first message")
	}
	m, _ = run("/new")
	if m.session.ID != 0 || len(m.hist.items) != 1 {
		t.Errorf("/new: session %d, %d items", m.session.ID, len(m.hist.items))
	}
	m, cmd := run("/sessions")
	m = update(t, m, cmdMsg(t, cmd))
	if !strings.Contains(plain(m), fmt.Sprintf("%d  ", first)) {
		t.Errorf("/sessions does not list session %d:\n%s", first, plain(m))
	}
	m, cmd = run(fmt.Sprintf("/resume %d", first))
	m = update(t, m, cmdMsg(t, cmd))
	if m.session.ID != first {
		t.Errorf("/resume: session %d", m.session.ID)
	}
	m, cmd = run("/resume 999")
	m = update(t, m, cmdMsg(t, cmd))
	if m.errText == "" || m.session.ID != first {
		t.Errorf("/resume 999: err %q, session %d", m.errText, m.session.ID)
	}
	m, _ = run("/model other-model")
	if ag.Model() != "other-model" {
		t.Errorf("/model: agent model %q", ag.Model())
	}
	m, cmd = run("/model")
	m = update(t, m, cmdMsg(t, cmd))
	if !strings.Contains(plain(m), "Available") {
		t.Error("/model without a name lists nothing")
	}
	m, _ = run("/help")
	if !m.showHelp {
		t.Error("/help did not open the help")
	}
	m = update(t, m, esc)
	m, _ = run("/bogus")
	if !strings.Contains(m.errText, "unknown command") {
		t.Errorf("/bogus: %q", m.errText)
	}
	m, _ = run("/stop")
	if m.notice == "" {
		t.Error("/stop when idle says nothing")
	}
	_, cmd = run("/quit")
	if !isQuit(t, cmd) {
		t.Error("/quit did not quit")
	}
}

func TestInputNewlineAndSend(t *testing.T) {
	ag := newScriptedAgent()
	m := newTestModel(t, ag, 120, 40)
	m = typeText(t, m, "line one")
	m = update(t, m, tea.KeyPressMsg{Code: tea.KeyEnter, Mod: tea.ModAlt})
	m = typeText(t, m, "line two")
	m = update(t, m, tea.KeyPressMsg{Code: 'j', Mod: tea.ModCtrl})
	m = typeText(t, m, "three")
	if got := m.input.Value(); got != "line one\nline two\nthree" {
		t.Fatalf("input = %q", got)
	}
	if l := m.computeLayout(); l.inputH != 3 {
		t.Errorf("input height %d, want 3", l.inputH)
	}
	m = update(t, m, enter)
	if m.turn == nil || m.input.Value() != "" {
		t.Fatal("Enter did not send")
	}
	// Sending while a reply streams is refused, the input is kept.
	m = typeText(t, m, "again")
	m = update(t, m, enter)
	if m.input.Value() != "again" || m.errText == "" {
		t.Errorf("second send: input %q err %q", m.input.Value(), m.errText)
	}
}

func TestTabSwitchesFocusAndHelpToggles(t *testing.T) {
	m := newTestModel(t, newScriptedAgent(), 80, 24)
	if !strings.Contains(plain(m), "Ask anything") {
		t.Fatal("narrow layout does not start on the chat tab")
	}
	m = update(t, m, tab)
	if m.focus != paneKanban || strings.Contains(plain(m), "Ask anything") {
		t.Fatal("tab did not switch to the board tab")
	}
	m = update(t, m, tab)
	if m.focus != paneChat {
		t.Fatal("tab did not switch back")
	}
	m = update(t, m, tea.KeyPressMsg{Code: '?', Text: "?"})
	if !m.showHelp {
		t.Fatal("? did not open help")
	}
	m = update(t, m, tea.KeyPressMsg{Code: '?', Text: "?"})
	if m.showHelp {
		t.Fatal("? did not close help")
	}
	m = typeText(t, m, "why?")
	if m.showHelp || m.input.Value() != "why?" {
		t.Errorf("? in a question opened help: input %q", m.input.Value())
	}
}

func TestNoTickerWhenIdle(t *testing.T) {
	ag := newScriptedAgent()
	m := newTestModel(t, ag, 120, 40)
	m = startTurn(t, m, "hi")
	m = event(t, m, agent.Done{Text: "ok"}, time.Now())
	// A spinner tick arriving after the turn is dropped: no re-arm.
	if _, cmd := updateCmd(t, m, m.spinner.Tick()); cmd != nil {
		t.Error("spinner re-armed while idle")
	}
	// The input draws the terminal's cursor: no blink timer.
	if m.input.VirtualCursor() {
		t.Error("the input uses a virtual (blinking, ticking) cursor")
	}
}

// TestStreamingRendersEachBlockOnce streams a reply in small deltas with a
// frame after each and counts glamour calls: one per closed block while
// streaming, however many frames, then none for frames of the finished
// history. Re-rendering the open message every frame (the unusable
// strategy in DESIGN.md) would make one call per frame.
func TestStreamingRendersEachBlockOnce(t *testing.T) {
	m := newTestModel(t, newScriptedAgent(), 120, 40)
	m = startTurn(t, m, "stream")
	start := m.md.renders
	frames := 0
	at := time.Now()
	for rest := answerWithCode; len(rest) > 0; frames++ {
		k := min(8, len(rest))
		m = event(t, m, agent.Delta{Text: rest[:k]}, at)
		rest = rest[k:]
		_ = m.View()
	}
	var sc blockScanner
	sc.scan(answerWithCode)
	blocks := len(sc.ends)
	if got := m.md.renders - start; got != blocks {
		t.Errorf("%d glamour calls over %d frames, want one per closed block (%d)", got, frames, blocks)
	}
	if frames < 3*blocks {
		t.Fatalf("only %d frames for %d blocks: the test cannot tell the strategies apart", frames, blocks)
	}
	m = event(t, m, agent.Done{Text: answerWithCode}, at)
	_ = m.View()
	done := m.md.renders
	for range 10 {
		_ = m.View()
	}
	if m.md.renders != done {
		t.Errorf("frames of a finished history called glamour %d times", m.md.renders-done)
	}
}

// TestFrameTouchesOnlyVisibleMessages loads 10,000 messages and checks that
// drawing frames (following the end, after PgUp, after Home) rendered only
// messages near the window: the rest have no cached render at all.
func TestFrameTouchesOnlyVisibleMessages(t *testing.T) {
	m := newTestModel(t, newScriptedAgent(), 120, 40)
	m = transcript(m, 10000)
	rendered := func() int {
		n := 0
		for _, it := range m.hist.items {
			if it.cache != nil {
				n++
			}
		}
		return n
	}
	_ = m.View()
	m = update(t, m, tea.KeyPressMsg{Code: tea.KeyPgUp})
	_ = m.View()
	m = update(t, m, tea.KeyPressMsg{Code: tea.KeyHome})
	_ = m.View()
	// Three windows of 40 rows; a message takes at least 3 rows.
	if n := rendered(); n == 0 || n > 3*40 {
		t.Errorf("%d of 10,000 messages rendered for three frames", n)
	}
}

func TestItemsFromStoredMessages(t *testing.T) {
	msgs := []store.Message{
		{Role: store.RoleSystem, Content: "hidden"},
		{Role: store.RoleUser, Content: "add a card x"},
		{Role: store.RoleAssistant, ToolCalls: `[{"id":"c1","type":"function","function":{"name":"kanban_create","arguments":"{\"title\":\"x\"}"}},{"id":"c2","type":"function","function":{"name":"kanban_move","arguments":"{}"}}]`},
		{Role: store.RoleTool, ToolCallID: "c1", Content: `{"created":{"id":1}}`},
		{Role: store.RoleTool, ToolCallID: "c2", Content: `{"error":"card 9 not found"}`},
		{Role: store.RoleAssistant, Content: "Done.", Status: store.MessageComplete},
		{Role: store.RoleAssistant, Content: "half", Status: store.MessageInterrupted},
		{Role: store.RoleAssistant, Content: "", Status: store.MessageFailed, Error: "HTTP 500"},
	}
	items := itemsFromMessages(msgs)
	want := []struct {
		kind   itemKind
		status itemStatus
	}{
		{kindUser, statusDone}, {kindToolCall, statusDone}, {kindToolCall, statusDone},
		{kindAssistant, statusDone}, {kindAssistant, statusInterrupted}, {kindAssistant, statusFailed},
	}
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d", len(items), len(want))
	}
	for i, w := range want {
		if items[i].kind != w.kind || items[i].status != w.status {
			t.Errorf("item %d: kind %v status %v, want %v %v", i, items[i].kind, items[i].status, w.kind, w.status)
		}
	}
	if items[1].toolResult == "" || items[1].toolErr != "" || items[2].toolErr != "card 9 not found" {
		t.Errorf("tool results: %+v / %+v", items[1], items[2])
	}
	if items[5].errMsg != "HTTP 500" {
		t.Errorf("failed reply error %q", items[5].errMsg)
	}
}
