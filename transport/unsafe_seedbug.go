//go:build spindle_unsafe

package transport

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// THIS FILE IS THE SEED BUG, ON PURPOSE. It is built only with the
// spindle_unsafe tag (go test -tags spindle_unsafe), for one test: the
// negative control of the product-level interrupt storm
// (dispatch/storm_unsafe_test.go), which must show that the storm's harness
// reports a damaged kanban.db when the bug is there. No normal build
// contains it (unsafe_seedbug_off.go takes its place, and seedBugHook stays
// nil); the T3 check (descriptor_rule_test.go) therefore leaves it out, and
// a test there shows that the check would flag it.
//
// It does what the Python agent did, in three steps through seedBugHook:
//
//  1. on a socket's first Read, the owner side caches a raw descriptor of
//     it (a dup, which models a descriptor held outside Go's reference
//     counting, as Python's socket object held its own, and keeps net's own
//     close of its descriptor from closing whatever file reuses a number);
//  2. the stranger's Abort closes that number (the interrupt handler's
//     close), so the kernel may hand it to the next open();
//  3. the owner's Finish, a little later, writes a 24-byte TLS record to
//     the number (the late TLS flush) — into whatever file has it now.

const seedBugBuilt = true

// SeedBugRecord is the late write: a TLS 1.3 application-data record header
// (17 03 03 00 13) and 19 bytes, here a marker that a harness can search
// for. 24 bytes, as in the seed bug.
var SeedBugRecord = append([]byte{0x17, 0x03, 0x03, 0x00, 0x13}, []byte("spindle-late-flush!")...)

// SeedBugStats counts what the seed bug did since EnableSeedBug.
type SeedBugStats struct {
	Cached     atomic.Int64 // descriptors cached on a socket's first read
	Closed     atomic.Int64 // cached numbers closed by a stranger's Abort
	LateWrites atomic.Int64 // late records that reached some open file
	// IntoBoard counts the late writes whose number then named kanban.db,
	// its -wal or its -shm (read from /proc/self/fd just before).
	IntoBoard atomic.Int64

	mu      sync.Mutex
	targets map[string]int // what each late write reached, by base name
}

// Targets returns how many late writes reached each kind of file: the base
// name of a regular file, or "socket", "pipe", "anon_inode:…".
func (s *SeedBugStats) Targets() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.targets))
	for k, v := range s.targets {
		out[k] = v
	}
	return out
}

func (s *SeedBugStats) String() string {
	t := s.Targets()
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, t[k]))
	}
	return fmt.Sprintf("cached=%d closed_by_stranger=%d late_writes=%d into_kanban_db=%d targets{%s}",
		s.Cached.Load(), s.Closed.Load(), s.LateWrites.Load(), s.IntoBoard.Load(), strings.Join(parts, " "))
}

// seedOwner is the seed bug's state for one owner.
type seedOwner struct {
	cached    map[*OwnedConn]int // the cached number per socket; -1 while it is being made
	closed    []int              // numbers the stranger closed, for the late write
	abortRan  bool
	abortDone chan struct{} // closed when the abort step has run
}

var seed struct {
	sync.Mutex
	once   sync.Once
	on     bool
	stats  *SeedBugStats
	owners map[*Owner]*seedOwner
}

// EnableSeedBug turns the seed bug on for every owner of the process and
// returns its counters and a function that turns it off again (owners
// caught in between still clean up their cached descriptors at Finish).
// Call it before the owners start.
func EnableSeedBug() (*SeedBugStats, func()) {
	seed.once.Do(func() { seedBugHook = seedBugStep.run })
	stats := &SeedBugStats{targets: map[string]int{}}
	seed.Lock()
	seed.on, seed.stats = true, stats
	if seed.owners == nil {
		seed.owners = map[*Owner]*seedOwner{}
	}
	seed.Unlock()
	return stats, func() {
		seed.Lock()
		seed.on = false
		seed.Unlock()
	}
}

// stateLocked returns o's state, making it; seed is locked.
func stateLocked(o *Owner) *seedOwner {
	st := seed.owners[o]
	if st == nil {
		st = &seedOwner{cached: map[*OwnedConn]int{}, abortDone: make(chan struct{})}
		seed.owners[o] = st
	}
	return st
}

func (step seedBugStep) run(o *Owner, c *OwnedConn) {
	switch step {
	case seedBugFirstRead:
		seedCache(o, c)
	case seedBugAbort:
		seedClose(o)
	case seedBugFinish:
		seedLateWrite(o)
	}
}

// seedCache is step 1: a socket's first read caches a raw descriptor.
func seedCache(o *Owner, c *OwnedConn) {
	seed.Lock()
	if !seed.on {
		seed.Unlock()
		return
	}
	st := stateLocked(o)
	if _, seen := st.cached[c]; seen || st.abortRan {
		seed.Unlock()
		return
	}
	st.cached[c] = -1
	stats := seed.stats
	seed.Unlock()

	cached := -1
	_ = c.raw.Control(func(fd uintptr) {
		// The lowest free number, as dup(2) takes, but close-on-exec so
		// that a child process does not inherit it.
		if n, err := unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0); err == nil {
			cached = n
		}
	})
	seed.Lock()
	st.cached[c] = cached
	seed.Unlock()
	if cached >= 0 {
		stats.Cached.Add(1)
	}
}

// seedClose is step 2: the stranger's Abort closes the cached numbers.
func seedClose(o *Owner) {
	seed.Lock()
	st := stateLocked(o)
	st.abortRan = true
	var nums []int
	if seed.on {
		for c, n := range st.cached {
			if n >= 0 {
				nums = append(nums, n)
				delete(st.cached, c)
			}
		}
	}
	stats := seed.stats
	seed.Unlock()
	for _, n := range nums {
		if unix.Close(n) == nil && stats != nil {
			stats.Closed.Add(1)
		}
	}
	seed.Lock()
	st.closed = append(st.closed, nums...)
	close(st.abortDone)
	seed.Unlock()
}

// seedLateWrite is step 3: on the owner's thread, a little after the
// stranger's close, the late TLS record goes to the closed numbers.
// Descriptors cached for sockets that were never aborted are simply
// closed (that is the owner's own dup, not part of the bug).
func seedLateWrite(o *Owner) {
	seed.Lock()
	st := stateLocked(o)
	seed.Unlock()
	if _, aborted := o.Aborted(); aborted {
		// Abort set the flag before it ran its step; wait for the step, so
		// the write is late, after the close.
		select {
		case <-st.abortDone:
		case <-time.After(2 * time.Second):
		}
	}
	seed.Lock()
	delete(seed.owners, o)
	closed := st.closed
	var rest []int
	for _, n := range st.cached {
		if n >= 0 {
			rest = append(rest, n)
		}
	}
	stats := seed.stats
	seed.Unlock()

	if len(closed) > 0 {
		time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
	}
	for _, n := range closed {
		target, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(n))
		if w, err := unix.Write(n, SeedBugRecord); err == nil && w > 0 && stats != nil {
			stats.LateWrites.Add(1)
			kind := target
			if kind == "" {
				kind = "(unknown)"
			}
			if strings.HasPrefix(target, "/") {
				kind = filepath.Base(target)
			} else if i := strings.IndexByte(target, '['); i > 0 {
				kind = target[:i]
			}
			stats.mu.Lock()
			stats.targets[kind]++
			stats.mu.Unlock()
			switch kind {
			case "kanban.db", "kanban.db-wal", "kanban.db-shm":
				stats.IntoBoard.Add(1)
			}
		}
	}
	for _, n := range rest {
		_ = unix.Close(n)
	}
}
