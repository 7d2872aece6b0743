package kanban

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/store"
)

// threeColumns seeds two cards in To do and one in Running.
func threeColumns(h *harness) []store.Card {
	return h.seed(
		store.NewCard{Title: "Alpha", Body: "first card", Priority: store.PriorityNormal},
		store.NewCard{Title: "Bravo", Body: "a bug to fix", Priority: store.PriorityNormal},
		store.NewCard{Title: "Charlie", Status: store.Running, Priority: store.PriorityNormal},
	)
}

func TestNavigationMovesSelectionAndWritesNothing(t *testing.T) {
	tests := []struct {
		keys []string
		want string
	}{
		{nil, "Alpha"},
		{[]string{"j"}, "Bravo"},
		{[]string{"down"}, "Bravo"},
		{[]string{"j", "j", "j"}, "Bravo"}, // stops at the last card
		{[]string{"j", "k"}, "Alpha"},
		{[]string{"j", "up"}, "Alpha"},
		{[]string{"l"}, "Charlie"},
		{[]string{"right"}, "Charlie"},
		{[]string{"l", "h"}, "Alpha"},
		{[]string{"l", "left"}, "Alpha"},
		{[]string{"j", "l", "h"}, "Alpha"}, // Running has one card: the row clamps
		{[]string{"l", "l"}, ""},           // Blocked is empty
		{[]string{"h"}, "Alpha"},           // already leftmost
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.keys, ","), func(t *testing.T) {
			h := newHarness(t, 120, 40)
			threeColumns(h)
			before := h.rows()
			h.keys(tc.keys...)
			if got := h.selectedTitle(); got != tc.want {
				t.Fatalf("selected %q, want %q\n%s", got, tc.want, h.screen())
			}
			if c, _ := h.m.selected(); c.Title != tc.want {
				t.Fatalf("model selects %q, want %q", c.Title, tc.want)
			}
			if after := h.rows(); !reflect.DeepEqual(before, after) {
				t.Fatalf("navigation changed the board: %v → %v", titles(before), titles(after))
			}
			h.noErrors()
		})
	}
}

func TestNewCardWithTitleAndBody(t *testing.T) {
	h := newHarness(t, 120, 40)
	threeColumns(h)
	h.keys("l", "n") // a new card in Running
	if !h.m.Editing() || !strings.Contains(h.screen(), "New card · Running") {
		t.Fatalf("form not open:\n%s", h.screen())
	}
	h.typeText("Write the tests")
	h.keys("enter")
	h.typeText("line one")
	h.keys("enter")
	h.typeText("line two")
	h.keys("ctrl+s")
	h.noErrors()
	if h.m.Editing() {
		t.Fatal("form still open after save")
	}
	if got := h.selectedTitle(); got != "Write the tests" {
		t.Fatalf("selected %q after create\n%s", got, h.screen())
	}
	rows := h.rows()
	var got *store.Card
	for i := range rows {
		if rows[i].Title == "Write the tests" {
			got = &rows[i]
		}
	}
	if got == nil {
		t.Fatalf("no row for the new card: %v", titles(rows))
	}
	if got.Body != "line one\nline two" || got.Status != store.Running || got.Position != 1 ||
		got.Priority != store.PriorityNormal || got.Assignee != store.Me {
		t.Fatalf("row = %+v", *got)
	}
	if c, _ := h.m.selected(); c.ID != got.ID {
		t.Fatalf("selection has id %d, the row has %d", c.ID, got.ID)
	}
}

func TestFormLeavesWithoutSaving(t *testing.T) {
	for _, leave := range []string{"esc", "CancelFormMsg"} {
		for _, where := range []string{"title", "body"} {
			t.Run(leave+"/"+where, func(t *testing.T) {
				h := newHarness(t, 120, 40)
				threeColumns(h)
				h.keys("n")
				h.typeText("Never saved")
				if where == "body" {
					h.keys("enter")
					h.typeText("body text")
				}
				if leave == "esc" {
					h.keys("esc")
				} else {
					h.send(CancelFormMsg{})
				}
				if h.m.Editing() {
					t.Fatal("still editing")
				}
				if strings.Contains(h.screen(), "Never saved") {
					t.Fatalf("unsaved card on screen:\n%s", h.screen())
				}
				if n := len(h.rows()); n != 3 {
					t.Fatalf("%d rows, want 3", n)
				}
			})
		}
	}
}

