package tui

import (
	"fmt"
	"net/url"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/tui/cell"
	"github.com/spindle-sh/spindle/tui/chat"
)

// modelsOverlay is the model picker: the models an endpoint lists (asked
// once per endpoint and kept by the agent; the refresh key asks again), the
// one in use marked, filtered by what the person types; a name the list
// lacks can be used too, with a warning. With several endpoints configured,
// Tab shows the next one's models, and choosing one of them switches to
// that endpoint. The choice applies from the next message, and the visible
// session remembers it.
type modelsOverlay struct {
	input     textinput.Model
	endpoints []agent.EndpointInfo
	ep        int                   // the endpoint shown
	lists     map[string]*modelList // by endpoint name

	shown  []string // the shown endpoint's models that match the input
	custom string   // the typed name when no model is exactly it ("" for none)
	cursor int
	top    int
}

// modelList is what one endpoint listed.
type modelList struct {
	models  []string
	err     string
	loading bool
	seq     int
}

// openModels pushes the picker on the current endpoint and asks for its
// models.
func (m *Model) openModels() tea.Cmd {
	o := &modelsOverlay{input: m.newDialogInput("type to filter, or a model's name"), lists: map[string]*modelList{}}
	o.endpoints = m.agent.Endpoints()
	for i, e := range o.endpoints {
		if e.Current {
			o.ep = i
		}
	}
	m.push(o)
	o.filter(m)
	return tea.Batch(o.input.Focus(), o.load(m, false))
}

// endpoint is the endpoint shown.
func (o *modelsOverlay) endpoint() agent.EndpointInfo {
	if o.ep < len(o.endpoints) {
		return o.endpoints[o.ep]
	}
	return agent.EndpointInfo{}
}

// modelsListedMsg is an endpoint's models.
type modelsListedMsg struct {
	o        *modelsOverlay
	endpoint string
	seq      int
	models   []string
	err      error
}

// load asks the shown endpoint for its models unless they are here (or
// refresh asks again).
func (o *modelsOverlay) load(m *Model, refresh bool) tea.Cmd {
	name := o.endpoint().Name
	l := o.lists[name]
	if l == nil {
		l = &modelList{}
		o.lists[name] = l
	} else if !refresh && (l.loading || l.models != nil) {
		return nil
	}
	l.loading, l.err = true, ""
	l.seq++
	ctx, ag, seq := m.ctx, m.agent, l.seq
	return func() tea.Msg {
		models, err := ag.ListModels(ctx, name, refresh)
		return modelsListedMsg{o: o, endpoint: name, seq: seq, models: models, err: err}
	}
}

func (msg modelsListedMsg) apply(m *Model) tea.Cmd {
	l := msg.o.lists[msg.endpoint]
	if l == nil || l.seq != msg.seq {
		return nil
	}
	l.loading = false
	if msg.err != nil {
		l.err = describeErr(msg.err)
		return nil
	}
	l.models = msg.models
	if l.models == nil {
		l.models = []string{}
	}
	msg.o.filter(m)
	return nil
}

// filter recomputes the rows from the input: the models that hold it
// (ignoring case), the exact match first, then those it begins, then the
// rest; and the typed name as a row of its own when no model is exactly
// it.
func (o *modelsOverlay) filter(m *Model) {
	q := strings.TrimSpace(o.input.Value())
	lq := strings.ToLower(q)
	o.shown, o.custom = o.shown[:0], ""
	var models []string
	if l := o.lists[o.endpoint().Name]; l != nil {
		models = l.models
	}
	var exact, prefix, inside []string
	for _, name := range models {
		ln := strings.ToLower(name)
		switch {
		case q == "":
			inside = append(inside, name)
		case name == q:
			exact = append(exact, name)
		case strings.HasPrefix(ln, lq):
			prefix = append(prefix, name)
		case strings.Contains(ln, lq):
			inside = append(inside, name)
		}
	}
	o.shown = append(append(append(o.shown, exact...), prefix...), inside...)
	if q != "" && len(exact) == 0 {
		o.custom = q
	}
	o.cursor, o.top = 0, 0
	// With nothing typed, start on the model in use.
	if q == "" && o.endpoint().Current {
		for i, name := range o.shown {
			if name == m.agent.Model() {
				o.cursor = i
			}
		}
	}
}

