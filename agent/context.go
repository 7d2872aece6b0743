package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"

	"github.com/spindle-sh/spindle/agent/offline"
	"github.com/spindle-sh/spindle/config"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/transport"
)

// A conversation grows past the model's context window sooner or later.
// Before each request the agent estimates its size and, when it would not
// fit, leaves out the oldest messages: the system prompt and the newest
// turns stay, an assistant's tool calls never lose their results, and the
// request starts at one of the person's messages where it can. With
// history = "summarise" a summary of what was left out takes its place,
// made by one extra request to the same model and kept in state.db, so the
// next turns reuse it. Either way the turn goes on, and a Trimmed event
// tells the transcript what happened. A window that is not known (no
// context_window configured, a model spindle has no figure for) is never
// trimmed.

// ContextOptions say how the agent fits a conversation into the model's
// context window and what the models cost.
type ContextOptions struct {
	// Models describes models by name (config.File.Models): the window
	// (which wins over spindle's table of common models) and the prices.
	Models map[string]config.Model
	// History is config.HistoryDrop (also for "") or
	// config.HistorySummarise.
	History string

	// unfitted is the negative control of the context tests: the history
	// is sent whole, however long.
	unfitted bool
}

// Trimmed says the conversation did not fit the model's context window:
// the oldest messages were left out of the request, or, when Summarised,
// replaced by a summary. It comes before the turn's first Delta, or
// between tool rounds when the turn's own messages outgrew the window.
type Trimmed struct {
	Dropped    int   // messages left out (or summarised)
	Summarised bool  // a summary of them was sent instead
	Window     int   // the model's context window, in tokens
	Tokens     int64 // estimated tokens of the request as sent
	Usage      Usage // what making a new summary cost; zero when none was made
}

func (Trimmed) event() {}

// knownWindows are the context windows of common models, matched by the
// start of the model's name (after any "provider/" prefix), longest match
// first.
var knownWindows = []struct {
	prefix string
	window int
}{
	{"gpt-4o-mini", 128_000},
	{"gpt-4o", 128_000},
	{"gpt-4.1", 1_047_576}, // also -mini and -nano
	{"o3", 200_000},        // also o3-mini, o3-pro
	{"o4-mini", 200_000},
	{"claude-3-5", 200_000},
	{"claude-3.5", 200_000},
	{"claude-3-7", 200_000},
	{"claude-3.7", 200_000},
	{"claude-sonnet-4", 200_000},
	{"claude-opus-4", 200_000},
	{"claude-4", 200_000},
	{"llama3.1", 128_000},
	{"llama3.2", 128_000},
	{"llama3.3", 128_000},
	{"llama-3.1", 128_000},
	{"llama-3.2", 128_000},
	{"llama-3.3", 128_000},
	{"qwen2.5", 32_768},
	{"qwen-2.5", 32_768},
	{offline.ModelName, 8_192},
}

// knownWindow looks model up in knownWindows.
func knownWindow(model string) (int, bool) {
	name := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	best, window := 0, 0
	for _, k := range knownWindows {
		if strings.HasPrefix(name, k.prefix) && len(k.prefix) > best {
			best, window = len(k.prefix), k.window
		}
	}
	return window, best > 0
}

// ContextInfo is model's context window in tokens and whether it is known:
// from the configuration ([models.NAME] context_window), else from
// spindle's table of common models.
func (a *Agent) ContextInfo(model string) (window int, known bool) {
	if m, ok := a.cfg.Context.Models[model]; ok && m.ContextWindow > 0 {
		return m.ContextWindow, true
	}
	return knownWindow(model)
}

// Price is what model costs in US dollars per million tokens sent (input)
// and received (output), when the configuration says.
func (a *Agent) Price(model string) (input, output float64, ok bool) {
	m, found := a.cfg.Context.Models[model]
	if !found || m.InputPrice == 0 && m.OutputPrice == 0 {
		return 0, 0, false
	}
	return m.InputPrice, m.OutputPrice, true
}

// The estimate. Tokenizers differ by model and none is at hand, so a
// message counts ≈4 bytes a token plus a few tokens of framing (role,
// separators); a session's replies that reported their usage correct it
// upwards (scaleFor). The estimate only decides what is sent; the figures
// the status bar shows come from the server where it sends them.
const (
	bytesPerToken = 4
	// messageOverhead is the framing of a message: a chat template's few
	// tokens, or ≈30 bytes of JSON, whichever a server counts.
	messageOverhead = 8
	// requestOverhead is the rest of a request: the model's name, the
	// stream options.
	requestOverhead = 32
)

