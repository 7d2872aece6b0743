package tui

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"pgregory.net/rapid"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/agent/tool/files"
	"github.com/spindle-sh/spindle/agent/tool/shell"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/tui/chat"
	"github.com/spindle-sh/spindle/tui/internal/tuitest"
	"github.com/spindle-sh/spindle/tui/theme"
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

// trickyCommands are commands whose text is easy to show as something
// else: several lines, carriage returns, a line far wider than the
// screen, non-Latin text and invisible characters, escape sequences
// (raw, in the command itself), trailing white space (which the shell
// reads after a backslash) and a here-document.
var trickyCommands = []struct{ name, command string }{
	{"two lines", "echo safe\ntouch /tmp/x"},
	{"crlf", "echo a\r\ntouch b\r"},
	{"carriage return", "echo safe\rtouch /tmp/x"},
	{"very long", strings.Repeat("echo long; ", 120) + "rm -rf ~/stuff"},
	{"unicode", "echo 日本語 e\u0301 \u202eevil\u202c zero\u200bwidth nb\u00a0sp 🎉 \u2028next"},
	{"escapes", "printf '\x1b[2J' \x1b]0;title\x07 \x1b[8mhidden\x1b[0m \u009b31m\u0085 del\x7f"},
	{"trailing spaces", "ls \\ \nls a\t \necho done   "},
	{"here-doc", "cat <<'EOF' > notes.txt\nline one\n  $(not run) \t tab\nEOF\n"},
	{"blank lines", "\n\necho third\n\n"},
}

// expectedRunes is what the dialog must show for one line of a command,
// in order: every character as itself, except what would act on the
// terminal or show nothing, each as its visible symbol (a C0 control as
// its control picture, DEL as ␡, any other control, format character,
// line separator or unusual space as ⟨U+XXXX⟩), and a tab as a space.
// It is the test's own statement of the rule, not the dialog's code.
func expectedRunes(line string) []rune {
	var out []rune
	for _, r := range line {
		switch {
		case r == '\t':
			out = append(out, ' ')
		case r < 0x20:
			out = append(out, 0x2400+r)
		case r == 0x7f:
			out = append(out, '␡')
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.In(r, unicode.Zl, unicode.Zp),
			unicode.Is(unicode.Zs, r) && r != ' ':
			out = append(out, []rune(fmt.Sprintf("⟨U+%04X⟩", r))...)
		default:
			out = append(out, r)
		}
	}
	return out
}

// inOrder reports whether want's runes occur in text in order (other
// runes may come between: wrapping, a gutter, padding).
func inOrder(text string, want []rune) (missing int, ok bool) {
	i := 0
	for _, r := range text {
		if i < len(want) && r == want[i] {
			i++
		}
	}
	return i, i == len(want)
}

// dialogCommandRows are the rows of the screen between the dialog's
// title and its "in DIR" line: where the command is drawn.
func dialogCommandRows(t *testing.T, screen, dir string) (title string, rows []string) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "Allow ") {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatalf("no dialog:\n%s", screen)
	}
	for i := start + 1; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "in "+dir) {
			return lines[start], lines[start+1 : i]
		}
	}
	t.Fatalf("the dialog's command does not end in %q:\n%s", "in "+dir, screen)
	return "", nil
}

// gutterRE is a numbered row of a multi-line command (its number) or a
// row continuing the line above (no number).
var gutterRE = regexp.MustCompile(`^ *(\d*) │ `)

