package chat

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/markdown"
)

// answerWithCode is a reply as the model streams it: a heading, a list and
// a fenced Go block.
const answerWithCode = "## Reading a stream\n\nA client reads one event at a time:\n\n" +
	"- append each delta\n- flush often\n\n" +
	"```go\nfunc read(r io.Reader) error {\n\tsc := bufio.NewScanner(r)\n\tfor sc.Scan() {\n\t\tfmt.Println(sc.Text())\n\t}\n\treturn sc.Err()\n}\n```\n\n" +
	"That is all it takes.\n"

// TestTurnsInTwoSessionsStreamAtOnce: a turn left running in session A
// keeps streaming into A's transcript while the person works in session
// B; B's own turn runs at the same time; coming back to A shows its live
// transcript, with everything that arrived meanwhile.
func TestTurnsInTwoSessionsStreamAtOnce(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.startTurn("question for A")
	a := h.m.Session().ID
	h.event(a, agent.Delta{Text: "A's first words"})

	h.m.NewSession()
	h.startTurn("question for B")
	b := h.m.Session().ID
	if a == 0 || b == 0 || a == b {
		t.Fatalf("sessions a=%d b=%d", a, b)
	}
	if h.m.Running() != 2 || !h.m.Streaming() {
		t.Fatalf("running %d, visible streaming %v", h.m.Running(), h.m.Streaming())
	}
	// Events of A arrive while B is on screen: they go to A's transcript,
	// not to B's.
	h.event(a, agent.Delta{Text: " and more of A"})
	h.event(b, agent.Delta{Text: "B answers"})
	if s := h.screen(); strings.Contains(s, "A's first") || !strings.Contains(s, "B answers") {
		t.Fatalf("B's screen:\n%s", s)
	}
	// Ctrl-C (the root calls Interrupt) stops the visible session's turn
	// only.
	if !h.m.Interrupt() {
		t.Fatal("Interrupt found no visible turn")
	}
	if got := h.ag.Interrupts(); len(got) != 1 || got[0] != b {
		t.Fatalf("interrupted %v, want only B (%d)", got, b)
	}
	h.event(b, agent.Interrupted{Text: "B answers", Reason: agent.InterruptAbort})
	if h.m.Running() != 1 || h.m.Streaming() {
		t.Fatalf("after B ended: running %d, streaming %v", h.m.Running(), h.m.Streaming())
	}
	cmd := h.m.Resume(a)
	h.pump.Run(cmd)
	if s := h.screen(); !strings.Contains(s, "A's first words and more of A") || !h.m.Streaming() {
		t.Fatalf("back in A, the live transcript is not shown:\n%s", s)
	}
	h.event(a, agent.Done{Text: "A's first words and more of A, done."})
	if s := h.screen(); !strings.Contains(s, "done.") || h.m.Running() != 0 {
		t.Fatalf("A's end:\n%s", s)
	}
}

// TestStaleEventsAreDropped: an event of a turn that is no longer running
// (its id unknown) changes nothing; a negative control shows the same event
// with the right id does.
func TestStaleEventsAreDropped(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.startTurn("q")
	id := h.m.turnSeq
	h.send(turnEventMsg{turn: id + 7, event: agent.Delta{Text: "from nowhere"}, at: time.Now()})
	if strings.Contains(h.screen(), "from nowhere") {
		t.Fatal("an unknown turn's event was applied")
	}
	h.send(turnEventMsg{turn: id, event: agent.Delta{Text: "from the turn"}, at: time.Now()})
	if !strings.Contains(h.screen(), "from the turn") {
		t.Fatal("the control: the running turn's event was not applied")
	}
	h.send(turnEventMsg{turn: id, event: agent.Done{Text: "from the turn"}, at: time.Now()})
	h.send(turnEventMsg{turn: id, event: agent.Delta{Text: " late"}, at: time.Now()})
	if strings.Contains(h.screen(), "late") {
		t.Fatal("an event after the turn ended was applied")
	}
}

// TestStreamingRendersEachBlockOnce streams a reply in small deltas with a
// frame after each and counts glamour calls: one per closed block while
// streaming, however many frames, then none for frames of the finished
// history. Re-rendering the open message every frame (the unusable
// strategy in the design notes) would make one call per frame.
func TestStreamingRendersEachBlockOnce(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.startTurn("stream")
	start := h.m.md.Renders()
	frames := 0
	for rest := answerWithCode; len(rest) > 0; frames++ {
		k := min(8, len(rest))
		h.event(0, agent.Delta{Text: rest[:k]})
		rest = rest[k:]
		_ = h.m.View()
	}
	var sc markdown.BlockScanner
	sc.Scan(answerWithCode)
	blocks := len(sc.Ends)
	if got := h.m.md.Renders() - start; got != blocks {
		t.Errorf("%d glamour calls over %d frames, want one per closed block (%d)", got, frames, blocks)
	}
	if frames < 3*blocks {
		t.Fatalf("only %d frames for %d blocks: the test cannot tell the strategies apart", frames, blocks)
	}
	h.event(0, agent.Done{Text: answerWithCode})
	_ = h.m.View()
	done := h.m.md.Renders()
	for range 10 {
		_ = h.m.View()
	}
	if h.m.md.Renders() != done {
		t.Errorf("frames of a finished history called glamour %d times", h.m.md.Renders()-done)
	}
}

