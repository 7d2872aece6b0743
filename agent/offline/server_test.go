package offline

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// quiet is a logger for tests: the server's debug lines are not interesting.
var quiet = slog.New(slog.DiscardHandler)

// startServer starts a demo model with the given options and test hooks and
// closes it when the test ends.
func startServer(t testing.TB, opts Options, h hooks) *Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	s, err := start(opts, h)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// fast is the option tests use: chunks back to back.
var fast = Options{TokenDelay: -1}

// httpClient trusts only s's certificate.
func httpClient(t testing.TB, s *Server) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.RootCAs()}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// openaiClient is openai-go pointed at s, trusting only its certificate.
func openaiClient(t testing.TB, s *Server) openai.Client {
	return openai.NewClient(
		option.WithBaseURL(s.BaseURL()),
		option.WithHTTPClient(httpClient(t, s)),
		option.WithAPIKey("x"),
		option.WithMaxRetries(0),
	)
}

// kanbanCreate is the tool definition the agent offers.
var kanbanCreate = openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
	Name:        "kanban_create",
	Description: openai.String("Create a card on the kanban board."),
	Parameters: shared.FunctionParameters{
		"type":       "object",
		"properties": map[string]any{"title": map[string]any{"type": "string"}},
		"required":   []string{"title"},
	},
})

