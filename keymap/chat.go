package keymap

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
)

// Chat holds the chat pane's bindings: sending, the history's scrolling, and
// the input's editing keys (Editor, handed to bubbles/textarea so that the
// text area handles no key that is not listed here).
type Chat struct {
	// Send sends the input as a message (or runs it as a slash command).
	Send key.Binding
	// Newline inserts a line break in the input.
	Newline key.Binding
	// PageUp and PageDown scroll the history by a page.
	PageUp   key.Binding
	PageDown key.Binding
	// LineUp and LineDown scroll the history by a few lines (the mouse
	// wheel does the same).
	LineUp   key.Binding
	LineDown key.Binding
	// Top and Bottom jump to the start and the end of the history; Bottom
	// also resumes following a stream.
	Top    key.Binding
	Bottom key.Binding
	// Unqueue takes a message typed ahead of a streaming reply back into
	// the input to edit or drop it. It only fires while the input is empty
	// and a message is queued, so it may share its key with the input's
	// line-up.
	Unqueue key.Binding
	// ToolOutput shows or hides the output of tool calls in the
	// transcript (each call is one line otherwise).
	ToolOutput key.Binding
	// RemovePaste drops the latest large paste held as an attachment in the
	// input (shown as a chip below it). It only fires while one is held.
	RemovePaste key.Binding
	// Editor is the input's editing keys. Its InsertNewline is kept equal to
	// Newline by Default and Apply; Home and End belong to Top and Bottom,
	// so line start and end are Ctrl-A and Ctrl-E.
	Editor textarea.KeyMap
}

func defaultChat() Chat {
	c := Chat{
		Send:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "send")),
		Newline:    key.NewBinding(key.WithKeys("alt+enter", "ctrl+j"), key.WithHelp("alt+enter/ctrl+j", "new line")),
		PageUp:     key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:   key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		LineUp:     key.NewBinding(key.WithKeys("shift+up", "ctrl+up"), key.WithHelp("shift+↑", "scroll up")),
		LineDown:   key.NewBinding(key.WithKeys("shift+down", "ctrl+down"), key.WithHelp("shift+↓", "scroll down")),
		Top:        key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "oldest")),
		Bottom:     key.NewBinding(key.WithKeys("end"), key.WithHelp("end", "newest / follow")),
		Unqueue:    key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "take back the queued or cleared message")),
		ToolOutput: key.NewBinding(key.WithKeys("ctrl+o"), key.WithHelp("ctrl+o", "show/hide tool output")),
		Editor:     textarea.DefaultKeyMap(),
	}
	c.RemovePaste = key.NewBinding(key.WithKeys("ctrl+x"), key.WithHelp("ctrl+x", "remove the pasted text"))
	e := &c.Editor
	e.LineStart = key.NewBinding(key.WithKeys("ctrl+a"), key.WithHelp("ctrl+a", "line start"))
	e.LineEnd = key.NewBinding(key.WithKeys("ctrl+e"), key.WithHelp("ctrl+e", "line end"))
	// Paging and selection belong to the history, not the input.
	e.PageUp.SetEnabled(false)
	e.PageDown.SetEnabled(false)
	e.SelectLineUp.SetEnabled(false)
	e.SelectLineDown.SetEnabled(false)
	// Ctrl-P opens the command palette, so the input's line-up is the
	// arrow only (and Ctrl-N stays its line-down).
	e.LinePrevious = key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "previous line"))
	e.InputBegin = key.NewBinding(key.WithKeys("alt+<"), key.WithHelp("alt+<", "input begin"))
	e.InputEnd = key.NewBinding(key.WithKeys("alt+>"), key.WithHelp("alt+>", "input end"))
	c.syncEditor()
	return c
}

// syncEditor keeps the text area's newline key equal to Newline.
func (c *Chat) syncEditor() {
	c.Editor.InsertNewline = c.Newline
}

func (c *Chat) register(pane string, m map[string]*key.Binding) {
	m[pane+".send"] = &c.Send
	m[pane+".newline"] = &c.Newline
	m[pane+".page_up"] = &c.PageUp
	m[pane+".page_down"] = &c.PageDown
	m[pane+".line_up"] = &c.LineUp
	m[pane+".line_down"] = &c.LineDown
	m[pane+".top"] = &c.Top
	m[pane+".bottom"] = &c.Bottom
	m[pane+".unqueue"] = &c.Unqueue
	m[pane+".tool_output"] = &c.ToolOutput
	m[pane+".remove_paste"] = &c.RemovePaste
}

// ShortHelp is the chat pane's part of the status bar's key hints.
func (c Chat) ShortHelp() []key.Binding {
	return []key.Binding{c.Send, c.Newline, c.PageUp}
}

// FullHelp is the chat pane's columns of the help overlay.
func (c Chat) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{c.Send, c.Newline, c.Editor.DeleteWordBackward, c.Editor.LineStart, c.Editor.LineEnd, c.RemovePaste},
		{c.PageUp, c.PageDown, c.LineUp, c.LineDown, c.Top, c.Bottom, c.Unqueue, c.ToolOutput},
	}
}

// chatFocused lists, by name, every binding that can fire while the chat
// pane has focus: the global keys, the chat's and the input's editing keys
// (named "editor.*"; they cannot be overridden on their own).
func (k KeyMap) chatFocused() map[string]key.Binding {
	e := k.Chat.Editor
	return map[string]key.Binding{
		"global.interrupt": k.Global.Interrupt, "global.stop": k.Global.Stop,
		"global.switch_pane": k.Global.SwitchPane, "global.help": k.Global.Help, "global.palette": k.Global.Palette,
		"chat.send": k.Chat.Send, "chat.newline": k.Chat.Newline,
		"chat.page_up": k.Chat.PageUp, "chat.page_down": k.Chat.PageDown,
		"chat.line_up": k.Chat.LineUp, "chat.line_down": k.Chat.LineDown,
		"chat.top": k.Chat.Top, "chat.bottom": k.Chat.Bottom, "chat.tool_output": k.Chat.ToolOutput, "chat.remove_paste": k.Chat.RemovePaste,
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
