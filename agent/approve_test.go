package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/agent/tool/shell"
	"github.com/spindle-sh/spindle/store"
)

// proofCommand is the command the scripted model asks to run: it leaves a
// file only if it ran.
const proofCommand = "echo hello > proof.txt"

// bashServer is a model that asks for bash with proofCommand on the first
// request of every turn and answers "ok" once the result is back.
func bashServer(t *testing.T) *testServer {
	return newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, req chatRequest) {
		s := startSSE(w)
		if last := req.Messages[len(req.Messages)-1]; last.Role == "tool" {
			s.complete("ok")
			return
		}
		s.toolCall(0, "call_bash", "bash", `{"command":"`+proofCommand+`"}`)
		s.finish("tool_calls")
		s.done()
	})
}

// approvalEnv is an agent whose chat tools include bash in a temporary
// project, with a policy that saves project rules in settings.
type approvalEnv struct {
	*env
	dir, settings string
	policy        *approval.Policy
	agent         *Agent
}

func newApprovalEnv(t *testing.T, ts *testServer, cfg approval.Config) *approvalEnv {
	e := &approvalEnv{env: newEnv(t), dir: t.TempDir()}
	e.settings = filepath.Join(t.TempDir(), "project.toml")
	cfg.SettingsPath = e.settings
	p, err := approval.New(e.dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.policy = p
	e.agent = e.env.agent(ts.base(), func(c *Config) {
		c.Tools = []tool.Tool{shell.New(e.dir)}
		c.Policy = p
	})
	return e
}

// turn runs one turn, answering each ApprovalNeeded with answer (nil: a
// turn that must not ask; it fails the test if it does), and returns the
// requests asked.
func (e *approvalEnv) turn(session int64, answer func(ApprovalNeeded)) []ApprovalNeeded {
	e.t.Helper()
	ch, err := e.agent.Send(context.Background(), session, "make the proof")
	if err != nil {
		e.t.Fatal(err)
	}
	var asked []ApprovalNeeded
	deadline := time.After(guard)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return asked
			}
			if a, isAsk := ev.(ApprovalNeeded); isAsk {
				asked = append(asked, a)
				if answer == nil {
					e.t.Errorf("asked again for %q", a.Request.Summary)
					a.Answer(approval.Decision{Answer: approval.Deny})
					continue
				}
				answer(a)
			}
		case <-deadline:
			e.t.Fatal("the turn did not end")
		}
	}
}

func (e *approvalEnv) proofExists() bool {
	_, err := os.Stat(filepath.Join(e.dir, "proof.txt"))
	return err == nil
}

// lastTool is the session's last tool message.
func (e *approvalEnv) lastTool(session int64) store.Message {
	ms := e.messages(session)
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Role == store.RoleTool {
			return ms[i]
		}
	}
	e.t.Fatal("no tool message")
	return store.Message{}
}

func answerWith(a approval.Answer, note string) func(ApprovalNeeded) {
	return func(ev ApprovalNeeded) { ev.Answer(approval.Decision{Answer: a, Note: note}) }
}

func TestApprovalDenyRunsNothingAndTellsTheModel(t *testing.T) {
	ts := bashServer(t)
	e := newApprovalEnv(t, ts, approval.Config{})
	sid := e.session()
	asked := e.turn(sid, answerWith(approval.Deny, "not in this repo"))
	if len(asked) != 1 || asked[0].Request.Tool != "bash" || asked[0].Request.Summary != proofCommand || asked[0].Request.Dir != e.dir {
		t.Fatalf("asked %+v", asked)
	}
	if e.proofExists() {
		t.Fatal("a denied command ran")
	}
	m := e.lastTool(sid)
	if m.Status != store.MessageFailed || !strings.Contains(m.Content, "the person denied it") || !strings.Contains(m.Content, "not in this repo") ||
		m.Approval != "denied by you: not in this repo" {
		t.Errorf("saved tool message %+v", m)
	}
	// The model was told, in the next request.
	last := ts.request(1).Messages
	if tm := last[len(last)-1]; tm.Role != "tool" || !strings.Contains(string(tm.Content), "denied") {
		t.Errorf("the model got %+v", tm)
	}
}