// TestFrameTouchesOnlyVisibleMessages shows 10,000 messages and checks
// that drawing frames (following the end, after PgUp, after Home) rendered
// only messages near the window: the rest have no cached render at all.
func TestFrameTouchesOnlyVisibleMessages(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.seed(10000)
	rendered := func() int {
		n := 0
		for _, it := range h.m.view.Items() {
			if it.Rendered() {
				n++
			}
		}
		return n
	}
	_ = h.m.View()
	h.key(tea.KeyPressMsg{Code: tea.KeyPgUp})
	_ = h.m.View()
	h.key(tea.KeyPressMsg{Code: tea.KeyHome})
	_ = h.m.View()
	// Three windows of 40 rows; a message takes at least 3 rows.
	if n := rendered(); n == 0 || n > 3*40 {
		t.Errorf("%d of 10,000 messages rendered for three frames", n)
	}
}

// TestNoTickerWhenIdle: a spinner tick arriving after the last turn ended
// is dropped (nothing re-arms it), and the input draws the terminal's own
// cursor, so an idle pane runs no timer.
func TestNoTickerWhenIdle(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.startTurn("hi")
	tick := h.m.spinner.Tick().(spinner.TickMsg)
	var cmd tea.Cmd
	if _, cmd = h.m.Update(tick); cmd == nil {
		t.Fatal("the control: a tick while a turn runs did not re-arm the spinner")
	}
	h.event(0, agent.Done{Text: "ok"})
	if _, cmd = h.m.Update(tick); cmd != nil {
		t.Error("spinner re-armed while idle")
	}
	if h.m.input.VirtualCursor() {
		t.Error("the input uses a virtual (blinking, ticking) cursor")
	}
}

// TestPasteKeepsLineBreaks: terminals send a pasted line break as CR; the
// three lines stay three lines in the input, and a pasted end-of-paste
// sequence inside the text is removed, not obeyed.
func TestPasteKeepsLineBreaks(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.send(tea.PasteMsg{Content: "first\rsecond\r\nthird\x1b[201~ tail"})
	if got := h.m.InputValue(); got != "first\nsecond\nthird tail" {
		t.Fatalf("input after paste = %q", got)
	}
	if !strings.Contains(h.screen(), "› first") {
		t.Errorf("the input does not show the paste from its first line:\n%s", h.screen())
	}
}

// TestPasteTailIsNotSent: a terminal that does not filter pasted text lets
// a literal end-of-paste sequence end the paste early; the rest arrives as
// key presses in the same read, its line break as Enter. That Enter is a
// line break, not a send: nothing goes to the model until the person
// presses Enter later. The control sends the same keys at a person's pace,
// and the Enter sends.
func TestPasteTailIsNotSent(t *testing.T) {
	burst := func(h *harness) {
		h.send(tea.PasteMsg{Content: "rm -rf build"})
		h.typeText(" && make")
		h.key(enter)
		h.typeText("make test")
		h.send(tea.PasteEndMsg{})
	}
	h := newHarness(t, 100, 30)
	h.pace = time.Millisecond
	burst(h)
	if sent := h.ag.Sent(); len(sent) != 0 {
		t.Fatalf("the paste's tail was sent: %q", sent)
	}
	if got := h.m.InputValue(); got != "rm -rf build && make\nmake test" {
		t.Fatalf("input after the paste's tail = %q", got)
	}
	h.pace = time.Second
	h.key(enter)
	h.next()
	if sent := h.ag.Sent(); len(sent) != 1 || sent[0] != "rm -rf build && make\nmake test" {
		t.Fatalf("Enter after the paste sent %q", sent)
	}

	control := newHarness(t, 100, 30)
	burst(control)
	untilStarted(control)
	if sent := control.ag.Sent(); len(sent) != 1 || sent[0] != "rm -rf build && make" {
		t.Fatalf("the control: Enter at a person's pace after a paste sent %q", sent)
	}
}

// TestNoticeGoesWithItsTurn: a notice about the running turn ("a message
// is already queued") goes when the turn ends; a notice about something
// else stays. The control is the same notice while the turn still runs.
func TestNoticeGoesWithItsTurn(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.startTurn("first")
	h.typeText("second")
	h.key(enter)
	h.typeText("third")
	h.key(enter)
	if !strings.Contains(h.m.Status().Notice, "already queued") {
		t.Fatalf("the control: no notice for a second queued message: %q", h.m.Status().Notice)
	}
	h.event(0, agent.Delta{Text: "still going"})
	if !strings.Contains(h.m.Status().Notice, "already queued") {
		t.Fatalf("the notice went while its turn still runs: %q", h.m.Status().Notice)
	}
	h.event(0, agent.Done{Text: "still going"})
	if n := h.m.Status().Notice; n != "" {
		t.Fatalf("the notice outlived its turn: %q", n)
	}

	other := newHarness(t, 100, 30)
	other.startTurn("first")
	other.m.SetNotice("copied 3 characters")
	other.event(0, agent.Done{Text: "ok"})
	if n := other.m.Status().Notice; n != "copied 3 characters" {
		t.Fatalf("a notice about something else went with the turn: %q", n)
	}
}

