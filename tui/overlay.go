package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/sahilm/fuzzy"

	"github.com/spindle-sh/spindle/tui/cell"
)

// overlay is a layer over the panes that takes the keys first while it is
// on top of the stack: the help, the command palette, and the dialogs to
// come. It draws the body's rows (between the tab bar and the status bar).
type overlay interface {
	// update handles a key press; closed removes the overlay.
	update(m *Model, msg tea.KeyPressMsg) (cmd tea.Cmd, closed bool)
	// lines draws exactly h lines of exactly w cells.
	lines(m *Model, w, h int) []string
}

// paster is an overlay with a text field that takes pasted text (already
// sanitized, never empty); an overlay without one ignores a paste, which
// never answers a dialog.
type paster interface {
	paste(m *Model, msg tea.PasteMsg) tea.Cmd
}

// interrupter is an overlay that answers Ctrl-C itself (the approval
// dialog denies and interrupts the turn); any other overlay is closed by it
// only when no stream runs.
type interrupter interface {
	interrupt(m *Model) tea.Cmd
}

// Keys every list overlay shares: the kanban pane's movement keys would
// type into the palette's query, so lists move with the arrows and pages.
var (
	listUp       = key.NewBinding(key.WithKeys("up", "ctrl+k"))
	listDown     = key.NewBinding(key.WithKeys("down", "ctrl+j"))
	listPageUp   = key.NewBinding(key.WithKeys("pgup"))
	listPageDown = key.NewBinding(key.WithKeys("pgdown"))
	listTop      = key.NewBinding(key.WithKeys("home"))
	listBottom   = key.NewBinding(key.WithKeys("end"))
	listChoose   = key.NewBinding(key.WithKeys("enter"))
)

// helpOverlay is every key and command, scrollable (at 80×24 it is longer
// than the screen).
type helpOverlay struct {
	scroll int
	width  int
	text   []string // rendered at width
	// at is the section the help opens at ("" the top): the dialog or
	// pane it was asked for from. sections are where each one starts.
	at       string
	sections map[string]int
}

// newHelpOverlay opens the help at section at ("" for the top).
func newHelpOverlay(at string) *helpOverlay { return &helpOverlay{at: at, scroll: -1} }

// render builds the help's lines for width w.
func (h *helpOverlay) render(m *Model, w int) {
	if h.width == w && h.text != nil {
		return
	}
	st := m.st
	g := m.keys.Global
	closes := fmt.Sprintf("  (%s or %s closes · ↑/↓ scroll)", g.Help.Help().Key, g.Stop.Help().Key)
	out := []string{st.HelpTitle.Render("Keys") + st.Muted.Render(closes), ""}
	h.sections = map[string]int{}
	section := func(title, note string, groups [][]key.Binding) {
		if len(out) > 2 {
			out = append(out, "")
		}
		h.sections[title] = len(out)
		line := st.PaneTitleOn.Render(title)
		if note != "" {
			line += st.Muted.Render("  " + note)
		}
		out = append(out, line)
		out = append(out, m.helpColumns(groups, w)...)
	}
	section("Global", "", [][]key.Binding{g.FullHelp()})
	section("Chat", "", m.chat.FullHelp())
	section("Board", "", m.keys.Kanban.FullHelp())
	section("Approval dialog", "", [][]key.Binding{m.keys.Approval.FullHelp()})
	section("Session browser", "(the arrows, pgup/pgdn and home/end move; esc closes)", m.keys.Sessions.FullHelp())
	section("Model picker", "(the same)", m.keys.Models.FullHelp())
	out = append(out, "", st.PaneTitleOn.Render("Commands")+st.Muted.Render("  (type them in the chat, or find them with "+g.Palette.Help().Key+")"))
	const nameW = 14
	for _, c := range m.cmds {
		if c.name == "" {
			continue
		}
		// A description too long for the line goes on below its name,
		// indented, so that all of it can be read at any width.
		desc := cell.Wrap(c.desc, max(w-nameW-1, 10))
		for i, d := range desc {
			name := ""
			if i == 0 {
				name = c.title()
			}
			out = append(out, st.Key.Render(fmt.Sprintf("%-*s", nameW, name))+" "+st.Body.Render(d))
		}
	}
	h.width, h.text = w, out
}

