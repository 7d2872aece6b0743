package files

import (
	"os"
	"path/filepath"
	"strings"

	ignore "github.com/sabhiram/go-gitignore"
)

// ignorer answers "is this path ignored?" for one walk: `.git` anywhere, and
// what the .gitignore files from top down to the path's directory ignore
// (each matched relative to its own directory, as git does), plus
// .git/info/exclude at the top.
//
// A deeper file's `!pattern` does not re-include what a shallower file
// ignores; and a directory that is ignored is not entered at all, so
// nothing under it can be re-included, which is git's rule too.
type ignorer struct {
	top   string                       // absolute; .gitignore files above it are not read
	cache map[string]*ignore.GitIgnore // by directory; nil = that directory has none
}

func newIgnorer(top string) *ignorer {
	return &ignorer{top: top, cache: make(map[string]*ignore.GitIgnore)}
}

// ignored says whether abs (under top) is ignored; isDir matters for
// patterns that end in "/".
func (ig *ignorer) ignored(abs string, isDir bool) bool {
	if filepath.Base(abs) == ".git" {
		return true
	}
	rel, err := filepath.Rel(ig.top, abs)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return false
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	dir := ig.top
	for i := range parts {
		if gi := ig.load(dir); gi != nil {
			sub := strings.Join(parts[i:], "/")
			if isDir {
				sub += "/"
			}
			if gi.MatchesPath(sub) {
				return true
			}
		}
		dir = filepath.Join(dir, parts[i])
	}
	return false
}

// load compiles dir's .gitignore once (and, at the top, .git/info/exclude).
// A file that cannot be read counts as empty: ignoring less is safe.
func (ig *ignorer) load(dir string) *ignore.GitIgnore {
	if gi, ok := ig.cache[dir]; ok {
		return gi
	}
	var lines []string
	if b, err := os.ReadFile(filepath.Join(dir, ".gitignore")); err == nil {
		lines = append(lines, strings.Split(string(b), "\n")...)
	}
	if dir == ig.top {
		if b, err := os.ReadFile(filepath.Join(dir, ".git", "info", "exclude")); err == nil {
			lines = append(lines, strings.Split(string(b), "\n")...)
		}
	}
	var gi *ignore.GitIgnore
	if len(lines) > 0 {
		gi = ignore.CompileIgnoreLines(lines...)
	}
	ig.cache[dir] = gi
	return gi
}
