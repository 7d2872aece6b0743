package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is spindle's version, "devel" unless a release build sets it:
//
//	go build -buildvcs=true -ldflags "-X main.version=v1.2.3"
//
// (The module version Go derives from the repository is not used: for a
// build between tags it is a pseudo-version that says less than the
// commit line does.)
var version = "devel"

// buildInfo is what `spindle version` says.
type buildInfo struct {
	Version   string // "devel" unless set at build time
	Commit    string // the VCS revision, "" when the build did not record it
	Modified  bool   // the working tree had changes
	GoVersion string // the Go that built the binary
	Platform  string // GOOS/GOARCH
}

// readBuildInfo collects buildInfo from the version variable and what the
// Go toolchain recorded (read is debug.ReadBuildInfo outside tests). The
// commit is there when the build stamped it (-buildvcs, on by default in
// a git checkout when git is installed).
func readBuildInfo(v string, read func() (*debug.BuildInfo, bool)) buildInfo {
	b := buildInfo{Version: v, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	info, ok := read()
	if !ok {
		return b
	}
	if info.GoVersion != "" {
		b.GoVersion = info.GoVersion
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the version text, three lines:
//
//	spindle devel
//	commit 1e125eb0c4a5… (modified)
//	go1.26.8 linux/amd64
func (b buildInfo) String() string {
	commit := b.Commit
	switch {
	case commit == "":
		commit = "unknown (not recorded by this build)"
	case b.Modified:
		commit += " (modified)"
	}
	return fmt.Sprintf("spindle %s\ncommit %s\n%s %s\n", b.Version, commit, b.GoVersion, b.Platform)
}

// versionCmd is `spindle version`. It also makes `spindle --version` print
// the same, by setting root's Version. Neither reads the configuration or
// opens the log, so both work whatever state those are in.
func (a *app) versionCmd(root *cobra.Command) *cobra.Command {
	text := readBuildInfo(version, debug.ReadBuildInfo).String()
	root.Version = text
	root.SetVersionTemplate("{{.Version}}")
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the commit and the Go version",
		Args:  cobra.NoArgs,
		// No setup: the root's would read the configuration first.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), text)
			return err
		},
	}
}
