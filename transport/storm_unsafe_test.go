package transport

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// THIS FILE IS THE SEED BUG, ON PURPOSE. It is the storm's negative control
// and lives in a _test.go file so that it can never ship; the T3 check
// (descriptor_rule_test.go) must flag it, and does.
//
// It does what the Python agent did: the request side caches the socket's
// raw descriptor number, the interrupt handler (a stranger thread) closes
// that number, and the request thread's late TLS flush writes a 24-byte TLS
// record to the number after the kernel may have handed it to the next
// open() — kanban.db's.
//
// The cached number is a dup(2) of the socket's descriptor, not the one Go's
// netFD owns: it models a descriptor held outside Go's reference counting
// (as Python's socket object held its own), and it keeps net's later close
// of its own descriptor from closing whatever file reused the number, which
// would break the harness instead of letting it measure damage.

// unsafeStats counts what the unsafe mode did.
type unsafeStats struct {
	lateWrites atomic.Int64 // late writes that reached some open file
	intoDB     atomic.Int64 // of those, writes whose number then named kanban.db
}

// unsafeStreamPlan wraps a stream plan with the seed bug's three steps.
func unsafeStreamPlan(abortAfter int, rng *rand.Rand, stats *unsafeStats) streamPlan {
	cachedFD := -1
	flushDelay := time.Duration(rng.IntN(1000)) * time.Microsecond
	return streamPlan{
		abortAfter: abortAfter,
		// Step 1, on the owner: cache the raw descriptor number.
		onChunk: func(o *Owner, chunk int) {
			if chunk != 1 {
				return
			}
			for _, c := range o.liveConns() {
				_ = c.raw.Control(func(fd uintptr) {
					cachedFD, _ = unix.Dup(int(fd))
				})
			}
		},
		// Step 2, on the stranger after its abort: close the number.
		strangerAfter: func() {
			if cachedFD >= 0 {
				_ = unix.Close(cachedFD)
			}
		},
		// Step 3, on the owner, a little later: the late TLS flush.
		ownerLate: func() {
			if cachedFD < 0 {
				return
			}
			time.Sleep(flushDelay)
			target, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(cachedFD))
			if n, err := unix.Write(cachedFD, lateRecord); err == nil && n > 0 {
				stats.lateWrites.Add(1)
				if strings.HasSuffix(target, "kanban.db") {
					stats.intoDB.Add(1)
				}
			}
		},
	}
}
