package kanban

import (
	"strings"

	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/markdown"
	"github.com/spindle-sh/spindle/tui/theme"
)

// Styles is every style the pane draws with, built once from a palette.
type Styles struct {
	Header        lipgloss.Style // a column's name
	HeaderCurrent lipgloss.Style // the column holding the selection
	Count         lipgloss.Style // a column's card count
	Rule          lipgloss.Style // the line under the headers
	Title         lipgloss.Style // a card's title
	TitleSelected lipgloss.Style // the selected card's title
	Selected      lipgloss.Style // background of the selected card while focused
	Marker        lipgloss.Style // the bar left of the selected card
	Meta          lipgloss.Style // id and separators under a title
	Priority      [4]lipgloss.Style
	Me            lipgloss.Style
	Agent         lipgloss.Style
	Footer        lipgloss.Style // hints and inputs on the last line
	Prompt        lipgloss.Style // the label before an input
	Error         lipgloss.Style // refusal and form errors
	Label         lipgloss.Style // field labels in forms, section names in detail
	DetailTitle   lipgloss.Style
	EventTime     lipgloss.Style
	EventActor    lipgloss.Style
	Undone        lipgloss.Style // an undone event in the history
	Done          lipgloss.Style // titles in the Done column
	Attention     lipgloss.Style // a running card's worker waits for the person

	fast boardPaints
}

// paint is a style reduced to the escape sequences around its text, so that
// the board, drawn every frame, pays for a concatenation instead of a
// lipgloss Render per cell. It is only valid for single-line text without
// tabs, which is all the board draws.
type paint struct{ pre, post string }

func newPaint(st lipgloss.Style) paint {
	r := st.Render("\x00")
	i := strings.IndexByte(r, 0)
	if i < 0 {
		return paint{}
	}
	return paint{pre: r[:i], post: r[i+1:]}
}

func (p paint) on(s string) string {
	if s == "" {
		return ""
	}
	return p.pre + s + p.post
}

// cardPaints are the paints of one card state (plain or selected-focused).
type cardPaints struct {
	title, done, meta, me, agent, blank, attention paint
	priority                                       [4]paint
}

// boardPaints are the paints the board view uses.
type boardPaints struct {
	header, headerCurrent, count, rule, marker paint
	card, selected                             cardPaints
}

func (s Styles) buildPaints() boardPaints {
	var b boardPaints
	b.header, b.headerCurrent = newPaint(s.Header), newPaint(s.HeaderCurrent)
	b.count, b.rule, b.marker = newPaint(s.Count), newPaint(s.Rule), newPaint(s.Marker)
	mk := func(bg *lipgloss.Style, title lipgloss.Style) cardPaints {
		on := func(st lipgloss.Style) paint {
			if bg != nil {
				st = st.Inherit(*bg)
			}
			return newPaint(st)
		}
		cp := cardPaints{
			title: on(title), done: on(s.Done), meta: on(s.Meta), me: on(s.Me), agent: on(s.Agent), attention: on(s.Attention),
			blank: on(lipgloss.NewStyle()),
		}
		for i := range cp.priority {
			cp.priority[i] = on(s.Priority[i])
		}
		return cp
	}
	b.card = mk(nil, s.Title)
	b.selected = mk(&s.Selected, s.TitleSelected)
	return b
}

func newStyles(p theme.Palette) Styles {
	base := lipgloss.NewStyle()
	sel := base.Background(p.Subtle)
	if p.NoColor {
		sel = base.Reverse(true) // what the background said
	}
	return Styles{
		Header:        base.Foreground(p.Text).Bold(true),
		HeaderCurrent: base.Foreground(p.Accent).Bold(true),
		Count:         base.Foreground(p.Muted),
		Rule:          base.Foreground(p.Muted),
		Title:         base.Foreground(p.Text),
		TitleSelected: base.Foreground(p.Text).Bold(true),
		Selected:      sel,
		Marker:        base.Foreground(p.Accent),
		Meta:          base.Foreground(p.Muted),
		Priority: [4]lipgloss.Style{
			store.PriorityLow:    base.Foreground(p.Muted),
			store.PriorityNormal: base.Foreground(p.Text),
			store.PriorityHigh:   base.Foreground(p.Accent),
			store.PriorityUrgent: base.Foreground(p.Warning).Bold(true),
		},
		Me:          base.Foreground(p.Text),
		Agent:       base.Foreground(p.Assistant),
		Footer:      base.Foreground(p.Muted),
		Prompt:      base.Foreground(p.Accent),
		Error:       base.Foreground(p.Error),
		Label:       base.Foreground(p.Accent).Bold(true),
		DetailTitle: base.Foreground(p.Text).Bold(true),
		EventTime:   base.Foreground(p.Muted),
		EventActor:  base.Foreground(p.Assistant),
		Undone:      base.Foreground(p.Muted).Strikethrough(true),
		Done:        base.Foreground(p.Success),
		Attention:   base.Foreground(p.Warning).Bold(true),
	}
}

// NewStyles builds the pane's styles from p.
func NewStyles(p theme.Palette) Styles {
	s := newStyles(p)
	s.fast = s.buildPaints()
	return s
}

// priorityStyle is the style for p, tolerating values outside the four
// known priorities (a newer spindle may have written one).
func (s Styles) priorityStyle(p store.Priority) lipgloss.Style {
	if p < 0 || int(p) >= len(s.Priority) {
		return s.Meta
	}
	return s.Priority[p]
}

// inputStyles are the one-line input's styles, every part from s (the
// input's defaults are colour literals of its own). The cursor does not
// blink: a blinking cursor is a ticker.
func inputStyles(s Styles) textinput.Styles {
	var st textinput.Styles
	state := textinput.StyleState{Placeholder: s.Meta, Suggestion: s.Meta, Prompt: s.Prompt, Text: s.Title}
	st.Focused, st.Blurred = state, state
	st.Cursor = textinput.CursorStyle{Color: theme.Visible(s.Prompt.GetForeground()), Shape: tea.CursorBlock}
	return st
}

// textareaStyles are the body editor's styles, like inputStyles.
func textareaStyles(s Styles) textarea.Styles {
	var st textarea.Styles
	state := textarea.StyleState{
		CursorLine: s.Title, CursorLineNumber: s.Meta, EndOfBuffer: s.Meta, LineNumber: s.Meta,
		Placeholder: s.Meta, Prompt: s.Rule, Selection: s.Title.Reverse(true), Text: s.Title,
	}
	st.Focused, st.Blurred = state, state
	st.Cursor = textarea.CursorStyle{Color: theme.Visible(s.Prompt.GetForeground()), Shape: tea.CursorBlock}
	return st
}

// SetPalette switches the pane to p: its styles, its inputs' and the
// markdown style of a card's body; an open card is drawn again.
func (m *Model) SetPalette(p theme.Palette) {
	m.styles = NewStyles(p)
	m.md = markdown.ForPalette(p)
	m.input.SetStyles(inputStyles(m.styles))
	m.form.title.SetStyles(inputStyles(m.styles))
	m.form.body.SetStyles(textareaStyles(m.styles))
	m.detail.bodyKey = ""
	if m.mode == modeDetail || m.back == modeDetail {
		m.rebuildDetail()
	}
}
