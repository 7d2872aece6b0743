package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/config"
	"github.com/spindle-sh/spindle/store"
)

func TestContextWindows(t *testing.T) {
	a := &Agent{cfg: Config{Context: ContextOptions{Models: map[string]config.Model{
		"gpt-4o":    {ContextWindow: 64_000, InputPrice: 2.5, OutputPrice: 10},
		"my-tuned":  {ContextWindow: 16_384},
		"priced":    {InputPrice: 1},
		"zero-size": {ContextWindow: 0},
	}}}}
	for _, tc := range []struct {
		model  string
		window int
		known  bool
	}{
		{"gpt-4o", 64_000, true}, // the configuration wins over the table
		{"gpt-4o-2024-08-06", 128_000, true},
		{"gpt-4o-mini", 128_000, true},
		{"openai/gpt-4o-mini-2024-07-18", 128_000, true},
		{"gpt-4.1", 1_047_576, true},
		{"gpt-4.1-nano", 1_047_576, true},
		{"o3", 200_000, true},
		{"o3-mini", 200_000, true},
		{"o4-mini", 200_000, true},
		{"claude-3-5-sonnet-20241022", 200_000, true},
		{"anthropic/claude-3.7-sonnet", 200_000, true},
		{"claude-sonnet-4-20250514", 200_000, true},
		{"claude-opus-4-1", 200_000, true},
		{"llama3.1:8b", 128_000, true},
		{"meta-llama/llama-3.3-70b-instruct", 128_000, true},
		{"qwen2.5-coder:32b", 32_768, true},
		{"spindle-demo", 8_192, true},
		{"my-tuned", 16_384, true},
		{"zero-size", 0, false},
		{"mistral-large", 0, false},
		{"", 0, false},
	} {
		w, ok := a.ContextInfo(tc.model)
		if w != tc.window || ok != tc.known {
			t.Errorf("ContextInfo(%q) = %d, %v; want %d, %v", tc.model, w, ok, tc.window, tc.known)
		}
	}
	if in, out, ok := a.Price("gpt-4o"); !ok || in != 2.5 || out != 10 {
		t.Errorf("Price(gpt-4o) = %v, %v, %v", in, out, ok)
	}
	if in, _, ok := a.Price("priced"); !ok || in != 1 {
		t.Errorf("Price(priced) = %v, %v", in, ok)
	}
	if _, _, ok := a.Price("my-tuned"); ok {
		t.Error("a model without prices has a price")
	}
}

// strictServer is a chat-completions server that refuses, as real ones do,
// a request that does not fit the window (counting ≈4 bytes of request
// body a token, the agent's own estimate, so the check is independent of
// how the agent sized the messages), and otherwise answers with a reply
// and its usage. A request that is not streamed asks for a summary.
type strictServer struct {
	*testServer
	window int

	mu        sync.Mutex
	bodies    []int // body sizes of the streamed requests
	summaries int   // requests for a summary
	failSum   bool  // answer summary requests with a 500
}

func newStrictServer(t *testing.T, window int, reply func(s *sse, attempt int, req chatRequest)) *strictServer {
	ss := &strictServer{window: window}
	ss.testServer = newTestServer(t, func(w http.ResponseWriter, r *http.Request, attempt int, req chatRequest) {
		panic("replaced below")
	})
	// Replace the handler: the body size is needed, which the shared
	// server does not keep.
	ss.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req chatRequest
		if err := json.Unmarshal(body, &req); err != nil {
			apiError(w, 400, "bad_json", err.Error())
			return
		}
		if len(body)/bytesPerToken > ss.window {
			apiError(w, 400, "context_length_exceeded", fmt.Sprintf("This model's maximum context length is %d tokens. However, your messages resulted in %d tokens.", ss.window, len(body)/bytesPerToken))
			return
		}
		if !req.Stream {
			ss.mu.Lock()
			ss.summaries++
			n, fail := ss.summaries, ss.failSum
			ss.mu.Unlock()
			if fail {
				apiError(w, 500, "server_error", "no summaries today")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"s","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"SUMMARY-%d: they talked about topics."},"finish_reason":"stop"}],"usage":{"prompt_tokens":900,"completion_tokens":30,"total_tokens":930}}`, n)
			return
		}
		ss.mu.Lock()
		ss.bodies = append(ss.bodies, len(body))
		ss.requests = append(ss.requests, req)
		n := len(ss.bodies) - 1
		ss.mu.Unlock()
		reply(startSSE(w), n, req)
	})
	return ss
}

