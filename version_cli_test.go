package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestReadBuildInfo(t *testing.T) {
	stamped := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261130222622-091e495a0023+dirty"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "091e495a00239443bb939d0a3c02b28a33d0202d"},
			{Key: "vcs.modified", Value: "true"},
		}}, true
	}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name    string
		version string
		read    func() (*debug.BuildInfo, bool)
		want    string
	}{
		{"stamped", "devel", stamped,
			"spindle devel\ncommit 091e495a00239443bb939d0a3c02b28a33d0202d (modified)\ngo1.26.8 " + platform + "\n"},
		{"release", "v1.2.3", stamped,
			"spindle v1.2.3\ncommit 091e495a00239443bb939d0a3c02b28a33d0202d (modified)\ngo1.26.8 " + platform + "\n"},
		{"clean", "v1.2.3", func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{GoVersion: "go1.26.8", Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}}, true
		}, "spindle v1.2.3\ncommit abc\ngo1.26.8 " + platform + "\n"},
		{"not stamped", "devel", func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{GoVersion: "go1.26.8"}, true },
			"spindle devel\ncommit unknown (not recorded by this build)\ngo1.26.8 " + platform + "\n"},
		{"no build info", "devel", func() (*debug.BuildInfo, bool) { return nil, false },
			"spindle devel\ncommit unknown (not recorded by this build)\n" + runtime.Version() + " " + platform + "\n"},
	} {
		if got := readBuildInfo(tc.version, tc.read).String(); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// `spindle --version` and `spindle version` print the same three lines,
// the version set at build time or "devel", and work with a configuration
// file that does not load (they read none).
func TestVersionCommand(t *testing.T) {
	bin := spindleBin(t)
	release := filepath.Join(t.TempDir(), "spindle-release")
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7", "-o", release, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tmp := t.TempDir()
	cfgDir := filepath.Join(tmp, "config", "spindle")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "config.toml"), []byte("theme = 'purple'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(tmp, "config"), "XDG_STATE_HOME="+filepath.Join(tmp, "state"), "SPINDLE_HOME="+filepath.Join(tmp, "data"))
	run := func(bin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
		}
		return string(out)
	}
	for _, tc := range []struct{ bin, version string }{{bin, "devel"}, {release, "v9.8.7"}} {
		long, short, sub := run(tc.bin, "--version"), run(tc.bin, "-v"), run(tc.bin, "version")
		if long != sub || short != sub {
			t.Errorf("--version, -v and version differ:\n%q\n%q\n%q", long, short, sub)
		}
		want := readBuildInfo(tc.version, func() (*debug.BuildInfo, bool) { return nil, false })
		if lines := strings.Split(strings.TrimSuffix(sub, "\n"), "\n"); len(lines) != 3 || lines[0] != "spindle "+tc.version || lines[2] != want.GoVersion+" "+want.Platform {
			t.Errorf("version output = %q", sub)
		}
	}
	// Negative control: the same configuration does stop a command that
	// needs its settings, so the version commands above really skipped it.
	cmd := exec.Command(bin, "run", "hello")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "purple") {
		t.Errorf("negative control: a bad configuration did not stop `spindle run`: %v\n%s", err, out)
	}
}
