package offline

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"
)

// The tool flows through the real server and openai-go: the request offers
// the tools as spindle's agent will, the model's call is read from the
// stream, a result is fed back, and the confirmation is read from the next
// stream.

// functionTool is a tool definition as openai-go sends it.
func functionTool(name string, props map[string]any) openai.ChatCompletionToolUnionParam {
	return openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name:       name,
		Parameters: shared.FunctionParameters{"type": "object", "properties": props},
	})
}

var (
	strProp   = map[string]any{"type": "string"}
	fileTools = []openai.ChatCompletionToolUnionParam{
		kanbanCreate,
		functionTool(lsTool, map[string]any{"path": strProp}),
		functionTool(viewTool, map[string]any{"path": strProp}),
		functionTool(bashTool, map[string]any{"command": strProp}),
	}
	cardTools = []openai.ChatCompletionToolUnionParam{
		functionTool(commentTool, map[string]any{"text": strProp}),
		functionTool(doneTool, map[string]any{"summary": strProp}),
		functionTool(blockTool, map[string]any{"reason": strProp}),
		functionTool("card_create", map[string]any{"title": strProp, "body": strProp}),
	}
)

// streamCall streams one completion and returns the accumulated message and
// the tool calls that finished in it.
func streamCall(t *testing.T, c openai.Client, params openai.ChatCompletionNewParams) (openai.ChatCompletionAccumulator, []openai.FinishedChatCompletionToolCall) {
	t.Helper()
	stream := c.Chat.Completions.NewStreaming(context.Background(), params)
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	var calls []openai.FinishedChatCompletionToolCall
	for stream.Next() {
		ch := stream.Current()
		if !acc.AddChunk(ch) {
			t.Fatalf("accumulator refused chunk %s", ch.RawJSON())
		}
		if tc, ok := acc.JustFinishedToolCall(); ok {
			calls = append(calls, tc)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if len(acc.Choices) != 1 {
		t.Fatalf("choices = %d", len(acc.Choices))
	}
	return acc, calls
}

func TestFileToolFlowsThroughServer(t *testing.T) {
	s := startServer(t, fast, hooks{})
	c := openaiClient(t, s)
	tests := []struct {
		name, prompt, tool, args, result, want string
	}{
		{"ls", "What is in this folder?", lsTool, `{"path":"."}`, "README.md\ngo.mod\nmain.go\n",
			"`.` holds 3 entries:\n\n```text\nREADME.md\ngo.mod\nmain.go\n```\n\nAsk me to open one of them, for example *show me README.md*.\n"},
		{"view", "show me main.go", viewTool, `{"path":"main.go"}`, "package main\n\nfunc main() {}\n",
			"Here is `main.go`, all 3 lines:\n\n```go\npackage main\n\nfunc main() {}\n```\n"},
		{"bash", "run git status", bashTool, `{"command":"git status"}`, "exit status 0\nOn branch main\n",
			"`git status` exited with status 0. Its output:\n\n```text\nOn branch main\n```\n"},
		{"bash denied", "run git status", bashTool, `{"command":"git status"}`, `{"error":"the person denied this call"}`,
			"You denied running `git status`, so nothing ran.\n\nThat is the approval dialog doing its job: anything with effects waits for your answer. Ask again to see it once more.\n"},
		{"bash denied by a rule", "run git push", bashTool, `{"command":"git push"}`,
			"error: bash was not run: the deny rule \"bash:git push *\" denied it, not the person; do not try to get around it",
			"The deny rule `bash:git push *` refused running `git push`, so nothing ran; you were not asked.\n\n" +
				"Deny rules come from the config file or this project's rules and win over every other answer. " +
				"`/permissions` lists them, and `/permissions remove RULE` removes one of this project's.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := openai.ChatCompletionNewParams{
				Model:    ModelName,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("You are spindle's agent."), openai.UserMessage(tt.prompt)},
				Tools:    fileTools,
			}
			acc, calls := streamCall(t, c, params)
			if len(calls) != 1 || calls[0].Name != tt.tool || calls[0].Arguments != tt.args || !strings.HasPrefix(calls[0].ID, "call_") {
				t.Fatalf("calls = %+v, want one %s %s", calls, tt.tool, tt.args)
			}
			if fr := acc.Choices[0].FinishReason; fr != "tool_calls" || acc.Choices[0].Message.Content != "" {
				t.Fatalf("finish %q, content %q", fr, acc.Choices[0].Message.Content)
			}

			next := params
			next.Messages = append(append([]openai.ChatCompletionMessageParamUnion{}, params.Messages...),
				acc.Choices[0].Message.ToParam(), openai.ToolMessage(tt.result, calls[0].ID))
			acc2, calls2 := streamCall(t, c, next)
			if got := acc2.Choices[0].Message.Content; got != tt.want || len(calls2) != 0 || acc2.Choices[0].FinishReason != "stop" {
				t.Fatalf("confirmation = %q (calls %d), want %q", got, len(calls2), tt.want)
			}
		})
	}

	// Without the tool, the model says so instead of calling it.
	acc, calls := streamCall(t, c, openai.ChatCompletionNewParams{
		Model:    ModelName,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("run git status")},
		Tools:    []openai.ChatCompletionToolUnionParam{kanbanCreate},
	})
	if len(calls) != 0 || !strings.Contains(acc.Choices[0].Message.Content, "does not offer that tool, so nothing ran") {
		t.Fatalf("without bash: calls %+v, text %q", calls, acc.Choices[0].Message.Content)
	}
}