func (ss *strictServer) streamed() ([]int, []chatRequest) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append([]int(nil), ss.bodies...), append([]chatRequest(nil), ss.requests...)
}

// longSession stores a conversation of n exchanges of about 400 bytes a
// message, with a tool call and its result every fifth exchange.
func longSession(t *testing.T, e *env, n int) int64 {
	t.Helper()
	ctx := context.Background()
	sid := e.session()
	add := func(m store.Message) {
		m.SessionID = sid
		if _, err := e.state.AddMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	filler := strings.Repeat("lorem ipsum ", 32)
	for i := range n {
		add(store.Message{Role: store.RoleUser, Content: fmt.Sprintf("question %d: %s", i, filler)})
		if i%5 == 2 {
			id := fmt.Sprintf("call_%d", i)
			add(store.Message{Role: store.RoleAssistant, ToolCalls: `[{"id":"` + id + `","type":"function","function":{"name":"kanban_list","arguments":"{}"}}]`})
			add(store.Message{Role: store.RoleTool, ToolCallID: id, ToolName: "kanban_list", Content: "[] " + filler})
		}
		add(store.Message{Role: store.RoleAssistant, Content: fmt.Sprintf("answer %d: %s", i, filler), PromptTokens: int64(100 * (i + 1)), CompletionTokens: 100})
	}
	return sid
}

// checkShape asserts what every request must be: the system prompt first,
// then (after a summary, if any) one of the person's messages, every tool
// result right after the call that asked for it and every call answered,
// and the person's new message last.
func checkShape(t *testing.T, req chatRequest, last string) {
	t.Helper()
	ms := req.Messages
	if len(ms) < 2 || ms[0].Role != "system" {
		t.Fatalf("request does not start with the system prompt: %d messages", len(ms))
	}
	i := 1
	for i < len(ms) && ms[i].Role == "system" {
		i++
	}
	if i < len(ms) && ms[i].Role != "user" {
		t.Errorf("the history starts with a %s message, not the person's", ms[i].Role)
	}
	asked := map[string]bool{}
	for j, m := range ms {
		for _, c := range m.ToolCalls {
			asked[c.ID] = true
			if j+1 >= len(ms) || ms[j+1].Role != "tool" {
				t.Errorf("message %d: tool call %s is not followed by its result", j, c.ID)
			}
		}
		if m.Role == "tool" && !asked[m.ToolCallID] {
			t.Errorf("message %d: the result of %s is sent without its call", j, m.ToolCallID)
		}
	}
	var content string
	if err := jsonString(ms[len(ms)-1].Content, &content); err != nil || content != last {
		t.Errorf("last message = %s, want the new message %q", ms[len(ms)-1].Content, last)
	}
}

// A conversation far longer than a small window: the request that reaches
// the server fits (the server refuses one that does not), the oldest
// messages are the ones left out, a Trimmed event says so before the
// reply, and the turn completes. The negative control sends the history
// whole and the same server refuses it.
func TestLongConversationFitsTheWindow(t *testing.T) {
	const window = 4096
	for _, unfitted := range []bool{false, true} {
		t.Run(fmt.Sprintf("unfitted=%v", unfitted), func(t *testing.T) {
			e := newEnv(t)
			ss := newStrictServer(t, window, func(s *sse, _ int, _ chatRequest) { s.complete("fine") })
			a := e.agent(ss.base(), func(c *Config) {
				c.Model = "small-model"
				c.Context = ContextOptions{Models: map[string]config.Model{"small-model": {ContextWindow: window}}, unfitted: unfitted}
			})
			sid := longSession(t, e, 40) // ≈ 40 × 2 × 100 tokens: four times the window
			ch, err := a.Send(context.Background(), sid, "and now?")
			if err != nil {
				t.Fatal(err)
			}
			r := collect(t, ch)
			if unfitted {
				f, ok := r.terminal.(Failed)
				if !ok || !strings.Contains(fmt.Sprint(f.Err), "maximum context length") {
					t.Fatalf("negative control: the whole history was accepted (%T %v); the server's check proves nothing", r.terminal, f.Err)
				}
				return
			}
			if _, ok := r.terminal.(Done); !ok {
				t.Fatalf("turn ended with %#v", r.terminal)
			}
			bodies, reqs := ss.streamed()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if bodies[0]/bytesPerToken > window-int(replyReserve(window)) {
				t.Errorf("request of ≈%d tokens leaves no room for the reply in a window of %d", bodies[0]/bytesPerToken, window)
			}
			checkShape(t, reqs[0], "and now?")
			var first string
			jsonString(reqs[0].Messages[1].Content, &first)
			if strings.HasPrefix(first, "question 0:") {
				t.Error("the oldest message was kept")
			}
			var tr *Trimmed
			for _, ev := range r.events {
				switch ev := ev.(type) {
				case Trimmed:
					tr = &ev
				case Delta:
					if tr == nil {
						t.Fatal("text arrived before the Trimmed event")
					}
				}
			}
			if tr == nil {
				t.Fatal("no Trimmed event")
			}
			stored := len(e.messages(sid)) - 2 // the new message and the reply
			if tr.Dropped <= 0 || tr.Dropped != stored+1-(len(reqs[0].Messages)-1) || tr.Summarised || tr.Window != window {
				t.Errorf("Trimmed = %+v; the request carried %d of %d history messages", *tr, len(reqs[0].Messages)-1, stored+1)
			}
		})
	}
}

// With history = "summarise" the left-out part is summarised once, kept in
// state.db and sent as a system message after the prompt; the next turn
// reuses it instead of asking again.
func TestLongConversationSummarised(t *testing.T) {
	const window = 4096
	e := newEnv(t)
	ss := newStrictServer(t, window, func(s *sse, _ int, _ chatRequest) { s.complete("fine") })
	a := e.agent(ss.base(), func(c *Config) {
		c.Model = "small-model"
		c.Context = ContextOptions{Models: map[string]config.Model{"small-model": {ContextWindow: window}}, History: config.HistorySummarise}
	})
	sid := longSession(t, e, 40)
	for turn, text := range []string{"and now?", "and then?"} {
		ch, err := a.Send(context.Background(), sid, text)
		if err != nil {
			t.Fatal(err)
		}
		r := collect(t, ch)
		if _, ok := r.terminal.(Done); !ok {
			t.Fatalf("turn %d ended with %#v", turn, r.terminal)
		}
		var tr *Trimmed
		for _, ev := range r.events {
			if ev, ok := ev.(Trimmed); ok {
				tr = &ev
			}
		}
		if tr == nil || !tr.Summarised || tr.Dropped <= 0 {
			t.Fatalf("turn %d: Trimmed = %+v, want a summary", turn, tr)
		}
		if wantUsage := (turn == 0); (tr.Usage.PromptTokens == 900) != wantUsage {
			t.Errorf("turn %d: Trimmed.Usage = %+v (the summary's cost comes with the turn that made it)", turn, tr.Usage)
		}
		_, reqs := ss.streamed()
		req := reqs[len(reqs)-1]
		checkShape(t, req, text)
		var sum string
		jsonString(req.Messages[1].Content, &sum)
		if req.Messages[1].Role != "system" || !strings.Contains(sum, "SUMMARY-1") {
			t.Errorf("turn %d: message 1 is %s %q, want the summary", turn, req.Messages[1].Role, sum)
		}
		for _, m := range req.Messages[2:] {
			if m.Role == "system" {
				t.Errorf("turn %d: a stored summary is sent a second time, in place", turn)
			}
		}
	}
	if ss.summaries != 1 {
		t.Errorf("%d summary requests over two turns, want 1 (the stored summary is reused)", ss.summaries)
	}
	sums, err := e.state.Summaries(context.Background(), sid)
	if err != nil || len(sums) != 1 || !strings.HasPrefix(sums[0].Text, "SUMMARY-1") || sums[0].PromptTokens != 900 {
		t.Errorf("stored summaries = %+v, %v", sums, err)
	}
}

// A summary that cannot be made does not fail the turn: the oldest
// messages are left out instead.
func TestSummaryFailureFallsBackToDropping(t *testing.T) {
	const window = 4096
	e := newEnv(t)
	ss := newStrictServer(t, window, func(s *sse, _ int, _ chatRequest) { s.complete("fine") })
	ss.failSum = true
	a := e.agent(ss.base(), func(c *Config) {
		c.Model = "small-model"
		c.Context = ContextOptions{Models: map[string]config.Model{"small-model": {ContextWindow: window}}, History: config.HistorySummarise}
	})
	sid := longSession(t, e, 40)
	ch, err := a.Send(context.Background(), sid, "and now?")
	if err != nil {
		t.Fatal(err)
	}
	r := collect(t, ch)
	if _, ok := r.terminal.(Done); !ok {
		t.Fatalf("turn ended with %#v", r.terminal)
	}
	var tr *Trimmed
	for _, ev := range r.events {
		if ev, ok := ev.(Trimmed); ok {
			tr = &ev
		}
	}
	if tr == nil || tr.Summarised || tr.Dropped <= 0 {
		t.Errorf("Trimmed = %+v, want messages dropped without a summary", tr)
	}
	_, reqs := ss.streamed()
	checkShape(t, reqs[0], "and now?")
	if !strings.Contains(e.log.String(), "summarise the history failed") {
		t.Error("the failed summary was not logged")
	}
}

// bigTool answers every call with size bytes, so that a turn's own rounds
// outgrow a small window.
type bigTool struct{ size int }

func (bigTool) Name() string        { return "big_read" }
func (bigTool) Description() string { return "reads a lot" }
func (bigTool) Schema() tool.Schema { return tool.Schema{} }
func (b bigTool) Run(context.Context, tool.Call) tool.Result {
	return tool.OK(strings.Repeat("data ", b.size/5), "read it")
}

// A turn whose tool results grow past the window goes on: the next
// request leaves out the earlier rounds (and, when one result alone is too
// large, cuts it short) and says so.
func TestToolRoundsFitTheWindow(t *testing.T) {
	const window = 4096
	e := newEnv(t)
	ss := newStrictServer(t, window, func(s *sse, n int, req chatRequest) {
		if n < 3 {
			s.toolCall(0, fmt.Sprintf("call_%d", n), "big_read", "{}")
			s.finish("tool_calls")
			s.done()
			return
		}
		s.complete("read it all")
	})
	a := e.agent(ss.base(), func(c *Config) {
		c.Model = "small-model"
		c.Tools = []tool.Tool{bigTool{size: 6000}}
		c.Context = ContextOptions{Models: map[string]config.Model{"small-model": {ContextWindow: window}}}
	})
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "read everything")
	if err != nil {
		t.Fatal(err)
	}
	r := collect(t, ch)
	if _, ok := r.terminal.(Done); !ok {
		t.Fatalf("turn ended with %#v", r.terminal)
	}
	_, reqs := ss.streamed()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(reqs))
	}
	for i, req := range reqs[1:] {
		ms := req.Messages
		var first string
		jsonString(ms[1].Content, &first)
		if ms[1].Role != "user" || first != "read everything" {
			t.Errorf("request %d lost the person's message: %s %q", i+1, ms[1].Role, first)
		}
		if last := ms[len(ms)-1]; last.Role != "tool" || last.ToolCallID != fmt.Sprintf("call_%d", i) {
			t.Errorf("request %d does not end with the latest result: %s %s", i+1, last.Role, last.ToolCallID)
		}
	}
	trims := 0
	for _, ev := range r.events {
		if _, ok := ev.(Trimmed); ok {
			trims++
		}
	}
	if trims == 0 {
		t.Error("no Trimmed event, though the rounds outgrew the window")
	}
}

