package tui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/sanitize"
	"github.com/spindle-sh/spindle/tui/chat"
	"github.com/spindle-sh/spindle/tui/kanban"
)

// command is one action a person can take: by its slash name in the chat
// input, from the command palette, or by its key. The slash commands, the
// help overlay and the palette all read the one registry that commands
// returns; none keeps a list of its own.
type command struct {
	name    string      // "/model"; "" for an action with a key only
	aliases []string    // other slash names
	args    string      // the argument's usage, e.g. "[NAME]"; "" for none
	desc    string      // what it does, for help and the palette
	key     key.Binding // its key, shown beside it; zero when it has none
	pane    string      // "" (anywhere), "chat" or "board": where the key works
	// run does it. arg is what followed the name; the palette passes "".
	run func(m *Model, arg string) tea.Cmd
	// needsParts is true for what needs the agent or state.db, which are
	// opened after the first frame.
	needsParts bool
}

// title is how help and the palette name the command.
func (c command) title() string {
	if c.name == "" {
		return c.desc
	}
	if c.args != "" {
		return c.name + " " + c.args
	}
	return c.name
}

// commands is the registry, built once from the key map.
func (m *Model) commands() []command {
	g, kb := m.keys.Global, m.keys.Kanban
	board := func(a kanban.Action) func(*Model, string) tea.Cmd {
		return func(m *Model, _ string) tea.Cmd {
			if m.focus != paneKanban {
				m.switchPane()
			}
			var cmd tea.Cmd
			m.kanban, cmd = m.kanban.Do(a)
			m.kanbanGen++
			return cmd
		}
	}
	return []command{
		{name: "/new", desc: "start a new session", needsParts: true, run: func(m *Model, _ string) tea.Cmd {
			m.chat.NewSession()
			return nil
		}},
		{name: "/sessions", desc: "browse, search, rename and delete sessions", needsParts: true, run: func(m *Model, _ string) tea.Cmd {
			return m.openSessions()
		}},
		{name: "/resume", args: "ID", desc: "resume a session", needsParts: true, run: func(m *Model, arg string) tea.Cmd {
			id, err := strconv.ParseInt(strings.TrimPrefix(arg, "#"), 10, 64)
			if err != nil || id <= 0 {
				m.errText = "usage: /resume ID (see /sessions)"
				return nil
			}
			return m.chat.Resume(id)
		}},
		{name: "/model", args: "[NAME]", desc: "pick the model, or use NAME from now on", needsParts: true, run: func(m *Model, arg string) tea.Cmd {
			if arg == "" {
				return m.openModels()
			}
			m.agent.SetModel(arg)
			m.chat.AddNote("Model set to " + sanitize.Line(arg) + ".")
			return m.rememberRoute()
		}},
		{name: "/permissions", args: "[remove RULE]", desc: "list the approval rules, or remove one of this project's", needsParts: true, run: func(m *Model, arg string) tea.Cmd {
			return m.permissions(arg)
		}},
		{name: "/stop", desc: "stop the reply", key: g.Stop, run: func(m *Model, _ string) tea.Cmd {
			if !m.chat.Interrupt() {
				m.notice = "nothing is streaming"
			}
			return nil
		}},
		{name: "/board", desc: "switch between the chat and the board", key: g.SwitchPane, run: func(m *Model, _ string) tea.Cmd {
			m.switchPane()
			return nil
		}},
		{name: "/help", desc: "every key and command", key: g.Help, run: func(m *Model, _ string) tea.Cmd {
			at := ""
			if m.focus == paneKanban {
				at = "Board"
			}
			m.push(newHelpOverlay(at))
			return nil
		}},
		{name: "/commands", desc: "find a command by name", key: g.Palette, run: func(m *Model, _ string) tea.Cmd {
			return m.openPalette()
		}},
		{name: "/quit", aliases: []string{"/exit"}, desc: "quit (interrupting what still streams)", run: func(m *Model, _ string) tea.Cmd {
			return m.quitCmd()
		}},
		{desc: "new card", key: kb.New, pane: "board", run: board(kanban.ActionNew)},
		{desc: "filter the cards", key: kb.Filter, pane: "board", run: board(kanban.ActionFilter)},
		{desc: "show or hide archived cards", key: kb.ToggleArchived, pane: "board", run: board(kanban.ActionToggleArchived)},
		{desc: "undo my last change to the board", key: kb.Undo, pane: "board", run: board(kanban.ActionUndo)},
	}
}

// lookup finds a command by its slash name or an alias.
func (m *Model) lookup(name string) (command, bool) {
	for _, c := range m.cmds {
		if c.name == name {
			return c, true
		}
		for _, a := range c.aliases {
			if a == name {
				return c, true
			}
		}
	}
	return command{}, false
}

