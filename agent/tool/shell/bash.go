// Package shell holds the `bash` tool: a shell command run in the project
// directory, in its own process group, so that an interrupt or a timeout
// stops everything the command started, and nothing it started outlives
// the call.
package shell

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/spindle-sh/spindle/agent/tool"
)

// Limits of one command.
const (
	// DefaultTimeout is how long a command may run when the call does not
	// say.
	DefaultTimeout = 2 * time.Minute
	// MaxTimeout is the most a call may ask for.
	MaxTimeout = 10 * time.Minute
	// KillGrace is how long the process group has between SIGTERM and
	// SIGKILL.
	KillGrace = 2 * time.Second
	// PipeGrace is how long output is still read after the shell exited
	// while something else (a background job) holds the pipe open; then
	// the pipe is closed and Run goes on (os/exec's WaitDelay).
	PipeGrace = 500 * time.Millisecond

	headBytes = 16 << 10 // output kept from the start
	tailBytes = 16 << 10 // and from the end
)

// secretEnv are variables a command does not inherit: the model could print
// them into the transcript (and state.db).
var secretEnv = []string{"OPENAI_API_KEY"}

// Bash is the `bash` tool. Commands run with /bin/sh -c in Dir, stdin
// closed, stdout and stderr combined.
type Bash struct {
	// Dir is the project directory, where commands run.
	Dir string
	// Env is the commands' environment; nil means this process's, without
	// the API key.
	Env []string
}

// New returns the bash tool for the project at dir.
func New(dir string) *Bash { return &Bash{Dir: dir} }

type bashArgs struct {
	Command        string   `json:"command"`
	TimeoutSeconds *float64 `json:"timeout_seconds"`
}

// Name implements tool.Tool.
func (*Bash) Name() string { return "bash" }

// Description implements tool.Tool.
func (*Bash) Description() string {
	return "Run a shell command (/bin/sh -c) in the project directory and return its combined stdout and stderr " +
		"(the first and last 16 KiB when longer) and exit status. stdin is closed, so interactive commands get EOF. " +
		"Default timeout 120 s, at most 600 s via timeout_seconds; on timeout or interrupt the command and " +
		"everything it started is killed, and so is anything it leaves running in the background. " +
		"The person approves every command unless a rule allows it. Prefer view, grep, glob and edit for files."
}

// Schema implements tool.Tool.
func (*Bash) Schema() tool.Schema {
	return tool.Schema{
		Properties: map[string]any{
			"command":         map[string]any{"type": "string", "description": "the shell command"},
			"timeout_seconds": map[string]any{"type": "number", "description": "seconds before the command is killed; default 120, at most 600"},
		},
		Required: []string{"command"},
	}
}

func (b *Bash) args(call tool.Call) (bashArgs, time.Duration, *tool.Result) {
	fail := func(format string, a ...any) *tool.Result {
		r := tool.Errorf("bash: %s", fmt.Sprintf(format, a...))
		return &r
	}
	var a bashArgs
	if err := tool.Decode(call, &a, "command"); err != nil {
		r := tool.Failed(err)
		return a, 0, &r
	}
	if strings.TrimSpace(a.Command) == "" {
		return a, 0, fail("command is empty")
	}
	if strings.ContainsRune(a.Command, 0) {
		return a, 0, fail("command contains a NUL byte")
	}
	timeout := DefaultTimeout
	if a.TimeoutSeconds != nil {
		s := *a.TimeoutSeconds
		if s <= 0 || s > MaxTimeout.Seconds() {
			return a, 0, fail("timeout_seconds must be more than 0 and at most %d, got %v", int(MaxTimeout.Seconds()), s)
		}
		timeout = time.Duration(s * float64(time.Second))
	}
	return a, timeout, nil
}

// Approval implements tool.Asker: every command is a request; approval
// rules decide whether the person is asked. Subject and Summary are the
// command exactly as it will run, every line of it: whoever shows it must
// show each line (see the TUI's approval dialog), not one line of words.
func (b *Bash) Approval(call tool.Call) (*tool.Request, *tool.Result) {
	a, _, bad := b.args(call)
	if bad != nil {
		return nil, bad
	}
	return &tool.Request{Tool: b.Name(), Subject: a.Command, Summary: a.Command, Dir: b.Dir}, nil
}

