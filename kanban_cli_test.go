package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runSpindle runs the binary with a private data, state and config
// directory and returns stdout, stderr and the exit code.
func runSpindle(t *testing.T, bin, home string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	tmp := t.TempDir()
	cmd.Env = append(os.Environ(),
		"SPINDLE_HOME="+home,
		"XDG_STATE_HOME="+filepath.Join(tmp, "state"),
		"XDG_CONFIG_HOME="+filepath.Join(tmp, "config"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// TestKanbanCLI builds the binary once and runs it as a person or a script
// would.
func TestKanbanCLI(t *testing.T) {
	bin := spindleBin(t)
	t.Run("refuses a corrupt board", func(t *testing.T) { testRefusesCorruptBoard(t, bin) })
	t.Run("script", func(t *testing.T) { testScript(t, bin) })
	t.Run("doctor fails on what it cannot check", func(t *testing.T) {
		home := t.TempDir()
		if err := os.Mkdir(filepath.Join(home, "kanban.db"), 0o700); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := runSpindle(t, bin, home, "doctor")
		if code == 0 || !strings.Contains(stdout, "CHECK FAILED") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("doctor with a directory for kanban.db: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
		}
	})
}

func testRefusesCorruptBoard(t *testing.T, bin string) {
	tests := []struct {
		sample string
		want   []string
	}{
		{"seed-bug-tls-at-5.db", []string{"not an SQLite database", "TLS record header detected at byte offset 5", "53 51 4c 69 74 17 03 03 00 13"}},
		{"page-size-768.db", []string{"invalid page size 768"}},
		{"foreign-app.db", []string{"a foreign SQLite database"}},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			home := t.TempDir()
			orig, err := os.ReadFile(filepath.Join("testdata", "corrupt", tt.sample))
			if err != nil {
				t.Fatal(err)
			}
			board := filepath.Join(home, "kanban.db")
			if err := os.WriteFile(board, orig, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"kanban", "list"}, {"kanban", "add", "x"}, {"doctor"}} {
				stdout, stderr, code := runSpindle(t, bin, home, args...)
				if code == 0 {
					t.Errorf("%v exited 0 on a corrupt board; stdout %q", args, stdout)
				}
				for _, w := range append([]string{board}, tt.want...) {
					if !strings.Contains(stderr+stdout, w) {
						t.Errorf("%v: output does not contain %q:\nstdout %s\nstderr %s", args, w, stdout, stderr)
					}
				}
				for _, bad := range []string{"goroutine ", "panic", ".go:"} {
					if strings.Contains(stderr, bad) {
						t.Errorf("%v: stderr looks like a Go stack trace:\n%s", args, stderr)
					}
				}
				if args[0] == "kanban" && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
					t.Errorf("%v: error is not one line:\n%s", args, stderr)
				}
			}
			if after, _ := os.ReadFile(board); !bytes.Equal(after, orig) {
				t.Error("the corrupt board was modified")
			}
			copies, _ := filepath.Glob(board + ".corrupt.*.bak")
			if len(copies) != 1 {
				t.Errorf("corrupt copies = %v, want one", copies)
			}
		})
	}
}

