// Package theme holds spindle's palette. Every pane builds its own Styles
// value from one Palette, passed down from the root model; no colour literal
// appears anywhere else.
package theme

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Palette is the small set of colours every style is built from.
type Palette struct {
	Text      color.Color // ordinary text
	Muted     color.Color // secondary text, borders of unfocused panes, hints
	Faint     color.Color // separators between hints
	Accent    color.Color // focus, selection, the user's messages
	Assistant color.Color // the assistant's name and streaming marks
	Success   color.Color // done, complete
	Warning   color.Color // interrupted, blocked, urgent
	Error     color.Color // failures
	Subtle    color.Color // backgrounds of selected rows and the status bar
}

// Default is the palette spindle uses on a dark or light terminal; the
// ANSI-256 colours keep contrast on both.
func Default() Palette {
	return Palette{
		Text:      lipgloss.Color("252"),
		Muted:     lipgloss.Color("244"),
		Faint:     lipgloss.Color("238"),
		Accent:    lipgloss.Color("39"),
		Assistant: lipgloss.Color("141"),
		Success:   lipgloss.Color("42"),
		Warning:   lipgloss.Color("214"),
		Error:     lipgloss.Color("203"),
		Subtle:    lipgloss.Color("236"),
	}
}
