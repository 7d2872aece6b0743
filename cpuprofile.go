package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// cpuProfileEnv names the file that receives a CPU profile of the whole
// process (any subcommand, the full-screen UI included). It is how the
// benchmarks in scripts/bench-tui.sh see where the time goes.
const cpuProfileEnv = "SPINDLE_CPUPROFILE"

// startCPUProfile starts a CPU profile (runtime/pprof) into the file named
// by SPINDLE_CPUPROFILE and returns the function that stops it and flushes
// the file. execute defers that function, so it runs on every way out of
// execute: a normal quit, a command's error, and SIGTERM, which cancels
// execute's context. Only a second SIGTERM (default action) or a crash
// leaves the file unfinished.
//
// Unset or empty, nothing is started and stop does nothing. A profile that
// cannot be started does not stop the command: the reason goes to warn as
// one line and the command runs unprofiled.
func startCPUProfile(getenv func(string) string, warn io.Writer) (stop func()) {
	path := getenv(cpuProfileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(warn, "spindle: not profiling: %s: %v\n", cpuProfileEnv, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		os.Remove(path)
		fmt.Fprintf(warn, "spindle: not profiling: %s: %v\n", cpuProfileEnv, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(warn, "spindle: %s: close %s: %v\n", cpuProfileEnv, path, err)
		}
	}
}
