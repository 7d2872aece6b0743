package tui

import (
	"bytes"
	"context"
	"image/color"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/sys/unix"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/internal/tuitest"
	"github.com/spindle-sh/spindle/tui/theme"
)

// newThemedHarness is newHarness with a palette of the test's choosing and
// a few cards on the board.
func newThemedHarness(t testing.TB, p theme.Palette, follow bool, w, h int) *harness {
	t.Helper()
	st, b := tuitest.OpenStores(t)
	for _, c := range []store.NewCard{
		{Title: "write the release notes", Priority: store.PriorityHigh},
		{Title: "fix the flaky test", Priority: store.PriorityUrgent, Assignee: store.AgentAssignee},
		{Title: "tidy the docs"},
	} {
		if _, err := b.Create(context.Background(), store.ActorMe, c); err != nil {
			t.Fatal(err)
		}
	}
	hs := &harness{t: t, ag: tuitest.NewAgent(), state: st, board: b, pump: tuitest.NewPump(t)}
	hs.ag.SetContext(128_000, 2.5, 10)
	hs.m = New(Options{Agent: hs.ag, Sessions: st, Board: b, Keys: keymap.Default(), Palette: p, FollowTheme: follow})
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.pump.Run(hs.m.Init())
	hs.until(func(msg tea.Msg) bool { return strings.Contains(typeName(msg), "loadedMsg") })
	return hs
}

// answered plays a turn with a tool call, usage figures as a server
// reports them, and an answer with code.
func answered(h *harness) {
	h.startTurn("add a card for the stream reader, then show me how to read a stream")
	h.event(agent.Usage{PromptTokens: 11_020, CompletionTokens: 42})
	h.event(agent.ToolCall{ID: "call_1", Name: "kanban_create", Arguments: `{"title": "stream reader"}`})
	h.event(agent.ToolResult{ID: "call_1", Name: "kanban_create", Result: tool.OK(`{"id":4}`, "created #4 stream reader (todo)")})
	h.streamIn(answerWithCode, 24)
	h.event(agent.Usage{PromptTokens: 12_110, CompletionTokens: 230})
	h.event(agent.Done{MessageID: 5, Text: answerWithCode})
}

var themes = []struct {
	name string
	p    theme.Palette
}{
	{"dark", theme.Dark()},
	{"light", theme.Light()},
	{"nocolor", theme.Plain(true)},
}

// TestGoldenThemes: the key screens in each palette, at 120×40 and 80×24.
// Without colour the screen holds no colour at all, while the bold and
// reverse video that carry meaning stay; the same check on the dark
// palette's screen is the negative control.
func TestGoldenThemes(t *testing.T) {
	screens := []struct {
		name string
		w, h int
		run  func(h *harness)
	}{
		{"answer_120x40", 120, 40, answered},
		{"answer_80x24", 80, 24, answered},
		{"board_80x24", 80, 24, func(h *harness) { h.key(tab) }},
		{"help_80x24", 80, 24, func(h *harness) { h.typeText("?") }},
	}
	for _, th := range themes {
		t.Run(th.name, func(t *testing.T) {
			for _, sc := range screens {
				t.Run(sc.name, func(t *testing.T) {
					h := newThemedHarness(t, th.p, false, sc.w, sc.h)
					sc.run(h)
					checkScreen(t, h.m)
					raw := h.m.screen()
					if got, want := hasColour(raw), !th.p.NoColor; got != want {
						t.Errorf("colour on screen = %v, want %v", got, want)
					}
					if th.p.NoColor && !strings.Contains(raw, "\x1b[7m") && !strings.Contains(raw, ";7m") {
						t.Error("without colour the status bar is not in reverse video")
					}
				})
			}
		})
	}
}

// sgrSeq matches a Select Graphic Rendition sequence.
var sgrSeq = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// hasColour reports whether s sets a foreground or background colour.
func hasColour(s string) bool {
	for _, m := range sgrSeq.FindAllStringSubmatch(s, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			n, _ := strconv.Atoi(p)
			if n == 38 || n == 48 || n >= 30 && n <= 37 || n >= 40 && n <= 47 || n >= 90 && n <= 97 || n >= 100 && n <= 107 {
				return true
			}
		}
	}
	return false
}

