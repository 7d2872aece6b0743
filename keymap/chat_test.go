package keymap

import (
	"testing"

	"charm.land/bubbles/v2/key"
)

// chatAndGlobal lists every enabled binding that can fire while the chat
// pane has focus, the input's editing keys included.
func chatAndGlobal(k KeyMap) map[string]key.Binding {
	e := k.Chat.Editor
	return map[string]key.Binding{
		"global.interrupt": k.Global.Interrupt, "global.stop": k.Global.Stop,
		"global.switch_pane": k.Global.SwitchPane, "global.help": k.Global.Help,
		"chat.send": k.Chat.Send, "chat.newline": k.Chat.Newline,
		"chat.page_up": k.Chat.PageUp, "chat.page_down": k.Chat.PageDown,
		"chat.line_up": k.Chat.LineUp, "chat.line_down": k.Chat.LineDown,
		"chat.top": k.Chat.Top, "chat.bottom": k.Chat.Bottom,
		"editor.char_back": e.CharacterBackward, "editor.char_fwd": e.CharacterForward,
		"editor.del_after": e.DeleteAfterCursor, "editor.del_before": e.DeleteBeforeCursor,
		"editor.del_char_back": e.DeleteCharacterBackward, "editor.del_char_fwd": e.DeleteCharacterForward,
		"editor.del_word_back": e.DeleteWordBackward, "editor.del_word_fwd": e.DeleteWordForward,
		"editor.line_end": e.LineEnd, "editor.line_next": e.LineNext, "editor.line_prev": e.LinePrevious,
		"editor.line_start": e.LineStart, "editor.page_up": e.PageUp, "editor.page_down": e.PageDown,
		"editor.paste": e.Paste, "editor.word_back": e.WordBackward, "editor.word_fwd": e.WordForward,
		"editor.input_begin": e.InputBegin, "editor.input_end": e.InputEnd,
		"editor.select_line_up": e.SelectLineUp, "editor.select_line_down": e.SelectLineDown,
		"editor.select_all": e.SelectAll,
	}
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

func TestChatAndGlobalKeysDoNotConflict(t *testing.T) {
	k := Default()
	for key, names := range conflicts(chatAndGlobal(k)) {
		t.Errorf("key %q is bound to %v", key, names)
	}
	// Negative control: the check sees a conflict when there is one.
	k.Chat.Send.SetKeys("enter", "ctrl+c")
	if len(conflicts(chatAndGlobal(k))) == 0 {
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
