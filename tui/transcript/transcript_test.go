package transcript

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/sanitize/sanitizetest"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/markdown"
	"github.com/spindle-sh/spindle/tui/theme"
)

func renderer(w int) Renderer {
	st := NewStyles(theme.Default())
	return Renderer{Width: w, MD: markdown.New(true), St: &st}
}

func fill(n int) *Transcript {
	t := New()
	for i := range n {
		if i%2 == 0 {
			t.Add(NewUser(fmt.Sprintf("question %d: what about **this**?", i)))
		} else {
			t.Add(&Item{kind: KindAssistant, text: fmt.Sprintf("Answer %d.\n\n- one point\n- another point\n\n```go\nx := %d\n```", i, i)})
		}
	}
	return t
}

// TestWindowMatchesFullLayout compares the window with a slice of the
// whole transcript laid out at once, for every scroll position.
func TestWindowMatchesFullLayout(t *testing.T) {
	tr := fill(30)
	r := renderer(60)
	var all []string
	for _, it := range tr.Items() {
		all = append(all, it.Lines(r)...)
	}
	const h = 10
	tr.Top()
	for pos := 0; pos+h <= len(all); pos++ {
		got, _ := tr.Window(r, h)
		if strings.Join(got, "\n") != strings.Join(all[pos:pos+h], "\n") {
			t.Fatalf("window at line %d differs from the full layout", pos)
		}
		tr.Scroll(r, h, 1)
	}
	if !tr.Following() {
		t.Error("reaching the end did not resume following")
	}
}

// TestStreamedReplyIsSanitizedWhole: a reply whose escape sequences are cut
// across deltas holds exactly the whole text sanitized once it ends, for
// every cut; sanitizing each delta alone would keep an OSC payload cut in
// two.
func TestStreamedReplyIsSanitizedWhole(t *testing.T) {
	for _, s := range sanitizetest.Hostile {
		want := sanitize.String(s)
		for _, pieces := range sanitizetest.Splits(s) {
			tr := New()
			tu := StartTurn(tr)
			for _, p := range pieces {
				tu.Apply(agent.Delta{Text: p}, time.Now())
				if got := tu.cur.text; !strings.HasPrefix(want, got) {
					t.Fatalf("%q in %q: streaming text %q is not a prefix of %q", s, pieces, got, want)
				}
			}
			it := tu.cur
			tu.Apply(agent.Done{}, time.Now())
			if it.text != want {
				t.Fatalf("%q in %q: final text %q, want %q", s, pieces, it.text, want)
			}
		}
	}
}

func TestFromStoredMessages(t *testing.T) {
	msgs := []store.Message{
		{Role: store.RoleSystem, Content: "hidden"},
		{Role: store.RoleUser, Content: "add a card x"},
		{Role: store.RoleAssistant, ToolCalls: `[{"id":"c1","type":"function","function":{"name":"kanban_create","arguments":"{\"title\":\"x\"}"}},{"id":"c2","type":"function","function":{"name":"kanban_move","arguments":"{}"}},{"id":"c3","type":"function","function":{"name":"bash","arguments":"{}"}}]`},
		{Role: store.RoleTool, ToolCallID: "c1", ToolName: "kanban_create", Content: `{"created":{"id":1}}`, Screen: "created #1 x (todo)"},
		{Role: store.RoleTool, ToolCallID: "c2", ToolName: "kanban_move", Content: tool.Errorf("card 9 not found").ForModel(), Status: store.MessageFailed},
		{Role: store.RoleAssistant, Content: "Done.", Status: store.MessageComplete},
		{Role: store.RoleAssistant, Content: "half", Status: store.MessageInterrupted},
		{Role: store.RoleAssistant, Content: "", Status: store.MessageFailed, Error: "HTTP 500\x1b]0;x\a"},
	}
	items := FromMessages(msgs)
	want := []struct {
		kind   Kind
		status Status
	}{
		{KindUser, StatusDone}, {KindTool, StatusDone}, {KindTool, StatusDone}, {KindTool, StatusDone},
		{KindAssistant, StatusDone}, {KindAssistant, StatusInterrupted}, {KindAssistant, StatusFailed},
	}
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d", len(items), len(want))
	}
	for i, w := range want {
		if items[i].kind != w.kind || items[i].status != w.status {
			t.Errorf("item %d: kind %v status %v, want %v %v", i, items[i].kind, items[i].status, w.kind, w.status)
		}
	}
	if c1 := items[1]; !c1.toolDone || c1.toolErr || c1.toolScreen != "created #1 x (todo)" {
		t.Errorf("c1 = %+v", c1)
	}
	if c2 := items[2]; !c2.toolErr || c2.toolScreen != "card 9 not found" {
		t.Errorf("c2 = %+v", c2)
	}
	if c3 := items[3]; !c3.toolDone || !c3.toolErr {
		t.Errorf("a call with no saved result still shows as running: %+v", c3)
	}
	if items[6].errMsg != "HTTP 500" {
		t.Errorf("failed reply error %q", items[6].errMsg)
	}
}

// TestUnsuccessfulCommandIsMarked: a command that ran and exited non-zero
// is marked ✗ on screen (the agent stores its tool message as failed, so a
// loaded session marks it the same way); the control, exit 0, is ✓.
func TestUnsuccessfulCommandIsMarked(t *testing.T) {
	for _, tc := range []struct {
		res  tool.Result
		mark string
	}{
		{tool.Result{Unsuccessful: true, Model: "exit status 128\n", Screen: "$ git status (exit status 128)"}, "✗ $ git status"},
		{tool.OK("exit status 0\n", "$ true (exit status 0)"), "✓ $ true"},
	} {
		tr := New()
		tu := StartTurn(tr)
		tu.Apply(agent.ToolCall{ID: "c", Name: "bash", Arguments: `{"command":"git status"}`}, time.Now())
		tu.Apply(agent.ToolResult{ID: "c", Name: "bash", Result: tc.res}, time.Now())
		lines, _ := tr.Window(renderer(80), 10)
		if got := strings.Join(lines, "\n"); !strings.Contains(ansi.Strip(got), tc.mark) {
			t.Errorf("live: %q lacks %q", ansi.Strip(got), tc.mark)
		}
	}
}
