package offline

import (
	"context"
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