// streamText streams one completion through openai-go and returns the
// accumulator and the number of non-empty content deltas.
func streamText(t *testing.T, c openai.Client, params openai.ChatCompletionNewParams) (openai.ChatCompletionAccumulator, int) {
	t.Helper()
	stream := c.Chat.Completions.NewStreaming(context.Background(), params)
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	deltas := 0
	for stream.Next() {
		ch := stream.Current()
		if !acc.AddChunk(ch) {
			t.Fatalf("accumulator refused chunk %s", ch.RawJSON())
		}
		if len(ch.Choices) > 0 && ch.Choices[0].Delta.Content != "" {
			deltas++
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	return acc, deltas
}

func TestStreamLongAnswerThroughOpenAIClient(t *testing.T) {
	s := startServer(t, fast, hooks{})
	c := openaiClient(t, s)
	for _, tp := range topics {
		if !tp.long {
			continue
		}
		t.Run(tp.name, func(t *testing.T) {
			prompt := longPrompt(t, tp.name)
			acc, deltas := streamText(t, c, openai.ChatCompletionNewParams{
				Model:         "gpt-4o-mini",
				Messages:      []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage(prompt)},
				Tools:         []openai.ChatCompletionToolUnionParam{kanbanCreate},
				StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
			})
			if len(acc.Choices) != 1 {
				t.Fatalf("choices = %d, want 1", len(acc.Choices))
			}
			got := acc.Choices[0].Message.Content
			if got != tp.answer {
				t.Fatalf("accumulated text differs from the long answer:\n got %q\nwant %q", got, tp.answer)
			}
			plan := planFor(prompt)
			if deltas != len(plan.pieces) {
				t.Errorf("content deltas = %d, want %d", deltas, len(plan.pieces))
			}
			if fr := acc.Choices[0].FinishReason; fr != "stop" {
				t.Errorf("finish_reason = %q, want stop", fr)
			}
			if acc.Model != "gpt-4o-mini" {
				t.Errorf("model = %q, want the requested name echoed", acc.Model)
			}
			if !strings.HasPrefix(acc.ID, "chatcmpl-") {
				t.Errorf("id = %q, want chatcmpl-…", acc.ID)
			}
			if acc.Usage.CompletionTokens != int64(estimateTokens(got)) || acc.Usage.TotalTokens != acc.Usage.PromptTokens+acc.Usage.CompletionTokens || acc.Usage.PromptTokens == 0 {
				t.Errorf("usage = %+v", acc.Usage)
			}
		})
	}
}

// planFor is the plan for a lone user prompt with kanban_create offered.
func planFor(prompt string) reply {
	req := chatRequest{
		Messages: []chatMessage{{Role: "user", Content: mustJSON(prompt)}},
		Tools:    []toolDef{kanbanCreateDef()},
	}
	return planReply(&req)
}

func TestToolCallRoundTrip(t *testing.T) {
	s := startServer(t, fast, hooks{})
	c := openaiClient(t, s)
	prompt := `Please add a card called "Write the release notes".`
	params := openai.ChatCompletionNewParams{
		Model:         ModelName,
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
		Tools:         []openai.ChatCompletionToolUnionParam{kanbanCreate},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}

	stream := c.Chat.Completions.NewStreaming(context.Background(), params)
	var acc openai.ChatCompletionAccumulator
	var finished []openai.FinishedChatCompletionToolCall
	argChunks := 0
	for stream.Next() {
		ch := stream.Current()
		if !acc.AddChunk(ch) {
			t.Fatalf("accumulator refused chunk %s", ch.RawJSON())
		}
		if tc, ok := acc.JustFinishedToolCall(); ok {
			finished = append(finished, tc)
		}
		if len(ch.Choices) > 0 && len(ch.Choices[0].Delta.ToolCalls) > 0 && ch.Choices[0].Delta.ToolCalls[0].Function.Arguments != "" {
			argChunks++
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	stream.Close()

	if len(finished) != 1 {
		t.Fatalf("finished tool calls = %d, want 1", len(finished))
	}
	tc := finished[0]
	if tc.Name != "kanban_create" || tc.Arguments != `{"title":"Write the release notes"}` || !strings.HasPrefix(tc.ID, "call_") {
		t.Fatalf("tool call = %+v", tc)
	}
	if argChunks < 3 {
		t.Errorf("arguments arrived in %d chunks, want several", argChunks)
	}
	if fr := acc.Choices[0].FinishReason; fr != "tool_calls" {
		t.Errorf("finish_reason = %q, want tool_calls", fr)
	}
	if acc.Choices[0].Message.Content != "" {
		t.Errorf("content = %q, want none alongside the tool call", acc.Choices[0].Message.Content)
	}

	// Feed a result back: the confirmation refers to it.
	for _, tt := range []struct {
		name, result, want string
	}{
		{"created", `{"id":7,"title":"Write the release notes","status":"todo"}`,
			"Done: **Write the release notes** is on the board as card #7 in *To do*.\n\nAsk me for another card, or move this one along when you start on it.\n"},
		{"failed", `{"error":"the board is read-only"}`,
			"The `kanban_create` tool failed: the board is read-only\n\nNothing was changed. Tell me what to fix and I'll try again.\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			next := params
			next.Messages = append(append([]openai.ChatCompletionMessageParamUnion{}, params.Messages...),
				acc.Choices[0].Message.ToParam(),
				openai.ToolMessage(tt.result, tc.ID),
			)
			acc2, _ := streamText(t, c, next)
			if got := acc2.Choices[0].Message.Content; got != tt.want {
				t.Fatalf("confirmation = %q, want %q", got, tt.want)
			}
			if fr := acc2.Choices[0].FinishReason; fr != "stop" {
				t.Errorf("finish_reason = %q, want stop", fr)
			}
		})
	}
}

func TestNonStreamingCompletion(t *testing.T) {
	s := startServer(t, fast, hooks{})
	c := openaiClient(t, s)
	ctx := context.Background()

	prompt := "hello there"
	res, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    ModelName,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Object != "chat.completion" || len(res.Choices) != 1 || res.Choices[0].FinishReason != "stop" {
		t.Fatalf("completion = %s", res.RawJSON())
	}
	if got, want := res.Choices[0].Message.Content, Reply(prompt); got != want || !strings.Contains(want, "demo model") {
		t.Fatalf("content = %q, want %q", got, want)
	}
	if res.Usage.TotalTokens == 0 {
		t.Errorf("usage missing: %s", res.RawJSON())
	}

	res, err = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    ModelName,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("create a card: Buy milk")},
		Tools:    []openai.ChatCompletionToolUnionParam{kanbanCreate},
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := res.Choices[0].Message.ToolCalls
	if res.Choices[0].FinishReason != "tool_calls" || len(calls) != 1 ||
		calls[0].Function.Name != "kanban_create" || calls[0].Function.Arguments != `{"title":"Buy milk"}` {
		t.Fatalf("completion = %s", res.RawJSON())
	}
}

func TestModels(t *testing.T) {
	s := startServer(t, fast, hooks{})
	c := openaiClient(t, s)
	ctx := context.Background()
	page, err := c.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || page.Data[0].ID != ModelName {
		t.Fatalf("models = %s", page.RawJSON())
	}
	m, err := c.Models.Get(ctx, ModelName)
	if err != nil || m.ID != ModelName {
		t.Fatalf("get %s = %v, %v", ModelName, m, err)
	}
	_, err = c.Models.Get(ctx, "gpt-17")
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "model_not_found" {
		t.Fatalf("get unknown model: err = %v, want a 404 model_not_found", err)
	}
}

// sseEvents splits a response body into its "data: " payloads, failing on
// anything that is not exactly "data: <payload>\n\n".
func sseEvents(t *testing.T, body []byte) []string {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\n\n")) {
		t.Fatalf("body does not end with a blank line: %q", tail(body))
	}
	var out []string
	for _, ev := range strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n") {
		payload, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(payload, "\n") {
			t.Fatalf("malformed event %q", ev)
		}
		out = append(out, payload)
	}
	return out
}

