package offline

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spindle-sh/spindle/sanitize"
)

// Limits on what a confirmation quotes from a tool result.
const (
	quoteLines     = 8   // lines of an ls listing or of a command's output
	quoteFileLines = 12  // lines of a file
	quoteLineRunes = 120 // runes of one quoted line
)

// cardKeys are the keys under which a tool result may hold its card.
var cardKeys = []string{"card", "created", "updated", "moved"}

// confirmation is the short answer after a tool result. It refers to what the
// result says: the card that was made, the files listed, the top of the file
// read, the command's exit status and output, that the person denied the
// call, the error, or the result itself. tool and args are the call's name
// and arguments ("" when the conversation lacks the call).
func confirmation(tool, args, content string) string {
	// Only line breaks are trimmed for the file tools: a file's first line
	// keeps its indentation (view's line numbers are padded with spaces).
	trimmed := strings.TrimSpace(content)
	if tool == "" {
		tool = "tool"
	}
	v := decodeJSON(trimmed)
	switch tool {
	case lsTool, viewTool, bashTool:
		return fileToolConfirmation(tool, args, strings.Trim(content, "\r\n"), v)
	}
	content = trimmed
	if obj, ok := v.(map[string]any); ok {
		if msg := field(obj, "error"); msg != "" {
			if text, ok := ruleDenial(msg, "the `"+tool+"` call"); ok {
				return text
			}
			return fmt.Sprintf(toolErrorText, tool, errorText(msg))
		}
		// spindle's own tools wrap the card in a key that names what
		// happened ({"created": {...}}); other clients may say "card".
		card := obj
		for _, key := range cardKeys {
			if inner, ok := lookup(obj, key).(map[string]any); ok {
				card = inner
				break
			}
		}
		if title := field(card, "title"); title != "" {
			where := ""
			if st := field(card, "status"); st != "" {
				if name, ok := columnNames[st]; ok {
					st = name
				}
				where = " in *" + quoteOneLine(st, 20) + "*"
			}
			id := field(card, "id")
			if id == "" {
				return fmt.Sprintf(cardDoneText, quoteOneLine(title, 120), "", where)
			}
			return fmt.Sprintf(cardDoneText, quoteOneLine(title, 120), " as card #"+quoteOneLine(id, 20), where)
		}
	}
	if arr, ok := v.([]any); ok {
		return fmt.Sprintf(toolListText, tool, len(arr))
	}
	if isErrorText(content) {
		if text, ok := ruleDenial(content, "the `"+tool+"` call"); ok {
			return text
		}
		return fmt.Sprintf(toolErrorText, tool, errorText(content))
	}
	if content == "" {
		return fmt.Sprintf(toolEmptyText, tool)
	}
	return fmt.Sprintf(toolOtherText, tool, quoteOneLine(content, 160))
}