func TestNewCardRefusesEmptyTitle(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.keys("n", " ", "ctrl+s")
	if !h.m.Editing() || !strings.Contains(h.screen(), "a card needs a title") {
		t.Fatalf("empty title accepted:\n%s", h.screen())
	}
	if n := len(h.rows()); n != 0 {
		t.Fatalf("%d rows written", n)
	}
}

func TestEditCard(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := threeColumns(h)
	h.keys("j", "e")
	if !strings.Contains(h.screen(), "Edit card #") || h.m.form.title.Value() != "Bravo" {
		t.Fatalf("edit form not prefilled:\n%s", h.screen())
	}
	h.keys("ctrl+u")
	h.typeText("Bravo, renamed")
	h.keys("enter")
	h.typeText(" and more")
	h.keys("ctrl+s")
	h.noErrors()
	got := h.row(cards[1].ID)
	if got.Title != "Bravo, renamed" || got.Body != "a bug to fix and more" {
		t.Fatalf("row = %q / %q", got.Title, got.Body)
	}
	if got.Status != store.Todo || got.Position != 1 {
		t.Fatalf("edit moved the card: %+v", got)
	}
	if !strings.Contains(h.screen(), "Bravo, renamed") {
		t.Fatalf("screen not updated:\n%s", h.screen())
	}
}

