package chat

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/tui/transcript"
)

var ctrlX = tea.KeyPressMsg{Code: 'x', Mod: tea.ModCtrl}

// numbered is n lines "line 1" … "line n" joined by sep.
func numbered(n int, sep string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteString(sep)
		}
		b.WriteString("line ")
		b.WriteString(countText(i))
	}
	return b.String()
}

// TestLargePasteIsSentWhole: a paste of 12,000 lines (over the text
// area's 10,000-line limit, which used to cut it silently) is held as an
// attachment: the input shows a chip saying what it holds, text typed
// before and after it keeps its place, and Enter sends every line, its CR
// line breaks turned into LF. The control pastes the same text straight
// into the text area, as the chat did before, and sees it cut.
func TestLargePasteIsSentWhole(t *testing.T) {
	paste := numbered(12000, "\r")
	want := "before " + strings.ReplaceAll(paste, "\r", "\n") + " after"

	h := newHarness(t, 100, 30)
	h.typeText("before ")
	h.send(tea.PasteMsg{Content: paste})
	h.typeText(" after")
	if n := h.m.input.LineCount(); n != 1 {
		t.Fatalf("the paste went into the text area: %d lines", n)
	}
	screen := h.screen()
	if !strings.Contains(screen, "pasted "+transcript.SizeText(len(paste))+", 12,000 lines · ctrl+x removes") {
		t.Fatalf("no chip for the paste:\n%s", screen)
	}
	if !strings.Contains(screen, "› before "+markGlyph+" after") {
		t.Fatalf("the input does not show the marker between the typed text:\n%s", screen)
	}
	h.key(enter)
	h.next()
	sent := h.ag.Sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d messages", len(sent))
	}
	if got := sent[0]; got != want {
		t.Fatalf("sent %d bytes (%d lines), want %d bytes (%d lines)", len(got), strings.Count(got, "\n")+1, len(want), strings.Count(want, "\n")+1)
	}
	if h.m.InputValue() != "" || len(h.m.pastes) != 0 || strings.Contains(h.screen(), "pasted") {
		t.Errorf("after sending, the input still holds %q and %d pastes", h.m.InputValue(), len(h.m.pastes))
	}
	if !strings.Contains(h.screen(), "more lines, "+transcript.SizeText(len(want))+" in all") {
		t.Errorf("the sent message is not shown by its head and its size:\n%s", h.screen())
	}

	t.Run("control", func(t *testing.T) {
		c := newHarness(t, 100, 30)
		c.m.input, _ = c.m.input.Update(tea.PasteMsg{Content: strings.ReplaceAll(paste, "\r", "\n")})
		if got := c.m.InputValue(); got == strings.ReplaceAll(paste, "\r", "\n") {
			t.Fatal("the control: the text area kept all 12,000 lines; the test cannot see a cut")
		}
	})
}

// TestPasteOverTheLimitIsRefused: a paste that would make the message
// larger than maxMessageBytes is not added at all, and a notice says so;
// one just under the limit is held.
func TestPasteOverTheLimitIsRefused(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.send(tea.PasteMsg{Content: strings.Repeat("x\n", maxMessageBytes/2-100)})
	if len(h.m.pastes) != 1 {
		t.Fatal("a paste under the limit was not held")
	}
	h.send(tea.PasteMsg{Content: strings.Repeat("y", 1000)})
	if len(h.m.pastes) != 1 || strings.Contains(h.m.InputValue(), "y") {
		t.Fatalf("a paste over the limit was added: %d pastes", len(h.m.pastes))
	}
	if s := h.m.Status().Notice; !strings.Contains(s, "paste refused") || !strings.Contains(s, "8.4 MB") {
		t.Errorf("notice %q", s)
	}
}

// TestCtrlXRemovesThePaste: Ctrl-X drops the latest paste and its marker;
// Backspace over a marker drops its paste too; typed text stays.
func TestCtrlXRemovesThePaste(t *testing.T) {
	h := newHarness(t, 100, 30)
	big := numbered(300, "\n")
	h.typeText("a")
	h.send(tea.PasteMsg{Content: big})
	h.send(tea.PasteMsg{Content: big})
	if len(h.m.pastes) != 2 || !strings.Contains(h.screen(), "2 pastes") {
		t.Fatalf("%d pastes held:\n%s", len(h.m.pastes), h.screen())
	}
	h.key(ctrlX)
	if len(h.m.pastes) != 1 || strings.Count(h.m.InputValue(), string(h.m.pastes[0].mark)) != 1 {
		t.Fatalf("after Ctrl-X: %d pastes, input %q", len(h.m.pastes), h.m.InputValue())
	}
	h.key(tea.KeyPressMsg{Code: tea.KeyBackspace})
	if len(h.m.pastes) != 0 || h.m.InputValue() != "a" || strings.Contains(h.screen(), "pasted") {
		t.Fatalf("after Backspace over the marker: %d pastes, input %q", len(h.m.pastes), h.m.InputValue())
	}
}

