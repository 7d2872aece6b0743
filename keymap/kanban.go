package keymap

import "charm.land/bubbles/v2/key"

// Kanban holds the kanban pane's bindings.
type Kanban struct {
	Up key.Binding
}

func defaultKanban() Kanban {
	return Kanban{
		Up: key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
	}
}

func (k *Kanban) register(pane string, m map[string]*key.Binding) {
	m[pane+".up"] = &k.Up
}