// EstimateTokens is the estimated token count of text: ≈4 bytes a token.
func EstimateTokens(text string) int64 {
	return int64(len(text)+bytesPerToken-1) / bytesPerToken
}

// storedTokens is the estimate of one stored message as a request carries it.
func storedTokens(m store.Message) int64 {
	return EstimateTokens(m.Content) + EstimateTokens(m.ToolCalls) + EstimateTokens(m.ToolCallID) + messageOverhead
}

// paramTokens is the estimate of one request message; it agrees with
// storedTokens for the message a stored one becomes.
func paramTokens(p openai.ChatCompletionMessageParamUnion) int64 {
	switch {
	case p.OfSystem != nil:
		return EstimateTokens(p.OfSystem.Content.OfString.Value) + messageOverhead
	case p.OfUser != nil:
		return EstimateTokens(p.OfUser.Content.OfString.Value) + messageOverhead
	case p.OfTool != nil:
		return EstimateTokens(p.OfTool.Content.OfString.Value) + EstimateTokens(p.OfTool.ToolCallID) + messageOverhead
	case p.OfAssistant != nil:
		n := EstimateTokens(p.OfAssistant.Content.OfString.Value) + messageOverhead
		if len(p.OfAssistant.ToolCalls) > 0 {
			// As stored: the calls' JSON.
			var b strings.Builder
			for _, c := range p.OfAssistant.ToolCalls {
				if f := c.OfFunction; f != nil {
					fmt.Fprintf(&b, `{"id":%q,"type":"function","function":{"name":%q,"arguments":%q}},`, f.ID, f.Function.Name, f.Function.Arguments)
				}
			}
			n += EstimateTokens(b.String())
		}
		return n
	}
	bs, _ := json.Marshal(p) // any other kind: its JSON
	return EstimateTokens(string(bs)) + messageOverhead
}

// replyReserve is the room left in the window for the reply.
func replyReserve(window int) int64 {
	return int64(min(max(window/4, 256), 8192))
}

// summaryRoom is the most a summary may take of the window.
func summaryRoom(budget int64) int64 { return min(max(budget/4, 64), 768) }

// block is a run of messages that is kept or left out whole: a message,
// or an assistant's tool calls with the results that follow them.
type block struct {
	start, end int // messages [start, end)
	tokens     int64
	user       bool // starts with the person's message
}

// storedBlocks splits a history into blocks.
func storedBlocks(h []store.Message, scale float64) []block {
	var out []block
	for i := 0; i < len(h); {
		b := block{start: i, user: h[i].Role == store.RoleUser}
		j := i + 1
		if h[i].Role == store.RoleAssistant && h[i].ToolCalls != "" || h[i].Role == store.RoleTool {
			for j < len(h) && h[j].Role == store.RoleTool {
				j++
			}
		}
		for k := i; k < j; k++ {
			b.tokens += storedTokens(h[k])
		}
		b.tokens = scaled(b.tokens, scale)
		b.end = j
		out = append(out, b)
		i = j
	}
	return out
}

// paramBlocks splits request messages from index from on into blocks.
func paramBlocks(msgs []openai.ChatCompletionMessageParamUnion, from int, scale float64) []block {
	var out []block
	for i := from; i < len(msgs); {
		b := block{start: i, user: msgs[i].OfUser != nil}
		j := i + 1
		if a := msgs[i].OfAssistant; a != nil && len(a.ToolCalls) > 0 || msgs[i].OfTool != nil {
			for j < len(msgs) && msgs[j].OfTool != nil {
				j++
			}
		}
		for k := i; k < j; k++ {
			b.tokens += paramTokens(msgs[k])
		}
		b.tokens = scaled(b.tokens, scale)
		b.end = j
		out = append(out, b)
		i = j
	}
	return out
}

func scaled(n int64, scale float64) int64 {
	if scale <= 1 {
		return n
	}
	return int64(float64(n)*scale + 0.5)
}

func sumTokens(bs []block) int64 {
	var n int64
	for _, b := range bs {
		n += b.tokens
	}
	return n
}

// keepFrom is the first block to keep so that the blocks from there on
// take at most budget: the oldest go first, the blocks from pin on are
// always kept, and the kept part starts with one of the person's messages
// when one is left to start with.
func keepFrom(bs []block, budget int64, pin int) int {
	total := sumTokens(bs)
	i := 0
	for i < pin && total > budget {
		total -= bs[i].tokens
		i++
	}
	for i < pin && !bs[i].user {
		i++
	}
	return i
}

