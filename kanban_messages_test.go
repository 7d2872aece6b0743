package main

import (
	"strings"
	"testing"
)

// TestKanbanCLIMessages: the errors and notes a newcomer met say what is
// wrong in words: an unknown card is "no card N", a bad assignee lists the
// allowed ones, a bad number says what it should be (never strconv's
// text), an empty board says how to add a card, and kanban's help lists
// only the flags kanban takes.
func TestKanbanCLIMessages(t *testing.T) {
	bin := spindleBin(t)
	home := t.TempDir()
	run := func(args ...string) (string, string, int) {
		t.Helper()
		return runSpindle(t, bin, home, args...)
	}

	stdout, stderr, code := run("kanban", "list")
	if code != 0 || !strings.Contains(stdout, "The board is empty. Add a card with: spindle kanban add") || strings.Contains(stdout, "ID  STATUS") {
		t.Errorf("list of an empty board: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	id, _, _ := run("kanban", "add", "Only card")
	id = strings.TrimSpace(id)
	if stdout, _, _ := run("kanban", "list"); !strings.Contains(stdout, "Only card") || strings.Contains(stdout, "empty") {
		t.Errorf("the control: list of a board with a card: %q", stdout)
	}
	run("kanban", "move", id, "archived")
	if stdout, _, _ := run("kanban", "list"); !strings.Contains(stdout, "1 archived: kanban list --all shows them") {
		t.Errorf("list of a board whose only card is archived: %q", stdout)
	}
	run("kanban", "move", id, "todo")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"kanban", "stop", "999"}, "kanban stop: no card 999"},
		{[]string{"kanban", "stop", id}, "kanban stop: no worker is running card " + id + " (it is in todo)"},
		{[]string{"kanban", "edit", id, "--assignee", "bob"}, `kanban edit: unknown assignee "bob" (want me or agent)`},
		{[]string{"kanban", "add", "x", "--assignee", "bob"}, `kanban add: unknown assignee "bob" (want me or agent)`},
		{[]string{"kanban", "edit", "abc", "--title", "t"}, `kanban edit: card id must be a number, got "abc"`},
		{[]string{"kanban", "show", "0"}, `kanban show: card id must be 1 or more, got "0"`},
		{[]string{"kanban", "undo", "--event", "abc"}, `kanban undo: --event: event id must be a number, got "abc"`},
		{[]string{"kanban", "undo", "--card", "-2"}, `kanban undo: --card: card id must be 1 or more, got "-2"`},
		{[]string{"kanban", "move", id, "done", "--position", "x"}, `kanban move: --position: position must be a number, got "x"`},
		{[]string{"work", "--max-workers", "abc"}, `work: --max-workers: the number of workers must be a number, got "abc"`},
		{[]string{"work", "--max-workers", "99"}, `work: --max-workers 99: want 1 to 16`},
		{[]string{"kanban", "list", "--yolo"}, `kanban list: unknown flag: --yolo`},
	} {
		stdout, stderr, code := run(tc.args...)
		if code == 0 || !strings.HasPrefix(stderr, "spindle: "+tc.want) || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "strconv") {
			t.Errorf("%v: exit %d\nstdout %q\nstderr %q\nwant one line starting %q", tc.args, code, stdout, stderr, "spindle: "+tc.want)
		}
	}
	// The controls: good values of the same flags work.
	for _, args := range [][]string{
		{"kanban", "edit", id, "--assignee", "agent"},
		{"kanban", "move", "#" + id, "review", "--position", "0"},
		{"kanban", "undo", "--card", id},
	} {
		if _, stderr, code := run(args...); code != 0 {
			t.Errorf("the control %v: exit %d: %s", args, code, stderr)
		}
	}

	help, _, _ := run("kanban", "--help")
	for _, flag := range []string{"--yolo", "--model", "--base-url"} {
		if strings.Contains(help, flag) {
			t.Errorf("kanban --help lists %s, which only the agent's commands take:\n%s", flag, help)
		}
		for _, cmd := range [][]string{{"--help"}, {"run", "--help"}, {"work", "--help"}} {
			if out, _, _ := run(cmd...); !strings.Contains(out, flag) {
				t.Errorf("the control: %v does not list %s", cmd, flag)
			}
		}
	}
}