// checkShowsExactly checks that rows (a dialog's command, as text) show
// command exactly: for a command of one line, every character in order;
// for one of n lines, n numbered lines (and a title that says n lines),
// each holding every character of its line in order, so that no line
// break is lost and none is added. It returns what is wrong, "" if
// nothing.
func checkShowsExactly(title string, rows []string, command string) string {
	lines := strings.Split(command, "\n")
	if len(lines) == 1 {
		if got, ok := inOrder(strings.Join(rows, "\n"), expectedRunes(command)); !ok {
			return fmt.Sprintf("character %d of %q is missing or out of order", got, command)
		}
		for _, r := range rows {
			if gutterRE.MatchString(r) {
				return "a one-line command has a numbered gutter"
			}
		}
		return ""
	}
	if !strings.Contains(title, fmt.Sprintf(" %d lines ", len(lines))) {
		return fmt.Sprintf("the title %q does not say the command has %d lines", title, len(lines))
	}
	var shown []string // the screen's lines of the command, continuation rows joined
	for _, r := range rows {
		m := gutterRE.FindStringSubmatch(r)
		if m == nil {
			return fmt.Sprintf("the row %q has no gutter", r)
		}
		content := strings.TrimPrefix(r, m[0])
		if m[1] != "" {
			if want := fmt.Sprint(len(shown) + 1); m[1] != want {
				return fmt.Sprintf("line number %s where %s was due", m[1], want)
			}
			shown = append(shown, content)
		} else if len(shown) == 0 {
			return "a continuation row before the first line"
		} else {
			shown[len(shown)-1] += content
		}
	}
	if len(shown) != len(lines) {
		return fmt.Sprintf("%d lines shown, the command has %d", len(shown), len(lines))
	}
	for i, l := range lines {
		if got, ok := inOrder(shown[i], expectedRunes(l)); !ok {
			return fmt.Sprintf("line %d: character %d of %q is missing or out of order in %q", i+1, got, l, shown[i])
		}
	}
	return ""
}

// TestApprovalDialogShowsExactlyWhatRuns: for each tricky command, the
// request the real bash tool makes goes through the dialog, and the
// screen (ANSI removed) shows the command exactly: every line as its own
// numbered line under an "N lines" mark, every character in order, the
// controls as visible symbols, and nothing on the screen is a control
// character or an escape sequence other than a style. The screens as the
// dialog drew them before (the command folded onto one line by
// sanitize.Line) fail the same check: the negative control.
func TestApprovalDialogShowsExactlyWhatRuns(t *testing.T) {
	dir := t.TempDir()
	bash := shell.New(dir)
	sgrRE := regexp.MustCompile(`\x1b\[[0-9;:]*m`)
	for _, tc := range trickyCommands {
		t.Run(tc.name, func(t *testing.T) {
			args, _ := json.Marshal(map[string]string{"command": tc.command})
			req, bad := bash.Approval(tool.Call{Name: "bash", Args: string(args)})
			if bad != nil {
				t.Fatalf("bash refused %q: %+v", tc.command, bad)
			}
			h := newHarness(t, 100, 120) // tall enough to show every command whole
			askFor(t, h, *req)
			styled := h.m.screen()
			if rest := sgrRE.ReplaceAllString(styled, ""); strings.ContainsFunc(rest, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) {
				t.Errorf("the screen holds a control character or an escape sequence other than a style: %q", rest)
			}
			title, rows := dialogCommandRows(t, ansi.Strip(styled), dir)
			if problem := checkShowsExactly(title, rows, tc.command); problem != "" {
				t.Errorf("%s; the dialog showed:\n%s\n%s", problem, title, strings.Join(rows, "\n"))
			}

			// Negative control: the dialog as it was, the command folded
			// onto one line of words and its escapes dropped.
			old := wrapExact(h.m.st.Body, sanitize.Line(req.Summary), 100)
			oldTitle := "Allow bash?"
			for i := range old {
				old[i] = ansi.Strip(old[i])
			}
			wantCaught := strings.ContainsAny(tc.command, "\n\r\x1b\x7f\t") || strings.ContainsFunc(tc.command, func(r rune) bool {
				return unicode.Is(unicode.Cf, r) || unicode.IsControl(r)
			})
			if caught := checkShowsExactly(oldTitle, old, tc.command) != ""; wantCaught && !caught {
				t.Errorf("negative control: the folded one-line dialog passes the check:\n%s", strings.Join(old, "\n"))
			}
		})
	}
}

