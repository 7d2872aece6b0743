package tui

import (
	"runtime"
	"testing"
	"unsafe"

	tea "charm.land/bubbletea/v2"
)

// bytesPerOp is what f allocates on average, from the heap's running
// total: a count, not a time, so the machine's load does not change it.
func bytesPerOp(f func()) uint64 {
	const n = 50
	f()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / n
}

// TestMessagesAndFramesDoNotCopyTheModel: the root Model is large (the
// panes' text areas and key maps), and Bubble Tea handles a message and
// draws a frame many times a second while a reply streams. Neither may put
// a copy of the Model on the heap: the program runs it behind a pointer,
// and what takes its address (an overlay, a dialog's result) is kept out
// of update and screen. The controls show the measure sees such a copy:
// Update through the tea.Model interface boxes one, and a frame with an
// overlay open makes one.
func TestMessagesAndFramesDoNotCopyTheModel(t *testing.T) {
	h := newHarness(t, 120, 40)
	size := uint64(unsafe.Sizeof(h.m))
	p := &program{m: h.m}
	idle := disarmQuitMsg{id: -1} // changes nothing
	if got := bytesPerOp(func() { p.Update(idle) }); got > size/4 {
		t.Errorf("a message allocates %d bytes; the Model is %d", got, size)
	}
	frame := len(p.m.screen())
	if got := bytesPerOp(func() { p.View() }); got > size/4+uint64(frame) {
		t.Errorf("a frame of %d bytes allocates %d bytes; the Model is %d", frame, got, size)
	}

	if got := bytesPerOp(func() { _, _ = h.m.Update(idle) }); got < size {
		t.Errorf("the control: Update through the interface allocates %d bytes, less than the Model's %d", got, size)
	}
	h.key(tea.KeyPressMsg{Code: '?', Text: "?"})
	if len(h.m.overlays) == 0 {
		t.Fatal("the control: ? opened no overlay")
	}
	if got := bytesPerOp(func() { h.m.View() }); got < size {
		t.Errorf("the control: a frame with an overlay allocates %d bytes, less than the Model's %d", got, size)
	}
}