func TestHasColour(t *testing.T) {
	for s, want := range map[string]bool{
		"\x1b[1mbold\x1b[m":            false,
		"\x1b[7;1mrev\x1b[m":           false,
		"\x1b[38;5;39mblue\x1b[m":      true,
		"\x1b[1;48;5;236mbar\x1b[m":    true,
		"\x1b[31mred\x1b[0m":           true,
		"\x1b[38:2::255:0:0mrgb\x1b[m": true,
		"plain":                        false,
	} {
		if got := hasColour(s); got != want {
			t.Errorf("hasColour(%q) = %v", s, got)
		}
	}
}

// A palette that follows the terminal switches when the terminal reports
// a light background after the first frame: every pane, the finished
// replies, the one still streaming and the status bar are drawn exactly as
// if spindle had started in the light palette. A palette that does not
// follow (theme = "dark") stays, which is the negative control of the
// comparison.
func TestThemeFollowsTheBackground(t *testing.T) {
	play := func(h *harness) {
		answered(h)
		h.startTurn("and in Rust?")
		h.streamIn(answerWithCode[:strings.Index(answerWithCode, "\treturn")], 24)
		// The board has the keyboard and shows a card's detail.
		h.key(tab)
		h.key(enter)
		h.until(func(msg tea.Msg) bool { return typeName(msg) == "kanban.eventsMsg" })
		if !strings.Contains(h.screen(), "(no description)") {
			t.Fatalf("the card's detail is not open:\n%s", h.screen())
		}
	}
	light := newThemedHarness(t, theme.Light(), false, 120, 40)
	play(light)
	want := light.m.screen()

	for _, follow := range []bool{true, false} {
		h := newThemedHarness(t, theme.Dark(), follow, 120, 40)
		if cmd := h.m.themeCmd(); (cmd != nil) != follow {
			t.Fatalf("follow=%v: the background is asked for: %v", follow, cmd != nil)
		}
		play(h)
		dark := h.m.screen()
		// A dark report on the dark palette changes nothing.
		h.send(tea.BackgroundColorMsg{Color: color.Black})
		if h.m.screen() != dark {
			t.Errorf("follow=%v: a dark background redrew the dark palette differently", follow)
		}
		h.send(tea.BackgroundColorMsg{Color: color.White})
		got := h.m.screen()
		switch {
		case follow && got != want:
			t.Errorf("after a light background was reported the screen differs from the light palette's:\n%s", firstDiff(got, want))
		case !follow && got != dark:
			t.Error("theme = dark switched palettes on the terminal's report")
		case !follow && got == want:
			t.Error("negative control: the dark and light screens are the same, so the comparison proves nothing")
		}
	}
}

// firstDiff shows the first line where two screens differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return "line " + strconv.Itoa(i) + ":\n got  " + strconv.Quote(al[i]) + "\n want " + strconv.Quote(bl[i])
		}
	}
	return "line counts differ"
}

// Run with NO_COLOR on a real terminal (a pseudo-terminal of 80×24 that
// says it has 256 colours): nothing that reaches it sets a colour. The
// same program with the dark palette does colour its output, the negative
// control.
func TestRunWithoutColour(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("NO_COLOR", "") // the palette decides, not the test's environment
	for _, p := range []theme.Palette{theme.Plain(true), theme.Dark()} {
		master, slave := openPTY(t, 80, 24)
		var out syncBuf
		var wg sync.WaitGroup
		wg.Go(func() { io.Copy(&out, master) })
		st, b := tuitest.OpenStores(t)
		in, inW := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, Options{Agent: tuitest.NewAgent(), Sessions: st, Board: b, Keys: keymap.Default(), Palette: p},
				RunOptions{Input: in, Output: slave})
		}()
		waitFor(t, "the first frame", func() bool { return strings.Contains(out.String(), "idle") })
		cancel()
		waitRun(t, done)
		inW.Close()
		slave.Close()
		master.Close()
		wg.Wait()
		if got := hasColour(out.String()); got == p.NoColor {
			t.Errorf("NoColor=%v: colour in the output = %v (%d bytes)", p.NoColor, got, out.Len())
		}
	}
}

// openPTY opens a pseudo-terminal of w×h cells.
func openPTY(t *testing.T, w, h int) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(h), Col: uint16(w)}); err != nil {
		t.Fatal(err)
	}
	return m, s
}

// syncBuf is a bytes.Buffer safe for the program's writer and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
func (s *syncBuf) Len() int                    { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Len() }
