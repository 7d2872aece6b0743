// Package markdown renders markdown to styled terminal lines: the one
// glamour set-up every pane uses (the chat's replies, a card's body), one
// renderer per width, and the block scanner that lets a streaming reply
// render each closed block once.
//
// Glamour is the expensive part of drawing a reply (≈0.3 MB/s on the kind
// of machine spindle is measured on), so callers cache what Render returns.
package markdown

import (
	"reflect"
	"strings"

	"charm.land/glamour/v2"
	"charm.land/glamour/v2/ansi"
	"charm.land/glamour/v2/styles"
	xansi "github.com/charmbracelet/x/ansi"

	"github.com/spindle-sh/spindle/tui/theme"
)

// Renderer renders markdown at any width. It is not safe for concurrent
// use: the UI goroutine owns it.
type Renderer struct {
	style     ansi.StyleConfig
	renderers map[int]*glamour.TermRenderer
	renders   int
}

// New returns a renderer with spindle's style: glamour's dark or light
// style without the document margins (the panes draw their own).
func New(dark bool) *Renderer { return newRenderer(dark, false) }

// ForPalette is the renderer for a palette: its dark or light style, and,
// for NO_COLOR, that style without a single colour (headings stay bold,
// emphasis italic, code blocks unhighlighted).
func ForPalette(p theme.Palette) *Renderer { return newRenderer(p.Dark, p.NoColor) }

func newRenderer(dark, noColor bool) *Renderer {
	cfg := styles.DarkStyleConfig
	if !dark {
		cfg = styles.LightStyleConfig
	}
	if noColor {
		withoutColour(reflect.ValueOf(&cfg).Elem())
	}
	zero := uint(0)
	cfg.Document.Margin = &zero
	cfg.Document.BlockPrefix = ""
	cfg.Document.BlockSuffix = ""
	return &Renderer{style: cfg, renderers: map[int]*glamour.TermRenderer{}}
}

// withoutColour clears every colour of a glamour style: the Color and
// BackgroundColor of each style primitive, and the code blocks' Chroma
// (syntax colours). It walks v, a struct held by value, and never goes
// through a pointer, so glamour's own style variables stay as they are.
func withoutColour(v reflect.Value) {
	t := v.Type()
	for i := range v.NumField() {
		f, sf := v.Field(i), t.Field(i)
		switch {
		case sf.Name == "Color" || sf.Name == "BackgroundColor" || sf.Name == "Chroma":
			if f.Kind() == reflect.Pointer && f.CanSet() {
				f.Set(reflect.Zero(f.Type()))
			}
		case f.Kind() == reflect.Struct && f.CanSet():
			withoutColour(f)
		}
	}
}

// Renders is how many times glamour ran, for tests of the caching.
func (m *Renderer) Renders() int { return m.renders }

// Render returns md rendered for width columns, as lines with no leading or
// trailing blank line, none wider than width. It falls back to plain
// wrapped text if glamour fails, so text is never lost to a rendering error.
func (m *Renderer) Render(md string, width int) []string {
	width = max(width, 1)
	r, ok := m.renderers[width]
	if !ok {
		var err error
		r, err = glamour.NewTermRenderer(
			glamour.WithStyles(m.style),
			glamour.WithWordWrap(width),
			// Chroma's 256-colour formatter searches the palette for every
			// token (a third of a reply's render time); true colour costs
			// nothing and the renderer downsamples it to the terminal.
			glamour.WithChromaFormatter("terminal16m"),
		)
		if err != nil {
			return Plain(md, width)
		}
		m.renderers[width] = r
	}
	m.renders++
	out, err := r.Render(ExpandTabs(md))
	if err != nil {
		return Plain(md, width)
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		// glamour pads every line to the wrap width with spaces; trailing
		// blanks only cost bytes on every frame.
		lines[i] = strings.TrimRight(l, " ")
		if xansi.StringWidth(lines[i]) > width {
			lines[i] = xansi.Truncate(lines[i], width, "")
		}
	}
	return TrimBlank(lines)
}

// Plain wraps text to width without styling.
func Plain(text string, width int) []string {
	width = max(width, 1)
	if text == "" {
		return nil
	}
	return strings.Split(xansi.Wrap(ExpandTabs(text), width, ""), "\n")
}

// ExpandTabs replaces tabs (which the sanitizer keeps) with spaces before
// layout: a tab's width on screen depends on the column it lands in, so a
// line holding one could not be cut or padded to an exact width.
func ExpandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	return strings.ReplaceAll(s, "\t", "    ")
}

// TrimBlank drops leading and trailing lines that show nothing.
func TrimBlank(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(xansi.Strip(lines[0])) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(xansi.Strip(lines[len(lines)-1])) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// BlockScanner finds where closed markdown blocks end in a growing text: at
// a blank line outside a fenced code block. It scans each byte once however
// many times the text grows.
type BlockScanner struct {
	scanned int  // bytes of text examined (always at a line start)
	inFence bool // inside ``` or ~~~
	fence   string
	sawText bool  // the current block has a non-blank line
	partial bool  // the next line's start was dropped (Drop inside a line)
	Ends    []int // ends of closed blocks, increasing
}

// Scan examines the complete lines of text not yet seen and records block
// ends. The last, unterminated line is left for the next call. text must
// extend the text of the previous call.
func (s *BlockScanner) Scan(text string) {
	for {
		nl := strings.IndexByte(text[s.scanned:], '\n')
		if nl < 0 {
			return
		}
		line := text[s.scanned : s.scanned+nl]
		s.scanned += nl + 1
		if s.partial {
			// The rest of a line cut by Drop: text, whatever it looks like.
			s.partial = false
			if !s.inFence {
				s.sawText = true
			}
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case s.inFence:
			if strings.HasPrefix(trimmed, s.fence) && strings.Trim(trimmed, s.fence[:1]) == "" {
				s.inFence = false
			}
		case strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~"):
			s.inFence = true
			s.fence = trimmed[:3]
			s.sawText = true
		case trimmed == "":
			if s.sawText {
				s.Ends = append(s.Ends, s.scanned)
				s.sawText = false
			}
		default:
			s.sawText = true
		}
	}
}

// Drop forgets the first n bytes of the text, so that a long text can be
// scanned in pieces with the fence state kept: the next Scan is given the
// text without them, and Ends are shifted to match (ends at or before n are
// dropped). n may reach into the line in progress (but not past it: Scan
// first); the rest of that line then counts as text, neither blank nor a
// fence.
func (s *BlockScanner) Drop(n int) {
	if n > s.scanned {
		s.partial, s.scanned = true, 0
	} else {
		s.scanned -= n
	}
	k := 0
	for _, e := range s.Ends {
		if e > n {
			s.Ends[k] = e - n
			k++
		}
	}
	s.Ends = s.Ends[:k]
}