func tail(b []byte) []byte { return b[max(0, len(b)-80):] }

// postChat sends a raw chat request and returns the response and its body.
func postChat(t *testing.T, hc *http.Client, s *Server, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := hc.Post(s.BaseURL()+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, b
}

// wireChunk is a chunk as it appears on the wire, decoded loosely so that
// the test sees exactly which keys were sent.
type wireChunk struct {
	ID      string                       `json:"id"`
	Object  string                       `json:"object"`
	Created int64                        `json:"created"`
	Model   string                       `json:"model"`
	Choices []map[string]json.RawMessage `json:"choices"`
	Usage   json.RawMessage              `json:"usage"`
}

func TestRawSSEWireFormat(t *testing.T) {
	s := startServer(t, fast, hooks{})
	hc := httpClient(t, s)
	prompt := "What is server-sent events streaming?"
	for _, includeUsage := range []bool{true, false} {
		t.Run(fmt.Sprint("include_usage=", includeUsage), func(t *testing.T) {
			body := fmt.Sprintf(`{"model":"m1","stream":true,"stream_options":{"include_usage":%v},"messages":[{"role":"user","content":[{"type":"text","text":%q}]}]}`, includeUsage, prompt)
			resp, raw := postChat(t, hc, s, body)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			events := sseEvents(t, raw)
			if events[len(events)-1] != "[DONE]" {
				t.Fatalf("last event = %q, want [DONE]", events[len(events)-1])
			}
			events = events[:len(events)-1]
			var chunks []wireChunk
			for _, e := range events {
				var c wireChunk
				if err := json.Unmarshal([]byte(e), &c); err != nil {
					t.Fatalf("event %q: %v", e, err)
				}
				if c.ID != chunks0ID(chunks, c.ID) || !strings.HasPrefix(c.ID, "chatcmpl-") || c.Object != "chat.completion.chunk" || c.Model != "m1" || c.Created == 0 {
					t.Fatalf("chunk header wrong: %s", e)
				}
				chunks = append(chunks, c)
			}
			if includeUsage {
				last := chunks[len(chunks)-1]
				var u usage
				if !strings.Contains(events[len(events)-1], `"choices":[]`) || json.Unmarshal(last.Usage, &u) != nil ||
					u.CompletionTokens == 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
					t.Fatalf("usage chunk = %s", events[len(events)-1])
				}
				chunks = chunks[:len(chunks)-1]
				for i, e := range events[:len(events)-1] {
					if !strings.HasSuffix(e, `"usage":null}`) {
						t.Fatalf("chunk %d lacks usage:null: %s", i, e)
					}
				}
			} else {
				for i, e := range events {
					if strings.Contains(e, `"usage"`) {
						t.Fatalf("chunk %d has usage without include_usage: %s", i, e)
					}
				}
			}
			first, final := chunks[0], chunks[len(chunks)-1]
			if string(first.Choices[0]["delta"]) != `{"role":"assistant","content":""}` || string(first.Choices[0]["finish_reason"]) != "null" {
				t.Fatalf("first chunk = %s", events[0])
			}
			if string(final.Choices[0]["delta"]) != `{}` || string(final.Choices[0]["finish_reason"]) != `"stop"` {
				t.Fatalf("final chunk = %+v", final.Choices[0])
			}
			var text strings.Builder
			for i, c := range chunks[1 : len(chunks)-1] {
				var d map[string]json.RawMessage
				json.Unmarshal(c.Choices[0]["delta"], &d)
				var piece string
				if len(d) != 1 || json.Unmarshal(d["content"], &piece) != nil || piece == "" ||
					string(c.Choices[0]["finish_reason"]) != "null" || string(c.Choices[0]["index"]) != "0" {
					t.Fatalf("content chunk %d = %s", i, events[i+1])
				}
				text.WriteString(piece)
			}
			if text.String() != Reply(prompt) {
				t.Fatalf("streamed text differs from Reply")
			}
		})
	}
}

