package kanban

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/store"
)

// cardForm is the new/edit form: a title line, then a multi-line body.
type cardForm struct {
	id     int64        // 0 for a new card
	status store.Status // the column a new card goes to
	title  textinput.Model
	body   textarea.Model
	onBody bool   // the body has the keyboard
	err    string // why the last save was refused

	origTitle, origBody string
}

// formChrome is the rows of the form that are not the body editor: heading,
// blank, label, title, blank, label, blank, hint.
const formChrome = 8

func newCardForm(s Styles) cardForm {
	f := cardForm{title: newInput(s), body: newTextarea(s)}
	f.title.Prompt = ""
	f.title.Placeholder = "title"
	f.body.Placeholder = "optional description (markdown)"
	return f
}

func (f *cardForm) setSize(w, h int) {
	f.title.SetWidth(max(w-4, 1))
	f.body.SetWidth(max(w-2, 1))
	f.body.SetHeight(max(h-formChrome, 1))
}

func (f *cardForm) blur() {
	f.title.Blur()
	f.body.Blur()
}

func (f cardForm) update(msg tea.Msg) (cardForm, tea.Cmd) {
	var cmd tea.Cmd
	if f.onBody {
		f.body, cmd = f.body.Update(msg)
	} else {
		f.title, cmd = f.title.Update(msg)
	}
	return f, cmd
}

// openForm opens the form for card id (0 = a new card in status) with the
// given title and body.
func (m *Model) openForm(id int64, status store.Status, title, body string) tea.Cmd {
	m.back = m.mode
	m.mode = modeForm
	f := &m.form
	f.id, f.status, f.err = id, status, ""
	f.origTitle, f.origBody = title, body
	f.title.SetValue(title)
	f.title.CursorEnd()
	f.body.SetValue(body)
	f.onBody = false
	f.body.Blur()
	f.setSize(m.width, m.height)
	return f.title.Focus()
}

func (m Model) formKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Cancel):
		m.closeEditing()
		return m, nil
	case key.Matches(msg, k.Save):
		return m.saveForm()
	case !m.form.onBody && key.Matches(msg, k.Submit):
		m.form.onBody = true
		m.form.title.Blur()
		return m, m.form.body.Focus()
	}
	var cmd tea.Cmd
	m.form, cmd = m.form.update(msg)
	return m, cmd
}

// saveForm writes the form: a create, or an edit of what changed. An empty
// title is refused with a message in the form, which stays open.
func (m Model) saveForm() (Model, tea.Cmd) {
	f := m.form
	title := strings.TrimSpace(f.title.Value())
	body := strings.TrimRight(f.body.Value(), " \n")
	if title == "" {
		m.form.err = "a card needs a title"
		return m, nil
	}
	m.closeEditing()
	if f.id == 0 {
		return m, m.createCard(store.NewCard{
			Title: title, Body: body, Status: f.status,
			Priority: store.PriorityNormal, Assignee: store.Me,
		})
	}
	var p store.CardPatch
	if title != f.origTitle {
		p.Title = &title
	}
	if body != f.origBody {
		p.Body = &body
	}
	if p.Title == nil && p.Body == nil {
		return m, nil
	}
	return m, m.editCard(f.id, p)
}
