package shell

import (
	"bytes"
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// groupMembers lists the live (not zombie) processes whose process group is
// pgid, read from /proc. A zombie is not counted: it has exited and only
// waits for its parent (init, for an orphan) to reap it, which may never
// happen in a container whose PID 1 does not reap. Without /proc it falls
// back to kill(-pgid, 0), which counts zombies too.
func groupMembers(pgid int) []int {
	if err := unix.Kill(-pgid, 0); errors.Is(err, unix.ESRCH) {
		return nil // no member at all, not even a zombie: no need to scan
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []int{-pgid} // something is there; which, /proc cannot say
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, group, ok := procStat(pid)
		if ok && group == pgid && state != 'Z' && state != 'X' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStat reads a process's state and process group from /proc/pid/stat:
// "pid (comm) state ppid pgrp ...", where comm may hold spaces and
// parentheses, so the fields are counted from the last ')'.
func procStat(pid int) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 3 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(string(fields[2]))
	if err != nil {
		return 0, 0, false
	}
	return fields[0][0], pgrp, true
}
