package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/agent/offline"
	"github.com/spindle-sh/spindle/store"
)

// runEnv is a private world for the binary: data, state and config
// directories in t.TempDir(), and none of the caller's endpoint settings.
type runEnv struct {
	bin, home, state string
	extra            []string
}

func newRunEnv(t *testing.T, bin string) *runEnv {
	tmp := t.TempDir()
	return &runEnv{bin: bin, home: filepath.Join(tmp, "data"), state: filepath.Join(tmp, "state")}
}

func (e *runEnv) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "OPENAI_BASE_URL", "OPENAI_API_KEY", "SPINDLE_MODEL", "SSL_CERT_FILE", "SPINDLE_HOME",
			"XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME":
			continue
		}
		env = append(env, kv)
	}
	root := filepath.Dir(e.home)
	env = append(env,
		"SPINDLE_HOME="+e.home,
		"XDG_STATE_HOME="+e.state,
		"XDG_CONFIG_HOME="+filepath.Join(root, "config"),
		"XDG_DATA_HOME="+filepath.Join(root, "xdg-data"),
	)
	return append(env, e.extra...)
}

func (e *runEnv) command(args ...string) *exec.Cmd {
	cmd := exec.Command(e.bin, args...)
	cmd.Env = e.env()
	return cmd
}

// run runs the binary to the end and returns stdout, stderr and the code.
func (e *runEnv) run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := e.command(args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return stdout.String(), stderr.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), 0
}

func (e *runEnv) log(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(e.state, "spindle", "spindle.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// messages reads the saved conversation back from state.db.
func (e *runEnv) messages(t *testing.T, session int64) []store.Message {
	t.Helper()
	st, err := store.OpenState(filepath.Join(e.home, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ms, err := st.Messages(context.Background(), session)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// withNewline is what `spindle run` prints for a reply: the text, ending
// in a newline.
func withNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

// TestRunCLI builds the binary once and runs `spindle run` as a person
// would: against the built-in offline model with no key, from stdin, into
// an existing session, interrupted by SIGINT, and over the network against
// `spindle serve-demo`.
func TestRunCLI(t *testing.T) {
	bin := spindleBin(t)
	t.Run("offline hello", func(t *testing.T) {
		e := newRunEnv(t, bin)
		out, errOut, code := e.run(t, "", "run", "hello")
		if code != 0 {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if want := withNewline(offline.Reply("hello")); out != want {
			t.Errorf("stdout = %q, want %q", out, want)
		}
		ms := e.messages(t, 1)
		if len(ms) != 2 || ms[0].Content != "hello" || ms[1].Status != store.MessageComplete || ms[1].Content != offline.Reply("hello") {
			t.Errorf("saved %+v", ms)
		}
		if strings.Contains(e.log(t), "spindle-offline-demo") {
			t.Error("the placeholder key is in the log")
		}
	})
	t.Run("stdin and --session", func(t *testing.T) {
		e := newRunEnv(t, bin)
		if _, errOut, code := e.run(t, "hello\n", "run", "-"); code != 0 {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		out, errOut, code := e.run(t, "", "run", "--session", "1", "hi", "again")
		if code != 0 || out != withNewline(offline.Reply("hi again")) {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		if ms := e.messages(t, 1); len(ms) != 4 || ms[2].Content != "hi again" {
			t.Errorf("session 1 has %d messages", len(ms))
		}
		if _, errOut, code := e.run(t, "", "run", "--session", "99", "x"); code != 1 || !strings.Contains(errOut, "session 99 not found") {
			t.Errorf("unknown session: exit %d, stderr %q", code, errOut)
		}
		if _, errOut, code := e.run(t, "  \n", "run", "-"); code != 1 || !strings.Contains(errOut, "empty prompt") {
			t.Errorf("empty prompt: exit %d, stderr %q", code, errOut)
		}
		if out, errOut, code := e.run(t, "", "run"); code != 1 || out != "" || !strings.HasPrefix(errOut, "spindle: run: no prompt") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("no prompt: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		for _, id := range []string{"0", "-1"} {
			if out, errOut, code := e.run(t, "", "run", "--session", id, "x"); code != 1 || out != "" || !strings.Contains(errOut, "--session "+id+": session IDs start at 1") || strings.Count(errOut, "\n") != 1 {
				t.Errorf("--session %s: exit %d, stdout %q, stderr %q", id, code, out, errOut)
			}
		}
	})
	t.Run("tool calls need approval", func(t *testing.T) { testRunApproval(t, bin) })
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) { testRunSignal(t, bin, sig) })
	}
	t.Run("serve-demo over the network", func(t *testing.T) { testRunServeDemo(t, bin) })
	t.Run("logs", func(t *testing.T) {
		e := newRunEnv(t, bin)
		if _, errOut, code := e.run(t, "", "run", "hello"); code != 0 {
			t.Fatalf("run: exit %d %q", code, errOut)
		}
		out, errOut, code := e.run(t, "", "logs", "-n", "2")
		if code != 0 || strings.Count(out, "\n") != 2 {
			t.Fatalf("logs -n 2: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		if !strings.HasSuffix(e.log(t), out) {
			t.Errorf("logs -n 2 printed %q, not the end of the file", out)
		}
	})
}

// testRunSignal interrupts a long answer at the realistic pace with sig:
// SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal closed) all give exit
// 130, what arrived on stdout and in state.db with status interrupted, the
// word "interrupted" and the session on stderr, and the abort line in the
// log. Before SIGHUP was caught, it killed the process and lost the reply.
func testRunSignal(t *testing.T, bin string, sig syscall.Signal) {
	e := newRunEnv(t, bin)
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
	var out bytes.Buffer
	first := make(chan struct{})
	var once sync.Once
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf := make([]byte, 4096)
		for {
			n, err := stdout.Read(buf)
			out.Write(buf[:n])
			if out.Len() > 200 {
				once.Do(func() { close(first) })
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-first:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-copied
		cmd.Wait()
		t.Fatalf("no output; stderr %q", errOut.String())
	}
	cmd.Process.Signal(sig)
	<-copied
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, stderr %q", err, errOut.String())
	}
	if !strings.HasPrefix(errOut.String(), "interrupted\nsession 1 ") {
		t.Errorf("stderr = %q", errOut.String())
	}
	ms := e.messages(t, 1)
	if len(ms) != 2 || ms[1].Status != store.MessageInterrupted {
		t.Fatalf("saved %+v", ms)
	}
	full := offline.Reply("tell me about the interrupt path")
	if got := out.String(); got != withNewline(ms[1].Content) || !strings.HasPrefix(full, ms[1].Content) || len(ms[1].Content) >= len(full) {
		t.Errorf("stdout %d bytes, saved %d bytes, full reply %d bytes", len(got), len(ms[1].Content), len(full))
	}
	if !strings.Contains(e.log(t), "OpenAI client aborted (interrupt_abort, shared=false, tcp_force_closed=") {
		t.Errorf("no abort line in the log:\n%s", e.log(t))
	}
}

// testRunServeDemo starts `spindle serve-demo` and points OPENAI_BASE_URL and
// SSL_CERT_FILE at it: the same answer arrives over the network path. Without
// SSL_CERT_FILE the certificate is not trusted and the error says so.
func testRunServeDemo(t *testing.T, bin string) {
	srvEnv := newRunEnv(t, bin)
	srv := srvEnv.command("serve-demo", "--addr", "127.0.0.1:0", "--delay", "-1ns")
	pipe, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			srv.Process.Signal(syscall.SIGINT)
			srv.Wait()
		}
	}
	defer stop()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var base string
	timeout := time.After(30 * time.Second)
	for base == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("serve-demo exited before printing its address")
			}
			if i := strings.Index(l, "https://"); i >= 0 {
				base = strings.Fields(l[i:])[0]
			}
		case <-timeout:
			t.Fatal("serve-demo printed no address")
		}
	}
	go func() {
		for range lines { // keep the pipe drained until it closes
		}
	}()
	cert := filepath.Join(srvEnv.home, "demo-cert.pem")

	e := newRunEnv(t, bin)
	e.extra = []string{"OPENAI_BASE_URL=" + base, "OPENAI_API_KEY=demo-key", "SSL_CERT_FILE=" + cert}
	out, errOut, code := e.run(t, "", "run", "hello")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if want := withNewline(offline.Reply("hello")); out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	if lg := e.log(t); !strings.Contains(lg, "base_url="+base) || strings.Contains(lg, "demo-key") {
		t.Errorf("log does not show the remote base URL, or shows the key:\n%s", lg)
	}

	// Negative control: the same request without the certificate fails.
	e2 := newRunEnv(t, bin)
	e2.extra = []string{"OPENAI_BASE_URL=" + base, "OPENAI_API_KEY=demo-key"}
	_, errOut, code = e2.run(t, "", "run", "hello")
	if code != 1 || !strings.Contains(errOut, "TLS failure") || !strings.Contains(errOut, "x509") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("untrusted certificate: exit %d, stderr %q", code, errOut)
	}
	stop()
}

