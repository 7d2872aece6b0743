package tui

import (
	"charm.land/lipgloss/v2"

	"github.com/spindle-sh/spindle/tui/theme"
)

// Styles is what the root model draws with: the status bar, the tab bar,
// the rule between the panes and the overlays. The panes build their own
// from the same palette.
type Styles struct {
	Body        lipgloss.Style // ordinary text in overlays
	Key         lipgloss.Style // a key or command name in overlays
	Muted       lipgloss.Style // hints
	Faint       lipgloss.Style // separators between hints
	PaneTitle   lipgloss.Style // an unfocused tab
	PaneTitleOn lipgloss.Style // the focused tab, section titles
	Separator   lipgloss.Style // the rule between the panes
	Status      lipgloss.Style // the status bar's background
	StatusModel lipgloss.Style // the model name in the status bar
	StatusState lipgloss.Style // the state in the status bar
	StatusWarn  lipgloss.Style // "press Ctrl-C again to quit", interrupted, --yolo
	StatusError lipgloss.Style // an error in the status bar
	HelpTitle   lipgloss.Style // an overlay's title
	Selected    lipgloss.Style // the selected row of a list overlay
	Border      lipgloss.Style // an overlay's frame
}

// NewStyles builds the styles from a palette.
func NewStyles(p theme.Palette) Styles {
	base := lipgloss.NewStyle()
	return Styles{
		Body:        base.Foreground(p.Text),
		Key:         base.Foreground(p.Accent).Bold(true),
		Muted:       base.Foreground(p.Muted),
		Faint:       base.Foreground(p.Faint),
		PaneTitle:   base.Foreground(p.Muted),
		PaneTitleOn: base.Foreground(p.Accent).Bold(true),
		Separator:   base.Foreground(p.Subtle),
		Status:      base.Background(p.Subtle).Foreground(p.Text),
		StatusModel: base.Background(p.Subtle).Foreground(p.Assistant).Bold(true),
		StatusState: base.Background(p.Subtle).Foreground(p.Success),
		StatusWarn:  base.Background(p.Subtle).Foreground(p.Warning).Bold(true),
		StatusError: base.Background(p.Subtle).Foreground(p.Error).Bold(true),
		HelpTitle:   base.Foreground(p.Accent).Bold(true),
		Selected:    base.Background(p.Subtle).Foreground(p.Text).Bold(true),
		Border:      base.Foreground(p.Accent),
	}
}
