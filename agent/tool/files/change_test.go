package files_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/spindle-sh/spindle/agent/tool"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// noTemps fails if a temporary file of writeAtomic is left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".spindle-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestWriteNewFile(t *testing.T) {
	p, root := project(t)
	write := get(t, p, "write")
	content := strings.Repeat("hello\n", 205) + "tail"
	a := args("path", "docs/deep/a.md", "content", content)

	req, res := approval(t, write, a)
	if res != nil || req == nil {
		t.Fatalf("approval: %+v %+v", req, res)
	}
	if req.Tool != "write" || req.Subject != "docs/deep/a.md" || req.Outside || req.Dir != root ||
		req.Summary != "write docs/deep/a.md (1,234 bytes, new file)" {
		t.Errorf("request %+v", req)
	}
	if !strings.HasPrefix(req.Detail, "hello\nhello\n") || !strings.HasSuffix(req.Detail, "hello\n… 6 more lines\n") ||
		strings.Count(req.Detail, "\n") != 201 {
		t.Errorf("detail is not the content capped at 200 lines: %d lines, tail %q", strings.Count(req.Detail, "\n"), req.Detail[len(req.Detail)-40:])
	}
	if _, err := os.Stat(filepath.Join(root, "docs")); !os.IsNotExist(err) {
		t.Errorf("Approval wrote something: %v", err)
	}

	r := run(t, write, a)
	wantOK(t, r)
	path := filepath.Join(root, "docs", "deep", "a.md")
	if got := readFile(t, path); got != content {
		t.Errorf("content %q", got[:40])
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", fi.Mode().Perm())
	}
	if r.Model != "wrote docs/deep/a.md (1,234 bytes, 206 lines, new file)" {
		t.Errorf("result %q", r.Model)
	}
	noTemps(t, filepath.Dir(path))
}