// keepFrom never splits a block, keeps the pinned block, and starts the
// kept part at a person's message whenever one is left.
func TestKeepFromProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 30).Draw(t, "blocks")
		bs := make([]block, n)
		for i := range bs {
			bs[i] = block{start: i, end: i + 1, tokens: int64(rapid.IntRange(1, 500).Draw(t, "tokens")), user: rapid.Bool().Draw(t, "user")}
		}
		pin := rapid.IntRange(0, n-1).Draw(t, "pin")
		budget := int64(rapid.IntRange(0, 5000).Draw(t, "budget"))
		k := keepFrom(bs, budget, pin)
		if k < 0 || k > pin {
			t.Fatalf("keepFrom = %d, pin %d", k, pin)
		}
		if k > 0 && !bs[k].user && k < pin {
			t.Fatalf("kept part starts at block %d, not a person's message", k)
		}
		if sumTokens(bs[k:]) > budget {
			// Over budget only when nothing more could go: everything
			// before the pin is gone, or the next person's message is
			// the pin itself.
			for j := k; j < pin; j++ {
				if bs[j].user && j > k {
					t.Fatalf("kept %d tokens > budget %d while block %d could start the kept part", sumTokens(bs[k:]), budget, j)
				}
			}
		}
		if k > 0 {
			// Minimal: keeping one more block before the cut, ending at
			// a person's message, would not fit.
			for j := k - 1; j >= 0; j-- {
				if bs[j].user || j == 0 {
					if bs[j].user && sumTokens(bs[j:]) <= budget {
						t.Fatalf("kept from %d, but from %d (a person's message) fits too", k, j)
					}
					break
				}
			}
		}
	})
}

