package keymap

import (
	"strings"
	"testing"
)

func TestDialogKeysDoNotConflict(t *testing.T) {
	k := Default()
	for _, c := range []struct {
		name    string
		focused func() int
	}{
		{"sessions", func() int { return len(conflicts(k.sessionsFocused())) }},
		{"models", func() int { return len(conflicts(k.modelsFocused())) }},
	} {
		if n := c.focused(); n != 0 {
			t.Errorf("%s dialog: %d keys bound twice", c.name, n)
		}
	}
	// Negative control: rename on Ctrl-D as well trips the check.
	k.Sessions.Rename.SetKeys("ctrl+r", "ctrl+d")
	if len(conflicts(k.sessionsFocused())) == 0 {
		t.Fatal("conflict check missed ctrl+d bound to rename and delete")
	}
}

// TestApplyChecksTheDialogs: a key may mean one thing in the chat and
// another in a dialog (ctrl+r is rename in the browser and refresh in the
// picker), but not two things in one dialog.
func TestApplyChecksTheDialogs(t *testing.T) {
	k := Default()
	err := k.Apply(map[string][]string{"sessions.delete": {"ctrl+r"}})
	if err == nil || !strings.Contains(err.Error(), "sessions.delete and sessions.rename") {
		t.Fatalf("Apply(sessions.delete=ctrl+r) = %v, want a conflict naming both", err)
	}
	if err := k.Apply(map[string][]string{"models.refresh": {"ctrl+d"}}); err != nil {
		t.Errorf("a key used by another dialog was refused: %v", err)
	}
	// A global conflict is reported once, not once per dialog.
	err = k.Apply(map[string][]string{"global.stop": {"ctrl+c"}})
	if err == nil || strings.Count(err.Error(), `"ctrl+c"`) != 1 {
		t.Errorf("Apply(global.stop=ctrl+c) = %v, want one conflict", err)
	}
}

func TestDialogKeysHaveHelpAndOverrideNames(t *testing.T) {
	k := Default()
	names := map[string]bool{}
	for _, n := range k.Names() {
		names[n] = true
	}
	for _, want := range []string{"sessions.open", "sessions.rename", "sessions.delete", "sessions.confirm", "sessions.show_all",
		"models.choose", "models.refresh", "models.next_endpoint", "models.prev_endpoint"} {
		if !names[want] {
			t.Errorf("no override name %q", want)
		}
	}
	for _, group := range append(k.Sessions.FullHelp(), k.Models.FullHelp()...) {
		for _, b := range group {
			if h := b.Help(); h.Key == "" || h.Desc == "" {
				t.Errorf("binding %v has no help", b.Keys())
			}
		}
	}
}
