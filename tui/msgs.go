package tui

// The root model's own messages; the panes have theirs.

// disarmQuitMsg ends the "press Ctrl-C again to quit" window it belongs to.
type disarmQuitMsg struct{ id int }

// InterruptMsg is a request to interrupt, from a SIGINT (see Filter); it
// takes the same path as Ctrl-C.
type InterruptMsg struct{}

// ShutdownMsg asks the program to quit, interrupting running streams first
// (sent when the process is told to terminate).
type ShutdownMsg struct{}

// forceQuitMsg quits even though interrupted turns have not ended.
type forceQuitMsg struct{}

// partsOpenedMsg carries the result of RunOptions.Open.
type partsOpenedMsg struct {
	parts Parts
	err   error
}