func TestApprovalAllowOnceRunsItOnce(t *testing.T) {
	ts := bashServer(t)
	e := newApprovalEnv(t, ts, approval.Config{})
	sid := e.session()
	if asked := e.turn(sid, answerWith(approval.AllowOnce, "")); len(asked) != 1 || !e.proofExists() {
		t.Fatalf("asked %d, proof %v", len(asked), e.proofExists())
	}
	if m := e.lastTool(sid); m.Approval != "allowed once by you" || m.Status != store.MessageComplete {
		t.Errorf("saved %+v", m)
	}
	os.Remove(filepath.Join(e.dir, "proof.txt"))
	// Once means once: the same call in the same session asks again.
	if asked := e.turn(sid, answerWith(approval.Deny, "")); len(asked) != 1 || e.proofExists() {
		t.Fatalf("second turn: asked %d, proof %v", len(asked), e.proofExists())
	}
}

func TestApprovalForTheSessionIsNotAskedAgainThere(t *testing.T) {
	ts := bashServer(t)
	e := newApprovalEnv(t, ts, approval.Config{})
	sid := e.session()
	e.turn(sid, answerWith(approval.AllowSession, ""))
	os.Remove(filepath.Join(e.dir, "proof.txt"))
	if asked := e.turn(sid, nil); len(asked) != 0 || !e.proofExists() {
		t.Fatalf("same session: asked %d, proof %v", len(asked), e.proofExists())
	}
	if m := e.lastTool(sid); m.Approval != "allowed for this session by session grant" {
		t.Errorf("saved %+v", m)
	}
	other := e.session()
	if asked := e.turn(other, answerWith(approval.Deny, "")); len(asked) != 1 {
		t.Fatalf("a new session was not asked (%d)", len(asked))
	}
}

// TestApprovalAlwaysSurvivesARestartAndCanBeRemoved: "always for this
// project" is saved as a rule in the project's settings; a new agent and
// policy (a restart) runs the call without asking; removing the rule makes
// it ask again.
func TestApprovalAlwaysSurvivesARestartAndCanBeRemoved(t *testing.T) {
	ts := bashServer(t)
	e := newApprovalEnv(t, ts, approval.Config{})
	e.turn(e.session(), answerWith(approval.AllowAlways, ""))
	saved, err := os.ReadFile(e.settings)
	if err != nil || !strings.Contains(string(saved), "bash:="+proofCommand) {
		t.Fatalf("settings %q, %v", saved, err)
	}
	p2, err := approval.New(e.dir, approval.Config{SettingsPath: e.settings})
	if err != nil {
		t.Fatal(err)
	}
	a2 := e.env.agent(ts.base(), func(c *Config) { c.Tools = []tool.Tool{shell.New(e.dir)}; c.Policy = p2 })
	e.agent = a2
	os.Remove(filepath.Join(e.dir, "proof.txt"))
	sid := e.session()
	if asked := e.turn(sid, nil); len(asked) != 0 || !e.proofExists() {
		t.Fatalf("after a restart: asked %d, proof %v", len(asked), e.proofExists())
	}
	rules := p2.Rules()
	if len(rules) != 1 || rules[0].Source != approval.FromProject {
		t.Fatalf("rules %+v", rules)
	}
	if err := p2.RemoveRule(rules[0].Rule); err != nil {
		t.Fatal(err)
	}
	if asked := e.turn(e.session(), answerWith(approval.Deny, "")); len(asked) != 1 {
		t.Fatalf("after removing the rule: asked %d", len(asked))
	}
}

