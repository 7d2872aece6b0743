package agent

import (
	"strings"
	"unicode/utf8"

	"github.com/spindle-sh/spindle/sanitize"
)

// keyMask replaces the API key, or a recognisable part of it, in messages.
const keyMask = "[API key]"

// minSecretKeyLen is the shortest key that maskKey hides. Local servers
// (Ollama, llama.cpp, vLLM) accept any key, and people configure dummies
// such as "e", "llama" or "ollama". Such a key guards nothing, so showing it
// leaks nothing, while masking it would garble every message that happens
// to contain the word ("mod[API key]l"). Real keys are far longer (OpenAI's
// are over 40 characters).
const minSecretKeyLen = 12

// maskRun is the shortest run of consecutive key characters that counts as
// showing the key. A server may quote the key cut short, or a message may
// be cut in the middle of it; either way no 12 characters of it may remain.
// Shorter runs are what providers print on purpose ("sk-proj-…wxyz").
const maskRun = 12

// scrub is the one way a server's text (or an error that may quote it)
// becomes part of a message: terminal controls removed, folded onto one
// line, then the key masked. Callers that cut the text do so afterwards, so
// that a cut can never split the key into a part the mask does not see.
func scrub(s, key string) string {
	return maskKey(sanitize.Line(s), key)
}

// maskKey replaces, in s, every word that contains maskRun or more
// consecutive characters of key with keyMask. A word is a maximal run of
// the key's alphabet: ASCII letters and digits, plus any other byte the key
// contains (such as '-', '_', '+', '/'). Whole words are replaced, never a
// part of one, so masking neither garbles the words around a key nor leaves
// stray key characters next to the mask. Keys shorter than minSecretKeyLen
// are not masked at all.
func maskKey(s, key string) string {
	if len(key) < minSecretKeyLen || len(s) < maskRun {
		return s
	}
	var alphabet [256]bool
	for c := 0; c < 256; c++ {
		alphabet[c] = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	nonASCII := false
	for i := 0; i < len(key); i++ {
		alphabet[key[i]] = true
		nonASCII = nonASCII || key[i] >= utf8.RuneSelf
	}
	if nonASCII {
		// Then every byte of a multi-byte character belongs to the
		// alphabet, so a word never starts or ends inside a character.
		for c := utf8.RuneSelf; c < 256; c++ {
			alphabet[c] = true
		}
	}
	runs := make(map[string]struct{}, len(key)-maskRun+1)
	for i := 0; i+maskRun <= len(key); i++ {
		runs[key[i:i+maskRun]] = struct{}{}
	}
	showsKey := func(word string) bool {
		for i := 0; i+maskRun <= len(word); i++ {
			if _, ok := runs[word[i:i+maskRun]]; ok {
				return true
			}
		}
		return false
	}

	var b strings.Builder
	done := 0 // s[:done] is already in b (or unchanged when b is empty)
	for i := 0; i < len(s); {
		if !alphabet[s[i]] {
			i++
			continue
		}
		j := i
		for j < len(s) && alphabet[s[j]] {
			j++
		}
		if j-i >= maskRun && showsKey(s[i:j]) {
			b.WriteString(s[done:i])
			b.WriteString(keyMask)
			done = j
		}
		i = j
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}
