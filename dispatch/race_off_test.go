//go:build !race

package dispatch

// raceEnabled is true in -race builds, where the storm makes fewer stops.
const raceEnabled = false
