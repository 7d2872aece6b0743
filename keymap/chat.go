package keymap

import "charm.land/bubbles/v2/key"

// Chat holds the chat pane's bindings.
type Chat struct {
	Send key.Binding
}

func defaultChat() Chat {
	return Chat{
		Send: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "send")),
	}
}

func (c *Chat) register(pane string, m map[string]*key.Binding) {
	m[pane+".send"] = &c.Send
}
