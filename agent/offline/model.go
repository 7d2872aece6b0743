package offline

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spindle-sh/spindle/sanitize"
)

// The kinds of reply the demo model gives; they appear in its log lines.
const (
	replyLong         = "long"          // a long topic answer
	replyTopic        = "topic"         // a short topic answer
	replyShort        = "short"         // a greeting, or a request for something short
	replyFallback     = "fallback"      // no topic matched: what the demo can show
	replyToolCall     = "tool_call"     // a tool call and no text
	replyConfirm      = "confirmation"  // the answer to a tool result
	replyNeedTitle    = "need_title"    // "add a card" without a title
	replyNoTool       = "no_tool"       // the tool the prompt asks for is not offered
	replyWorkerPlan   = "worker_plan"   // a worker's plan and its progress comment
	replyWorkerFinish = "worker_finish" // a worker's card_done or card_block
	replyWorkerFinal  = "worker_final"  // a worker's last sentence
	replyServerError  = "server_error"  // an HTTP 500 (a worker card titled "… fail …")
)

// reply is the whole answer to one request, decided before anything is sent.
type reply struct {
	kind   string
	topic  string    // the topic's name, for topic answers
	text   string    // the markdown answer, streamed first; may be "" when there is a call
	call   *toolCall // the tool call that follows the text, or nil
	pieces []string  // text cut into chunks
	args   []string  // the call's arguments cut into chunks
	usage  usage     // estimated token counts
	id     string    // "chatcmpl-…"
	seed   uint64    // from the last user message; decides variant and chunking
	finish string    // "stop" or "tool_calls"
	status int       // non-zero: answer with this HTTP status and text as the error message
}

// Reply returns the markdown text the demo model streams when the last
// message of a conversation is the user prompt prompt and only the
// kanban_create tool is offered. It returns "" when the answer is a
// kanban_create tool call instead. Tests use it to know what a complete
// stream must add up to.
func Reply(prompt string) string {
	req := chatRequest{
		Messages: []chatMessage{{Role: "user", Content: mustJSON(prompt)}},
		Tools:    []toolDef{kanbanCreateDef()},
	}
	return planReply(&req).text
}

// planReply decides the answer to a validated request: the last message
// decides, as the package documentation describes.
func planReply(req *chatRequest) reply {
	prompt := lastUserText(req.Messages)
	r := reply{seed: hashString(strings.ToLower(strings.TrimSpace(prompt))), finish: "stop"}
	r.id = "chatcmpl-" + conversationID(req.Messages)

	last := req.Messages[len(req.Messages)-1]
	switch {
	case r.planWorker(req, prompt, last):
	case last.Role == "tool":
		content, _ := last.text()
		call := toolCallFor(req.Messages, last.ToolCallID)
		r.kind = replyConfirm
		r.text = confirmation(call.Name, call.Arguments, content)
		// Chunk the confirmation by the tool result too, so that two
		// results after the same prompt are cut differently.
		r.seed ^= hashString(content)
	default:
		r.planAnswer(req, prompt)
	}
	if r.status != 0 {
		return r
	}

	rng := rand.New(rand.NewPCG(r.seed, r.seed^0x9e3779b97f4a7c15))
	r.pieces = splitWords(r.text, rng)
	args := ""
	if r.call != nil {
		args = r.call.Function.Arguments
		r.args = splitBytes(args, rng)
		r.finish = "tool_calls"
	}
	r.usage.PromptTokens = promptTokens(req.Messages)
	r.usage.CompletionTokens = estimateTokens(r.text) + estimateTokens(args)
	r.usage.TotalTokens = r.usage.PromptTokens + r.usage.CompletionTokens
	return r
}

