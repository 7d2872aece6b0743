package approval_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/agent/tool"
)

func fileReq(toolName, subject string, outside bool) tool.Request {
	return tool.Request{Tool: toolName, Subject: subject, Summary: toolName + " " + subject, Dir: "/proj", Outside: outside}
}

func projectPolicy(t *testing.T, root string, cfg approval.Config) *approval.Policy {
	t.Helper()
	p, err := approval.New(root, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFileRules(t *testing.T) {
	p := policy(t, approval.Config{
		Allow: []string{"edit:docs/**", "view:/etc/**", "write:*.md"},
		Deny:  []string{"edit:docs/secret/**", "view:**/.env"},
	})
	tests := []struct {
		req    tool.Request
		ok     bool
		answer approval.Answer
	}{
		{fileReq("edit", "docs/a.md", false), true, approval.AllowAlways},
		{fileReq("edit", "docs/deep/er/a.md", false), true, approval.AllowAlways},
		{fileReq("edit", "docs/secret/key.md", false), true, approval.Deny}, // deny wins
		{fileReq("edit", "src/main.go", false), false, 0},                   // no rule: ask
		{fileReq("write", "docs/a.md", false), false, 0},                    // the rule is for edit only
		{fileReq("edit", "/home/u/docs/a.md", true), false, 0},              // a relative pattern never reaches outside
		{fileReq("view", "/etc/hosts", true), true, approval.AllowAlways},   // an absolute one does
		{fileReq("view", "etc/hosts", false), false, 0},                     // and only there
		{fileReq("write", "README.md", false), true, approval.AllowAlways},  // * stays in one segment
		{fileReq("write", "docs/README.md", false), false, 0},               //
		{fileReq("view", "config/.env", false), true, approval.Deny},        //
		{fileReq("view", "/home/u/proj2/.env", true), true, approval.Deny},  // deny errs towards matching outside too
		{fileReq("view", "/etc/.env", true), true, approval.Deny},           // over an allow rule
		{fileReq("grep", "/etc", true), false, 0},                           //
		{fileReq("edit", "docs/../src/x.go", false), false, 0},              // an unresolved subject is never allowed by a rule
	}
	for _, tt := range tests {
		d, ok := p.Check(1, tt.req)
		if ok != tt.ok || (ok && d.Answer != tt.answer) {
			t.Errorf("%s %s (outside=%v): %+v %v; want ok=%v %v", tt.req.Tool, tt.req.Subject, tt.req.Outside, d, ok, tt.ok, tt.answer)
		}
	}
}

func TestOrder(t *testing.T) {
	req := bashReq("rm -rf build")
	p := policy(t, approval.Config{Deny: []string{"bash:rm *"}, Allow: []string{"bash:rm -rf build"}, Yolo: true})
	p.Grant(1, req, approval.AllowSession)
	if d, ok := p.Check(1, req); !ok || d.Answer != approval.Deny || d.Rule != "deny rule bash:rm *" {
		t.Errorf("deny must beat allow rule, session grant and yolo: %+v", d)
	}
	p = policy(t, approval.Config{Allow: []string{"bash:rm -rf build"}, Yolo: true})
	p.Grant(1, req, approval.AllowSession)
	if d, _ := p.Check(1, req); d.Rule != "allow rule bash:rm -rf build" || d.Answer != approval.AllowAlways {
		t.Errorf("allow rule first: %+v", d)
	}
	p = policy(t, approval.Config{Yolo: true})
	p.Grant(1, req, approval.AllowSession)
	if d, _ := p.Check(1, req); d.Rule != approval.DecidedBySession || d.Answer != approval.AllowSession {
		t.Errorf("session grant before yolo: %+v", d)
	}
	if d, _ := p.Check(2, req); d.Rule != approval.DecidedByYolo || !d.Answer.Allowed() {
		t.Errorf("yolo last: %+v", d)
	}
	p = policy(t, approval.Config{})
	if d, ok := p.Check(1, req); ok {
		t.Errorf("nothing decides, yet: %+v", d)
	}
}

func TestSessionGrants(t *testing.T) {
	p := policy(t, approval.Config{})
	cmd := bashReq("go test ./...")
	edit := fileReq("edit", "docs/a.md", false)
	for _, a := range []approval.Answer{approval.Deny, approval.AllowOnce} {
		if err := p.Grant(1, cmd, a); err != nil {
			t.Fatal(err)
		}
		if _, ok := p.Check(1, cmd); ok {
			t.Errorf("%v recorded a grant", a)
		}
	}
	p.Grant(1, cmd, approval.AllowSession)
	p.Grant(1, edit, approval.AllowSession)
	for _, tt := range []struct {
		session int64
		req     tool.Request
		ok      bool
	}{
		{1, cmd, true},
		{1, edit, true},
		{2, cmd, false}, // another session
		{2, edit, false},
		{1, bashReq("go test ./... && rm -rf /"), false}, // never more than was shown
		{1, bashReq("go test ./... -run X"), false},
		{1, bashReq("go test  ./..."), false}, // the exact text
		{1, fileReq("edit", "docs/b.md", false), false},
		{1, fileReq("write", "docs/a.md", false), false},
		{1, fileReq("edit", "docs/a.md", true), false},
	} {
		if _, ok := p.Check(tt.session, tt.req); ok != tt.ok {
			t.Errorf("session %d, %s %q: ok=%v, want %v", tt.session, tt.req.Tool, tt.req.Subject, ok, tt.ok)
		}
	}
	p.ForgetSession(1)
	if _, ok := p.Check(1, cmd); ok {
		t.Error("grant survived ForgetSession")
	}
}

func TestAllowAlwaysSavedReloadedRemoved(t *testing.T) {
	root := t.TempDir()
	p := projectPolicy(t, root, approval.Config{Allow: []string{"bash:ls *"}})
	cmd := bashReq("go test ./... | head -n 5")
	star := bashReq(`echo '*' "a b" it\'s`)
	edit := fileReq("edit", "docs/[draft] a*.md", false)
	for _, r := range []tool.Request{cmd, star, edit} {
		if err := p.Grant(7, r, approval.AllowAlways); err != nil {
			t.Fatalf("grant %q: %v", r.Subject, err)
		}
	}
	path := filepath.Join(root, ".spindle", "settings.toml")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`'bash:go test ./...'`, `'bash:head -n 5'`, `"bash:echo '*' 'a b' 'it'\\''s'"`, `'edit:docs/\[draft\] a\*.md'`} {
		if !strings.Contains(string(text), want) {
			t.Errorf("settings file lacks %s:\n%s", want, text)
		}
	}

	// A fresh policy (spindle restarted) has the rules, for any session.
	p2 := projectPolicy(t, root, approval.Config{})
	for _, r := range []tool.Request{cmd, star, edit, bashReq("go test ./..."), bashReq(`echo "*" 'a b' "it's"`)} {
		if d, ok := p2.Check(99, r); !ok || d.Answer != approval.AllowAlways {
			t.Errorf("after reload, %q: %+v %v", r.Subject, d, ok)
		}
	}
	// Exactly what was shown: the * is literal, other words are not covered.
	for _, r := range []tool.Request{
		bashReq("go test ./... -run X"), bashReq("echo x 'a b' \"it's\""), bashReq("head -n 6"),
		fileReq("edit", "docs/[draft] abc.md", false), fileReq("edit", "docs/d a.md", false),
	} {
		if d, ok := p2.Check(99, r); ok {
			t.Errorf("after reload, %q allowed by %+v", r.Subject, d)
		}
	}

	var projectRules []string
	for _, e := range p2.Rules() {
		if e.Source == approval.FromProject {
			projectRules = append(projectRules, e.Rule)
		}
	}
	if len(projectRules) != 4 {
		t.Errorf("project rules %q", projectRules)
	}
	if err := p2.RemoveRule("bash:go test ./..."); err != nil {
		t.Fatal(err)
	}
	if _, ok := p2.Check(1, bashReq("go test ./...")); ok {
		t.Error("removed rule still allows")
	}
	if _, ok := projectPolicy(t, root, approval.Config{}).Check(1, bashReq("go test ./...")); ok {
		t.Error("removed rule still in the file")
	}
	if err := p2.RemoveRule("bash:go test ./..."); err == nil {
		t.Error("removing a missing rule succeeded")
	}
	if err := p.RemoveRule("bash:ls *"); err == nil || !strings.Contains(err.Error(), "config") {
		t.Errorf("removing a config rule: %v", err)
	}
}

// TestAllowAlwaysNotPlainSavesTheExactText: a command that word patterns
// cannot describe (a substitution, a redirection, a cd) is saved as its
// exact text: after a restart that command runs without asking, and a
// command that differs by one character still asks.
func TestAllowAlwaysNotPlainSavesTheExactText(t *testing.T) {
	root := t.TempDir()
	p := projectPolicy(t, root, approval.Config{})
	req := bashReq("go test $(ls)")
	if err := p.Grant(1, req, approval.AllowAlways); err != nil {
		t.Fatalf("grant: %v", err)
	}
	p2 := projectPolicy(t, root, approval.Config{})
	if d, ok := p2.Check(2, req); !ok || d.Answer != approval.AllowAlways || d.Rule != "allow rule bash:=go test $(ls)" {
		t.Fatalf("after a restart: %+v %v", d, ok)
	}
	for _, other := range []string{"go test $(ls) ", "go test $(ls -a)", "go test $(ls); rm -rf /"} {
		if d, ok := p2.Check(2, bashReq(other)); ok && d.Answer.Allowed() && other != "go test $(ls) " {
			t.Errorf("%q was allowed by the exact rule: %+v", other, d)
		}
	}
	rules, err := approval.AlwaysRules(bashReq("cd / && ls"))
	if err != nil || len(rules) != 1 || rules[0] != "bash:=cd / && ls" {
		t.Errorf("AlwaysRules(cd / && ls) = %v, %v", rules, err)
	}
	// A deny rule still wins over an exact allow rule.
	p3 := projectPolicy(t, root, approval.Config{Deny: []string{"bash:ls *"}})
	if d, ok := p3.Check(3, req); !ok || d.Answer.Allowed() {
		t.Errorf("a deny rule did not win over the saved exact rule: %+v %v", d, ok)
	}
	if err := policy(t, approval.Config{}).Grant(1, bashReq("ls"), approval.AllowAlways); err == nil {
		t.Error("AllowAlways without a project succeeded")
	}
}

func TestMalformedSettings(t *testing.T) {
	for name, content := range map[string]string{
		"syntax":      "allow = [\"bash:ls\"\n",
		"type":        "allow = \"bash:ls\"\n",
		"unknown key": "alow = [\"bash:ls\"]\n",
		"bad rule":    "allow = [\"bash:ls && rm\"]\n",
	} {
		root := t.TempDir()
		path := filepath.Join(root, ".spindle", "settings.toml")
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(content), 0o644)
		_, err := approval.New(root, approval.Config{})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: New: %v; want an error naming %s", name, err, path)
		}
	}

	// Broken after loading: saving refuses, and the file is untouched.
	root := t.TempDir()
	p := projectPolicy(t, root, approval.Config{})
	if err := p.Grant(1, bashReq("ls"), approval.AllowAlways); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, ".spindle", "settings.toml")
	broken := []byte("allow = [ # the person is mid-edit\n")
	os.WriteFile(path, broken, 0o644)
	if err := p.Grant(1, bashReq("pwd"), approval.AllowAlways); err == nil {
		t.Error("saving over a malformed file succeeded")
	}
	if err := p.RemoveRule("bash:ls"); err == nil {
		t.Error("removing from a malformed file succeeded")
	}
	if b, _ := os.ReadFile(path); string(b) != string(broken) {
		t.Errorf("the malformed file was overwritten: %q", b)
	}
	if err := p.Reload(); err == nil {
		t.Error("Reload of a malformed file succeeded")
	}
	if _, ok := p.Check(1, bashReq("ls")); !ok {
		t.Error("a failed reload dropped the rules in use")
	}
}