// chunks0ID is the id every chunk must share: the first chunk's.
func chunks0ID(chunks []wireChunk, id string) string {
	if len(chunks) == 0 {
		return id
	}
	return chunks[0].ID
}

func TestRawSSEToolCallFormat(t *testing.T) {
	s := startServer(t, fast, hooks{})
	hc := httpClient(t, s)
	body := `{"model":"spindle-demo","stream":true,"messages":[{"role":"user","content":"add card 'Fix the login bug'"}],
		"tools":[{"type":"function","function":{"name":"kanban_create","parameters":{"type":"object"}}}]}`
	_, raw := postChat(t, hc, s, body)
	events := sseEvents(t, raw)
	if events[len(events)-1] != "[DONE]" {
		t.Fatal("no [DONE]")
	}
	events = events[:len(events)-1]
	first := regexp.MustCompile(`"delta":\{"role":"assistant","tool_calls":\[\{"index":0,"id":"call_[0-9a-f]{24}","type":"function","function":\{"name":"kanban_create","arguments":""\}\}\]\}`)
	if !first.MatchString(events[0]) {
		t.Fatalf("first chunk = %s", events[0])
	}
	argRE := regexp.MustCompile(`"delta":\{"tool_calls":\[\{"index":0,"function":\{"arguments":("(?:[^"\\]|\\.)*")\}\}\]\}`)
	var args strings.Builder
	for _, e := range events[1 : len(events)-1] {
		m := argRE.FindStringSubmatch(e)
		if m == nil {
			t.Fatalf("argument chunk = %s", e)
		}
		var piece string
		json.Unmarshal([]byte(m[1]), &piece)
		args.WriteString(piece)
	}
	if args.String() != `{"title":"Fix the login bug"}` || len(events) < 5 {
		t.Fatalf("arguments = %q in %d chunks", args.String(), len(events)-2)
	}
	if !strings.Contains(events[len(events)-1], `"delta":{},"logprobs":null,"finish_reason":"tool_calls"`) {
		t.Fatalf("final chunk = %s", events[len(events)-1])
	}
}