// scaleFor corrects the estimate with the latest reply whose usage the
// server reported: when that request took more tokens than its messages
// were estimated at (code, other scripts), later estimates grow by the
// same factor, up to 3×. It never shrinks them: a request that was itself
// trimmed sent less than its history, which would make the factor too low.
func scaleFor(h []store.Message, fixed int64) float64 {
	for i := len(h) - 1; i >= 0; i-- {
		m := h[i]
		if m.Role != store.RoleAssistant || m.PromptTokens <= 0 {
			continue
		}
		est := fixed
		for _, p := range h[:i] {
			est += storedTokens(p)
		}
		if est <= 0 {
			return 1
		}
		return min(max(float64(m.PromptTokens)/float64(est), 1), 3)
	}
	return 1
}

// fixedTokens is the part of every request that is not history: the
// system prompt and the tools' definitions.
func fixedTokens(t *turn) int64 {
	n := EstimateTokens(t.system) + messageOverhead + requestOverhead
	if tools := toolParams(t.tools); len(tools) > 0 {
		bs, _ := json.Marshal(tools)
		n += EstimateTokens(string(bs))
	}
	return n
}

// summaryIntro is how a summary is introduced to the model.
const summaryIntro = "Summary of the earlier part of this conversation (its messages are left out to fit the context window):\n\n"

