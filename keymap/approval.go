package keymap

import "charm.land/bubbles/v2/key"

// Approval holds the approval dialog's bindings: the answers to "may the
// agent run this?". Keys typed in the half second before the dialog opened
// never answer it (the dialog ignores keys until then).
type Approval struct {
	// Once allows this call only.
	Once key.Binding
	// Session allows this exact call for the rest of the session.
	Session key.Binding
	// Always allows this exact call in this project from now on (saved as
	// a rule the person can read and delete).
	Always key.Binding
	// Deny refuses it; the model is told.
	Deny key.Binding
	// DenyNote refuses it with a note the model sees.
	DenyNote key.Binding
}

func defaultApproval() Approval {
	return Approval{
		Once:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "allow once")),
		Session:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "allow for this session")),
		Always:   key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "always allow in this project")),
		Deny:     key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "deny")),
		DenyNote: key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "deny with a note")),
	}
}

func (k *Approval) register(pane string, m map[string]*key.Binding) {
	m[pane+".once"] = &k.Once
	m[pane+".session"] = &k.Session
	m[pane+".always"] = &k.Always
	m[pane+".deny"] = &k.Deny
	m[pane+".deny_note"] = &k.DenyNote
}

// ShortHelp is the dialog's line of hints.
func (k Approval) ShortHelp() []key.Binding {
	return []key.Binding{k.Once, k.Session, k.Always, k.Deny, k.DenyNote}
}

// FullHelp is the dialog's column of the help overlay.
func (k Approval) FullHelp() []key.Binding { return k.ShortHelp() }
