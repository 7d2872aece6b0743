package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// durationKeys are File's Duration fields. The TOML decoder hands a
// non-string value (stale_timeout = 5) to Duration.UnmarshalText without
// saying where it was, so decode looks these keys up itself.
var durationKeys = []string{"stale_timeout", "approval_timeout"}

// decode parses doc into f, refusing keys that File does not have. Its error
// is one line naming path and, where go-toml reports it, the line and key.
func decode(path string, doc []byte, f *File) error {
	err := toml.NewDecoder(bytes.NewReader(doc)).DisallowUnknownFields().Decode(f)
	if err == nil {
		return nil
	}
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var idx map[string]keyInfo
		msgs := make([]string, len(strict.Errors))
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			key := dotted(e.Key())
			if idx == nil {
				idx = indexKeys(doc)
			}
			msgs[i] = fmt.Sprintf("%s:%d: unknown key %q", path, line, fullKey(idx, key, line))
		}
		return errors.New("config: " + strings.Join(msgs, "; "))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if k := dotted(de.Key()); k != "" && !strings.Contains(msg, k) {
			msg = k + ": " + plainMismatch(msg)
		}
		return fmt.Errorf("config: %s:%d:%d: %s", path, line, col, oneLine(msg))
	}
	var dur *durationError
	if errors.As(err, &dur) {
		idx := indexKeys(doc)
		for _, k := range durationKeys {
			if v, ok := idx[k]; ok && v.kind != unstable.String && v.text == dur.text {
				return fmt.Errorf("config: %s:%d: %s: %s", path, v.line, k, oneLine(dur.Error()))
			}
		}
	}
	return fmt.Errorf("config: %s: %s", path, oneLine(err.Error()))
}

// fullKey is key with the tables above it. go-toml names a key inside an
// inline table without them (foo, not endpoints.x.foo); the index knows
// them, and a key found on the same line is the one.
func fullKey(idx map[string]keyInfo, key string, line int) string {
	if v, ok := idx[key]; ok && v.line == line {
		return key
	}
	var found []string
	for name, v := range idx {
		if v.line == line && strings.HasSuffix(name, "."+key) {
			found = append(found, name)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return key
}

// mismatch matches go-toml's type errors, e.g. "cannot decode TOML string
// into struct field config.File.MaxWorkers of type int", which name Go types.
var mismatch = regexp.MustCompile(`^cannot decode TOML ([a-z ]+?) into (?:struct field \S+ of type )?(\S+)$`)

// goTypes says in the file's terms what a Go field type wants.
var goTypes = map[string]string{
	"int":                 "an integer",
	"int64":               "an integer",
	"float64":             "a number",
	"string":              "a string",
	"bool":                "true or false",
	"*bool":               "true or false",
	"[]string":            "an array of strings",
	"config.Duration":     `a duration such as "30s"`,
	"config.Endpoint":     "a table",
	"config.Model":        "a table",
	"map[string][]string": "a table",
}

// plainMismatch rewrites a go-toml type error in the file's terms ("want an
// integer, got a TOML string"); other messages are returned as they are.
func plainMismatch(msg string) string {
	m := mismatch.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	want, ok := goTypes[m[2]]
	if !ok {
		return msg
	}
	return fmt.Sprintf("want %s, got a TOML %s", want, m[1])
}

// keyInfo is where a key's value is and what it is.
type keyInfo struct {
	line int
	kind unstable.Kind
	text string // the value as written, for scalars
}

// indexKeys maps every key in doc, as dotted() writes it, to its value's
// line and kind; an array's elements are indexed as "key[i]". It stops at
// the first syntax error, returning what it has seen, and is only called on
// documents that the decoder has already parsed, to place an error.
func indexKeys(doc []byte) map[string]keyInfo {
	idx := map[string]keyInfo{}
	var p unstable.Parser
	p.Reset(doc)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = table[:0:0]
			line := 0
			for it := e.Key(); it.Next(); {
				n := it.Node()
				if line == 0 {
					line = p.Shape(n.Raw).Start.Line
				}
				table = append(table, string(n.Data))
			}
			idx[dotted(table)] = keyInfo{line: line, kind: e.Kind}
		case unstable.KeyValue:
			indexKeyValue(&p, idx, table, e)
		}
	}
	return idx
}

// indexKeyValue adds a key-value expression under the table prefix, and
// the keys of an inline table or the elements of an array in it.
func indexKeyValue(p *unstable.Parser, idx map[string]keyInfo, prefix []string, kv *unstable.Node) {
	parts := append([]string(nil), prefix...)
	line := 0
	for it := kv.Key(); it.Next(); {
		n := it.Node()
		if line == 0 {
			line = p.Shape(n.Raw).Start.Line
		}
		parts = append(parts, string(n.Data))
	}
	v := kv.Value()
	name := dotted(parts)
	idx[name] = keyInfo{line: line, kind: v.Kind, text: string(v.Data)}
	switch v.Kind {
	case unstable.InlineTable:
		for it := v.Children(); it.Next(); {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				indexKeyValue(p, idx, parts, c)
			}
		}
	case unstable.Array:
		i := 0
		for it := v.Children(); it.Next(); {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			idx[name+"["+strconv.Itoa(i)+"]"] = keyInfo{line: p.Shape(c.Raw).Start.Line, kind: c.Kind, text: string(c.Data)}
			i++
		}
	}
}

// dotted writes a key path as TOML does: a.b."c d".
func dotted(parts []string) string {
	var b strings.Builder
	for i, s := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == "" {
			b.WriteString(s)
		} else {
			b.WriteString(strconv.Quote(s))
		}
	}
	return b.String()
}

// oneLine keeps an error message on one line.
func oneLine(s string) string { return lineBreaks.Replace(s) }

var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")