// TestApprovalDenyRuleWinsOverYolo: --yolo skips asking but never a deny
// rule; an allow rule lets a call run without asking.
func TestApprovalDenyRuleWinsOverYolo(t *testing.T) {
	ts := bashServer(t)
	e := newApprovalEnv(t, ts, approval.Config{Yolo: true, Deny: []string{"bash:echo *"}})
	sid := e.session()
	if asked := e.turn(sid, nil); len(asked) != 0 || e.proofExists() {
		t.Fatalf("yolo with a deny rule: asked %d, proof %v", len(asked), e.proofExists())
	}
	if m := e.lastTool(sid); !strings.HasPrefix(m.Approval, "denied by deny rule bash:echo *") {
		t.Errorf("saved %+v", m)
	}
	ts2 := bashServer(t)
	e2 := newApprovalEnv(t, ts2, approval.Config{Allow: []string{"bash:=" + proofCommand}})
	if asked := e2.turn(e2.session(), nil); len(asked) != 0 || !e2.proofExists() {
		t.Fatalf("allow rule: asked %d, proof %v", len(asked), e2.proofExists())
	}
}

// TestApprovalTimeoutDenies: a worker's turn (ApprovalTimeout set) that
// nobody answers is denied when the timeout passes, never waits forever.
func TestApprovalTimeoutDenies(t *testing.T) {
	ts := bashServer(t)
	e := newApprovalEnv(t, ts, approval.Config{})
	sid := e.session()
	ch, err := e.agent.SendWith(context.Background(), sid, "make the proof", TurnOptions{ApprovalTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := collect(t, ch)
	if _, ok := r.terminal.(Done); !ok || e.proofExists() {
		t.Fatalf("terminal %#v, proof %v", r.terminal, e.proofExists())
	}
	if m := e.lastTool(sid); !strings.HasPrefix(m.Approval, "denied by timeout") {
		t.Errorf("saved %+v", m)
	}
}

// TestInterruptWhileAskingDeniesAndEndsTheTurn: Ctrl-C while the dialog is
// open answers it (deny) and ends the turn interrupted; nothing ran.
func TestInterruptWhileAskingDeniesAndEndsTheTurn(t *testing.T) {
	ts := bashServer(t)
	e := newApprovalEnv(t, ts, approval.Config{})
	sid := e.session()
	ch, err := e.agent.Send(context.Background(), sid, "make the proof")
	if err != nil {
		t.Fatal(err)
	}
	var r result
	for ev := range ch {
		r.add(ev)
		if _, ok := ev.(ApprovalNeeded); ok {
			e.agent.Interrupt(sid)
		}
	}
	if _, ok := r.terminal.(Interrupted); !ok || e.proofExists() {
		t.Fatalf("terminal %#v, proof %v", r.terminal, e.proofExists())
	}
	if m := e.lastTool(sid); m.Status != store.MessageInterrupted {
		t.Errorf("saved %+v", m)
	}
}

// TestInterruptDuringBashKillsTheWholeGroup: Ctrl-C while `sleep 60 &
// sleep 60` runs ends the turn interrupted, and no process of the
// command's group is left alive (checked by pid through /proc). The guard
// is generous; the design's figure (within 2.5 s) is SIGTERM then SIGKILL
// after 2 s at worst.
func TestInterruptDuringBashKillsTheWholeGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pgid")
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, req chatRequest) {
		s := startSSE(w)
		s.toolCall(0, "call_sleep", "bash", `{"command":"echo $$ > pgid; sleep 60 & sleep 60"}`)
		s.finish("tool_calls")
		s.done()
	})
	e := newEnv(t)
	p, err := approval.New(dir, approval.Config{Yolo: true, SettingsPath: filepath.Join(t.TempDir(), "p.toml")})
	if err != nil {
		t.Fatal(err)
	}
	a := e.agent(ts.base(), func(c *Config) { c.Tools = []tool.Tool{shell.New(dir)}; c.Policy = p })
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "sleep")
	if err != nil {
		t.Fatal(err)
	}
	var pgid int
	deadline := time.Now().Add(guard)
	for pgid == 0 && time.Now().Before(deadline) {
		if b, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(b), "\n") {
			pgid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pgid == 0 {
		t.Fatal("the command never started")
	}
	waitUntil(t, "both sleeps to start", func() bool { return len(groupMembers(pgid)) >= 2 })
	start := time.Now()
	a.Interrupt(sid)
	r := collect(t, ch)
	if _, ok := r.terminal.(Interrupted); !ok {
		t.Fatalf("terminal %#v", r.terminal)
	}
	if left := groupMembers(pgid); len(left) > 0 {
		t.Fatalf("processes of the group alive after the turn ended: %v", left)
	}
	t.Logf("interrupt → turn ended with the group gone: %s", time.Since(start).Round(time.Millisecond))
}

