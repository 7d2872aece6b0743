package offline

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// A worker is an agent turn that works one kanban card. Its request offers
// card_comment, card_done, card_block and card_create, and its user message
// is the card prompt: the line "Card #<id>: <title>", then the card's body
// and comments. The demo model works a card in three requests:
//
//  1. the card prompt → a short plan, then card_comment {"text"} with a
//     progress note;
//  2. the comment's result → a sentence or two, then card_done {"summary"}
//     naming the card, or card_block {"reason"} when the card's title or
//     body says "block" or "blocked";
//  3. that result → a last sentence, and stop.
//
// A card whose title contains "fail" gets an HTTP 500 for step 1, every
// time, so that the failed path can be seen (the client's retries get the
// same answer).

// workerCard is the card of a worker's prompt.
type workerCard struct {
	id, title, body string
}

var (
	// cardLineRE is the prompt's first line, "Card #12: Title"; markdown
	// heading or emphasis marks in front of it are allowed.
	cardLineRE = regexp.MustCompile(`(?i)^[\s#*>]*card\s+#(\d+)\s*:[ \t]*(.*?)[\s*]*$`)
	// blockRE is the word "block" or "blocked" in a card.
	blockRE = regexp.MustCompile(`(?i)\bblock(?:ed)?\b`)
)

// parseCardPrompt reads a worker's card prompt; ok is false when the prompt
// does not start with the card line.
func parseCardPrompt(prompt string) (c workerCard, ok bool) {
	first, rest, _ := strings.Cut(strings.TrimLeft(prompt, " \t\r\n"), "\n")
	m := cardLineRE.FindStringSubmatch(strings.TrimRight(first, "\r"))
	if m == nil {
		return workerCard{}, false
	}
	return workerCard{id: m[1], title: m[2], body: rest}, true
}

// blockedBy is the line of the card that says it is blocked, "" when none
// does.
func (c workerCard) blockedBy() string {
	if blockRE.MatchString(c.title) {
		return c.title
	}
	for _, l := range strings.Split(c.body, "\n") {
		if blockRE.MatchString(l) {
			return l
		}
	}
	return ""
}

// fails reports whether the card asks to fail ("Make this fail").
func (c workerCard) fails() bool { return strings.Contains(strings.ToLower(c.title), "fail") }

// fill puts the card's id and title into a worker template: {id}, {title}
// (for markdown: escaped) and {rawtitle} (for tool arguments).
func (c workerCard) fill(template string) string {
	title := quoteOneLine(c.title, 80)
	if title == "" {
		title = "untitled"
	}
	return strings.NewReplacer("{id}", c.id, "{title}", escapeMarkdown(title), "{rawtitle}", title).Replace(template)
}

// planWorker answers a worker's request, as the comment above describes,
// and reports whether it did: false when this is not a worker's request
// (card_done is not offered, or the prompt is not a card prompt), or when
// its last message is not a step of the card's flow.
func (r *reply) planWorker(req *chatRequest, prompt string, last chatMessage) bool {
	if !req.offersTool(doneTool) {
		return false
	}
	card, ok := parseCardPrompt(prompt)
	if !ok {
		return false
	}
	switch last.Role {
	case "user":
		if card.fails() {
			r.kind, r.status = replyServerError, http.StatusInternalServerError
			r.text = card.fill(workerFailText)
			return true
		}
		r.kind = replyWorkerPlan
		r.text = card.fill(workerPlans[r.seed%uint64(len(workerPlans))])
		if req.offersTool(commentTool) {
			r.setCall(req, prompt, commentTool, map[string]string{"text": card.fill(workerProgressNote)})
			return true
		}
		// No comment tool: finish right after the plan.
		r.finishCard(req, prompt, card)
		return true
	case "tool":
		content, _ := last.text()
		call := toolCallFor(req.Messages, last.ToolCallID)
		switch call.Name {
		case commentTool:
			r.seed ^= hashString(content) // as for a confirmation
			r.kind = replyWorkerFinish
			if msg := toolFailure(content); msg != "" {
				r.text = fmt.Sprintf(workerNoteFailedText, errorText(msg))
			} else {
				r.text = workerNoteDoneText
			}
			r.finishCard(req, prompt, card)
			return true
		case doneTool, blockTool:
			r.seed ^= hashString(content)
			r.kind = replyWorkerFinal
			switch msg := toolFailure(content); {
			case msg != "":
				r.text = fmt.Sprintf(workerToolFailedText, call.Name, errorText(msg))
			case call.Name == doneTool:
				r.text = card.fill(workerDoneText)
			default:
				r.text = card.fill(workerBlockedText)
			}
			return true
		}
	}
	return false
}

// finishCard appends the sentence that leads to card_done or card_block to
// the reply's text and makes the call; without the tool, it says so
// instead.
func (r *reply) finishCard(req *chatRequest, prompt string, card workerCard) {
	tool, text, args := doneTool, workerFinishText, map[string]string{"summary": card.fill(workerSummary)}
	if line := card.blockedBy(); line != "" {
		tool, text = blockTool, workerBlockText
		args = map[string]string{"reason": fmt.Sprintf(workerBlockReason, quoteOneLine(line, 120))}
	}
	switch {
	case strings.HasSuffix(r.text, "\n"):
		r.text += "\n" // a new paragraph after the plan
	case r.text != "":
		r.text += " "
	}
	if !req.offersTool(tool) {
		r.text += fmt.Sprintf(workerNoToolText, tool)
		return
	}
	r.text += card.fill(text)
	r.setCall(req, prompt, tool, args)
}

// toolFailure is the error a tool result reports, "" when it reports none:
// a JSON object's "error", or text that starts with "error" or "failed".
func toolFailure(content string) string {
	content = strings.TrimSpace(content)
	if obj, ok := decodeJSON(content).(map[string]any); ok {
		return field(obj, "error")
	}
	if isErrorText(content) {
		return content
	}
	return ""
}