// TestPersonEditsKept: a rule the person added by hand survives a save.
func TestPersonEditsKept(t *testing.T) {
	root := t.TempDir()
	p := projectPolicy(t, root, approval.Config{})
	path := filepath.Join(root, ".spindle", "settings.toml")
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte("allow = [\"bash:make *\"]\ndeny = [\"bash:git push *\"]\n"), 0o600)
	if err := p.Grant(1, bashReq("ls"), approval.AllowAlways); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Check(1, bashReq("make all")); !ok {
		t.Error("the hand-added allow rule was lost")
	}
	if d, _ := p.Check(1, bashReq("git push")); d.Rule != "deny rule bash:git push *" {
		t.Errorf("the hand-added deny rule was lost: %+v", d)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// TestAlwaysRuleIsExact: for any plain command of random words (quotes,
// globs, $ and spaces included), the saved rule allows that command and
// not the command with one word changed.
func TestAlwaysRuleIsExact(t *testing.T) {
	word := rapid.StringOfN(rapid.SampledFrom([]rune("ab*?[]{}~$'\"\\ =-./#!&;|()<>\t")), 1, 6, -1)
	rapid.Check(t, func(t *rapid.T) {
		words := rapid.SliceOfN(word, 1, 4).Draw(t, "words")
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		cmd := strings.Join(quoted, " ")
		rules, err := approval.AlwaysRules(bashReq(cmd))
		if err != nil {
			t.Fatalf("AlwaysRules(%q): %v", cmd, err)
		}
		p, err := approval.New("", approval.Config{Allow: rules})
		if err != nil {
			t.Fatalf("rules %q: %v", rules, err)
		}
		if _, ok := p.Check(1, bashReq(cmd)); !ok {
			t.Fatalf("rules %q do not allow %q", rules, cmd)
		}
		i := rapid.IntRange(0, len(words)-1).Draw(t, "changed")
		other := rapid.StringOfN(rapid.RuneFrom([]rune("ab*?x")), 1, 6, -1).Draw(t, "other")
		if other == words[i] {
			return
		}
		changed := append([]string(nil), quoted...)
		changed[i] = "'" + other + "'"
		if d, ok := p.Check(1, bashReq(strings.Join(changed, " "))); ok {
			t.Fatalf("rules %q allow %q too (%+v)", rules, strings.Join(changed, " "), d)
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	root := t.TempDir()
	p := projectPolicy(t, root, approval.Config{Deny: []string{"bash:rm *"}})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				req := bashReq("echo " + strings.Repeat("x", i%5+1))
				p.Check(int64(g), req)
				p.Grant(int64(g), req, approval.AllowSession)
				if i%10 == 0 {
					p.Grant(int64(g), req, approval.AllowAlways)
				}
				p.Rules()
			}
		}()
	}
	wg.Wait()
	if _, ok := p.Check(0, bashReq("echo x")); !ok {
		t.Error("grant lost")
	}
}

func TestAnswerString(t *testing.T) {
	for a, want := range map[approval.Answer]string{
		approval.Deny: "deny", approval.AllowOnce: "allow once",
		approval.AllowSession: "allow for this session", approval.AllowAlways: "always allow for this project",
	} {
		if a.String() != want {
			t.Errorf("%d: %q", a, a.String())
		}
	}
	if approval.Deny.Allowed() || !approval.AllowOnce.Allowed() {
		t.Error("Allowed")
	}
}