// Run implements tool.Tool. It returns when the command has exited and its
// process group is gone: at once for a normal exit, within KillGrace (plus
// PipeGrace) of an interrupt or the timeout.
func (b *Bash) Run(ctx context.Context, call tool.Call) tool.Result {
	a, timeout, bad := b.args(call)
	if bad != nil {
		return *bad
	}
	if ctx.Err() != nil {
		return stopped(a.Command, "stopped: the turn was interrupted", "", false)
	}
	out := newCapture(headBytes, tailBytes)
	cmd := exec.Command("/bin/sh", "-c", a.Command)
	cmd.Dir = b.Dir
	cmd.Env = b.env()
	cmd.Stdout = out // the same writer for both: one pipe, in order
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = PipeGrace
	if err := cmd.Start(); err != nil {
		return tool.Errorf("bash: start /bin/sh in %s: %v", b.Dir, err)
	}
	pgid := cmd.Process.Pid // Setpgid: the shell leads a new group

	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	var stop string
	var termSent time.Time
	select {
	case <-waited:
	case <-ctx.Done():
		stop = "stopped: the turn was interrupted"
	case <-timer.C:
		stop = "timed out after " + seconds(timeout)
	}
	if stop != "" {
		signalGroup(pgid, unix.SIGTERM)
		termSent = time.Now()
		kill := time.NewTimer(KillGrace)
		select {
		case <-waited:
		case <-kill.C:
			signalGroup(pgid, unix.SIGKILL)
			<-waited
		}
		kill.Stop()
	}
	// The shell is reaped and its output read; whatever is left of its
	// group (a background job, a daemon) is stopped too.
	leftover := endGroup(pgid, termSent)

	output := out.String()
	if out.cut() > 0 {
		output = fmt.Sprintf("(output was %s bytes; the middle is cut)\n", thousands(out.total)) + output
	}
	var note string
	if leftover > 0 && stop == "" {
		note = fmt.Sprintf("(%d background process(es) the command left running were stopped)", leftover)
	}
	if stop != "" {
		return stopped(a.Command, stop, output, true)
	}
	return finished(a.Command, exitStatus(cmd.ProcessState), output, note)
}

// env is the commands' environment.
func (b *Bash) env() []string {
	env := b.Env
	if env == nil {
		env = os.Environ()
	}
	kept := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		secret := false
		for _, s := range secretEnv {
			if name == s {
				secret = true
			}
		}
		if !secret {
			kept = append(kept, kv)
		}
	}
	return kept
}

// finished is the result of a command that exited by itself. A non-zero
// exit is not a failed call: the command ran, and its status says how.
func finished(command, status, output, note string) tool.Result {
	model := status + "\n"
	if note != "" {
		model += note + "\n"
	}
	if output == "" {
		model += "(no output)\n"
	} else {
		model += output
	}
	r := tool.OK(model, screenText(command, status, output))
	r.Unsuccessful = status != "exit status 0"
	return r
}

// stopped is the result of a command that was interrupted or timed out.
func stopped(command, why, output string, ran bool) tool.Result {
	model := why + "\n"
	switch {
	case !ran:
		model += "(the command was not started)\n"
	case output == "":
		model += "(no output)\n"
	default:
		model += "output until then:\n" + output
	}
	return tool.Result{Err: true, Model: model, Screen: screenText(command, why, output)}
}

// screenText is "$ command (status)" and the output.
func screenText(command, status, output string) string {
	first, _, more := strings.Cut(command, "\n")
	if more {
		first += " …"
	}
	s := fmt.Sprintf("$ %s (%s)", first, status)
	if output != "" {
		s += "\n" + strings.TrimSuffix(output, "\n")
	}
	return s
}

// exitStatus says how the shell ended.
func exitStatus(ps *os.ProcessState) string {
	if ps == nil {
		return "exit status unknown"
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "killed by signal " + unix.SignalName(ws.Signal())
	}
	return fmt.Sprintf("exit status %d", ps.ExitCode())
}

// seconds formats a timeout: "120s", "1.5s".
func seconds(d time.Duration) string {
	return fmt.Sprintf("%gs", d.Seconds())
}

// signalGroup sends sig to every process in the group. ESRCH (the group is
// gone) is the goal; EPERM (a member changed its credentials) leaves
// nothing more to do from here.
func signalGroup(pgid int, sig unix.Signal) {
	_ = unix.Kill(-pgid, sig)
}

// endGroup stops what is left of the group after its leader was reaped:
// SIGTERM (unless termSent says it was sent already), SIGKILL once
// KillGrace has passed since the SIGTERM, and a short wait for the kill to
// land. It returns how many members were found alive at the start.
func endGroup(pgid int, termSent time.Time) int {
	left := len(groupMembers(pgid))
	if left == 0 {
		return 0
	}
	if termSent.IsZero() {
		signalGroup(pgid, unix.SIGTERM)
		termSent = time.Now()
	}
	deadline := termSent.Add(KillGrace)
	for len(groupMembers(pgid)) > 0 {
		if time.Now().After(deadline) {
			signalGroup(pgid, unix.SIGKILL)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// SIGKILL cannot be ignored, but the kernel takes a moment to tear a
	// process down; bounded, so that a process stuck in the kernel (D
	// state) cannot hang the call.
	for i := 0; i < 50 && len(groupMembers(pgid)) > 0; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	return left
}