// rowCount is the list's length: the models shown and the typed name.
func (o *modelsOverlay) rowCount() int {
	n := len(o.shown)
	if o.custom != "" {
		n++
	}
	return n
}

// paste goes into the filter.
func (o *modelsOverlay) paste(m *Model, msg tea.PasteMsg) tea.Cmd {
	before := o.input.Value()
	var cmd tea.Cmd
	o.input, cmd = o.input.Update(msg)
	if o.input.Value() != before {
		o.filter(m)
	}
	return cmd
}

func (o *modelsOverlay) update(m *Model, msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k, g := m.keys.Models, m.keys.Global
	page := max(o.listRows(m.computeLayout().bodyH)-1, 1)
	switch {
	case key.Matches(msg, g.Stop):
		return nil, true
	case key.Matches(msg, g.Help) && msg.Text == "":
		m.push(newHelpOverlay("Model picker"))
		return nil, false
	case key.Matches(msg, k.Choose):
		if o.rowCount() == 0 {
			return nil, false
		}
		if o.cursor < len(o.shown) {
			return o.choose(m, o.shown[o.cursor], true), true
		}
		return o.choose(m, o.custom, false), true
	case key.Matches(msg, k.Refresh):
		return o.load(m, true), false
	case key.Matches(msg, k.NextEndpoint, k.PrevEndpoint):
		if len(o.endpoints) < 2 {
			return nil, false
		}
		step := 1
		if key.Matches(msg, k.PrevEndpoint) {
			step = len(o.endpoints) - 1
		}
		o.ep = (o.ep + step) % len(o.endpoints)
		o.filter(m)
		return o.load(m, false), false
	case key.Matches(msg, listUp):
		o.cursor--
	case key.Matches(msg, listDown):
		o.cursor++
	case key.Matches(msg, listPageUp):
		o.cursor -= page
	case key.Matches(msg, listPageDown):
		o.cursor += page
	case key.Matches(msg, listTop):
		o.cursor = 0
	case key.Matches(msg, listBottom):
		o.cursor = o.rowCount() - 1
	default:
		before := o.input.Value()
		var cmd tea.Cmd
		o.input, cmd = o.input.Update(msg)
		if o.input.Value() != before {
			o.filter(m)
		}
		return cmd, false
	}
	o.cursor = clampInt(o.cursor, 0, o.rowCount()-1)
	return nil, false
}

// sessionRouteSavedMsg is the outcome of remembering a choice in the
// visible session.
type sessionRouteSavedMsg struct{ err error }

func (msg sessionRouteSavedMsg) apply(m *Model) tea.Cmd {
	if msg.err != nil {
		m.errText = describeErr(msg.err)
	}
	return nil
}

// choose switches to the shown endpoint (if it is another) and the model,
// says so in the transcript, and records it in the visible session.
func (o *modelsOverlay) choose(m *Model, name string, listed bool) tea.Cmd {
	ep := o.endpoint()
	if !ep.Current {
		if err := m.agent.SetEndpoint(ep.Name); err != nil {
			m.errText = describeErr(err)
			return nil
		}
	}
	m.agent.SetModel(name)
	note := "Model set to " + m.modelLabel() + "; it applies from the next message."
	if !listed {
		note += " The endpoint did not list it, so the next request may fail."
	}
	m.chat.AddNote(note)
	return m.rememberRoute()
}

