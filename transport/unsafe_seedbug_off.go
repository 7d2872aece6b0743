//go:build !spindle_unsafe

package transport

// seedBugBuilt is false in every normal build: the seed bug's hook sites
// compile to nothing, and nothing can set seedBugHook. The spindle_unsafe
// build tag swaps in unsafe_seedbug.go, the storm's negative control.
const seedBugBuilt = false