func TestWriteReplace(t *testing.T) {
	p, root := project(t)
	path := filepath.Join(root, "run.sh")
	writeFile(t, path, "#!/bin/sh\necho old\n")
	if err := os.Chmod(path, 0o750); err != nil {
		t.Fatal(err)
	}
	before := inode(t, path)
	write := get(t, p, "write")
	a := args("path", "run.sh", "content", "#!/bin/sh\necho new\n")

	req, _ := approval(t, write, a)
	if req == nil || req.Summary != "write run.sh (19 bytes, replaces 19 bytes)" ||
		!strings.Contains(req.Detail, "--- a/run.sh\n+++ b/run.sh\n") ||
		!strings.Contains(req.Detail, "\n-echo old\n+echo new\n") {
		t.Fatalf("request %+v", req)
	}
	wantOK(t, run(t, write, a))
	if got := readFile(t, path); got != "#!/bin/sh\necho new\n" {
		t.Errorf("content %q", got)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o750 {
		t.Errorf("mode %v, want the old 0750 kept", fi.Mode().Perm())
	}
	// The file was replaced by a rename (a new inode), not rewritten in
	// place, so no reader ever saw half of it.
	if inode(t, path) == before {
		t.Error("the file was rewritten in place, not replaced atomically")
	}
	noTemps(t, root)

	req, _ = approval(t, write, a)
	if req == nil || !strings.Contains(req.Summary, "unchanged") {
		t.Errorf("same content again: %+v", req)
	}
}

func TestWriteRefusals(t *testing.T) {
	p, root, elsewhere := tree(t)
	write := get(t, p, "write")
	// A directory is not overwritten.
	wantErr(t, run(t, write, args("path", "sub", "content", "x")), "is a directory")
	_, res := approval(t, write, args("path", "sub", "content", "x"))
	if res == nil || !res.Err {
		t.Errorf("approval of a write over a directory: %+v", res)
	}
	// Writing outside is asked as outside, through .. and through links.
	for _, path := range []string{"../elsewhere/new.txt", "out/new.txt", "deep/../new.txt"} {
		req, res := approval(t, write, args("path", path, "content", "x"))
		want := filepath.Join(elsewhere, "new.txt")
		if res != nil || req == nil || !req.Outside || req.Subject != want {
			t.Errorf("write %s: %+v %+v; want an Outside request for %s", path, req, res, want)
		}
	}
	// A file under a file cannot be made.
	wantErr(t, run(t, write, args("path", "a.txt/x", "content", "x")), "not a directory")
	if got := readFile(t, filepath.Join(root, "a.txt")); got != "a\n" {
		t.Errorf("a.txt changed: %q", got)
	}
}

func TestWriteThroughSymlinkKeepsLink(t *testing.T) {
	p, root := project(t)
	writeFile(t, filepath.Join(root, "real.txt"), "old\n")
	symlink(t, "real.txt", filepath.Join(root, "link.txt"))
	wantOK(t, run(t, get(t, p, "write"), args("path", "link.txt", "content", "new\n")))
	if fi, err := os.Lstat(filepath.Join(root, "link.txt")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced by a file: %v %v", fi.Mode(), err)
	}
	if got := readFile(t, filepath.Join(root, "real.txt")); got != "new\n" {
		t.Errorf("target %q", got)
	}
}

func TestEdit(t *testing.T) {
	p, root := project(t)
	path := filepath.Join(root, "main.go")
	orig := "package main\n\nfunc main() {\n\tprintln(\"a\")\n\tprintln(\"b\")\n\tprintln(\"a\")\n}\n"
	writeFile(t, path, orig)
	edit := get(t, p, "edit")

	// Each refusal leaves the file's bytes exactly as they were.
	refusals := []struct {
		args, err string
	}{
		{args("path", "main.go", "old_string", "println(\"zzz\")", "new_string", "x"), "old_string was not found in main.go"},
		{args("path", "main.go", "old_string", "println(\"a\")", "new_string", "x"), "old_string occurs 2 times in main.go"},
		{args("path", "main.go", "old_string", "", "new_string", "x"), "old_string is empty"},
		{args("path", "main.go", "old_string", "main", "new_string", "main"), "the same"},
		{args("path", "nope.go", "old_string", "a", "new_string", "b"), "no such file: nope.go"},
	}
	for _, tt := range refusals {
		req, res := approval(t, edit, tt.args)
		if req != nil || res == nil || !strings.Contains(res.Model, tt.err) {
			t.Errorf("approval %s: %+v %+v, want %q", tt.args, req, res, tt.err)
		}
		wantErr(t, run(t, edit, tt.args), tt.err)
		if got := readFile(t, path); got != orig {
			t.Fatalf("refused edit %s changed the file to %q", tt.args, got)
		}
	}

	a := args("path", "main.go", "old_string", "\tprintln(\"b\")\n", "new_string", "\tprintln(\"B\")\n\tprintln(\"C\")\n")
	req, res := approval(t, edit, a)
	if res != nil || req == nil || req.Summary != "edit main.go (1 replacement)" || req.Subject != "main.go" ||
		!strings.Contains(req.Detail, "-\tprintln(\"b\")\n+\tprintln(\"B\")\n+\tprintln(\"C\")\n") {
		t.Fatalf("request %+v %+v", req, res)
	}
	r := run(t, edit, a)
	wantOK(t, r)
	want := strings.Replace(orig, "\tprintln(\"b\")\n", "\tprintln(\"B\")\n\tprintln(\"C\")\n", 1)
	if got := readFile(t, path); got != want {
		t.Errorf("after edit:\n%s", got)
	}
	if r.Model != "edited main.go: 1 replacement, the first at line 5" {
		t.Errorf("model %q", r.Model)
	}
	if !strings.HasPrefix(r.Screen, "edit main.go: 1 replacement (+2 −1)\n--- a/main.go\n") {
		t.Errorf("screen %q", r.Screen)
	}
	noTemps(t, root)

	// replace_all replaces every occurrence.
	a = args("path", "main.go", "old_string", "println(\"a\")", "new_string", "println(\"A\")", "replace_all", true)
	req, _ = approval(t, edit, a)
	if req == nil || req.Summary != "edit main.go (2 replacements)" {
		t.Fatalf("request %+v", req)
	}
	wantOK(t, run(t, edit, a))
	if got := readFile(t, path); strings.Contains(got, "println(\"a\")") || strings.Count(got, "println(\"A\")") != 2 {
		t.Errorf("replace_all:\n%s", got)
	}
}

func TestEditRefusesBinary(t *testing.T) {
	p, root := project(t)
	writeFile(t, filepath.Join(root, "b"), "a\x00b")
	wantErr(t, run(t, get(t, p, "edit"), args("path", "b", "old_string", "a", "new_string", "c")), "binary")
	if got := readFile(t, filepath.Join(root, "b")); got != "a\x00b" {
		t.Errorf("binary changed: %q", got)
	}
}

// TestEditDiffCapped: a big edit's request detail is capped.
func TestEditDiffCapped(t *testing.T) {
	p, root := project(t)
	var b strings.Builder
	for i := range 500 {
		fmt.Fprintf(&b, "x%d\n", i)
	}
	writeFile(t, filepath.Join(root, "big"), b.String())
	req, res := approval(t, get(t, p, "edit"), args("path", "big", "old_string", "x", "new_string", "y", "replace_all", true))
	if res != nil || req == nil {
		t.Fatal(res)
	}
	if n := strings.Count(req.Detail, "\n"); n != 201 || !strings.Contains(req.Detail, "more lines\n") {
		t.Errorf("detail has %d lines: %q", n, req.Detail[len(req.Detail)-60:])
	}
}

func TestChangesStopOnCancel(t *testing.T) {
	p, root := project(t)
	writeFile(t, filepath.Join(root, "a"), "x\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := get(t, p, "write").Run(ctx, tool.Call{Name: "write", Args: args("path", "b", "content", "y")})
	wantErr(t, r, "interrupted")
	r = get(t, p, "edit").Run(ctx, tool.Call{Name: "edit", Args: args("path", "a", "old_string", "x", "new_string", "y")})
	wantErr(t, r, "interrupted")
	if _, err := os.Stat(filepath.Join(root, "b")); !os.IsNotExist(err) {
		t.Error("a stopped write created its file")
	}
	if readFile(t, filepath.Join(root, "a")) != "x\n" {
		t.Error("a stopped edit changed its file")
	}
}

// TestEditHugeFileNoDiff: a file too big to diff quickly is edited, and
// the request says so instead of diffing for seconds.
func TestEditHugeFileNoDiff(t *testing.T) {
	p, root := project(t)
	big := strings.Repeat("some line of text\n", 300_000) + "needle\n" // 5.4 MB
	writeFile(t, filepath.Join(root, "big.log"), big)
	a := args("path", "big.log", "old_string", "needle", "new_string", "thread")
	req, res := approval(t, get(t, p, "edit"), a)
	if res != nil || req == nil || !strings.Contains(req.Detail, "too big to show a diff") {
		t.Fatalf("request %+v %+v", req, res)
	}
	wantOK(t, run(t, get(t, p, "edit"), a))
	if got := readFile(t, filepath.Join(root, "big.log")); !strings.HasSuffix(got, "thread\n") || len(got) != len(big) {
		t.Errorf("edit of the big file: %d bytes, tail %q", len(got), got[len(got)-10:])
	}
}