// rememberRoute records the endpoint and model in use in the visible
// session, once it has been saved (a new one records them with its first
// turn).
func (m *Model) rememberRoute() tea.Cmd {
	id := m.chat.Session().ID
	if id == 0 {
		return nil
	}
	ctx, ag := m.ctx, m.agent
	return func() tea.Msg {
		return sessionRouteSavedMsg{err: ag.RememberRoute(ctx, id)}
	}
}

// modelsChrome is the lines around the list: title, endpoints, input and a
// blank line above; a notice and the key hints below.
const modelsChrome = 6

func (o *modelsOverlay) listRows(h int) int { return max(h-modelsChrome, 1) }

func (o *modelsOverlay) lines(m *Model, w, h int) []string {
	st := m.st
	warn, bad := st.StatusWarn.UnsetBackground(), st.StatusError.UnsetBackground()
	ep := o.endpoint()
	out := []string{cell.Cut(st.HelpTitle.Render("Model")+st.Muted.Render("  in use: "+m.modelLabel()), w)}

	// The endpoints, the shown one highlighted, and where it is.
	where := "  " + sanitize.Line(endpointHost(ep))
	if len(o.endpoints) > 1 {
		where += " · " + m.keys.Models.NextEndpoint.Help().Key + " switches"
	}
	const prefix = "Endpoint: "
	labels := make([]string, len(o.endpoints))
	for i, e := range o.endpoints {
		labels[i] = " " + sanitize.Line(e.Label()) + " "
	}
	from, to := endpointWindow(labels, o.ep, w-cell.Width(prefix)-cell.Width(where))
	var bar strings.Builder
	bar.WriteString(st.Muted.Render(prefix))
	if from > 0 {
		bar.WriteString(st.Muted.Render("… "))
	}
	for i := from; i < to; i++ {
		if i == o.ep {
			bar.WriteString(st.Selected.Render(labels[i]))
		} else {
			bar.WriteString(st.Body.Render(labels[i]))
		}
	}
	if to < len(labels) {
		bar.WriteString(st.Muted.Render(" …"))
	}
	bar.WriteString(st.Muted.Render(where))
	out = append(out, cell.Cut(bar.String(), w))
	o.input.SetWidth(max(w-4, 1))
	out = append(out, cell.Cut(o.input.View(), w), "")

	rows := o.listRows(h)
	if o.cursor < o.top {
		o.top = o.cursor
	} else if o.cursor >= o.top+rows {
		o.top = o.cursor - rows + 1
	}
	l := o.lists[ep.Name]
	var notice string
	switch {
	case l == nil || (l.loading && l.models == nil):
		out = append(out, st.Muted.Render("  asking the endpoint for its models…"))
		rows--
	case l.err != "":
		notice = bad.Render("could not list the models: " + l.err)
	case len(l.models) == 0:
		notice = st.Muted.Render("the endpoint lists no models: type a name")
	}
	inUse := ep.Current
	for i := o.top; i < o.rowCount() && i < o.top+rows; i++ {
		var line string
		if i < len(o.shown) {
			name := sanitize.Line(o.shown[i])
			var marks []string
			if inUse && o.shown[i] == m.agent.Model() {
				marks = append(marks, "● in use")
			}
			if ep.Model != "" && o.shown[i] == ep.Model {
				marks = append(marks, "configured")
			}
			mark := strings.Join(marks, " · ")
			nameW := max(w-2-cell.Width(mark)-2, 1)
			if i == o.cursor {
				line = st.Selected.Render(cell.Pad("› "+cell.Pad(name, nameW)+"  "+mark, w))
			} else {
				line = "  " + st.Body.Render(cell.Pad(name, nameW)) + "  " + st.Key.Render(mark)
			}
		} else {
			text := "use “" + sanitize.Line(o.custom) + "”, which the endpoint did not list"
			if l != nil && l.err != "" {
				text = "use “" + sanitize.Line(o.custom) + "” (the list could not be read)"
			}
			if i == o.cursor {
				line = st.Selected.Render(cell.Pad("› "+text, w))
			} else {
				line = "  " + warn.Render(text)
			}
		}
		out = append(out, cell.Cut(line, w))
	}
	if o.rowCount() == 0 && l != nil && len(l.models) > 0 {
		out = append(out, st.Muted.Render("  no model matches"))
	}
	for len(out) < h-2 {
		out = append(out, "")
	}
	out = append(out[:h-2], cell.Cut(notice, w))
	out = append(out, m.dialogHints(m.keys.Models.ShortHelp(), w))
	return cell.Fit(out, w, h)
}

