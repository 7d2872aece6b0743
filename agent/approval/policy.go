// Package approval decides whether a tool call may run without asking the
// person: deny rules, allow rules, grants for one session, and --yolo.
//
// A rule is "tool:pattern". For the file tools the pattern is a doublestar
// glob over the request's Subject (the path relative to the project, or
// absolute when outside): "edit:docs/**", "view:/etc/**". For bash it is a
// command, matched word by word on the parsed shell syntax (see
// shellwords.go): "bash:go test *" allows `go test ./...` and nothing
// chained to it.
//
// Rules come from the config (Config.Allow, Config.Deny) and from the
// project's settings file, where "always allow for this project" saves
// them; the person may read and edit that file while spindle runs: a
// decision made after the file changed uses the file as it is now (see
// Refresh).
package approval

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/spindle-sh/spindle/agent/tool"
)

// Answer is the person's (or a rule's) answer to a request.
type Answer int

// The answers, as the approval dialog offers them.
const (
	Deny         Answer = iota // do not run it
	AllowOnce                  // run it this time
	AllowSession               // run it, and the same call again in this session
	AllowAlways                // run it, and save a rule for the project
)

func (a Answer) String() string {
	switch a {
	case Deny:
		return "deny"
	case AllowOnce:
		return "allow once"
	case AllowSession:
		return "allow for this session"
	case AllowAlways:
		return "always allow for this project"
	}
	return fmt.Sprintf("Answer(%d)", int(a))
}

// Allowed says whether the answer lets the call run.
func (a Answer) Allowed() bool { return a == AllowOnce || a == AllowSession || a == AllowAlways }

// What decided a request, as Decision.Rule names it when it is not a rule.
const (
	DecidedBySession = "session grant"
	DecidedByYolo    = "--yolo"
	DecidedByYou     = "you"
	DecidedByTimeout = "timeout"
)

// Decision is the answer to a request and what gave it.
type Decision struct {
	Answer Answer
	// Note is a sentence for the model and the transcript, e.g. why a call
	// was denied.
	Note string
	// Rule names what decided: "deny rule bash:rm *", "allow rule
	// edit:docs/**", or one of the DecidedBy* values.
	Rule string
}

// Config holds the rules that do not belong to the project: the config
// file's and the command line's.
type Config struct {
	Allow []string
	Deny  []string
	// Yolo allows every request that no deny rule matches.
	Yolo bool
	// SettingsPath is where the project's "always" rules are kept; "" is
	// SettingsFile under the project root. spindle keeps them outside the
	// project (in its config directory), so that a cloned repository
	// cannot ship rules that pre-approve its own commands.
	SettingsPath string
}

// Source says where a rule comes from.
type Source string

// Rule sources.
const (
	FromConfig  Source = "config"
	FromProject Source = "project"
)

// RuleEntry is one rule as Rules lists it.
type RuleEntry struct {
	Rule   string
	Deny   bool
	Source Source
}

// Policy decides requests. It is safe for concurrent use: the UI and the
// workers check and grant at the same time.
type Policy struct {
	mu            sync.Mutex
	settingsPath  string // "" when there is no project
	configAllow   []*rule
	configDeny    []*rule
	projectAllow  []*rule
	projectDeny   []*rule
	yolo          bool
	sessionGrants map[int64]map[grantKey]bool

	// seen is the settings file as last looked at; a decision that finds
	// it different reads the file again. loadErr is why that version does
	// not load (the rules in use are then the last good ones); logged and
	// told say whether Refresh and UntoldLoadError have handed it out.
	seen         fileStamp
	racy         bool // seen may not tell the next change apart: read again
	loadErr      error
	logged, told bool

	// Tests only: the negative controls of the reload tests.
	noRefresh, noRacy bool
}

// racyWindow is how recent a settings file's modification time may be for
// its stamp to be trusted: a file system keeps the time in coarse steps
// (a clock tick, or two seconds on some), so a second save in the same
// step with the same size would look unchanged. A file modified this
// recently is read again at each decision until it is older.
const racyWindow = 2 * time.Second

// grantKey is what a session grant covers: exactly the call that was shown.
type grantKey struct {
	tool, subject string
	outside       bool
}

// SettingsFile is where a project's rules are saved, under its root.
const SettingsFile = ".spindle/settings.toml"