// fitHistory is the history a turn's first request carries: the session's
// stored history (the person's new message last) without the oldest
// messages when they do not fit the model's window, with a summary of them
// in front when history = "summarise". Stored summaries are never sent
// where they were written; one stands where the messages it covers were.
// It emits Trimmed when it leaves anything out. It never fails: a summary
// that cannot be made falls back to leaving the messages out.
func (a *Agent) fitHistory(t *turn, o *transport.Owner, client *openai.Client, model string, history []store.Message) []store.Message {
	sums := a.summaries(t.session)
	h := history
	if len(sums) > 0 {
		ids := make(map[int64]bool, len(sums))
		for _, s := range sums {
			ids[s.MessageID] = true
		}
		h = make([]store.Message, 0, len(history))
		for _, m := range history {
			if !(m.Role == store.RoleSystem && ids[m.ID]) {
				h = append(h, m)
			}
		}
	}
	window, known := a.ContextInfo(model)
	if !known || a.cfg.Context.unfitted || len(h) == 0 {
		return h
	}
	fixed := fixedTokens(t)
	scale := scaleFor(h, fixed)
	budget := int64(window) - replyReserve(window) - scaled(fixed, scale)
	bs := storedBlocks(h, scale)
	pin := len(bs) - 1
	if sumTokens(bs) <= budget {
		return h
	}
	summarise := a.cfg.Context.History == config.HistorySummarise
	if !summarise {
		k := keepFrom(bs, budget, pin)
		if k == 0 {
			return h // the person's message alone is too large: nothing to leave out
		}
		return a.trimmed(t, model, window, h, bs[k].start, nil, fixed, Usage{})
	}

	room := summaryRoom(budget)
	k := keepFrom(bs, budget-room, pin)
	cut := bs[k].start // the first message kept
	var last *store.Summary
	if len(sums) > 0 {
		last = &sums[len(sums)-1]
	}
	if cut > 0 && last != nil && last.Through >= h[cut-1].ID && last.Through < h[bs[pin].start].ID {
		// The stored summary covers all that must go: keep what follows it.
		from := cut
		for from < len(h) && h[from].ID <= last.Through {
			from++
		}
		return a.trimmed(t, model, window, h, from, last, fixed, Usage{})
	}
	// A new summary: cut deeper than needed (to half the room), so that
	// the next turns fit with it instead of summarising again.
	k = keepFrom(bs, (budget-room)/2, pin)
	cut = bs[k].start
	if cut == 0 {
		return h
	}
	prev := ""
	from := 0
	if last != nil && last.Through < h[cut-1].ID {
		prev = last.Text
		for from < cut && h[from].ID <= last.Through {
			from++
		}
	}
	input := summaryInput(prev, h[from:cut], (int64(window)-replyReserve(window)-room)*bytesPerToken)
	text, u, err := a.summarise(t, o, client, model, input, room)
	if err != nil {
		a.log.Warn("agent: summarise the history failed; leaving the oldest messages out instead", "session", t.session, "model", model, "err", err)
		if k = keepFrom(bs, budget, pin); k == 0 {
			return h
		}
		return a.trimmed(t, model, window, h, bs[k].start, nil, fixed, Usage{})
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	sum, err := a.cfg.State.AddSummary(ctx, store.Summary{
		SessionID: t.session, Through: h[cut-1].ID, Text: text,
		PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens,
	})
	if err != nil {
		// Sent this time anyway; it is made again next turn.
		a.log.Warn("agent: save the summary", "session", t.session, "err", err)
		sum = store.Summary{SessionID: t.session, Through: h[cut-1].ID, Text: text}
	}
	return a.trimmed(t, model, window, h, cut, &sum, fixed, u)
}

// storeTimeout bounds one read or write of state.db from a turn.
const storeTimeout = 10 * time.Second

// summaries reads the session's stored summaries; a failure is logged and
// counts as none (the history is then sent without them).
func (a *Agent) summaries(session int64) []store.Summary {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	sums, err := a.cfg.State.Summaries(ctx, session)
	if err != nil {
		a.log.Warn("agent: read the session's summaries", "session", session, "err", err)
		return nil
	}
	return sums
}

// trimmed is the history from message from on, after sum when there is
// one, and tells the transcript.
func (a *Agent) trimmed(t *turn, model string, window int, h []store.Message, from int, sum *store.Summary, fixed int64, u Usage) []store.Message {
	out := make([]store.Message, 0, len(h)-from+1)
	if sum != nil {
		out = append(out, store.Message{ID: sum.MessageID, SessionID: t.session, Role: store.RoleSystem, Content: summaryIntro + sum.Text})
	}
	out = append(out, h[from:]...)
	tokens := fixed
	for _, m := range out {
		tokens += storedTokens(m)
	}
	ev := Trimmed{Dropped: from, Summarised: sum != nil, Window: window, Tokens: tokens, Usage: u}
	a.log.Info("agent: history trimmed to fit the context window", "session", t.session, "model", model, "window", window,
		"dropped", ev.Dropped, "summarised", ev.Summarised, "tokens", tokens)
	t.c.Event(ev)
	return out
}

// fitRound is fitHistory for the requests after tool rounds: when the
// turn's own calls and results have grown the request past the window, it
// leaves out the oldest blocks: first the history's, then the turn's
// earlier rounds. The system messages at the start (the prompt, a
// summary), the person's latest message and the latest round stay; a
// latest round that alone is too large has its results cut short. It
// emits Trimmed when it leaves anything out.
func (a *Agent) fitRound(t *turn, model string, msgs []openai.ChatCompletionMessageParamUnion) []openai.ChatCompletionMessageParamUnion {
	window, known := a.ContextInfo(model)
	if !known || a.cfg.Context.unfitted {
		return msgs
	}
	head := 0
	for head < len(msgs) && msgs[head].OfSystem != nil {
		head++
	}
	var fixed int64
	for _, m := range msgs[:head] {
		fixed += paramTokens(m)
	}
	fixed += fixedTokens(t) - (EstimateTokens(t.system) + messageOverhead) // the tools and the request's own
	budget := int64(window) - replyReserve(window) - fixed
	bs := paramBlocks(msgs, head, 1)
	if len(bs) == 0 || sumTokens(bs) <= budget {
		return msgs
	}
	pin := len(bs) - 1 // the person's latest message
	for pin > 0 && !bs[pin].user {
		pin--
	}
	keep := make([]bool, len(bs))
	k := keepFrom(bs, budget, pin)
	total := sumTokens(bs[k:])
	for i := k; i < len(bs); i++ {
		keep[i] = true
	}
	// Still too large: the turn's earlier rounds go too, oldest first.
	for i := pin + 1; i < len(bs)-1 && total > budget; i++ {
		keep[i] = false
		total -= bs[i].tokens
	}
	out := make([]openai.ChatCompletionMessageParamUnion, 0, len(msgs))
	out = append(out, msgs[:head]...)
	dropped := 0
	for i, b := range bs {
		if keep[i] {
			out = append(out, msgs[b.start:b.end]...)
		} else {
			dropped += b.end - b.start
		}
	}
	if total > budget {
		out = cutResults(out, total-budget)
	}
	tokens := fixed
	for _, m := range out[head:] {
		tokens += paramTokens(m)
	}
	if dropped > 0 || total > budget {
		ev := Trimmed{Dropped: dropped, Window: window, Tokens: tokens}
		a.log.Info("agent: tool round trimmed to fit the context window", "session", t.session, "model", model, "window", window,
			"dropped", dropped, "tokens", tokens)
		t.c.Event(ev)
	}
	return out
}

// cutResults shortens the last tool results by about over tokens, the
// longest first, so that a round whose results alone exceed the window is
// still sent. Each cut result says it was cut.
func cutResults(msgs []openai.ChatCompletionMessageParamUnion, over int64) []openai.ChatCompletionMessageParamUnion {
	const note = "\n[… cut short to fit the context window]"
	for over > 0 {
		longest, n := -1, 0
		for i := len(msgs) - 1; i >= 0 && msgs[i].OfTool != nil; i-- {
			if l := len(msgs[i].OfTool.Content.OfString.Value); l > n {
				longest, n = i, l
			}
		}
		if longest < 0 || n <= len(note)+bytesPerToken {
			return msgs
		}
		tm := *msgs[longest].OfTool
		text := tm.Content.OfString.Value
		keep := max(len(text)-int(over)*bytesPerToken-len(note), len(text)/2)
		for keep > 0 && !utf8.RuneStart(text[keep]) {
			keep--
		}
		tm.Content.OfString = openai.String(text[:keep] + note)
		over -= EstimateTokens(text) - EstimateTokens(tm.Content.OfString.Value)
		msgs[longest] = openai.ChatCompletionMessageParamUnion{OfTool: &tm}
	}
	return msgs
}

// summaryPrompt asks the model for the summary.
const summaryPrompt = `You summarise the earlier part of a conversation between a person and an assistant inside spindle, ` +
	`a terminal agent shell with a kanban board. Write a concise summary, at most 200 words, of what the person asked, ` +
	`what was decided and done (cards, files, commands) and what is still open, so that the assistant can go on ` +
	`without the original messages. Write only the summary.`

// summaryInput is the text the model summarises: an earlier summary, then
// the messages as a transcript. Past limit bytes the oldest part is left
// out (a tool's long output is cut first).
func summaryInput(prev string, msgs []store.Message, limit int64) string {
	const toolLimit = 1000
	clip := func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return s[:n] + " […]"
	}
	lines := make([]string, 0, len(msgs))
	for _, m := range msgs {
		switch m.Role {
		case store.RoleUser:
			lines = append(lines, "Person: "+m.Content)
		case store.RoleAssistant:
			if m.Content != "" {
				lines = append(lines, "Assistant: "+m.Content)
			}
			var calls []storedToolCall
			if json.Unmarshal([]byte(m.ToolCalls), &calls) == nil {
				for _, c := range calls {
					lines = append(lines, "Assistant called "+c.Function.Name+" "+clip(c.Function.Arguments, toolLimit))
				}
			}
		case store.RoleTool:
			lines = append(lines, "Tool "+m.ToolName+" answered: "+clip(m.Content, toolLimit))
		case store.RoleSystem:
			lines = append(lines, "Note: "+m.Content)
		}
	}
	var b strings.Builder
	if prev != "" {
		b.WriteString("Summary of what came before:\n" + prev + "\n\n")
	}
	b.WriteString("Conversation:\n")
	room := limit - int64(b.Len())
	first := len(lines)
	for first > 0 && room-int64(len(lines[first-1])+1) >= 0 {
		first--
		room -= int64(len(lines[first]) + 1)
	}
	if first > 0 {
		b.WriteString("[the oldest messages are left out]\n")
	}
	for _, l := range lines[first:] {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// summarise makes the summary: one request, not streamed, on the turn's
// socket owner, so that an interrupt stops it the same way as a stream.
// The stale-stream detector covers it too. A summary longer than room
// tokens is cut.
func (a *Agent) summarise(t *turn, o *transport.Owner, client *openai.Client, model, input string, room int64) (string, Usage, error) {
	if _, aborted := o.Aborted(); aborted {
		return "", Usage{}, ErrInterrupted
	}
	params := openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(summaryPrompt), openai.UserMessage(input)},
	}
	stale := watchStale(t, a.stale)
	res, err := client.Chat.Completions.New(context.Background(), params)
	stale.stop()
	o.Reap()
	if _, aborted := o.Aborted(); aborted {
		return "", Usage{}, ErrInterrupted
	}
	if err != nil {
		return "", Usage{}, fmt.Errorf("agent: summarise: %w", classify(err, false, t.route.baseURL, model, t.route.apiKey).err)
	}
	u := Usage{PromptTokens: res.Usage.PromptTokens, CompletionTokens: res.Usage.CompletionTokens}
	if len(res.Choices) == 0 || strings.TrimSpace(res.Choices[0].Message.Content) == "" {
		return "", u, fmt.Errorf("agent: summarise: %s sent no text", hostOf(t.route.baseURL))
	}
	text := strings.TrimSpace(res.Choices[0].Message.Content)
	// The summary, its introduction and its framing take at most room.
	if n := int(room-messageOverhead)*bytesPerToken - len(summaryIntro) - len(" […]"); len(text) > n {
		n = max(n, 0)
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text = text[:n] + " […]"
	}
	return text, u, nil
}

