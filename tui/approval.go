package tui

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
// the exact command or the diff (scrollable), the directory, and what
// "always" would save. Ctrl-C denies and interrupts the turn.
//
// What runs is shown exactly: a command of several lines is shown as
// several numbered lines under a "N lines" mark (never folded onto one
// line, where "echo safe\ntouch /tmp/x" read as one harmless echo);
// control characters, invisible format characters and unusual spaces
// are drawn as visible symbols (␛, ␍, ⟨U+202E⟩) rather than removed, so
// that no character of the command is hidden and none acts on the
// terminal; trailing white space is marked.
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

	// The body drawn for a width and styles, kept while they last: a
	// command or diff is laid out once, not at every frame. alwaysInBody
	// says the rule "always" saves did not fit above the answers and is
	// at the body's end instead.
	bodyW        int
	bodySt       *Styles
	body         []string
	alwaysInBody bool
	// lineCount is how many lines the summary (the command) has.
	lineCount int
}

// approvalStops is the hint under the answers.
const approvalStops = "ctrl+c denies and stops the turn"

// approvalArmMsg arms the dialog it names.
type approvalArmMsg struct{ id int }

// openApproval pushes the dialog for a turn's tool call.
func (m *Model) openApproval(msg chat.ApprovalMsg) tea.Cmd {
	m.approvalSeq++
	o := &approvalOverlay{id: m.approvalSeq, turn: msg.Turn, session: msg.Session, ev: msg.Event, note: textinput.New(),
		lineCount: strings.Count(msg.Event.Request.Summary, "\n") + 1}
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
	if msg.Event.RulesError != "" && m.rules != nil {
		m.rules.UntoldLoadError() // the dialog tells it
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

// paste goes into the denial's note while it is typed, and is ignored
// otherwise: a paste never answers the dialog.
func (o *approvalOverlay) paste(m *Model, msg tea.PasteMsg) tea.Cmd {
	if !o.noting {
		return nil
	}
	var cmd tea.Cmd
	o.note, cmd = o.note.Update(msg)
	return cmd
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
	title = st.HelpTitle.Render(title)
	if o.lineCount > 1 {
		// Where the person looks first: this is not one line.
		title += "  " + st.StatusWarn.Render(fmt.Sprintf(" %d lines ", o.lineCount))
	}
	k := m.keys.Approval
	if o.bodyW != w || o.bodySt != st || o.body == nil {
		o.body, o.alwaysInBody = o.drawBody(st, w)
		o.bodyW, o.bodySt = w, st
	}
	body := o.body
	always := approvalStops
	if !o.alwaysInBody {
		always = shownOneLine(o.always) + " · " + approvalStops
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
	out := []string{title}
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

// drawBody lays out what the dialog scrolls at width w: a rules-file
// error, the summary (the exact command), the directory, the detail (a
// diff or new content), and what "always" saves when it does not fit the
// line above the answers (alwaysInBody). Everything the person approves
// is wrapped at the width, never cut.
func (o *approvalOverlay) drawBody(st *Styles, w int) (body []string, alwaysInBody bool) {
	req := o.ev.Request
	if o.ev.RulesError != "" {
		body = append(body, wrapExact(st.StatusError.UnsetBackground(),
			"The project's rules file does not load, so its last good rules are in force: "+shownOneLine(o.ev.RulesError), w)...)
		body = append(body, "")
	}
	body = append(body, exactCommandLines(st, st.Body, req.Summary, w)...)
	body = append(body, wrapExact(st.Muted, "in "+shownOneLine(req.Dir), w)...)
	body = append(body, "")
	if req.Detail != "" {
		for _, l := range strings.Split(strings.TrimRight(req.Detail, "\n"), "\n") {
			style := st.Body
			switch {
			case strings.HasPrefix(l, "+") && !strings.HasPrefix(l, "+++"):
				style = st.StatusState.UnsetBackground()
			case strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "---"):
				style = st.StatusError.UnsetBackground().UnsetBold()
			case strings.HasPrefix(l, "@@"):
				style = st.Key
			}
			body = append(body, drawRows(wrapPieces(shownPieces(l, false), w), style, st.StatusWarn)...)
		}
	}
	if alwaysText := shownOneLine(o.always); cell.Width(alwaysText+" · "+approvalStops) > w {
		body = append(body, wrapExact(st.Muted, alwaysText, w)...)
		alwaysInBody = true
	}
	return body, alwaysInBody
}

// exactCommandLines draws text (a command) at width w, every character of
// it: one line, wrapped; or several, each numbered in a gutter and
// wrapped under its number, so that a wrapped line never looks like two
// and two lines never look like one.
func exactCommandLines(st *Styles, style lipgloss.Style, text string, w int) []string {
	// Split at line feeds only, which is where the shell starts a new
	// line (a carriage return does not).
	lines := strings.Split(text, "\n")
	if len(lines) == 1 {
		return drawRows(wrapPieces(shownPieces(text, true), w), style, st.StatusWarn)
	}
	numW := len(fmt.Sprint(len(lines)))
	gutterW := numW + 3 // "12 │ "
	var out []string
	for i, l := range lines {
		rows := drawRows(wrapPieces(shownPieces(l, true), max(w-gutterW, 1)), style, st.StatusWarn)
		for j, r := range rows {
			num := ""
			if j == 0 {
				num = fmt.Sprint(i + 1)
			}
			out = append(out, st.Muted.Render(fmt.Sprintf("%*s │ ", numW, num))+r)
		}
	}
	return out
}

// pieceKind is how a piece of shown text is drawn.
type pieceKind uint8

const (
	plainPiece    pieceKind = iota
	symbolPiece             // a character drawn as a visible symbol
	trailingPiece           // white space at the end of a command's line
)

// piece is a run of text the dialog draws in one style.
type piece struct {
	text string
	kind pieceKind
}

// shownPieces turns one line of untrusted text into what the dialog draws,
// keeping every character in order: control characters (a line feed too:
// callers split at line feeds first where lines are kept), invisible
// format characters and spaces other than the plain one become visible
// symbols, a tab four spaces, and, when markTrailing, white space at the
// end of the line is marked (it matters to the shell: a space after a
// final backslash is an argument). Nothing in the result is a control
// character, so sanitize.String leaves it as it is.
func shownPieces(line string, markTrailing bool) []piece {
	body, trail := line, ""
	if markTrailing {
		body = strings.TrimRight(line, " \t")
		trail = line[len(body):]
	}
	// Runs of characters drawn as themselves are slices of line, cut
	// where a symbol comes: linear in the line, however long it is.
	var out []piece
	plain := 0 // where the current run of plain text started
	flush := func(end int) {
		if end > plain {
			out = append(out, piece{body[plain:end], plainPiece})
		}
	}
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRuneInString(body[i:])
		sym := ""
		switch {
		case r == '\t':
			sym = "    "
		case r == utf8.RuneError && size == 1:
			sym = fmt.Sprintf("⟨0x%02X⟩", body[i])
		default:
			sym, _ = controlSymbol(r)
		}
		if sym != "" {
			flush(i)
			kind := symbolPiece
			if r == '\t' {
				kind = plainPiece
			}
			out = append(out, piece{sym, kind})
			plain = i + size
		}
		i += size
	}
	flush(len(body))
	if trail != "" {
		out = append(out, piece{strings.ReplaceAll(trail, "\t", "    "), trailingPiece})
	}
	// Belt and braces: what is left is printable text, which String
	// returns unchanged; if it ever were not, the sanitizer would have the
	// last word.
	for i := range out {
		out[i].text = sanitize.String(out[i].text)
	}
	return out
}

// controlSymbol is how a character that would act on the terminal or
// show nothing is drawn: C0 controls as their control pictures (␛ ␍ ␊),
// DEL as ␡, and C1 controls, format characters (bidi overrides,
// zero-width spaces, the BOM), line and paragraph separators and spaces
// other than U+0020 as their code point, ⟨U+202E⟩. ok is false for any
// other character, which is drawn as itself. A tab is the caller's.
func controlSymbol(r rune) (sym string, ok bool) {
	switch {
	case r < 0x20:
		return string(rune(0x2400 + r)), true
	case r == 0x7f:
		return "␡", true
	case r >= 0x80 && r < 0xa0,
		unicode.Is(unicode.Cf, r), unicode.In(r, unicode.Zl, unicode.Zp),
		unicode.Is(unicode.Zs, r) && r != ' ':
		return fmt.Sprintf("⟨U+%04X⟩", r), true
	}
	return "", false
}

// shownOneLine is text as one line of visible characters: shownPieces
// joined, a line feed drawn as ␊. For the lines that must stay one line
// (the directory, the rule "always" saves, a grant in /permissions).
func shownOneLine(text string) string {
	var b strings.Builder
	for _, p := range shownPieces(text, false) {
		b.WriteString(p.text)
	}
	return b.String()
}

// wrapPieces breaks pieces into rows of at most w cells, by grapheme
// cluster, dropping nothing: a cluster wider than w gets a row of its own.
// An empty line is one empty row.
func wrapPieces(pieces []piece, w int) [][]piece {
	w = max(w, 1)
	rows := [][]piece{nil}
	width := 0
	for _, p := range pieces {
		start := 0 // of the part of p on the current row
		for i := 0; i < len(p.text); {
			size, cw := nextCluster(p.text[i:])
			if width+cw > w && width > 0 {
				if i > start {
					rows[len(rows)-1] = append(rows[len(rows)-1], piece{p.text[start:i], p.kind})
				}
				rows = append(rows, nil)
				width, start = 0, i
			}
			width += cw
			i += size
		}
		if start < len(p.text) {
			rows[len(rows)-1] = append(rows[len(rows)-1], piece{p.text[start:], p.kind})
		}
	}
	return rows
}

// nextCluster is the length in bytes and the width in cells of the
// grapheme cluster that starts s (not empty). Printable ASCII not followed
// by a combining character is one byte and one cell; anything else takes
// the full grapheme walk.
func nextCluster(s string) (size, width int) {
	if s[0] >= 0x20 && s[0] < 0x7f && (len(s) == 1 || s[1] < 0x80) {
		return 1, 1
	}
	cluster, cw := ansi.FirstGraphemeCluster(s, ansi.GraphemeWidth)
	if cluster == "" { // cannot happen for non-empty text; never loop
		return 1, 1
	}
	return len(cluster), cw
}

// drawRows styles wrapped rows: plain text in style, symbols and trailing
// white space in mark, each run of pieces drawn alike styled once.
func drawRows(rows [][]piece, style, mark lipgloss.Style) []string {
	out := make([]string, len(rows))
	for i, row := range rows {
		var b, run strings.Builder
		marked := false
		end := func() {
			if run.Len() == 0 {
				return
			}
			if marked {
				b.WriteString(mark.Render(run.String()))
			} else {
				b.WriteString(style.Render(run.String()))
			}
			run.Reset()
		}
		for _, p := range row {
			if m := p.kind != plainPiece; m != marked {
				end()
				marked = m
			}
			run.WriteString(p.text)
		}
		end()
		out[i] = b.String()
	}
	return out
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

// tellRulesError says once, in the status bar, that the project's rules
// file does not load (the last good rules decided the turn's calls).
func (m *Model) tellRulesError() {
	if m.rules == nil {
		return
	}
	if err := m.rules.UntoldLoadError(); err != nil {
		m.errText = "the project's rules file does not load; its last good rules are in force (/permissions): " + describeErr(err)
	}
}