// New builds the policy for the project rooted at projectRoot ("" for none)
// with cfg's rules, loading the project's saved rules. A malformed rule or
// settings file is an error that names it.
func New(projectRoot string, cfg Config) (*Policy, error) {
	p := &Policy{yolo: cfg.Yolo, sessionGrants: make(map[int64]map[grantKey]bool)}
	var err error
	if p.configAllow, err = parseRules(cfg.Allow); err != nil {
		return nil, fmt.Errorf("approval: config allow: %w", err)
	}
	if p.configDeny, err = parseRules(cfg.Deny); err != nil {
		return nil, fmt.Errorf("approval: config deny: %w", err)
	}
	switch {
	case cfg.SettingsPath != "":
		p.settingsPath = cfg.SettingsPath
	case projectRoot != "":
		p.settingsPath = filepath.Join(projectRoot, filepath.FromSlash(SettingsFile))
	}
	if err := p.Reload(); err != nil {
		return nil, err
	}
	return p, nil
}

// SettingsPath is the file the project's rules are saved in ("" when there
// is no project).
func (p *Policy) SettingsPath() string { return p.settingsPath }

// Yolo reports whether every request no deny rule matches is allowed.
func (p *Policy) Yolo() bool { return p.yolo }

func parseRules(texts []string) ([]*rule, error) {
	rules := make([]*rule, 0, len(texts))
	for _, t := range texts {
		r, err := parseRule(t)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// Reload reads the project's settings file again, changed or not. On
// error the rules in use stay as they were (the last good ones), and
// LoadError says why.
func (p *Policy) Reload() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reloadLocked()
}

// reloadLocked reads the settings file and takes its rules into use; on
// error it keeps the rules in use and records the error. The caller holds
// p.mu.
func (p *Policy) reloadLocked() error {
	if p.settingsPath == "" {
		return nil
	}
	// The stamp is taken before the read: a change made while reading
	// gives a newer stamp, and the next decision reads the file again.
	stamp := statSettings(p.settingsPath)
	err := p.loadLocked()
	if stamp != p.seen || (err == nil) != (p.loadErr == nil) {
		// A new version of the file: if it is broken, it is news to
		// the log and to the person.
		p.logged, p.told = false, false
	}
	p.seen, p.loadErr = stamp, err
	p.racy = stamp.exists && !p.noRacy && time.Now().UnixNano()-stamp.mtime < int64(racyWindow)
	return err
}

func (p *Policy) loadLocked() error {
	s, err := readSettings(p.settingsPath)
	if err != nil {
		return err
	}
	allow, err := parseRules(s.Allow)
	if err != nil {
		return fmt.Errorf("approval: %s: %w", p.settingsPath, err)
	}
	deny, err := parseRules(s.Deny)
	if err != nil {
		return fmt.Errorf("approval: %s: %w", p.settingsPath, err)
	}
	p.projectAllow, p.projectDeny = allow, deny
	return nil
}

// refreshLocked reads the settings file again if it changed since it was
// last looked at: one stat(2) when it did not. The caller holds p.mu.
func (p *Policy) refreshLocked() {
	if p.settingsPath == "" || p.noRefresh {
		return
	}
	if !p.racy && statSettings(p.settingsPath) == p.seen {
		return
	}
	_ = p.reloadLocked() // recorded in p.loadErr
}

// Refresh takes the project's settings file into use again if it changed
// (its size, modification time or inode differ from when it was last
// read); Check and Rules do the same by themselves. A file that does not
// load leaves the last good rules in force: they never silently give way
// to fewer deny rules or more allow rules. Refresh returns that error the
// first time it sees that version of the file, and nil after it (and
// whenever the file loads), so that its caller logs it once.
func (p *Policy) Refresh() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refreshLocked()
	if p.loadErr == nil || p.logged {
		return nil
	}
	p.logged = true
	return p.loadErr
}

// LoadError is why the project's settings file, as it was last read, is
// not in use (the last good rules are), or nil when it is.
func (p *Policy) LoadError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.loadErr
}

// UntoldLoadError is LoadError the first time it is asked for a version of
// the file, and nil after it: for telling the person once.
func (p *Policy) UntoldLoadError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.loadErr == nil || p.told {
		return nil
	}
	p.told = true
	return p.loadErr
}

