package keymap

import (
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
)

func TestChatAndGlobalKeysDoNotConflict(t *testing.T) {
	k := Default()
	for key, names := range conflicts(k.chatFocused()) {
		t.Errorf("key %q is bound to %v", key, names)
	}
	// Negative control: the check sees a conflict when there is one.
	k.Chat.Send.SetKeys("enter", "ctrl+c")
	if len(conflicts(k.chatFocused())) == 0 {
		t.Fatal("conflict check missed ctrl+c bound twice")
	}
}

func TestChatDefaults(t *testing.T) {
	k := Default()
	for _, tc := range []struct {
		name string
		b    key.Binding
		want []string
	}{
		{"send", k.Chat.Send, []string{"enter"}},
		{"newline", k.Chat.Newline, []string{"alt+enter", "ctrl+j"}},
		{"page up", k.Chat.PageUp, []string{"pgup"}},
		{"page down", k.Chat.PageDown, []string{"pgdown"}},
		{"top", k.Chat.Top, []string{"home"}},
		{"bottom", k.Chat.Bottom, []string{"end"}},
		{"editor newline", k.Chat.Editor.InsertNewline, []string{"alt+enter", "ctrl+j"}},
	} {
		got := tc.b.Keys()
		if len(got) != len(tc.want) {
			t.Errorf("%s: keys %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: keys %v, want %v", tc.name, got, tc.want)
			}
		}
		if tc.b.Help().Desc == "" {
			t.Errorf("%s: no help text", tc.name)
		}
	}
}

func TestApplyNewlineAlsoRebindsTheEditor(t *testing.T) {
	k := Default()
	if err := k.Apply(map[string][]string{"chat.newline": {"shift+enter"}, "chat.send": {"ctrl+s"}}); err != nil {
		t.Fatal(err)
	}
	if got := k.Chat.Editor.InsertNewline.Keys(); len(got) != 1 || got[0] != "shift+enter" {
		t.Errorf("editor newline keys = %v, want [shift+enter]", got)
	}
	if got := k.Chat.Send.Help(); got.Key != "ctrl+s" || got.Desc != "send" {
		t.Errorf("send help = %+v", got)
	}
}

func TestApplyRejectsUnknownAndEmpty(t *testing.T) {
	k := Default()
	err := k.Apply(map[string][]string{"chat.nope": {"x"}, "chat.send": {}})
	if err == nil {
		t.Fatal("Apply accepted an unknown action and an empty key list")
	}
	if got := k.Chat.Send.Keys(); len(got) != 1 || got[0] != "enter" {
		t.Errorf("a failed Apply changed chat.send to %v", got)
	}
}

func TestEveryChatAndGlobalActionHasAnOverrideName(t *testing.T) {
	k := Default()
	names := map[string]bool{}
	for _, n := range k.Names() {
		names[n] = true
	}
	for _, want := range []string{
		"global.interrupt", "global.stop", "global.switch_pane", "global.help",
		"chat.send", "chat.newline", "chat.page_up", "chat.page_down",
		"chat.line_up", "chat.line_down", "chat.top", "chat.bottom",
	} {
		if !names[want] {
			t.Errorf("no override name %q", want)
		}
	}
}

// TestApplyRejectsConflicts: an override that binds a key already used by
// another action that fires while the chat has focus would make one of
// them unreachable (the global keys are matched first); Apply refuses it
// and changes nothing. A key shared with the kanban pane is allowed.
func TestApplyRejectsConflicts(t *testing.T) {
	k := Default()
	err := k.Apply(map[string][]string{"chat.send": {"tab"}})
	if err == nil || !strings.Contains(err.Error(), `"tab"`) || !strings.Contains(err.Error(), "chat.send") || !strings.Contains(err.Error(), "global.switch_pane") {
		t.Fatalf("Apply(chat.send=tab) = %v, want a conflict naming both actions", err)
	}
	if got := k.Chat.Send.Keys(); len(got) != 1 || got[0] != "enter" {
		t.Errorf("a refused Apply changed chat.send to %v", got)
	}
	// Swapping two keys in one go is no conflict.
	if err := k.Apply(map[string][]string{"chat.top": {"end"}, "chat.bottom": {"home"}}); err != nil {
		t.Errorf("swapping top and bottom: %v", err)
	}
	// "n" is the kanban pane's "new card", never seen while the chat has focus.
	if err := k.Apply(map[string][]string{"chat.page_up": {"n"}}); err != nil {
		t.Errorf("a key shared with the kanban pane was refused: %v", err)
	}
}