// TestQueuedPasteComesBack: a message with a paste, queued behind a
// streaming reply and taken back, returns with its paste still held.
func TestQueuedPasteComesBack(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.startTurn("first")
	h.typeText("see ")
	h.send(tea.PasteMsg{Content: numbered(500, "\n")})
	h.key(enter)
	if h.m.queued == nil || len(h.m.pastes) != 0 {
		t.Fatal("Enter while streaming did not queue the message with its paste")
	}
	h.key(tea.KeyPressMsg{Code: tea.KeyUp})
	if len(h.m.pastes) != 1 || !strings.HasPrefix(h.m.InputValue(), "see ") {
		t.Fatalf("taken back: %d pastes, input %q", len(h.m.pastes), h.m.InputValue())
	}
	h.event(0, agent.Done{Text: "reply"})
	h.key(enter)
	// The first turn's end also reads its session again: wait past that.
	for range 3 {
		if len(h.ag.Sent()) == 2 {
			break
		}
		h.next()
	}
	if sent := h.ag.Sent(); len(sent) != 2 || sent[1] != "see "+numbered(500, "\n") {
		t.Fatalf("sent %d messages", len(sent))
	}
}

// TestMarkersCannotBeForged: a marker character inside pasted text is
// removed, so it can never stand for (and send) a held paste.
func TestMarkersCannotBeForged(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.send(tea.PasteMsg{Content: numbered(300, "\n")})
	mark := string(h.m.pastes[0].mark)
	h.send(tea.PasteMsg{Content: "x" + mark + "y"})
	if strings.Count(h.m.InputValue(), mark) != 1 {
		t.Fatalf("a pasted marker was kept: input %q", h.m.InputValue())
	}
}

// TestInterruptedQueueComesBackAboveTypedText: a message queued behind a
// reply that is then interrupted comes back to the input above what the
// person typed since, each with its own paste, and nothing is sent out of
// order: the next Enter sends both, once. The control: when the reply
// completes, the queued message is sent by itself.
func TestInterruptedQueueComesBackAboveTypedText(t *testing.T) {
	first, second := numbered(400, "\n"), numbered(300, "\n")
	h := newHarness(t, 100, 30)
	h.startTurn("tell me a story")
	h.typeText("first ")
	h.send(tea.PasteMsg{Content: first})
	h.key(enter)
	h.typeText("second ")
	h.send(tea.PasteMsg{Content: second})
	if h.m.queued == nil || len(h.m.pastes) != 1 || h.m.pastes[0].mark != h.m.queued.pastes[0].mark {
		t.Fatal("setup: the two pastes should share a marker")
	}
	h.m.Interrupt()
	h.event(0, agent.Interrupted{Text: "once upon", Reason: agent.InterruptAbort})
	if h.m.queued != nil || strings.Contains(h.screen(), "queued") {
		t.Fatalf("the queued message is still queued after the interrupt:\n%s", h.screen())
	}
	if !strings.Contains(h.m.Status().Notice, "above what you typed") {
		t.Errorf("notice %q", h.m.Status().Notice)
	}
	h.key(enter)
	untilStarted(h)
	sent := h.ag.Sent()
	want := "first " + first + "\n\nsecond " + second
	if len(sent) != 2 || sent[1] != strings.TrimSpace(want) {
		t.Fatalf("sent %d messages; the last has %d bytes, want %d", len(sent), len(sent[len(sent)-1]), len(want))
	}

	control := newHarness(t, 100, 30)
	control.startTurn("tell me a story")
	control.typeText("queued")
	control.key(enter)
	control.typeText("typed")
	control.event(0, agent.Done{Text: "the end"})
	untilStarted(control)
	if sent := control.ag.Sent(); len(sent) != 2 || sent[1] != "queued" || control.m.InputValue() != "typed" {
		t.Fatalf("the control: sent %q, input %q", sent, control.m.InputValue())
	}
}

// untilStarted applies the chat's messages until a turn has started.
func untilStarted(h *harness) {
	h.t.Helper()
	for {
		if _, ok := h.next().(turnStartedMsg); ok {
			return
		}
	}
}