// Check decides req for the session without asking, if the rules can: a
// deny rule always wins; then allow rules, then the session's grants, then
// --yolo. ok is false when the person must be asked.
//
// A bash command that does not parse cannot be judged against deny rules,
// so if there are any, nothing but the person may allow it.
func (p *Policy) Check(sessionID int64, req tool.Request) (d Decision, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refreshLocked()
	deny := append(append([]*rule(nil), p.configDeny...), p.projectDeny...)
	allow := append(append([]*rule(nil), p.configAllow...), p.projectAllow...)

	if req.Tool == "bash" {
		f, err := parseShell(req.Subject)
		exact := strings.TrimSpace(req.Subject)
		for _, r := range deny {
			if r.tool != "bash" {
				continue
			}
			if r.exact != "" {
				if r.exact == exact {
					return p.denied(r, req), true
				}
				continue
			}
			if err != nil {
				return Decision{}, false // cannot be judged: ask
			}
			if fileDenied(r.bash, f, 0) {
				return p.denied(r, req), true
			}
		}
		for _, r := range allow {
			if r.tool == "bash" && r.exact != "" && r.exact == exact {
				return Decision{Answer: AllowAlways, Rule: "allow rule " + r.text}, true
			}
		}
		if err == nil {
			if by := bashAllowedBy(allow, f); by != "" {
				return Decision{Answer: AllowAlways, Rule: by}, true
			}
		}
	} else {
		for _, r := range deny {
			if r.tool == req.Tool && r.fileMatches(req, true) {
				return p.denied(r, req), true
			}
		}
		for _, r := range allow {
			if r.tool == req.Tool && unclimbing(req.Subject) && r.fileMatches(req, false) {
				return Decision{Answer: AllowAlways, Rule: "allow rule " + r.text}, true
			}
		}
	}
	if p.sessionGrants[sessionID][keyOf(req)] {
		return Decision{Answer: AllowSession, Rule: DecidedBySession}, true
	}
	if p.yolo {
		return Decision{Answer: AllowOnce, Rule: DecidedByYolo}, true
	}
	return Decision{}, false
}

// denied is a deny rule's decision: Rule names the rule, Note tells the
// model what is denied.
func (p *Policy) denied(r *rule, req tool.Request) Decision {
	what := "the command"
	if req.Tool != "bash" {
		what = req.Tool + " " + req.Subject
	}
	return Decision{
		Answer: Deny,
		Note:   fmt.Sprintf("%s is denied by the rule %s; do not try to get around it", what, r.text),
		Rule:   DenyRulePrefix + r.text,
	}
}

// DenyRulePrefix starts Decision.Rule when a deny rule decided: "deny rule
// bash:rm *".
const DenyRulePrefix = "deny rule "

// bashAllowedBy names the allow rules that together allow the command
// ("allow rule bash:go test *"), or returns "" when the command is not
// plain or one of its simple commands matches no allow rule.
func bashAllowedBy(allow []*rule, f *syntax.File) string {
	cmds, ok := plainCommands(f)
	if !ok {
		return ""
	}
	var used []string
	for _, words := range cmds {
		cw := make([]cmdWord, len(words))
		for i, w := range words {
			cw[i] = cmdWord{lit: w, known: true}
		}
		var hit *rule
		for _, r := range allow {
			if r.tool == "bash" && r.bash != nil && r.bash.matches(cw, false) {
				hit = r
				break
			}
		}
		if hit == nil {
			return ""
		}
		if !contains(used, hit.text) {
			used = append(used, hit.text)
		}
	}
	if len(used) == 1 {
		return "allow rule " + used[0]
	}
	return "allow rules " + strings.Join(used, ", ")
}

// unclimbing says whether a subject has no "." or ".." segment. Subjects
// come resolved from files.Project; one that is not (a caller that forgot)
// is never allowed by a rule, since "docs/**" would match "docs/../x".
func unclimbing(subject string) bool {
	for _, seg := range strings.Split(subject, "/") {
		if seg == ".." || seg == "." {
			return false
		}
	}
	return true
}

func keyOf(req tool.Request) grantKey {
	return grantKey{tool: req.Tool, subject: req.Subject, outside: req.Outside}
}

