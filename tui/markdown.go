package tui

import (
	"strings"

	"charm.land/glamour/v2"
	"charm.land/glamour/v2/styles"
	"github.com/charmbracelet/x/ansi"
)

// markdown renders markdown to styled lines at a given width. It keeps one
// glamour renderer per width; glamour is the expensive part of drawing a
// reply (≈0.3 MB/s), so callers cache what it returns and render each closed
// block once.
type markdown struct {
	renderers map[int]*glamour.TermRenderer
	renders   int // glamour calls made, for tests of the caching
}

func newMarkdown() *markdown {
	return &markdown{renderers: map[int]*glamour.TermRenderer{}}
}

// render returns md rendered for width columns, as lines with no leading or
// trailing blank line. It falls back to plain wrapped text if glamour fails,
// so a reply is never lost to a rendering error.
func (m *markdown) render(md string, width int) []string {
	width = max(width, 1)
	r, ok := m.renderers[width]
	if !ok {
		cfg := styles.DarkStyleConfig
		zero := uint(0)
		cfg.Document.Margin = &zero
		cfg.Document.BlockPrefix = ""
		cfg.Document.BlockSuffix = ""
		var err error
		r, err = glamour.NewTermRenderer(
			glamour.WithStyles(cfg),
			glamour.WithWordWrap(width),
			// Chroma's 256-colour formatter searches the palette for every
			// token (a third of a reply's render time); true colour costs
			// nothing and the renderer downsamples it to the terminal.
			glamour.WithChromaFormatter("terminal16m"),
		)
		if err != nil {
			return plainLines(md, width)
		}
		m.renderers[width] = r
	}
	m.renders++
	out, err := r.Render(expandTabs(md))
	if err != nil {
		return plainLines(md, width)
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		// glamour pads every line to the wrap width with spaces; trailing
		// blanks only cost bytes on every frame.
		lines[i] = strings.TrimRight(l, " ")
		if ansi.StringWidth(lines[i]) > width {
			lines[i] = ansi.Truncate(lines[i], width, "")
		}
	}
	return trimBlank(lines)
}

// plainLines wraps text to width without styling.
func plainLines(text string, width int) []string {
	width = max(width, 1)
	if text == "" {
		return nil
	}
	return strings.Split(ansi.Wrap(expandTabs(text), width, ""), "\n")
}

// expandTabs replaces tabs (which the sanitizer keeps) with spaces before
// layout: a tab's width on screen depends on the column it lands in, so a
// line holding one could not be cut or padded to an exact width.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	return strings.ReplaceAll(s, "\t", "    ")
}

// trimBlank drops leading and trailing lines that show nothing.
func trimBlank(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(ansi.Strip(lines[0])) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(ansi.Strip(lines[len(lines)-1])) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// blockScanner finds where closed markdown blocks end in a growing text: at
// a blank line outside a fenced code block. It scans each byte once however
// many times text grows.
type blockScanner struct {
	scanned int  // bytes of text examined (always at a line start)
	inFence bool // inside ``` or ~~~
	fence   string
	sawText bool  // the current block has a non-blank line
	ends    []int // ends of closed blocks, increasing
}

// scan examines the complete lines of text not yet seen and records block
// ends. The last, unterminated line is left for the next call.
func (s *blockScanner) scan(text string) {
	for {
		nl := strings.IndexByte(text[s.scanned:], '\n')
		if nl < 0 {
			return
		}
		line := text[s.scanned : s.scanned+nl]
		s.scanned += nl + 1
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
				s.ends = append(s.ends, s.scanned)
				s.sawText = false
			}
		default:
			s.sawText = true
		}
	}
}
