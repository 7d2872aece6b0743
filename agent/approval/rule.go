package approval

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"mvdan.cc/sh/v3/syntax"

	"github.com/spindle-sh/spindle/agent/tool"
)

// rule is one parsed rule, "tool:pattern".
type rule struct {
	text    string // as written, which is how it is named and removed
	tool    string
	pattern string    // file tools: a doublestar glob over the request's Subject
	bash    *bashRule // bash: the pattern as words
	exact   string    // bash: "bash:=COMMAND" matches this command text only
}

// bashRule is a bash rule's pattern: one path.Match glob per word, and
// whether a bare `*` at the end lets any remaining words follow.
type bashRule struct {
	words []string
	rest  bool
}

// ValidateRule reports whether text is a well-formed rule, and why not.
// Config loading uses it to refuse a bad rule with a clear message.
func ValidateRule(text string) error {
	_, err := parseRule(text)
	return err
}

func parseRule(text string) (*rule, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("approval: rule %q: %s", text, fmt.Sprintf(format, a...))
	}
	name, pattern, ok := strings.Cut(text, ":")
	if !ok || name == "" {
		return nil, bad(`want tool:pattern, e.g. "bash:go test *" or "edit:docs/**"`)
	}
	if strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return nil, bad("%q is not a tool name", name)
	}
	if strings.TrimSpace(pattern) == "" {
		return nil, bad("the pattern is empty")
	}
	if strings.ContainsRune(pattern, 0) {
		return nil, bad("the pattern contains a NUL byte")
	}
	r := &rule{text: text, tool: name, pattern: pattern}
	if name == "bash" && strings.HasPrefix(pattern, "=") {
		// "bash:=COMMAND" matches exactly that command text and nothing
		// else: how "always" saves a command that is not plain (one with a
		// redirection, a pipe into a file), which word patterns cannot say.
		r.exact = strings.TrimSpace(pattern[1:])
		if r.exact == "" {
			return nil, bad("the command after = is empty")
		}
		return r, nil
	}
	if name == "bash" {
		br, err := parseBashRule(pattern)
		if err != nil {
			return nil, bad("%v", err)
		}
		r.bash = br
		return r, nil
	}
	if !doublestar.ValidatePattern(pattern) {
		return nil, bad("bad glob pattern")
	}
	return r, nil
}

// parseBashRule reads a bash pattern with the shell's own quoting: an
// unquoted * ? [..] is a glob within the word, a quoted or backslashed one
// is literal, and a bare * as the last word matches any remaining words
// (none included).
func parseBashRule(pattern string) (*bashRule, error) {
	f, err := parseShell(pattern)
	if err != nil {
		return nil, fmt.Errorf("does not parse as a command: %v", err)
	}
	if len(f.Stmts) != 1 {
		return nil, errors.New("a bash rule is one simple command")
	}
	st := f.Stmts[0]
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || st.Negated || st.Background || len(st.Redirs) > 0 || len(call.Assigns) > 0 || len(call.Args) == 0 {
		return nil, errors.New("a bash rule is one simple command: words only, no operators, redirections or assignments")
	}
	br := &bashRule{}
	for i, w := range call.Args {
		if i == len(call.Args)-1 && len(w.Parts) == 1 {
			if lit, ok := w.Parts[0].(*syntax.Lit); ok && lit.Value == "*" {
				br.rest = true
				break
			}
		}
		p, err := patternWord(w)
		if err != nil {
			return nil, err
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("word %d: bad glob", i+1)
		}
		br.words = append(br.words, p)
	}
	return br, nil
}

// patternWord turns a rule's word into a path.Match pattern: glob
// characters stay active only where they are unquoted.
func patternWord(w *syntax.Word) (string, error) {
	var b strings.Builder
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			b.WriteString(p.Value) // backslash escapes mean the same to path.Match
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", errors.New(`$'…' is not allowed in a rule`)
			}
			b.WriteString(escapeGlob(p.Value))
		case *syntax.DblQuoted:
			for _, dp := range p.Parts {
				lit, ok := dp.(*syntax.Lit)
				if !ok || p.Dollar {
					return "", errors.New("rule words must be literal (no $, `…` or $(…) in a rule)")
				}
				b.WriteString(escapeGlob(doubleQuotedLiteral(lit.Value)))
			}
		default:
			return "", errors.New("rule words must be literal (no $, `…` or $(…) in a rule)")
		}
	}
	return b.String(), nil
}

// escapeGlob backslash-escapes what path.Match and doublestar treat as
// special, so that s matches only itself.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]{}\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// matches says whether the command words match the rule. An unknown word
// (deny only; allow never sees one) may stand for any number of any words.
// For deny, the command's name also matches by its base name (/bin/rm is
// rm) and a * in a word also crosses "/".
func (r *bashRule) matches(words []cmdWord, deny bool) bool {
	n, m := len(r.words), len(words)
	memo := make([]int8, (n+1)*(m+1)) // 0 not yet, 1 yes, 2 no
	var match func(i, j int) bool
	match = func(i, j int) bool {
		k := i*(m+1) + j
		if memo[k] != 0 {
			return memo[k] == 1
		}
		var ok bool
		switch {
		case i == n:
			ok = r.rest
			if !ok {
				ok = true // only if what is left may expand to nothing
				for _, w := range words[j:] {
					if w.known {
						ok = false
						break
					}
				}
			}
		case j == m:
			ok = false
		case !words[j].known:
			// Expands to nothing, or to rule word i and maybe more.
			ok = match(i, j+1) || match(i+1, j)
		default:
			ok = wordMatches(r.words[i], words[j].lit, deny, i == 0 && j == 0) && match(i+1, j+1)
		}
		memo[k] = 2
		if ok {
			memo[k] = 1
		}
		return ok
	}
	return match(0, 0)
}

func wordMatches(pattern, word string, deny, name bool) bool {
	if ok, _ := path.Match(pattern, word); ok {
		return true
	}
	if !deny {
		return false
	}
	// path.Match's * stops at "/"; for deny, which errs towards matching,
	// hide the slashes from it.
	if ok, _ := path.Match(strings.ReplaceAll(pattern, "/", "\x00"), strings.ReplaceAll(word, "/", "\x00")); ok {
		return true
	}
	if name && strings.Contains(word, "/") {
		return wordMatches(pattern, path.Base(word), true, false)
	}
	return false
}

// fileMatches matches a file tool's rule against a request. A relative
// pattern covers paths inside the project and an absolute one paths
// outside, so that "edit:**" never reaches outside; for deny, a relative
// pattern also covers outside paths (erring towards denying).
func (r *rule) fileMatches(req tool.Request, deny bool) bool {
	abs := strings.HasPrefix(r.pattern, "/")
	if req.Outside == abs {
		return doublestar.MatchUnvalidated(r.pattern, req.Subject)
	}
	if deny && !abs && req.Outside {
		return doublestar.MatchUnvalidated(r.pattern, strings.TrimPrefix(req.Subject, "/"))
	}
	return false
}