// TallyOf and Apply: reported figures are taken as they are, the rest
// estimated and marked.
func TestTally(t *testing.T) {
	hist := []store.Message{
		{Role: store.RoleUser, Content: "hello"},
		{Role: store.RoleAssistant, Content: "hi", PromptTokens: 120, CompletionTokens: 8},
		{Role: store.RoleUser, Content: "more"},
		{Role: store.RoleAssistant, Content: "sure", PromptTokens: 140, CompletionTokens: 12},
	}
	tl := TallyOf(hist)
	if tl.In != 260 || tl.Out != 20 || tl.Context != 152 || tl.Estimated {
		t.Errorf("reported: %+v, want In 260 Out 20 Context 152", tl)
	}
	// A live turn whose server reports usage.
	tl.Sent("again")
	tl.Apply(Delta{Text: "ok then"})
	tl.Apply(Usage{PromptTokens: 170, CompletionTokens: 3})
	tl.Apply(Done{Text: "ok then"})
	if tl.In != 430 || tl.Out != 23 || tl.Context != 173 || tl.Estimated {
		t.Errorf("after a reported turn: %+v", tl)
	}
	// One that does not: estimated from the conversation (173 + the new
	// message) and the 40-byte reply.
	tl.Sent("no usage please") // 4 tokens + 4 framing
	tl.Apply(Delta{Text: strings.Repeat("x", 40)})
	tl.Apply(Done{})
	wantIn := int64(430 + 173 + messageOverhead + 4 + messageOverhead)
	if tl.In != wantIn || tl.Out != 23+10 || !tl.Estimated || tl.Context != wantIn-430+10 {
		t.Errorf("after an unreported turn: %+v, want In %d Out 33 Context %d estimated", tl, wantIn, wantIn-430+10)
	}
	// A summary's cost counts; a failed request that returned nothing does not.
	tl2 := TallyOf(append(hist,
		store.Message{Role: store.RoleSystem, Content: "summary", PromptTokens: 900, CompletionTokens: 30},
		store.Message{Role: store.RoleUser, Content: "x"},
		store.Message{Role: store.RoleAssistant, Status: store.MessageFailed, Error: "429"},
	))
	if tl2.In != 260+900 || tl2.Out != 20+30 || tl2.Estimated {
		t.Errorf("with a summary and a failure: %+v", tl2)
	}
}

