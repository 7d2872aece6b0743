package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/tui/cell"
	"github.com/spindle-sh/spindle/tui/chat"
)

// approvalArmDelay is how long the dialog ignores keys after it opens:
// keys typed just before it appeared (the end of a sentence, a burst of
// Enter and y) must never answer it.
const approvalArmDelay = 500 * time.Millisecond

// approvalOverlay asks the person whether a tool call may run: the tool,
// the exact command or the diff (sanitized, scrollable), the directory,
// and what "always" would save. Ctrl-C denies and interrupts the turn.
type approvalOverlay struct {
	id      int // tells its arming tick from another dialog's
	turn    int
	session int64
	ev      agent.ApprovalNeeded
	armed   bool
	scroll  int
	noting  bool // typing a note to go with a denial
	note    textinput.Model
	always  string // the rule "always" saves, or why it cannot
	// card is the card of a worker's request (0 for the chat's);
	// onInterrupt is what Ctrl-C in the dialog stops (nil: the chat's
	// turn of session).
	card        int64
	onInterrupt func(m *Model)
}

// approvalArmMsg arms the dialog it names.
type approvalArmMsg struct{ id int }

// openApproval pushes the dialog for a turn's tool call.
func (m *Model) openApproval(msg chat.ApprovalMsg) tea.Cmd {
	m.approvalSeq++
	o := &approvalOverlay{id: m.approvalSeq, turn: msg.Turn, session: msg.Session, ev: msg.Event, note: textinput.New()}
	o.note.Prompt = "note for the model: "
	o.note.Placeholder = "why not, or what to do instead"
	st := o.note.Styles()
	st.Focused.Prompt = m.st.Key
	st.Focused.Text = m.st.Body
	st.Cursor.Blink = false
	o.note.SetStyles(st)
	if rules, err := approval.AlwaysRules(msg.Event.Request); err != nil {
		o.always = "cannot be saved as a rule: " + err.Error()
	} else {
		o.always = "saves " + strings.Join(rules, ", ")
	}
	m.push(o)
	id := o.id
	return tea.Tick(approvalArmDelay, func(time.Time) tea.Msg { return approvalArmMsg{id: id} })
}

// answer gives the decision to the waiting turn.
func (o *approvalOverlay) answer(a approval.Answer, note string) {
	o.ev.Answer(approval.Decision{Answer: a, Note: note})
}

func (o *approvalOverlay) update(m *Model, msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := m.keys.Approval
	if o.noting {
		switch {
		case msg.Code == tea.KeyEnter:
			o.answer(approval.Deny, strings.TrimSpace(o.note.Value()))
			return nil, true
		case msg.Code == tea.KeyEscape:
			o.noting = false
			o.note.Blur()
			return nil, false
		}
		var cmd tea.Cmd
		o.note, cmd = o.note.Update(msg)
		return cmd, false
	}
	switch {
	case key.Matches(msg, listUp):
		o.scroll--
		return nil, false
	case key.Matches(msg, listDown):
		o.scroll++
		return nil, false
	case key.Matches(msg, listPageUp):
		o.scroll -= 10
		return nil, false
	case key.Matches(msg, listPageDown):
		o.scroll += 10
		return nil, false
	}
	if !o.armed {
		// Typed before the person could have read the dialog.
		return nil, false
	}
	switch {
	case key.Matches(msg, k.Once):
		o.answer(approval.AllowOnce, "")
	case key.Matches(msg, k.Session):
		o.answer(approval.AllowSession, "")
	case key.Matches(msg, k.Always):
		o.answer(approval.AllowAlways, "")
	case key.Matches(msg, k.Deny):
		o.answer(approval.Deny, "")
	case key.Matches(msg, k.DenyNote):
		o.noting = true
		return o.note.Focus(), false
	default:
		return nil, false
	}
	return nil, true
}

// interrupt is Ctrl-C in the dialog: deny, and stop the turn.
func (o *approvalOverlay) interrupt(m *Model) tea.Cmd {
	o.answer(approval.Deny, "the person interrupted the turn")
	if o.onInterrupt != nil {
		o.onInterrupt(m)
		return nil
	}
	m.chat.InterruptSession(o.session)
	return nil
}

