package files_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/agent/tool/files"
)

// project is a fresh project in a temporary directory.
func project(t *testing.T) (*files.Project, string) {
	t.Helper()
	p, err := files.NewProject(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p, p.Root()
}

// get returns the project's tool called name.
func get(t *testing.T, p *files.Project, name string) tool.Tool {
	t.Helper()
	tl, ok := tool.NewRegistry(p.Tools()...).Get(name)
	if !ok {
		t.Fatalf("no tool %s", name)
	}
	return tl
}

// args is a JSON object text.
func args(kv ...any) string {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func run(t *testing.T, tl tool.Tool, a string) tool.Result {
	t.Helper()
	return tl.Run(context.Background(), tool.Call{ID: "c1", Name: tl.Name(), Args: a})
}

func approval(t *testing.T, tl tool.Tool, a string) (*tool.Request, *tool.Result) {
	t.Helper()
	return tl.(tool.Asker).Approval(tool.Call{ID: "c1", Name: tl.Name(), Args: a})
}

func wantOK(t *testing.T, r tool.Result) {
	t.Helper()
	if r.Err {
		t.Fatalf("failed: %s", r.Model)
	}
}

func wantErr(t *testing.T, r tool.Result, substr string) {
	t.Helper()
	if !r.Err {
		t.Fatalf("succeeded, want an error containing %q:\n%s", substr, r.Model)
	}
	if !strings.Contains(r.Model, substr) {
		t.Fatalf("error %q does not contain %q", r.Model, substr)
	}
}

// TestBadArguments: every tool answers arguments that are not JSON, miss a
// required field or carry an unknown one with an error Result, from
// Approval (no request) and from Run (nothing done).
func TestBadArguments(t *testing.T) {
	p, root := project(t)
	writeFile(t, filepath.Join(root, "a.txt"), "x\n")
	bad := map[string][]string{
		"view":  {`{`, `{}`, `{"path":null}`, `{"path":"a.txt","bogus":1}`, `{"path":"a.txt"}{"path":"a.txt"}`, `{"path":"a.txt","offset":"1"}`},
		"ls":    {`{`, `[]`, `{"path":1}`, `{"dir":"."}`},
		"glob":  {`{`, `{}`, `{"path":"."}`, `{"pattern":"["}`, `{"pattern":"../*"}`, `{"pattern":"/etc/*"}`},
		"grep":  {`{`, `{}`, `{"pattern":"("}`, `{"pattern":"x","include":"["}`, `{"pattern":""}`},
		"write": {`{`, `{"path":"new.txt"}`, `{"content":"x"}`, `{"path":"new.txt","content":"x","mode":1}`},
		"edit":  {`{`, `{"path":"a.txt","old_string":"x"}`, `{"path":"a.txt","new_string":"y"}`, `{"old_string":"x","new_string":"y"}`},
	}
	for name, cases := range bad {
		tl := get(t, p, name)
		for _, a := range cases {
			req, res := approval(t, tl, a)
			if req != nil || res == nil || !res.Err || res.Model == "" {
				t.Errorf("%s Approval(%s) = %+v, %+v; want no request and an error result", name, a, req, res)
			}
			r := run(t, tl, a)
			if !r.Err || !strings.HasPrefix(r.Model, name+":") {
				t.Errorf("%s Run(%s) = %+v; want an error naming the tool", name, a, r)
			}
		}
	}
	// Nothing was written or created by the bad write and edit calls.
	if _, err := os.Stat(filepath.Join(root, "new.txt")); !os.IsNotExist(err) {
		t.Errorf("a bad write created new.txt: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "a.txt")); string(b) != "x\n" {
		t.Errorf("a bad edit changed a.txt to %q", b)
	}
}

func TestReadApproval(t *testing.T) {
	p, root, elsewhere := tree(t)
	for _, name := range []string{"view", "ls", "glob", "grep"} {
		tl := get(t, p, name)
		key := "path"
		extra := []any{}
		switch name {
		case "glob":
			extra = []any{"pattern", "*"}
		case "grep":
			extra = []any{"pattern", "x"}
		}
		inside := map[string]string{"view": "a.txt", "ls": "sub", "glob": "sub", "grep": "sub"}[name]
		req, res := approval(t, tl, args(append([]any{key, inside}, extra...)...))
		if req != nil || res != nil {
			t.Errorf("%s %s inside: request %+v, result %+v; want neither", name, inside, req, res)
		}
		outsides := []string{"../elsewhere/secret.txt", "out/secret.txt", "deep/../secret.txt", "/etc/hostname"}
		if name == "ls" || name == "glob" {
			outsides = []string{"../elsewhere", "out", "deep/..", "/etc", ".."}
		}
		for _, outside := range outsides {
			req, res := approval(t, tl, args(append([]any{key, outside}, extra...)...))
			if res != nil || req == nil || !req.Outside || req.Tool != name || !filepath.IsAbs(req.Subject) || req.Dir != root {
				t.Errorf("%s %s: request %+v, result %+v; want an Outside request with an absolute subject", name, outside, req, res)
			}
		}
	}
	// The subject of an outside request is the resolved path.
	req, _ := approval(t, get(t, p, "view"), args("path", "deep/../secret.txt"))
	if want := filepath.Join(elsewhere, "secret.txt"); req == nil || req.Subject != want {
		t.Errorf("subject %+v, want %s", req, want)
	}
}

func TestView(t *testing.T) {
	p, root := project(t)
	view := get(t, p, "view")
	var b strings.Builder
	for i := 1; i <= 2500; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	writeFile(t, filepath.Join(root, "long.txt"), b.String())
	writeFile(t, filepath.Join(root, "small.go"), "package x\n\nfunc f() {}")
	writeFile(t, filepath.Join(root, "empty"), "")
	writeFile(t, filepath.Join(root, "wide.txt"), "short\n"+strings.Repeat("é", 5000)+"\nafter\n")
	writeFile(t, filepath.Join(root, "bin"), "ELF\x00\x01\x02")
	writeFile(t, filepath.Join(root, "latin1.txt"), "caf\xe9 au lait\n")
	writeFile(t, filepath.Join(root, "noise"), strings.Repeat("\xff\xfe", 100))
	mkdir(t, filepath.Join(root, "dir"))

	r := run(t, view, args("path", "small.go"))
	wantOK(t, r)
	if want := "     1\tpackage x\n     2\t\n     3\tfunc f() {}\n"; r.Model != want {
		t.Errorf("small.go:\n%q\nwant\n%q", r.Model, want)
	}
	if r.Screen != "view small.go: lines 1–3" {
		t.Errorf("screen %q", r.Screen)
	}

	r = run(t, view, args("path", "long.txt"))
	wantOK(t, r)
	if n := strings.Count(r.Model, "\tline "); n != 2000 {
		t.Errorf("default limit showed %d lines, want 2000", n)
	}
	if !strings.Contains(r.Model, "  2000\tline 2000\n") || strings.Contains(r.Model, "line 2001\n") ||
		!strings.Contains(r.Model, "use offset 2001") {
		t.Errorf("long file: tail of the result:\n%s", r.Model[len(r.Model)-200:])
	}

	r = run(t, view, args("path", "long.txt", "offset", 2499, "limit", 10))
	wantOK(t, r)
	if r.Model != "  2499\tline 2499\n  2500\tline 2500\n" {
		t.Errorf("offset 2499: %q", r.Model)
	}

	r = run(t, view, args("path", "wide.txt"))
	wantOK(t, r)
	if !strings.Contains(r.Model, "line cut at 2,000 characters; 10,000 bytes in all") ||
		strings.Count(r.Model, "é") != 2000 || !strings.Contains(r.Model, "     3\tafter\n") {
		t.Errorf("wide line not cut as expected: %.200q", r.Model)
	}

	r = run(t, view, args("path", "latin1.txt"))
	wantOK(t, r)
	if !strings.Contains(r.Model, "caf\uFFFD au lait") {
		t.Errorf("a stray invalid byte should be replaced, not refused: %q", r.Model)
	}

	r = run(t, view, args("path", "empty"))
	wantOK(t, r)
	if !strings.Contains(r.Model, "empty") {
		t.Errorf("empty file: %q", r.Model)
	}

	wantErr(t, run(t, view, args("path", "bin")), "binary file")
	wantErr(t, run(t, view, args("path", "noise")), "binary file")
	wantErr(t, run(t, view, args("path", "dir")), "is a directory; use ls")
	wantErr(t, run(t, view, args("path", "missing.txt")), "no such file or directory: missing.txt")
	wantErr(t, run(t, view, args("path", "small.go", "offset", 4)), "past the end of small.go (3 lines)")
	wantErr(t, run(t, view, args("path", "small.go", "offset", 0)), "offset must be 1 or more")
	wantErr(t, run(t, view, args("path", "small.go", "limit", 0)), "limit must be 1 or more")
}

func TestViewStopsOnCancel(t *testing.T) {
	p, root := project(t)
	writeFile(t, filepath.Join(root, "f"), strings.Repeat("x\n", 10000))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := get(t, p, "view").Run(ctx, tool.Call{Name: "view", Args: args("path", "f")})
	wantErr(t, r, "interrupted")
}

func TestLS(t *testing.T) {
	p, root := project(t)
	writeFile(t, filepath.Join(root, ".gitignore"), "*.log\nbuild/\n")
	writeFile(t, filepath.Join(root, "main.go"), "")
	writeFile(t, filepath.Join(root, "debug.log"), "")
	writeFile(t, filepath.Join(root, "build", "out"), "")
	writeFile(t, filepath.Join(root, ".git", "HEAD"), "")
	writeFile(t, filepath.Join(root, "pkg", ".gitignore"), "gen.go\n")
	writeFile(t, filepath.Join(root, "pkg", "gen.go"), "")
	writeFile(t, filepath.Join(root, "pkg", "real.go"), "")
	writeFile(t, filepath.Join(root, "pkg", "x.log"), "")
	symlink(t, "pkg", filepath.Join(root, "alias"))
	ls := get(t, p, "ls")

	r := run(t, ls, `{}`)
	wantOK(t, r)
	if want := "./\n.gitignore\nalias/ -> pkg\nmain.go\npkg/\n"; r.Model != want {
		t.Errorf("ls root:\n%s\nwant\n%s", r.Model, want)
	}
	if !strings.HasPrefix(r.Screen, "ls ./: 4 entries\n") {
		t.Errorf("screen %q", r.Screen)
	}
	r = run(t, ls, args("path", "pkg"))
	wantOK(t, r)
	if want := "pkg/\n.gitignore\nreal.go\n"; r.Model != want {
		t.Errorf("ls pkg (nested .gitignore and the root's *.log):\n%s\nwant\n%s", r.Model, want)
	}
	// An ignored directory named explicitly is listed.
	r = run(t, ls, args("path", "build"))
	wantOK(t, r)
	if r.Model != "build/\nout\n" {
		t.Errorf("ls build: %q", r.Model)
	}
	wantErr(t, run(t, ls, args("path", "main.go")), "not a directory")
	wantErr(t, run(t, ls, args("path", "nope")), "no such file or directory: nope")

	// Bounded: 1,005 entries show 1,000 and the count of the rest.
	for i := range 1005 {
		writeFile(t, filepath.Join(root, "many", fmt.Sprintf("f%04d", i)), "")
	}
	r = run(t, ls, args("path", "many"))
	wantOK(t, r)
	if n := strings.Count(r.Model, "\nf"); n != 1000 || !strings.HasSuffix(r.Model, "f0999\n… and 5 more\n") {
		t.Errorf("bounded listing: %d entries, tail %q", n, r.Model[len(r.Model)-40:])
	}
}

func TestGlob(t *testing.T) {
	p, root := project(t)
	writeFile(t, filepath.Join(root, ".gitignore"), "vendor/\n")
	for _, f := range []string{"main.go", "a/b/c.go", "a/b/c_test.go", "a/x.txt", "vendor/v.go", ".git/x.go", "z.go"} {
		writeFile(t, filepath.Join(root, f), "")
	}
	glob := get(t, p, "glob")
	r := run(t, glob, args("pattern", "**/*.go"))
	wantOK(t, r)
	if want := "a/b/c.go\na/b/c_test.go\nmain.go\nz.go\n"; r.Model != want {
		t.Errorf("**/*.go:\n%s\nwant\n%s", r.Model, want)
	}
	r = run(t, glob, args("pattern", "*.go", "path", "a/b"))
	wantOK(t, r)
	if want := "a/b/c.go\na/b/c_test.go\n"; r.Model != want {
		t.Errorf("*.go in a/b:\n%s", r.Model)
	}
	r = run(t, glob, args("pattern", "a/*"))
	wantOK(t, r)
	if want := "a/b/\na/x.txt\n"; r.Model != want {
		t.Errorf("a/*:\n%s", r.Model)
	}
	r = run(t, glob, args("pattern", "*.rs"))
	wantOK(t, r)
	if !strings.Contains(r.Model, "No paths") {
		t.Errorf("no match: %q", r.Model)
	}
	wantErr(t, run(t, glob, args("pattern", "*", "path", "main.go")), "not a directory")

	for i := range 1200 {
		writeFile(t, filepath.Join(root, "many", fmt.Sprintf("f%04d.txt", i)), "")
	}
	r = run(t, glob, args("pattern", "many/*.txt"))
	wantOK(t, r)
	if !strings.HasSuffix(r.Model, "many/f0999.txt\n… and 200 more\n") || !strings.HasPrefix(r.Screen, "glob many/*.txt: 1,200 matches") {
		t.Errorf("bounded glob: tail %q, screen %.40q", r.Model[len(r.Model)-50:], r.Screen)
	}
}

func TestGrep(t *testing.T) {
	p, root, elsewhere := tree(t)
	writeFile(t, filepath.Join(root, ".gitignore"), "ignored.txt\n")
	writeFile(t, filepath.Join(root, "code", "main.go"), "package main\n\nfunc main() {\n\tprintln(\"needle\")\n}\n")
	writeFile(t, filepath.Join(root, "code", "notes.md"), "a needle here\nnone\nNEEDLE upper\n")
	writeFile(t, filepath.Join(root, "code", "blob.bin"), "needle\x00needle")
	writeFile(t, filepath.Join(root, "ignored.txt"), "needle\n")
	writeFile(t, filepath.Join(root, ".git", "config"), "needle\n")
	writeFile(t, filepath.Join(root, "code", "wide.txt"), strings.Repeat("w", 1000)+"needle\n")
	// elsewhere/secret.txt says "outside"; neither the out directory link
	// nor a file link must lead grep there.
	symlink(t, filepath.Join(elsewhere, "secret.txt"), filepath.Join(root, "leak.txt"))
	grep := get(t, p, "grep")

	r := run(t, grep, args("pattern", "needle"))
	wantOK(t, r)
	lines := strings.Split(strings.TrimSpace(r.Model), "\n")
	want := []string{
		"code/main.go:4: \tprintln(\"needle\")",
		"code/notes.md:1: a needle here",
	}
	if len(lines) != 3 || lines[0] != want[0] || lines[1] != want[1] || !strings.HasPrefix(lines[2], "code/wide.txt:1: www") ||
		!strings.Contains(lines[2], "line cut at 300 characters; 1,006 bytes in all") {
		t.Errorf("grep needle:\n%s", r.Model)
	}
	if !strings.HasPrefix(r.Screen, "grep needle: 3 matches in 3 files\n") {
		t.Errorf("screen %q", r.Screen)
	}

	r = run(t, grep, args("pattern", "(?i)needle", "include", "*.md"))
	wantOK(t, r)
	if r.Model != "code/notes.md:1: a needle here\ncode/notes.md:3: NEEDLE upper\n" {
		t.Errorf("include *.md:\n%s", r.Model)
	}
	r = run(t, grep, args("pattern", "needle", "path", "code/notes.md"))
	wantOK(t, r)
	if r.Model != "code/notes.md:1: a needle here\n" {
		t.Errorf("one file:\n%s", r.Model)
	}
	r = run(t, grep, args("pattern", "outside"))
	wantOK(t, r)
	if !strings.HasPrefix(r.Model, "No matches") {
		t.Errorf("grep followed a symlink out of the project:\n%s", r.Model)
	}
	wantErr(t, run(t, grep, args("pattern", "needle", "path", "code/blob.bin")), "binary file")
	wantErr(t, run(t, grep, args("pattern", "x", "path", "missing")), "no such file or directory")

	var b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b, "hit %d\n", i)
	}
	writeFile(t, filepath.Join(root, "many.txt"), b.String())
	r = run(t, grep, args("pattern", "hit", "path", "many.txt"))
	wantOK(t, r)
	if n := strings.Count(r.Model, "many.txt:"); n != 200 || !strings.Contains(r.Model, "stopped at 200 matches") {
		t.Errorf("bounded grep: %d lines", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wantErr(t, grep.Run(ctx, tool.Call{Name: "grep", Args: args("pattern", "x")}), "interrupted")
}
