package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/cell"
	"github.com/spindle-sh/spindle/tui/chat"
	"github.com/spindle-sh/spindle/tui/internal/tuitest"
	"github.com/spindle-sh/spindle/tui/theme"
)

// newPaletteHarness is newHarness (a fixed clock, an empty board) in the
// palette p.
func newPaletteHarness(t testing.TB, p theme.Palette, w, h int) *harness {
	t.Helper()
	st, b := tuitest.OpenStores(t)
	hs := &harness{t: t, ag: tuitest.NewAgent(), state: st, board: b, pump: tuitest.NewPump(t)}
	hs.clock = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	hs.m = New(Options{Agent: hs.ag, Sessions: st, Board: b, Keys: keymap.Default(), Palette: p,
		Now: func() time.Time { return hs.clock }})
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.pump.Run(hs.m.Init())
	hs.until(func(msg tea.Msg) bool { return strings.Contains(typeName(msg), "loadedMsg") })
	return hs
}

// askFor starts a turn whose model calls req's tool, waits until the
// dialog is open and armed, and returns the channel its answer arrives on.
func askFor(t *testing.T, h *harness, req tool.Request) <-chan approval.Decision {
	t.Helper()
	h.startTurn("go ahead")
	h.event(agent.ToolCall{ID: "c1", Name: req.Tool, Arguments: `{}`})
	ev, answer := agent.NewApprovalNeeded("c1", req)
	h.event(ev)
	h.until(func(msg tea.Msg) bool { _, ok := msg.(chat.ApprovalMsg); return ok })
	armed(h)
	return answer
}

// editRequest is an edit whose diff is longer than an 80×24 screen and has
// a line wider than 80 cells.
func editRequest() tool.Request {
	var d strings.Builder
	d.WriteString("--- a/tui/view.go\n+++ b/tui/view.go\n@@ -10,14 +10,22 @@ func (m Model) statusBar() string {\n")
	for i := range 8 {
		fmt.Fprintf(&d, " \tparts = append(parts, segment(%d))\n", i)
	}
	d.WriteString("-\treturn strings.Join(parts, \" \")\n")
	d.WriteString("+\treturn fmt.Errorf(\"tui: status bar: the segments %v do not fit %d cells, and none of them can be dropped without losing what the person needs\", parts, w)\n")
	for i := range 14 {
		fmt.Fprintf(&d, "+\tparts = append(parts, extra(%d))\n", i)
	}
	d.WriteString(" }\n")
	return tool.Request{Tool: "edit", Subject: "tui/view.go", Summary: "edit tui/view.go (+15 -1)", Detail: d.String(), Dir: "/tmp/project"}
}

// goldenEndpoints are the picker's endpoints and what each lists.
var (
	goldenEndpoints = []agent.EndpointInfo{
		{BaseURL: "https://api.example.test/v1", Model: "gpt-large", KeySet: true},
		{Name: "local", BaseURL: "http://127.0.0.1:11434/v1", Model: "llama3.2"},
		{Name: "router", BaseURL: "https://router.example.test/api/v1", KeySet: true},
	}
	goldenModelLists = map[string][]string{
		"":       {"gpt-large", "gpt-small", "o-mini", "text-embedding-3", "whisper-1"},
		"local":  {"llama3.2", "qwen2.5-coder:7b"},
		"router": {"anthropic/claude-sonnet", "google/gemini-flash", "meta/llama-70b"},
	}
)

// TestGoldenDialogs: every dialog (help, the command palette, the approval
// dialog for a command and for a diff, the session browser, the model
// picker) at 120×40 and 80×24, in the dark and the light palette. The two
// palettes' styled screens of a dialog must differ, or the light goldens
// would only repeat the dark ones.
func TestGoldenDialogs(t *testing.T) {
	dialogs := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"help", func(t *testing.T, h *harness) { h.typeText("?") }},
		{"palette", func(t *testing.T, h *harness) { h.key(tea.KeyPressMsg{Code: 'p', Mod: tea.ModCtrl}) }},
		{"approval_command", func(t *testing.T, h *harness) { askApproval(t, h); armed(h) }},
		{"approval_diff", func(t *testing.T, h *harness) { askFor(t, h, editRequest()) }},
		{"sessions", func(t *testing.T, h *harness) { seedBrowser(t, h); h.browser() }},
		{"models", func(t *testing.T, h *harness) {
			h.ag.SetEndpoints(goldenEndpoints, goldenModelLists)
			h.picker()
		}},
	}
	sizes := []struct{ w, h int }{{120, 40}, {80, 24}}
	styled := map[string]string{} // dialog and size → the dark screen
	for _, th := range []struct {
		name string
		p    theme.Palette
	}{{"dark", theme.Dark()}, {"light", theme.Light()}} {
		t.Run(th.name, func(t *testing.T) {
			for _, d := range dialogs {
				for _, sz := range sizes {
					name := fmt.Sprintf("%s_%dx%d", d.name, sz.w, sz.h)
					t.Run(name, func(t *testing.T) {
						h := newPaletteHarness(t, th.p, sz.w, sz.h)
						d.run(t, h)
						checkScreen(t, h.m)
						screen := steady(h.m.screen())
						if dark, ok := styled[name]; ok && dark == screen {
							t.Error("the light palette draws this dialog exactly as the dark one")
						}
						styled[name] = screen
					})
				}
			}
		})
	}
}