// Tally is a session's token figures as the status bar shows them: In and
// Out are the tokens sent and received over the session (every request
// sends the conversation again, so In grows fastest), and Context is what
// the conversation took of the window at its latest request, reply
// included. Figures the server reported (Usage) are used as they are; the
// rest are estimated (EstimateTokens) and Estimated says so. Build it from
// a stored session with TallyOf, then feed it the live turn: Sent for the
// person's message, Apply for each event.
type Tally struct {
	In, Out   int64
	Context   int64
	Estimated bool

	conv     int64 // the conversation's tokens as the next request would carry them
	open     bool  // a request is in progress
	out      int64 // bytes it has produced
	reported bool  // its usage arrived
}

// TallyOf tallies a stored session: its replies' usage as saved, and the
// estimate for replies saved without it.
func TallyOf(history []store.Message) Tally {
	var t Tally
	for _, m := range history {
		switch m.Role {
		case store.RoleUser:
			t.Sent(m.Content)
		case store.RoleTool:
			t.conv += storedTokens(m)
			t.open = true
		case store.RoleSystem:
			if m.PromptTokens > 0 || m.CompletionTokens > 0 {
				t.In += m.PromptTokens // a summary: what it cost
				t.Out += m.CompletionTokens
			} else {
				t.conv += storedTokens(m)
			}
		case store.RoleAssistant:
			if m.Status == store.MessageFailed && m.Content == "" && m.ToolCalls == "" && m.PromptTokens == 0 {
				t.open = false // nothing came back: nothing to count
				continue
			}
			t.open = true
			t.out = int64(len(m.Content) + len(m.ToolCalls))
			if m.PromptTokens > 0 || m.CompletionTokens > 0 {
				t.Apply(Usage{PromptTokens: m.PromptTokens, CompletionTokens: m.CompletionTokens})
			}
			t.close()
		}
	}
	t.open = false
	return t
}

