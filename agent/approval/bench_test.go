package approval_test

import (
	"testing"

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