// testScript drives the board as a script would, and is the negative
// control of testRefusesCorruptBoard: a valid board works and exits 0.
func testScript(t *testing.T, bin string) {
	home := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := runSpindle(t, bin, home, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return strings.TrimSpace(stdout)
	}
	id := run("kanban", "add", "Write the report", "--priority", "high", "--body", "by Friday")
	other := run("kanban", "add", "Second")
	run("kanban", "move", id, "review")
	run("kanban", "edit", other, "--title", "Second, renamed")
	var shown struct {
		Title    string `json:"title"`
		Status   string `json:"status"`
		Priority string `json:"priority"`
		Events   []struct {
			Kind string `json:"kind"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(run("kanban", "show", id, "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Status != "review" || shown.Priority != "high" || len(shown.Events) != 2 {
		t.Fatalf("show --json = %+v", shown)
	}
	run("kanban", "rm", id)
	if out := run("kanban", "undo"); !strings.Contains(out, "restored card") || !strings.Contains(out, "deleted by you") {
		t.Fatalf("undo said %q", out)
	}
	var cards []struct {
		Title  string `json:"title"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(run("kanban", "list", "--json")), &cards); err != nil {
		t.Fatal(err)
	}
	if len(cards) != 2 || cards[0].Title != "Second, renamed" || cards[1].Status != "review" {
		t.Fatalf("list --json = %+v", cards)
	}
	for _, args := range [][]string{{"kanban", "move", "999", "done"}, {"kanban", "move", id, "later"}, {"kanban", "show", "x"}} {
		_, stderr, code := runSpindle(t, bin, home, args...)
		if code == 0 || !strings.HasPrefix(stderr, "spindle: ") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want one error line and a non-zero exit", args, code, stderr)
		}
	}
	// Card text is untrusted (the agent writes cards): the human-readable
	// output carries no escape sequence or control character; --json keeps
	// the text exactly, escaped.
	evil := "evil\x1b]0;pwned\x07\x1b[2Jtitle\u202e"
	eid := run("kanban", "add", evil, "--body", "body\x1b[31mred\x9b1m")
	for _, args := range [][]string{{"kanban", "list"}, {"kanban", "show", eid}} {
		out := run(args...)
		if strings.ContainsAny(out, "\x1b\x07\u009b\u202e") || !strings.Contains(out, "eviltitle") {
			t.Errorf("%v printed terminal controls or lost the text: %q", args, out)
		}
	}
	var raw struct {
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(run("kanban", "show", eid, "--json")), &raw); err != nil || raw.Title != evil {
		t.Errorf("show --json title = %q, %v; want it exactly", raw.Title, err)
	}
	run("kanban", "rm", eid)

	// Missing arguments name the command and what it wants.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"kanban", "move", id}, `kanban move: want ID STATUS, got 1 argument; see "spindle kanban move --help"`},
		{[]string{"kanban", "add"}, `kanban add: want TITLE, got 0 arguments`},
		{[]string{"kanban", "show", id, "extra"}, `kanban show: want ID, got 2 arguments`},
	} {
		_, stderr, code := runSpindle(t, bin, home, tt.args...)
		if code == 0 || !strings.HasPrefix(stderr, "spindle: "+tt.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want a non-zero exit and one line starting %q", tt.args, code, stderr, "spindle: "+tt.want)
		}
	}
	// Two backups in one second must not collide.
	for range 2 {
		if out := run("doctor", "--backup"); !strings.Contains(out, "backed up to") {
			t.Errorf("doctor --backup said %q", out)
		}
	}
}

// TestUndoIsThePersonsFromTheCLI: the person adds card A from the command
// line, the offline demo model adds card B (spindle run "add a card called
// B"); spindle kanban undo removes A and leaves B, and says so; the model's
// card is undone only when named (--card).
func TestUndoIsThePersonsFromTheCLI(t *testing.T) {
	bin := spindleBin(t)
	home := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := runSpindle(t, bin, home, args...)
		if code != 0 {
			t.Fatalf("spindle %v: exit %d\n%s%s", args, code, stdout, stderr)
		}
		return stdout
	}
	a := strings.TrimSpace(run("kanban", "add", "Card A"))
	run("run", "add a card called Card B")
	list := run("kanban", "list")
	if !strings.Contains(list, "Card A") || !strings.Contains(list, "Card B") {
		t.Fatalf("both cards should be on the board:\n%s", list)
	}
	out := run("kanban", "undo")
	if !strings.Contains(out, "removed card "+a) || !strings.Contains(out, "created by you") {
		t.Errorf("undo said %q", out)
	}
	list = run("kanban", "list")
	if strings.Contains(list, "Card A") || !strings.Contains(list, "Card B") {
		t.Fatalf("undo should remove A and keep the model's B:\n%s", list)
	}
	_, stderr, code := runSpindle(t, bin, home, "kanban", "undo")
	if code == 0 || !strings.Contains(stderr, "no change left to undo") {
		t.Errorf("second undo: exit %d, %q", code, stderr)
	}
	var cards []struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(run("kanban", "list", "--json")), &cards); err != nil || len(cards) != 1 {
		t.Fatalf("list --json: %v %v", cards, err)
	}
	out = run("kanban", "undo", "--card", strconv.FormatInt(cards[0].ID, 10))
	if !strings.Contains(out, "created by agent") {
		t.Errorf("undo --card said %q", out)
	}
}