func TestOpenDetailShowsBodyHistoryAndComments(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := h.seed(store.NewCard{Title: "Detailed", Body: "# Heading\n\nSome **bold** text.\n\n- item one\n- item two"})
	h.keys("p") // one edit in the history
	h.keys("enter")
	s := h.screen()
	for _, want := range []string{"Detailed", "Heading", "Some bold text.", "item one", "History", "created", "edited"} {
		if !strings.Contains(s, want) {
			t.Fatalf("detail lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "**bold**") {
		t.Fatalf("markdown not rendered:\n%s", s)
	}
	h.keys("c")
	h.typeText("looks good")
	h.keys("enter")
	h.noErrors()
	if !strings.Contains(h.screen(), "looks good") {
		t.Fatalf("comment not shown in detail:\n%s", h.screen())
	}
	evs, err := h.board.Events(context.Background(), cards[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Kind != "commented" || last.Text != "looks good" || last.Actor != actor {
		t.Fatalf("last event = %+v", last)
	}
	h.keys("esc")
	if h.m.mode != modeBoard || !strings.Contains(h.screen(), "To do") {
		t.Fatalf("esc did not return to the board:\n%s", h.screen())
	}
}

func TestCommentFromBoard(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := threeColumns(h)
	h.keys("c")
	if !h.m.Editing() || !strings.Contains(h.screen(), "comment:") {
		t.Fatalf("comment input not shown:\n%s", h.screen())
	}
	h.typeText("first!")
	h.keys("enter")
	h.noErrors()
	evs, _ := h.board.Events(context.Background(), cards[0].ID)
	if evs[len(evs)-1].Text != "first!" {
		t.Fatalf("events = %+v", evs)
	}
	// Esc and an empty comment write nothing.
	h.keys("c")
	h.typeText("dropped")
	h.keys("esc")
	h.keys("c", "enter")
	evs2, _ := h.board.Events(context.Background(), cards[0].ID)
	if len(evs2) != len(evs) {
		t.Fatalf("cancelled comments were written: %+v", evs2)
	}
}

func TestDeleteAsksFirst(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := threeColumns(h)
	h.keys("d")
	if !strings.Contains(h.screen(), "Delete #1 “Alpha”?") || !h.m.Editing() {
		t.Fatalf("no confirmation:\n%s", h.screen())
	}
	h.keys("n")
	if _, err := h.board.Get(context.Background(), cards[0].ID); err != nil {
		t.Fatalf("declined delete removed the card: %v", err)
	}
	h.keys("d")
	h.send(CancelFormMsg{})
	h.keys("d", "y")
	h.noErrors()
	if _, err := h.board.Get(context.Background(), cards[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("card still stored: %v", err)
	}
	if strings.Contains(h.screen(), "Alpha") {
		t.Fatalf("deleted card on screen:\n%s", h.screen())
	}
	if got := h.selectedTitle(); got != "Bravo" {
		t.Fatalf("selection after delete = %q", got)
	}
	if h.row(cards[1].ID).Position != 0 {
		t.Fatal("positions not dense after delete")
	}
}

func TestMoveBetweenColumns(t *testing.T) {
	tests := []struct {
		keys       []string
		wantStatus store.Status
		wantPos    int
	}{
		{[]string{"L"}, store.Running, 1},
		{[]string{">"}, store.Running, 1},
		{[]string{"L", "L"}, store.Blocked, 0},
		{[]string{"L", "L", "H"}, store.Running, 1},
		{[]string{"L", "<"}, store.Todo, 1},
		{[]string{"H"}, store.Todo, 0},                              // no column before To do
		{[]string{"L", "L", "L", "L", "L"}, store.Done, 0},          // archived hidden: Done is last
		{[]string{"A", "L", "L", "L", "L", "L"}, store.Archived, 0}, // shown: it is a column
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.keys, ""), func(t *testing.T) {
			h := newHarness(t, 120, 40)
			cards := threeColumns(h)
			h.keys(tc.keys...)
			h.noErrors()
			got := h.row(cards[0].ID)
			if got.Status != tc.wantStatus || got.Position != tc.wantPos {
				t.Fatalf("row: %s/%d, want %s/%d", got.Status, got.Position, tc.wantStatus, tc.wantPos)
			}
			if sel, _ := h.m.selected(); sel.ID != cards[0].ID || allStatuses[h.m.col] != tc.wantStatus {
				t.Fatalf("selection did not follow the card: %+v in column %d", sel, h.m.col)
			}
			if h.selectedTitle() != "Alpha" {
				t.Fatalf("screen selection %q\n%s", h.selectedTitle(), h.screen())
			}
		})
	}
}

func TestReorderWithinColumn(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := h.seed(store.NewCard{Title: "one"}, store.NewCard{Title: "two"}, store.NewCard{Title: "three"})
	order := func() []string {
		var out []string
		for _, c := range h.rows() {
			out = append(out, c.Title)
		}
		return out
	}
	h.keys("J")
	if got := order(); !reflect.DeepEqual(got, []string{"two", "one", "three"}) {
		t.Fatalf("after J: %v", got)
	}
	h.keys("J", "J") // the second J is at the bottom already
	if got := order(); !reflect.DeepEqual(got, []string{"two", "three", "one"}) {
		t.Fatalf("after J J J: %v", got)
	}
	h.keys("K", "K")
	if got := order(); !reflect.DeepEqual(got, []string{"one", "two", "three"}) {
		t.Fatalf("after K K: %v", got)
	}
	h.noErrors()
	if h.row(cards[0].ID).Position != 0 || h.selectedTitle() != "one" {
		t.Fatalf("selection %q", h.selectedTitle())
	}
}

func TestPriorityCycles(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := threeColumns(h)
	want := []store.Priority{store.PriorityHigh, store.PriorityUrgent, store.PriorityLow, store.PriorityNormal}
	for _, p := range want {
		h.keys("p")
		if got := h.row(cards[0].ID).Priority; got != p {
			t.Fatalf("priority %v, want %v", got, p)
		}
		if !strings.Contains(h.screen(), "#1 · "+p.String()) {
			t.Fatalf("screen lacks %v:\n%s", p, h.screen())
		}
	}
	h.noErrors()
}

func TestAssigneeToggles(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := threeColumns(h)
	h.keys("a")
	if got := h.row(cards[0].ID).Assignee; got != store.AgentAssignee || !strings.Contains(h.screen(), "#1 · normal · agent") {
		t.Fatalf("assignee %v\n%s", got, h.screen())
	}
	h.keys("a")
	if got := h.row(cards[0].ID).Assignee; got != store.Me {
		t.Fatalf("assignee %v", got)
	}
	h.noErrors()
}

// TestUndoRestoresExactRow checks, for each kind of change, that u puts
// the stored rows back exactly as they were.
func TestUndoRestoresExactRow(t *testing.T) {
	tests := []struct {
		name string
		do   func(h *harness)
	}{
		{"priority", func(h *harness) { h.keys("p") }},
		{"assignee", func(h *harness) { h.keys("a") }},
		{"edit", func(h *harness) { h.keys("e", "ctrl+u"); h.typeText("changed"); h.keys("ctrl+s") }},
		{"move column", func(h *harness) { h.keys("L") }},
		{"reorder", func(h *harness) { h.keys("J") }},
		{"delete", func(h *harness) { h.keys("d", "y") }},
		{"create", func(h *harness) { h.keys("n"); h.typeText("new one"); h.keys("ctrl+s") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 120, 40)
			threeColumns(h)
			before := h.rows()
			tc.do(h)
			h.noErrors()
			if after := h.rows(); reflect.DeepEqual(before, after) {
				t.Fatal("the change wrote nothing (the undo check would prove nothing)")
			}
			h.keys("u")
			h.noErrors()
			if after := h.rows(); !reflect.DeepEqual(before, after) {
				t.Fatalf("undo did not restore the rows:\nbefore %+v\nafter  %+v", before, after)
			}
			// The screen shows the restored board.
			for _, c := range before {
				if !strings.Contains(h.screen(), c.Title) {
					t.Fatalf("%q missing after undo:\n%s", c.Title, h.screen())
				}
			}
		})
	}
}

// TestUndoWithNothingToUndoReports: u with nothing of the person's to
// undo says so in the pane's notice (it is not an error), until the next
// key.
func TestUndoWithNothingToUndoReports(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.keys("u")
	h.noErrors()
	if s := h.screen(); !strings.Contains(s, "nothing of yours to undo (U undoes the selected card's last change") {
		t.Fatalf("no notice:\n%s", s)
	}
	h.keys("j")
	if s := h.screen(); strings.Contains(s, "nothing of yours") {
		t.Fatalf("the notice outlived the next key:\n%s", s)
	}
}

func TestFilter(t *testing.T) {
	h := newHarness(t, 120, 40)
	threeColumns(h)
	h.keys("/")
	if !h.m.Editing() {
		t.Fatal("filter input not open")
	}
	h.typeText("BUG") // matches Bravo's body, case-insensitively
	s := h.screen()
	if !strings.Contains(s, "Bravo") || strings.Contains(s, "Alpha") || strings.Contains(s, "Charlie") {
		t.Fatalf("filter shows the wrong cards:\n%s", s)
	}
	if !strings.Contains(s, "To do 1/2") || !strings.Contains(s, "no matches") {
		t.Fatalf("filtered counts missing:\n%s", s)
	}
	if h.selectedTitle() != "Bravo" {
		t.Fatalf("selection %q", h.selectedTitle())
	}
	h.keys("enter") // keep the filter, leave the input
	if h.m.Editing() || !strings.Contains(h.screen(), "/ BUG") || strings.Contains(h.screen(), "Alpha") {
		t.Fatalf("filter not kept:\n%s", h.screen())
	}
	h.keys("p") // acts on the filtered selection
	if got := h.rows()[1]; got.Title != "Bravo" || got.Priority != store.PriorityHigh {
		t.Fatalf("p hit %q (%v)", got.Title, got.Priority)
	}
	h.keys("esc")
	if !strings.Contains(h.screen(), "Alpha") || h.m.filter != "" {
		t.Fatalf("esc did not clear the filter:\n%s", h.screen())
	}
	h.keys("/")
	h.typeText("#3")
	if s := h.screen(); !strings.Contains(s, "Charlie") || strings.Contains(s, "Alpha") {
		t.Fatalf("#id filter:\n%s", s)
	}
	h.keys("esc")
	if h.m.Editing() || h.m.filter != "" {
		t.Fatal("esc in the input did not clear and close it")
	}
}

func TestToggleArchived(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := threeColumns(h)
	if _, err := h.board.Move(context.Background(), "agent", cards[2].ID, store.Archived, -1); err != nil {
		t.Fatal(err)
	}
	h.run(h.m.loadCmd())
	if s := h.screen(); strings.Contains(s, "Charlie") || strings.Contains(s, "Archived") {
		t.Fatalf("archived card shown:\n%s", s)
	}
	h.keys("A")
	if s := h.screen(); !strings.Contains(s, "Charlie") || !strings.Contains(s, "Archived") {
		t.Fatalf("archived card hidden after A:\n%s", s)
	}
	h.keys("A")
	if strings.Contains(h.screen(), "Charlie") {
		t.Fatal("A did not hide archived cards again")
	}
	if len(h.rows()) != 3 {
		t.Fatal("toggling wrote to the board")
	}
}

func TestCancelFormMsgClosesEveryEditor(t *testing.T) {
	for _, open := range [][]string{{"n"}, {"e"}, {"c"}, {"/"}, {"d"}, {"enter", "c"}} {
		t.Run(strings.Join(open, ""), func(t *testing.T) {
			h := newHarness(t, 120, 40)
			threeColumns(h)
			before := h.rows()
			h.keys(open...)
			if !h.m.Editing() {
				t.Fatal("not editing")
			}
			h.typeText("xyz")
			if open[0] == "d" { // the typed x declined the confirmation
				return
			}
			h.send(CancelFormMsg{})
			if h.m.Editing() {
				t.Fatal("still editing after CancelFormMsg")
			}
			if !reflect.DeepEqual(before, h.rows()) {
				t.Fatal("cancel wrote to the board")
			}
		})
	}
}

// TestFailedWriteRestoresStoredState closes the board under the pane so
// every write fails: the optimistic change must be undone on screen and an
// ErrorMsg emitted.
func TestFailedWriteRestoresStoredState(t *testing.T) {
	h := newHarness(t, 120, 40)
	threeColumns(h)
	h.board.Close()

	cmd := h.press("L")
	if h.selectedTitle() != "Alpha" || allStatuses[h.m.col] != store.Running {
		t.Fatalf("the move was not shown at once:\n%s", h.screen())
	}
	h.run(cmd)
	if len(h.errs) == 0 {
		t.Fatal("no ErrorMsg for a failed write")
	}
	if c, _ := h.m.selected(); c.Title != "Alpha" || c.Status != store.Todo || c.Position != 0 || allStatuses[h.m.col] != store.Todo {
		t.Fatalf("card not back in its stored place: %+v in column %d\n%s", c, h.m.col, h.screen())
	}
	if got := h.m.cols[0]; len(got) != 2 || got[0].Title != "Alpha" || got[1].Title != "Bravo" {
		t.Fatalf("To do = %v", titles(got))
	}
	if len(h.m.cols[1]) != 1 {
		t.Fatalf("Running = %v", titles(h.m.cols[1]))
	}

	h.errs = nil
	h.run(h.press("p"))
	if c, _ := h.m.selected(); c.Priority != store.PriorityNormal || len(h.errs) == 0 {
		t.Fatalf("priority not restored: %v, errs %v", c.Priority, h.errs)
	}
	h.errs = nil
	h.keys("d", "y")
	if c, _ := h.m.selected(); c.Title != "Alpha" || len(h.errs) == 0 {
		t.Fatalf("failed delete not restored: %+v", c)
	}
	h.errs = nil
	h.keys("n")
	h.typeText("kept")
	h.keys("ctrl+s")
	// The card is not on the board (it was never stored), and the text the
	// person typed is back in the form rather than lost.
	if !h.m.Editing() || h.m.form.title.Value() != "kept" || len(h.errs) == 0 {
		t.Fatalf("failed create: editing %v, title %q, errs %v", h.m.Editing(), h.m.form.title.Value(), h.errs)
	}
	h.keys("esc")
	if strings.Contains(h.screen(), "kept") {
		t.Fatalf("a card that was never stored is on the board:\n%s", h.screen())
	}
}

func TestRefusedBoardShowsReasonAndDoctor(t *testing.T) {
	err := &store.CorruptError{Path: "/data/kanban.db", Reason: "TLS record header detected at byte offset 5", TLSOffset: 5}
	m := newPane(nil, err)
	m.SetSize(60, 20)
	if m.Init() != nil {
		t.Fatal("a refused board must not poll")
	}
	m, _ = m.Update(keyMsg("n"))
	s := stripView(m)
	for _, want := range []string{"unavailable", "/data/kanban.db", "TLS record header detected", "spindle doctor"} {
		if !strings.Contains(s, want) {
			t.Fatalf("refusal lacks %q:\n%s", want, s)
		}
	}
	if m.Editing() {
		t.Fatal("keys act on a refused board")
	}
	// The path comes from the environment: it is drawn sanitized too.
	m = newPane(nil, &store.CorruptError{Path: "/data/\x1b[2Jevil/kanban.db", Reason: "bad \x1b]0;x\x07header"})
	m.SetSize(60, 20)
	if v := m.View(); strings.Contains(v, "\x1b[2J") || strings.Contains(v, "\x1b]0") || !strings.Contains(ansi.Strip(v), "evil/kanban.db") {
		t.Fatalf("refusal draws control sequences from the path or reason:\n%q", v)
	}
}

func TestUntrustedTextIsSanitized(t *testing.T) {
	h := newHarness(t, 120, 40)
	evil := "evil\x1b]52;c;aGk=\x07title\x1b[2J"
	cards := h.seed(store.NewCard{Title: evil, Body: "body\x1b[31m red"})
	if h.m.cols[0][0].Title != evil {
		t.Fatal("the control: the stored title keeps its escapes")
	}
	h.keys("enter", "c")
	h.typeText("ok")
	h.keys("enter")
	if _, err := h.board.Comment(context.Background(), "agent", cards[0].ID, "hi\x1b[2J\u202e"); err != nil {
		t.Fatal(err)
	}
	h.run(h.m.eventsCmd(cards[0].ID))
	for _, view := range []string{h.m.View(), func() string { h.keys("esc"); return h.m.View() }()} {
		for _, bad := range []string{"\x1b]52", "\x1b[2J", "\x1b[31m red", "\x07", "\u202e"} {
			if strings.Contains(view, bad) {
				t.Fatalf("view contains %q", bad)
			}
		}
	}
	if !strings.Contains(h.screen(), "evil") {
		t.Fatalf("title not shown:\n%s", h.screen())
	}
}

func TestColumnsScrollToTheSelection(t *testing.T) {
	h := newHarness(t, 120, 20) // (20-3)/3 = 5 cards fit
	var many []store.NewCard
	for i := range 12 {
		many = append(many, store.NewCard{Title: "card " + string(rune('a'+i))})
	}
	h.seed(many...)
	if s := h.screen(); !strings.Contains(s, "1–5/12") || strings.Contains(s, "card f") {
		t.Fatalf("first page:\n%s", s)
	}
	for range 9 {
		h.keys("j")
	}
	s := h.screen()
	if !strings.Contains(s, "card j") || strings.Contains(s, "card a") || !strings.Contains(s, "6–10/12") {
		t.Fatalf("did not scroll to the selection:\n%s", s)
	}
	if h.selectedTitle() != "card j" {
		t.Fatalf("selected %q", h.selectedTitle())
	}
}

func TestNarrowLayoutSlidesColumns(t *testing.T) {
	h := newHarness(t, 60, 20) // three 20-cell columns fit
	threeColumns(h)
	s := h.screen()
	if !strings.Contains(s, "To do") || strings.Contains(s, "Review") || !strings.Contains(s, "›") {
		t.Fatalf("narrow first view:\n%s", s)
	}
	h.keys("l", "l", "l", "l")
	s = h.screen()
	if !strings.Contains(s, "Done") || strings.Contains(s, "To do") || !strings.Contains(s, "‹") {
		t.Fatalf("narrow view did not follow the selection:\n%s", s)
	}
	for i, l := range strings.Split(h.m.View(), "\n") {
		if w := lineWidth(l); w != 60 {
			t.Fatalf("line %d is %d cells wide", i, w)
		}
	}
}

// TestViewIsExactlyItsSize draws every mode at sizes down to one cell: no
// panic, and exactly h lines of exactly w cells.
func TestViewIsExactlyItsSize(t *testing.T) {
	sizes := []struct{ w, h int }{{1, 1}, {5, 2}, {19, 4}, {20, 5}, {48, 38}, {60, 20}, {120, 40}, {200, 60}}
	modes := [][]string{nil, {"enter"}, {"n"}, {"n", "enter"}, {"c"}, {"/"}, {"d"}, {"A"}}
	for _, sz := range sizes {
		for _, keys := range modes {
			h := newHarness(t, sz.w, sz.h)
			threeColumns(h)
			h.keys(keys...)
			lines := strings.Split(h.m.View(), "\n")
			if len(lines) != sz.h {
				t.Fatalf("%dx%d %v: %d lines", sz.w, sz.h, keys, len(lines))
			}
			for i, l := range lines {
				if w := lineWidth(l); w != sz.w {
					t.Fatalf("%dx%d %v: line %d is %d cells: %q", sz.w, sz.h, keys, i, w, l)
				}
			}
		}
	}
}

// TestBurstCommitsInOrder types faster than the board commits: a create and
// two moves of the not-yet-created card are queued behind each other, and
// the moves must land on the card once it has its real id.
func TestBurstCommitsInOrder(t *testing.T) {
	h := newHarness(t, 120, 40)
	threeColumns(h)
	var cmds []tea.Cmd
	cmds = append(cmds, h.press("n"))
	for _, r := range "Burst" {
		cmds = append(cmds, h.press(string(r)))
	}
	for _, k := range []string{"ctrl+s", "L", "L", "p", "J"} {
		cmds = append(cmds, h.press(k))
	}
	if h.selectedTitle() != "Burst" || allStatuses[h.m.col] != store.Blocked {
		t.Fatalf("optimistic state wrong:\n%s", h.screen())
	}
	if len(h.rows()) != 3 {
		t.Fatal("the control: nothing may be written before the Cmds run")
	}
	for _, c := range cmds {
		h.run(c)
	}
	h.noErrors()
	var burst *store.Card
	for _, c := range h.rows() {
		if c.Title == "Burst" {
			burst = &c
		}
	}
	if burst == nil || burst.Status != store.Blocked || burst.Position != 0 || burst.Priority != store.PriorityHigh {
		t.Fatalf("burst card row = %+v", burst)
	}
	if c, _ := h.m.selected(); c.ID != burst.ID {
		t.Fatalf("selection kept the temporary id: %+v", c)
	}
}

func TestCardDeletedElsewhere(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := threeColumns(h)
	h.keys("enter")
	if h.m.mode != modeDetail {
		t.Fatal("detail not open")
	}
	if err := h.board.Delete(context.Background(), "me", cards[0].ID); err != nil {
		t.Fatal(err)
	}
	h.send(pollMsg{})
	if h.m.mode != modeBoard || strings.Contains(h.screen(), "Alpha") {
		t.Fatalf("detail of a deleted card still open:\n%s", h.screen())
	}
	// An edit form left open on a card deleted meanwhile reports it.
	h.keys("e")
	if err := h.board.Delete(context.Background(), "me", cards[1].ID); err != nil {
		t.Fatal(err)
	}
	h.send(pollMsg{})
	h.typeText("!")
	h.keys("ctrl+s")
	if len(h.errs) != 1 || !errors.Is(h.errs[0], store.ErrNotFound) {
		t.Fatalf("errors = %v", h.errs)
	}
}

// TestDetailKeysActOnTheShownCard archives the open card from another
// connection: the board's selection then falls on another card, but the
// detail still shows the archived one, and its keys must act on that card.
func TestDetailKeysActOnTheShownCard(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := threeColumns(h)
	alpha, bravo := cards[0], cards[1]
	h.keys("enter")
	if _, err := h.board.Move(context.Background(), "me", alpha.ID, store.Archived, -1); err != nil {
		t.Fatal(err)
	}
	h.send(pollMsg{})
	if h.m.mode != modeDetail || !strings.Contains(h.screen(), "Alpha") {
		t.Fatalf("detail of the archived card closed:\n%s", h.screen())
	}
	h.keys("p", "d", "y")
	h.noErrors()
	if got := h.row(bravo.ID); got.Priority != bravo.Priority {
		t.Fatalf("p in Alpha's detail changed Bravo: %+v", got)
	}
	if _, err := h.board.Get(context.Background(), bravo.ID); err != nil {
		t.Fatalf("d y in Alpha's detail deleted Bravo: %v", err)
	}
	if _, err := h.board.Get(context.Background(), alpha.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Alpha not deleted: %v", err)
	}
}

// TestEditFormOpenedBeforeTheCreateCommits opens the edit form on a card
// whose create is still queued: saving it after the create has committed
// must edit the stored card, not report the temporary id as gone.
func TestEditFormOpenedBeforeTheCreateCommits(t *testing.T) {
	h := newHarness(t, 120, 40)
	threeColumns(h)
	h.keys("n")
	h.typeText("Fresh")
	create := h.press("ctrl+s") // not run yet
	h.keys("e")
	if h.m.mode != modeForm || h.m.form.id >= 0 {
		t.Fatalf("the control: the form must edit the temporary card, id %d", h.m.form.id)
	}
	h.run(create)
	h.typeText("!")
	h.keys("ctrl+s")
	h.noErrors()
	var titlesNow []string
	for _, c := range h.rows() {
		titlesNow = append(titlesNow, c.Title)
	}
	if !slices.Contains(titlesNow, "Fresh!") {
		t.Fatalf("rows = %v, want the edit on the created card", titlesNow)
	}
}

// TestPasteIsSanitized pastes escape sequences, a bell and a bidi override
// into every input: the inputs drop the escapes themselves, but the bidi
// override would be drawn (and saved) as it is.
func TestPasteIsSanitized(t *testing.T) {
	h := newHarness(t, 120, 40)
	threeColumns(h)
	for _, open := range [][]string{{"/"}, {"c"}, {"n"}, {"n", "enter"}} {
		h.keys(open...)
		h.send(tea.PasteMsg{Content: "a\x1b[2Jb\x07\u202ec"})
		v := h.m.View()
		for _, bad := range []string{"\x1b[2J", "\x07", "\u202e"} {
			if strings.Contains(v, bad) {
				t.Errorf("after pasting into %v the view contains %q", open, bad)
			}
		}
		h.keys("esc")
	}
}

// TestFailedCreateDropsItsQueuedChanges fails a create that has moves
// queued behind it: the moves cannot succeed and must not bring the unsaved
// card back when they fail in turn.
func TestFailedCreateDropsItsQueuedChanges(t *testing.T) {
	h := newHarness(t, 120, 40)
	threeColumns(h)
	h.board.Close()
	var cmds []tea.Cmd
	cmds = append(cmds, h.press("n"))
	for _, r := range "Ghost" {
		cmds = append(cmds, h.press(string(r)))
	}
	cmds = append(cmds, h.press("ctrl+s"), h.press("L"), h.press("p"))
	if !strings.Contains(h.screen(), "Ghost") {
		t.Fatal("the control: the card must be shown before its create runs")
	}
	for _, c := range cmds {
		h.run(c)
	}
	// The form is open again with the text (nothing typed is lost); the
	// board behind it does not hold the card.
	if h.m.form.title.Value() != "Ghost" {
		t.Fatalf("the failed create's text is gone: %q", h.m.form.title.Value())
	}
	h.keys("esc")
	if strings.Contains(h.screen(), "Ghost") || h.m.busy() {
		t.Fatalf("the card whose create failed is back on screen (busy %v):\n%s", h.m.busy(), h.screen())
	}
	if len(h.errs) == 0 || !strings.Contains(h.errs[0].Error(), "create card") {
		t.Fatalf("errors = %v, want the create's first", h.errs)
	}
	for _, err := range h.errs {
		if strings.Contains(err.Error(), "card -") {
			t.Fatalf("a change queued for the unsaved card was still tried: %v", err)
		}
	}
}

// TestRuleShowsNoRangeWithoutRoomForCards: a pane too short for any card
// row must not claim on its rule that some cards are shown.
func TestRuleShowsNoRangeWithoutRoomForCards(t *testing.T) {
	h := newHarness(t, 60, 3)
	threeColumns(h)
	if s := h.screen(); strings.Contains(s, "/2") {
		t.Fatalf("rule shows a range of cards it does not draw:\n%s", s)
	}
	h.m.SetSize(60, 4) // the first card's title fits
	if s := h.screen(); !strings.Contains(s, "1–1/2") || !strings.Contains(s, "Alpha") {
		t.Fatalf("rule or card missing at 60x4:\n%s", s)
	}
}

// TestDamagedBoardKeepsWhatYouTyped: kanban.db's header is damaged from
// outside while the pane is open (the seed bug's record at byte 5). A new
// card typed then cannot be saved: the form opens again with its text, the
// pane says what to do, and the file's bytes do not change.
func TestDamagedBoardKeepsWhatYouTyped(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.seed(store.NewCard{Title: "Alpha"})
	path := h.board.Path()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0x17, 0x03, 0x03, 0x00, 0x13, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, 5); err != nil {
		t.Fatal(err)
	}
	f.Close()
	before, _ := os.ReadFile(path)
	h.keys("n")
	h.typeText("Important new card")
	h.keys("ctrl+s")
	if !h.m.Editing() || h.m.form.title.Value() != "Important new card" {
		t.Fatalf("the typed card was lost: editing %v, title %q", h.m.Editing(), h.m.form.title.Value())
	}
	if len(h.errs) == 0 || !errors.Is(h.errs[len(h.errs)-1], store.ErrCorrupt) {
		t.Fatalf("errors %v", h.errs)
	}
	h.keys("esc")
	if !strings.Contains(h.screen(), "damaged while open") || !strings.Contains(h.screen(), "spindle doctor") {
		t.Errorf("the pane does not say what to do:\n%s", h.screen())
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("kanban.db changed after the damage was found")
	}
}
