//go:build !race

package transport

// raceEnabled is true in -race builds, where the storm runs fewer streams.
const raceEnabled = false
