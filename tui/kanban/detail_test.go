package kanban

import (
	"strings"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/store"
)

// TestDetailWrapsInsteadOfCutting: in the side-by-side layout's 48
// columns, the card's meta, its history and its runs wrap rather than end
// in "…": the times, "(undone)", an assignee change and a run's error are
// all there. A running run says "running" once.
func TestDetailWrapsInsteadOfCutting(t *testing.T) {
	m := goldenModel(t, 48, 38)
	m, _ = m.Update(keyMsg("enter"))
	at := t0.Add(time.Hour)
	m, _ = m.Update(eventsMsg{id: 1, events: []store.Event{
		{ID: 1, CardID: 1, Kind: "created", Actor: "me", Text: "Write the kanban pane", At: at},
		{ID: 2, CardID: 1, Kind: "moved", Actor: "worker:1", Text: "running → blocked", At: at, Undone: true},
		{ID: 3, CardID: 1, Kind: "edited", Actor: "me", Text: "assignee me → agent", At: at},
	}, runs: []store.Run{
		{ID: 1, CardID: 1, StartedAt: at, EndedAt: at.Add(3 * time.Second), Outcome: store.RunFailed, Error: "the server said 500 Internal Server Error twice"},
		{ID: 2, CardID: 1, StartedAt: at.Add(time.Minute), Outcome: store.RunRunning},
	}})
	view := stripView(m)
	flat := strings.Join(strings.Fields(view), " ")
	for _, want := range []string{
		"created 2026-11-20 10:30", "updated 2026-11-20 10:30",
		"worker:1 moved: running → blocked (undone)",
		"me edited: assignee me → agent",
		"failed 3s the server said 500 Internal Server Error twice",
		"2026-11-20 10:31 running",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("%q is not on the screen:\n%s", want, view)
		}
	}
	if strings.Contains(view, "…") {
		t.Errorf("something was cut:\n%s", view)
	}
	if strings.Contains(flat, "running running") {
		t.Errorf("a running run says running twice:\n%s", view)
	}
	for _, l := range strings.Split(view, "\n") {
		if lineWidth(l) != 48 {
			t.Fatalf("a line is %d cells wide, not 48: %q", lineWidth(l), l)
		}
	}
}

// TestDetailLongTitleWraps: a title longer than the pane takes up to
// maxTitleRows rows, the rest cut; the body starts below the header.
func TestDetailLongTitleWraps(t *testing.T) {
	m := goldenModel(t, 48, 38)
	m, _ = m.Update(keyMsg("j"))
	m, _ = m.Update(keyMsg("j")) // card 3, whose title is long
	m, _ = m.Update(keyMsg("enter"))
	lines := strings.Split(stripView(m), "\n")
	got := strings.Join(strings.Fields(lines[0]+" "+lines[1]), " ")
	if got != "#3 A title long enough that it has to be cut to fit its column" {
		t.Errorf("the title rows read %q", got)
	}
	if !strings.HasPrefix(lines[2], "To do · low · me") {
		t.Errorf("the meta is not below the title: %q", lines[2])
	}
}

func TestHangingWrap(t *testing.T) {
	tests := []struct {
		text   string
		w, ind int
		want   []string
	}{
		{"a  b  c", 10, 4, []string{"a  b  c"}},
		{"when  who  moved: running → blocked", 20, 4, []string{"when  who  moved:", "    running →", "    blocked"}},
		{"averyveryverylongword next", 8, 2, []string{"averyve…", "  next"}},
		{"", 10, 4, []string{""}},
	}
	for _, tc := range tests {
		got := hangingWrap(tc.text, tc.w, tc.ind)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("hangingWrap(%q, %d, %d) = %q, want %q", tc.text, tc.w, tc.ind, got, tc.want)
		}
	}
}

// TestHintsAreNeverCut: the board's and the detail's hint lines keep
// whole hints at any width (they dropped "u undo" to "u un…" at 48); the
// person's undo is kept before the filter at 48 columns.
func TestHintsAreNeverCut(t *testing.T) {
	for _, w := range []int{20, 30, 48, 60, 120} {
		m := goldenModel(t, w, 20)
		lines := strings.Split(stripView(m), "\n")
		foot := lines[len(lines)-1]
		if strings.Contains(foot, "…") {
			t.Errorf("%d columns: the board's hint is cut: %q", w, foot)
		}
		if w >= 48 && !strings.Contains(foot, "u undo") {
			t.Errorf("%d columns: the board's hint lacks u undo: %q", w, foot)
		}
		m, _ = m.Update(keyMsg("enter"))
		lines = strings.Split(stripView(m), "\n")
		if foot := lines[len(lines)-1]; strings.Contains(foot, "…") || (w >= 48 && !strings.Contains(foot, "U undo card")) {
			t.Errorf("%d columns: the detail's hint: %q", w, foot)
		}
	}
}