// helpColumns lays groups of key bindings out as columns, side by side
// while they fit in w cells and in further bands below when they do not,
// so that every binding is listed at any width (bubbles' full help view
// drops the columns that do not fit). A row too wide even alone has its
// description wrapped under it.
func (m *Model) helpColumns(groups [][]key.Binding, w int) []string {
	const gap = 4
	hs := m.help.Styles
	type column struct {
		rows  []string
		width int
	}
	var cols []column
	for _, g := range groups {
		keyW := 0
		var shown []key.Binding
		for _, b := range g {
			if b.Enabled() && b.Help().Key != "" {
				shown = append(shown, b)
				keyW = max(keyW, cell.Width(b.Help().Key))
			}
		}
		if len(shown) == 0 {
			continue
		}
		var c column
		for _, b := range shown {
			k := b.Help().Key
			pad := strings.Repeat(" ", keyW-cell.Width(k))
			for i, d := range cell.Wrap(b.Help().Desc, max(w-keyW-1, 10)) {
				if i > 0 {
					k, pad = "", strings.Repeat(" ", keyW)
				}
				row := hs.FullKey.Render(k) + pad + " " + hs.FullDesc.Render(d)
				c.rows = append(c.rows, row)
				c.width = max(c.width, cell.Width(row))
			}
		}
		cols = append(cols, c)
	}
	var out []string
	for len(cols) > 0 {
		// As many columns as fit side by side form a band (at least one).
		n, used := 1, cols[0].width
		for n < len(cols) && used+gap+cols[n].width <= w {
			used += gap + cols[n].width
			n++
		}
		band := cols[:n]
		height := 0
		for _, c := range band {
			height = max(height, len(c.rows))
		}
		for r := range height {
			var line strings.Builder
			for i, c := range band {
				cellText := ""
				if r < len(c.rows) {
					cellText = c.rows[r]
				}
				if i < len(band)-1 {
					line.WriteString(cell.Pad(cellText, c.width) + strings.Repeat(" ", gap))
				} else {
					line.WriteString(cellText)
				}
			}
			out = append(out, line.String())
		}
		cols = cols[n:]
		if len(cols) > 0 {
			out = append(out, "")
		}
	}
	return out
}

func (h *helpOverlay) update(m *Model, msg tea.KeyPressMsg) (tea.Cmd, bool) {
	g := m.keys.Global
	page := max(m.computeLayout().bodyH-1, 1)
	if h.scroll < 0 {
		h.scroll = h.sections[h.at]
	}
	switch {
	case key.Matches(msg, g.Help, g.Stop):
		return nil, true
	case key.Matches(msg, listUp):
		h.scroll--
	case key.Matches(msg, listDown):
		h.scroll++
	case key.Matches(msg, listPageUp):
		h.scroll -= page
	case key.Matches(msg, listPageDown):
		h.scroll += page
	case key.Matches(msg, listTop):
		h.scroll = 0
	case key.Matches(msg, listBottom):
		h.scroll = len(h.text)
	}
	return nil, false
}

func (h *helpOverlay) lines(m *Model, w, hgt int) []string {
	h.render(m, w)
	if h.scroll < 0 { // the first frame: open at the section asked for
		h.scroll = h.sections[h.at]
	}
	h.scroll = clampInt(h.scroll, 0, max(len(h.text)-hgt, 0))
	return cell.Fit(h.text[h.scroll:], w, hgt)
}

// paletteOverlay is the command palette: every command and action of the
// registry, filtered as the person types (fuzzy, best match first), with
// its key; Enter runs the selected one.
type paletteOverlay struct {
	input  textinput.Model
	shown  []int // indices into the registry, in the order shown
	cursor int
	offset int
}

// openPalette pushes the palette.
func (m *Model) openPalette() tea.Cmd {
	p := &paletteOverlay{input: textinput.New()}
	p.input.Prompt = "› "
	p.input.Placeholder = "type to find a command"
	st := p.input.Styles()
	st.Focused.Prompt = m.st.Key
	st.Focused.Text = m.st.Body
	st.Focused.Placeholder = m.st.Muted
	st.Cursor.Blink = false
	p.input.SetStyles(st)
	p.input.SetWidth(max(m.width-4, 1))
	p.filter(m)
	m.push(p)
	return p.input.Focus()
}

