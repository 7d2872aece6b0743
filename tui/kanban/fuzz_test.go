package kanban

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"pgregory.net/rapid"

	"github.com/spindle-sh/spindle/store"
)

// anyKeys are the keys the property test presses: every kanban binding,
// the form keys, and a few characters that are plain text to the inputs.
var anyKeys = []string{
	"up", "down", "left", "right", "h", "j", "k", "l", "H", "J", "K", "L", "<", ">",
	"n", "e", "c", "d", "y", "p", "a", "u", "/", "A", "enter", "esc", "ctrl+s",
	"backspace", "x", " ",
}

// TestAnyKeysAtAnySize presses random keys, resizes, polls, pastes, cancels
// and changes the board from elsewhere in random order on a real board:
// Update never panics, and View is always exactly the size last given,
// whatever mode the pane is in.
func TestAnyKeysAtAnySize(t *testing.T) {
	h := newHarness(t, 120, 40)
	threeColumns(h)
	h.seed(store.NewCard{Title: "Done one", Status: store.Done}, store.NewCard{Title: "Old", Status: store.Archived})
	rapid.Check(t, func(rt *rapid.T) {
		h.m = newPane(h.board, nil)
		h.m.poll = 0
		w, ht := rapid.IntRange(1, 130).Draw(rt, "w"), rapid.IntRange(1, 45).Draw(rt, "h")
		h.m.SetSize(w, ht)
		h.m.Focus()
		h.run(h.m.Init())
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for range steps {
			switch rapid.IntRange(0, 11).Draw(rt, "what") {
			case 0:
				w, ht = rapid.IntRange(1, 130).Draw(rt, "w"), rapid.IntRange(1, 45).Draw(rt, "h")
				h.m.SetSize(w, ht)
			case 1:
				h.send(pollMsg{})
			case 2:
				h.send(CancelFormMsg{})
			case 4:
				elsewhere(rt, h)
			case 3:
				h.send(tea.PasteMsg{Content: rapid.SampledFrom([]string{"pasted", "two\nlines", "\x1b[2J"}).Draw(rt, "paste")})
			default:
				h.send(keyMsg(rapid.SampledFrom(anyKeys).Draw(rt, "key")))
			}
			if m := &h.m; m.col < 0 || m.col >= m.numCols() || m.row < 0 || (m.row > 0 && m.row >= m.colLen(m.col)) {
				rt.Fatalf("selection out of range: column %d of %d, row %d of %d", m.col, m.numCols(), m.row, m.colLen(m.col))
			}
			if h.m.mode == modeDetail {
				if _, _, ok := h.m.find(h.m.detail.id); !ok {
					rt.Fatalf("detail open on card %d, which is not on the board", h.m.detail.id)
				}
			}
			lines := strings.Split(h.m.View(), "\n")
			if len(lines) != ht {
				rt.Fatalf("%dx%d mode %d: %d lines", w, ht, h.m.mode, len(lines))
			}
			for i, l := range lines {
				if lw := lineWidth(l); lw != w {
					rt.Fatalf("%dx%d mode %d: line %d is %d cells: %q", w, ht, h.m.mode, i, lw, l)
				}
			}
		}
		h.errs = nil
	})
}

// elsewhere changes the board as another process would: it creates, moves,
// edits or deletes a card, archived ones included. The pane sees it at its
// next poll.
func elsewhere(rt *rapid.T, h *harness) {
	ctx := context.Background()
	cards, err := h.board.List(ctx, true)
	if err != nil {
		rt.Fatalf("list: %v", err)
	}
	if len(cards) == 0 || rapid.Bool().Draw(rt, "create") {
		st := rapid.SampledFrom(allStatuses).Draw(rt, "status")
		if _, err := h.board.Create(ctx, "me", store.NewCard{Title: "elsewhere", Status: st}); err != nil {
			rt.Fatalf("create: %v", err)
		}
		return
	}
	c := rapid.SampledFrom(cards).Draw(rt, "card")
	switch rapid.IntRange(0, 2).Draw(rt, "change") {
	case 0:
		_, err = h.board.Move(ctx, "me", c.ID, rapid.SampledFrom(allStatuses).Draw(rt, "to"), -1)
	case 1:
		title := c.Title + " +"
		_, err = h.board.Edit(ctx, "me", c.ID, store.CardPatch{Title: &title})
	default:
		err = h.board.Delete(ctx, "me", c.ID)
	}
	if err != nil {
		rt.Fatalf("change card %d: %v", c.ID, err)
	}
}