// endpointWindow is the labels the endpoint bar shows, from..to-1, in w
// cells: all when they fit, else as many as fit around the shown one
// (cur), those after it first, leaving room for a "… " and a " …" that say
// more are left and right. The shown one is always in it.
func endpointWindow(labels []string, cur, w int) (from, to int) {
	total := 0
	for _, l := range labels {
		total += cell.Width(l)
	}
	if total <= w || cur >= len(labels) {
		return 0, len(labels)
	}
	room := w - 4
	from, to = cur, cur+1
	used := cell.Width(labels[cur])
	for to < len(labels) && used+cell.Width(labels[to]) <= room {
		used += cell.Width(labels[to])
		to++
	}
	for from > 0 && used+cell.Width(labels[from-1]) <= room {
		from--
		used += cell.Width(labels[from])
	}
	return from, to
}

// endpointHost is where an endpoint is, for the picker: its host, or what
// it is.
func endpointHost(e agent.EndpointInfo) string {
	if e.Offline {
		return "built in, no network"
	}
	if u, err := url.Parse(e.BaseURL); err == nil && u.Host != "" {
		return u.Host
	}
	return e.BaseURL
}

// modelLabel names the model the next turn uses, with the endpoint's name
// when it is a named one; the status bar and the notes use it.
func (m *Model) modelLabel() string {
	model := sanitize.Line(m.agent.Model())
	if model == "" {
		model = "no model yet"
	}
	if name := m.agent.Endpoint().Name; name != "" {
		model = sanitize.Line(name) + " · " + model
	}
	return model
}

// modelResolvedMsg is the start-up model choice.
type modelResolvedMsg struct {
	model  string
	picked bool
	err    error
}

// resolveModel makes sure a model is chosen at start-up: with a real
// endpoint configured without one, the agent asks it for its models and
// takes the first, and the transcript says which.
func (m Model) resolveModel() tea.Cmd {
	if m.agent == nil {
		return nil
	}
	ctx, ag := m.ctx, m.agent
	return func() tea.Msg {
		model, picked, err := ag.ResolveModel(ctx)
		return modelResolvedMsg{model: model, picked: picked, err: err}
	}
}

func (msg modelResolvedMsg) apply(m *Model) tea.Cmd {
	switch {
	case msg.err != nil:
		m.errText = describeErr(msg.err)
		m.chat.Announce("No model is configured and the endpoint could not say which it serves (" + describeErr(msg.err) +
			"). Choose one with /model, or start spindle with --model.")
	case msg.picked:
		m.chat.Announce(fmt.Sprintf("No model is configured, so spindle uses %s, the first model %s lists. /model picks another.",
			sanitize.Line(msg.model), sanitize.Line(endpointHost(m.agent.Endpoint()))))
	}
	return nil
}

// sessionShown uses a loaded session's endpoint and model again (resume,
// the session browser, --continue), and says so when that changes them.
func (m Model) sessionShown(msg chat.SessionShownMsg) (Model, tea.Cmd) {
	endpoint, model, ok := m.agent.SessionRoute(msg.Session)
	if !ok || (endpoint == m.agent.Endpoint().Name && model == m.agent.Model()) {
		return m, nil
	}
	if err := m.agent.SetEndpoint(endpoint); err != nil {
		m.errText = describeErr(err)
		return m, nil
	}
	m.agent.SetModel(model)
	m.chat.AddNote("Using " + m.modelLabel() + " again, as this session did.")
	return m, nil
}
