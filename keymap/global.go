package keymap

import "charm.land/bubbles/v2/key"

// Global holds the bindings that work whichever pane has focus.
type Global struct {
	// Interrupt is Ctrl-C: interrupt a stream, else clear the input, else
	// arm quit; a second press within two seconds quits.
	Interrupt key.Binding
	// Stop interrupts a running stream (and closes the help overlay); it
	// never quits.
	Stop key.Binding
	// SwitchPane moves the focus between the chat and the kanban pane (and
	// switches the tab in the narrow layout).
	SwitchPane key.Binding
	// Help opens and closes the full help overlay. A printable key here
	// (the default "?") types itself while the chat input holds text.
	Help key.Binding
	// Palette opens the command palette: every command and action, found
	// by typing part of its name.
	Palette key.Binding
}

func defaultGlobal() Global {
	return Global{
		Interrupt:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "interrupt / clear / quit")),
		Stop:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "stop the stream")),
		SwitchPane: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "switch pane")),
		Help:       key.NewBinding(key.WithKeys("?", "f1"), key.WithHelp("?", "help")),
		Palette:    key.NewBinding(key.WithKeys("ctrl+p"), key.WithHelp("ctrl+p", "commands")),
	}
}

func (g *Global) register(pane string, m map[string]*key.Binding) {
	m[pane+".interrupt"] = &g.Interrupt
	m[pane+".stop"] = &g.Stop
	m[pane+".switch_pane"] = &g.SwitchPane
	m[pane+".help"] = &g.Help
	m[pane+".palette"] = &g.Palette
}

// ShortHelp is the global part of the status bar's key hints.
func (g Global) ShortHelp() []key.Binding {
	return []key.Binding{g.SwitchPane, g.Palette, g.Interrupt, g.Help}
}

// FullHelp is the global column of the help overlay.
func (g Global) FullHelp() []key.Binding {
	return []key.Binding{g.Interrupt, g.Stop, g.SwitchPane, g.Palette, g.Help}
}
