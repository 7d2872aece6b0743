package chat

import (
	"charm.land/lipgloss/v2"

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
}

// NewStyles builds the chat's styles from the palette.
func NewStyles(p theme.Palette) Styles {
	base := lipgloss.NewStyle()
	return Styles{
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
}
