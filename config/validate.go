package config

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ruleTools are the tools an approval rule may name. They are the agent's
// tool names; config cannot import the agent to ask it.
var ruleTools = []string{"view", "ls", "glob", "grep", "write", "edit", "bash"}

// Rule is one approval rule, "tool:pattern". What the pattern matches (a
// command for bash, a path glob for the others) is the approver's business;
// config checks only the shape.
type Rule struct {
	Tool    string
	Pattern string
}

// String writes the rule as it is written in the file.
func (r Rule) String() string { return r.Tool + ":" + r.Pattern }

// ParseRule parses "tool:pattern". The tool must be one of view, ls, glob,
// grep, write, edit, bash, and the pattern must not be empty. Space around
// either is dropped, so "bash: go test *" is "bash:go test *".
func ParseRule(s string) (Rule, error) {
	tool, pattern, ok := strings.Cut(s, ":")
	if !ok {
		return Rule{}, fmt.Errorf("rule %q is not tool:pattern", s)
	}
	r := Rule{Tool: strings.TrimSpace(tool), Pattern: strings.TrimSpace(pattern)}
	if !slices.Contains(ruleTools, r.Tool) {
		return Rule{}, fmt.Errorf("rule %q: unknown tool %q (want one of %s)", s, r.Tool, strings.Join(ruleTools, ", "))
	}
	if r.Pattern == "" {
		return Rule{}, fmt.Errorf("rule %q has no pattern", s)
	}
	return r, nil
}

func parseRules(ss []string) []Rule {
	rs := make([]Rule, 0, len(ss))
	for _, s := range ss {
		if r, err := ParseRule(s); err == nil {
			rs = append(rs, r)
		}
	}
	return rs
}

// problem is one bad value: its key path, the array element (-1 for none)
// and what is wrong.
type problem struct {
	key  []string
	elem int
	msg  string
}

func (p problem) name() string {
	if p.elem < 0 {
		return dotted(p.key)
	}
	return dotted(p.key) + "[" + strconv.Itoa(p.elem) + "]"
}

// problems lists every bad value in f, in the order of File's fields and,
// in maps, of their names. Keys is checked by the keymap package.
func (f File) problems() []problem {
	var ps []problem
	bad := func(msg string, elem int, key ...string) {
		ps = append(ps, problem{key: key, elem: elem, msg: msg})
	}
	notNegative := func(key string, v int64) {
		if v < 0 {
			bad(fmt.Sprintf("%d is negative; leave it out or write 0 for the default", v), -1, key)
		}
	}
	if d := f.StaleTimeout.Duration; d < 0 {
		bad(fmt.Sprintf("%s is negative", d), -1, "stale_timeout")
	}
	// 0 is the default; past the limit is refused, as --max-workers is,
	// rather than quietly capped.
	if n := f.MaxWorkers; n < 0 || n > MaxWorkersLimit {
		bad(fmt.Sprintf("%d: want 1 to %d, or leave it out (or write 0) for the default %d", n, MaxWorkersLimit, DefaultMaxWorkers), -1, "max_workers")
	}
	if d := f.ApprovalTimeout.Duration; d < 0 {
		bad(fmt.Sprintf("%s is negative", d), -1, "approval_timeout")
	}
	for _, list := range []struct {
		key   string
		rules []string
	}{{"allow", f.Allow}, {"deny", f.Deny}} {
		for i, s := range list.rules {
			if _, err := ParseRule(s); err != nil {
				bad(err.Error(), i, list.key)
			}
		}
	}
	if !slices.Contains([]string{"", ThemeAuto, ThemeDark, ThemeLight}, f.Theme) {
		bad(fmt.Sprintf("%q is not auto, dark or light", f.Theme), -1, "theme")
	}
	notNegative("max_reply_bytes", f.MaxReplyBytes)
	notNegative("max_event_bytes", f.MaxEventBytes)
	if !slices.Contains([]string{"", HistoryDrop, HistorySummarise}, f.History) {
		bad(fmt.Sprintf("%q is not drop or summarise", f.History), -1, "history")
	}
	for _, name := range slices.Sorted(maps.Keys(f.Endpoints)) {
		e := f.Endpoints[name]
		if name == "" {
			bad("an endpoint needs a name", -1, "endpoints", name)
		}
		if strings.TrimSpace(e.BaseURL) == "" {
			bad("base_url is missing", -1, "endpoints", name, "base_url")
		}
		if e.APIKeyEnv != "" && !isEnvName(e.APIKeyEnv) {
			// Not quoted: it may be the key itself, written in the wrong place.
			bad("not the name of an environment variable (letters, digits and _, such as OPENAI_API_KEY)", -1, "endpoints", name, "api_key_env")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(f.Models)) {
		m := f.Models[name]
		if name == "" {
			bad("a model needs a name", -1, "models", name)
		}
		if m.ContextWindow < 0 {
			bad(fmt.Sprintf("%d is negative", m.ContextWindow), -1, "models", name, "context_window")
		}
		for _, price := range []struct {
			key string
			v   float64
		}{{"input_price", m.InputPrice}, {"output_price", m.OutputPrice}} {
			if price.v < 0 || math.IsNaN(price.v) || math.IsInf(price.v, 0) {
				bad(fmt.Sprintf("%v is not a price in dollars per million tokens", price.v), -1, "models", name, price.key)
			}
		}
	}
	return ps
}

// problemsError is one line listing every problem in the file's order,
// each after path:line when the line is known (a missing key takes its
// table's line).
func problemsError(path string, doc []byte, ps []problem) error {
	idx := indexKeys(doc)
	type placed struct {
		line int
		msg  string
	}
	all := make([]placed, len(ps))
	for i, p := range ps {
		where := path
		line := lineOf(idx, p)
		if line > 0 {
			where += ":" + strconv.Itoa(line)
		}
		all[i] = placed{line, fmt.Sprintf("%s: %s: %s", where, p.name(), oneLine(p.msg))}
	}
	// In the file's order; any without a line last.
	slices.SortStableFunc(all, func(a, b placed) int {
		return cmp.Compare(uint(a.line-1), uint(b.line-1))
	})
	msgs := make([]string, len(all))
	for i, p := range all {
		msgs[i] = p.msg
	}
	return fmt.Errorf("config: %s", strings.Join(msgs, "; "))
}

// lineOf finds the line of p's key, else of the nearest table above it.
func lineOf(idx map[string]keyInfo, p problem) int {
	if v, ok := idx[p.name()]; ok {
		return v.line
	}
	for n := len(p.key); n > 0; n-- {
		if v, ok := idx[dotted(p.key[:n])]; ok {
			return v.line
		}
	}
	return 0
}

func isEnvName(s string) bool {
	for i, c := range s {
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return s != ""
}
