package shell_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/agent/tool/shell"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hangGuard is how long a call may take before the test calls it hung. It
// is generous on purpose: this is a shared, noisy machine, and the test
// checks that the call returns, not how fast.
const hangGuard = 10 * time.Second

func bashArgs(command string, timeout ...float64) string {
	m := map[string]any{"command": command}
	if len(timeout) > 0 {
		m["timeout_seconds"] = timeout[0]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// startBash starts a call; await collects its result.
func startBash(ctx context.Context, b *shell.Bash, args string) <-chan tool.Result {
	done := make(chan tool.Result, 1)
	go func() { done <- b.Run(ctx, tool.Call{ID: "c", Name: "bash", Args: args}) }()
	return done
}

// await returns the call's result, failing the test if it does not come
// within the hang guard.
func await(t *testing.T, done <-chan tool.Result) tool.Result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(hangGuard):
		t.Fatalf("bash did not return within %v", hangGuard)
		return tool.Result{}
	}
}

// runBash runs a call to its end (within the hang guard).
func runBash(t *testing.T, ctx context.Context, b *shell.Bash, args string) (tool.Result, time.Duration) {
	t.Helper()
	start := time.Now()
	r := await(t, startBash(ctx, b, args))
	return r, time.Since(start)
}

// waitFile polls for a file that a command writes once it runs, and
// returns its trimmed content.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", path)
	return ""
}

// groupGone fails the test if any live process is left in the group, by
// /proc and by kill(-pgid, 0) (which also counts zombies, so it is only
// logged).
func groupGone(t *testing.T, pgid int) {
	t.Helper()
	if left := shell.GroupMembers(pgid); len(left) > 0 {
		t.Errorf("process group %d still has live members %v", pgid, left)
		unix.Kill(-pgid, unix.SIGKILL) // do not leave them to the next test
	}
	if err := unix.Kill(-pgid, 0); !errors.Is(err, unix.ESRCH) {
		t.Logf("kill(-%d, 0) = %v: zombies of the group await their reaper", pgid, err)
	}
}

func TestEcho(t *testing.T) {
	dir := t.TempDir()
	b := shell.New(dir)
	r, _ := runBash(t, context.Background(), b, bashArgs("echo hello"))
	if r.Err || r.Unsuccessful || r.Model != "exit status 0\nhello\n" || r.Screen != "$ echo hello (exit status 0)\nhello" {
		t.Errorf("echo hello: %+v", r)
	}
	r, _ = runBash(t, context.Background(), b, bashArgs("pwd; echo oops >&2; exit 3"))
	real, _ := filepath.EvalSymlinks(dir)
	// A non-zero exit is a result for the model, marked unsuccessful for
	// the screen.
	if r.Err || !r.Unsuccessful || r.Model != "exit status 3\n"+real+"\noops\n" {
		t.Errorf("exit 3: %+v", r)
	}
	r, _ = runBash(t, context.Background(), b, bashArgs("true"))
	if r.Model != "exit status 0\n(no output)\n" {
		t.Errorf("no output: %q", r.Model)
	}
	r, _ = runBash(t, context.Background(), b, bashArgs("kill -9 $$"))
	if !strings.HasPrefix(r.Model, "killed by signal SIGKILL") {
		t.Errorf("killed shell: %q", r.Model)
	}
}

func TestStdinIsClosed(t *testing.T) {
	r, _ := runBash(t, context.Background(), shell.New(t.TempDir()), bashArgs("cat; echo done"))
	if r.Err || r.Model != "exit status 0\ndone\n" {
		t.Errorf("cat: %+v", r)
	}
}

func TestAPIKeyNotInherited(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-secret")
	t.Setenv("SPINDLE_TEST_VISIBLE", "visible")
	r, _ := runBash(t, context.Background(), shell.New(t.TempDir()), bashArgs(`echo "key=$OPENAI_API_KEY other=$SPINDLE_TEST_VISIBLE"`))
	// The other variable shows that the environment is passed and the
	// check can see a variable; only the key is missing.
	if r.Model != "exit status 0\nkey= other=visible\n" {
		t.Errorf("environment: %q", r.Model)
	}
}

