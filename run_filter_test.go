package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/sanitize/sanitizetest"
)

// TestRunStreamsSanitizedLikeTheWhole: `spindle run` prints a reply whose
// escape sequences and characters are cut across deltas exactly as the
// whole reply sanitized, for every cut of every hostile string.
func TestRunStreamsSanitizedLikeTheWhole(t *testing.T) {
	for _, s := range sanitizetest.Hostile {
		want := sanitize.String(s) + "\n"
		for _, pieces := range sanitizetest.Splits(s) {
			ch := make(chan agent.Event, len(pieces)+1)
			for _, p := range pieces {
				ch <- agent.Delta{Text: p}
			}
			ch <- agent.Done{}
			close(ch)
			var out, errOut bytes.Buffer
			if err := streamToTerminal(context.Background(), ch, nil, func() {}, &out, &errOut); err != nil {
				t.Fatal(err)
			}
			if out.String() != want {
				t.Fatalf("%q in pieces %q: stdout %q, want %q", s, pieces, out.String(), want)
			}
		}
	}
}

// syncWriter collects output written by the tail goroutine.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestTailLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spindle.log")
	var lines []string
	for i := 0; i < 5000; i++ {
		lines = append(lines, strings.Repeat("x", i%97)+" line")
	}
	content := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 3, 4999, 5000, 9000} {
		var out bytes.Buffer
		if err := tailLog(context.Background(), path, n, false, 0, &out); err != nil {
			t.Fatal(err)
		}
		want := ""
		if n > 0 {
			want = strings.Join(lines[max(0, len(lines)-n):], "\n") + "\n"
		}
		if out.String() != want {
			t.Errorf("n=%d: got %d bytes, want %d", n, out.Len(), len(want))
		}
	}
	var out bytes.Buffer
	if err := tailLog(context.Background(), filepath.Join(t.TempDir(), "none.log"), 10, false, 0, &out); err != nil || out.Len() != 0 {
		t.Errorf("missing file: %q, %v", out.String(), err)
	}
}

// TestTailLogFollow appends to the file, then truncates it, while -f runs.
func TestTailLogFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spindle.log")
	if err := os.WriteFile(path, []byte("one\ntwo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncWriter
	done := make(chan error, 1)
	go func() { done <- tailLog(ctx, path, 1, true, 5*time.Millisecond, &out) }()
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for out.String() != want {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("output %q, want %q", out.String(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("two\n")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("three\n")
	f.Close()
	waitFor("two\nthree\n")
	if err := os.WriteFile(path, []byte("new\n"), 0o600); err != nil { // truncated and rewritten
		t.Fatal(err)
	}
	waitFor("two\nthree\nnew\n")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// failingWriter accepts n bytes and then fails every write, like a full disk.
type failingWriter struct {
	n   int
	got bytes.Buffer
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.got.Len()+len(p) > w.n {
		return 0, errors.New("no space left on device")
	}
	return w.got.Write(p)
}

// TestStreamToTerminal feeds a turn's events to the printing loop: text is
// filtered and ends with a newline, tool activity goes to stderr, and a
// reply that could not be written is an error, not a silent exit 0.
func TestStreamToTerminal(t *testing.T) {
	events := func(evs ...agent.Event) <-chan agent.Event {
		ch := make(chan agent.Event, len(evs))
		for _, ev := range evs {
			ch <- ev
		}
		close(ch)
		return ch
	}
	turn := func() <-chan agent.Event {
		return events(
			agent.Delta{Text: "hel"},
			agent.Delta{Text: "lo \x1b[31mworld"},
			agent.ToolCall{Name: "kanban_list", Arguments: "{}"},
			agent.ToolResult{Name: "kanban_list", Result: tool.OK(`{"cards":[]}`, "")},
			agent.Delta{Text: "done"},
			agent.Done{},
		)
	}
	var out, errOut bytes.Buffer
	err := streamToTerminal(context.Background(), turn(), nil, func() {}, &out, &errOut)
	if err != nil || out.String() != "hello world\ndone\n" || errOut.String() != "→ kanban_list {}\n✓ kanban_list {\"cards\":[]}\n" {
		t.Errorf("err %v, stdout %q, stderr %q", err, out.String(), errOut.String())
	}

	full := &failingWriter{n: 4}
	err = streamToTerminal(context.Background(), turn(), nil, func() {}, full, &errOut)
	if err == nil || !strings.Contains(err.Error(), "write the reply to stdout: no space left on device") {
		t.Errorf("a failed write gave %v (written %q)", err, full.got.String())
	}

	err = streamToTerminal(context.Background(), events(agent.Delta{Text: "x"}), nil, func() {}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "without a final status") {
		t.Errorf("a channel closed early gave %v", err)
	}
}

// blockedWriter blocks every write until release is closed, like a paused
// terminal or a pipe nobody drains.
type blockedWriter struct {
	writing chan struct{} // closed when the first write starts
	release chan struct{}
	once    sync.Once
}

func (w *blockedWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.writing) })
	<-w.release
	return len(p), nil
}

// TestStreamToTerminalSignalWhileWriteBlocks: SIGINT reaches the turn while
// the loop is stuck writing to stdout. (Not a speed check: the guard only
// turns a missed signal into a failure instead of a hang.)
func TestStreamToTerminalSignalWhileWriteBlocks(t *testing.T) {
	events := make(chan agent.Event, 2)
	sigs := make(chan os.Signal, 1)
	interrupted := make(chan struct{})
	var once sync.Once
	out := &blockedWriter{writing: make(chan struct{}), release: make(chan struct{})}
	var errOut bytes.Buffer
	result := make(chan error, 1)
	go func() {
		result <- streamToTerminal(context.Background(), events, sigs, func() { once.Do(func() { close(interrupted) }) }, out, &errOut)
	}()
	events <- agent.Delta{Text: "partial"}
	<-out.writing
	sigs <- os.Interrupt
	select {
	case <-interrupted:
	case <-time.After(10 * time.Second):
		close(out.release)
		events <- agent.Interrupted{}
		<-result
		t.Fatal("SIGINT did not interrupt the turn while a write blocked")
	}
	close(out.release)
	events <- agent.Interrupted{Text: "partial", Reason: "interrupt_abort"}
	var ee exitError
	if err := <-result; !errors.As(err, &ee) || ee.code != 130 || errOut.String() != "interrupted\n" {
		t.Errorf("err %v, stderr %q", err, errOut.String())
	}
}

// TestResultLineNamesTheToolOnce: spindle run's stderr line for a tool
// result names the tool once, whether or not its screen text starts with
// the name.
func TestResultLineNamesTheToolOnce(t *testing.T) {
	for _, tc := range []struct{ name, screen, want string }{
		{"ls", "ls ./: 2 entries", "ls ./: 2 entries"},
		{"view", "view main.go: lines 1–3", "view main.go: lines 1–3"},
		{"kanban_list", `{"cards":[]}`, `kanban_list {"cards":[]}`},
		{"bash", "$ make (exit status 0)", "bash $ make (exit status 0)"},
		{"lsx", "ls ./", "lsx ls ./"},
	} {
		if got := resultLine(tc.name, tc.screen); got != tc.want {
			t.Errorf("resultLine(%q, %q) = %q, want %q", tc.name, tc.screen, got, tc.want)
		}
	}
}
