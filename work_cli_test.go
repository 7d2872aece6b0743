package main

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWorkCLI runs spindle work as a person or a script would.
func TestWorkCLI(t *testing.T) {
	bin := spindleBin(t)
	t.Run("until idle", func(t *testing.T) { testWorkUntilIdle(t, bin) })
	t.Run("stop from another process", func(t *testing.T) { testWorkStop(t, bin) })
	t.Run("SIGKILL mid-run", func(t *testing.T) { testWorkCrash(t, bin) })
}

type shownCard struct {
	Status string `json:"status"`
	Events []struct {
		Kind, Actor, Text string
	} `json:"events"`
	Runs []struct {
		Outcome string `json:"outcome"`
	} `json:"runs"`
}

func show(t *testing.T, e *runEnv, id string) shownCard {
	t.Helper()
	stdout, stderr, code := e.run(t, "", "kanban", "show", id, "--json")
	if code != 0 {
		t.Fatalf("kanban show: %s", stderr)
	}
	var c shownCard
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// testWorkUntilIdle: `spindle kanban add "Summarise the README" --assignee
// agent && spindle work --until-idle` exits 0, and the card is in Review
// with a comment from its worker; the card assigned to the person is not
// touched.
func testWorkUntilIdle(t *testing.T, bin string) {
	e := newRunEnv(t, bin)
	id, _, _ := e.run(t, "", "kanban", "add", "Summarise the README", "--assignee", "agent")
	id = strings.TrimSpace(id)
	mine, _, _ := e.run(t, "", "kanban", "add", "Mine, not the agent's")
	stdout, stderr, code := e.run(t, "", "work", "--until-idle")
	if code != 0 || !strings.Contains(stdout, "claimed  #"+id) || !strings.Contains(stdout, "finished #"+id+" Summarise the README: review") {
		t.Fatalf("work: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	c := show(t, e, id)
	worker := false
	for _, ev := range c.Events {
		if ev.Kind == "commented" && ev.Actor == "worker:"+id {
			worker = true
		}
	}
	if c.Status != "review" || !worker || len(c.Runs) != 1 || c.Runs[0].Outcome != "review" {
		t.Fatalf("card after work: %+v", c)
	}
	if m := show(t, e, strings.TrimSpace(mine)); m.Status != "todo" || len(m.Runs) != 0 {
		t.Errorf("the person's card was run: %+v", m)
	}
}

// startWork starts spindle work and returns it with a reader of its
// lines.
func startWork(t *testing.T, e *runEnv) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := e.command("work")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(out)
}

// waitLine reads lines until one contains want.
func waitLine(t *testing.T, sc *bufio.Scanner, want string) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if strings.Contains(sc.Text(), want) {
				found <- sc.Text()
				return
			}
		}
		close(found)
	}()
	select {
	case l, ok := <-found:
		if !ok {
			t.Fatalf("spindle work ended without printing %q", want)
		}
		return l
	case <-time.After(30 * time.Second):
		t.Fatalf("no line with %q", want)
		return ""
	}
}

// testWorkStop: spindle kanban stop, from another process, stops the
// running worker: the card goes to Blocked "stopped by you"; then SIGINT
// ends spindle work with 130.
func testWorkStop(t *testing.T, bin string) {
	e := newRunEnv(t, bin)
	id, _, _ := e.run(t, "", "kanban", "add", "A long job", "--assignee", "agent")
	id = strings.TrimSpace(id)
	cmd, sc := startWork(t, e)
	waitLine(t, sc, "claimed  #"+id)
	stdout, stderr, code := e.run(t, "", "kanban", "stop", id)
	if code != 0 || !strings.Contains(stdout, "now in blocked") {
		t.Fatalf("kanban stop: exit %d\n%s%s", code, stdout, stderr)
	}
	if l := waitLine(t, sc, "finished #"+id); !strings.Contains(l, "stopped by you") {
		t.Errorf("work said %q", l)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("work after SIGINT: %v", err)
	}
	if c := show(t, e, id); c.Status != "blocked" || len(c.Runs) != 1 || c.Runs[0].Outcome != "stopped" {
		t.Errorf("card %+v", c)
	}
	if !strings.Contains(e.log(t), "deferred_close=stranger_thread") {
		t.Error("no stranger abort line in the log")
	}
}

// testWorkCrash: spindle work is SIGKILLed mid-run, rounds times; each
// time the next start records the run crashed and runs the card again, and
// the end is one card in Review with rounds crashed runs before its
// finished one. Nothing else on the board changes.
func testWorkCrash(t *testing.T, bin string) {
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	e := newRunEnv(t, bin)
	id, _, _ := e.run(t, "", "kanban", "add", "Crash me", "--assignee", "agent")
	id = strings.TrimSpace(id)
	other, _, _ := e.run(t, "", "kanban", "add", "Bystander", "--body", "never touched")
	before := show(t, e, strings.TrimSpace(other))
	for i := range rounds {
		cmd, sc := startWork(t, e)
		if i > 0 {
			waitLine(t, sc, "recovered #"+id)
		}
		waitLine(t, sc, "claimed  #"+id)
		cmd.Process.Kill()
		cmd.Wait()
	}
	stdout, stderr, code := e.run(t, "", "work", "--until-idle")
	if code != 0 || !strings.Contains(stdout, "recovered #"+id) {
		t.Fatalf("last work: exit %d\n%s%s", code, stdout, stderr)
	}
	c := show(t, e, id)
	if c.Status != "review" || len(c.Runs) != rounds+1 {
		t.Fatalf("card %s with %d runs, want review and %d", c.Status, len(c.Runs), rounds+1)
	}
	for i, r := range c.Runs {
		want := "crashed"
		if i == rounds {
			want = "review"
		}
		if r.Outcome != want {
			t.Errorf("run %d: %s, want %s", i, r.Outcome, want)
		}
	}
	if after := show(t, e, strings.TrimSpace(other)); after.Status != before.Status || len(after.Events) != len(before.Events) {
		t.Errorf("the bystander changed: %+v → %+v", before, after)
	}
}
