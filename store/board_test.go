package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func openTestBoard(t testing.TB) *Board {
	t.Helper()
	b, err := OpenBoard(filepath.Join(t.TempDir(), "kanban.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func mustCreate(t testing.TB, b *Board, title string, st Status) Card {
	t.Helper()
	c, err := b.Create(context.Background(), "me", NewCard{Title: title, Status: st, Priority: PriorityNormal})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// columns returns the titles per status, in position order, and checks that
// positions are dense 0..n-1.
func columns(t testing.TB, b *Board) map[Status][]string {
	t.Helper()
	cards, err := b.List(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	out := map[Status][]string{}
	for _, c := range cards {
		if c.Position != len(out[c.Status]) {
			t.Fatalf("card %d %q in %s has position %d, want %d (positions not dense)", c.ID, c.Title, c.Status, c.Position, len(out[c.Status]))
		}
		out[c.Status] = append(out[c.Status], c.Title)
	}
	return out
}

// snapshot is every card as callers see it, archived ones included.
func snapshot(t testing.TB, b *Board) []Card {
	t.Helper()
	cards, err := b.List(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	return cards
}

func TestMoveKeepsPositionsDense(t *testing.T) {
	ctx := context.Background()
	type move struct {
		title string
		to    Status
		pos   int
	}
	tests := []struct {
		name  string
		moves []move
		want  map[Status][]string
	}{
		{"to end of other column", []move{{"a", Running, -1}},
			map[Status][]string{Todo: {"b", "c"}, Running: {"x", "a"}}},
		{"to front of other column", []move{{"c", Running, 0}},
			map[Status][]string{Todo: {"a", "b"}, Running: {"c", "x"}}},
		{"reorder down", []move{{"a", Todo, 2}},
			map[Status][]string{Todo: {"b", "c", "a"}, Running: {"x"}}},
		{"reorder up", []move{{"c", Todo, 0}},
			map[Status][]string{Todo: {"c", "a", "b"}, Running: {"x"}}},
		{"position past the end clamps", []move{{"a", Todo, 99}},
			map[Status][]string{Todo: {"b", "c", "a"}, Running: {"x"}}},
		{"into an empty column", []move{{"b", Done, 5}},
			map[Status][]string{Todo: {"a", "c"}, Running: {"x"}, Done: {"b"}}},
		{"round trip", []move{{"a", Review, -1}, {"a", Todo, 1}},
			map[Status][]string{Todo: {"b", "a", "c"}, Running: {"x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := openTestBoard(t)
			ids := map[string]int64{}
			for _, c := range []struct {
				title string
				st    Status
			}{{"a", Todo}, {"b", Todo}, {"c", Todo}, {"x", Running}} {
				ids[c.title] = mustCreate(t, b, c.title, c.st).ID
			}
			for _, m := range tt.moves {
				if _, err := b.Move(ctx, "me", ids[m.title], m.to, m.pos); err != nil {
					t.Fatal(err)
				}
			}
			if got := columns(t, b); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("columns = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMoveToDoneSetsCompletedAt(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	c := mustCreate(t, b, "a", Todo)
	if !c.CompletedAt.IsZero() {
		t.Fatal("new card has CompletedAt")
	}
	c, err := b.Move(ctx, "me", c.ID, Done, -1)
	if err != nil || c.CompletedAt.IsZero() {
		t.Fatalf("after move to done: %+v, %v", c, err)
	}
	c, err = b.Move(ctx, "me", c.ID, Archived, -1)
	if err != nil || !c.CompletedAt.IsZero() {
		t.Fatalf("after move to archived: %+v, %v", c, err)
	}
	cards, err := b.List(ctx, false)
	if err != nil || len(cards) != 0 {
		t.Fatalf("List without archived = %v, %v", cards, err)
	}
}

func TestUndoRestoresExactRows(t *testing.T) {
	ctx := context.Background()
	title, body, prio, who := "renamed", "new body", PriorityUrgent, AgentAssignee
	changes := []struct {
		name string
		do   func(b *Board, id int64) error
	}{
		{"create", func(b *Board, id int64) error {
			_, err := b.Create(ctx, "me", NewCard{Title: "new", Status: Todo})
			return err
		}},
		{"edit", func(b *Board, id int64) error {
			_, err := b.Edit(ctx, "me", id, CardPatch{Title: &title, Body: &body, Priority: &prio, Assignee: &who})
			return err
		}},
		{"move across", func(b *Board, id int64) error { _, err := b.Move(ctx, "me", id, Done, 0); return err }},
		{"reorder", func(b *Board, id int64) error { _, err := b.Move(ctx, "me", id, Todo, 3); return err }},
		{"delete", func(b *Board, id int64) error { return b.Delete(ctx, "me", id) }},
	}
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) {
			b := openTestBoard(t)
			var second int64
			for i, st := range []Status{Todo, Todo, Todo, Todo, Done, Done} {
				c := mustCreate(t, b, fmt.Sprintf("card %d", i), st)
				if i == 1 {
					second = c.ID
				}
			}
			if _, err := b.Move(ctx, "me", second, Todo, 2); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, b)
			if err := ch.do(b, second); err != nil {
				t.Fatal(err)
			}
			if reflect.DeepEqual(snapshot(t, b), before) {
				t.Fatal("the change changed nothing: the test would prove nothing")
			}
			ev, err := b.Undo(ctx, ActorMe)
			if err != nil {
				t.Fatal(err)
			}
			if !ev.Undone {
				t.Errorf("returned event not marked undone: %+v", ev)
			}
			if got := snapshot(t, b); !reflect.DeepEqual(got, before) {
				t.Fatalf("after undo:\n got %+v\nwant %+v", got, before)
			}
			columns(t, b) // dense
		})
	}
}

func TestUndoWalksBackAndStops(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	empty := snapshot(t, b)
	a := mustCreate(t, b, "a", Todo)
	if _, err := b.Move(ctx, "me", a.ID, Running, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Comment(ctx, "agent", a.ID, "looking at it"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "me", a.ID); err != nil {
		t.Fatal(err)
	}
	// The person's undo walks back the person's changes only; the
	// agent's comment is not in the way (it changes no row) and stays.
	for _, want := range []EventKind{EventDeleted, EventMoved, EventCreated} {
		ev, err := b.Undo(ctx, ActorMe)
		if err != nil || ev.Kind != want {
			t.Fatalf("Undo = %+v, %v; want %s", ev, err, want)
		}
	}
	if _, err := b.Undo(ctx, ActorMe); !errors.Is(err, ErrNothingToUndo) {
		t.Fatalf("Undo on nothing = %v, want ErrNothingToUndo", err)
	}
	if ev, err := b.Undo(ctx, ActorAgent); err != nil || ev.Kind != EventCommented {
		t.Fatalf("the agent's Undo = %+v, %v; want its comment", ev, err)
	}
	if got := snapshot(t, b); !reflect.DeepEqual(got, empty) {
		t.Fatalf("board after undoing everything = %+v", got)
	}
	evs, err := b.Events(ctx, a.ID)
	if err != nil || len(evs) != 4 {
		t.Fatalf("Events = %+v, %v", evs, err)
	}
	for _, e := range evs {
		if !e.Undone {
			t.Errorf("event %+v not marked undone", e)
		}
	}
	if _, err := b.Get(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after undoing create = %v", err)
	}
}

func TestEventsRecordEveryChange(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	c := mustCreate(t, b, "a", Todo)
	body := "b"
	steps := []func() error{
		func() error { _, err := b.Edit(ctx, "me", c.ID, CardPatch{Body: &body}); return err },
		func() error { _, err := b.Edit(ctx, "me", c.ID, CardPatch{Body: &body}); return err }, // no change, no event
		func() error { _, err := b.Move(ctx, "agent", c.ID, Review, -1); return err },
		func() error { _, err := b.Move(ctx, "agent", c.ID, Review, 0); return err }, // already there
		func() error { _, err := b.Comment(ctx, "agent", c.ID, "done soon"); return err },
		func() error { return b.Delete(ctx, "me", c.ID) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := b.Events(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []EventKind
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	want := []EventKind{EventCreated, EventEdited, EventMoved, EventCommented, EventDeleted}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	if evs[3].Text != "done soon" || evs[3].Actor != "agent" {
		t.Errorf("comment event = %+v", evs[3])
	}
	if _, err := b.Events(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Events of a card that never existed = %v", err)
	}
}

func TestBadInputIsRefused(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	c := mustCreate(t, b, "a", Todo)
	empty, bad := "  ", Priority(7)
	// Each is refused by spindle's own check, with its reason, not by a
	// SQLite CHECK constraint further down.
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"empty title", func() error { _, err := b.Create(ctx, "me", NewCard{Title: " "}); return err }(), "the title is empty"},
		{"bad status", func() error { _, err := b.Create(ctx, "me", NewCard{Title: "x", Status: "later"}); return err }(), `unknown status "later"`},
		{"status in capitals", func() error { _, err := b.Create(ctx, "me", NewCard{Title: "x", Status: "TODO"}); return err }(), `unknown status "TODO"`},
		{"status with a space", func() error { _, err := b.Create(ctx, "me", NewCard{Title: "x", Status: " todo"}); return err }(), `unknown status " todo"`},
		{"bad priority", func() error { _, err := b.Create(ctx, "me", NewCard{Title: "x", Priority: 9}); return err }(), "invalid priority 9"},
		{"bad assignee", func() error { _, err := b.Create(ctx, "me", NewCard{Title: "x", Assignee: "bob"}); return err }(), `unknown assignee "bob"`},
		{"edit to empty title", func() error { _, err := b.Edit(ctx, "me", c.ID, CardPatch{Title: &empty}); return err }(), "the title is empty"},
		{"edit bad priority", func() error { _, err := b.Edit(ctx, "me", c.ID, CardPatch{Priority: &bad}); return err }(), "invalid priority 7"},
		{"move to bad status", func() error { _, err := b.Move(ctx, "me", c.ID, "later", 0); return err }(), `unknown status "later"`},
		{"move to a padded status", func() error { _, err := b.Move(ctx, "me", c.ID, "done ", 0); return err }(), `unknown status "done "`},
		{"empty comment", func() error { _, err := b.Comment(ctx, "me", c.ID, ""); return err }(), "the comment is empty"},
	}
	for _, tc := range cases {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}
	for name, err := range map[string]error{
		"get":     func() error { _, err := b.Get(ctx, 42); return err }(),
		"move":    func() error { _, err := b.Move(ctx, "me", 42, Done, 0); return err }(),
		"edit":    func() error { _, err := b.Edit(ctx, "me", 42, CardPatch{}); return err }(),
		"comment": func() error { _, err := b.Comment(ctx, "me", 42, "hi"); return err }(),
		"delete":  b.Delete(ctx, "me", 42),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of a missing card = %v, want ErrNotFound", name, err)
		}
	}
}

func TestPriorityAndStatusParsing(t *testing.T) {
	for in, want := range map[string]Priority{"low": PriorityLow, "Normal": PriorityNormal, "2": PriorityHigh, "URGENT": PriorityUrgent} {
		if got, err := ParsePriority(in); err != nil || got != want {
			t.Errorf("ParsePriority(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "4", "-1", "meh"} {
		if _, err := ParsePriority(in); err == nil {
			t.Errorf("ParsePriority(%q) accepted", in)
		}
	}
	if PriorityUrgent.Next() != PriorityLow || PriorityLow.Next() != PriorityNormal {
		t.Error("Next does not cycle")
	}
	if s, err := ParseStatus("Review"); err != nil || s != Review {
		t.Errorf("ParseStatus(Review) = %v, %v", s, err)
	}
	if _, err := ParseStatus("later"); err == nil {
		t.Error("ParseStatus(later) accepted")
	}
}

func TestDataVersionSeesOtherHandlesCommits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kanban.db")
	a, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenBoard(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	v0, err := a.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := a.DataVersion(ctx); v != v0 {
		t.Fatalf("data version changed with no commit: %d → %d", v0, v)
	}
	c := mustCreate(t, b, "from b", Todo)
	v1, err := a.DataVersion(ctx)
	if err != nil || v1 == v0 {
		t.Fatalf("data version after b's commit = %d, %v (was %d)", v1, err, v0)
	}
	if _, err := a.Get(ctx, c.ID); err != nil {
		t.Fatalf("a does not see b's card: %v", err)
	}
	mustCreate(t, a, "from a", Todo)
	if v2, _ := a.DataVersion(ctx); v2 == v1 {
		t.Fatal("data version did not change after a's own commit")
	}
}

func TestOpenSetsPragmas(t *testing.T) {
	b := openTestBoard(t)
	for q, want := range map[string]string{
		"PRAGMA journal_mode":   "wal",
		"PRAGMA foreign_keys":   "1",
		"PRAGMA busy_timeout":   fmt.Sprint(busyTimeout.Milliseconds()),
		"PRAGMA application_id": fmt.Sprint(BoardAppID),
		"PRAGMA user_version":   fmt.Sprint(len(boardMigrations)),
		"PRAGMA synchronous":    "1",
	} {
		var got string
		if err := b.db.w.QueryRow(q).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", q, got, err, want)
		}
	}
	var ro string
	if err := b.db.r.QueryRow("PRAGMA query_only").Scan(&ro); err != nil || ro != "1" {
		t.Errorf("reader query_only = %q, %v", ro, err)
	}
}

// TestBoardAgainstModel applies random creates, moves (many into the same
// gap, which forces columns to be renumbered), deletes and undos to a board
// and to a plain in-memory model, and compares them after every step.
func TestBoardAgainstModel(t *testing.T) {
	ctx := context.Background()
	b := openTestBoard(t)
	rng := rand.New(rand.NewPCG(7, 11))
	renumbered := renumbers.Load() // other tests may have renumbered too
	defer func(g int64) { rankGap = g }(rankGap)
	rankGap = 4 // gaps fill after two moves into them
	type model map[Status][]int64
	clone := func(m model) model {
		out := model{}
		for k, v := range m {
			out[k] = slices.Clone(v)
		}
		return out
	}
	remove := func(m model, id int64) {
		for st, ids := range m {
			if i := slices.Index(ids, id); i >= 0 {
				m[st] = slices.Delete(ids, i, i+1)
			}
		}
	}
	m := model{}
	var history []model
	var ids []int64
	steps := 400
	for step := range steps {
		before := clone(m)
		changed := true
		switch op := rng.IntN(10); {
		case op < 2 || len(ids) < 3:
			st := Columns[rng.IntN(2)]
			c := mustCreate(t, b, fmt.Sprintf("c%d", step), st)
			ids = append(ids, c.ID)
			m[st] = append(m[st], c.ID)
		case op < 8:
			id := ids[rng.IntN(len(ids))]
			if _, err := b.Get(ctx, id); errors.Is(err, ErrNotFound) {
				changed = false
				break
			}
			to := Columns[rng.IntN(2)]
			pos := 1 // the same gap again
			if op >= 5 {
				pos = rng.IntN(12) - 1
			}
			if _, err := b.Move(ctx, "me", id, to, pos); err != nil {
				t.Fatal(err)
			}
			remove(m, id)
			if pos < 0 || pos > len(m[to]) {
				pos = len(m[to])
			}
			m[to] = slices.Insert(m[to], pos, id)
			changed = !reflect.DeepEqual(clone(m), before)
		case op < 9:
			id := ids[rng.IntN(len(ids))]
			err := b.Delete(ctx, "me", id)
			if errors.Is(err, ErrNotFound) {
				changed = false
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			remove(m, id)
		default:
			changed = false
			_, err := b.Undo(ctx, ActorMe)
			if len(history) == 0 {
				if !errors.Is(err, ErrNothingToUndo) {
					t.Fatalf("step %d: Undo with empty history = %v", step, err)
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			m = history[len(history)-1]
			history = history[:len(history)-1]
		}
		if changed {
			history = append(history, before)
		}
		got := model{}
		for _, c := range snapshot(t, b) {
			if c.Position != len(got[c.Status]) {
				t.Fatalf("step %d: card %d position %d, want %d", step, c.ID, c.Position, len(got[c.Status]))
			}
			got[c.Status] = append(got[c.Status], c.ID)
			if g, err := b.Get(ctx, c.ID); err != nil || g.Position != c.Position {
				t.Fatalf("step %d: Get(%d) position %d, List says %d (%v)", step, c.ID, g.Position, c.Position, err)
			}
		}
		for st, v := range m {
			if len(v) == 0 {
				delete(m, st)
			}
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("step %d:\nboard %v\nmodel %v", step, got, m)
		}
	}
	if renumbers.Load() == renumbered {
		t.Error("no column was renumbered: the test did not reach that path")
	}
}

// TestConcurrentWritersInOneProcess: goroutines writing through two handles
// on one file never see SQLITE_BUSY, and no change is lost.
func TestConcurrentWritersInOneProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kanban.db")
	var boards []*Board
	for range 2 {
		b, err := OpenBoard(path)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		boards = append(boards, b)
	}
	const workers, each = 6, 15
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			b := boards[w%2]
			for i := range each {
				c, err := b.Create(ctx, "me", NewCard{Title: fmt.Sprintf("w%d-%d", w, i)})
				if err == nil {
					_, err = b.Move(ctx, "agent", c.ID, Columns[(w+i)%len(Columns)], 0)
				}
				if err == nil {
					_, err = b.List(ctx, false)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := len(snapshot(t, boards[1])); got != workers*each {
		t.Fatalf("%d cards, want %d", got, workers*each)
	}
	columns(t, boards[0])
}
