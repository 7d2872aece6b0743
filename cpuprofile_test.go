package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// checkProfile fails unless path holds a CPU profile that `go tool pprof`
// reads: the file must be complete (gzip trailer, protobuf) and say it is a
// CPU profile.
func checkProfile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return errors.New("empty profile")
	}
	out, err := exec.Command("go", "tool", "pprof", "-top", path).CombinedOutput()
	if err != nil {
		return errors.New("go tool pprof: " + err.Error() + "\n" + string(out))
	}
	if !strings.Contains(string(out), "Type: cpu") {
		return errors.New("not a CPU profile:\n" + string(out))
	}
	return nil
}

// TestCPUProfile runs the binary with SPINDLE_CPUPROFILE set and checks that
// each way out of execute leaves a complete profile behind: a command that
// succeeds, one that fails, and SIGTERM in the middle of a stream.
func TestCPUProfile(t *testing.T) {
	bin := spindleBin(t)
	withProfile := func(e *runEnv) string {
		p := filepath.Join(t.TempDir(), "cpu.pprof")
		e.extra = append(e.extra, cpuProfileEnv+"="+p)
		return p
	}

	t.Run("normal exit", func(t *testing.T) {
		e := newRunEnv(t, bin)
		prof := withProfile(e)
		if _, errOut, code := e.run(t, "", "kanban", "list"); code != 0 {
			t.Fatalf("kanban list: exit %d, stderr %q", code, errOut)
		}
		if err := checkProfile(prof); err != nil {
			t.Error(err)
		}
	})

	t.Run("error exit", func(t *testing.T) {
		e := newRunEnv(t, bin)
		prof := withProfile(e)
		if _, errOut, code := e.run(t, "", "kanban", "move", "99", "done"); code != 1 || !strings.Contains(errOut, "not found") {
			t.Fatalf("kanban move 99: exit %d, stderr %q, want exit 1", code, errOut)
		}
		if err := checkProfile(prof); err != nil {
			t.Error(err)
		}
	})

	t.Run("SIGTERM mid-stream", func(t *testing.T) {
		e := newRunEnv(t, bin)
		prof := withProfile(e)
		// The offline model's long answer at its realistic pace takes
		// seconds; SIGTERM arrives once the first words are out.
		cmd := e.command("run", "tell me about the interrupt path")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1)
		if _, err := stdout.Read(buf); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no output before SIGTERM: %v, stderr %q", err, errOut.String())
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			// Drain stdout so the process never blocks on a full pipe.
			var rest bytes.Buffer
			rest.ReadFrom(stdout)
			done <- cmd.Wait()
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("still running 30 s after SIGTERM; stderr %q", errOut.String())
		}
		if !strings.Contains(errOut.String(), "interrupted") {
			t.Errorf("stderr %q: the stream was not interrupted through the context path", errOut.String())
		}
		if err := checkProfile(prof); err != nil {
			t.Error(err)
		}
	})

	t.Run("off when unset or empty", func(t *testing.T) {
		e := newRunEnv(t, bin)
		// Run in an empty directory: a default profile file would appear here.
		dir := t.TempDir()
		cmd := e.command("kanban", "list")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "The board is empty") {
			t.Fatalf("kanban list: %v\n%s", err, out)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("files appeared without %s: %v", cpuProfileEnv, ents)
		}
		// An empty value is off too, not a path that fails to open.
		e.extra = append(e.extra, cpuProfileEnv+"=")
		if _, errOut, code := e.run(t, "", "kanban", "list"); code != 0 || errOut != "" {
			t.Errorf("empty %s: exit %d, stderr %q", cpuProfileEnv, code, errOut)
		}
	})

	t.Run("unwritable path warns and runs", func(t *testing.T) {
		e := newRunEnv(t, bin)
		e.extra = append(e.extra, cpuProfileEnv+"="+filepath.Join(t.TempDir(), "missing", "cpu.pprof"))
		out, errOut, code := e.run(t, "", "kanban", "list")
		if code != 0 || !strings.HasPrefix(out, "The board is empty") {
			t.Errorf("kanban list: exit %d, stdout %q", code, out)
		}
		if !strings.HasPrefix(errOut, "spindle: not profiling: "+cpuProfileEnv+": ") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("stderr %q, want one line saying why there is no profile", errOut)
		}
	})
}

// TestCheckProfileRejects is the negative control for checkProfile: a
// truncated profile (what a process killed before the flush leaves) and an
// empty file must fail the check that the tests above rely on.
func TestCheckProfileRejects(t *testing.T) {
	bin := spindleBin(t)
	e := newRunEnv(t, bin)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pprof")
	e.extra = append(e.extra, cpuProfileEnv+"="+good)
	if _, errOut, code := e.run(t, "", "kanban", "list"); code != 0 {
		t.Fatalf("kanban list: exit %d, stderr %q", code, errOut)
	}
	if err := checkProfile(good); err != nil {
		t.Fatalf("the whole profile fails the check: %v", err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"truncated": b[:len(b)/2], "empty": nil, "not gzip": []byte("not a profile")} {
		p := filepath.Join(dir, name+".pprof")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if checkProfile(p) == nil {
			t.Errorf("%s profile passes the check", name)
		}
	}
}