// runCommand runs a slash command typed in the chat (or chosen in the
// palette).
func (m Model) runCommand(name, arg string) (Model, tea.Cmd) {
	c, ok := m.lookup(name)
	if !ok {
		m.errText = fmt.Sprintf("unknown command %s: try /help or %s", sanitize.Line(name), m.keys.Global.Palette.Help().Key)
		return m, nil
	}
	return m.run(c, arg)
}

// run runs one command.
func (m Model) run(c command, arg string) (Model, tea.Cmd) {
	// A new command's outcome replaces the last one's error.
	m.errText = ""
	m.chat.SetError("")
	if c.needsParts && !m.started {
		m.notice = chat.StartingNotice
		return m, nil
	}
	cmd := c.run(&m, arg)
	if m.quitting && m.chat.Running() == 0 {
		return m, tea.Batch(cmd, tea.Quit)
	}
	return m, cmd
}

// Rules is what /permissions and the approval dialog need from the
// approval policy; *approval.Policy implements it.
type Rules interface {
	Rules() []approval.RuleEntry
	RemoveRule(text string) error
	SettingsPath() string
	LoadError() error
	UntoldLoadError() error
	SessionGrants(session int64) []string
	RevokeGrant(session int64, text string) bool
}

var _ Rules = (*approval.Policy)(nil)

// permissionsMsg is what /permissions found: a note for the chat, or an
// error for the status bar. The rules are read (the settings file looked
// at, perhaps rewritten) in a command, not in Update.
type permissionsMsg struct{ note, err string }

func (p permissionsMsg) apply(m *Model) tea.Cmd {
	if p.err != "" {
		m.errText = p.err
		return nil
	}
	m.chat.AddNote(p.note)
	return nil
}

// permissions is /permissions: the rules and the shown session's grants
// as a note, or removing a rule or revoking a grant.
func (m *Model) permissions(arg string) tea.Cmd {
	if m.rules == nil {
		m.errText = "no approval rules here"
		return nil
	}
	rules, session := m.rules, m.chat.Session().ID
	if text, ok := strings.CutPrefix(arg, "remove "); ok {
		return func() tea.Msg { return removePermission(rules, session, strings.TrimSpace(text)) }
	}
	if arg != "" {
		m.errText = "usage: /permissions, or /permissions remove RULE"
		return nil
	}
	return func() tea.Msg { return listPermissions(rules, session) }
}

// removePermission revokes the session's grant named text, else removes
// the project rule text; either may be named as /permissions lists it (a
// line break drawn as ␊) or exactly.
func removePermission(rules Rules, session int64, text string) permissionsMsg {
	named := func(s string) bool { return text == s || text == strings.TrimSpace(shownOneLine(s)) }
	for _, g := range rules.SessionGrants(session) {
		if named(g) {
			rules.RevokeGrant(session, g)
			return permissionsMsg{note: "Revoked the grant for this session " + shownOneLine(g) + ": that call asks again."}
		}
	}
	rule := text
	for _, e := range rules.Rules() {
		if e.Source == approval.FromProject && named(e.Rule) {
			rule = e.Rule
			break
		}
	}
	if err := rules.RemoveRule(rule); err != nil {
		return permissionsMsg{err: describeErr(err)}
	}
	return permissionsMsg{note: "Removed the rule " + shownOneLine(rule) + ": that call asks again."}
}

// listPermissions is the note /permissions shows.
func listPermissions(rules Rules, session int64) permissionsMsg {
	var b strings.Builder
	b.WriteString("Approval rules (deny wins; /permissions remove RULE deletes one of this project's, or a grant):")
	entries := rules.Rules()
	grants := rules.SessionGrants(session)
	if len(entries) == 0 && len(grants) == 0 {
		b.WriteString("\n  none: every call with effects asks")
	}
	for _, e := range entries {
		kind := "allow"
		if e.Deny {
			kind = "deny "
		}
		fmt.Fprintf(&b, "\n  %s  %s  (%s)", kind, shownOneLine(e.Rule), e.Source)
	}
	for _, g := range grants {
		fmt.Fprintf(&b, "\n  allow  %s  (this session)", shownOneLine(g))
	}
	if err := rules.LoadError(); err != nil {
		rules.UntoldLoadError() // told here
		b.WriteString("\nThe project's rules file does not load, so its last good rules (above) are in force: " + describeErr(err))
	}
	if p := rules.SettingsPath(); p != "" {
		b.WriteString("\nThis project's rules are kept in " + sanitize.Line(p) + "; edit it freely, changes apply at once.")
	}
	return permissionsMsg{note: b.String()}
}
