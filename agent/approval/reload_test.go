package approval_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/agent/approval"
)

// rulesFile is a project settings file kept outside the project, as
// spindle keeps it, and the policy that reads it.
type rulesFile struct {
	t    *testing.T
	path string
}

func newRulesFile(t *testing.T) *rulesFile {
	return &rulesFile{t: t, path: filepath.Join(t.TempDir(), "projects", "demo-0123456789ab.toml")}
}

// write replaces the file's content in place (the same inode, as an
// editor that writes over the file does) and sets its modification time
// to mtime, when it is not zero.
func (f *rulesFile) write(content string, mtime time.Time) {
	f.t.Helper()
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(f.path, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(f.path, mtime, mtime); err != nil {
			f.t.Fatal(err)
		}
	}
}

// replace writes content to a new file renamed over the old one (a new
// inode, as most editors save), with the modification time mtime.
func (f *rulesFile) replace(content string, mtime time.Time) {
	f.t.Helper()
	tmp := f.path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		f.t.Fatal(err)
	}
}

func (f *rulesFile) policy(cfg approval.Config) *approval.Policy {
	f.t.Helper()
	cfg.SettingsPath = f.path
	p, err := approval.New(f.t.TempDir(), cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// decision is what Check says of cmd, as "allow", "deny" or "ask".
func decision(p *approval.Policy, session int64, cmd string) string {
	d, ok := p.Check(session, bashReq(cmd))
	switch {
	case !ok:
		return "ask"
	case d.Answer.Allowed():
		return "allow"
	}
	return "deny"
}

// an hour ago and later: modification times old enough to be trusted.
var (
	past  = time.Now().Add(-time.Hour).Truncate(time.Second)
	past2 = past.Add(time.Minute)
)

// TestEditedRulesFileIsReadAgain: the person edits the rules file while
// spindle runs; the next decision uses the file as it is now, whichever
// way the edit shows (a new size, a new modification time only, a new
// inode only), and Rules lists the new rules. The same edits are not
// seen by a policy whose refresh is switched off: the negative control.
func TestEditedRulesFileIsReadAgain(t *testing.T) {
	const before = "allow = ['bash:ls']\n"
	for _, tt := range []struct {
		name string
		edit func(f *rulesFile)
	}{
		{"new size", func(f *rulesFile) { f.write("allow = ['bash:pwd']\ndeny = ['bash:ls *']\n", past) }},
		// The same size: only the modification time tells.
		{"new mtime", func(f *rulesFile) { f.write("deny  = ['bash:ls']\n", past2) }},
		// The same size and time: only the inode tells.
		{"new inode", func(f *rulesFile) { f.replace("deny  = ['bash:ls']\n", past) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, refresh := range []bool{true, false} {
				f := newRulesFile(t)
				f.write(before, past)
				p := f.policy(approval.Config{})
				if !refresh {
					approval.DisableRefresh(p)
				}
				if got := decision(p, 1, "ls"); got != "allow" {
					t.Fatalf("before the edit, ls: %s", got)
				}
				tt.edit(f)
				got := decision(p, 1, "ls")
				switch {
				case refresh && got != "deny":
					t.Errorf("after the edit, ls: %s; want deny", got)
				case !refresh && got != "allow":
					t.Errorf("negative control: with refresh off, ls after the edit: %s; want the old allow", got)
				}
				if refresh {
					// Every edit turns ls into a deny rule and drops its allow.
					rules := p.Rules()
					if len(rules) == 0 || slices.ContainsFunc(rules, func(e approval.RuleEntry) bool { return !e.Deny && e.Rule == "bash:ls" }) ||
						!slices.ContainsFunc(rules, func(e approval.RuleEntry) bool { return e.Deny && strings.HasPrefix(e.Rule, "bash:ls") }) {
						t.Errorf("Rules lists %+v, not the edited file's rules", rules)
					}
				}
			}
		})
	}
}

// TestRacyEditIsReadAgain: an edit made within the file system's time
// step of the previous version, with the same size and inode, has the
// same stamp; the policy reads a recently modified file again at each
// decision, so it is still seen. With that switched off it is not: the
// negative control, showing that the stamp alone misses it.
func TestRacyEditIsReadAgain(t *testing.T) {
	for _, racyReads := range []bool{true, false} {
		f := newRulesFile(t)
		now := time.Now()
		f.write("allow = ['bash:ls']\n", now)
		p := f.policy(approval.Config{})
		if !racyReads {
			approval.DisableRacyReads(p)
		}
		if got := decision(p, 1, "cd"); got != "ask" {
			t.Fatalf("before the edit, cd: %s", got)
		}
		f.write("allow = ['bash:cd']\n", now) // same size, same time, same inode
		got := decision(p, 1, "cd")
		if racyReads && got != "allow" {
			t.Errorf("the racy edit was missed: cd %s", got)
		}
		if !racyReads && got != "ask" {
			t.Errorf("negative control: without racy reads, cd %s; the stamp alone should have missed the edit", got)
		}
	}
}

// TestBrokenRulesFileKeepsTheLastGoodRules: a rules file that stops
// loading mid-edit leaves the last good rules in force (the deny rule
// still denies, nothing more is allowed), LoadError says why and names
// the file, and Refresh and UntoldLoadError hand the error out once each
// per broken version; a fixed file is taken into use and clears it, and
// a new break is news again.
func TestBrokenRulesFileKeepsTheLastGoodRules(t *testing.T) {
	f := newRulesFile(t)
	f.write("allow = ['bash:ls']\ndeny = ['bash:rm *']\n", past)
	p := f.policy(approval.Config{})
	if p.LoadError() != nil || p.Refresh() != nil || p.UntoldLoadError() != nil {
		t.Fatal("a good file reported an error")
	}
	for _, broken := range []string{
		"allow = ['bash:ls', 'bash:pwd'\n", // mid-edit: the deny rule's removal would come next
		"allow = ['bash:pwd']\ndny = []\n", // an unknown key
		"allow = ['bash:pwd && rm x']\n",   // a bad rule
	} {
		f.write(broken, past2)
		if got := decision(p, 1, "rm -rf x"); got != "deny" {
			t.Errorf("%q: the last good deny rule is not in force: rm %s", broken, got)
		}
		if got := decision(p, 1, "ls"); got != "allow" {
			t.Errorf("%q: the last good allow rule is not in force: ls %s", broken, got)
		}
		if got := decision(p, 1, "pwd"); got != "ask" {
			t.Errorf("%q: the broken file's rule is in force: pwd %s", broken, got)
		}
		err := p.LoadError()
		if err == nil || !strings.Contains(err.Error(), f.path) {
			t.Fatalf("%q: LoadError %v; want one naming %s", broken, err, f.path)
		}
		if first := p.Refresh(); first == nil || first.Error() != err.Error() {
			t.Errorf("%q: the first Refresh returned %v", broken, first)
		}
		if again := p.Refresh(); again != nil {
			t.Errorf("%q: the second Refresh returned %v again", broken, again)
		}
		if told := p.UntoldLoadError(); told == nil {
			t.Errorf("%q: UntoldLoadError did not tell", broken)
		}
		if told := p.UntoldLoadError(); told != nil {
			t.Errorf("%q: UntoldLoadError told twice", broken)
		}
		if p.LoadError() == nil {
			t.Errorf("%q: LoadError cleared by telling", broken)
		}
		// Fixed: in use at once, and the error is gone.
		f.write("allow = ['bash:pwd']\ndeny = ['bash:rm *']\n", past)
		if got := decision(p, 1, "pwd"); got != "allow" {
			t.Errorf("%q, then fixed: pwd %s", broken, got)
		}
		if got := decision(p, 1, "ls"); got != "ask" {
			t.Errorf("%q, then fixed: ls %s", broken, got)
		}
		if p.LoadError() != nil || p.Refresh() != nil {
			t.Errorf("%q, then fixed: still an error %v", broken, p.LoadError())
		}
		f.write("allow = ['bash:ls']\ndeny = ['bash:rm *']\n", past2)
		decision(p, 1, "ls")
	}
	// A deleted file is no rules, not an error.
	if err := os.Remove(f.path); err != nil {
		t.Fatal(err)
	}
	if got := decision(p, 1, "rm x"); got != "ask" || p.LoadError() != nil {
		t.Errorf("after deleting the file: rm %s, error %v", got, p.LoadError())
	}
}

// TestSessionGrantsListedAndRevoked: what "allow for this session"
// allows is listed per session, exactly (a multi-line command keeps its
// line break), and revoking one makes that call ask again.
func TestSessionGrantsListedAndRevoked(t *testing.T) {
	p := policy(t, approval.Config{})
	multi := bashReq("echo safe\ntouch /tmp/x")
	edit := fileReq("edit", "docs/[a].md", false)
	p.Grant(1, multi, approval.AllowSession)
	p.Grant(1, edit, approval.AllowSession)
	p.Grant(2, bashReq("ls"), approval.AllowSession)
	got := p.SessionGrants(1)
	want := []string{"bash:=echo safe\ntouch /tmp/x", `edit:docs/\[a\].md`}
	if !slices.Equal(got, want) {
		t.Fatalf("SessionGrants(1) = %q, want %q", got, want)
	}
	if g := p.SessionGrants(3); len(g) != 0 {
		t.Errorf("a session without grants lists %q", g)
	}
	if p.RevokeGrant(1, "bash:=echo safe touch /tmp/x") {
		t.Error("revoked by a text that is not the grant's")
	}
	if !p.RevokeGrant(1, want[0]) {
		t.Fatal("RevokeGrant did not find the grant")
	}
	if _, ok := p.Check(1, multi); ok {
		t.Error("the revoked grant still allows")
	}
	if _, ok := p.Check(1, edit); !ok {
		t.Error("revoking one grant took another")
	}
	if _, ok := p.Check(2, bashReq("ls")); !ok {
		t.Error("revoking in one session took another session's grant")
	}
	if p.RevokeGrant(1, want[0]) {
		t.Error("revoked twice")
	}
}

// TestAlwaysSavedIsNotASessionGrant: "always" that was saved as a rule
// records no session grant, so removing the rule makes the call ask again
// in the same session; "always" that could not be saved is a session
// grant, listed as one.
func TestAlwaysSavedIsNotASessionGrant(t *testing.T) {
	f := newRulesFile(t)
	p := f.policy(approval.Config{})
	req := bashReq("go test ./...")
	if err := p.Grant(1, req, approval.AllowAlways); err != nil {
		t.Fatal(err)
	}
	if g := p.SessionGrants(1); len(g) != 0 {
		t.Errorf("a saved always is also a session grant: %q", g)
	}
	if err := p.RemoveRule("bash:go test ./..."); err != nil {
		t.Fatal(err)
	}
	if got := decision(p, 1, "go test ./..."); got != "ask" {
		t.Errorf("after removing the saved rule, the same session: %s", got)
	}

	noProject := policy(t, approval.Config{})
	if err := noProject.Grant(1, req, approval.AllowAlways); err == nil || !strings.Contains(err.Error(), "this session only") {
		t.Errorf("always without a project: %v", err)
	}
	if g := noProject.SessionGrants(1); !slices.Equal(g, []string{"bash:=go test ./..."}) {
		t.Errorf("the unsaved always is not listed as a session grant: %q", g)
	}
}
