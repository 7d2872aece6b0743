package kanban

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spindle-sh/spindle/store"
)

// TestCardFromAnotherConnectionAppearsAfterPoll adds a card through a
// second Board handle on the same file, as `spindle kanban add` in another
// process would, and waits for the pane's real one-second tick.
func TestCardFromAnotherConnectionAppearsAfterPoll(t *testing.T) {
	h := newHarness(t, 120, 40)
	threeColumns(h)
	other, err := store.OpenBoard(h.path)
	if err != nil {
		t.Fatalf("second handle: %v", err)
	}
	defer other.Close()
	if _, err := other.Create(context.Background(), "me", store.NewCard{Title: "From elsewhere", Status: store.Review}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h.screen(), "From elsewhere") {
		t.Fatal("the control: the card must not be on screen before a poll")
	}

	h.m.poll = pollInterval
	tick := h.m.pollTick()
	h.m.poll = 0  // the harness runs Cmds synchronously: do not re-arm forever
	msg := tick() // one real second
	if _, ok := msg.(pollMsg); !ok {
		t.Fatalf("tick produced %T", msg)
	}
	h.send(msg)
	h.noErrors()
	if !strings.Contains(h.screen(), "From elsewhere") || !strings.Contains(h.screen(), "Review 1") {
		t.Fatalf("card from another connection not shown after a poll:\n%s", h.screen())
	}
}

// TestPollReloadsOnlyWhenTheVersionChanged pins the cheap path: an
// unchanged data_version loads nothing.
func TestPollReloadsOnlyWhenTheVersionChanged(t *testing.T) {
	h := newHarness(t, 120, 40)
	threeColumns(h)
	v := h.m.version
	if _, cmd := h.m.Update(versionMsg{version: v}); cmd != nil {
		t.Fatal("unchanged version returned a load")
	}
	if _, cmd := h.m.Update(versionMsg{version: v + 1}); cmd == nil {
		t.Fatal("changed version did not load (the check above would prove nothing)")
	}
	// With the tick on, an unchanged version only re-arms the tick.
	h.m.poll = pollInterval
	if _, cmd := h.m.Update(versionMsg{version: v}); cmd == nil {
		t.Fatal("the tick was not re-armed")
	}
}

// TestLoadDuringWritesIsDeferred checks that a reload arriving while a
// write is in flight does not wipe the optimistic change.
func TestLoadDuringWritesIsDeferred(t *testing.T) {
	h := newHarness(t, 120, 40)
	threeColumns(h)
	write := h.press("L") // not run yet
	load := h.m.loadCmd()()
	h.send(load)
	if c, _ := h.m.selected(); c.Status != store.Running {
		t.Fatalf("a stale load undid the optimistic move: %+v", c)
	}
	h.run(write)
	h.noErrors()
	if c, _ := h.m.selected(); c.Status != store.Running || c.Title != "Alpha" {
		t.Fatalf("after the write: %+v", c)
	}
}

// TestPollFailureIsReportedOnce checks that a data_version poll that fails
// (the board closed under the pane) reaches the status bar, once per run of
// failures rather than once a second, and again after a success.
func TestPollFailureIsReportedOnce(t *testing.T) {
	h := newHarness(t, 120, 40)
	threeColumns(h)
	h.send(pollMsg{})
	h.noErrors()
	h.send(versionMsg{err: errors.New("disk on fire")})
	if len(h.errs) != 1 || !strings.Contains(h.errs[0].Error(), "disk on fire") {
		t.Fatalf("errors after a failed poll = %v", h.errs)
	}
	h.send(versionMsg{err: errors.New("disk on fire")})
	if len(h.errs) != 1 {
		t.Fatalf("a second failed poll reported again: %v", h.errs)
	}
	h.send(versionMsg{version: h.m.version})
	h.send(versionMsg{err: errors.New("disk on fire again")})
	if len(h.errs) != 2 {
		t.Fatalf("a failure after a success was not reported: %v", h.errs)
	}
	// And a real one: the board closed under the pane.
	h.errs = nil
	h.send(versionMsg{version: h.m.version})
	h.board.Close()
	h.send(pollMsg{})
	if len(h.errs) != 1 || !strings.Contains(h.errs[0].Error(), "kanban: poll the board") {
		t.Fatalf("errors after polling a closed board = %v", h.errs)
	}
}