// scrollThrough is all the text a dialog shows as Down is pressed until
// its "more lines" mark goes (at most 100 presses), frame after frame.
func scrollThrough(h *harness) string {
	h.t.Helper()
	var all strings.Builder
	for range 100 {
		s := h.screen()
		all.WriteString(s + "\n")
		if !strings.Contains(s, "more lines (↑/↓ scroll)") {
			return all.String()
		}
		h.key(tea.KeyPressMsg{Code: tea.KeyDown})
	}
	h.t.Fatalf("Down never reached the end of the dialog:\n%s", h.screen())
	return ""
}

// shows reports whether screen holds text once the line breaks and the
// spaces of both are ignored: the text may be wrapped anywhere, but no
// character of it may be missing.
func shows(screen, text string) bool {
	squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
	return strings.Contains(squeeze(screen), squeeze(text))
}

// cutLines is screen with every line cut to w cells: what a dialog that
// cuts rather than wraps shows.
func cutLines(screen string, w int) string {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		lines[i] = cell.Cut(l, w)
	}
	return strings.Join(lines, "\n")
}

// TestApprovalShowsEverythingAt80x24: a command, a directory and an
// "always" rule wider than the screen, and a diff longer than it with a
// line wider than it: at 80×24 every character of them is on the screen
// or reached with Down, and every answer's key and meaning is shown. The
// same check on the screens cut at 60 cells (what cutting rather than
// wrapping loses) fails: the negative control.
func TestApprovalShowsEverythingAt80x24(t *testing.T) {
	const command = "find . -name '*.go' -newer go.mod -exec grep -l 'TODO' {} + | xargs -r sed -i 's/TODO/DONE/g' && git commit -am 'mark every TODO as done'"
	const dir = "/home/someone/projects/a-rather-long-directory-name/with/many/levels/inside/it"
	check := func(t *testing.T, req tool.Request, texts ...string) {
		h := newHarness(t, 80, 24)
		askFor(t, h, req)
		first := h.screen()
		k := h.m.keys.Approval
		for _, b := range []key.Binding{k.Once, k.Session, k.Always, k.Deny, k.DenyNote} {
			if hint := b.Help().Key + " " + b.Help().Desc; !strings.Contains(first, hint) {
				t.Errorf("the answer %q is not on the screen:\n%s", hint, first)
			}
		}
		all := scrollThrough(h)
		for _, text := range texts {
			if !shows(all, text) {
				t.Errorf("%q cannot be read at 80×24; the dialog showed:\n%s", text, all)
			}
			if shows(cutLines(all, 60), text) {
				t.Errorf("negative control: %q is still found in the screens cut at 60 cells", text)
			}
		}
	}
	t.Run("command", func(t *testing.T) {
		rules, err := approval.AlwaysRules(tool.Request{Tool: "bash", Subject: command})
		if err != nil {
			t.Fatal(err)
		}
		check(t, tool.Request{Tool: "bash", Subject: command, Summary: command, Dir: dir},
			command, "in "+dir, "saves "+strings.Join(rules, ", "))
	})
	t.Run("diff", func(t *testing.T) {
		req := editRequest()
		var texts []string
		for _, l := range strings.Split(strings.TrimRight(req.Detail, "\n"), "\n") {
			if cell.Width(l) > 60 {
				texts = append(texts, strings.ReplaceAll(l, "\t", "    "))
			}
		}
		if len(texts) == 0 {
			t.Fatal("the diff has no line wider than 60 cells")
		}
		check(t, req, texts...)
		// And its last line, below the first screen.
		h := newHarness(t, 80, 24)
		askFor(t, h, req)
		if strings.Contains(h.screen(), "extra(13)") {
			t.Fatal("the whole diff fits: nothing to scroll")
		}
		if !strings.Contains(scrollThrough(h), "extra(13)") {
			t.Error("Down did not reach the diff's last line")
		}
	})
}