// planAnswer answers a user prompt in the chat: a card, a file or shell
// tool, a topic, a greeting, or the fallback, in that order.
func (r *reply) planAnswer(req *chatRequest, prompt string) {
	if title, isCard := cardTitle(prompt); isCard {
		switch {
		case title == "":
			r.kind, r.text = replyNeedTitle, needTitleText
		case !req.offersTool(createTool):
			r.kind, r.text = replyNoTool, fmt.Sprintf(noToolText, title, createTool)
		default:
			r.kind = replyToolCall
			r.setCall(req, prompt, createTool, map[string]string{"title": title})
		}
		return
	}
	if in, ok := toolIntent(prompt); ok {
		if !req.offersTool(in.tool) {
			r.kind, r.text = replyNoTool, fmt.Sprintf(toolMissingText, in.what, in.tool)
			return
		}
		r.kind = replyToolCall
		r.setCall(req, prompt, in.tool, in.args)
		return
	}
	norm := normalize(prompt)
	if t := pickTopic(norm, r.seed); t != nil {
		r.kind, r.topic, r.text = replyTopic, t.name, t.answer
		if t.long {
			r.kind = replyLong
		}
		return
	}
	if isGreeting(norm) || wantedLength(norm) == wantShort {
		r.kind, r.text = replyShort, shortAnswers[r.seed%uint64(len(shortAnswers))]
		return
	}
	r.kind, r.text = replyFallback, fallbackText(prompt)
}

// setCall makes the reply call the named tool with args (a JSON object of
// strings). The call's id depends on the prompt and the conversation's
// length, so that each step of a conversation gets its own.
func (r *reply) setCall(req *chatRequest, prompt, name string, args map[string]string) {
	b, _ := json.Marshal(args) // strings only: cannot fail
	r.call = &toolCall{
		ID:       "call_" + hashHex(prompt+"\x00"+strconv.Itoa(len(req.Messages)), 12),
		Type:     "function",
		Function: toolFunction{Name: name, Arguments: string(b)},
	}
}

// fallbackText answers a prompt that matches nothing: it names the prompt,
// says this is the demo model, what it can show, and how to connect a real
// one.
func fallbackText(prompt string) string {
	q := oneLine(sanitize.String(prompt), 60)
	if q == "" {
		return fallbackIntroBare + fallbackBody
	}
	return fmt.Sprintf(fallbackIntro, escapeMarkdown(q)) + fallbackBody
}

// lastUserText is the text of the last user message, "" when there is none.
func lastUserText(msgs []chatMessage) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			t, _ := msgs[i].text()
			return t
		}
	}
	return ""
}

// toolCallFor finds the function of the tool call with the given id in the
// assistant messages; its name is "" when no message has it.
func toolCallFor(msgs []chatMessage, id string) toolFunction {
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, c := range msgs[i].ToolCalls {
			if c.ID == id {
				return c.Function
			}
		}
	}
	return toolFunction{}
}

var (
	// cardRequestRE finds "add a card", "add card", "create a card", "add a
	// new card" anywhere in the prompt; the rest of the prompt follows.
	cardRequestRE = regexp.MustCompile(`(?is)\b(?:add|create)\s+(?:an?\s+)?(?:new\s+)?card\b(.*)$`)
	// namedRE finds "called X", "titled X", "named X" right after "card",
	// or after "card to the board" and the like (not inside a title).
	namedRE = regexp.MustCompile(`(?is)^(?:\s+(?:to|on|in|onto)\s+(?:the|my|our)\s+\w+)?[\s,:]*(?:called|titled|named)\b\s*:?\s*(.*)$`)
	// leadRE is what may sit between "card" and its title.
	leadRE = regexp.MustCompile(`(?is)^[\s:,;\-–—]*(?:(?:for|about|saying|that says)\b[\s:]*)?`)
)

// cardTitle reports whether prompt asks for a new card and, if so, its title
// ("" when the prompt names none). The title is the rest of the prompt after
// "card", or what follows "called", "titled" or "named"; surrounding quotes
// and trailing sentence punctuation are removed, whitespace is collapsed.
func cardTitle(prompt string) (title string, ok bool) {
	m := cardRequestRE.FindStringSubmatch(prompt)
	if m == nil {
		return "", false
	}
	rest := m[1]
	if n := namedRE.FindStringSubmatch(rest); n != nil {
		rest = n[1]
	} else {
		rest = rest[len(leadRE.FindString(rest)):]
	}
	rest = strings.Join(strings.Fields(rest), " ")
	rest = strings.TrimRight(rest, ".!?;, ")
	rest = trimQuotes(rest)
	if utf8.RuneCountInString(rest) > 200 {
		rest = string([]rune(rest)[:200])
	}
	return strings.TrimSpace(rest), true
}