// testRunApproval: the demo model asks to run a command that writes a
// file. spindle run cannot ask, so without --yolo the call is denied:
// stderr names the tool and the command, no file appears, and the model is
// told. With --yolo it runs. A deny rule in the config wins over --yolo.
func testRunApproval(t *testing.T, bin string) {
	e := newRunEnv(t, bin)
	proj := t.TempDir()
	proof := filepath.Join(proj, "proof.txt")
	stdout, stderr, code := e.run(t, "", "--cwd", proj, "run", "run echo hello > proof.txt")
	if code != 0 || !strings.Contains(stderr, "bash not run: it needs approval") || !strings.Contains(stderr, "echo hello > proof.txt") {
		t.Fatalf("without --yolo: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if _, err := os.Stat(proof); err == nil {
		t.Fatal("a command that needed approval ran without it")
	}
	if !strings.Contains(stdout, "nothing ran") {
		t.Errorf("the model was not told (stdout %q)", stdout)
	}
	stdout, stderr, code = e.run(t, "", "--cwd", proj, "--yolo", "run", "run echo hello > proof.txt")
	if b, err := os.ReadFile(proof); code != 0 || err != nil || string(b) != "hello\n" {
		t.Fatalf("with --yolo: exit %d, proof %q %v\nstdout %s\nstderr %s", code, b, err, stdout, stderr)
	}
	os.Remove(proof)
	cfgDir := filepath.Join(filepath.Dir(e.home), "config", "spindle")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "config.toml"), []byte("deny = [\"bash:echo *\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, _ = e.run(t, "", "--cwd", proj, "--yolo", "run", "run echo hello > proof.txt")
	if _, err := os.Stat(proof); err == nil || !strings.Contains(stderr, "deny rule bash:echo *") {
		t.Fatalf("a deny rule did not win over --yolo: stderr %s", stderr)
	}
}
