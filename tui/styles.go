package tui

import (
	"charm.land/lipgloss/v2"

	"github.com/spindle-sh/spindle/tui/theme"
)

// Styles is every style the root model and the chat pane draw with, built
// once from the palette and passed down.
type Styles struct {
	User         lipgloss.Style // the "you" header
	Assistant    lipgloss.Style // the assistant's header
	Body         lipgloss.Style // plain text (user messages, the open tail)
	Tool         lipgloss.Style // tool call lines
	ToolOK       lipgloss.Style // a tool's result
	Note         lipgloss.Style // notes from slash commands
	Interrupted  lipgloss.Style // the "interrupted" mark
	Failed       lipgloss.Style // the "failed" mark and errors
	Muted        lipgloss.Style // hints, placeholders
	Faint        lipgloss.Style // separators between hints
	PaneTitle    lipgloss.Style // an unfocused pane's title
	PaneTitleOn  lipgloss.Style // the focused pane's title
	Separator    lipgloss.Style // the rule between the panes and above the input
	SeparatorOn  lipgloss.Style // the same rule next to the focused pane
	Status       lipgloss.Style // the status bar's background
	StatusModel  lipgloss.Style // the model name in the status bar
	StatusState  lipgloss.Style // the state in the status bar
	StatusWarn   lipgloss.Style // "press Ctrl-C again to quit", interrupted
	StatusError  lipgloss.Style // an error in the status bar
	HelpTitle    lipgloss.Style // the help overlay's title
	Spinner      lipgloss.Style // the waiting spinner
	ScrollMarker lipgloss.Style // "↓ more below" while scrolled up
}

// NewStyles builds the styles from a palette.
func NewStyles(p theme.Palette) Styles {
	base := lipgloss.NewStyle()
	return Styles{
		User:         base.Foreground(p.Accent).Bold(true),
		Assistant:    base.Foreground(p.Assistant).Bold(true),
		Body:         base.Foreground(p.Text),
		Tool:         base.Foreground(p.Muted),
		ToolOK:       base.Foreground(p.Success),
		Note:         base.Foreground(p.Muted).Italic(true),
		Interrupted:  base.Foreground(p.Warning).Bold(true),
		Failed:       base.Foreground(p.Error).Bold(true),
		Muted:        base.Foreground(p.Muted),
		Faint:        base.Foreground(p.Faint),
		PaneTitle:    base.Foreground(p.Muted),
		PaneTitleOn:  base.Foreground(p.Accent).Bold(true),
		Separator:    base.Foreground(p.Subtle),
		SeparatorOn:  base.Foreground(p.Accent),
		Status:       base.Background(p.Subtle).Foreground(p.Text),
		StatusModel:  base.Background(p.Subtle).Foreground(p.Assistant).Bold(true),
		StatusState:  base.Background(p.Subtle).Foreground(p.Success),
		StatusWarn:   base.Background(p.Subtle).Foreground(p.Warning).Bold(true),
		StatusError:  base.Background(p.Subtle).Foreground(p.Error).Bold(true),
		HelpTitle:    base.Foreground(p.Accent).Bold(true),
		Spinner:      base.Foreground(p.Assistant),
		ScrollMarker: base.Foreground(p.Warning),
	}
}