// groupMembers lists the live (not zombie) processes whose group is pgid.
func groupMembers(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		s := string(b)
		rest := s[strings.LastIndexByte(s, ')')+2:]
		f := strings.Fields(rest)
		if len(f) < 3 || f[0] == "Z" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			out = append(out, pid)
		}
	}
	return out
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// commandServer is bashServer for any command: it asks for bash with
// command (JSON-encoded here) on the first request of every turn.
func commandServer(t *testing.T, command string) *testServer {
	args, err := json.Marshal(map[string]string{"command": command})
	if err != nil {
		t.Fatal(err)
	}
	return newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, req chatRequest) {
		s := startSSE(w)
		if last := req.Messages[len(req.Messages)-1]; last.Role == "tool" {
			s.complete("ok")
			return
		}
		s.toolCall(0, "call_bash", "bash", string(args))
		s.finish("tool_calls")
		s.done()
	})
}

// TestApprovalRequestCarriesTheExactCommand: the model calls bash with
// {"command":"echo safe\ntouch proof.txt"}; whoever answers gets the
// command exactly, its line break and the escape in it included (to
// sanitize as it shows it), never the one line "echo safe touch
// proof.txt" that reads as one harmless echo. The transcript's line for
// the denied call says it had two lines.
func TestApprovalRequestCarriesTheExactCommand(t *testing.T) {
	const command = "echo safe\x1b[8m\ntouch proof.txt"
	ts := commandServer(t, command)
	e := newApprovalEnv(t, ts, approval.Config{})
	sid := e.session()
	asked := e.turn(sid, answerWith(approval.Deny, ""))
	if len(asked) != 1 {
		t.Fatalf("asked %d times", len(asked))
	}
	if r := asked[0].Request; r.Summary != command || r.Subject != command {
		t.Errorf("the request's summary %q, subject %q; want exactly %q", r.Summary, r.Subject, command)
	}
	if e.proofExists() {
		t.Fatal("a denied command ran")
	}
	m := e.lastTool(sid)
	if !strings.HasPrefix(m.Screen, "denied: echo safe … (2 lines) · denied by you") {
		t.Errorf("the transcript's line: %q", m.Screen)
	}
}

// TestDenialSaysWhoDenied: a deny rule's denial tells the model and the
// transcript that the rule denied it (naming the rule), not the person;
// the person's denial says the person did.
func TestDenialSaysWhoDenied(t *testing.T) {
	ts := bashServer(t)
	e := newApprovalEnv(t, ts, approval.Config{Deny: []string{"bash:echo *"}})
	sid := e.session()
	e.turn(sid, nil)
	m := e.lastTool(sid)
	if !strings.Contains(m.Content, `the deny rule "bash:echo *" denied it, not the person`) || strings.Contains(m.Content, "the person denied") {
		t.Errorf("the model was told %q", m.Content)
	}
	if m.Approval != "denied by deny rule bash:echo *" || !strings.Contains(m.Screen, "denied by deny rule bash:echo *") {
		t.Errorf("recorded %q, shown %q", m.Approval, m.Screen)
	}

	ts2 := bashServer(t)
	e2 := newApprovalEnv(t, ts2, approval.Config{})
	sid2 := e2.session()
	e2.turn(sid2, answerWith(approval.Deny, ""))
	if m := e2.lastTool(sid2); !strings.Contains(m.Content, "the person denied it") || strings.Contains(m.Content, "rule") {
		t.Errorf("the person's denial was told as %q", m.Content)
	}
}