func (o *approvalOverlay) lines(m *Model, w, h int) []string {
	st := m.st
	req := o.ev.Request
	title := fmt.Sprintf("Allow %s?", sanitize.Line(req.Tool))
	if o.card != 0 {
		title = fmt.Sprintf("Card #%d's worker asks: allow %s?", o.card, sanitize.Line(req.Tool))
	}
	if req.Outside {
		title += "  (outside the project)"
	}
	k := m.keys.Approval
	stops := "ctrl+c denies and stops the turn"
	always := sanitize.Line(o.always) + " · " + stops

	// Under the title, everything the person approves scrolls: the exact
	// command, the directory and the diff are wrapped at the width, never
	// cut; so is what "always" saves when it does not fit the line above
	// the answers.
	var body []string
	body = append(body, wrapExact(st.Body, sanitize.Line(req.Summary), w)...)
	body = append(body, wrapExact(st.Muted, "in "+sanitize.Line(req.Dir), w)...)
	if cell.Width(always) > w {
		body = append(body, wrapExact(st.Muted, sanitize.Line(o.always), w)...)
		always = stops
	}
	body = append(body, "")
	if req.Detail != "" {
		for _, l := range strings.Split(sanitize.String(strings.TrimRight(req.Detail, "\n")), "\n") {
			style := st.Body
			switch {
			case strings.HasPrefix(l, "+") && !strings.HasPrefix(l, "+++"):
				style = st.StatusState.UnsetBackground()
			case strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "---"):
				style = st.StatusError.UnsetBackground().UnsetBold()
			case strings.HasPrefix(l, "@@"):
				style = st.Key
			}
			body = append(body, wrapExact(style, strings.ReplaceAll(l, "\t", "    "), w)...)
		}
	}
	var foot []string
	switch {
	case o.noting:
		o.note.SetWidth(max(w-len(o.note.Prompt)-2, 1))
		foot = append(foot, o.note.View(), st.Muted.Render("enter denies with this note · esc goes back"))
	case !o.armed:
		foot = append(foot, st.Muted.Render("…"))
	default:
		// The answers wrap rather than lose the last ones at the edge.
		var hints []string
		for _, b := range []key.Binding{k.Once, k.Session, k.Always, k.Deny, k.DenyNote} {
			hints = append(hints, st.Key.Render(b.Help().Key)+" "+st.Body.Render(b.Help().Desc))
		}
		foot = append(foot, packHints(hints, "   ", w)...)
		foot = append(foot, st.Muted.Render(always))
	}
	rows := max(h-1-len(foot)-1, 0)
	o.scroll = clampInt(o.scroll, 0, max(len(body)-rows, 0))
	out := []string{st.HelpTitle.Render(title)}
	shown := body[o.scroll:]
	if len(shown) > rows {
		shown = shown[:rows]
	}
	out = append(out, shown...)
	for len(out) < h-len(foot)-1 {
		out = append(out, "")
	}
	if more := len(body) - o.scroll - rows; more > 0 {
		out = append(out, st.Muted.Render(fmt.Sprintf("↓ %d more lines (↑/↓ scroll)", more)))
	} else {
		out = append(out, "")
	}
	out = append(out, foot...)
	return cell.Fit(out, w, h)
}

// wrapExact breaks text into lines of w cells, keeping every character
// (spaces included: a command is shown exactly as it would run), and
// styles each line.
func wrapExact(style lipgloss.Style, text string, w int) []string {
	if text == "" {
		return []string{""}
	}
	lines := strings.Split(ansi.Hardwrap(text, max(w, 1), true), "\n")
	for i, l := range lines {
		lines[i] = style.Render(l)
	}
	return lines
}

// packHints puts the styled hints on as few lines of w cells as they fit,
// sep between them on a line; a hint wider than w gets a line of its own.
func packHints(hints []string, sep string, w int) []string {
	var out []string
	line := ""
	for _, h := range hints {
		switch {
		case line == "":
			line = h
		case cell.Width(line)+cell.Width(sep)+cell.Width(h) <= w:
			line += sep + h
		default:
			out = append(out, line)
			line = h
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// pendingApprovals counts the chat's dialogs waiting for an answer (a
// worker's are counted with the workers).
func (m *Model) pendingApprovals() int {
	n := 0
	for _, o := range m.overlays {
		if a, ok := o.(*approvalOverlay); ok && a.card == 0 {
			n++
		}
	}
	return n
}

// dropApprovals closes the dialogs of a turn that ended.
func (m *Model) dropApprovals(turn int) {
	kept := m.overlays[:0]
	for _, o := range m.overlays {
		if a, ok := o.(*approvalOverlay); ok && a.turn == turn {
			continue
		}
		kept = append(kept, o)
	}
	m.overlays = kept
}

// armApproval arms the dialog a tick names.
func (m *Model) armApproval(id int) {
	for _, o := range m.overlays {
		if a, ok := o.(*approvalOverlay); ok && a.id == id {
			a.armed = true
		}
	}
}
