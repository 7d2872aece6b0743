package offline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxRequestBytes bounds a request body; a conversation bigger than this is
// refused with 413.
const maxRequestBytes = 8 << 20

// modelCreated is the fixed creation time the model list reports.
const modelCreated = 1767225600 // 2026-01-01T00:00:00Z

// systemFingerprint identifies the demo model's answers in every response.
const systemFingerprint = "fp_spindle_demo_1"

// route serves every request: the two API paths, and an OpenAI-style error
// for anything else.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		writeError(w, http.StatusServiceUnavailable, "server_error", "", "the demo model is shutting down")
		return
	}
	defer s.leave()
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "/v1/chat/completions":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r, http.MethodPost)
			return
		}
		s.chatCompletions(w, r)
	case path == "/v1/models":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, http.MethodGet)
			return
		}
		writeJSON(w, http.StatusOK, modelList{Object: "list", Data: []modelObject{demoModel()}})
	case strings.HasPrefix(path, "/v1/models/"):
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, http.MethodGet)
			return
		}
		if id := strings.TrimPrefix(path, "/v1/models/"); id != ModelName {
			writeErrorCode(w, http.StatusNotFound, "invalid_request_error", "model", "model_not_found",
				fmt.Sprintf("The model '%s' does not exist; this server has only '%s'.", id, ModelName))
			return
		}
		writeJSON(w, http.StatusOK, demoModel())
	default:
		writeErrorCode(w, http.StatusNotFound, "invalid_request_error", "", "unknown_url",
			fmt.Sprintf("Unknown request URL: %s %s. This server serves POST /v1/chat/completions and GET /v1/models.", r.Method, r.URL.Path))
	}
}

func demoModel() modelObject {
	return modelObject{ID: ModelName, Object: "model", Created: modelCreated, OwnedBy: "spindle"}
}

// chatCompletions parses and validates the request, plans the reply and sends
// it, streamed or whole.
func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "",
				fmt.Sprintf("Request body is larger than %d bytes.", maxRequestBytes))
			return
		}
		s.logger.Debug("offline: read request", "err", err)
		return // the client went away while sending
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			fmt.Sprintf("We could not parse the JSON body of your request: %v.", err))
		return
	}
	if param, err := req.validate(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", param, err.Error()+".")
		return
	}
	plan := planReply(&req)
	if plan.status != 0 {
		writeError(w, plan.status, "server_error", "", plan.text)
		s.logger.Debug("offline: chat completion", "kind", plan.kind, "status", plan.status)
		return
	}
	model := req.Model
	if model == "" {
		model = ModelName
	}
	start := time.Now()
	if !req.Stream {
		writeJSON(w, http.StatusOK, plan.completion(model, start.Unix()))
		s.logger.Debug("offline: chat completion", "kind", plan.kind, "topic", plan.topic, "stream", false, "chunks", len(plan.pieces)+len(plan.args))
		return
	}
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	sent, outcome := s.stream(r.Context(), w, &plan, model, start.Unix(), includeUsage)
	total := len(plan.pieces) + len(plan.args)
	s.logger.Debug("offline: chat completion", "kind", plan.kind, "topic", plan.topic, "stream", true,
		"chunks", total, "chunks_sent", sent, "outcome", outcome, "elapsed", time.Since(start))
	if s.hooks.streamDone != nil {
		s.hooks.streamDone(streamReport{kind: plan.kind, sent: sent, total: total, outcome: outcome})
	}
	if outcome == "shutdown" {
		// End the response without its terminating chunk, so that the client
		// sees a truncated stream (an error), not a clean end of a reply that
		// never finished. ErrAbortHandler is net/http's way to do this; it is
		// not logged.
		panic(http.ErrAbortHandler)
	}
}

// completion is the whole answer as one chat.completion object: its text
// as the content (null for a tool call without text) and its tool call.
func (p *reply) completion(model string, created int64) completion {
	msg := responseMessage{Role: "assistant"}
	if p.text != "" || p.call == nil {
		text := p.text
		msg.Content = &text
	}
	if p.call != nil {
		msg.ToolCalls = []toolCall{*p.call}
	}
	return completion{
		ID: p.id, Object: "chat.completion", Created: created, Model: model,
		SystemFingerprint: systemFingerprint,
		Choices: []completionChoice{{
			Index: 0, Message: msg, Logprobs: jsonNull, FinishReason: p.finish,
		}},
		Usage: p.usage,
	}
}

