package agent

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
)

// streamChunk is one streamed chat completion chunk: only the fields spindle
// reads. openai-go's ChatCompletionChunk decodes every chunk through
// encoding/json and then again through its own reflective decoder, which
// was a sixth of the TUI's CPU at ~900 chunks a second; this struct is
// decoded once by encoding/json. A chunk that encoding/json refuses (a
// server sending a field of an unexpected type) is decoded the lenient
// way instead, so no server that worked before stops working.
type streamChunk struct {
	Choices []chunkChoice `json:"choices"`
	Usage   *chunkUsage   `json:"usage"` // nil until the last chunk (null or absent)
}

type chunkChoice struct {
	Index        int64      `json:"index"`
	Delta        chunkDelta `json:"delta"`
	FinishReason string     `json:"finish_reason"`
}

type chunkDelta struct {
	Content   string          `json:"content"`
	Refusal   string          `json:"refusal"`
	ToolCalls []chunkToolCall `json:"tool_calls"`
}

type chunkToolCall struct {
	Index    int64  `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type chunkUsage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
}

// streamChunkFast has streamChunk's fields without its UnmarshalJSON.
type streamChunkFast streamChunk

// UnmarshalJSON decodes data with encoding/json into streamChunk's fields, or,
// when that fails, with openai-go's lenient decoder.
func (c *streamChunk) UnmarshalJSON(data []byte) error {
	var fast streamChunkFast
	if err := json.Unmarshal(data, &fast); err == nil {
		*c = streamChunk(fast)
		return nil
	}
	var full openai.ChatCompletionChunk
	if err := full.UnmarshalJSON(data); err != nil {
		return err
	}
	*c = chunkFrom(&full)
	return nil
}

// chunkFrom copies the fields spindle reads out of openai-go's chunk.
func chunkFrom(full *openai.ChatCompletionChunk) streamChunk {
	var c streamChunk
	if full.JSON.Usage.Valid() {
		c.Usage = &chunkUsage{PromptTokens: full.Usage.PromptTokens, CompletionTokens: full.Usage.CompletionTokens}
	}
	for _, ch := range full.Choices {
		cc := chunkChoice{
			Index:        ch.Index,
			FinishReason: ch.FinishReason,
			Delta:        chunkDelta{Content: ch.Delta.Content, Refusal: ch.Delta.Refusal},
		}
		for _, tc := range ch.Delta.ToolCalls {
			t := chunkToolCall{Index: tc.Index, ID: tc.ID}
			t.Function.Name, t.Function.Arguments = tc.Function.Name, tc.Function.Arguments
			cc.Delta.ToolCalls = append(cc.Delta.ToolCalls, t)
		}
		c.Choices = append(c.Choices, cc)
	}
	return c
}

// newChunkStream is client.Chat.Completions.NewStreaming with spindle's
// streamChunk type: the same request (the client's options, the API key as a
// bearer token, "stream": true) and the same event-stream decoding and
// error events, through openai-go's public Post and ssestream.
func newChunkStream(ctx context.Context, client *openai.Client, params openai.ChatCompletionNewParams, opts ...option.RequestOption) *ssestream.Stream[streamChunk] {
	var raw *http.Response
	// NewStreaming authenticates with the API key only, never the admin
	// key; Post would send the admin key when there is no API key.
	opts = append(opts, option.WithAdminAPIKey(""), option.WithJSONSet("stream", true))
	err := client.Post(ctx, "chat/completions", params, &raw, opts...)
	return ssestream.NewStream[streamChunk](ssestream.NewDecoder(raw), err)
}
