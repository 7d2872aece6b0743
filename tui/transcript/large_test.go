package transcript

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/store"
)

// streamed streams text into a new transcript in deltas of delta bytes,
// drawing the window after each, calls frame (if not nil) after each
// window, and ends the turn with Done carrying the whole text.
func streamed(text string, delta int, frame func()) *Transcript {
	tr := New()
	tr.Add(NewUser("go"))
	tu := StartTurn(tr)
	r := renderer(benchW)
	at := time.Now()
	for rest := text; len(rest) > 0; {
		k := min(delta, len(rest))
		tu.Apply(agent.Delta{Text: rest[:k]}, at)
		tr.Window(r, benchH)
		if frame != nil {
			frame()
		}
		rest = rest[k:]
	}
	tu.Apply(agent.Done{Text: text}, at)
	tr.Window(r, benchH)
	return tr
}

// allocated is the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// withoutCuts switches cutting replies into parts off for the duration of
// a negative control.
func withoutCuts(t *testing.T) {
	saved := partLimit
	partLimit = 1 << 40
	t.Cleanup(func() { partLimit = saved })
}

// TestLargeReplyWorkIsLinear streams a reply four times as long as another
// (256 KB and 1 MB, in 4 KB deltas, a frame after each) and compares the
// bytes allocated: linear work allocates about four times as much, work
// that copies the whole reply per delta (appending to one string) or
// re-wraps its open block per frame sixteen times as much. Allocation is
// counted, not time, so a loaded machine cannot make it flaky.
func TestLargeReplyWorkIsLinear(t *testing.T) {
	ratio := func(shape string, size int) float64 {
		small, large := largeText(shape, size), largeText(shape, 4*size)
		a := allocated(func() { streamed(small, 4<<10, nil) })
		b := allocated(func() { streamed(large, 4<<10, nil) })
		return float64(b) / float64(a)
	}
	for _, shape := range []string{"lines", "fence", "oneline"} {
		if r := ratio(shape, 256<<10); r > 6 {
			t.Errorf("%s: 4× the text allocated %.1f× the bytes: not linear", shape, r)
		}
	}
	t.Run("control", func(t *testing.T) {
		withoutCuts(t)
		if r := ratio("oneline", 96<<10); r < 8 {
			t.Fatalf("the control: with cutting off, 4× the text allocated only %.1f× the bytes; the test cannot see quadratic work", r)
		}
	})
}

// TestFrameWorkIsBounded: while a 256 KB reply streams, no frame wraps or
// renders more than a part and a delta, whatever has arrived before it, so
// keys typed meanwhile are answered within a frame.
func TestFrameWorkIsBounded(t *testing.T) {
	work := 0
	onRender = func(n int) { work += n }
	onWrap = func(n int) { work += n }
	t.Cleanup(func() { onRender, onWrap = nil, nil })
	const delta = 4 << 10
	limit := 2*partLimit + delta
	for _, shape := range []string{"markdown", "lines", "fence", "oneline"} {
		worst := 0
		work = 0
		streamed(largeText(shape, 256<<10), delta, func() {
			worst = max(worst, work)
			work = 0
		})
		if worst > limit {
			t.Errorf("%s: a frame wrapped or rendered %d bytes, over %d", shape, worst, limit)
		}
	}
	t.Run("control", func(t *testing.T) {
		withoutCuts(t)
		worst := 0
		work = 0
		streamed(largeText("oneline", 256<<10), delta, func() {
			worst = max(worst, work)
			work = 0
		})
		if worst <= limit {
			t.Fatalf("the control: with cutting off a frame did only %d bytes of work", worst)
		}
	})
}

// TestGlamourGetsAtMostAPart: a 256 KB code block, streamed or loaded, and a
// 64 KB markdown reply loaded from state.db never reach glamour in one
// piece; the oversized block is drawn as plain text.
func TestGlamourGetsAtMostAPart(t *testing.T) {
	largest := 0
	onRender = func(n int) { largest = max(largest, n) }
	t.Cleanup(func() { onRender = nil })
	check := func(name string, tr *Transcript) {
		t.Helper()
		r := renderer(benchW)
		for _, it := range tr.Items() {
			it.Lines(r)
		}
		if largest > partLimit {
			t.Errorf("%s: glamour was given %d bytes at once", name, largest)
		}
		largest = 0
	}
	fence := largeText("fence", 256<<10)
	check("streamed fence", streamed(fence, 4<<10, nil))
	check("streamed fence in one delta", streamed(fence, len(fence), nil))
	for shape, size := range map[string]int{"fence": 256 << 10, "markdown": 64 << 10} {
		tr := New()
		tr.Reset(FromMessages([]store.Message{{Role: store.RoleAssistant, Content: largeText(shape, size), Status: store.MessageComplete}}))
		check("loaded "+shape, tr)
	}
	t.Run("control", func(t *testing.T) {
		withoutCuts(t)
		largest = 0
		streamed(largeText("fence", 64<<10), 4<<10, nil)
		if largest <= 16<<10 {
			t.Fatalf("the control: with cutting off glamour still got at most %d bytes at once", largest)
		}
	})
}

// visible is every character an entry's lines show, spaces removed.
func visible(items []*Item, r Renderer) string {
	var sb strings.Builder
	for _, it := range items {
		for _, l := range it.Lines(r) {
			for _, c := range ansi.Strip(l) {
				if !unicode.IsSpace(c) {
					sb.WriteRune(c)
				}
			}
		}
	}
	return sb.String()
}

func noSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// TestPartsLoseNothing: a reply drawn as plain parts (log lines, a code
// block, a line with no break) shows every character of its text once, in
// order, whether it streamed in deltas of any size or was loaded; the
// header is shown once, on the first part.
func TestPartsLoseNothing(t *testing.T) {
	r := renderer(benchW)
	for _, shape := range []string{"lines", "fence", "oneline"} {
		text := largeText(shape, 100<<10)
		want := "assistant" + noSpace(text)
		for _, delta := range []int{1000, 4 << 10, 64 << 10} {
			tr := streamed(text, delta, nil)
			items := tr.Items()[1:]
			if len(items) < 4 {
				t.Fatalf("%s: %d entries for 100 KB: not cut into parts", shape, len(items))
			}
			if got := visible(items, r); got != want {
				t.Errorf("%s in %d-byte deltas: the parts show %d characters, want %d (first difference at %d)", shape, delta, len(got), len(want), firstDiff(got, want))
			}
		}
		loaded := FromMessages([]store.Message{{Role: store.RoleAssistant, Content: text, Status: store.MessageComplete}})
		if got := visible(loaded, r); got != want {
			t.Errorf("%s loaded: the parts show %d characters, want %d (first difference at %d)", shape, len(got), len(want), firstDiff(got, want))
		}
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestWindowAcrossParts scrolls line by line through a long reply cut into
// parts and compares each window with the same lines of the whole layout.
func TestWindowAcrossParts(t *testing.T) {
	tr := streamed(largeText("lines", 60<<10), 4<<10, nil)
	tr.Add(NewNote("after the reply"))
	r := renderer(benchW)
	var all []string
	for _, it := range tr.Items() {
		all = append(all, it.Lines(r)...)
	}
	if len(tr.Items()) < 5 || len(all) < 900 {
		t.Fatalf("%d entries, %d lines: the reply was not cut into parts", len(tr.Items()), len(all))
	}
	const h = 10
	tr.Top()
	for pos := 0; pos+h <= len(all); pos++ {
		got, _ := tr.Window(r, h)
		if strings.Join(got, "\n") != strings.Join(all[pos:pos+h], "\n") {
			t.Fatalf("window at line %d differs from the full layout", pos)
		}
		tr.Scroll(r, h, 1)
	}
}

// TestLoadLargeReplyRendersOnlyTheWindow is --continue of a session whose
// reply is 2 MB: the first window renders the parts it shows, not the
// reply; a control shows the same check trips on a reply kept whole.
func TestLoadLargeReplyRendersOnlyTheWindow(t *testing.T) {
	rendered := 0
	onRender = func(n int) { rendered += n }
	onWrap = func(n int) { rendered += n }
	t.Cleanup(func() { onRender, onWrap = nil, nil })
	for _, shape := range []string{"markdown", "lines"} {
		rendered = 0
		tr := New()
		tr.Reset(FromMessages([]store.Message{
			{Role: store.RoleUser, Content: "go"},
			{Role: store.RoleAssistant, Content: largeText(shape, 2<<20), Status: store.MessageInterrupted},
		}))
		tr.Window(renderer(benchW), benchH)
		if rendered > 3*partLimit {
			t.Errorf("%s: the first window rendered %d bytes of a 2 MB reply", shape, rendered)
		}
		if last := tr.Items()[tr.Len()-1]; last.Status() != StatusInterrupted || !strings.Contains(strings.Join(last.Lines(renderer(benchW)), ""), "interrupted") {
			t.Errorf("%s: the reply's last part does not carry its mark", shape)
		}
	}
	t.Run("control", func(t *testing.T) {
		rendered = 0
		tr := New()
		tr.Add(&Item{kind: KindAssistant, text: largeText("lines", 256<<10)})
		tr.Window(renderer(benchW), benchH)
		if rendered <= 3*partLimit {
			t.Fatalf("the control: a reply kept whole rendered only %d bytes", rendered)
		}
	})
}

// TestRendersOutOfViewAreDropped pages through 1,200 messages: the renders
// kept stay within maxHeldLines (plus the window), so scrolling a long
// history does not keep all of it rendered; the window is still right.
func TestRendersOutOfViewAreDropped(t *testing.T) {
	saved := maxHeldLines
	maxHeldLines = 300
	t.Cleanup(func() { maxHeldLines = saved })
	page := func(tr *Transcript) int {
		r := renderer(60)
		tr.Top()
		for range 2000 {
			tr.Window(r, 40)
			tr.Scroll(r, 40, 39)
			if tr.Following() {
				break
			}
		}
		held := 0
		for _, it := range tr.Items() {
			held += it.heldLines()
		}
		return held
	}
	tr := fill(1200)
	if held := page(tr); held > maxHeldLines+200 {
		t.Errorf("after paging through 1,200 messages %d rendered lines are kept, limit %d", held, maxHeldLines)
	}
	got, _ := tr.Window(renderer(60), 40)
	if !strings.Contains(ansi.Strip(strings.Join(got, "\n")), fmt.Sprintf("x := %d", 1199)) {
		t.Error("the window at the end does not show the last message")
	}
	t.Run("control", func(t *testing.T) {
		maxHeldLines = 1 << 30
		if held := page(fill(1200)); held <= 1500 {
			t.Fatalf("the control: without a limit only %d lines were kept; the test cannot see kept renders", held)
		}
	})
}