// TestUnqueueTakesTheMessageBack: the key map's unqueue key, with an empty
// input, brings a queued message back to edit; it is then not sent.
func TestUnqueueTakesTheMessageBack(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.startTurn("first")
	h.typeText("second")
	h.key(enter)
	if h.m.queued == nil || !strings.Contains(h.screen(), "queued") {
		t.Fatal("Enter while streaming did not queue")
	}
	h.key(tea.KeyPressMsg{Code: tea.KeyUp})
	if h.m.queued != nil || h.m.InputValue() != "second" || strings.Contains(h.screen(), "queued") {
		t.Fatalf("unqueue: queued %v, input %q", h.m.queued != nil, h.m.InputValue())
	}
	h.event(0, agent.Done{Text: "reply"})
	if sent := h.ag.Sent(); len(sent) != 1 {
		t.Errorf("sent %v: the taken-back message was sent", sent)
	}
}

// TestSlashTextGoesToTheRoot: a line starting with / is not sent to the
// model; the root gets it as a CommandMsg.
func TestSlashTextGoesToTheRoot(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.typeText("/model  gpt-x ")
	h.key(enter)
	msg := h.next()
	if c, ok := msg.(CommandMsg); !ok || c.Name != "/model" || c.Arg != "gpt-x" {
		t.Fatalf("got %#v", msg)
	}
	if len(h.ag.Sent()) != 0 || h.m.InputValue() != "" {
		t.Errorf("sent %v, input %q", h.ag.Sent(), h.m.InputValue())
	}
}

// TestUnsavedMessageComesBackToTheInput: when the message cannot be saved
// (state.db on a full disk refuses the write), the turn fails and the text
// is back in the input, not lost.
func TestUnsavedMessageComesBackToTheInput(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.ag.SendErr = errors.New("agent: send: save message: database or disk is full")
	h.typeText("a long question I typed carefully")
	h.key(enter)
	for {
		if _, ok := h.next().(turnFailedMsg); ok {
			break
		}
	}
	if got := h.m.InputValue(); got != "a long question I typed carefully" {
		t.Fatalf("input after a failed send = %q", got)
	}
	if !strings.Contains(h.m.Status().Err, "disk is full") {
		t.Errorf("status = %+v", h.m.Status())
	}
}

// TestDragSelectsTranscriptText: pressing in the transcript and dragging
// selects what is shown, styles removed, cut at the first and last cells;
// the selection is drawn reversed while it is made; a click without a drag
// selects nothing.
func TestDragSelectsTranscriptText(t *testing.T) {
	h := newHarness(t, 60, 20)
	h.startTurn("first line of the question")
	h.event(0, agent.Done{Text: "The answer, in plain words."})
	lines := strings.Split(h.screen(), "\n")
	row := -1
	for i, l := range lines {
		if strings.Contains(l, "first line of the question") {
			row = i
		}
	}
	if row < 0 {
		t.Fatalf("the question is not on screen:\n%s", h.screen())
	}
	if !h.m.StartSelection(6, row) {
		t.Fatal("a press in the transcript did not start a selection")
	}
	h.m.ExtendSelection(9, row)
	if plain := h.m.View(); !strings.Contains(plain, "\x1b[7m") {
		t.Error("the selection is not drawn")
	}
	if got := h.m.EndSelection(); got != "line" {
		t.Errorf("selected %q, want %q", got, "line")
	}
	h.m.StartSelection(3, row)
	if got := h.m.EndSelection(); got != "" {
		t.Errorf("a click selected %q", got)
	}
	if h.m.StartSelection(0, 19) {
		t.Error("a press on the input started a selection")
	}
}

// TestWorkerSessionIsNotContinuedFromTheChat: a worker's session, opened
// from the session browser, is the record of its run of a card: a message
// typed there is not added to it (the text stays, with a notice). The
// control: a session of spindle run is continued as any chat.
func TestWorkerSessionIsNotContinuedFromTheChat(t *testing.T) {
	for _, kind := range []store.SessionKind{store.SessionWorker, store.SessionRun} {
		h := newHarness(t, 100, 30)
		s, err := h.state.StartSession(context.Background(), store.NewSession{Title: "a run", Kind: kind, CardID: 7})
		if err != nil {
			t.Fatal(err)
		}
		h.m.session = s
		h.typeText("and now?")
		h.key(enter)
		if kind == store.SessionWorker {
			if len(h.ag.Sent()) != 0 || h.m.InputValue() != "and now?" || !strings.Contains(h.m.Status().Notice, "card #7's worker session") {
				t.Fatalf("worker session: sent %q, input %q, notice %q", h.ag.Sent(), h.m.InputValue(), h.m.Status().Notice)
			}
			continue
		}
		untilStarted(h)
		if sent := h.ag.Sent(); len(sent) != 1 {
			t.Fatalf("the control: a run session was not continued: %q", sent)
		}
	}
}
