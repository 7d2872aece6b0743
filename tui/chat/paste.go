package chat

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/tui/transcript"
)

// A paste goes into the text area only while the text area stays small:
// bubbles' text area draws every one of its lines on each key (≈25 µs a
// line in Update and again in View), so 200 lines cost ≈10 ms a key and a
// 5 MB paste would cost seconds a key; it also keeps at most 10,000 lines
// and silently drops the rest. A larger paste is held beside the input as
// an attachment: one marker character in the text area stands for it
// (typed text before and after it keeps its place, Backspace over it
// removes it), a chip below the input says what it holds, and Enter sends
// the text with every marker replaced by its paste.
const (
	pasteInlineLines = 200
	pasteInlineBytes = 16 << 10
	// maxMessageBytes refuses a paste that would make the message larger
	// than this, with a notice, instead of cutting it: 8 MiB is the request
	// body limit of the built-in model and twice what the largest context
	// windows (≈1M tokens) hold, so a larger message could never be
	// answered, only uploaded and rejected.
	maxMessageBytes = 8 << 20
)

// Markers are characters from the end of Unicode's last private use plane,
// which no keyboard types and the sanitizer keeps; pasted text has them
// removed, so that only the chat's own markers ever stand for a paste.
const (
	firstMark = '\U0010FF00'
	lastMark  = '\U0010FFFD'
	// markGlyph is what a marker looks like in the input (one cell, as
	// the marker itself is to the text area).
	markGlyph = "⧉"
)

func isMark(r rune) bool { return r >= firstMark && r <= lastMark }

// attachment is a paste held beside the input.
type attachment struct {
	mark  rune
	text  string // sanitized, line breaks kept
	lines int
}

// paste handles a bracketed paste: small ones go into the text area as
// before, large ones become an attachment, and one that would make the
// message too large is refused with a notice; nothing is ever cut.
func (m Model) paste(content string) (Model, tea.Cmd) {
	m.pasteTail = m.now()
	held := 0
	for _, a := range m.pastes {
		held += len(a.text)
	}
	if held+len(content) > maxMessageBytes {
		m.notice = fmt.Sprintf("paste refused: the message would hold %s, over the %s a message may carry; nothing was added",
			transcript.SizeText(held+len(content)), transcript.SizeText(maxMessageBytes))
		return m, nil
	}
	// Terminals send pasted line breaks as CR: keep them as lines.
	text := stripMarks(sanitize.Paste(content))
	if text == "" {
		return m, nil
	}
	breaks := strings.Count(text, "\n")
	if m.input.LineCount()+breaks <= pasteInlineLines && m.input.Length()+len(text) <= pasteInlineBytes {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(tea.PasteMsg{Content: text})
		m.layoutInput()
		// Show the paste from its first line: the text area scrolled to its
		// cursor while it was one line tall. A paste taller than the input
		// keeps the cursor at its start, so the person reads it first.
		m.input.MoveToBegin()
		if m.input.LineCount() <= maxInputLines {
			m.input.MoveToEnd()
		}
		return m, cmd
	}
	mark, ok := m.freeMark()
	if !ok {
		m.notice = "paste refused: too many pastes in one message; send or remove some first"
		return m, nil
	}
	lines := breaks // as wc -l counts them, and the last line if unterminated
	if !strings.HasSuffix(text, "\n") {
		lines++
	}
	m.pastes = append(m.pastes, attachment{mark: mark, text: text, lines: lines})
	m.input.InsertRune(mark)
	m.layoutInput()
	return m, nil
}

// freeMark is a marker no held paste uses.
func (m Model) freeMark() (rune, bool) {
	for r := rune(firstMark); r <= lastMark; r++ {
		used := false
		for _, a := range m.pastes {
			used = used || a.mark == r
		}
		if !used {
			return r, true
		}
	}
	return 0, false
}

// removePaste drops the latest paste and its marker.
func (m *Model) removePaste() {
	last := m.pastes[len(m.pastes)-1]
	m.pastes = m.pastes[:len(m.pastes)-1]
	m.input.SetValue(strings.ReplaceAll(m.input.Value(), string(last.mark), ""))
	m.layoutInput()
}

// prunePastes forgets pastes whose marker was deleted from the input.
func (m *Model) prunePastes() {
	if len(m.pastes) == 0 {
		return
	}
	v := m.input.Value()
	kept := m.pastes[:0]
	for _, a := range m.pastes {
		if strings.ContainsRune(v, a.mark) {
			kept = append(kept, a)
		}
	}
	clear(m.pastes[len(kept):])
	if len(kept) == 0 {
		kept = nil
	}
	if len(kept) != len(m.pastes) {
		m.pastes = kept
		m.layoutInput()
	}
}

// expand is the message typed, with each marker replaced by its paste (and
// any marker without one dropped).
func expand(typed string, pastes []attachment) string {
	if len(pastes) == 0 || strings.IndexFunc(typed, isMark) < 0 {
		return typed
	}
	n := len(typed)
	for _, a := range pastes {
		n += len(a.text)
	}
	var b strings.Builder
	b.Grow(n)
	for _, r := range typed {
		if !isMark(r) {
			b.WriteRune(r)
			continue
		}
		for _, a := range pastes {
			if a.mark == r {
				b.WriteString(a.text)
				break
			}
		}
	}
	return b.String()
}

// stripMarks is s without markers.
func stripMarks(s string) string {
	return strings.Map(func(r rune) rune {
		if isMark(r) {
			return -1
		}
		return r
	}, s)
}

// chipLine says what the held pastes are and how to remove them.
func (m Model) chipLine() string {
	size, lines := 0, 0
	for _, a := range m.pastes {
		size += len(a.text)
		lines += a.lines
	}
	what := fmt.Sprintf("pasted %s, %s lines", transcript.SizeText(size), countText(lines))
	remove := keyName(m.keys.Chat.RemovePaste) + " removes"
	if len(m.pastes) > 1 {
		what = fmt.Sprintf("%d pastes: %s, %s lines", len(m.pastes), transcript.SizeText(size), countText(lines))
		remove += " the last"
	}
	return markGlyph + " [" + what + " · " + remove + "]"
}

// countText writes a count with thousands separators: "120,000".
func countText(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// pasteGuard is how soon after a paste a key still counts as part of it.
// A terminal that does not filter pasted text lets a literal end-of-paste
// sequence (ESC [ 2 0 1 ~) end the paste early; the rest of the text then
// arrives as key presses, its line breaks as Enter, in the same read, so
// within a few milliseconds. Enter in that tail must not send a message
// the person has not seen whole. A person pressing Enter this soon after
// pasting is rare, and costs only a line break to delete.
const pasteGuard = 150 * time.Millisecond

// notePasteTail reports whether a key arriving now is in a paste's tail,
// and if so extends the tail to it: the tail is as long as its keys keep
// coming close together.
func (m *Model) notePasteTail() bool {
	if m.pasteTail.IsZero() {
		return false
	}
	now := m.now()
	if now.Sub(m.pasteTail) > pasteGuard {
		m.pasteTail = time.Time{}
		return false
	}
	m.pasteTail = now
	return true
}