func TestStreamIsReproducible(t *testing.T) {
	s := startServer(t, fast, hooks{})
	hc := httpClient(t, s)
	created := regexp.MustCompile(`"created":\d+`)
	body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"Why do interrupts matter?"}]}`
	_, a := postChat(t, hc, s, body)
	_, b := postChat(t, hc, s, body)
	a, b = created.ReplaceAll(a, nil), created.ReplaceAll(b, nil)
	if !bytes.Equal(a, b) {
		t.Fatal("two identical requests streamed different bytes")
	}
	_, c := postChat(t, hc, s, strings.Replace(body, "matter?", "matter!", 1))
	if bytes.Equal(a, created.ReplaceAll(c, nil)) {
		t.Fatal("a different prompt streamed the same bytes (chunking should depend on the prompt)")
	}
}

func TestErrorResponses(t *testing.T) {
	s := startServer(t, fast, hooks{})
	hc := httpClient(t, s)
	tests := []struct {
		name, method, path, body string
		status                   int
		param                    string
	}{
		{"bad json", "POST", "/v1/chat/completions", `{"model":`, 400, ""},
		{"wrong type", "POST", "/v1/chat/completions", `{"messages":"hi"}`, 400, ""},
		{"no messages", "POST", "/v1/chat/completions", `{"model":"m","messages":[]}`, 400, "messages"},
		{"bad role", "POST", "/v1/chat/completions", `{"messages":[{"role":"robot","content":"x"}]}`, 400, "messages[0].role"},
		{"bad content", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":42}]}`, 400, "messages[0].content"},
		{"tool without id", "POST", "/v1/chat/completions", `{"messages":[{"role":"tool","content":"x"}]}`, 400, "messages[0].tool_call_id"},
		{"too big", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"` + strings.Repeat("a", maxRequestBytes) + `"}]}`, 413, ""},
		{"get chat", "GET", "/v1/chat/completions", "", 405, ""},
		{"post models", "POST", "/v1/models", "{}", 405, ""},
		{"unknown path", "GET", "/v1/embeddings", "", 404, ""},
		{"root", "GET", "/", "", 404, ""},
		{"unknown model", "GET", "/v1/models/gpt-17", "", 404, "model"},
	}
	base := strings.TrimSuffix(s.BaseURL(), "/v1")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error struct {
					Message string  `json:"message"`
					Type    string  `json:"type"`
					Param   *string `json:"param"`
				} `json:"error"`
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("error body not JSON (%v, %s)", err, resp.Header.Get("Content-Type"))
			}
			if e.Error.Message == "" || e.Error.Type == "" {
				t.Fatalf("error = %+v", e.Error)
			}
			param := ""
			if e.Error.Param != nil {
				param = *e.Error.Param
			}
			if param != tt.param {
				t.Errorf("param = %q, want %q", param, tt.param)
			}
		})
	}

	// openai-go sees these as API errors with the status and message.
	oc := openaiClient(t, s)
	_, err := oc.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "m"})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "messages") {
		t.Fatalf("empty request through openai-go: err = %v", err)
	}
}

// disconnectVerdict says whether a stream whose client left after a few
// chunks was ended by the server, as it must be.
func disconnectVerdict(r streamReport) error {
	if r.outcome != "client_gone" || r.sent >= r.total {
		return fmt.Errorf("handler kept streaming after the client left: outcome %s, sent %d of %d chunks", r.outcome, r.sent, r.total)
	}
	return nil
}

// disconnectMidStream reads a few events of a long stream, cancels the
// request (closing the connection) and returns how the handler ended.
func disconnectMidStream(t *testing.T, h hooks) streamReport {
	t.Helper()
	reports := make(chan streamReport, 1)
	h.streamDone = func(r streamReport) { reports <- r }
	s, err := start(Options{TokenDelay: 5 * time.Millisecond, Logger: quiet}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hc := httpClient(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", s.BaseURL()+"/chat/completions",
		strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"Tell me everything"}]}`))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	for events := 0; events < 5; {
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			t.Fatalf("read: %v", err)
		}
		if buf[0] == '\n' {
			events++ // two newlines per event: a few events are enough
		}
	}
	cancel()
	resp.Body.Close()
	hc.Transport.(*http.Transport).CloseIdleConnections()
	var r streamReport
	select {
	case r = <-reports:
	case <-time.After(30 * time.Second):
		t.Fatal("handler still running 30 s after the client left")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := s.active.Load(); n != 0 {
		t.Fatalf("%d handlers still registered after Close", n)
	}
	return r
}

func TestClientDisconnectEndsHandler(t *testing.T) {
	r := disconnectMidStream(t, hooks{})
	if err := disconnectVerdict(r); err != nil {
		t.Fatal(err)
	}
	if r.sent > r.total/2 {
		t.Errorf("sent %d of %d chunks before stopping", r.sent, r.total)
	}
	goleak.VerifyNone(t)
}

// TestDisconnectCheckCatchesIgnoringHandler is the negative control: a
// handler that ignores its request's context and its write errors must fail
// the verdict TestClientDisconnectEndsHandler applies.
func TestDisconnectCheckCatchesIgnoringHandler(t *testing.T) {
	r := disconnectMidStream(t, hooks{ignoreDisconnect: true})
	if err := disconnectVerdict(r); err == nil {
		t.Fatalf("verdict passed a handler that ignored the disconnect: %+v", r)
	}
}