// One result larger than the whole window is cut short rather than sent
// to be refused.
func TestHugeToolResultIsCut(t *testing.T) {
	const window = 4096
	e := newEnv(t)
	ss := newStrictServer(t, window, func(s *sse, n int, req chatRequest) {
		if n == 0 {
			s.toolCall(0, "call_0", "big_read", "{}")
			s.finish("tool_calls")
			s.done()
			return
		}
		s.complete("that was long")
	})
	a := e.agent(ss.base(), func(c *Config) {
		c.Model = "small-model"
		c.Tools = []tool.Tool{bigTool{size: 40_000}}
		c.Context = ContextOptions{Models: map[string]config.Model{"small-model": {ContextWindow: window}}}
	})
	ch, err := a.Send(context.Background(), e.session(), "read the big file")
	if err != nil {
		t.Fatal(err)
	}
	r := collect(t, ch)
	if _, ok := r.terminal.(Done); !ok {
		t.Fatalf("turn ended with %#v", r.terminal)
	}
	_, reqs := ss.streamed()
	last := reqs[1].Messages[len(reqs[1].Messages)-1]
	var content string
	jsonString(last.Content, &content)
	if last.Role != "tool" || !strings.HasSuffix(content, "cut short to fit the context window]") {
		t.Errorf("the result was not cut: %s, %d bytes", last.Role, len(content))
	}
}

