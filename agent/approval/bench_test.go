package approval_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/agent/approval"
)

// BenchmarkCheckBash is one Check of a two-command pipeline against a few
// allow and deny rules: what every bash call costs before it runs.
func BenchmarkCheckBash(b *testing.B) {
	p, err := approval.New("", approval.Config{
		Allow: []string{"bash:go test *", "bash:head *", "bash:git status", "bash:ls *"},
		Deny:  []string{"bash:rm *", "bash:git push *", "bash:curl *"},
	})
	if err != nil {
		b.Fatal(err)
	}
	req := bashReq("go test -run 'TestX|TestY' ./agent/... 2>&1 | head -n 50")
	for b.Loop() {
		if d, ok := p.Check(1, req); !ok || !d.Answer.Allowed() {
			b.Fatal(d)
		}
	}
}

// BenchmarkCheckBashProjectFile is BenchmarkCheckBash with the rules in a
// project settings file that Check looks at for changes (one stat) each
// time: the cost of noticing the person's edits.
func BenchmarkCheckBashProjectFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "project.toml")
	rules := "allow = ['bash:go test *', 'bash:head *', 'bash:git status', 'bash:ls *']\n" +
		"deny = ['bash:rm *', 'bash:git push *', 'bash:curl *']\n"
	if err := os.WriteFile(path, []byte(rules), 0o644); err != nil {
		b.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		b.Fatal(err)
	}
	p, err := approval.New(b.TempDir(), approval.Config{SettingsPath: path})
	if err != nil {
		b.Fatal(err)
	}
	req := bashReq("go test -run 'TestX|TestY' ./agent/... 2>&1 | head -n 50")
	for b.Loop() {
		if d, ok := p.Check(1, req); !ok || !d.Answer.Allowed() {
			b.Fatal(d)
		}
	}
}
