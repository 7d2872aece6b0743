package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spindle-sh/spindle/tui/cell"
	"github.com/spindle-sh/spindle/tui/chat"
)

// hintRoom is what the status bar keeps for the key hints before it shows
// the token figures: room for the ellipsis that says there are hints (the
// figures say more than the first hint would; ? shows them all).
const hintRoom = 2

// usageLabel is the status bar's token figures for the visible session, in
// at most room cells: the context in use against the window ("12.3k/128k
// 10%"), the tokens sent and received ("↑40k ↓3.1k"), and the cost
// ("$0.04"). When they do not all fit, they go from the right: the cost
// first, the context last. A "~" marks figures that are partly estimated
// (the server did not report every request's usage). A new session shows
// none.
func (m Model) usageLabel(u chat.Usage, room int) string {
	if u.In == 0 && u.Context == 0 {
		return ""
	}
	st := m.st
	est := ""
	if u.Estimated {
		est = "~"
	}
	var parts []string
	if u.Window > 0 {
		pct := u.Context * 100 / int64(u.Window)
		s := fmt.Sprintf(" %s%s/%s %d%% ", est, compactCount(u.Context), compactCount(int64(u.Window)), min(pct, 999))
		if pct >= 90 {
			parts = append(parts, st.bar.Warn.Render(s))
		} else {
			parts = append(parts, st.bar.Status.Render(s))
		}
	} else {
		parts = append(parts, st.bar.Status.Render(" "+est+compactCount(u.Context)+" in context "))
	}
	parts = append(parts, st.bar.Status.Render(fmt.Sprintf(" %s↑%s ↓%s ", est, compactCount(u.In), compactCount(u.Out))))
	if u.Priced {
		parts = append(parts, st.bar.Status.Render(" "+est+dollars(u.Cost)+" "))
	}
	var b strings.Builder
	used := 0
	for _, p := range parts {
		w := cell.Width(p)
		if used+w > room {
			break
		}
		b.WriteString(p)
		used += w
	}
	return b.String()
}

// compactCount writes a token count in at most five characters: 850, 8.2k,
// 12.3k, 128k, 1M.
func compactCount(n int64) string {
	trim := func(s string) string { return strings.Replace(s, ".0", "", 1) }
	switch {
	case n < 1000:
		return strconv.FormatInt(max(n, 0), 10)
	case n < 99_950:
		return trim(fmt.Sprintf("%.1fk", float64(n)/1e3))
	case n < 999_500:
		return fmt.Sprintf("%dk", (n+500)/1000)
	default:
		return trim(fmt.Sprintf("%.1fM", float64(n)/1e6))
	}
}

// dollars writes a cost: "$0.04", and "<$0.01" for a cost that rounds to
// nothing.
func dollars(c float64) string {
	if c > 0 && c < 0.005 {
		return "<$0.01"
	}
	return fmt.Sprintf("$%.2f", c)
}
