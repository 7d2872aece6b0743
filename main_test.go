package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// built is the spindle binary the tests in this package run, built once per
// test process.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// spindleBin returns the path of a spindle binary built from this tree.
func spindleBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "spindle-bin-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "spindle")
		built.out, built.err = exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.path
}

// TestNoTerminal: `spindle` with no terminal to draw on (cron, CI, ssh
// without -t) says so in one line and how to script it, and exits 1.
func TestNoTerminal(t *testing.T) {
	bin := spindleBin(t)
	cmd := exec.Command(bin)
	// A new session has no controlling terminal, so /dev/tty cannot open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	tmp := t.TempDir()
	cmd.Env = append(os.Environ(),
		"SPINDLE_HOME="+filepath.Join(tmp, "data"),
		"XDG_STATE_HOME="+filepath.Join(tmp, "state"),
		"XDG_CONFIG_HOME="+filepath.Join(tmp, "config"),
	)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("spindle without a terminal: %v, want exit 1\n%s", err, out)
	}
	if got := string(out); got != "spindle: "+errNoTerminal.Error()+"\n" {
		t.Errorf("output = %q, want the one-line errNoTerminal", got)
	}
	if strings.Contains(string(out), "bubbletea") {
		t.Errorf("output leaks Bubble Tea's TTY error: %q", out)
	}
}
