package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/store"
)

// TestPasteIntoDialogs: text pasted while a dialog is open goes into its
// text field, sanitized and on one line (the palette's query, the session
// browser's search and a new title, the denial's note), and never answers
// an approval. Before, every paste into a dialog was dropped.
func TestPasteIntoDialogs(t *testing.T) {
	paste := func(h *harness, s string) { h.send(tea.PasteMsg{Content: s}) }

	t.Run("palette", func(t *testing.T) {
		h := newHarness(t, 120, 40)
		h.key(tea.KeyPressMsg{Code: 'p', Mod: tea.ModCtrl})
		p, ok := h.top().(*paletteOverlay)
		if !ok {
			t.Fatal("the palette did not open")
		}
		all := len(p.shown)
		paste(h, "sess\x1b[31mions")
		if got := p.input.Value(); got != "sessions" {
			t.Fatalf("query = %q, want %q", got, "sessions")
		}
		if len(p.shown) == 0 || len(p.shown) >= all {
			t.Errorf("the pasted query did not filter: %d of %d shown", len(p.shown), all)
		}
	})

	t.Run("model picker", func(t *testing.T) {
		h := newHarness(t, 120, 40)
		h.ag.SetEndpoints([]agent.EndpointInfo{{BaseURL: "https://api.example.test/v1", Model: "gpt-small"}},
			map[string][]string{"": {"gpt-small", "gpt-large", "other-model"}})
		o := h.picker()
		paste(h, "gpt-l")
		if got := o.input.Value(); got != "gpt-l" {
			t.Fatalf("filter = %q", got)
		}
		if s := h.screen(); !strings.Contains(s, "gpt-large") || strings.Contains(s, "other-model") {
			t.Fatalf("the pasted filter did not filter:\n%s", s)
		}
	})

	t.Run("session browser", func(t *testing.T) {
		h := newHarness(t, 120, 40)
		addSession(t, h.state, "Baking", store.SessionChat, "how long does sourdough rise?")
		addSession(t, h.state, "Taxes", store.SessionChat, "which forms?")
		o := h.browser()
		paste(h, "sourdough\n")
		h.settle()
		if got := o.search.Value(); strings.TrimSpace(got) != "sourdough" {
			t.Fatalf("search = %q", got)
		}
		if s := h.screen(); !strings.Contains(s, "Baking") || strings.Contains(s, "Taxes") {
			t.Fatalf("the pasted search did not filter:\n%s", s)
		}
		// Rename: the paste replaces the old title, as typing does.
		h.key(tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl})
		if !o.renaming || o.rename.Value() != "Baking" {
			t.Fatalf("ctrl+r did not start renaming Baking (%q)", o.rename.Value())
		}
		// A paste with nothing left after sanitizing changes nothing.
		paste(h, "\x1b[31m")
		if got := o.rename.Value(); got != "Baking" || !o.replacing {
			t.Fatalf("an empty paste changed the title being renamed to %q", got)
		}
		// Terminals send a pasted line break as CR.
		paste(h, "Bread\rnotes")
		if got := o.rename.Value(); got != "Bread notes" {
			t.Fatalf("new title = %q, want %q", got, "Bread notes")
		}
	})

	t.Run("approval", func(t *testing.T) {
		h := newHarness(t, 120, 40)
		answer := askApproval(t, h)
		armed(h)
		// A paste that looks like an answer does not answer.
		paste(h, "y")
		if d, ok := approvalAnswer(t, answer); ok {
			t.Fatalf("a paste answered the dialog: %+v", d)
		}
		h.typeText("N")
		paste(h, "use go test\r\ninstead")
		h.key(enter)
		d, ok := approvalAnswer(t, answer)
		if !ok || d.Answer != approval.Deny || d.Note != "use go test instead" {
			t.Fatalf("got %+v %v, want a denial with the pasted note", d, ok)
		}
	})
}