// BenchmarkFitLongHistory measures what a turn's start costs on a
// 10,000-message session that does not fit a 128k window: the blocks,
// the estimate's correction and the cut (no store, no request).
//
//	go test -run '^$' -bench FitLongHistory ./agent/
func BenchmarkFitLongHistory(b *testing.B) {
	h := make([]store.Message, 0, 10_000)
	filler := strings.Repeat("lorem ipsum ", 40)
	for i := range 5_000 {
		h = append(h, store.Message{ID: int64(2*i + 1), Role: store.RoleUser, Content: filler},
			store.Message{ID: int64(2*i + 2), Role: store.RoleAssistant, Content: filler, PromptTokens: 100, CompletionTokens: 10})
	}
	b.ReportAllocs()
	for b.Loop() {
		scale := scaleFor(h, 700)
		bs := storedBlocks(h, scale)
		if k := keepFrom(bs, 120_000, len(bs)-1); k == 0 {
			b.Fatal("nothing cut")
		}
	}
}

// BenchmarkTallyOf measures tallying a 10,000-message session, which the
// chat does when it loads one.
func BenchmarkTallyOf(b *testing.B) {
	h := make([]store.Message, 0, 10_000)
	for range 5_000 {
		h = append(h, store.Message{Role: store.RoleUser, Content: "question"},
			store.Message{Role: store.RoleAssistant, Content: "answer", PromptTokens: 100, CompletionTokens: 10})
	}
	b.ReportAllocs()
	for b.Loop() {
		TallyOf(h)
	}
}