func TestCloseEndsRunningStreams(t *testing.T) {
	reports := make(chan streamReport, 1)
	s, err := start(Options{Logger: quiet}, hooks{streamDone: func(r streamReport) { reports <- r }})
	if err != nil {
		t.Fatal(err)
	}
	c := openaiClient(t, s)
	stream := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:    ModelName,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Explain the design")},
	})
	defer stream.Close()
	for range 3 {
		if !stream.Next() {
			t.Fatalf("stream ended early: %v", stream.Err())
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if r := <-reports; r.outcome != "shutdown" || r.sent >= r.total {
		t.Fatalf("report = %+v, want a shutdown mid-stream", r)
	}
	for stream.Next() {
	}
	if stream.Err() == nil {
		t.Fatal("client saw a clean end of a stream the server cut short")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimSuffix(strings.TrimPrefix(s.BaseURL(), "https://"), "/v1"), time.Second); err == nil {
		t.Fatal("still accepting connections after Close")
	}
}

func TestCertificate(t *testing.T) {
	s := startServer(t, fast, hooks{})
	block, rest := pem.Decode(s.CertPEM())
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("CertPEM is not exactly one certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("key = %T, want ECDSA P-256", cert.PublicKey)
	}
	now := time.Now()
	if cert.NotAfter.Before(now.Add(23*time.Hour)) || cert.NotAfter.After(now.Add(25*time.Hour)) || cert.NotBefore.After(now) {
		t.Errorf("validity %v .. %v, want from now until a day from now", cert.NotBefore, cert.NotAfter)
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: s.RootCAs()}); err != nil {
			t.Errorf("verify for %s: %v", host, err)
		}
	}
	if err := cert.VerifyHostname("example.com"); err == nil {
		t.Error("certificate is valid for example.com")
	}

	// Negative controls: the trust is real. A client without the pool, or
	// with another server's pool, refuses the handshake.
	other := startServer(t, fast, hooks{})
	for name, pool := range map[string]*x509.CertPool{"no pool": x509.NewCertPool(), "another server's pool": other.RootCAs()} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		_, err := (&http.Client{Transport: tr}).Get(s.BaseURL() + "/models")
		tr.CloseIdleConnections()
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			t.Errorf("%s: err = %v, want an unknown authority error", name, err)
		}
	}
	if bytes.Equal(s.CertPEM(), other.CertPEM()) {
		t.Error("two servers share a certificate")
	}
}

func TestStartRefusesRemoteAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "example.com:0", "nonsense"} {
		s, err := Start(Options{Addr: addr, Logger: quiet})
		if err == nil {
			s.Close()
			t.Errorf("Start(%q) succeeded, want a refusal", addr)
		} else if addr != "nonsense" && !errors.Is(err, ErrNotLoopback) {
			t.Errorf("Start(%q): %v, want ErrNotLoopback", addr, err)
		}
	}
	for _, addr := range []string{"", "127.0.0.1:0", "localhost:0", "[::1]:0"} {
		s, err := Start(Options{Addr: addr, Logger: quiet})
		if err != nil {
			if addr == "[::1]:0" && strings.Contains(err.Error(), "listen") {
				t.Logf("no IPv6 loopback here: %v", err)
				continue
			}
			t.Errorf("Start(%q): %v", addr, err)
			continue
		}
		hc := httpClient(t, s)
		resp, err := hc.Get(s.BaseURL() + "/models")
		if err != nil {
			t.Errorf("%s: %v", addr, err)
		} else {
			resp.Body.Close()
		}
		hc.Transport.(*http.Transport).CloseIdleConnections()
		s.Close()
	}
}

func TestWriteCertFile(t *testing.T) {
	s := startServer(t, fast, hooks{})
	path := filepath.Join(t.TempDir(), "demo-cert.pem")
	if err := os.WriteFile(path, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteCertFile(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if fi.Mode().Perm() != 0o600 || !bytes.Equal(got, s.CertPEM()) {
		t.Fatalf("mode %v, content matches: %v", fi.Mode().Perm(), bytes.Equal(got, s.CertPEM()))
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("directory holds %d files, want only the certificate", len(entries))
	}
	if err := s.WriteCertFile(filepath.Join(t.TempDir(), "missing", "x.pem")); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
}
