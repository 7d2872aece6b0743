// Package theme holds spindle's palettes. Every pane builds its own Styles
// value from one Palette, passed down from the root model; no colour literal
// appears anywhere else.
//
// There are two palettes, for dark and for light terminal backgrounds, and a
// colourless variant of each for NO_COLOR (https://no-color.org/). The
// configuration's theme setting picks one ("dark", "light"), or "auto" lets
// the terminal's reported background decide: the program starts with the
// dark palette and switches when the terminal answers.
package theme

import (
	"image/color"
	"strings"

	"charm.land/lipgloss/v2"
)

// Palette is the small set of colours every style is built from, and what
// kind of palette it is.
type Palette struct {
	// Dark says the palette is for a dark background; the markdown style
	// and the text inputs' built-in styles follow it.
	Dark bool
	// NoColor says NO_COLOR is set: every colour below is unset, and the
	// styles carry what colour would (the status bar, a selection) with
	// reverse video and bold instead.
	NoColor bool

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

// Dark is the palette for a dark background (ANSI-256 colours).
func Dark() Palette {
	return Palette{
		Dark:      true,
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

// Light is the palette for a light background: dark text, and accents deep
// enough to read on white.
func Light() Palette {
	return Palette{
		Dark:      false,
		Text:      lipgloss.Color("235"),
		Muted:     lipgloss.Color("242"),
		Faint:     lipgloss.Color("250"),
		Accent:    lipgloss.Color("25"),
		Assistant: lipgloss.Color("91"),
		Success:   lipgloss.Color("28"),
		Warning:   lipgloss.Color("130"),
		Error:     lipgloss.Color("160"),
		Subtle:    lipgloss.Color("254"),
	}
}

// Default is the dark palette: what spindle draws with before it knows
// better.
func Default() Palette { return Dark() }

// Plain is the NO_COLOR palette for a dark or light background: no colour
// at all.
func Plain(dark bool) Palette {
	none := lipgloss.NoColor{}
	return Palette{
		Dark: dark, NoColor: true,
		Text: none, Muted: none, Faint: none, Accent: none, Assistant: none,
		Success: none, Warning: none, Error: none, Subtle: none,
	}
}

// NoColorSet reports whether the environment asks for no colour: NO_COLOR
// set to anything but the empty string. getenv is os.Getenv outside tests.
func NoColorSet(getenv func(string) string) bool { return getenv("NO_COLOR") != "" }

// The theme settings, as config.File.Theme spells them.
const (
	SettingAuto  = "auto"
	SettingDark  = "dark"
	SettingLight = "light"
)

// For is the palette to start with for a theme setting, and whether it
// should follow the terminal's background once that is known (setting
// "auto", or anything unknown). noColor is NoColorSet.
func For(setting string, noColor bool) (p Palette, follow bool) {
	dark := setting != SettingLight
	follow = setting != SettingDark && setting != SettingLight
	if noColor {
		return Plain(dark), follow
	}
	if dark {
		return Dark(), follow
	}
	return Light(), follow
}

// WithBackground is the palette of the same kind (coloured or not) for a
// dark or a light background.
func (p Palette) WithBackground(dark bool) Palette {
	switch {
	case p.NoColor:
		return Plain(dark)
	case dark:
		return Dark()
	}
	return Light()
}

// Visible is c, or nil when c is no colour (lipgloss.NoColor): for the
// settings that take a colour as "set this", such as the terminal cursor's,
// where no colour must mean "leave it alone".
func Visible(c color.Color) color.Color {
	if _, none := c.(lipgloss.NoColor); none {
		return nil
	}
	return c
}

// Inline is a style for a run of text on one line, drawn as the escape
// sequences lipgloss writes around such a run: two concatenations instead
// of a Render, which costs microseconds. The status bar and the panes'
// titles are drawn at every frame while a reply streams, so their styles
// are Inline. A style that does more than colour and attributes
// (padding, width, borders) is not reduced: Render falls back to lipgloss,
// and so does text that spans lines or holds tabs.
type Inline struct {
	style     lipgloss.Style
	pre, post string
	exact     bool
}

// inlineProbes are texts whose rendering must be the probe's, wrapped the
// same way, for a style to be drawn inline.
var inlineProbes = []string{"a b", " idle ", " ~↑16 ↓20 ", "日本語", "x"}

// NewInline reduces s to the sequences it writes around a run of text,
// when rendering shows it does nothing else.
func NewInline(s lipgloss.Style) Inline {
	in := Inline{style: s}
	r := s.Render("x")
	i := strings.Index(r, "x")
	if i < 0 {
		return in
	}
	in.pre, in.post = r[:i], r[i+1:]
	for _, t := range inlineProbes {
		if s.Render(t) != in.pre+t+in.post {
			return in
		}
	}
	in.exact = true
	return in
}

// Render draws text as the style's Render would.
func (in Inline) Render(text string) string {
	if !in.exact || text == "" || strings.ContainsAny(text, "\n\r\t") {
		return in.style.Render(text)
	}
	return in.pre + text + in.post
}

// Style is the lipgloss style, for what Inline does not do.
func (in Inline) Style() lipgloss.Style { return in.style }
