package offline

import (
	"strings"
	"unicode"
)

// topic is one canned answer and the keywords that lead to it.
type topic struct {
	name     string
	long     bool // a long answer (600+ words): something to interrupt
	keywords []keyword
	answer   string
}

// keyword is a word or phrase of a prompt that points to a topic. A phrase
// is matched on whole words after normalisation (see normalize); a trailing
// "*" matches any word that starts with the last word ("stream*" matches
// "streams" and "streaming").
type keyword struct {
	phrase string
	weight int
	needle string // what a normalised prompt contains when it matches; "" never matches
}

func newKeyword(phrase string, weight int) keyword {
	p, prefix := strings.CutSuffix(phrase, "*")
	k := keyword{phrase: phrase, weight: weight}
	if p = strings.TrimSpace(normalize(p)); p != "" {
		k.needle = " " + p + " "
		if prefix {
			k.needle = " " + p
		}
	}
	return k
}

// kw makes keywords of equal weight. Three weights are used: 3 for words
// that name the topic outright, 2 for words that lean towards it, 1 for
// words that only break ties.
func kw(weight int, phrases ...string) []keyword {
	out := make([]keyword, len(phrases))
	for i, p := range phrases {
		out[i] = newKeyword(p, weight)
	}
	return out
}

func keywords(groups ...[]keyword) []keyword {
	var out []keyword
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// topics are the canned answers, in the order that breaks ties: the first
// of two topics with the same score wins. The long ones come first among
// equals so that "interrupt a stream" picks the interrupt essay.
var topics = []topic{
	{name: "interrupt", long: true, answer: longInterrupt, keywords: keywords(
		kw(3, "interrupt*", "abort*", "descriptor*", "stranger thread*", "owner thread*", "shutdown", "transport"),
		kw(2, "cancel*", "socket*", "thread*", "fd", "race", "races", "stop a stream", "stop the stream", "stop a reply"),
		kw(1, "stop", "close", "corrupt*", "tls"),
	)},
	{name: "streaming", long: true, answer: longStreaming, keywords: keywords(
		kw(3, "sse", "server sent", "event stream", "streaming"),
		kw(2, "stream*", "delta*", "chunk*", "token by token", "tokens per second", "tok s"),
		kw(1, "token*", "pace", "typing"),
	)},
	{name: "storage", long: true, answer: longStorage, keywords: keywords(
		kw(3, "sqlite", "database*", "kanban db", "state db", "data version", "wal", "vacuum"),
		kw(2, "storage", "store*", "persist*", "backup*", "crash*", "transaction*", "header"),
		kw(1, "saved", "durable"),
	)},
	{name: "story", long: true, answer: longStory, keywords: keywords(
		kw(3, "story", "stories", "tale", "once upon", "why does spindle exist", "why spindle", "origin*"),
		kw(2, "incident", "history of spindle", "bug that"),
	)},
	{name: "about", answer: aboutText, keywords: keywords(
		kw(3, "what is spindle", "what s spindle", "what is this", "who are you", "what are you", "about spindle",
			"about yourself", "about you", "what can you do", "introduce yourself", "overview"),
		kw(1, "spindle"),
	)},
	{name: "workers", answer: workersText, keywords: keywords(
		kw(3, "worker*", "dispatch*", "background", "autonomous*", "claim*"),
		kw(2, "assign*", "parallel", "runs", "run cards", "work on a card", "works on cards"),
		kw(1, "agent"),
	)},
	{name: "tools", answer: toolsText, keywords: keywords(
		kw(3, "tool", "tools", "approv*", "permission*", "shell", "bash", "commands", "command"),
		kw(2, "file*", "edit*", "write a file", "write files", "diff*", "allow", "deny", "what can the agent do", "agent do"),
		kw(1, "agent", "read", "folder*", "director*", "project"),
	)},
	{name: "connect", answer: connectText, keywords: keywords(
		kw(3, "real model", "api key", "openai*", "endpoint*", "base url", "config toml", "spindle model",
			"ollama", "openrouter", "vllm", "llama cpp", "gpt*", "claude", "llm"),
		kw(2, "connect*", "config*", "configure", "environment", "env", "offline", "provider*", "another model", "other model"),
		kw(1, "model", "models", "key", "network", "setup", "set up"),
	)},
	{name: "sessions", answer: sessionsText, keywords: keywords(
		kw(3, "session*", "spindle continue", "continue flag", "resume*", "transcript*"),
		kw(2, "continue", "history", "conversation*", "chat log*", "previous", "earlier", "remember*"),
		kw(1, "save*"),
	)},
	{name: "keys", answer: keysText, keywords: keywords(
		kw(3, "keys", "keyboard", "shortcut*", "hotkey*", "keybinding*", "key binding*", "ctrl c", "control c", "ctrl"),
		kw(2, "quit", "esc", "escape", "slash command*", "commands", "scroll*"),
		kw(1, "key", "exit", "press"),
	)},
	{name: "board", answer: boardText, keywords: keywords(
		kw(3, "board", "kanban", "boards"),
		kw(2, "card", "cards", "column*", "undo", "move a card", "new card"),
		kw(1, "task*", "todo", "to do"),
	)},
	{name: "gocode", answer: goCodeText, keywords: keywords(
		kw(3, "go code", "golang", "code example", "example code", "go example", "go program", "snippet*", "in go"),
		kw(2, "code", "program", "function", "example"),
	)},
	{name: "markdown", answer: markdownText, keywords: keywords(
		kw(3, "markdown", "table", "tables", "formatting", "render*"),
		kw(2, "format*", "bold", "italic", "heading*", "bullet*", "syntax highlight*", "a list", "lists"),
	)},
}

// normalize lower-cases s and reduces it to its words (runs of letters and
// digits) separated by single spaces, with a space at either end: "What's
// Ctrl-C?" becomes " what s ctrl c ". Phrases are normalised the same way,
// so a phrase matches where its words appear in a row.
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// matches reports whether the normalised prompt contains the keyword.
func (k keyword) matches(norm string) bool {
	return k.needle != "" && strings.Contains(norm, k.needle)
}

// score is the sum of the weights of the topic's keywords that the
// normalised prompt contains, each counted once.
func (t *topic) score(norm string) int {
	s := 0
	for _, k := range t.keywords {
		if k.matches(norm) {
			s += k.weight
		}
	}
	return s
}

// length is what a prompt says about the length it wants.
type length int

const (
	anyLength  length = iota
	wantShort         // "short", "brief", "tl;dr"
	wantDetail        // "in detail", "explain everything": long if the topic has a long answer
	wantLong          // "write a long essay", "tell me a story": long, whatever the topic
)

var (
	// longPhrases ask for a long answer whatever the topic.
	longPhrases = kw(0, "a long", "long answer*", "long essay*", "long reply", "long text", "long one",
		"something long", "longer", "essay*", "story", "stories", "tale")
	// detailPhrases ask for depth: a long answer where there is one.
	detailPhrases = kw(0, "in detail", "detailed", "in depth", "deep dive", "everything", "at length",
		"elaborate", "thorough*", "all the way through", "full explanation")
	// shortWords ask for a short answer.
	shortWords = kw(0, "short", "shorter", "brief*", "tl dr", "tldr", "quick", "quickly", "in a sentence")
	// greetings are answered with the short demo intro when no topic
	// matches.
	greetings = kw(0, "hi", "hello", "hey", "hiya", "howdy", "greetings", "good morning", "good afternoon",
		"good evening", "yo", "hallo", "hola", "bonjour")
)

func anyMatches(norm string, ks []keyword) bool {
	for _, k := range ks {
		if k.matches(norm) {
			return true
		}
	}
	return false
}

// wantedLength reads what length the prompt asks for; "short" wins over
// "long" ("a short story" is short).
func wantedLength(norm string) length {
	switch {
	case anyMatches(norm, shortWords):
		return wantShort
	case anyMatches(norm, longPhrases):
		return wantLong
	case anyMatches(norm, detailPhrases):
		return wantDetail
	}
	return anyLength
}

// isGreeting reports whether the prompt greets ("hi", "hello", ...).
func isGreeting(norm string) bool { return anyMatches(norm, greetings) }

// pickTopic returns the topic whose keywords the normalised prompt matches
// best, or nil when none matches. A request for a long answer ("write a long
// essay", "tell me a story") gets a long topic: the best match among them,
// else one of the essays by seed, so that it always has something long
// enough to interrupt. A request for detail prefers a long topic that
// matches, then any topic that matches ("explain workers in detail"), then
// an essay. A request for a short answer never gets a long topic.
func pickTopic(norm string, seed uint64) *topic {
	isLong := func(t *topic) bool { return t.long }
	var best *topic
	switch want := wantedLength(norm); want {
	case wantShort:
		best = bestTopic(norm, func(t *topic) bool { return !t.long })
	case wantLong, wantDetail:
		best = bestTopic(norm, isLong)
		if best == nil && want == wantDetail {
			best = bestTopic(norm, func(*topic) bool { return true })
		}
		if best == nil {
			var essays []*topic
			for i := range topics {
				if topics[i].long && topics[i].name != "story" {
					essays = append(essays, &topics[i])
				}
			}
			best = essays[seed%uint64(len(essays))]
		}
	default:
		best = bestTopic(norm, func(*topic) bool { return true })
	}
	return best
}

// bestTopic is the topic with the highest score among those allowed, the
// first of equals; nil when none scores.
func bestTopic(norm string, allowed func(*topic) bool) *topic {
	var best *topic
	bestScore := 0
	for i := range topics {
		t := &topics[i]
		if !allowed(t) {
			continue
		}
		if s := t.score(norm); s > bestScore {
			best, bestScore = t, s
		}
	}
	return best
}
