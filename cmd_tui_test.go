package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/store"
)

// TestTUIRefusedStatePointsToDoctor: `spindle` on a terminal with a
// state.db that is refused exits 1 with the refusal and, as the other
// commands do, `see "spindle doctor"`. The terminal is a pseudo-terminal
// made by script(1). The negative control: the store's own refusal of the
// same file does not say it, so the words come from the command.
func TestTUIRefusedStatePointsToDoctor(t *testing.T) {
	bin := spindleBin(t)
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script(1) to give spindle a terminal")
	}
	bad, err := os.ReadFile(filepath.Join("testdata", "corrupt", "seed-bug-tls-at-5.db"))
	if err != nil {
		t.Fatal(err)
	}
	e := newRunEnv(t, bin)
	if err := os.MkdirAll(e.home, 0o700); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(e.home, "state.db")
	if err := os.WriteFile(state, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// -e: script exits with spindle's code; -q: no banner; the typescript
	// goes to /dev/null, the terminal's output to stdout.
	cmd := exec.CommandContext(ctx, script, "-qec", bin, "/dev/null")
	cmd.Env = append(e.env(), "TERM=xterm-256color")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("spindle with a refused state.db: %v, want exit 1\n%q", err, out)
	}
	last := string(out)
	if i := strings.LastIndex(last, "spindle: "); i >= 0 {
		last = last[i:]
	}
	if !strings.Contains(last, "refusing "+state) || !strings.Contains(last, `see "spindle doctor"`) {
		t.Errorf("the exit message does not point to spindle doctor: %q", last)
	}

	other := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(other, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.OpenState(other); err == nil || strings.Contains(err.Error(), "spindle doctor") {
		t.Errorf("negative control: the store's refusal = %v; want one without the pointer", err)
	}
}
