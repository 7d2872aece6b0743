package kanban

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/theme"
)

func TestMain(m *testing.M) {
	// The detail view shows local times; golden files are written in UTC.
	time.Local = time.UTC
	os.Exit(m.Run())
}

// harness drives a Model the way Bubble Tea would, but synchronously: every
// Cmd an Update returns is run at once and its message fed back, until none
// is left. The board is a real kanban.db in t.TempDir().
type harness struct {
	t     *testing.T
	m     Model
	board *store.Board
	path  string
	errs  []error
}

func newHarness(t *testing.T, w, h int) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kanban.db")
	b, err := store.OpenBoard(path)
	if err != nil {
		t.Fatalf("open board: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	m := newPane(b, nil)
	m.poll = 0 // tests send pollMsg themselves
	m.SetSize(w, h)
	m.Focus()
	hs := &harness{t: t, m: m, board: b, path: path}
	hs.run(hs.m.Init())
	return hs
}

// run executes cmd and everything it leads to.
func (h *harness) run(cmd tea.Cmd) {
	h.t.Helper()
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 10000 {
			h.t.Fatal("commands never settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case ErrorMsg:
			h.errs = append(h.errs, msg.Err)
		default:
			var next tea.Cmd
			h.m, next = h.m.Update(msg)
			queue = append(queue, next)
		}
	}
}

// send feeds one message and runs what follows.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	var cmd tea.Cmd
	h.m, cmd = h.m.Update(msg)
	h.run(cmd)
}

// keys presses each key in turn: named keys ("enter", "esc", "ctrl+s",
// "up") or single characters.
func (h *harness) keys(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

// typeText types s one character at a time.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(keyMsg(string(r)))
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	named := map[string]tea.Key{
		"enter":     {Code: tea.KeyEnter},
		"esc":       {Code: tea.KeyEscape},
		"up":        {Code: tea.KeyUp},
		"down":      {Code: tea.KeyDown},
		"left":      {Code: tea.KeyLeft},
		"right":     {Code: tea.KeyRight},
		"backspace": {Code: tea.KeyBackspace},
		"ctrl+s":    {Code: 's', Mod: tea.ModCtrl},
		"ctrl+u":    {Code: 'u', Mod: tea.ModCtrl},
		"ctrl+c":    {Code: 'c', Mod: tea.ModCtrl},
	}
	if key, ok := named[k]; ok {
		return tea.KeyPressMsg(key)
	}
	r := []rune(k)[0]
	if unicode.IsUpper(r) {
		return tea.KeyPressMsg{Code: unicode.ToLower(r), ShiftedCode: r, Mod: tea.ModShift, Text: k}
	}
	return tea.KeyPressMsg{Code: r, Text: k}
}

// screen is the pane's view without colours.
func (h *harness) screen() string { return ansi.Strip(h.m.View()) }

// selectedLine is the screen line that carries the selection marker and a
// title.
func (h *harness) selectedTitle() string {
	for _, l := range strings.Split(h.screen(), "\n") {
		if i := strings.Index(l, "▌ "); i >= 0 && !strings.Contains(l[i:], " · ") {
			return strings.TrimSpace(strings.SplitN(l[i+len("▌ "):], "  ", 2)[0])
		}
	}
	return ""
}

// seed creates cards directly in the board (as another tool would) and
// reloads the pane.
func (h *harness) seed(cards ...store.NewCard) []store.Card {
	h.t.Helper()
	var out []store.Card
	for _, nc := range cards {
		c, err := h.board.Create(context.Background(), "agent", nc)
		if err != nil {
			h.t.Fatalf("seed %q: %v", nc.Title, err)
		}
		out = append(out, c)
	}
	h.run(h.m.loadCmd())
	return out
}

// row reads card id back from kanban.db.
func (h *harness) row(id int64) store.Card {
	h.t.Helper()
	c, err := h.board.Get(context.Background(), id)
	if err != nil {
		h.t.Fatalf("get card %d: %v", id, err)
	}
	return c
}

// rows is every card in kanban.db, archived included.
func (h *harness) rows() []store.Card {
	h.t.Helper()
	cs, err := h.board.List(context.Background(), true)
	if err != nil {
		h.t.Fatalf("list: %v", err)
	}
	return cs
}

func (h *harness) noErrors() {
	h.t.Helper()
	if len(h.errs) > 0 {
		h.t.Fatalf("unexpected errors: %v", h.errs)
	}
}

func titles(cs []store.Card) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Title)
	}
	return out
}

// press sends one key and returns the Cmd without running it.
func (h *harness) press(k string) tea.Cmd {
	var cmd tea.Cmd
	h.m, cmd = h.m.Update(keyMsg(k))
	return cmd
}

func stripView(m Model) string { return ansi.Strip(m.View()) }

func lineWidth(s string) int { return ansi.StringWidth(s) }

// newPane builds the pane over b (nil: refused with err) with the default
// keys and palette.
func newPane(b *store.Board, err error) Model {
	o := Options{BoardErr: err, Keys: keymap.Default().Kanban, Palette: theme.Default()}
	if b != nil {
		o.Board = b
	}
	return New(o)
}
