package kanban

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/store"
)

// TestRunningCardWithoutWorkerShowsIt: a card in Running for the agent
// that no worker holds says so on the board and in its detail; one that a
// worker of another process holds names that process; one with a worker
// here shows its progress. The controls: the person's own card in Running
// shows its meta, and so does the card once a worker has it.
func TestRunningCardWithoutWorkerShowsIt(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := h.seed(
		store.NewCard{Title: "Orphan", Status: store.Running, Assignee: store.AgentAssignee, Priority: store.PriorityNormal},
		store.NewCard{Title: "Mine", Status: store.Running, Assignee: store.Me, Priority: store.PriorityNormal},
	)
	h.keys("l") // Running
	s := h.screen()
	if !strings.Contains(s, "#1 · "+noWorkerLine) {
		t.Errorf("the card with no worker does not say so:\n%s", s)
	}
	if !strings.Contains(s, "#2 · normal · me") {
		t.Errorf("the control: the person's running card lost its meta:\n%s", s)
	}
	h.keys("enter")
	if flat := strings.Join(strings.Fields(h.screen()), " "); !strings.Contains(flat, "Worker "+noWorkerDetail) {
		t.Errorf("the detail does not explain it:\n%s", h.screen())
	}
	h.keys("esc")

	// Another process's dispatcher claims it.
	if _, err := h.board.Claim(context.Background(), cards[0].ID, "elsewhere", 4242, time.Minute); err != nil {
		t.Fatal(err)
	}
	h.run(h.m.loadCmd())
	if s := h.screen(); !strings.Contains(s, "#1 · run by pid 4242") || strings.Contains(s, noWorkerLine) {
		t.Errorf("the claimed card:\n%s", s)
	}
	h.keys("enter")
	if flat := strings.Join(strings.Fields(h.screen()), " "); !strings.Contains(flat, "Worker in process 4242 on elsewhere") {
		t.Errorf("the detail of the claimed card:\n%s", h.screen())
	}
	h.keys("esc")
	// A worker of this process.
	h.m.SetWorkers([]Worker{{CardID: cards[0].ID, Elapsed: 3 * time.Second, LastLine: "reading"}}, "*")
	if s := h.screen(); !strings.Contains(s, "* 3s · reading") {
		t.Errorf("the local worker's line:\n%s", s)
	}
}

// TestWorkerPreviewIsPlainText: the running card's one-line preview of its
// worker's output drops markdown markers; the card's detail keeps the
// rendered transcript (not checked here).
func TestWorkerPreviewIsPlainText(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := h.seed(store.NewCard{Title: "Job", Status: store.Running, Assignee: store.AgentAssignee, Priority: store.PriorityNormal})
	h.m.SetWorkers([]Worker{{CardID: cards[0].ID, Elapsed: time.Second, LastLine: "3. **Take the** `changelog`"}}, "*")
	s := h.screen()
	if !strings.Contains(s, "* 1s · 3. Take the c") || strings.Contains(s, "**") || strings.Contains(s, "`") {
		t.Errorf("the preview shows markdown:\n%s", s)
	}
}

func TestPlainLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"3. **Take the** changelog", "3. Take the changelog"},
		{"## Plan", "Plan"},
		{"> quoted *text*", "quoted text"},
		{"- [x] done item", "done item"},
		{"* bullet with `code` and __bold__", "bullet with code and bold"},
		{"see [the docs](https://example.com) and ![logo](x.png)", "see the docs and logo"},
		{"~~gone~~ but ~/path stays", "gone but ~/path stays"},
		{"snake_case and 2*3 stay", "snake_case and 2*3 stay"},
		{"#hashtag stays", "#hashtag stays"},
		{"", ""},
		{"\x1b[31mred\x1b[0m **bold**", "red bold"},
	}
	for _, tc := range tests {
		if got := plainLine(tc.in); got != tc.want {
			t.Errorf("plainLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestStopAnotherProcessWorker: x on a card that a worker of another
// process holds asks that worker to stop through the board (the claim's
// stop flag, which its dispatcher reads at its next heartbeat), and says
// so; x on a card that nobody runs is refused. The control: before the
// key, the claim has no stop request.
func TestStopAnotherProcessWorker(t *testing.T) {
	h := newHarness(t, 120, 40)
	cards := h.seed(
		store.NewCard{Title: "Elsewhere", Status: store.Running, Assignee: store.AgentAssignee, Priority: store.PriorityNormal},
		store.NewCard{Title: "Idle", Status: store.Todo, Assignee: store.Me, Priority: store.PriorityNormal},
	)
	ctx := context.Background()
	if _, err := h.board.Claim(ctx, cards[0].ID, "elsewhere", 4242, time.Minute); err != nil {
		t.Fatal(err)
	}
	stopFlag := func() bool {
		t.Helper()
		claims, err := h.board.Claims(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range claims {
			if c.CardID == cards[0].ID {
				return c.Stop
			}
		}
		t.Fatal("the claim is gone")
		return false
	}
	if stopFlag() {
		t.Fatal("control: the claim asks to stop before any key")
	}
	h.run(h.m.loadCmd())
	h.keys("l", "x") // Running, the claimed card
	if !stopFlag() {
		t.Fatalf("x did not ask the other process's worker to stop:\n%s", h.screen())
	}
	flat := strings.Join(strings.Fields(h.screen()), " ")
	if !strings.Contains(flat, "asked the spindle running card 1 (pid 4242 on elsewhere) to stop it") {
		t.Errorf("the pane does not say what x did:\n%s", h.screen())
	}

	// A claim nobody has refreshed (its process gone or stuck): the stop
	// is recorded, and the pane says that no heartbeat will read it.
	stale := h.seed(store.NewCard{Title: "Stale", Status: store.Running, Assignee: store.AgentAssignee, Priority: store.PriorityNormal})[0]
	if _, err := h.board.Claim(ctx, stale.ID, "elsewhere", 4243, -time.Minute); err != nil {
		t.Fatal(err)
	}
	h.run(h.m.loadCmd())
	for range 5 {
		if h.selectedTitle() == "Stale" {
			break
		}
		h.keys("j")
	}
	h.keys("x")
	if flat := strings.Join(strings.Fields(h.screen()), " "); !strings.Contains(flat, "(pid 4243 on elsewhere) has not been heard from since") {
		t.Errorf("x on a stale claim:\n%s", h.screen())
	}

	// The card nobody runs: refused, with the reason.
	h.noErrors()
	h.keys("h", "x")
	if len(h.errs) != 1 || !strings.Contains(h.errs[0].Error(), "no worker is running card 2") {
		t.Errorf("x on a card nobody runs: errors %v", h.errs)
	}
}