func TestWorkerFlowThroughServer(t *testing.T) {
	s := startServer(t, fast, hooks{})
	c := openaiClient(t, s)
	prompt := "Card #12: Write the changelog\n\nList what changed since v0.3."
	params := openai.ChatCompletionNewParams{
		Model:         ModelName,
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("You work one card."), openai.UserMessage(prompt)},
		Tools:         cardTools,
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	steps := []struct {
		tool, args, result string
	}{
		{commentTool, `{"text":"Started work: read the card and wrote a plan; a summary follows when it is finished."}`, `{"commented":{"card_id":12}}`},
		{doneTool, `{"summary":"Finished “Write the changelog”: read the card, planned the work and left a progress note on it."}`, `{"done":{"id":12,"status":"review"}}`},
		{"", "", ""},
	}
	for i, step := range steps {
		req := chatRequestFor(t, params)
		plan := planReply(&req)
		acc, calls := streamCall(t, c, params)
		msg := acc.Choices[0].Message
		if msg.Content != plan.text || msg.Content == "" {
			t.Fatalf("step %d: text %q, want %q", i+1, msg.Content, plan.text)
		}
		if acc.Usage.CompletionTokens != int64(plan.usage.CompletionTokens) {
			t.Errorf("step %d: usage %+v, want %+v", i+1, acc.Usage, plan.usage)
		}
		if step.tool == "" {
			if len(calls) != 0 || acc.Choices[0].FinishReason != "stop" || msg.Content != "Card #12 is done, and its summary is on the card.\n" {
				t.Fatalf("last step: calls %+v, finish %q, text %q", calls, acc.Choices[0].FinishReason, msg.Content)
			}
			break
		}
		if len(calls) != 1 || calls[0].Name != step.tool || calls[0].Arguments != step.args || acc.Choices[0].FinishReason != "tool_calls" {
			t.Fatalf("step %d: calls %+v, finish %q; want %s %s", i+1, calls, acc.Choices[0].FinishReason, step.tool, step.args)
		}
		params.Messages = append(params.Messages, msg.ToParam(), openai.ToolMessage(step.result, calls[0].ID))
	}
}

