// Package keymap holds every key binding spindle has, grouped by pane. No key
// is handled anywhere in the UI without a binding here; help text is drawn
// from these bindings; user overrides from the configuration file are applied
// once, at start-up, by Apply.
package keymap

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
)

// KeyMap is every binding, by pane and dialog.
type KeyMap struct {
	Global   Global
	Chat     Chat
	Kanban   Kanban
	Approval Approval
	Sessions Sessions // the session browser (dialogs.go)
	Models   Models   // the model picker (dialogs.go)
}

// Default returns spindle's default bindings.
func Default() KeyMap {
	return KeyMap{
		Global:   defaultGlobal(),
		Chat:     defaultChat(),
		Kanban:   defaultKanban(),
		Approval: defaultApproval(),
		Sessions: defaultSessions(),
		Models:   defaultModels(),
	}
}

// named lists every binding with its override name ("pane.action").
func (k *KeyMap) named() map[string]*key.Binding {
	m := map[string]*key.Binding{}
	k.Global.register("global", m)
	k.Chat.register("chat", m)
	k.Kanban.register("kanban", m)
	k.Approval.register("approval", m)
	k.Sessions.register("sessions", m)
	k.Models.register("models", m)
	return m
}

// Names returns every override name, sorted.
func (k *KeyMap) Names() []string {
	m := k.named()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Apply rebinds the named actions to the given keys, keeping each binding's
// help description. An unknown action name, an empty key list, or a key
// that would then fire two actions while the chat or a dialog has focus
// (one of them could never be reached) is an error that lists what is
// wrong; nothing is applied in that case.
func (k *KeyMap) Apply(overrides map[string][]string) error {
	m := k.named()
	var bad []string
	for name, keys := range overrides {
		if _, ok := m[name]; !ok {
			bad = append(bad, fmt.Sprintf("unknown action %q", name))
		} else if len(keys) == 0 {
			bad = append(bad, fmt.Sprintf("action %q has no keys", name))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("keymap: %s", strings.Join(bad, "; "))
	}
	// Apply to a copy, so that a conflict leaves k as it was.
	c := *k
	m = c.named()
	for name, keys := range overrides {
		b := m[name]
		desc := b.Help().Desc
		b.SetKeys(keys...)
		b.SetHelp(strings.Join(keys, "/"), desc)
	}
	c.Chat.syncEditor()
	// The chat and each dialog are checked apart: a key may mean one
	// thing in the chat and another in a dialog. A conflict between global
	// keys shows up in each; it is reported once.
	seen := map[string]bool{}
	for _, focused := range []map[string]key.Binding{c.chatFocused(), c.sessionsFocused(), c.modelsFocused()} {
		for key, names := range conflicts(focused) {
			sort.Strings(names)
			if msg := fmt.Sprintf("key %q is bound to %s", key, strings.Join(names, " and ")); !seen[msg] {
				seen[msg] = true
				bad = append(bad, msg)
			}
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("keymap: %s", strings.Join(bad, "; "))
	}
	*k = c
	return nil
}

// conflicts returns each key bound to more than one action.
func conflicts(bindings map[string]key.Binding) map[string][]string {
	byKey := map[string][]string{}
	for name, b := range bindings {
		if !b.Enabled() {
			continue
		}
		for _, k := range b.Keys() {
			byKey[k] = append(byKey[k], name)
		}
	}
	out := map[string][]string{}
	for k, names := range byKey {
		if len(names) > 1 {
			out[k] = names
		}
	}
	return out
}