// TestEditedRulesTakeEffectWithoutRestart: the person adds an allow rule
// to the project's rules file while spindle runs: the next call runs
// without asking. They break the file: the last good rule still decides,
// the log says so once over two turns, and a call that must ask carries
// the error to the dialog.
func TestEditedRulesTakeEffectWithoutRestart(t *testing.T) {
	ts := bashServer(t)
	e := newApprovalEnv(t, ts, approval.Config{})
	sid := e.session()
	if asked := e.turn(sid, answerWith(approval.Deny, "")); len(asked) != 1 || asked[0].RulesError != "" {
		t.Fatalf("no rules: asked %+v", asked)
	}
	write := func(content string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(e.settings, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(e.settings, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	hourAgo := time.Now().Add(-time.Hour)
	write("allow = ['bash:=echo hello > proof.txt']\n", hourAgo)
	if asked := e.turn(sid, nil); len(asked) != 0 || !e.proofExists() {
		t.Fatalf("the added rule: asked %d, proof %v", len(asked), e.proofExists())
	}
	os.Remove(filepath.Join(e.dir, "proof.txt"))

	write("allow = ['bash:=echo hello > proof.txt'\n", hourAgo.Add(time.Minute)) // mid-edit
	for range 2 {
		if asked := e.turn(sid, nil); len(asked) != 0 || !e.proofExists() {
			t.Fatalf("broken file: asked %d, proof %v; the last good rule should decide", len(asked), e.proofExists())
		}
		os.Remove(filepath.Join(e.dir, "proof.txt"))
	}
	if n := strings.Count(e.log.String(), "approval rules file does not load"); n != 1 {
		t.Errorf("the log says the file does not load %d times, want once:\n%s", n, e.log.String())
	}

	write("allow = []\n", hourAgo.Add(2*time.Minute))
	e.turn(sid, answerWith(approval.Deny, ""))                                     // the good, empty file is read
	write("allow = ['bash:=echo hello > proof.txt'\n", hourAgo.Add(3*time.Minute)) // and broken once more
	asked := e.turn(sid, answerWith(approval.Deny, ""))
	if len(asked) != 1 || !strings.Contains(asked[0].RulesError, e.settings) {
		t.Fatalf("a call that asks while the file is broken: %+v", asked)
	}
}

// TestOfflineModelSaysWhoDenied: through the real chain (the offline demo
// model asks for bash, the policy's deny rule refuses it, the model reads
// the result), the reply says the deny rule refused it and that the
// person was not asked; never "You denied".
func TestOfflineModelSaysWhoDenied(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	p, err := approval.New(dir, approval.Config{Deny: []string{"bash:git push *"}, SettingsPath: filepath.Join(t.TempDir(), "p.toml")})
	if err != nil {
		t.Fatal(err)
	}
	a := e.agent("", func(c *Config) { c.Tools = []tool.Tool{shell.New(dir)}; c.Policy = p })
	ch, err := a.Send(context.Background(), e.session(), "run git push")
	if err != nil {
		t.Fatal(err)
	}
	r := collect(t, ch) // a turn that asked would wait here until the guard
	if !strings.Contains(r.text, "The deny rule `bash:git push *` refused running `git push`") || strings.Contains(r.text, "You denied") {
		t.Errorf("the reply: %q", r.text)
	}
}

// TestDescribeDecisionKeepsARuleOnOneLine: a rule of several lines (a
// saved here-document) is recorded on one line with its line breaks
// drawn, so the transcript's first line holds all of it and nothing of it
// spills into the call's output.
func TestDescribeDecisionKeepsARuleOnOneLine(t *testing.T) {
	d := approval.Decision{Answer: approval.Deny, Rule: approval.DenyRulePrefix + "bash:=cat <<EOF\nx\nEOF\x1b[2J"}
	if got, want := describeDecision(d), "denied by deny rule bash:=cat <<EOF␊x␊EOF"; got != want {
		t.Errorf("describeDecision = %q, want %q", got, want)
	}
}
