package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules holds the direction of imports the design sets:
// transport and store import nothing of spindle's (directly or not), agent
// nothing of the UI, and no UI package imports the transport itself (it
// reaches sockets only through the agent). It asks the go command, so it
// sees every import, test files aside.
func TestImportRules(t *testing.T) {
	const mod = "github.com/spindle-sh/spindle"
	list := func(pkg, format string, all bool) []string {
		args := []string{"list", "-f", format}
		if all {
			args = append(args, "-deps")
		}
		out, err := exec.Command("go", append(args, mod+"/"+pkg)...).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		var ours []string
		for _, p := range strings.Fields(string(out)) {
			if strings.HasPrefix(p, mod+"/") && p != mod+"/"+pkg {
				ours = append(ours, strings.TrimPrefix(p, mod+"/"))
			}
		}
		return ours
	}
	deps := func(pkg string) []string { return list(pkg, "{{.ImportPath}}", true) }
	direct := func(pkg string) []string { return list(pkg, "{{join .Imports \" \"}}", false) }
	rules := []struct {
		pkg       string
		forbidden func(dep string) bool
		what      string
		imports   func(string) []string
	}{
		{"transport", func(string) bool { return true }, "imports nothing of spindle's", deps},
		{"store", func(string) bool { return true }, "imports nothing of spindle's", deps},
		{"sanitize", func(string) bool { return true }, "imports nothing of spindle's", deps},
		{"agent", func(d string) bool { return strings.HasPrefix(d, "tui") || strings.HasPrefix(d, "dispatch") }, "imports nothing of the UI or the dispatcher", deps},
		{"tui", func(d string) bool { return d == "transport" }, "never imports transport", direct},
		{"tui/chat", func(d string) bool { return d == "transport" }, "never imports transport", direct},
		{"tui/kanban", func(d string) bool { return d == "transport" || strings.HasPrefix(d, "agent") }, "never imports transport or agent", deps},
	}
	for _, r := range rules {
		for _, d := range r.imports(r.pkg) {
			if r.forbidden(d) {
				t.Errorf("%s imports %s: %s %s", r.pkg, d, r.pkg, r.what)
			}
		}
	}
	// The check sees real edges: agent imports transport, and tui the
	// agent.
	if !strings.Contains(strings.Join(direct("agent"), " "), "transport") || !strings.Contains(strings.Join(direct("tui/chat"), " "), "agent") {
		t.Fatal("go list shows no agent → transport or chat → agent import: the rules above prove nothing")
	}
}