// fileToolConfirmation answers the result of ls, view or bash.
func fileToolConfirmation(tool, args, content string, v any) string {
	var a struct {
		Path    string `json:"path"`
		Command string `json:"command"`
	}
	json.Unmarshal([]byte(args), &a) // a call the model did not make has no args: the zero value is fine
	target := codeSpan(quoteOneLine(a.Path, 120))
	if a.Path == "" {
		target = "the folder"
		if tool == viewTool {
			target = "the file"
		}
	}
	cmd := codeSpan(quoteOneLine(a.Command, 120))
	if a.Command == "" {
		cmd = "the command"
	}

	obj, _ := v.(map[string]any)
	errMsg := ""
	if obj != nil {
		errMsg = field(obj, "error")
	}
	code, output := "", ""
	if tool == bashTool {
		code, output = bashResult(obj, content)
	}
	// spindle marks a failed call's text "error: …"; a one-line result
	// that starts with "error" or "failed" is taken for one too.
	if errMsg == "" && code == "" && (hasErrorPrefix(content) || !strings.Contains(content, "\n") && isErrorText(content)) {
		errMsg = content
	}
	// A denial is an error that says so; a listing with denied.txt in it,
	// or a command's own "Permission denied", is not one.
	if errMsg != "" && saysDenied(errMsg) {
		what := map[string]string{lsTool: "listing " + target, viewTool: "reading " + target, bashTool: "running " + cmd}[tool]
		if text, ok := ruleDenial(errMsg, what); ok {
			return text
		}
		if unansweredRE.MatchString(errMsg) {
			return fmt.Sprintf(toolUnansweredText, what)
		}
		if strings.Contains(errMsg, "denied by spindle run") {
			return fmt.Sprintf(toolHeadlessDeniedText, what)
		}
		return fmt.Sprintf(toolDeniedText, what)
	}
	if errMsg != "" {
		return fmt.Sprintf(toolErrorText, tool, errorText(errMsg))
	}

	switch tool {
	case lsTool:
		lines := resultLines(v, content)
		// spindle's ls heads its listing with the folder ("./"): a
		// heading, not an entry.
		if v == nil && len(lines) > 0 && strings.HasSuffix(lines[0], "/") && isListingHeading(lines[0], a.Path) {
			lines = lines[1:]
		}
		if len(lines) == 0 {
			return fmt.Sprintf("%s is empty.\n", upperFirst(target))
		}
		block, more := quoteBlock(lines, "text", quoteLines)
		text := fmt.Sprintf("%s holds %d %s:\n\n%s", upperFirst(target), len(lines), plural(len(lines), "entry", "entries"), block)
		if more > 0 {
			text += fmt.Sprintf("\n…and %d more.\n", more)
		}
		if f := firstFile(lines); f != "" {
			text += fmt.Sprintf("\nAsk me to open one of them, for example *show me %s*.\n", escapeMarkdown(f))
		}
		return text
	case viewTool:
		lines := resultLines(v, content)
		if len(lines) == 0 {
			return fmt.Sprintf("%s is empty.\n", upperFirst(target))
		}
		block, more := quoteBlock(lines, fenceLanguage(a.Path), quoteFileLines)
		if more == 0 {
			return fmt.Sprintf("Here is %s, all %d %s:\n\n%s", target, len(lines), plural(len(lines), "line", "lines"), block)
		}
		return fmt.Sprintf("Here is the top of %s, %d of its %d lines:\n\n%s\nAsk me for another file whenever you like.\n",
			target, quoteFileLines, len(lines), block)
	}

	var b strings.Builder
	switch code {
	case "":
		fmt.Fprintf(&b, "%s finished.", upperFirst(cmd))
	case "0":
		fmt.Fprintf(&b, "%s exited with status 0.", upperFirst(cmd))
	default:
		fmt.Fprintf(&b, "%s exited with status %s, so it did not succeed.", upperFirst(cmd), code)
	}
	lines := splitLines(output)
	if len(lines) == 0 {
		b.WriteString(" It printed nothing.\n")
		return b.String()
	}
	block, more := quoteBlock(lines, "text", quoteLines)
	if more == 0 {
		b.WriteString(" Its output:\n\n" + block)
	} else {
		fmt.Fprintf(&b, " The first lines of its output:\n\n%s\n…and %d more %s.\n", block, more, plural(more, "line", "lines"))
	}
	return b.String()
}

var (
	// deniedRE finds a refusal: "denied", "declined", "rejected", "not
	// approved".
	deniedRE = regexp.MustCompile(`(?i)\b(?:denied|declined|rejected|not\s+approved|disallowed)\b`)
	// notRefusalRE is a denial by the system, not by the person.
	notRefusalRE = regexp.MustCompile(`(?i)\b(?:permission|access)\s+denied\b`)
	// denyRuleRE finds the deny rule that refused a call: quoted
	// (`the deny rule "bash:rm *" denied it`) or to the end of its clause
	// ("denied by deny rule bash:rm *").
	denyRuleRE = regexp.MustCompile(`(?i)\bdeny rule\s+(?:("(?:[^"\\]|\\.)*")|(\S[^;\n]*?))(?:\s+denied\b|\s+\(|[;\n]|$)`)
	// unansweredRE is a request nobody answered in time.
	unansweredRE = regexp.MustCompile(`(?i)\bdenied by timeout\b|\bnobody answered\b`)
	// exitRE is a line that reports an exit status: "exit status 1",
	// "exit code: 0", "[exited with 2]", "error: exit status 1".
	exitRE = regexp.MustCompile(`(?im)^[\s\[(]*(?:error:\s*)?exit(?:ed)?(?:\s+with)?(?:\s+(?:status|code))?\s*[:=]?\s*(-?\d+)[\s\])]*\.?$`)
)