// Sent counts the person's message, which the next request carries.
func (t *Tally) Sent(text string) {
	t.conv += EstimateTokens(text) + messageOverhead
	t.open, t.out, t.reported = true, 0, false
}

// Apply counts one event of a running turn.
func (t *Tally) Apply(ev Event) {
	switch ev := ev.(type) {
	case Delta:
		t.out += int64(len(ev.Text))
	case Usage:
		t.In += ev.PromptTokens
		t.Out += ev.CompletionTokens
		t.Context = ev.PromptTokens + ev.CompletionTokens
		t.reported = true
	case ToolCall:
		if t.open {
			t.out += int64(len(ev.Name) + len(ev.Arguments))
			t.close()
		} else {
			t.conv += EstimateTokens(ev.Name + ev.Arguments)
		}
	case ToolResult:
		t.conv += EstimateTokens(ev.Result.ForModel()) + messageOverhead
		t.open, t.out, t.reported = !ev.Stopped, 0, false
	case Trimmed:
		t.In += ev.Usage.PromptTokens
		t.Out += ev.Usage.CompletionTokens
		t.conv = ev.Tokens
	case Done, Interrupted:
		t.close()
	case Failed:
		if t.out > 0 || t.reported {
			t.close()
		}
		t.open = false
	}
}

// close ends the request in progress.
func (t *Tally) close() {
	if !t.open {
		return
	}
	out := (t.out + bytesPerToken - 1) / bytesPerToken
	if t.reported {
		t.conv = t.Context
	} else {
		t.In += t.conv
		t.Out += out
		t.Context = t.conv + out
		t.conv += out
		t.Estimated = true
	}
	t.conv += messageOverhead
	t.open, t.out, t.reported = false, 0, false
}