// trimQuotes removes one pair of quotes around s, and a lone quote at either
// end.
func trimQuotes(s string) string {
	const quotes = "\"'`“”‘’«»„"
	first, n := utf8.DecodeRuneInString(s)
	if n > 0 && strings.ContainsRune(quotes, first) {
		s = s[n:]
	}
	last, n := utf8.DecodeLastRuneInString(s)
	if n > 0 && strings.ContainsRune(quotes, last) {
		s = s[:len(s)-n]
	}
	return strings.TrimSpace(s)
}

// oneLine collapses whitespace and cuts s to at most n runes, marking the cut
// with an ellipsis.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// splitWords cuts text into chunks of 1 to 4 words (2.15 on average); a word
// is a run of non-space characters and the whitespace after it, so the
// chunks add up to text exactly.
func splitWords(text string, rng *rand.Rand) []string {
	var pieces []string
	for i := 0; i < len(text); {
		j := i
		for k := wordsPerChunk(rng); k > 0 && j < len(text); k-- {
			j = wordEnd(text, j)
		}
		pieces = append(pieces, text[i:j])
		i = j
	}
	return pieces
}

// wordsPerChunk draws 1 (30 %), 2 (35 %), 3 (25 %) or 4 (10 %).
func wordsPerChunk(rng *rand.Rand) int {
	switch n := rng.IntN(20); {
	case n < 6:
		return 1
	case n < 13:
		return 2
	case n < 18:
		return 3
	default:
		return 4
	}
}

// wordEnd returns the end of the word that starts at i: its non-space run,
// then the whitespace that follows. It always advances when i < len(text).
func wordEnd(text string, i int) int {
	for i < len(text) && !isSpace(text[i]) {
		i++
	}
	for i < len(text) && isSpace(text[i]) {
		i++
	}
	return i
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' }

// splitBytes cuts s into pieces of 3 to 8 bytes, never inside a UTF-8
// sequence: how tool-call arguments arrive from a real model.
func splitBytes(s string, rng *rand.Rand) []string {
	var pieces []string
	for i := 0; i < len(s); {
		j := min(i+3+rng.IntN(6), len(s))
		for j < len(s) && !utf8.RuneStart(s[j]) {
			j++
		}
		pieces = append(pieces, s[i:j])
		i = j
	}
	return pieces
}

// estimateTokens is the usual rough count: a token per four bytes.
func estimateTokens(s string) int { return (len(s) + 3) / 4 }

// promptTokens estimates the prompt's tokens: its text and a few tokens of
// framing per message.
func promptTokens(msgs []chatMessage) int {
	n := 0
	for _, m := range msgs {
		t, _ := m.text()
		n += 4 + estimateTokens(t)
		for _, c := range m.ToolCalls {
			n += estimateTokens(c.Function.Name) + estimateTokens(c.Function.Arguments)
		}
	}
	return n
}

// conversationID derives the completion id from the conversation, so that
// the same conversation gets the same id (recorded demos compare equal).
func conversationID(msgs []chatMessage) string {
	var b bytes.Buffer
	for _, m := range msgs {
		b.WriteString(m.Role)
		b.WriteByte(0)
		b.Write(m.Content)
		b.WriteByte(0)
		b.WriteString(m.ToolCallID)
		b.WriteByte(0)
	}
	return hashHex(b.String(), 15)
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// hashHex is n bytes of FNV-128a of s in hex.
func hashHex(s string, n int) string {
	h := fnv.New128a()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)[:n])
}

func mustJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// kanbanCreateDef is the tool definition Reply assumes is offered.
func kanbanCreateDef() toolDef {
	var d toolDef
	d.Type = "function"
	d.Function.Name = createTool
	return d
}