// ruleDenial is the answer to a call a deny rule refused (what was
// asked: "running `rm -rf x`"), when msg says a rule did: spindle's agent
// words it `the deny rule "bash:rm *" denied it`, its transcript "denied
// by deny rule bash:rm *". Such a call was never shown to the person, so
// the answer must not say they denied it.
func ruleDenial(msg, what string) (string, bool) {
	m := denyRuleRE.FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	rule := m[2]
	if m[1] != "" {
		if r, err := strconv.Unquote(m[1]); err == nil {
			rule = r
		}
	}
	if rule == "" {
		return "", false
	}
	return fmt.Sprintf(toolRuleDeniedText, codeSpan(quoteOneLine(rule, 120)), what), true
}

// saysDenied reports whether a tool's error says the person refused it.
func saysDenied(s string) bool {
	return deniedRE.MatchString(notRefusalRE.ReplaceAllString(s, ""))
}

// isErrorText reports whether a plain-text result is an error message.
func isErrorText(s string) bool {
	lower := strings.ToLower(s)
	return strings.HasPrefix(lower, "error") || strings.HasPrefix(lower, "failed")
}

// hasErrorPrefix reports whether s starts with "error:", the mark spindle's
// agent puts on the text of a failed call.
func hasErrorPrefix(s string) bool {
	return len(s) >= 6 && strings.EqualFold(s[:6], "error:")
}

// errorText is a tool's error message for one line of an answer, without
// the "error:" mark (the answer says that the tool failed).
func errorText(msg string) string {
	msg = strings.TrimSpace(msg)
	if hasErrorPrefix(msg) {
		msg = msg[6:]
	}
	return quoteOneLine(msg, 160)
}

// bashResult finds a command's exit status ("" when the result does not
// say) and its output: in a JSON object's exit_code and output (or stdout
// and stderr), or in the text, where a line like "exit status 1" holds the
// status and the rest is the output.
func bashResult(obj map[string]any, content string) (code, output string) {
	if obj != nil {
		for _, k := range []string{"exit_code", "exitCode", "exit_status", "exit", "code", "status"} {
			if c := field(obj, k); c != "" {
				if _, err := strconv.Atoi(c); err == nil {
					code = c
					break
				}
			}
		}
		var parts []string
		for _, k := range []string{"output", "combined_output", "stdout", "stderr"} {
			if s := field(obj, k); strings.TrimSpace(s) != "" {
				parts = append(parts, strings.TrimRight(s, "\n"))
			}
		}
		return code, strings.Join(parts, "\n")
	}
	if loc := exitRE.FindStringSubmatchIndex(content); loc != nil {
		code = content[loc[2]:loc[3]]
		content = content[:loc[0]] + content[loc[1]:]
	}
	return code, strings.TrimSpace(content)
}

// resultLines are the entries of a listing or the lines of a file: a JSON
// array's elements (strings, or objects by their name or path), a JSON
// object's list or text under entries, files, items, lines, content or
// output, or else the result's lines.
func resultLines(v any, content string) []string {
	switch x := v.(type) {
	case []any:
		return elementLines(x)
	case map[string]any:
		for _, k := range []string{"entries", "files", "items", "lines", "content", "text", "output"} {
			switch inner := lookup(x, k).(type) {
			case []any:
				return elementLines(inner)
			case string:
				return splitLines(inner)
			}
		}
	}
	return splitLines(content)
}

func elementLines(arr []any) []string {
	lines := make([]string, 0, len(arr))
	for _, e := range arr {
		switch x := e.(type) {
		case string:
			lines = append(lines, x)
		case map[string]any:
			name := field(x, "name")
			if name == "" {
				name = field(x, "path")
			}
			if name == "" {
				b, _ := json.Marshal(x)
				name = string(b)
			} else if t := strings.ToLower(field(x, "type")); (t == "dir" || t == "directory") && !strings.HasSuffix(name, "/") {
				name += "/"
			}
			lines = append(lines, name)
		default:
			b, _ := json.Marshal(x)
			lines = append(lines, string(b))
		}
	}
	return lines
}

