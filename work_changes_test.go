package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestWorkFollowsTheBoard runs spindle work while the board changes under
// it from other processes, as a person would change it.
func TestWorkFollowsTheBoard(t *testing.T) {
	bin := spindleBin(t)
	t.Run("given back", func(t *testing.T) { testWorkGivenBack(t, bin) })
	t.Run("a Running card with no worker", func(t *testing.T) { testWorkRunningCard(t, bin) })
}

// testWorkGivenBack: `spindle kanban edit ID --assignee me` on a running
// card stops its worker in spindle work: the run ends stopped, saying the
// card was given back, and the card stays in Running, the person's (it is
// not moved to Review under them).
func testWorkGivenBack(t *testing.T, bin string) {
	e := newRunEnv(t, bin)
	id, _, _ := e.run(t, "", "kanban", "add", "A long job", "--assignee", "agent")
	id = strings.TrimSpace(id)
	cmd, sc := startWork(t, e)
	waitLine(t, sc, "claimed  #"+id)
	if _, stderr, code := e.run(t, "", "kanban", "edit", id, "--assignee", "me"); code != 0 {
		t.Fatalf("kanban edit: %s", stderr)
	}
	if l := waitLine(t, sc, "finished #"+id); !strings.Contains(l, ": stopped") || !strings.Contains(l, "stopped: the card was given back to you") {
		t.Errorf("work said %q", l)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
			t.Errorf("work after SIGINT: %v", err)
		}
	}
	c := show(t, e, id)
	var card struct {
		Assignee string `json:"assignee"`
	}
	stdout, _, _ := e.run(t, "", "kanban", "show", id, "--json")
	json.Unmarshal([]byte(stdout), &card)
	if c.Status != "running" || card.Assignee != "me" || len(c.Runs) != 1 || c.Runs[0].Outcome != "stopped" {
		t.Errorf("card %s, %s, runs %+v; want running, me, one run stopped", c.Status, card.Assignee, c.Runs)
	}
	if !strings.Contains(e.log(t), "deferred_close=stranger_thread") {
		t.Error("no stranger abort line in the log")
	}
}

// testWorkRunningCard: a card added straight into Running for the agent
// has no worker; spindle work --until-idle runs it instead of calling the
// board idle at once.
func testWorkRunningCard(t *testing.T, bin string) {
	e := newRunEnv(t, bin)
	id, _, _ := e.run(t, "", "kanban", "add", "Left in Running", "--status", "running", "--assignee", "agent")
	id = strings.TrimSpace(id)
	stdout, stderr, code := e.run(t, "", "work", "--until-idle")
	if code != 0 || !strings.Contains(stdout, "claimed  #"+id) {
		t.Fatalf("work: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if c := show(t, e, id); c.Status != "review" || len(c.Runs) != 1 || c.Runs[0].Outcome != "review" {
		t.Errorf("card after work: %+v", c)
	}
}