// TestApprovalMultilineScrolls: at 80×24 a command of more lines than the
// screen holds keeps its "N lines" mark in the title while Down scrolls
// through it, and every line is reached, numbered.
func TestApprovalMultilineScrolls(t *testing.T) {
	var b strings.Builder
	for i := range 40 {
		fmt.Fprintf(&b, "echo step %d\n", i+1)
	}
	b.WriteString("rm -rf ~/the-last-line")
	command := b.String()
	h := newHarness(t, 80, 24)
	askFor(t, h, tool.Request{Tool: "bash", Subject: command, Summary: command, Dir: "/tmp/project"})
	all := scrollThrough(h)
	for _, screen := range strings.Split(all, "Allow bash?")[1:] {
		if !strings.HasPrefix(screen, "   41 lines ") {
			t.Errorf("a screen's title lacks the mark: %q", strings.SplitN(screen, "\n", 2)[0])
		}
	}
	if !strings.Contains(all, "41 │ rm -rf ~/the-last-line") || !strings.Contains(all, " 1 │ echo step 1") {
		t.Errorf("Down did not reach every numbered line:\n%s", all)
	}
}

// TestShownPiecesHideNothing: for any text, what the dialog draws of it
// holds no character the sanitizer would remove (so sanitize.String
// leaves it unchanged) and every character of the text that is printable
// appears, in order. The rune by rune property behind the dialog's
// exactness, over random text from a sample of troublesome characters.
func TestShownPiecesHideNothing(t *testing.T) {
	sample := []rune("a \t\n\r\x1b[]0;\x07\x7f\u0085\u009b\u009c\u200b\u200d\u200e\u202a\u202e\u2066\u2028\u00a0\u3000\ufeffé\u0301日🎉\\")
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringOf(rapid.SampledFrom(sample)).Draw(t, "text")
		for _, markTrailing := range []bool{false, true} {
			var drawn strings.Builder
			for _, p := range shownPieces(s, markTrailing) {
				drawn.WriteString(p.text)
			}
			d := drawn.String()
			if sanitize.String(d) != d {
				t.Fatalf("the sanitizer would change %q, drawn from %q", d, s)
			}
			if got, ok := inOrder(d, expectedRunes(s)); !ok {
				t.Fatalf("character %d of %q is missing from %q", got, s, d)
			}
		}
	})
}

// TestControlSymbolCoversTheSanitizer: every character the sanitizer
// removes (other than the line feed and tab, which the dialog lays out)
// has a visible symbol in the dialog, so that nothing the sanitizer
// would have dropped is silently lost.
func TestControlSymbolCoversTheSanitizer(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r == '\n' || r == '\t' || (r >= 0xd800 && r <= 0xdfff) {
			continue
		}
		if s := string(r); sanitize.String(s) != s {
			if _, ok := controlSymbol(r); !ok {
				t.Errorf("U+%04X is removed by the sanitizer but drawn as itself", r)
			}
		}
	}
}

