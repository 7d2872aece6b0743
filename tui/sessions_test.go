package tui

import (
	tea "charm.land/bubbletea/v2"
)

// untilDialog waits for a dialog's command to answer (a page of sessions,
// a list of models).
func (h *harness) untilDialog() tea.Msg {
	h.t.Helper()
	return h.until(func(msg tea.Msg) bool { _, ok := msg.(dialogMsg); return ok })
}
