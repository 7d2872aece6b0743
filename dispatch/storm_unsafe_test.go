//go:build spindle_unsafe

package dispatch

import (
	"testing"
	"time"

	"github.com/spindle-sh/spindle/transport"
)

// TestInterruptStormSeesTheSeedBug is the negative control of
// TestInterruptStormThroughTheDispatcher: with the seed bug switched on in
// transport (build tag spindle_unsafe: a raw descriptor cached on a
// socket's first read, closed by the stranger's Abort, and written late
// with a 24-byte TLS record by the owner's Finish), the same harness must
// report a damaged kanban.db. The damage is probabilistic (the freed
// number must be the one the next open() of the board's files gets, and
// the late write must come while that file is open), so it runs rounds of
// storms, each ending as soon as damage is seen, until one reports it or
// the rounds run out.
//
//	go test -tags spindle_unsafe -run TestInterruptStormSeesTheSeedBug ./dispatch/
func TestInterruptStormSeesTheSeedBug(t *testing.T) {
	stats, off := transport.EnableSeedBug()
	defer off()
	const rounds = 8
	n := stormStops(t)
	detected := false
	for round := 1; round <= rounds && !detected; round++ {
		rep := runDispatchStorm(t, stormOptions{stops: n, untilDamage: true, limit: 5 * time.Minute})
		t.Logf("round %d: %s", round, rep)
		t.Logf("round %d: seed bug so far: %s", round, stats)
		for _, d := range rep.damage {
			t.Logf("round %d: damage: %s", round, d)
		}
		for i, p := range rep.problems {
			if i == 5 {
				t.Logf("round %d: … %d more problems", round, len(rep.problems)-i)
				break
			}
			t.Logf("round %d: problem: %s", round, p)
		}
		detected = len(rep.damage) > 0
	}
	if !detected {
		t.Errorf("negative control failed: the seed bug ran (%s) for %d rounds and the harness saw no damage to kanban.db", stats, rounds)
	}
}