// TestApprovalMarksTrailingSpace: white space at the end of a command's
// line is drawn in the mark style (a space after a final backslash is an
// argument to the shell); the same line without it is not marked.
func TestApprovalMarksTrailingSpace(t *testing.T) {
	h := newHarness(t, 80, 24)
	st := h.m.st
	mark := st.StatusWarn.Render("  ")
	if with := strings.Join(exactCommandLines(st, st.Body, `ls \  `, 80), ""); !strings.Contains(with, mark) {
		t.Errorf("trailing spaces not marked: %q", with)
	}
	if without := strings.Join(exactCommandLines(st, st.Body, `ls \`, 80), ""); strings.Contains(without, st.StatusWarn.Render(" ")) {
		t.Errorf("a line without trailing space is marked: %q", without)
	}
}

// TestApprovalDiffShowsEveryCharacter: a write of a new file whose
// content holds a carriage return, an escape sequence and a bidi override
// shows every character of every line of it in order, on its own line.
func TestApprovalDiffShowsEveryCharacter(t *testing.T) {
	dir := t.TempDir()
	p, err := files.NewProject(dir)
	if err != nil {
		t.Fatal(err)
	}
	content := "#!/bin/sh\r\necho ok\x1b[2K\x1b[1Arm -rf ~\n# \u202etxt.sh\u202c\nlast\n"
	args, _ := json.Marshal(map[string]string{"path": "run.sh", "content": content})
	var write tool.Asker
	for _, tl := range p.Tools() {
		if tl.Name() == "write" {
			write = tl.(tool.Asker)
		}
	}
	req, bad := write.Approval(tool.Call{Name: "write", Args: string(args)})
	if bad != nil {
		t.Fatal(bad)
	}
	h := newHarness(t, 100, 40)
	askFor(t, h, *req)
	screen := h.screen()
	at := strings.Index(screen, "#!/bin/sh")
	if at < 0 {
		t.Fatalf("no content on the dialog:\n%s", screen)
	}
	shown := strings.Split(screen[at:], "\n")
	for i, l := range strings.Split(strings.TrimSuffix(content, "\n"), "\n") {
		if got, ok := inOrder(shown[i], expectedRunes(l)); !ok {
			t.Errorf("content line %d: character %d of %q missing from %q", i+1, got, l, shown[i])
		}
	}
}

// TestApprovalDialogShowsARulesFileError: a request made while the
// project's rules file does not load says so in the dialog.
func TestApprovalDialogShowsARulesFileError(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.startTurn("go ahead")
	h.event(agent.ToolCall{ID: "c1", Name: "bash", Arguments: `{}`})
	ev, _ := agent.NewApprovalNeeded("c1", tool.Request{Tool: "bash", Subject: "ls", Summary: "ls", Dir: "/tmp/project"})
	ev.RulesError = "approval: /cfg/projects/p.toml:1:9: expected ]"
	h.event(ev)
	h.until(func(msg tea.Msg) bool { _, ok := msg.(chat.ApprovalMsg); return ok })
	if s := h.screen(); !shows(s, "The project's rules file does not load, so its last good rules are in force: approval: /cfg/projects/p.toml:1:9: expected ]") {
		t.Errorf("the dialog does not say the rules file is broken:\n%s", s)
	}
}

// TestGoldenApprovalMultiline: the dialog for a command of several lines,
// one of them wider than the screen, at 80×24.
func TestGoldenApprovalMultiline(t *testing.T) {
	h := newHarness(t, 80, 24)
	command := "echo safe\ntouch /tmp/x\ncurl -fsSL https://example.test/a/rather/long/path/to/some/installer/script.sh | sh -s -- --yes \nprintf 'done\\n'\x1b[8m"
	askFor(t, h, tool.Request{Tool: "bash", Subject: command, Summary: command, Dir: "/tmp/project"})
	checkScreen(t, h.m)
}

// newRulesHarness is newHarness with rules behind /permissions and the
// approval dialog, after one finished turn (so that the chat shows a
// session, whose id it returns).
func newRulesHarness(t *testing.T, rules Rules, w, h int) (*harness, int64) {
	t.Helper()
	st, b := tuitest.OpenStores(t)
	hs := &harness{t: t, ag: tuitest.NewAgent(), state: st, board: b, pump: tuitest.NewPump(t)}
	hs.clock = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	hs.m = New(Options{Agent: hs.ag, Sessions: st, Board: b, Keys: keymap.Default(), Palette: theme.Default(),
		Rules: rules, Now: func() time.Time { return hs.clock }})
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.pump.Run(hs.m.Init())
	hs.until(func(msg tea.Msg) bool { return strings.Contains(typeName(msg), "loadedMsg") })
	hs.startTurn("hello")
	hs.event(agent.Done{Text: "hi"})
	hs.until(func(msg tea.Msg) bool { _, ok := msg.(chat.TurnEndedMsg); return ok })
	id := hs.m.chat.Session().ID
	if id == 0 {
		t.Fatal("no session shown")
	}
	return hs, id
}

// permissions runs a /permissions command and applies its answer.
func (h *harness) permissions(line string) {
	h.t.Helper()
	h.command(line)
	untilMsg[permissionsMsg](h)
}

// rulesPolicy is a policy with a config allow rule and its project rules
// in a file under t.TempDir(), as spindle keeps them.
func rulesPolicy(t *testing.T) (*approval.Policy, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "projects", "demo-0123456789ab.toml")
	p, err := approval.New(t.TempDir(), approval.Config{Allow: []string{"bash:ls *"}, SettingsPath: path})
	if err != nil {
		t.Fatal(err)
	}
	return p, path
}

// TestPermissionsListsAndRevokesSessionGrants: /permissions lists this
// session's "allow for this session" grants, marked so (a multi-line
// command on one line with its line break drawn as ␊), next to the config
// and project rules; another session's grants are not listed;
// "/permissions remove" with a grant's text as listed revokes it, so the
// call asks again, and a project rule is still removed as before.
func TestPermissionsListsAndRevokesSessionGrants(t *testing.T) {
	p, _ := rulesPolicy(t)
	h, sid := newRulesHarness(t, p, 160, 50)
	multi := tool.Request{Tool: "bash", Subject: "echo safe\ntouch /tmp/x", Summary: "echo safe\ntouch /tmp/x"}
	edit := tool.Request{Tool: "edit", Subject: "docs/a.md"}
	p.Grant(sid, multi, approval.AllowSession)
	p.Grant(sid, edit, approval.AllowSession)
	p.Grant(sid+1, tool.Request{Tool: "bash", Subject: "other session"}, approval.AllowSession)
	if err := p.Grant(sid, tool.Request{Tool: "bash", Subject: "go test ./..."}, approval.AllowAlways); err != nil {
		t.Fatal(err)
	}

	h.permissions("/permissions")
	s := h.screen()
	for _, want := range []string{
		"allow bash:ls * (config)",
		"allow bash:go test ./... (project)",
		"allow bash:=echo safe␊touch /tmp/x (this session)",
		"allow edit:docs/a.md (this session)",
	} {
		if !shows(s, want) {
			t.Errorf("/permissions lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "other session") {
		t.Errorf("another session's grant is listed:\n%s", s)
	}

	h.permissions("/permissions remove bash:=echo safe␊touch /tmp/x")
	if !shows(h.screen(), "Revoked the grant for this session bash:=echo safe␊touch /tmp/x") {
		t.Errorf("no word of the revoke:\n%s\nstatus: %s", h.screen(), h.statusBar())
	}
	if _, ok := p.Check(sid, multi); ok {
		t.Error("the revoked grant still allows the command")
	}
	if _, ok := p.Check(sid, edit); !ok {
		t.Error("revoking one grant took the other")
	}
	h.permissions("/permissions remove edit:docs/a.md")
	if _, ok := p.Check(sid, edit); ok {
		t.Error("the edit grant was not revoked")
	}
	h.permissions("/permissions remove bash:go test ./...")
	if _, ok := p.Check(sid, tool.Request{Tool: "bash", Subject: "go test ./..."}); ok {
		t.Error("the project rule was not removed")
	}
	// A saved rule of several lines (a here-document) is listed on one
	// line, its line breaks drawn, and removed by that text.
	heredoc := tool.Request{Tool: "bash", Subject: "cat <<'EOF' > notes.txt\nline one\nEOF"}
	if err := p.Grant(sid, heredoc, approval.AllowAlways); err != nil {
		t.Fatal(err)
	}
	h.permissions("/permissions")
	if !shows(h.screen(), "allow bash:=cat <<'EOF' > notes.txt␊line one␊EOF (project)") {
		t.Errorf("the multi-line rule is not listed as it is:\n%s", h.screen())
	}
	h.permissions("/permissions remove bash:=cat <<'EOF' > notes.txt␊line one␊EOF")
	if _, ok := p.Check(sid, heredoc); ok {
		t.Errorf("the multi-line rule was not removed; status %q", h.statusBar())
	}
	h.permissions("/permissions remove bash:nothing like it")
	if !strings.Contains(h.statusBar(), "no project rule") {
		t.Errorf("removing what is not there: status %q", h.statusBar())
	}
}

// TestPermissionsShowsTheFileAsItIsNow: /permissions lists the rules of
// the project's file as the person last saved it; a file that does not
// load is reported there, with the last good rules.
func TestPermissionsShowsTheFileAsItIsNow(t *testing.T) {
	p, path := rulesPolicy(t)
	h, _ := newRulesHarness(t, p, 160, 50)
	write := func(content string, mtime time.Time) {
		t.Helper()
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(path, mtime, mtime)
	}
	hourAgo := time.Now().Add(-time.Hour)
	write("deny = ['bash:git push *']\n", hourAgo)
	h.permissions("/permissions")
	if !shows(h.screen(), "deny bash:git push * (project)") {
		t.Errorf("the edited file's rule is not listed:\n%s", h.screen())
	}
	write("deny = ['bash:git push *'\n", hourAgo.Add(time.Minute))
	h.permissions("/permissions")
	if s := h.screen(); !shows(s, "The project's rules file does not load, so its last good rules (above) are in force") || !shows(s, path) {
		t.Errorf("the broken file is not reported:\n%s", s)
	}
}

// TestTurnEndSaysOnceThatTheRulesFileIsBroken: when the rules decided a
// turn's calls while the rules file does not load, the status bar says so
// when the turn ends, once for that version of the file.
func TestTurnEndSaysOnceThatTheRulesFileIsBroken(t *testing.T) {
	p, path := rulesPolicy(t)
	h, sid := newRulesHarness(t, p, 160, 50)
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte("allow = [\n"), 0o644)
	p.Check(sid, tool.Request{Tool: "bash", Subject: "ls"}) // a decision during a turn
	turn := func() {
		h.startTurn("again")
		h.event(agent.Done{Text: "done"})
		h.until(func(msg tea.Msg) bool { _, ok := msg.(chat.TurnEndedMsg); return ok })
	}
	turn()
	if s := h.statusBar(); !strings.Contains(s, "rules file does not load") {
		t.Errorf("the status bar does not say the rules file is broken: %q", s)
	}
	h.m.errText = ""
	turn()
	if s := h.statusBar(); strings.Contains(s, "rules file does not load") {
		t.Errorf("said twice: %q", s)
	}
}

// BenchmarkApprovalBody is the dialog laying out its body once (it keeps
// it while the width lasts): a command of 3,000 characters on one line,
// the 200-line diff of an edit, and a new file whose content is one line
// of 1 MB (a minified file), which must cost time linear in its length.
func BenchmarkApprovalBody(b *testing.B) {
	st := NewStyles(theme.Default())
	var diff strings.Builder
	for i := range 200 {
		fmt.Fprintf(&diff, "+\tparts = append(parts, segment(%d)) // \x1b[31mred\x1b[0m and a tab\there\n", i)
	}
	for _, bc := range []struct {
		name string
		req  tool.Request
	}{
		{"command 3000", tool.Request{Tool: "bash", Summary: strings.Repeat("echo long; ", 272), Dir: "/p"}},
		{"diff 200 lines", tool.Request{Tool: "edit", Summary: "edit a.go", Detail: diff.String(), Dir: "/p"}},
		{"one line of 1 MB", tool.Request{Tool: "write", Summary: "write a.min.js", Detail: strings.Repeat("var a=1;\t", 1<<20/9), Dir: "/p"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			o := &approvalOverlay{ev: agent.ApprovalNeeded{Request: bc.req}, always: "saves " + bc.req.Tool + ":x"}
			for b.Loop() {
				o.drawBody(&st, 120)
			}
		})
	}
}