// splitLines cuts text into lines without their "\r", dropping blank lines
// at the start and the end.
func splitLines(text string) []string {
	text = strings.Trim(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if strings.TrimSpace(text) == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// isListingHeading reports whether line is the ls tool's heading for a
// listing of path: the path (or ".") with a slash.
func isListingHeading(line, path string) bool {
	if path == "" {
		path = "."
	}
	return strings.TrimSuffix(line, "/") == strings.TrimSuffix(filepath.Clean(path), "/")
}

// firstFile is the first entry of a listing that names a file (not a
// directory), "" when there is none.
func firstFile(lines []string) string {
	for _, l := range lines {
		f := strings.TrimSpace(sanitize.String(l))
		if !strings.HasSuffix(f, "/") && !strings.ContainsAny(f, " \t") && looksLikeFile(f) {
			return oneLine(f, 80)
		}
	}
	return ""
}

// quoteBlock quotes the first limit lines, sanitized and cut to
// quoteLineRunes runes each, in a fenced code block that no line can close
// early; more is how many lines were left out.
func quoteBlock(lines []string, lang string, limit int) (block string, more int) {
	if len(lines) > limit {
		more = len(lines) - limit
		lines = lines[:limit]
	}
	quoted := make([]string, len(lines))
	longest := 0
	for i, l := range lines {
		l = sanitize.String(strings.TrimRight(l, "\r"))
		if utf8.RuneCountInString(l) > quoteLineRunes {
			l = string([]rune(l)[:quoteLineRunes-1]) + "…"
		}
		quoted[i] = l
		longest = max(longest, longestRun(l, '`'))
	}
	fence := strings.Repeat("`", max(3, longest+1))
	return fence + lang + "\n" + strings.Join(quoted, "\n") + "\n" + fence + "\n", more
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	n, best := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// codeSpan puts s in an inline code span that s cannot end early.
func codeSpan(s string) string {
	if s == "" {
		return `""`
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// markdownSpecial are the characters escapeMarkdown escapes.
const markdownSpecial = "\\`*_[]<>#|~"

// escapeMarkdown backslash-escapes the characters that would start markdown
// formatting, so that quoted text shows as typed.
func escapeMarkdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(markdownSpecial, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// quoteOneLine is untrusted text made safe for one line of an answer:
// sanitized, whitespace collapsed, cut to n runes.
func quoteOneLine(s string, n int) string { return oneLine(sanitize.String(s), n) }

// fenceLanguages maps file extensions to the code fence's language.
var fenceLanguages = map[string]string{
	".go": "go", ".md": "markdown", ".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml",
	".sh": "sh", ".bash": "sh", ".py": "python", ".js": "javascript", ".ts": "typescript", ".rs": "rust",
	".c": "c", ".h": "c", ".sql": "sql", ".html": "html", ".css": "css", ".mod": "text", ".sum": "text",
}

func fenceLanguage(p string) string {
	if m := extRE.FindString(p); m != "" {
		if l, ok := fenceLanguages[strings.ToLower(m)]; ok {
			return l
		}
	}
	return "text"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// upperFirst capitalises a sentence's first letter; a code span or a quote
// stays as it is.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r >= 'a' && r <= 'z' {
		return string(r-'a'+'A') + s[n:]
	}
	return s
}

// decodeJSON decodes a tool result, nil when it is not JSON.
func decodeJSON(content string) any {
	dec := json.NewDecoder(strings.NewReader(content))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// lookup finds a key in a JSON object: exactly, else regardless of case
// (the first such key in sorted order, so that the answer does not depend
// on map order).
func lookup(obj map[string]any, key string) any {
	if v, ok := obj[key]; ok {
		return v
	}
	var match []string
	for k := range obj {
		if strings.EqualFold(k, key) {
			match = append(match, k)
		}
	}
	if len(match) == 0 {
		return nil
	}
	slices.Sort(match)
	return obj[match[0]]
}

// field is a scalar value of a JSON object as text, "" when absent or not a
// scalar.
func field(obj map[string]any, key string) string {
	switch v := lookup(obj, key).(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// columnNames are the board's statuses as its columns name them.
var columnNames = map[string]string{
	"todo": "To do", "running": "Running", "blocked": "Blocked",
	"review": "Review", "done": "Done", "archived": "Archived",
}
