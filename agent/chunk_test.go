package agent

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/openai/openai-go/v3"
)

// chunkCases are chunks as servers send them: text, a refusal, tool calls
// split over deltas, a finish reason, usage null and then present.
var chunkCases = []string{
	`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hello, **world**\n"},"finish_reason":null}]}`,
	`{"id":"c1","choices":[{"index":0,"delta":{"refusal":"I can't"},"finish_reason":null}]}`,
	`{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"ls","arguments":""}}]},"finish_reason":null}]}`,
	`{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"path\":"}}]},"finish_reason":null}]}`,
	`{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
	`{"id":"c1","choices":[{"index":1,"delta":{"content":"second choice"}}]}`,
	`{"id":"c1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}}`,
	`{"id":"c1","choices":[{"index":0,"delta":{"content":"\u00e9\ud83d\ude00 \"q\""},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`,
}

// TestChunkDecodesAsOpenAIDoes: spindle's streamChunk reads the same fields,
// with the same values, as openai-go's ChatCompletionChunk, which is what
// the agent read before.
func TestChunkDecodesAsOpenAIDoes(t *testing.T) {
	for _, data := range chunkCases {
		var full openai.ChatCompletionChunk
		if err := json.Unmarshal([]byte(data), &full); err != nil {
			t.Fatalf("openai-go refuses %s: %v", data, err)
		}
		want := chunkFrom(&full)
		var got streamChunk
		if err := json.Unmarshal([]byte(data), &got); err != nil {
			t.Fatalf("chunk refuses %s: %v", data, err)
		}
		// The fast path was taken: encoding/json alone accepts it.
		var fast streamChunkFast
		if err := json.Unmarshal([]byte(data), &fast); err != nil {
			t.Fatalf("the fast path refuses %s: %v", data, err)
		}
		if !reflect.DeepEqual(normalized(got), normalized(want)) {
			t.Errorf("%s\n got %+v\nwant %+v", data, got, want)
		}
	}
}

// normalized makes empty and nil slices equal.
func normalized(c streamChunk) streamChunk {
	if len(c.Choices) == 0 {
		c.Choices = nil
	}
	for i := range c.Choices {
		if len(c.Choices[i].Delta.ToolCalls) == 0 {
			c.Choices[i].Delta.ToolCalls = nil
		}
	}
	return c
}

// TestChunkFallsBackToLenientDecoding: a chunk with a field of an
// unexpected type (a finish_reason that is not a string) is refused by
// encoding/json, and still read: its text is shown, as it was with
// openai-go's decoder.
func TestChunkFallsBackToLenientDecoding(t *testing.T) {
	data := []byte(`{"choices":[{"index":0,"delta":{"content":"still here"},"finish_reason":false}],"usage":{"prompt_tokens":"7","completion_tokens":3}}`)
	// Control: the fast path alone refuses this chunk, so the test below
	// exercises the fallback.
	var fast streamChunkFast
	if err := json.Unmarshal(data, &fast); err == nil {
		t.Fatal("control: encoding/json accepted the odd chunk; the fallback is not exercised")
	}
	var got streamChunk
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("the odd chunk is refused: %v", err)
	}
	if len(got.Choices) != 1 || got.Choices[0].Delta.Content != "still here" {
		t.Fatalf("got %+v, want the text \"still here\"", got)
	}
	if got.Usage == nil || got.Usage.CompletionTokens != 3 {
		t.Errorf("usage = %+v, want completion_tokens 3", got.Usage)
	}
	if err := json.Unmarshal([]byte(`{"choices":[`), &got); err == nil {
		t.Error("a truncated chunk was accepted")
	}
}

// TestChunkTakesTheFastPath: a well-formed chunk is decoded by
// encoding/json alone, not by the fallback, which is what the stream's CPU
// figures rest on. Allocations are counted, not timed: the control shows
// the fallback's count is far above the limit.
func TestChunkTakesTheFastPath(t *testing.T) {
	data := []byte(chunkCases[1])
	fast := testing.AllocsPerRun(100, func() {
		var c streamChunk
		_ = json.Unmarshal(data, &c)
	})
	slow := testing.AllocsPerRun(100, func() {
		var full openai.ChatCompletionChunk
		_ = full.UnmarshalJSON(data)
		_ = chunkFrom(&full)
	})
	if fast > 30 || slow <= 30 {
		t.Errorf("allocations per chunk: %v (want at most 30), the fallback's %v (want more, as the control)", fast, slow)
	}
}

// BenchmarkChunkDecode: one text chunk decoded the way the agent did
// before (openai-go's ChatCompletionChunk) and the way it does now.
func BenchmarkChunkDecode(b *testing.B) {
	data := []byte(chunkCases[1])
	b.Run("openai", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c openai.ChatCompletionChunk
			if err := json.Unmarshal(data, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("spindle", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c streamChunk
			if err := json.Unmarshal(data, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