// chatRequestFor is what the server decodes from openai-go's params.
func chatRequestFor(t *testing.T, params openai.ChatCompletionNewParams) chatRequest {
	t.Helper()
	b, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	var req chatRequest
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestRawSSETextThenToolCall pins the wire format of a reply with text and
// a tool call, as OpenAI sends it: the role and content "" first, the text,
// then one chunk with the call's index, id, type, name and empty
// arguments, then the arguments, then finish_reason tool_calls.
func TestRawSSETextThenToolCall(t *testing.T) {
	s := startServer(t, fast, hooks{})
	hc := httpClient(t, s)
	body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"Card #3: Tidy up"}],"tools":[` +
		`{"type":"function","function":{"name":"card_comment"}},{"type":"function","function":{"name":"card_done"}}]}`
	_, raw := postChat(t, hc, s, body)
	events := sseEvents(t, raw)
	if events[len(events)-1] != "[DONE]" {
		t.Fatal("no [DONE]")
	}
	events = events[:len(events)-1]
	if !strings.Contains(events[0], `"delta":{"role":"assistant","content":""}`) {
		t.Fatalf("first chunk = %s", events[0])
	}
	contentRE := regexp.MustCompile(`"delta":\{"content":("(?:[^"\\]|\\.)*")\}`)
	headerRE := regexp.MustCompile(`"delta":\{"tool_calls":\[\{"index":0,"id":"call_[0-9a-f]{24}","type":"function","function":\{"name":"card_comment","arguments":""\}\}\]\}`)
	argRE := regexp.MustCompile(`"delta":\{"tool_calls":\[\{"index":0,"function":\{"arguments":("(?:[^"\\]|\\.)*")\}\}\]\}`)
	var text, args strings.Builder
	i := 1
	for ; i < len(events) && contentRE.MatchString(events[i]); i++ {
		var piece string
		json.Unmarshal([]byte(contentRE.FindStringSubmatch(events[i])[1]), &piece)
		text.WriteString(piece)
	}
	if i >= len(events) || !headerRE.MatchString(events[i]) {
		t.Fatalf("after %d content chunks: %s, want the call's header", i-1, events[min(i, len(events)-1)])
	}
	for i++; i < len(events)-1; i++ {
		m := argRE.FindStringSubmatch(events[i])
		if m == nil {
			t.Fatalf("argument chunk = %s", events[i])
		}
		var piece string
		json.Unmarshal([]byte(m[1]), &piece)
		args.WriteString(piece)
	}
	req := chatRequest{Messages: []chatMessage{user("Card #3: Tidy up")}, Tools: offered(commentTool, doneTool)}
	plan := planReply(&req)
	if text.String() != plan.text || args.String() != plan.call.Function.Arguments {
		t.Fatalf("text %q, args %q; want %q, %q", text.String(), args.String(), plan.text, plan.call.Function.Arguments)
	}
	if !strings.Contains(events[len(events)-1], `"delta":{},"logprobs":null,"finish_reason":"tool_calls"`) {
		t.Fatalf("final chunk = %s", events[len(events)-1])
	}

	// The same reply whole: content and tool_calls in one message.
	_, raw = postChat(t, hc, s, strings.Replace(body, `"stream":true`, `"stream":false`, 1))
	var res completion
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	m := res.Choices[0].Message
	if m.Content == nil || *m.Content != plan.text || len(m.ToolCalls) != 1 || m.ToolCalls[0].Function != plan.call.Function || res.Choices[0].FinishReason != "tool_calls" {
		t.Fatalf("completion = %s", raw)
	}
}

// TestWorkerFailIsServerError: a card titled "… fail …" gets an HTTP 500 in
// OpenAI's error shape, every time, so that the agent's retries end in a
// failed run.
func TestWorkerFailIsServerError(t *testing.T) {
	s := startServer(t, fast, hooks{})
	c := openaiClient(t, s)
	params := openai.ChatCompletionNewParams{
		Model:    ModelName,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Card #4: Make this fail")},
		Tools:    cardTools,
	}
	for range 2 {
		stream := c.Chat.Completions.NewStreaming(context.Background(), params)
		for stream.Next() {
			t.Fatalf("a chunk arrived: %s", stream.Current().RawJSON())
		}
		err := stream.Err()
		stream.Close()
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 || apiErr.Type != "server_error" || !strings.Contains(apiErr.Message, "on purpose") {
			t.Fatalf("err = %v, want a 500 server_error", err)
		}
	}
	// Control: the same card with another title streams a plan.
	params.Messages = []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Card #4: Make this work")}
	if acc, calls := streamCall(t, c, params); len(calls) != 1 || acc.Choices[0].Message.Content == "" {
		t.Fatalf("control: calls %+v", calls)
	}
}
