// Package files holds the tools that let the model look at and change the
// files of the project: view, ls, glob, grep (reads, free inside the
// project) and write, edit (changes, always approved first).
//
// Every path the model gives is resolved by Project.Resolve before it is
// judged: `..` and symlinks are followed the way the kernel would follow
// them, so a path that leaves the project through either counts as outside
// and needs the person's approval even for a read.
package files

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spindle-sh/spindle/agent/tool"
)

// maxSymlinkHops bounds how many symlinks one path may go through, as the
// kernel does (ELOOP), so that a link cycle is an error and not a hang.
const maxSymlinkHops = 40

// Project is the directory the tools work in.
type Project struct {
	root string // absolute, symlinks resolved, cleaned
}

// NewProject returns the project rooted at dir, which must be a directory.
// The root is made absolute and its symlinks are resolved, so that every
// path the tools compare against it is in the same form.
func NewProject(dir string) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("files: project %s: %w", dir, err)
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("files: project %s: %w", dir, err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("files: project %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("files: project %s: not a directory", dir)
	}
	return &Project{root: root}, nil
}

// Root is the project's absolute directory, symlinks resolved.
func (p *Project) Root() string { return p.root }

// Tools returns the file tools for this project: view, ls, glob, grep,
// write and edit.
func (p *Project) Tools() []tool.Tool {
	return []tool.Tool{&View{P: p}, &LS{P: p}, &Glob{P: p}, &Grep{P: p}, &Write{P: p}, &Edit{P: p}}
}

// Resolve turns path (relative to the root, or absolute) into the absolute
// path the kernel would reach, and says whether that is inside the project.
//
// `..` and symlinks are resolved component by component, in order, as the
// kernel does: `link/..` is the parent of the link's target, not the
// directory holding the link. A path whose tail does not exist yet (a file
// about to be written) has the symlinks of its longest existing prefix
// resolved and the rest taken literally. A path that goes through a file as
// if it were a directory, or through too many symlinks, is an error.
func (p *Project) Resolve(path string) (abs string, inside bool, err error) {
	if path == "" {
		return "", false, errors.New("path is empty")
	}
	if strings.ContainsRune(path, 0) {
		return "", false, errors.New("path contains a NUL byte")
	}
	full := path
	if !filepath.IsAbs(full) {
		// Not filepath.Join: it would clean `link/..` away before the
		// link is looked at.
		full = p.root + string(filepath.Separator) + path
	}
	abs, err = resolveLinks(full)
	if err != nil {
		return "", false, err
	}
	return abs, p.contains(abs), nil
}

// contains says whether abs (absolute, resolved) is the root or under it.
func (p *Project) contains(abs string) bool {
	if abs == p.root {
		return true
	}
	prefix := p.root
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	return strings.HasPrefix(abs, prefix)
}

// subject is how a resolved path is named in requests, rules and results:
// relative to the root (with forward slashes) when inside, absolute when
// outside.
func (p *Project) subject(abs string) string {
	if !p.contains(abs) {
		return abs
	}
	rel, err := filepath.Rel(p.root, abs)
	if err != nil {
		return abs
	}
	return filepath.ToSlash(rel)
}

// resolveLinks resolves an absolute path component by component.
func resolveLinks(full string) (string, error) {
	rest := strings.Split(full, string(filepath.Separator))
	resolved := string(filepath.Separator)
	hops := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved)
			continue
		}
		next := filepath.Join(resolved, c)
		fi, err := os.Lstat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Not there (yet): taken literally. Nothing under a missing
			// directory exists either, so the components after it are
			// literal too, until a `..` climbs back to what exists.
			resolved = next
			continue
		case err != nil:
			return "", fmt.Errorf("resolve %s: %w", full, unwrapPathError(err))
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if len(rest) > 0 && !fi.IsDir() && hasNamedComponent(rest) {
				return "", fmt.Errorf("resolve %s: %s is not a directory", full, next)
			}
			resolved = next
			continue
		}
		hops++
		if hops > maxSymlinkHops {
			return "", fmt.Errorf("resolve %s: too many levels of symbolic links", full)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", full, unwrapPathError(err))
		}
		if filepath.IsAbs(target) {
			resolved = string(filepath.Separator)
		}
		rest = append(strings.Split(target, string(filepath.Separator)), rest...)
	}
	return resolved, nil
}

// hasNamedComponent says whether rest names anything below the current
// component (so that a trailing "/" or "/." after a file is not an error).
func hasNamedComponent(rest []string) bool {
	for _, c := range rest {
		if c != "" && c != "." {
			return true
		}
	}
	return false
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