// stream sends the reply as server-sent events in the OpenAI format: a first
// chunk with the role, one chunk per piece of text and then per piece of the
// tool call's arguments (paced by the token delay), a chunk with the finish
// reason, the usage chunk when asked for, and "data: [DONE]". The tool
// call's id and name come in the first chunk when there is no text, else in
// a chunk of their own right after the text, as OpenAI sends them. It stops
// as soon as ctx is done or a write fails, and returns how many pieces it
// sent and how the stream ended: "complete", "client_gone" or "shutdown".
func (s *Server) stream(ctx context.Context, w http.ResponseWriter, p *reply, model string, created int64, includeUsage bool) (sent int, outcome string) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)

	ignore := s.hooks.ignoreDisconnect
	if ignore {
		ctx = context.Background()
	}
	ended := func() string {
		if s.baseCtx.Err() != nil {
			return "shutdown"
		}
		return "client_gone"
	}

	c := chunk{ID: p.id, Object: "chat.completion.chunk", Created: created, Model: model, SystemFingerprint: systemFingerprint}
	if includeUsage {
		c.Usage = jsonNull
	}
	buf := make([]byte, 0, 512)
	send := func(c *chunk) error {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		buf = append(append(append(buf[:0], "data: "...), b...), "\n\n"...)
		if _, err := w.Write(buf); err != nil && !ignore {
			return err
		}
		if err := rc.Flush(); err != nil && !ignore {
			return err
		}
		return nil
	}

	// The first chunk names the role, as OpenAI's does: content "" for
	// text, content null and the call's id and name for a tool call alone.
	idx := 0
	callHeader := func() []toolCall {
		return []toolCall{{Index: &idx, ID: p.call.ID, Type: "function", Function: toolFunction{Name: p.call.Function.Name}}}
	}
	first := chunkChoice{Delta: delta{Role: "assistant"}, Logprobs: jsonNull}
	if p.text == "" && p.call != nil {
		first.Delta.ToolCalls = callHeader()
	} else {
		empty := ""
		first.Delta.Content = &empty
	}
	c.Choices = []chunkChoice{first}
	if err := send(&c); err != nil {
		return 0, ended()
	}

	var timer *time.Timer
	if s.delay > 0 {
		timer = time.NewTimer(s.delay)
		defer timer.Stop()
	}
	for i := range len(p.pieces) + len(p.args) {
		if i == len(p.pieces) && i > 0 && p.call != nil {
			// The text is done: the tool call starts.
			c.Choices = []chunkChoice{{Delta: delta{ToolCalls: callHeader()}, Logprobs: jsonNull}}
			if err := send(&c); err != nil {
				return sent, ended()
			}
		}
		if timer != nil {
			if i > 0 {
				timer.Reset(s.delay)
			}
			select {
			case <-ctx.Done():
				return sent, ended()
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return sent, ended()
		}
		ch := chunkChoice{Logprobs: jsonNull}
		if i < len(p.pieces) {
			ch.Delta.Content = &p.pieces[i]
		} else {
			ch.Delta.ToolCalls = []toolCall{{Index: &idx, Function: toolFunction{Arguments: p.args[i-len(p.pieces)]}}}
		}
		c.Choices = []chunkChoice{ch}
		if err := send(&c); err != nil {
			return sent, ended()
		}
		sent++
	}

	finish := p.finish
	c.Choices = []chunkChoice{{Logprobs: jsonNull, FinishReason: &finish}}
	if err := send(&c); err != nil {
		return sent, ended()
	}
	if includeUsage {
		u, _ := json.Marshal(p.usage)
		c.Choices = []chunkChoice{}
		c.Usage = u
		if err := send(&c); err != nil {
			return sent, ended()
		}
	}
	if _, err := io.WriteString(w, "data: [DONE]\n\n"); err != nil && !ignore {
		return sent, ended()
	}
	if err := rc.Flush(); err != nil && !ignore {
		return sent, ended()
	}
	return sent, "complete"
}

// writeJSON writes v as the JSON response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeError writes an OpenAI-style error: {"error":{"message", "type",
// "param", "code"}}.
func writeError(w http.ResponseWriter, status int, typ, param, msg string) {
	writeErrorCode(w, status, typ, param, "", msg)
}

func writeErrorCode(w http.ResponseWriter, status int, typ, param, code, msg string) {
	body := apiErrorBody{Message: msg, Type: typ}
	if param != "" {
		body.Param = &param
	}
	if code != "" {
		body.Code = &code
	}
	writeJSON(w, status, apiError{Error: body})
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allowed string) {
	w.Header().Set("Allow", allowed)
	writeErrorCode(w, http.StatusMethodNotAllowed, "invalid_request_error", "", "method_not_allowed",
		fmt.Sprintf("%s is not allowed on %s; use %s.", r.Method, r.URL.Path, allowed))
}
