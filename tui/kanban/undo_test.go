package kanban

import (
	"context"
	"strings"
	"testing"

	"github.com/spindle-sh/spindle/store"
)

// TestUndoCardInTheList: U on the selected card in the board's list undoes
// that card's latest change whoever made it (here the agent's edit), as it
// does in the card's detail, and says what it undid. The control: u, the
// person's own undo, leaves the agent's edit alone.
func TestUndoCardInTheList(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := h.seed(store.NewCard{Title: "Original", Priority: store.PriorityNormal})
	renamed := "Renamed by the agent"
	if _, err := h.board.Edit(context.Background(), store.ActorAgent, cards[0].ID, store.CardPatch{Title: &renamed}); err != nil {
		t.Fatal(err)
	}
	h.run(h.m.loadCmd())
	h.keys("u")
	h.noErrors()
	if got := h.row(cards[0].ID).Title; got != renamed {
		t.Fatalf("the control: u undid the agent's edit (title %q)", got)
	}
	h.keys("U")
	h.noErrors()
	if got := h.row(cards[0].ID).Title; got != "Original" {
		t.Fatalf("U in the list did not undo the card's latest change: title %q", got)
	}
	s := h.screen()
	if !strings.Contains(s, "undone: reverted agent's edit of card 1 (title)") {
		t.Errorf("U does not say what it undid:\n%s", s)
	}
	if !strings.Contains(s, "Original") {
		t.Errorf("the board does not show the restored title:\n%s", s)
	}
	// Its create is next; then nothing is left.
	h.keys("U")
	if len(h.rows()) != 0 {
		t.Fatalf("a second U did not undo the create: %v", titles(h.rows()))
	}
	h.keys("U")
	h.noErrors()
	if s := h.screen(); !strings.Contains(s, "no card is selected") {
		t.Errorf("U on an empty column says nothing:\n%s", s)
	}
}

// TestUndoCardInTheDetail: U in the card's detail undoes its latest change
// and the detail's hint lists U.
func TestUndoCardInTheDetail(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := h.seed(store.NewCard{Title: "Card", Priority: store.PriorityNormal})
	if _, err := h.board.Move(context.Background(), store.ActorAgent, cards[0].ID, store.Review, -1); err != nil {
		t.Fatal(err)
	}
	h.run(h.m.loadCmd())
	h.keys("enter")
	if s := h.screen(); !strings.Contains(s, "U undo card") {
		t.Errorf("the detail's hint does not list U:\n%s", s)
	}
	h.keys("U")
	h.noErrors()
	if got := h.row(cards[0].ID).Status; got != store.Todo {
		t.Fatalf("U in the detail left the card in %s", got)
	}
	if s := h.screen(); !strings.Contains(s, "undone: card 1 is back in To do (agent had moved it todo → review)") {
		t.Errorf("no notice:\n%s", s)
	}
	// Undoing the create closes the detail: nothing is left to undo.
	h.keys("U")
	h.keys("U")
	h.noErrors()
}

// TestUndoSaysWhatItUndid: u says what it undid in the pane, wrapped to
// its width (the side-by-side layout's 48 columns), and a refused undo says
// why in the pane too.
func TestUndoSaysWhatItUndid(t *testing.T) {
	h := newHarness(t, 48, 38)
	threeColumns(h)
	h.keys("L") // Alpha to Running
	h.noErrors()
	h.keys("u")
	h.noErrors()
	s := h.screen()
	flat := strings.Join(strings.Fields(s), " ")
	if !strings.Contains(flat, "undone: card 1 is back in To do (you had moved it todo → running)") {
		t.Fatalf("u does not say what it undid:\n%s", s)
	}
	if strings.Contains(s, "…") {
		t.Errorf("the notice was cut:\n%s", s)
	}
	for _, l := range strings.Split(s, "\n") {
		if lineWidth(l) != 48 {
			t.Fatalf("a line is %d cells wide, not 48: %q", lineWidth(l), l)
		}
	}

	// The agent moves Bravo after the person did: the person's undo of
	// their own move is refused, and the pane says why.
	h.keys("esc")
	h.keys("j", "L") // Bravo to Running
	h.noErrors()
	if _, err := h.board.Move(context.Background(), store.ActorAgent, 2, store.Review, -1); err != nil {
		t.Fatal(err)
	}
	h.keys("u")
	h.noErrors()
	flat = strings.Join(strings.Fields(h.screen()), " ")
	if !strings.Contains(flat, "not undone: card 2 was changed later by agent (moved it running → review)") {
		t.Errorf("a refused undo does not say why:\n%s", h.screen())
	}
}