// Grant records the person's answer to req. AllowSession lets exactly this
// call (the same tool and Subject: the exact command, the exact path) run
// again in this session without asking. AllowAlways saves rules for
// exactly what was shown (see AlwaysRules) to the project's settings file;
// when that is not possible (a command that cannot be a rule, no project,
// a settings file that does not load) it is a grant for the session
// instead, and the error says why. AllowAlways that was saved records no
// session grant: removing the saved rule (RemoveRule, or by editing the
// file) makes the call ask again at once, in this session too. Deny and
// AllowOnce record nothing.
func (p *Policy) Grant(sessionID int64, req tool.Request, a Answer) error {
	if a != AllowSession && a != AllowAlways {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if a == AllowSession {
		p.grantLocked(sessionID, req)
		return nil
	}
	rules, err := AlwaysRules(req)
	if err == nil && p.settingsPath == "" {
		err = errors.New("approval: no project to save the rule in")
	}
	if err == nil {
		err = p.editSettings(func(s *settings) {
			for _, r := range rules {
				if !contains(s.Allow, r) {
					s.Allow = append(s.Allow, r)
				}
			}
		})
	}
	if err != nil {
		p.grantLocked(sessionID, req)
		return fmt.Errorf("%w; allowed for this session only", err)
	}
	return nil
}

func (p *Policy) grantLocked(sessionID int64, req tool.Request) {
	if p.sessionGrants[sessionID] == nil {
		p.sessionGrants[sessionID] = make(map[grantKey]bool)
	}
	p.sessionGrants[sessionID][keyOf(req)] = true
}

// SessionGrants lists what "allow for this session" allows in the
// session, sorted, each as the rule that would allow exactly that call:
// "bash:=" and the exact command (its line breaks and spaces kept), or the
// file tool and its path with glob characters escaped ("edit:docs/a.md").
// RevokeGrant takes one back by that text.
func (p *Policy) SessionGrants(sessionID int64) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for k := range p.sessionGrants[sessionID] {
		if t := k.text(); !contains(out, t) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// RevokeGrant takes back the session's grant that SessionGrants names
// text, so that the call asks again. It reports whether there was one.
func (p *Policy) RevokeGrant(sessionID int64, text string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	found := false
	for k := range p.sessionGrants[sessionID] {
		if k.text() == text {
			delete(p.sessionGrants[sessionID], k)
			found = true
		}
	}
	return found
}

// text is the grant as SessionGrants lists it.
func (k grantKey) text() string {
	if k.tool == "bash" {
		return "bash:=" + k.subject
	}
	return k.tool + ":" + escapeGlob(k.subject)
}

// ForgetSession drops a session's grants (when it is closed).
func (p *Policy) ForgetSession(sessionID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.sessionGrants, sessionID)
}

// Rules lists every rule in force: the config's, then the project's, deny
// before allow within each.
//
// The settings file is read again first if it changed; when it does not
// load, the project's rules listed are the last good ones, and LoadError
// says why.
func (p *Policy) Rules() []RuleEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refreshLocked()
	var out []RuleEntry
	add := func(rules []*rule, deny bool, src Source) {
		for _, r := range rules {
			out = append(out, RuleEntry{Rule: r.text, Deny: deny, Source: src})
		}
	}
	add(p.configDeny, true, FromConfig)
	add(p.configAllow, false, FromConfig)
	add(p.projectDeny, true, FromProject)
	add(p.projectAllow, false, FromProject)
	return out
}

// RemoveRule deletes a project rule (allow or deny) from the settings file.
// A config rule cannot be removed here: it lives in the config file.
func (p *Policy) RemoveRule(text string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.settingsPath == "" {
		return errors.New("approval: no project settings to remove a rule from")
	}
	found := false
	err := p.editSettings(func(s *settings) {
		before := len(s.Allow) + len(s.Deny)
		s.Allow = without(s.Allow, text)
		s.Deny = without(s.Deny, text)
		found = len(s.Allow)+len(s.Deny) < before
	})
	if err != nil {
		return err
	}
	if !found {
		for _, r := range append(append([]*rule(nil), p.configAllow...), p.configDeny...) {
			if r.text == text {
				return fmt.Errorf("approval: rule %q comes from the config file; remove it there", text)
			}
		}
		return fmt.Errorf("approval: no project rule %q", text)
	}
	return nil
}

// AlwaysRules returns the rules that "always allow" saves for req: exactly
// what was shown and nothing more. For bash, one rule per simple command,
// its words quoted so that they match only themselves ("bash:go test
// ./..."); a command that is not plain cannot be a rule. For a file tool,
// the path with its glob characters escaped ("edit:docs/a.md").
func AlwaysRules(req tool.Request) ([]string, error) {
	if req.Tool == "" || req.Subject == "" {
		return nil, errors.New("approval: the request has no tool or subject")
	}
	if req.Tool != "bash" {
		r := req.Tool + ":" + escapeGlob(req.Subject)
		if _, err := parseRule(r); err != nil {
			return nil, err
		}
		return []string{r}, nil
	}
	f, err := parseShell(req.Subject)
	if err != nil {
		return nil, fmt.Errorf("approval: the command does not parse, so it cannot be saved as a rule: %v", err)
	}
	cmds, ok := plainCommands(f)
	if !ok {
		// Not plain (a redirection, a substitution): saved as the exact
		// text, which allows that command and no other.
		r := "bash:=" + strings.TrimSpace(req.Subject)
		if _, err := parseRule(r); err != nil {
			return nil, err
		}
		return []string{r}, nil
	}
	var rules []string
	for _, words := range cmds {
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = quoteWord(w)
		}
		r := "bash:" + strings.Join(quoted, " ")
		if _, err := parseRule(r); err != nil {
			return nil, fmt.Errorf("approval: command %s cannot be saved as a rule: %w", describeCommand(words), err)
		}
		if !contains(rules, r) {
			rules = append(rules, r)
		}
	}
	return rules, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func without(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