// TestHugeOutputIsBounded: 100 MB of output is cut to its first and last
// 16 KiB, and the call's allocations stay far below the output's size.
func TestHugeOutputIsBounded(t *testing.T) {
	const size = 100_000_000
	const bound = 8 << 20 // allocations allowed for the whole call
	b := shell.New(t.TempDir())
	before := allocated()
	r, _ := runBash(t, context.Background(), b, bashArgs("yes | head -c 100000000"))
	spent := allocated() - before
	if r.Err || !strings.HasPrefix(r.Model, "exit status 0\n(output was 100,000,000 bytes; the middle is cut)\ny\ny\n") ||
		!strings.Contains(r.Model, "\n… [99,967,232 bytes of output cut] …\ny\n") || !strings.HasSuffix(r.Model, "y\ny\n") {
		t.Errorf("100 MB: %.200q … %q", r.Model, r.Model[max(0, len(r.Model)-100):])
	}
	if len(r.Model) > 40<<10 {
		t.Errorf("the result holds %d bytes", len(r.Model))
	}
	t.Logf("100 MB of output: %d bytes allocated during the call", spent)
	if spent > bound {
		t.Errorf("the call allocated %d bytes for 100 MB of output; want < %d", spent, bound)
	}

	// Negative control: the same measurement sees an unbounded capture.
	before = allocated()
	var all bytes.Buffer
	cmd := exec.Command("/bin/sh", "-c", "yes | head -c 100000000")
	cmd.Stdout = &all
	if err := cmd.Run(); err != nil || all.Len() != size {
		t.Fatalf("control command: %v, %d bytes", err, all.Len())
	}
	if spent := allocated() - before; spent <= bound {
		t.Errorf("control: capturing everything allocated only %d bytes; the bound proves nothing", spent)
	}
}

func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// TestInterruptSleep: cancelling the turn stops `sleep 60`.
func TestInterruptSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	done := startBash(ctx, shell.New(dir), bashArgs("echo $$ > pgid; sleep 60"))
	pgid, _ := strconv.Atoi(waitFile(t, filepath.Join(dir, "pgid")))
	start := time.Now()
	cancel()
	r := await(t, done)
	if !r.Err || r.Model != "stopped: the turn was interrupted\n(no output)\n" {
		t.Errorf("result %+v", r)
	}
	t.Logf("interrupt → Run returned in %v", time.Since(start))
	groupGone(t, pgid)
}

// TestInterruptKillsGroup: cancelling the turn stops a command and every
// process it started (a background sleep and a foreground one), and Run
// returns.
func TestInterruptKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pgid")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := startBash(ctx, shell.New(dir), bashArgs("echo $$ > pgid; sh -c 'sleep 60 & sleep 60'"))
	pgid, _ := strconv.Atoi(waitFile(t, pidFile))
	// Control: while it runs, the check sees the group's members (the
	// shell, the inner shell, two sleeps; at least the sleeps).
	waitMembers(t, pgid, 2)
	stoppedAt := time.Now()
	cancel()
	r := await(t, done)
	if !r.Err || !strings.HasPrefix(r.Model, "stopped: the turn was interrupted\n") ||
		!strings.HasPrefix(r.Screen, "$ echo $$ > pgid; sh -c 'sleep 60 & sleep 60' (stopped: the turn was interrupted)") {
		t.Errorf("result %+v", r)
	}
	t.Logf("interrupt → Run returned in %v", time.Since(stoppedAt))
	groupGone(t, pgid)
}

// TestInterruptKillsTermIgnorer: a group that ignores SIGTERM is killed
// with SIGKILL after the grace.
func TestInterruptKillsTermIgnorer(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := startBash(ctx, shell.New(dir), bashArgs(`trap "" TERM; echo $$ > pgid; sleep 60 & sleep 60`))
	pgid, _ := strconv.Atoi(waitFile(t, filepath.Join(dir, "pgid")))
	waitMembers(t, pgid, 3)
	start := time.Now()
	cancel()
	r := await(t, done)
	if !r.Err || !strings.Contains(r.Model, "interrupted") {
		t.Errorf("result %+v", r)
	}
	t.Logf("TERM ignored → Run returned in %v (grace %v)", time.Since(start), shell.KillGrace)
	groupGone(t, pgid)
}

