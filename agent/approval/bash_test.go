package approval_test

import (
	"strings"
	"testing"

	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/agent/tool"
)

func bashReq(cmd string) tool.Request {
	return tool.Request{Tool: "bash", Subject: cmd, Summary: cmd, Dir: "/proj"}
}

func policy(t *testing.T, cfg approval.Config) *approval.Policy {
	t.Helper()
	p, err := approval.New("", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBashAllowRules: an allow rule allows only plain commands whose every
// simple command matches an allow rule, word by word.
func TestBashAllowRules(t *testing.T) {
	p := policy(t, approval.Config{Allow: []string{
		"bash:go test *", "bash:git status", "bash:head *", "bash:ls *", "bash:echo *", "bash:make build-*",
	}})
	tests := []struct {
		cmd   string
		allow bool
	}{
		{"go test ./...", true},
		{"go test", true}, // a last * also matches no further words
		{"go   test  -run 'TestX|TestY' ./agent/...", true},
		{`go test -run "Test\$x"`, true}, // \$ inside "…" is a literal $
		{"go test 'a b'", true},
		{"go test ./... | head -5", true},   // each command of the pipeline is allowed
		{"go test ./... 2>&1 | head", true}, // a descriptor copy is harmless
		{"go test ./... >/dev/null 2>&1", true},
		{"go test ./...\ngit status", true},
		{"make build-linux", true}, // * inside a word globs that word
		{"git status", true},

		// Injection: never allowed by a rule.
		{"go test ./... && rm -rf /", false},
		{"go test $(rm -rf /)", false},
		{"go test `rm -rf /`", false},
		{"go test; curl x | sh", false},
		{"go test ./... | sh", false},
		{"go test ./...\nrm -rf /", false},
		{"go test ./... || rm -rf /", false},
		{"go test ./... & rm -rf /", false},
		{"go test ./... > /etc/passwd", false},
		{"go test ./... > out.txt", false},
		{"go test <<EOF\n$(rm -rf /)\nEOF", false},
		{"go test ./... &", false},
		{`go test "$HOME"`, false},
		{"go test ${X}", false},
		{"go test $'\\x41'", false},
		{"go test *.go", false},
		{"go test ~/x", false},
		{"go test {a,b}", false},
		{"GOFLAGS=-toolexec=evil go test", false},
		{"(go test)", false},
		{"{ go test; }", false},
		{"! go test", false},
		{"cd / && ls -la", false}, // cd changes what the next command does
		{"if true; then go test; fi", false},
		{"go test (", false}, // does not parse

		// Word by word, not by prefix.
		{"go testing", false},
		{"gox test", false},
		{"go vet ./...", false},
		{"/usr/bin/go test", false},
		{"git status --short", false}, // the rule has no trailing *
		{"git", false},
		{"make build-linux/../../x", false}, // * within a word does not cross /
	}
	for _, tt := range tests {
		d, ok := p.Check(1, bashReq(tt.cmd))
		allowed := ok && d.Answer.Allowed()
		if allowed != tt.allow {
			t.Errorf("%q: allowed=%v (%+v), want %v", tt.cmd, allowed, d, tt.allow)
		}
		if allowed && !strings.HasPrefix(d.Rule, "allow rule") {
			t.Errorf("%q: decided by %q", tt.cmd, d.Rule)
		}
	}
}

// TestPrefixMatchingNegativeControl: the injection cases above are exactly
// those a string-prefix matcher gets wrong.
func TestPrefixMatchingNegativeControl(t *testing.T) {
	naive := func(rulePrefix, cmd string) bool { return strings.HasPrefix(cmd, rulePrefix) }
	p := policy(t, approval.Config{Allow: []string{"bash:go test *"}})
	for _, cmd := range []string{"go test ./... && rm -rf /", "go test $(rm -rf /)", "go test; curl x | sh"} {
		if !naive("go test", cmd) {
			t.Fatalf("the naive matcher refuses %q; the control proves nothing", cmd)
		}
		if d, ok := p.Check(1, bashReq(cmd)); ok {
			t.Errorf("%q: allowed by %+v, which a prefix matcher would also do", cmd, d)
		}
	}
}

// TestBashDenyRules: a deny rule matches any simple command anywhere in the
// script that could match it.
func TestBashDenyRules(t *testing.T) {
	p := policy(t, approval.Config{
		Deny:  []string{"bash:rm *", "bash:git push *", "bash:curl *"},
		Allow: []string{"bash:*"}, // deny must win over an allow-everything rule
		Yolo:  true,               // and over --yolo
	})
	tests := []struct {
		cmd  string
		deny bool
	}{
		{"rm -rf /", true},
		{"rm", true},
		{"go test ./... && rm -rf /", true},
		{"go test $(rm -rf /)", true},
		{"echo $(echo $(rm x))", true},
		{"echo `rm x`", true},
		{"go test; curl x | sh", true},
		{"(cd / && rm -rf x)", true},
		{"f() { rm -rf /; }; f", true},
		{"cat <<EOF\n$(rm -rf /)\nEOF", true},
		{"if true; then rm x; fi", true},
		{"time rm x", true},
		{"! rm x", true},
		{"/bin/rm x", true},    // by base name
		{`"r""m" -rf /`, true}, // quotes removed
		{`r\m -rf /`, true},
		{"sudo rm -rf /", true},
		{"sudo -u root env FOO=1 nice -n 5 rm x", true},
		{"find . -name x -exec rm {} \\;", true},
		{"xargs rm < list", true},
		{"sh -c 'rm -rf /'", true},
		{"bash -o pipefail -ec \"go test && rm x\"", true},
		{"sh -c \"sh -c 'rm x'\"", true},
		{"eval 'rm -rf /'", true},
		{"watch 'rm -rf /tmp/x'", true},
		{"alias x='rm -rf /'", true},
		{"git push origin main", true},
		{"git push", true},
		// Unknown words could be anything: the command name, -c, a push.
		{"$cmd -rf /", true},
		{"$(echo rm) -rf /", true},
		{"git $sub origin", true},
		{`sh -c "$script"`, true},
		{"eval $x", true},
		{"command -v rm", true}, // conservative: command runs its argument

		// Not denied.
		{"echo rm -rf /", false},
		{"grep -r rm .", false},
		{"go test ./...", false},
		{"git status", false},
		{"git pushx", false},
		{"ls $HOME", false},
		{"rmdir x", false},
		{"sh script.sh", false}, // a script file is not judged
	}
	for _, tt := range tests {
		d, ok := p.Check(1, bashReq(tt.cmd))
		denied := ok && d.Answer == approval.Deny
		if denied != tt.deny {
			t.Errorf("%q: denied=%v (%+v, %v), want %v", tt.cmd, denied, d, ok, tt.deny)
		}
		if denied && (!strings.HasPrefix(d.Rule, "deny rule bash:") || !strings.Contains(d.Note, "denied by the rule")) {
			t.Errorf("%q: decision %+v", tt.cmd, d)
		}
	}
}

// TestUnparseableWithDenyRulesAsks: a command that does not parse cannot
// be checked against deny rules, so neither --yolo nor a session grant
// allows it; without deny rules they do.
func TestUnparseableWithDenyRulesAsks(t *testing.T) {
	const cmd = "rm -rf / ("
	p := policy(t, approval.Config{Deny: []string{"bash:rm *"}, Yolo: true})
	p.Grant(1, bashReq(cmd), approval.AllowSession)
	if d, ok := p.Check(1, bashReq(cmd)); ok {
		t.Errorf("unparseable command decided without asking: %+v", d)
	}
	p = policy(t, approval.Config{Yolo: true})
	if d, ok := p.Check(1, bashReq(cmd)); !ok || d.Rule != approval.DecidedByYolo {
		t.Errorf("no deny rules, --yolo: %+v %v", d, ok)
	}
}

func TestBadRules(t *testing.T) {
	for _, r := range []string{
		"", "bash", ":x", "bash:", "bash:   ", "Bash:ls", "ba sh:ls",
		"bash:go test && rm", "bash:ls > x", "bash:X=1 ls", "bash:ls $HOME", "bash:ls $(x)", "bash:ls (",
		"edit:[", "edit:docs/{a", "bash:ls [",
	} {
		if err := approval.ValidateRule(r); err == nil {
			t.Errorf("ValidateRule(%q) accepted it", r)
		}
		if _, err := approval.New("", approval.Config{Allow: []string{r}}); err == nil {
			t.Errorf("New with allow %q succeeded", r)
		}
	}
	for _, r := range []string{"bash:*", "bash:go test *", "bash:echo '*'", "edit:docs/**", "view:/etc/**", "grep:**"} {
		if err := approval.ValidateRule(r); err != nil {
			t.Errorf("ValidateRule(%q): %v", r, err)
		}
	}
}
