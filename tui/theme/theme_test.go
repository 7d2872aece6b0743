package theme

import (
	"image/color"
	"math"
	"reflect"
	"testing"

	"charm.land/lipgloss/v2"
)

// luminance is the WCAG relative luminance of c.
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		x := float64(v) / 0xffff
		if x <= 0.03928 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is the WCAG contrast ratio of two colours (1 to 21).
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// problems lists the palette's colours that are hard to read on bg: text
// below 7:1, the colours that carry meaning below 4.5:1 (WCAG AA), hints
// below 3.5:1, and the status bar's text on its background below 7:1.
func problems(p Palette, bg color.Color) []string {
	var out []string
	check := func(name string, c, on color.Color, min float64) {
		if r := contrast(c, on); r < min {
			out = append(out, name)
		}
	}
	check("text", p.Text, bg, 7)
	check("muted", p.Muted, bg, 3.5)
	for name, c := range map[string]color.Color{"accent": p.Accent, "assistant": p.Assistant, "success": p.Success, "warning": p.Warning, "error": p.Error} {
		check(name, c, bg, 4.5)
	}
	check("text on subtle", p.Text, p.Subtle, 7)
	return out
}

var (
	darkBackground  = color.RGBA{0x1e, 0x1e, 0x1e, 0xff} // a typical dark terminal
	lightBackground = color.White
)

// Each palette reads on the background it is for; each on the other one
// does not, which shows the check can tell them apart.
func TestPalettesReadOnTheirBackground(t *testing.T) {
	if ps := problems(Dark(), darkBackground); len(ps) > 0 {
		t.Errorf("dark palette on a dark background: %v too faint", ps)
	}
	if ps := problems(Light(), lightBackground); len(ps) > 0 {
		t.Errorf("light palette on a light background: %v too faint", ps)
	}
	if ps := problems(Dark(), lightBackground); len(ps) == 0 {
		t.Error("negative control: the dark palette passes on white, so the check proves nothing")
	}
	if ps := problems(Light(), darkBackground); len(ps) == 0 {
		t.Error("negative control: the light palette passes on a dark background")
	}
}

func TestFor(t *testing.T) {
	for _, tc := range []struct {
		setting          string
		noColor          bool
		dark, nc, follow bool
	}{
		{"auto", false, true, false, true},
		{"", false, true, false, true},
		{"dark", false, true, false, false},
		{"light", false, false, false, false},
		{"light", true, false, true, false},
		{"auto", true, true, true, true},
	} {
		p, follow := For(tc.setting, tc.noColor)
		if p.Dark != tc.dark || p.NoColor != tc.nc || follow != tc.follow {
			t.Errorf("For(%q, %v) = dark %v, no colour %v, follow %v", tc.setting, tc.noColor, p.Dark, p.NoColor, follow)
		}
	}
	if !reflect.DeepEqual(Default(), Dark()) {
		t.Error("Default is not the dark palette")
	}
	if got := Dark().WithBackground(false); !reflect.DeepEqual(got, Light()) {
		t.Error("dark with a light background is not Light")
	}
	if got := Plain(true).WithBackground(false); !reflect.DeepEqual(got, Plain(false)) {
		t.Error("switching the background lost NO_COLOR")
	}
}

// Plain has no colour at all: every colour field is lipgloss.NoColor.
func TestPlainHasNoColour(t *testing.T) {
	v := reflect.ValueOf(Plain(false))
	colours := 0
	for i := range v.NumField() {
		c, ok := v.Field(i).Interface().(color.Color)
		if !ok {
			continue
		}
		colours++
		if _, none := c.(lipgloss.NoColor); !none {
			t.Errorf("Plain().%s = %v", v.Type().Field(i).Name, c)
		}
	}
	if colours != 9 {
		t.Errorf("checked %d colours, want 9: a new field needs a value in Plain", colours)
	}
	if Visible(lipgloss.NoColor{}) != nil || Visible(Dark().Text) == nil {
		t.Error("Visible")
	}
}

func TestNoColorSet(t *testing.T) {
	for v, want := range map[string]bool{"": false, "1": true, "0": true, "yes": true} {
		if got := NoColorSet(func(string) string { return v }); got != want {
			t.Errorf("NO_COLOR=%q: %v", v, got)
		}
	}
}

// TestInlineDrawsAsRender: a style drawn inline writes exactly what
// lipgloss's Render writes, for every palette and texts the probes did not
// try; a style of a fixed width (the control) is not reduced and still
// draws as Render does.
func TestInlineDrawsAsRender(t *testing.T) {
	texts := []string{" streaming 183 tok/s ", " session #12 ", "", "  ", "é", "🙂 wide", " press Ctrl-C again to quit ", "a\nb", "tab\there"}
	for name, p := range map[string]Palette{"dark": Dark(), "light": Light(), "plain": Plain(true)} {
		base := lipgloss.NewStyle()
		for i, s := range []lipgloss.Style{
			base.Foreground(p.Text), base.Background(p.Subtle).Foreground(p.Warning).Bold(true),
			base.Reverse(true), base, base.Foreground(p.Accent).Italic(true).Underline(true),
		} {
			in := NewInline(s)
			if !in.exact && i < 4 { // underlined spaces are drawn apart: not reduced
				t.Errorf("%s style %d: not reduced", name, i)
			}
			for _, text := range texts {
				if got, want := in.Render(text), s.Render(text); got != want {
					t.Errorf("%s style %d, %q: inline %q, Render %q", name, i, text, got, want)
				}
			}
		}
	}
	padded := lipgloss.NewStyle().Foreground(Dark().Text).Width(12)
	in := NewInline(padded)
	if in.exact {
		t.Error("the control: a fixed-width style was reduced to its escape sequences")
	}
	if got, want := in.Render("x y"), padded.Render("x y"); got != want {
		t.Errorf("the control: %q, want %q", got, want)
	}
}
