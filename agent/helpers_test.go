package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/spindle-sh/spindle/store"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// guard bounds how long a test waits for a turn to end, so that a bug
// shows up as a failure rather than a hung test run. It is not a speed
// assertion.
const guard = 20 * time.Second

// env is one test's world: a real state.db and kanban.db in t.TempDir().
type env struct {
	t     *testing.T
	state *store.State
	board *store.Board
	log   *syncBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatalf("open state: %v", err)
	}
	b, err := store.OpenBoard(filepath.Join(dir, "kanban.db"))
	if err != nil {
		t.Fatalf("open board: %v", err)
	}
	t.Cleanup(func() { b.Close(); st.Close() })
	return &env{t: t, state: st, board: b, log: &syncBuffer{}}
}

func (e *env) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// agent starts an Agent on baseURL ("" = offline) with fast retries.
func (e *env) agent(baseURL string, mod func(*Config)) *Agent {
	e.t.Helper()
	cfg := Config{
		BaseURL: baseURL, APIKey: "sk-test-SECRET-KEY-1234", Model: "test-model",
		State: e.state, Board: e.board, Logger: e.logger(),
		retryBase: 2 * time.Millisecond, OfflineTokenDelay: -1,
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		e.t.Fatalf("agent.New: %v", err)
	}
	e.t.Cleanup(func() { a.Close() })
	return a
}

func (e *env) session() int64 {
	e.t.Helper()
	s, err := e.state.CreateSession(context.Background(), "")
	if err != nil {
		e.t.Fatalf("create session: %v", err)
	}
	return s.ID
}

// messages returns the session's stored messages.
func (e *env) messages(id int64) []store.Message {
	e.t.Helper()
	ms, err := e.state.Messages(context.Background(), id)
	if err != nil {
		e.t.Fatalf("messages: %v", err)
	}
	return ms
}

// lastAssistant returns the session's last assistant message.
func (e *env) lastAssistant(id int64) store.Message {
	e.t.Helper()
	ms := e.messages(id)
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Role == store.RoleAssistant {
			return ms[i]
		}
	}
	e.t.Fatalf("no assistant message in session %d (%d messages)", id, len(ms))
	return store.Message{}
}

// result is a drained turn.
type result struct {
	events   []Event
	deltas   []string
	text     string // concatenated deltas
	terminal Event
	after    int // events received after the terminal one (must be 0)
}

// collect drains ch until it is closed.
func collect(t *testing.T, ch <-chan Event) result {
	t.Helper()
	var r result
	timer := time.NewTimer(guard)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				if r.terminal == nil {
					t.Fatalf("channel closed without a terminal event; events: %v", r.events)
				}
				return r
			}
			r.add(ev)
		case <-timer.C:
			t.Fatalf("turn did not end within %s; events so far: %d, text %q", guard, len(r.events), r.text)
		}
	}
}

func (r *result) add(ev Event) {
	if r.terminal != nil {
		r.after++
	}
	r.events = append(r.events, ev)
	switch ev := ev.(type) {
	case Delta:
		r.deltas = append(r.deltas, ev.Text)
		r.text += ev.Text
	case Done, Interrupted, Failed:
		r.terminal = ev
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// --- a chat-completions server that misbehaves on purpose ---

// sse writes OpenAI chat-completion chunks exactly as documented:
// "data: {json}\n\n" per chunk, a final usage chunk with empty choices when
// asked, and "data: [DONE]\n\n".
type sse struct {
	w http.ResponseWriter
	f http.Flusher
	n int
}

func startSSE(w http.ResponseWriter) *sse {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	s := &sse{w: w, f: f}
	s.raw(`{"id":"chatcmpl-t","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`)
	return s
}

func (s *sse) raw(data string) {
	fmt.Fprintf(s.w, "data: %s\n\n", data)
	if s.f != nil {
		s.f.Flush()
	}
	s.n++
}

func (s *sse) content(text string) {
	b, _ := json.Marshal(text)
	s.raw(`{"id":"chatcmpl-t","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":{"content":` + string(b) + `},"logprobs":null,"finish_reason":null}]}`)
}

// toolCall sends one tool_calls delta; id and name only in the first.
func (s *sse) toolCall(index int, id, name, args string) {
	tc := map[string]any{"index": index, "function": map[string]any{"arguments": args}}
	if id != "" {
		tc["id"] = id
		tc["type"] = "function"
		tc["function"].(map[string]any)["name"] = name
	}
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-t", "object": "chat.completion.chunk", "created": 1, "model": "test-model",
		"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"tool_calls": []any{tc}}, "logprobs": nil, "finish_reason": nil}},
	})
	s.raw(string(b))
}

func (s *sse) finish(reason string) {
	s.raw(`{"id":"chatcmpl-t","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"` + reason + `"}]}`)
}

func (s *sse) usage(prompt, completion int) {
	s.raw(fmt.Sprintf(`{"id":"chatcmpl-t","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, prompt, completion, prompt+completion))
}

func (s *sse) done() { s.raw("[DONE]") }

// complete streams a whole well-formed reply.
func (s *sse) complete(chunks ...string) {
	for _, c := range chunks {
		s.content(c)
	}
	s.finish("stop")
	s.usage(7, len(chunks))
	s.done()
}

// apiError writes an OpenAI-style error body.
func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "param": nil, "code": code}})
	w.Write(b)
}

// chatRequest is the part of a request body the tests look at.
type chatRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCallID string          `json:"tool_call_id"`
		ToolCalls  []struct {
			ID       string `json:"id"`
			Type     string `json:"type"`
			Function struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"messages"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

// testServer is a loopback HTTP server whose handler gets the attempt
// number (0-based) and the decoded request.
type testServer struct {
	*httptest.Server
	attempts atomic.Int64
	mu       sync.Mutex
	requests []chatRequest
	auth     []string
	times    []time.Time
}

func newTestServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, attempt int, req chatRequest)) *testServer {
	t.Helper()
	ts := &testServer{}
	ts.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req chatRequest
		if err := json.Unmarshal(body, &req); err != nil {
			apiError(w, 400, "bad_json", err.Error())
			return
		}
		n := int(ts.attempts.Add(1)) - 1
		ts.mu.Lock()
		ts.requests = append(ts.requests, req)
		ts.auth = append(ts.auth, r.Header.Get("Authorization"))
		ts.times = append(ts.times, time.Now())
		ts.mu.Unlock()
		h(w, r, n, req)
	}))
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) base() string { return ts.URL + "/v1" }

func (ts *testServer) request(i int) chatRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.requests[i]
}

// quietLog keeps net/http's server from printing expected TLS handshake
// errors into the test output.
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

// jsonString decodes a JSON string (a message's content).
func jsonString(raw json.RawMessage, s *string) error { return json.Unmarshal(raw, s) }
