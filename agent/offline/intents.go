package offline

import (
	"path"
	"regexp"
	"strings"
	"unicode/utf8"
)

// The tools the demo model calls, by the names spindle's registry gives
// them.
const (
	createTool  = "kanban_create" // {"title"}
	lsTool      = "ls"            // {"path"}
	viewTool    = "view"          // {"path"}
	bashTool    = "bash"          // {"command"}
	commentTool = "card_comment"  // {"text"}: a worker's progress note
	doneTool    = "card_done"     // {"summary"}: a worker finished its card
	blockTool   = "card_block"    // {"reason"}: a worker cannot go on
)

// intent is a file or shell tool call that a chat prompt asks for.
type intent struct {
	tool string
	args map[string]string
	what string // what the call would do, in markdown: "run `git status`"
}

// maxCommandBytes bounds a command taken from a prompt; a longer prompt that
// starts with "run" is taken for prose, not a command.
const maxCommandBytes = 1000

var (
	// runRE finds "run X", "execute X", "please run: X", "can you run X".
	runRE = regexp.MustCompile(`(?is)^\s*(?:(?:please|pls|can you|could you|would you|will you)[\s,]+)?(?:run|execute|exec)\b[\s:]*(.*)$`)
	// commandWordRE is the "the command" in "run the command X".
	commandWordRE = regexp.MustCompile(`(?i)^(?:the\s+)?(?:command|cmd)\b[\s:]*`)
	// pleaseRE is a "please" at the end of a command.
	pleaseRE = regexp.MustCompile(`(?i)[\s,]+please$`)
	// testsRE is "run the tests", which means the Go tests here.
	testsRE = regexp.MustCompile(`(?i)^(?:the\s+|all\s+(?:the\s+)?)?(?:unit\s+)?tests?(?:\s+suite)?$`)
	// articleRE starts a rest that is prose, not a command: "run a
	// worker", "execute the plan".
	articleRE = regexp.MustCompile(`(?i)^(?:a|an|the|this|that|it|my|our)\b`)
	// lsRE is "ls" alone or with a path.
	lsRE = regexp.MustCompile(`^\s*ls(?:\s+-[a-zA-Z]+)*(?:\s+([^\s-]\S*))?\s*$`)
	// listRE asks for the files of the current folder.
	listRE = regexp.MustCompile(`(?i)\b(?:(?:list|show)\s+(?:me\s+)?(?:the\s+|all\s+(?:the\s+)?|my\s+)?files\b|` +
		`(?:what|which)\s+files\b|` +
		`what(?:'s|’s|\s+is|\s+are)?\s+(?:in|inside)\s+(?:this|the|my|our)\s+(?:folder|directory|dir|project|repo|repository)\b)`)
	// viewRE is a verb that asks to see a file, followed by the file.
	viewRE = regexp.MustCompile(`(?i)\b(?:show(?:\s+me)?|open|read|cat|view|print|display|what(?:'s|’s|\s+is)\s+in)\s+(?:me\s+)?(?:the\s+)?(?:file\s+|contents\s+of\s+)?(\S+)`)
	// extRE is a file name's extension, with at least one letter
	// (".go", ".gitignore", not the ".5" of "1.5").
	extRE = regexp.MustCompile(`\.[A-Za-z0-9_-]*[A-Za-z][A-Za-z0-9_-]*$`)
)

// plainFiles are file names without an extension that are still files.
var plainFiles = map[string]bool{
	"makefile": true, "dockerfile": true, "license": true, "readme": true, "changelog": true,
	"authors": true, "contributing": true, "notice": true, "gemfile": true, "procfile": true,
}

// toolIntent reports whether a chat prompt asks for a file or shell tool:
// "run …" or "execute …" → bash, "show me X" / "open X" / "read X" / "cat X"
// / "view X" → view, "list files" / "ls" / "what is in this folder" → ls.
func toolIntent(prompt string) (intent, bool) {
	if cmd, ok := commandFrom(prompt); ok {
		return intent{tool: bashTool, args: map[string]string{"command": cmd}, what: "run " + codeSpan(oneLine(cmd, 200))}, true
	}
	if file, ok := fileFrom(prompt); ok {
		return intent{tool: viewTool, args: map[string]string{"path": file}, what: "open " + codeSpan(file)}, true
	}
	if dir, ok := dirFrom(prompt); ok {
		return intent{tool: lsTool, args: map[string]string{"path": dir}, what: "list the files in " + codeSpan(dir)}, true
	}
	return intent{}, false
}

// commandFrom returns the command of "run X": the rest of the prompt with
// surrounding quotes or backticks and trailing punctuation removed. "run
// the tests" is "go test ./...".
func commandFrom(prompt string) (string, bool) {
	m := runRE.FindStringSubmatch(prompt)
	if m == nil {
		return "", false
	}
	rest := strings.TrimSpace(m[1])
	rest = strings.TrimSpace(rest[len(commandWordRE.FindString(rest)):])
	rest = strings.TrimRight(rest, ".!?;, \t\r\n")
	rest = strings.TrimRight(rest[:len(rest)-len(pleaseRE.FindString(rest))], ".!?;, \t\r\n")
	rest = stripEnclosing(rest)
	if testsRE.MatchString(rest) {
		return "go test ./...", true
	}
	if rest == "" || len(rest) > maxCommandBytes || articleRE.MatchString(rest) {
		return "", false
	}
	return rest, true
}

// stripEnclosing removes matching quotes or backticks around s, as many
// pairs as there are ("```git status```", "'ls'"), and the spaces inside.
func stripEnclosing(s string) string {
	for {
		first, n := utf8.DecodeRuneInString(s)
		last, m := utf8.DecodeLastRuneInString(s)
		if len(s) < n+m || !isQuote(first) || !isQuote(last) {
			return s
		}
		s = strings.TrimSpace(s[n : len(s)-m])
	}
}

func isQuote(r rune) bool { return strings.ContainsRune("\"'`“”‘’«»„", r) }

// fileFrom returns the file of "show me X", "open X", "read X", "cat X",
// "view X" or "what is in X", when X looks like a file name: it has an
// extension or a slash, or is a well-known name like Makefile.
func fileFrom(prompt string) (string, bool) {
	for _, m := range viewRE.FindAllStringSubmatch(prompt, -1) {
		if f := cleanPath(m[1]); looksLikeFile(f) {
			return f, true
		}
	}
	return "", false
}

// dirFrom returns the directory to list: the path of "ls X", else "." for
// "ls", "list files", "show the files", "what is in this folder".
func dirFrom(prompt string) (string, bool) {
	if m := lsRE.FindStringSubmatch(prompt); m != nil {
		if d := cleanPath(m[1]); d != "" {
			return d, true
		}
		return ".", true
	}
	if listRE.MatchString(prompt) {
		return ".", true
	}
	return "", false
}

// cleanPath removes quotes, a possessive "'s" and trailing punctuation from
// a word of the prompt.
func cleanPath(w string) string {
	w = stripEnclosing(strings.TrimRight(w, ".,;:!?)"))
	w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s")
	w = strings.TrimRight(w, ".,;:!?)")
	return stripEnclosing(w)
}

func looksLikeFile(f string) bool {
	if f == "" || len(f) > 500 || strings.Contains(f, "://") || strings.ContainsAny(f, "`*<>|") {
		return false
	}
	base := path.Base(f)
	return strings.Contains(f, "/") || extRE.MatchString(base) || plainFiles[strings.ToLower(base)]
}
