package tui

import (
	tea "charm.land/bubbletea/v2"
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

	// bar is the status bar's styles drawn inline: the bar is drawn at
	// every frame while a reply streams.
	bar barStyles
}

// barStyles are Status, StatusModel, StatusState, StatusWarn and
// StatusError as theme.Inline.
type barStyles struct {
	Status, Model, State, Warn, Error theme.Inline
}

// NewStyles builds the styles from a palette. Without colour (NO_COLOR)
// the status bar and a selected row are drawn in reverse video, which is
// what their background colour said.
func NewStyles(p theme.Palette) Styles {
	base := lipgloss.NewStyle()
	bar, sel := base.Background(p.Subtle), base.Background(p.Subtle)
	if p.NoColor {
		bar, sel = base.Reverse(true), base.Reverse(true)
	}
	st := Styles{
		Body:        base.Foreground(p.Text),
		Key:         base.Foreground(p.Accent).Bold(true),
		Muted:       base.Foreground(p.Muted),
		Faint:       base.Foreground(p.Faint),
		PaneTitle:   base.Foreground(p.Muted),
		PaneTitleOn: base.Foreground(p.Accent).Bold(true),
		Separator:   base.Foreground(p.Subtle),
		Status:      bar.Foreground(p.Text),
		StatusModel: bar.Foreground(p.Assistant).Bold(true),
		StatusState: bar.Foreground(p.Success),
		StatusWarn:  bar.Foreground(p.Warning).Bold(true),
		StatusError: bar.Foreground(p.Error).Bold(true),
		HelpTitle:   base.Foreground(p.Accent).Bold(true),
		Selected:    sel.Foreground(p.Text).Bold(true),
		Border:      base.Foreground(p.Accent),
	}
	st.bar = barStyles{
		Status: theme.NewInline(st.Status), Model: theme.NewInline(st.StatusModel), State: theme.NewInline(st.StatusState),
		Warn: theme.NewInline(st.StatusWarn), Error: theme.NewInline(st.StatusError),
	}
	return st
}

// applyStyles builds the root's styles from its palette and gives them to
// the key help, whose defaults are colour literals of bubbles' own.
func (m *Model) applyStyles() {
	st := NewStyles(m.palette)
	m.st = &st
	m.help.Styles.ShortKey = st.Muted.Bold(true)
	m.help.Styles.ShortDesc = st.Muted
	m.help.Styles.FullKey = st.Key
	m.help.Styles.FullDesc = st.Body
	m.help.Styles.ShortSeparator = st.Faint
	m.help.Styles.FullSeparator = st.Faint
	m.help.Styles.Ellipsis = st.Faint
}

// setPalette switches every pane to p: the styles are rebuilt and every
// cached render drawn with the old ones is dropped.
func (m *Model) setPalette(p theme.Palette) {
	m.palette = p
	m.applyStyles()
	m.cache.hintsKey = ""
	m.chat.SetPalette(p)
	m.kanban.SetPalette(p)
	m.kanbanGen++
}

// themeCmd asks the terminal for its background colour when the palette
// follows it (theme = "auto"); the answer is a tea.BackgroundColorMsg.
func (m Model) themeCmd() tea.Cmd {
	if !m.followTheme {
		return nil
	}
	return tea.RequestBackgroundColor
}

// backgroundColor switches to the palette for the terminal's background,
// when the palette follows it and the background is not the one assumed.
func (m Model) backgroundColor(msg tea.BackgroundColorMsg) (Model, tea.Cmd) {
	if !m.followTheme || msg.Color == nil {
		return m, nil
	}
	if dark := msg.IsDark(); dark != m.palette.Dark {
		m.setPalette(m.palette.WithBackground(dark))
	}
	return m, nil
}