// waitMembers waits until the group has at least n live members.
func waitMembers(t *testing.T, pgid, n int) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for len(shell.GroupMembers(pgid)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("group %d never had %d members: %v", pgid, n, shell.GroupMembers(pgid))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTimeout(t *testing.T) {
	dir := t.TempDir()
	r, _ := runBash(t, context.Background(), shell.New(dir), bashArgs("echo $$ > pgid; echo before; sleep 60", 0.5))
	if !r.Err || r.Model != "timed out after 0.5s\noutput until then:\nbefore\n" {
		t.Errorf("timeout: %+v", r)
	}
	pgid, _ := strconv.Atoi(waitFile(t, filepath.Join(dir, "pgid")))
	groupGone(t, pgid)
}

// TestDaemonDoesNotHang: a command that leaves a background process
// holding its output pipe returns once the shell exits (after the pipe
// grace), and the leftover is stopped.
func TestDaemonDoesNotHang(t *testing.T) {
	dir := t.TempDir()
	r, elapsed := runBash(t, context.Background(), shell.New(dir), bashArgs("echo $$ > pgid; (sleep 60 &) ; echo started"))
	if r.Err || !strings.HasPrefix(r.Model, "exit status 0\n(1 background process(es) the command left running were stopped)\nstarted\n") {
		t.Errorf("daemon: %+v", r)
	}
	t.Logf("daemon command returned in %v", elapsed)
	pgid, _ := strconv.Atoi(waitFile(t, filepath.Join(dir, "pgid")))
	groupGone(t, pgid)
}

func TestCancelledBeforeStart(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, _ := runBash(t, ctx, shell.New(dir), bashArgs("touch ran"))
	if !r.Err || !strings.Contains(r.Model, "not started") {
		t.Errorf("result %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); !os.IsNotExist(err) {
		t.Error("the command ran after the turn ended")
	}
}

func TestBashBadArguments(t *testing.T) {
	dir := t.TempDir()
	b := shell.New(dir)
	for _, a := range []string{
		`{`, `{}`, `{"command":null}`, `{"command":""}`, `{"command":"   "}`, `{"command":"touch x","shell":"zsh"}`,
		`{"command":"touch x","timeout_seconds":0}`, `{"command":"touch x","timeout_seconds":601}`,
		`{"command":"touch x","timeout_seconds":-1}`, `{"command":"touch x","timeout_seconds":"5"}`,
		`{"command":"touch x\u0000"}`, `{"command":"touch x"}{"command":"touch y"}`,
	} {
		call := tool.Call{Name: "bash", Args: a}
		req, res := b.Approval(call)
		if req != nil || res == nil || !res.Err || !strings.HasPrefix(res.Model, "bash:") {
			t.Errorf("Approval(%s) = %+v, %+v", a, req, res)
		}
		if r := b.Run(context.Background(), call); !r.Err {
			t.Errorf("Run(%s) = %+v", a, r)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a bad call ran something: %v", entries)
	}
}

func TestBashApproval(t *testing.T) {
	b := shell.New("/proj")
	req, res := b.Approval(tool.Call{Name: "bash", Args: bashArgs("go test ./... && rm -rf /")})
	if res != nil || req == nil || *req != (tool.Request{Tool: "bash", Subject: "go test ./... && rm -rf /", Summary: "go test ./... && rm -rf /", Dir: "/proj"}) {
		t.Errorf("request %+v, %+v", req, res)
	}
}

// TestBashApprovalIsTheExactCommand: what the person is asked about is
// byte for byte the command that runs: its line breaks, carriage returns,
// escapes, trailing spaces and here-documents included. A multi-line
// command runs every line, so every line must be shown.
func TestBashApprovalIsTheExactCommand(t *testing.T) {
	dir := t.TempDir()
	b := shell.New(dir)
	for _, command := range []string{
		"echo safe\ntouch second-line",
		"echo a\r\ntouch b\r",
		"echo safe\rtouch x",
		"printf '\x1b[2J\x1b]0;title\x07' \x1b[31mred",
		"ls \\ \t ",
		"cat <<'EOF' > notes.txt\nline one\n  $(not run)\nEOF\n",
		"echo \u202eevil\u202c \u200b \u00a0 日本語 e\u0301",
		strings.Repeat("echo long; ", 400),
	} {
		req, res := b.Approval(tool.Call{Name: "bash", Args: bashArgs(command)})
		if res != nil || req == nil || req.Summary != command || req.Subject != command {
			t.Errorf("Approval(%q) = %+v, %+v; want the command exactly as summary and subject", command, req, res)
		}
	}
	r, _ := runBash(t, context.Background(), b, bashArgs("echo safe\ntouch second-line"))
	if _, err := os.Stat(filepath.Join(dir, "second-line")); r.Err || err != nil {
		t.Errorf("the second line did not run: %+v, %v", r, err)
	}
	if !strings.HasPrefix(r.Screen, "$ echo safe … (exit status 0)") {
		t.Errorf("screen %q", r.Screen)
	}
}

func TestExitStatusOfSignalledShell(t *testing.T) {
	// Belt and braces for exitStatus: the shell killed by SIGTERM from
	// inside says so.
	r, _ := runBash(t, context.Background(), shell.New(t.TempDir()), bashArgs("kill -TERM $$"))
	if !strings.HasPrefix(r.Model, "killed by signal "+unix.SignalName(syscall.SIGTERM)) {
		t.Errorf("%q", r.Model)
	}
}

// TestLeaderOnlyKillLeavesGroup is the negative control of the group
// tests: killing only the shell (what exec.CommandContext does by default)
// leaves its children running, and groupGone's check sees them.
func TestLeaderOnlyKillLeavesGroup(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "sleep 60 & sleep 60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	waitMembers(t, pgid, 3)
	cmd.Process.Kill()
	cmd.Wait()
	left := shell.GroupMembers(pgid)
	unix.Kill(-pgid, unix.SIGKILL)
	if len(left) == 0 {
		t.Fatal("after killing only the shell no member was seen; the group check proves nothing")
	}
	t.Logf("leader-only kill left %v alive", left)
}
