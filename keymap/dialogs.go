package keymap

import "charm.land/bubbles/v2/key"

// The dialogs' bindings. A dialog has a text field that takes every
// printable key (the session browser's search, the model picker's name), so
// its actions are on Enter, Tab and Ctrl keys; its list moves with the
// arrows, PgUp/PgDn and Home/End like every list overlay, and Esc
// (Global.Stop) closes it.

// Sessions holds the session browser's bindings (/sessions).
type Sessions struct {
	// Open shows the selected session in the chat; while a title is being
	// edited it saves the title.
	Open key.Binding
	// Rename edits the selected session's title in place.
	Rename key.Binding
	// Delete asks to delete the selected session and its messages.
	Delete key.Binding
	// Confirm accepts the delete question; any other key declines it.
	Confirm key.Binding
	// ShowAll shows or hides the sessions made by `spindle run` and by
	// workers, which are hidden at first.
	ShowAll key.Binding
}

func defaultSessions() Sessions {
	return Sessions{
		Open:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Rename:  key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "rename")),
		Delete:  key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "delete")),
		Confirm: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "confirm the delete")),
		ShowAll: key.NewBinding(key.WithKeys("ctrl+t"), key.WithHelp("ctrl+t", "show/hide run and worker sessions")),
	}
}

func (s *Sessions) register(pane string, m map[string]*key.Binding) {
	m[pane+".open"] = &s.Open
	m[pane+".rename"] = &s.Rename
	m[pane+".delete"] = &s.Delete
	m[pane+".confirm"] = &s.Confirm
	m[pane+".show_all"] = &s.ShowAll
}

// ShortHelp is the session browser's hint line (its title line names
// ShowAll).
func (s Sessions) ShortHelp() []key.Binding {
	return []key.Binding{s.Open, s.Rename, s.Delete}
}

// FullHelp is the session browser's columns of the help overlay.
func (s Sessions) FullHelp() [][]key.Binding {
	return [][]key.Binding{{s.Open, s.Rename, s.Delete}, {s.Confirm, s.ShowAll}}
}

// Models holds the model picker's bindings (/model).
type Models struct {
	// Choose uses the selected model (or the typed name) from the next
	// message on.
	Choose key.Binding
	// Refresh asks the endpoint for its models again.
	Refresh key.Binding
	// NextEndpoint and PrevEndpoint show another configured endpoint's
	// models; choosing one of them switches to that endpoint.
	NextEndpoint key.Binding
	PrevEndpoint key.Binding
}

func defaultModels() Models {
	return Models{
		Choose:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
		Refresh:      key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "ask the endpoint again")),
		NextEndpoint: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next endpoint")),
		PrevEndpoint: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous endpoint")),
	}
}

func (s *Models) register(pane string, m map[string]*key.Binding) {
	m[pane+".choose"] = &s.Choose
	m[pane+".refresh"] = &s.Refresh
	m[pane+".next_endpoint"] = &s.NextEndpoint
	m[pane+".prev_endpoint"] = &s.PrevEndpoint
}

// ShortHelp is the model picker's hint line.
func (s Models) ShortHelp() []key.Binding {
	return []key.Binding{s.Choose, s.Refresh, s.NextEndpoint}
}

// FullHelp is the model picker's columns of the help overlay.
func (s Models) FullHelp() [][]key.Binding {
	return [][]key.Binding{{s.Choose, s.Refresh}, {s.NextEndpoint, s.PrevEndpoint}}
}

// sessionsFocused and modelsFocused list, by name, every binding that can
// fire while that dialog is on top: its own and the global keys that
// overlays answer (Ctrl-C and Esc).
func (k KeyMap) sessionsFocused() map[string]key.Binding {
	s := k.Sessions
	return map[string]key.Binding{
		"global.interrupt": k.Global.Interrupt, "global.stop": k.Global.Stop,
		"sessions.open": s.Open, "sessions.rename": s.Rename, "sessions.delete": s.Delete, "sessions.show_all": s.ShowAll,
	}
}

func (k KeyMap) modelsFocused() map[string]key.Binding {
	s := k.Models
	return map[string]key.Binding{
		"global.interrupt": k.Global.Interrupt, "global.stop": k.Global.Stop,
		"models.choose": s.Choose, "models.refresh": s.Refresh,
		"models.next_endpoint": s.NextEndpoint, "models.prev_endpoint": s.PrevEndpoint,
	}
}
