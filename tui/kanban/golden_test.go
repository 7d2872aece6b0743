package kanban

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/spindle-sh/spindle/store"
)

// Golden screens are the pane's View with colours stripped, at a fixed
// size; refresh them with `go test ./tui/kanban/ -run Golden -update`.
// 48×38 is the pane's share of a 120×40 terminal in the root's side-by-side
// layout (two fifths of the width, all rows but the status bar); 120×40 is
// the pane given a whole 120×40 screen; 60×20 is the narrow layout.

var goldenSizes = []struct{ w, h int }{{48, 38}, {120, 40}, {60, 20}}

var t0 = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

func goldenCards() []store.Card {
	mk := func(id int64, title string, st store.Status, pos int, p store.Priority, a store.Assignee) store.Card {
		at := t0.Add(time.Duration(id) * time.Hour)
		c := store.Card{ID: id, Title: title, Status: st, Position: pos, Priority: p, Assignee: a, CreatedAt: at, UpdatedAt: at}
		if st == store.Done {
			c.CompletedAt = at
		}
		return c
	}
	cards := []store.Card{
		mk(1, "Write the kanban pane", store.Todo, 0, store.PriorityHigh, store.Me),
		mk(2, "Golden screen tests at two sizes", store.Todo, 1, store.PriorityNormal, store.AgentAssignee),
		mk(3, "A title long enough that it has to be cut to fit its column", store.Todo, 2, store.PriorityLow, store.Me),
		mk(4, "Stream replies token by token", store.Running, 0, store.PriorityUrgent, store.AgentAssignee),
		mk(5, "Poll data_version", store.Running, 1, store.PriorityNormal, store.Me),
		mk(6, "Waiting on the store", store.Blocked, 0, store.PriorityHigh, store.Me),
		mk(7, "Review the transport close rule", store.Review, 0, store.PriorityNormal, store.AgentAssignee),
		mk(8, "Header validation", store.Done, 0, store.PriorityNormal, store.Me),
		mk(9, "Offline demo model", store.Done, 1, store.PriorityLow, store.AgentAssignee),
		mk(10, "Old idea", store.Archived, 0, store.PriorityLow, store.Me),
	}
	cards[0].Body = "## Goal\n\nShow the board and edit it with the **keyboard**.\n\n- columns that scroll\n- optimistic writes\n\n```go\nm, cmd := m.Update(msg)\n```"
	return cards
}

// goldenModel is a pane over a real (empty) kanban.db fed a fixed board, so
// that ids and timestamps are stable.
func goldenModel(t *testing.T, w, h int) Model {
	t.Helper()
	b, err := store.OpenBoard(filepath.Join(t.TempDir(), "kanban.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	m := newPane(b, nil)
	m.poll = 0
	m.SetSize(w, h)
	m.Focus()
	m, _ = m.Update(loadedMsg{cards: goldenCards(), version: 1})
	return m
}

func TestGoldenBoard(t *testing.T) {
	for _, sz := range goldenSizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			m := goldenModel(t, sz.w, sz.h)
			m, _ = m.Update(keyMsg("j")) // select the second card
			golden.RequireEqual(t, ansi.Strip(m.View()))
		})
	}
}

func TestGoldenDetail(t *testing.T) {
	for _, sz := range goldenSizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			m := goldenModel(t, sz.w, sz.h)
			m, _ = m.Update(keyMsg("enter"))
			at := t0.Add(time.Hour)
			m, _ = m.Update(eventsMsg{id: 1, events: []store.Event{
				{ID: 1, CardID: 1, Kind: "created", Actor: "me", At: at},
				{ID: 2, CardID: 1, Kind: "edited", Actor: "agent", At: at.Add(5 * time.Minute), Undone: true},
				{ID: 3, CardID: 1, Kind: "moved", Actor: "me", Text: "running → todo", At: at.Add(10 * time.Minute)},
				{ID: 4, CardID: 1, Kind: "commented", Actor: "agent", Text: "I added the column layout; the forms are next.\nSecond line of the comment.", At: at.Add(20 * time.Minute)},
			}})
			golden.RequireEqual(t, ansi.Strip(m.View()))
		})
	}
}

func TestGoldenForm(t *testing.T) {
	m := goldenModel(t, 60, 20)
	m, _ = m.Update(keyMsg("e"))
	golden.RequireEqual(t, ansi.Strip(m.View()))
}

// TestGoldenBoardStyled keeps the styles: the focused pane's selected card
// is drawn differently from the rest, and the text-only goldens cannot see
// that. The controls show what this golden catches that they miss: the
// same board blurred, or with the selection moved, has the same text but
// different styles.
func TestGoldenBoardStyled(t *testing.T) {
	m := goldenModel(t, 48, 38)
	m, _ = m.Update(keyMsg("j"))
	focused := m.View()
	golden.RequireEqualEscape(t, []byte(ansi256(t, focused)), true)

	blurred := m
	blurred.Blur()
	moved, _ := m.Update(keyMsg("k"))
	for name, other := range map[string]string{"blurred": blurred.View(), "selection moved": moved.View()} {
		if other == focused {
			t.Errorf("%s: the styled view did not change; the golden could not catch it", name)
		}
	}
	if ansi.Strip(blurred.View()) != ansi.Strip(focused) {
		t.Error("blurring changed the text too: the control no longer shows what only styles reveal")
	}
}

// ansi256 passes a view through the colour downsampling a 256-colour
// terminal gets, so the styled golden holds one fixed colour profile.
func ansi256(t *testing.T, view string) string {
	t.Helper()
	var buf bytes.Buffer
	w := colorprofile.NewWriter(&buf, nil)
	w.Profile = colorprofile.ANSI256
	if _, err := w.WriteString(view); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
