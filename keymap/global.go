package keymap

import "charm.land/bubbles/v2/key"

// Global holds the bindings that work whichever pane has focus.
type Global struct {
	// Interrupt is Ctrl-C: interrupt a stream, else clear the input, else
	// arm quit; a second press within two seconds quits.
	Interrupt  key.Binding
	Stop       key.Binding
	SwitchPane key.Binding
	Help       key.Binding
}

func defaultGlobal() Global {
	return Global{
		Interrupt:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "interrupt / clear / quit")),
		Stop:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "stop the stream")),
		SwitchPane: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "switch pane")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
	}
}

func (g *Global) register(pane string, m map[string]*key.Binding) {
	m[pane+".interrupt"] = &g.Interrupt
	m[pane+".stop"] = &g.Stop
	m[pane+".switch_pane"] = &g.SwitchPane
	m[pane+".help"] = &g.Help
}
