package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/tui/chat"
)

// askApproval starts a turn whose model calls bash and waits for approval,
// and returns the channel the dialog's answer arrives on. The dialog is
// open but not armed yet.
func askApproval(t *testing.T, h *harness) <-chan approval.Decision {
	t.Helper()
	h.startTurn("make the proof")
	h.event(agent.ToolCall{ID: "c1", Name: "bash", Arguments: `{"command":"echo hello > proof.txt"}`})
	ev, answer := agent.NewApprovalNeeded("c1", tool.Request{Tool: "bash", Subject: "echo hello > proof.txt",
		Summary: "echo hello > proof.txt\x1b]0;pwned\a", Dir: "/tmp/project"})
	h.event(ev)
	h.until(func(msg tea.Msg) bool { _, ok := msg.(chat.ApprovalMsg); return ok })
	if h.m.pendingApprovals() != 1 || !strings.Contains(h.screen(), "Allow bash?") {
		t.Fatalf("no dialog:\n%s", h.screen())
	}
	return answer
}

func armed(h *harness) {
	h.until(func(msg tea.Msg) bool { _, ok := msg.(approvalArmMsg); return ok })
}

func approvalAnswer(t *testing.T, answer <-chan approval.Decision) (approval.Decision, bool) {
	t.Helper()
	select {
	case d := <-answer:
		return d, true
	default:
		return approval.Decision{}, false
	}
}

// TestApprovalDialogShowsTheCallSanitized: the tool, the exact command
// (escapes removed), the directory, what "always" would save, and the
// transcript line says it waits; the status bar counts it.
func TestApprovalDialogShowsTheCallSanitized(t *testing.T) {
	h := newHarness(t, 120, 40)
	askApproval(t, h)
	armed(h)
	s := h.screen()
	for _, want := range []string{"Allow bash?", "echo hello > proof.txt", "in /tmp/project", "saves bash:=echo hello > proof.txt", "y allow once"} {
		if !strings.Contains(s, want) {
			t.Errorf("dialog lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(h.m.screen(), "\x1b]0;pwned") {
		t.Error("the command's escape sequence reached the screen")
	}
	if !strings.Contains(h.statusBar(), "1 waiting for approval") {
		t.Errorf("status bar = %q", h.statusBar())
	}
}

// TestKeysTypedBeforeTheDialogOpensDoNotAnswerIt: a burst of keys (y, s,
// a, Enter) arriving before the dialog is armed answers nothing; once
// armed, y allows once. Without the arming delay the first y would have
// allowed it.
func TestKeysTypedBeforeTheDialogOpensDoNotAnswerIt(t *testing.T) {
	h := newHarness(t, 120, 40)
	answer := askApproval(t, h)
	h.typeText("ysa")
	h.key(enter)
	if d, ok := approvalAnswer(t, answer); ok {
		t.Fatalf("a key typed before the dialog was armed answered it: %+v", d)
	}
	if h.m.pendingApprovals() != 1 {
		t.Fatal("the burst closed the dialog")
	}
	armed(h)
	h.typeText("y")
	d, ok := approvalAnswer(t, answer)
	if !ok || d.Answer != approval.AllowOnce {
		t.Fatalf("y after arming: %+v %v", d, ok)
	}
	if h.m.pendingApprovals() != 0 {
		t.Error("the dialog stayed open after the answer")
	}
}

func TestApprovalAnswers(t *testing.T) {
	for _, tc := range []struct {
		keys string
		want approval.Answer
	}{
		{"y", approval.AllowOnce}, {"s", approval.AllowSession}, {"a", approval.AllowAlways}, {"n", approval.Deny},
	} {
		t.Run(tc.keys, func(t *testing.T) {
			h := newHarness(t, 120, 40)
			answer := askApproval(t, h)
			armed(h)
			h.typeText(tc.keys)
			if d, ok := approvalAnswer(t, answer); !ok || d.Answer != tc.want {
				t.Fatalf("got %+v %v, want %v", d, ok, tc.want)
			}
		})
	}
	t.Run("esc", func(t *testing.T) {
		h := newHarness(t, 120, 40)
		answer := askApproval(t, h)
		armed(h)
		h.key(esc)
		if d, ok := approvalAnswer(t, answer); !ok || d.Answer != approval.Deny {
			t.Fatalf("esc: %+v %v", d, ok)
		}
		if len(h.ag.Interrupts()) != 0 {
			t.Error("esc in the dialog interrupted the turn")
		}
	})
	t.Run("deny with a note", func(t *testing.T) {
		h := newHarness(t, 120, 40)
		answer := askApproval(t, h)
		armed(h)
		h.typeText("N")
		h.typeText("use go test instead")
		h.key(enter)
		if d, ok := approvalAnswer(t, answer); !ok || d.Answer != approval.Deny || d.Note != "use go test instead" {
			t.Fatalf("note: %+v %v", d, ok)
		}
	})
}

// TestCtrlCInTheDialogDeniesAndInterrupts: Ctrl-C answers deny and stops
// the turn, even before the dialog is armed.
func TestCtrlCInTheDialogDeniesAndInterrupts(t *testing.T) {
	h := newHarness(t, 120, 40)
	answer := askApproval(t, h)
	h.key(ctrlC)
	if d, ok := approvalAnswer(t, answer); !ok || d.Answer != approval.Deny {
		t.Fatalf("Ctrl-C: %+v %v", d, ok)
	}
	if len(h.ag.Interrupts()) != 1 || h.m.pendingApprovals() != 0 || h.m.armed {
		t.Errorf("interrupts %v, dialogs %d, armed %v", h.ag.Interrupts(), h.m.pendingApprovals(), h.m.armed)
	}
}

// TestTurnEndClosesItsDialog: when the turn ends (interrupted from
// elsewhere, the agent's timeout) its dialog goes away.
func TestTurnEndClosesItsDialog(t *testing.T) {
	h := newHarness(t, 120, 40)
	askApproval(t, h)
	h.event(agent.Interrupted{Reason: agent.InterruptAbort})
	h.until(func(msg tea.Msg) bool { _, ok := msg.(chat.TurnEndedMsg); return ok })
	if h.m.pendingApprovals() != 0 || strings.Contains(h.screen(), "Allow bash?") {
		t.Fatalf("the dialog outlived its turn:\n%s", h.screen())
	}
}