// paletteSource lets fuzzy search the registry's titles and descriptions.
type paletteSource []command

func (s paletteSource) String(i int) string { return s[i].title() + " " + s[i].desc }
func (s paletteSource) Len() int            { return len(s) }

// filter recomputes the shown entries from the query.
func (p *paletteOverlay) filter(m *Model) {
	q := strings.TrimSpace(p.input.Value())
	p.shown = p.shown[:0]
	if q == "" {
		for i := range m.cmds {
			p.shown = append(p.shown, i)
		}
	} else {
		for _, match := range fuzzy.FindFrom(q, paletteSource(m.cmds)) {
			p.shown = append(p.shown, match.Index)
		}
	}
	p.cursor, p.offset = 0, 0
}

func (p *paletteOverlay) update(m *Model, msg tea.KeyPressMsg) (tea.Cmd, bool) {
	switch {
	case key.Matches(msg, m.keys.Global.Stop, m.keys.Global.Palette):
		return nil, true
	case key.Matches(msg, listUp):
		p.cursor = max(p.cursor-1, 0)
		return nil, false
	case key.Matches(msg, listDown):
		p.cursor = min(p.cursor+1, max(len(p.shown)-1, 0))
		return nil, false
	case key.Matches(msg, listChoose):
		if len(p.shown) == 0 {
			return nil, false
		}
		i := p.shown[p.cursor]
		if c := m.cmds[i]; c.args != "" && !strings.HasPrefix(c.args, "[") {
			// It needs an argument: the chat input is where it is typed.
			m.chat.SetInput(c.name + " ")
			if m.focus != paneChat {
				m.switchPane()
			}
			return nil, true
		}
		// The command runs once the palette has closed, so that one that
		// opens an overlay of its own puts it on top.
		return func() tea.Msg { return paletteChoseMsg{index: i} }, true
	}
	before := p.input.Value()
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	if p.input.Value() != before {
		p.filter(m)
	}
	return cmd, false
}

func (p *paletteOverlay) paste(m *Model, msg tea.PasteMsg) tea.Cmd {
	before := p.input.Value()
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	if p.input.Value() != before {
		p.filter(m)
	}
	return cmd
}

// paletteChoseMsg runs the registry's command at index.
type paletteChoseMsg struct{ index int }

func (p *paletteOverlay) lines(m *Model, w, h int) []string {
	st := m.st
	out := []string{st.HelpTitle.Render("Commands") + st.Muted.Render("  enter runs · ↑/↓ choose · esc closes"), p.input.View(), ""}
	rows := max(h-len(out), 1)
	if p.cursor < p.offset {
		p.offset = p.cursor
	} else if p.cursor >= p.offset+rows {
		p.offset = p.cursor - rows + 1
	}
	if len(p.shown) == 0 {
		out = append(out, st.Muted.Render("  no command matches"))
	}
	const leftW, keyW = 20, 14
	descW := max(w-2-leftW-1-keyW, 1)
	for i := p.offset; i < len(p.shown) && i < p.offset+rows; i++ {
		c := m.cmds[p.shown[i]]
		left, desc := cell.Pad(c.title(), leftW)+" ", c.desc
		if c.name == "" {
			// An action has no slash name: its description spans both.
			left, desc = "", c.desc
			if c.pane != "" {
				desc += " (" + c.pane + ")"
			}
		}
		descW := descW + leftW + 1 - cell.Width(left)
		k := c.key.Help().Key
		line := "  " + left + cell.Pad(desc, descW) + cell.Pad(k, keyW)
		if i == p.cursor {
			line = st.Selected.Render(cell.Pad("› "+line[2:], w))
		} else {
			line = "  " + st.Key.Render(left) + st.Body.Render(cell.Pad(desc, descW)) + st.Muted.Render(cell.Pad(k, keyW))
		}
		out = append(out, line)
	}
	return cell.Fit(out, w, h)
}

// clampInt keeps v within lo..hi (lo when hi < lo).
func clampInt(v, lo, hi int) int {
	if hi < lo {
		return lo
	}
	return min(max(v, lo), hi)
}
