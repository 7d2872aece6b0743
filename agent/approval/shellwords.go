package approval

import (
	"fmt"
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// A shell command is judged against bash rules word by word, on the syntax
// tree mvdan.cc/sh parses, never by string prefix: `go test ./... && rm -rf /`
// starts with "go test" but is two commands.
//
// The two kinds of rule read the tree in opposite directions:
//
//   - An allow rule only ever allows plain commands: simple commands whose
//     words are all literal (no expansion, substitution, glob, tilde or
//     brace), without assignments, joined by nothing or by &&, || and |,
//     with no redirection but a descriptor copy (2>&1) or /dev/null. Each
//     simple command must match an allow rule. Anything else is never
//     allowed by a rule; the person is asked.
//   - A deny rule matches if any simple command anywhere in the script
//     (in a pipeline, a subshell, a function body, a command substitution,
//     a here-document, the argument of sh -c or eval, or after a wrapper
//     such as sudo, env, xargs or find -exec) could match it. A word whose
//     value is not known before the command runs (`$x`, `$(…)`, `*.go`)
//     could be anything, any number of words, so it is taken to match
//     whatever the rule wants there: `$tool -rf /` is denied by "rm *".

// shellParser parses commands as bash. /bin/sh is usually dash, whose
// language is (nearly) a subset; a bash-only construct that dash would
// read differently is never a plain command, so it is never allowed.
func parseShell(src string) (*syntax.File, error) {
	return syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
}

// cmdWord is one word of a command as a deny rule sees it.
type cmdWord struct {
	lit   string
	known bool // false: its value (and how many words it makes) is only known at run time
}

// literalWord is the value of w after quote removal, if w is fully literal:
// no parameter, command or arithmetic expansion, no glob character, no
// leading tilde and no brace expansion outside quotes.
func literalWord(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for i, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			s, ok := unquotedLiteral(p.Value, i == 0, len(w.Parts) == 1)
			if !ok {
				return "", false
			}
			b.WriteString(s)
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if p.Dollar {
				return "", false
			}
			for _, dp := range p.Parts {
				lit, ok := dp.(*syntax.Lit)
				if !ok {
					return "", false
				}
				b.WriteString(doubleQuotedLiteral(lit.Value))
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}

// unquotedLiteral removes the backslashes of an unquoted literal, refusing
// what the shell would expand: glob characters, a leading tilde, braces
// (bash expands {a,b}; a word that is just {} is left alone).
func unquotedLiteral(raw string, first, whole bool) (string, bool) {
	if whole && raw == "{}" {
		return raw, true
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\':
			if i+1 < len(raw) {
				i++
				b.WriteByte(raw[i])
			}
		case c == '*' || c == '?' || c == '[' || c == '{' || c == '}':
			return "", false
		case c == '~' && first && i == 0:
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// doubleQuotedLiteral removes the backslashes that quote inside "…": only
// before $ ` " \ and newline.
func doubleQuotedLiteral(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) && strings.IndexByte("$`\"\\\n", raw[i+1]) >= 0 {
			i++
			if raw[i] == '\n' {
				continue
			}
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}

// plainCommands returns the simple commands of f, as literal words, if f is
// plain (see the package comment); ok is false otherwise.
func plainCommands(f *syntax.File) (cmds [][]string, ok bool) {
	var visit func(s *syntax.Stmt) bool
	visit = func(s *syntax.Stmt) bool {
		if s.Negated || s.Background || s.Coprocess || s.Disown {
			return false
		}
		for _, r := range s.Redirs {
			if !harmlessRedirect(r) {
				return false
			}
		}
		switch c := s.Cmd.(type) {
		case *syntax.CallExpr:
			if len(c.Assigns) > 0 || len(c.Args) == 0 {
				return false
			}
			words := make([]string, len(c.Args))
			for i, w := range c.Args {
				lit, ok := literalWord(w)
				if !ok {
					return false
				}
				words[i] = lit
			}
			cmds = append(cmds, words)
			return true
		case *syntax.BinaryCmd:
			switch c.Op {
			case syntax.AndStmt, syntax.OrStmt, syntax.Pipe:
				return visit(c.X) && visit(c.Y)
			}
		}
		return false
	}
	for _, s := range f.Stmts {
		if !visit(s) {
			return nil, false
		}
	}
	if len(cmds) == 0 {
		return nil, false
	}
	// In a list, a builtin that changes the shell's state changes what the
	// commands after it do (cd / && rm -rf build): each allowed alone is
	// not all of them allowed together.
	if len(cmds) > 1 {
		for _, c := range cmds {
			if stateBuiltins[c[0]] {
				return nil, false
			}
		}
	}
	return cmds, true
}

// stateBuiltins change the state of the shell that runs the rest of a list.
var stateBuiltins = map[string]bool{
	"cd": true, "pushd": true, "popd": true, "export": true, "unset": true, "set": true,
	"alias": true, "unalias": true, "umask": true, "ulimit": true, "trap": true, "exec": true,
	"source": true, ".": true, "eval": true, "readonly": true, "hash": true, "shopt": true,
	"enable": true, "builtin": true, "command": true, "declare": true, "typeset": true, "local": true,
}

// harmlessRedirect is a descriptor copy (2>&1, >&-) or a redirection from or
// to /dev/null.
func harmlessRedirect(r *syntax.Redirect) bool {
	if r.N != nil && strings.Trim(r.N.Value, "0123456789") != "" {
		return false // bash's {varname}>
	}
	target, ok := literalWord(r.Word)
	if r.Word == nil || !ok {
		return false
	}
	switch r.Op {
	case syntax.DplOut, syntax.DplIn:
		return target == "-" || (target != "" && strings.Trim(target, "0123456789") == "")
	case syntax.RdrOut, syntax.AppOut, syntax.RdrIn:
		return target == "/dev/null"
	}
	return false
}

// wrappers run (part of) their arguments as a command: a deny rule is also
// matched against every tail of their words, and a multi-word argument is
// parsed as a script (su -c "…", watch "…", ssh host "…").
var wrappers = map[string]bool{
	"sudo": true, "doas": true, "env": true, "nohup": true, "nice": true, "ionice": true, "time": true,
	"timeout": true, "command": true, "builtin": true, "exec": true, "xargs": true, "find": true,
	"stdbuf": true, "setsid": true, "chroot": true, "unshare": true, "nsenter": true, "strace": true,
	"ltrace": true, "watch": true, "flock": true, "chrt": true, "taskset": true, "su": true,
	"runuser": true, "busybox": true, "parallel": true, "unbuffer": true, "script": true, "ssh": true,
	"caffeinate": true, "systemd-run": true, "fakeroot": true, "firejail": true, "proot": true,
}

// shells run the script after -c.
var shells = map[string]bool{
	"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "ash": true, "mksh": true, "fish": true,
}

// maxDepth bounds the nesting of sh -c / eval / wrappers a deny check
// follows; deeper is taken as a match (it cannot be judged).
const maxDepth = 8

// scriptDenied says whether any simple command in script could match the
// deny rule r. A script that does not parse is taken as a match: it cannot
// be judged, and deny errs towards denying. (Check handles a top-level
// parse failure itself, by asking.)
func scriptDenied(r *bashRule, script string, depth int) bool {
	if depth > maxDepth {
		return true
	}
	f, err := parseShell(script)
	if err != nil {
		return true
	}
	return fileDenied(r, f, depth)
}

// fileDenied walks every simple command of f, wherever it is.
func fileDenied(r *bashRule, f *syntax.File, depth int) bool {
	found := false
	syntax.Walk(f, func(n syntax.Node) bool {
		if found {
			return false
		}
		if c, ok := n.(*syntax.CallExpr); ok && len(c.Args) > 0 {
			words := make([]cmdWord, len(c.Args))
			for i, w := range c.Args {
				lit, known := literalWord(w)
				words[i] = cmdWord{lit: lit, known: known}
			}
			found = wordsDenied(r, words, depth)
		}
		return !found
	})
	return found
}

// wordsDenied matches one simple command against a deny rule, looking
// through shells (sh -c), eval, alias and wrappers. After a wrapper word at
// the start, every later word may be where the real command starts, and a
// later word with spaces may be a script; checking each start once keeps
// this linear in the words, however many wrappers are stacked.
func wordsDenied(r *bashRule, words []cmdWord, depth int) bool {
	if depth > maxDepth {
		return true
	}
	wrapped := false
	for s := range words {
		if s > 0 && !wrapped {
			break
		}
		w := words[s]
		if wrapped && w.known && strings.ContainsAny(w.lit, " \t\n;&|") && scriptDenied(r, w.lit, depth+1) {
			return true
		}
		if r.matches(words[s:], true) {
			return true
		}
		if !w.known {
			continue // matches already let it stand for any words
		}
		name := path.Base(w.lit)
		args := words[s+1:]
		switch {
		case shells[name]:
			if shellScriptDenied(r, args, depth) {
				return true
			}
		case name == "eval":
			parts := make([]string, len(args))
			for i, a := range args {
				if !a.known {
					return true
				}
				parts[i] = a.lit
			}
			if scriptDenied(r, strings.Join(parts, " "), depth+1) {
				return true
			}
		case name == "alias":
			for _, a := range args {
				if !a.known {
					return true
				}
				if _, value, ok := strings.Cut(a.lit, "="); ok && value != "" && scriptDenied(r, value, depth+1) {
					return true
				}
			}
		case wrappers[name]:
			wrapped = true
		}
	}
	return false
}

// shellScriptDenied checks the script a shell runs with -c (-c, -ec, -lc,
// after options like -o pipefail or --norc). An unknown word among the
// options could be -c with any script. A shell running a script file or
// reading stdin is not judged.
func shellScriptDenied(r *bashRule, args []cmdWord, depth int) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !a.known {
			return true
		}
		switch {
		case a.lit == "--" || a.lit == "-":
			return false
		case a.lit == "-o" || a.lit == "+o" || a.lit == "-O" || a.lit == "+O":
			i++ // the option's argument
		case strings.HasPrefix(a.lit, "--"), strings.HasPrefix(a.lit, "+"):
		case strings.HasPrefix(a.lit, "-"):
			if !strings.Contains(a.lit[1:], "c") {
				continue
			}
			if i+1 >= len(args) {
				return false
			}
			if !args[i+1].known {
				return true
			}
			return scriptDenied(r, args[i+1].lit, depth+1)
		default:
			return false
		}
	}
	return false
}

// quoteWord quotes s for a rule so that it reads back as exactly s, with
// no glob: safe characters as they are, anything else in single quotes.
func quoteWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// describeCommand is a short form of a command for error messages.
func describeCommand(words []string) string {
	s := strings.Join(words, " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return fmt.Sprintf("%q", s)
}