// TestModelPickerShowsTheShownEndpoint: with more endpoints than the bar
// holds at 80×24, Tab through every one: the one shown is always on the
// bar, with where it is. The bar as it was drawn before (every label, cut
// at the edge) lacks the last endpoints: the negative control of the
// check.
func TestModelPickerShowsTheShownEndpoint(t *testing.T) {
	h := newHarness(t, 80, 24)
	eps := []agent.EndpointInfo{{BaseURL: "https://api.example.test/v1", Model: "m"}}
	lists := map[string][]string{"": {"m"}}
	var all strings.Builder
	all.WriteString("Endpoint:  default ")
	for i := range 9 {
		name := fmt.Sprintf("endpoint-%d", i)
		eps = append(eps, agent.EndpointInfo{Name: name, BaseURL: fmt.Sprintf("http://127.0.0.%d:8080/v1", i+2)})
		lists[name] = []string{"model-of-" + name}
		all.WriteString(" " + name + " ")
	}
	h.ag.SetEndpoints(eps, lists)
	h.picker()
	bar := func() string { return strings.Split(h.screen(), "\n")[2] }
	onBar := func(line string, e agent.EndpointInfo) bool {
		return strings.Contains(line, " "+e.Label()+" ") && strings.Contains(line, endpointHost(e))
	}
	for i, e := range eps {
		if i > 0 {
			h.key(tab)
			untilMsg[modelsListedMsg](h)
		}
		if !onBar(bar(), e) {
			t.Errorf("showing %s, the bar is %q", e.Label(), bar())
		}
		if !strings.Contains(h.screen(), "› "+lists[e.Name][0]) {
			t.Errorf("showing %s, its models are not listed:\n%s", e.Label(), h.screen())
		}
	}
	old := cell.Cut(all.String()+"  "+endpointHost(eps[len(eps)-1])+" · tab switches", 80)
	if onBar(old, eps[len(eps)-1]) {
		t.Errorf("negative control: the cut bar %q shows the last endpoint", old)
	}
}

// TestSessionDetailShowsALongModel: at 80×24 a session with a short title
// and a model and endpoint too long for the row shows them whole in the
// detail under the list.
func TestSessionDetailShowsALongModel(t *testing.T) {
	h := newHarness(t, 80, 24)
	s := addSession(t, h.state, "short", store.SessionChat, "hi", "hello")
	const model, endpoint = "accounts/fireworks/models/llama-v3p1-405b-instruct", "fireworks-eu-west"
	if err := h.state.SetSessionRoute(t.Context(), s.ID, endpoint, model); err != nil {
		t.Fatal(err)
	}
	h.browser()
	screen := h.screen()
	want := "model " + model + " at " + endpoint
	if !shows(screen, want) {
		t.Errorf("the detail lacks %q:\n%s", want, screen)
	}
	if shows(cutLines(screen, 79), want) {
		t.Errorf("negative control: %q is found in the screen cut at 79 cells", want)
	}
}

// TestPaletteReachesEveryEntryWhenShort: at 80×12 the palette holds fewer
// rows than entries; Down reaches every one.
func TestPaletteReachesEveryEntryWhenShort(t *testing.T) {
	h := newHarness(t, 80, 12)
	h.key(tea.KeyPressMsg{Code: 'p', Mod: tea.ModCtrl})
	if strings.Contains(h.screen(), h.m.cmds[len(h.m.cmds)-1].desc) {
		t.Skip("every entry fits at 80×12")
	}
	head := func(s string) string { return string([]rune(s)[:min(len([]rune(s)), 15)]) }
	for i, c := range h.m.cmds {
		label := c.title()
		if c.name == "" {
			label = c.desc
		}
		if s := h.screen(); !strings.Contains(s, "› "+head(label)) {
			t.Fatalf("entry %d (%s) is not selected on screen:\n%s", i, c.title(), s)
		}
		h.key(tea.KeyPressMsg{Code: tea.KeyDown})
	}
	// The check tells entries apart: the first is no longer selected.
	if strings.Contains(h.screen(), "› "+head(h.m.cmds[0].title())) {
		t.Errorf("negative control: the first entry still looks selected:\n%s", h.screen())
	}
}
