package chat

import (
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/spindle-sh/spindle/tui/markdown"
	"github.com/spindle-sh/spindle/tui/theme"
	"github.com/spindle-sh/spindle/tui/transcript"
)

// Styles is how the chat pane draws its own parts; the transcript has its
// own (Transcript).
type Styles struct {
	Transcript   transcript.Styles
	Body         lipgloss.Style // the input's text
	Prompt       lipgloss.Style // the input's prompt
	Muted        lipgloss.Style // placeholders, the welcome text
	PaneTitle    lipgloss.Style // the title when the pane is not focused
	PaneTitleOn  lipgloss.Style // the title when it is
	Separator    lipgloss.Style // the rule above the input
	SeparatorOn  lipgloss.Style // the same rule while focused
	ScrollMarker lipgloss.Style // "↓ more below" while scrolled up
	Selection    lipgloss.Style // text selected with the mouse

	// title are the title's and the rule's styles drawn inline: they are
	// drawn at every frame while a reply streams.
	title titleStyles
}

type titleStyles struct {
	Off, On, Marker, Rule, RuleOn theme.Inline
}

// NewStyles builds the chat's styles from the palette.
func NewStyles(p theme.Palette) Styles {
	base := lipgloss.NewStyle()
	st := Styles{
		Transcript:   transcript.NewStyles(p),
		Body:         base.Foreground(p.Text),
		Prompt:       base.Foreground(p.Accent).Bold(true),
		Muted:        base.Foreground(p.Muted),
		PaneTitle:    base.Foreground(p.Muted),
		PaneTitleOn:  base.Foreground(p.Accent).Bold(true),
		Separator:    base.Foreground(p.Subtle),
		SeparatorOn:  base.Foreground(p.Accent),
		ScrollMarker: base.Foreground(p.Warning),
		Selection:    base.Reverse(true),
	}
	st.title = titleStyles{
		Off: theme.NewInline(st.PaneTitle), On: theme.NewInline(st.PaneTitleOn), Marker: theme.NewInline(st.ScrollMarker),
		Rule: theme.NewInline(st.Separator), RuleOn: theme.NewInline(st.SeparatorOn),
	}
	return st
}

// inputStyles are the input's styles, every part from st (the text area's
// defaults are colour literals of its own). The terminal's cursor takes the
// text's colour; without colour it keeps the terminal's own.
func inputStyles(st *Styles) textarea.Styles {
	var s textarea.Styles
	s.Focused = textarea.StyleState{
		CursorLine: st.Body, CursorLineNumber: st.Muted, EndOfBuffer: st.Muted, LineNumber: st.Muted,
		Placeholder: st.Muted, Prompt: st.Prompt, Selection: st.Body.Reverse(true), Text: st.Body,
	}
	s.Blurred = textarea.StyleState{
		CursorLine: st.Muted, CursorLineNumber: st.Muted, EndOfBuffer: st.Muted, LineNumber: st.Muted,
		Placeholder: st.Muted, Prompt: st.Muted, Selection: st.Muted.Reverse(true), Text: st.Muted,
	}
	s.Cursor = textarea.CursorStyle{Color: theme.Visible(st.Body.GetForeground()), Shape: tea.CursorBlock, Blink: false}
	return s
}

// SetPalette switches the pane to p: the styles and the markdown style are
// rebuilt, and every transcript it holds (the visible one and those of
// turns running elsewhere) drops the renders made with the old ones.
func (m *Model) SetPalette(p theme.Palette) {
	st := NewStyles(p)
	m.st = &st
	m.md = markdown.ForPalette(p)
	m.input.SetStyles(inputStyles(m.st))
	m.spinner.Style = st.Transcript.Spinner
	m.cache.inputKey = ""
	m.view.Restyle()
	for _, t := range m.turns {
		t.view.Restyle()
	}
}
