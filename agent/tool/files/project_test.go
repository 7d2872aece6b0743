package files_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spindle-sh/spindle/agent/tool/files"
)

// tree builds a project and a directory beside it ("elsewhere") with:
//
//	root/a.txt, root/sub/b.txt
//	root/in      -> sub            (relative link inside)
//	root/out     -> elsewhere      (absolute link outside)
//	root/deep    -> elsewhere/inner
//	root/secret.txt                (a file that `deep/../secret.txt` is NOT)
//	root/loop1 -> loop2 -> loop1
//	elsewhere/secret.txt, elsewhere/inner/
func tree(t *testing.T) (p *files.Project, root, elsewhere string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	elsewhere = filepath.Join(base, "elsewhere")
	mkdir(t, filepath.Join(root, "sub"))
	mkdir(t, filepath.Join(elsewhere, "inner"))
	writeFile(t, filepath.Join(root, "a.txt"), "a\n")
	writeFile(t, filepath.Join(root, "sub", "b.txt"), "b\n")
	writeFile(t, filepath.Join(root, "secret.txt"), "inside\n")
	writeFile(t, filepath.Join(elsewhere, "secret.txt"), "outside\n")
	symlink(t, "sub", filepath.Join(root, "in"))
	symlink(t, elsewhere, filepath.Join(root, "out"))
	symlink(t, filepath.Join(elsewhere, "inner"), filepath.Join(root, "deep"))
	symlink(t, "loop2", filepath.Join(root, "loop1"))
	symlink(t, "loop1", filepath.Join(root, "loop2"))
	p, err := files.NewProject(root)
	if err != nil {
		t.Fatal(err)
	}
	return p, p.Root(), elsewhere
}

func TestResolve(t *testing.T) {
	p, root, elsewhere := tree(t)
	tests := []struct {
		path   string
		abs    string // "" = root-relative want given below
		inside bool
	}{
		{"a.txt", filepath.Join(root, "a.txt"), true},
		{".", root, true},
		{"./sub/../a.txt", filepath.Join(root, "a.txt"), true},
		{"sub/new/dir/file.go", filepath.Join(root, "sub/new/dir/file.go"), true},
		{filepath.Join(root, "sub", "b.txt"), filepath.Join(root, "sub", "b.txt"), true},
		{"in/b.txt", filepath.Join(root, "sub", "b.txt"), true},
		{"in/../a.txt", filepath.Join(root, "a.txt"), true}, // in -> root/sub, so .. is root
		{"missing/../a.txt", filepath.Join(root, "a.txt"), true},
		// Outside through `..`.
		{"..", filepath.Dir(root), false},
		{"../elsewhere/secret.txt", filepath.Join(elsewhere, "secret.txt"), false},
		{"sub/../../x", filepath.Join(filepath.Dir(root), "x"), false},
		{"/etc/passwd", "/etc/passwd", false},
		// Outside through a symlink, existing and not yet existing.
		{"out/secret.txt", filepath.Join(elsewhere, "secret.txt"), false},
		{"out/new/file.txt", filepath.Join(elsewhere, "new/file.txt"), false},
		{"out", elsewhere, false},
		// The kernel resolves deep/.. as the parent of deep's target, so
		// this is elsewhere/secret.txt, although the string looks like
		// root/secret.txt.
		{"deep/../secret.txt", filepath.Join(elsewhere, "secret.txt"), false},
		{"missing/../out/secret.txt", filepath.Join(elsewhere, "secret.txt"), false},
	}
	for _, tt := range tests {
		abs, inside, err := p.Resolve(tt.path)
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.path, err)
			continue
		}
		if abs != tt.abs || inside != tt.inside {
			t.Errorf("Resolve(%q) = %q, inside=%v; want %q, inside=%v", tt.path, abs, inside, tt.abs, tt.inside)
		}
	}

	// The resolved path is what the kernel opens: reading it gives the
	// same bytes as opening the original path.
	for _, path := range []string{"deep/../secret.txt", "out/secret.txt", "in/../a.txt"} {
		abs, _, _ := p.Resolve(path)
		viaKernel, err1 := os.ReadFile(root + "/" + path) // not Join: it cleans
		viaResolve, err2 := os.ReadFile(abs)
		if err1 != nil || err2 != nil || string(viaKernel) != string(viaResolve) {
			t.Errorf("%s: kernel read %q (%v), resolved read %q (%v)", path, viaKernel, err1, viaResolve, err2)
		}
	}
}

// TestResolveNegativeControl shows that the symlink cases above are the
// ones a lexical check gets wrong: filepath.Join cleans `deep/..` away and
// judges the path inside, while the kernel reads the file outside.
func TestResolveNegativeControl(t *testing.T) {
	p, root, _ := tree(t)
	lexical := filepath.Join(root, "deep/../secret.txt")
	if !strings.HasPrefix(lexical, root+string(filepath.Separator)) {
		t.Fatalf("lexical join %q is not under the root; the control proves nothing", lexical)
	}
	viaKernel, err := os.ReadFile(root + "/deep/../secret.txt")
	if err != nil || string(viaKernel) != "outside\n" {
		t.Fatalf("the kernel read %q, %v; want the outside file", viaKernel, err)
	}
	if _, inside, _ := p.Resolve("deep/../secret.txt"); inside {
		t.Error("Resolve judged deep/../secret.txt inside")
	}
}

func TestResolveErrors(t *testing.T) {
	p, _, _ := tree(t)
	for _, path := range []string{"", "loop1", "loop1/x", "a.txt/x", "a\x00b"} {
		if abs, _, err := p.Resolve(path); err == nil {
			t.Errorf("Resolve(%q) = %q, want an error", path, abs)
		}
	}
}

func TestNewProject(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	mkdir(t, real)
	symlink(t, real, filepath.Join(dir, "link"))
	p, err := files.NewProject(filepath.Join(dir, "link"))
	if err != nil {
		t.Fatal(err)
	}
	realResolved, _ := filepath.EvalSymlinks(real)
	if p.Root() != realResolved {
		t.Errorf("Root() = %q, want the resolved %q", p.Root(), realResolved)
	}
	// A path given through the link is inside.
	if _, inside, err := p.Resolve(filepath.Join(dir, "link", "x")); err != nil || !inside {
		t.Errorf("path through the root's link: inside=%v, %v", inside, err)
	}
	writeFile(t, filepath.Join(dir, "file"), "")
	for _, bad := range []string{filepath.Join(dir, "missing"), filepath.Join(dir, "file")} {
		if _, err := files.NewProject(bad); err == nil {
			t.Errorf("NewProject(%q) succeeded", bad)
		}
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	mkdir(t, filepath.Dir(path))
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
