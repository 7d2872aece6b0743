package transcript

import (
	"charm.land/lipgloss/v2"

	"github.com/spindle-sh/spindle/tui/theme"
)

// Styles is how a transcript is drawn, built once from the palette.
type Styles struct {
	User        lipgloss.Style // the "you" header
	Assistant   lipgloss.Style // the assistant's header
	Body        lipgloss.Style // plain text (user messages, the open tail)
	Tool        lipgloss.Style // tool call lines
	ToolOK      lipgloss.Style // a tool's result
	Note        lipgloss.Style // notes from commands
	Queued      lipgloss.Style // a message typed ahead, waiting to be sent
	Interrupted lipgloss.Style // the "interrupted" mark
	Failed      lipgloss.Style // the "failed" mark and errors
	Spinner     lipgloss.Style // the waiting spinner
	Output      lipgloss.Style // a tool's output, shown expanded
	DiffAdd     lipgloss.Style // an added line of a diff
	DiffDel     lipgloss.Style // a removed line of a diff
	DiffHunk    lipgloss.Style // a diff's @@ line
	Awaiting    lipgloss.Style // "waiting for your approval"
}

// NewStyles builds the styles from a palette.
func NewStyles(p theme.Palette) Styles {
	base := lipgloss.NewStyle()
	return Styles{
		User:        base.Foreground(p.Accent).Bold(true),
		Assistant:   base.Foreground(p.Assistant).Bold(true),
		Body:        base.Foreground(p.Text),
		Tool:        base.Foreground(p.Muted),
		ToolOK:      base.Foreground(p.Success),
		Note:        base.Foreground(p.Muted).Italic(true),
		Queued:      base.Foreground(p.Muted).Italic(true),
		Interrupted: base.Foreground(p.Warning).Bold(true),
		Failed:      base.Foreground(p.Error).Bold(true),
		Spinner:     base.Foreground(p.Assistant),
		Output:      base.Foreground(p.Muted),
		DiffAdd:     base.Foreground(p.Success),
		DiffDel:     base.Foreground(p.Error),
		DiffHunk:    base.Foreground(p.Accent),
		Awaiting:    base.Foreground(p.Warning).Bold(true),
	}
}

// Restyle drops every entry's rendered lines, after the styles or the
// markdown style changed; the next frame renders the visible ones again.
func (h *Transcript) Restyle() {
	for _, it := range h.items {
		it.restyle()
	}
}

func (it *Item) restyle() {
	it.cache = nil
	it.gen++
	it.tail = tailCache{}
	// The closed blocks are drawn again in the new style; the scanner's
	// state (a part may start inside a code fence) stays.
	it.closedLines, it.closedEnd, it.closedWidth = nil, 0, 0
}
