package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"

	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/transport"
)

// turn is one Send: a worker goroutine that owns the sockets, and a pump
// that delivers events.
type turn struct {
	session int64
	c       *coalescer
	tools   *tool.Registry
	system  string // the system prompt
	// approvalTimeout bounds how long a call waits for the person's
	// answer; 0 waits until the turn ends (the chat, where the person is
	// at the screen).
	approvalTimeout time.Duration
	route           route // the endpoint, fixed when the turn starts
	// ctx is every tool call's context: abort cancels it, so that a tool
	// running when the turn is interrupted stops too.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	owner   *transport.Owner // nil until the worker has locked its thread
	reason  transport.Reason // first abort reason; "" = not aborted
	abortCh chan struct{}    // closed after the first abort reached the owner (or will on creation)
}

func newTurn(session int64, frame time.Duration, o TurnOptions) *turn {
	ctx, cancel := context.WithCancel(context.Background())
	return &turn{
		session: session, c: newCoalescer(frame, eventBuffer), tools: o.Tools, system: o.System,
		approvalTimeout: o.ApprovalTimeout, ctx: ctx, cancel: cancel, abortCh: make(chan struct{}),
	}
}

// abort is the stranger path: any goroutine, any number of times. The first
// reason wins. If the owner exists it is aborted now (the transport shuts the
// sockets down without closing them); otherwise setOwner applies the abort
// as soon as the worker creates it. abortCh is closed only after that, so a
// worker woken by abortCh always finds owner.Aborted() true.
func (t *turn) abort(r transport.Reason) {
	t.mu.Lock()
	if t.reason != "" {
		t.mu.Unlock()
		return
	}
	t.reason = r
	o := t.owner
	t.mu.Unlock()
	if o != nil {
		o.Abort(r)
	}
	t.cancel()
	close(t.abortCh)
}

// setOwner publishes the worker's owner and applies a pending abort.
func (t *turn) setOwner(o *transport.Owner) {
	t.mu.Lock()
	t.owner = o
	r := t.reason
	t.mu.Unlock()
	if r != "" {
		o.Abort(r)
	}
}

// toolCallAcc gathers one tool call from its streamed deltas.
type toolCallAcc struct {
	index int64
	id    string
	name  string
	args  strings.Builder
}

// round is what one streamed request produced.
type round struct {
	text   strings.Builder
	calls  []*toolCallAcc
	finish string
	err    *RequestError
	usage  Usage // from the usage chunk, if the server sent one
}

// storedToolCall is the JSON saved in Message.ToolCalls: the OpenAI shape.
type storedToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// work is the turn's worker goroutine. It becomes the socket owner (locking
// its OS thread), streams, saves, runs tools and loops, and always ends the
// turn with exactly one terminal event.
func (a *Agent) work(t *turn, model string, history []store.Message) {
	defer a.workers.Done()
	defer t.cancel()
	o := transport.NewOwner(a.transportConfig(t.route, model))
	finish := transport.RequestComplete
	defer func() { o.Finish(finish) }()
	t.setOwner(o)

	start := time.Now()
	a.log.Info("agent: turn started", "session", t.session, "model", model, "base_url", t.route.baseURL)
	end := func(ev Event, status string) {
		// Leave the running set before the terminal event is visible, so a
		// receiver may Send again on the same session right away.
		a.turnDone(t)
		t.c.Event(ev)
		a.log.Info("agent: turn ended", "session", t.session, "status", status, "reason", string(finish), "elapsed", time.Since(start).Round(time.Millisecond))
	}

	defer func() {
		// A bug here must not take the whole program down, nor leave the
		// receiver waiting for a terminal event that never comes.
		if p := recover(); p != nil {
			finish = transport.RequestErrorCleanup
			a.log.Error("agent: turn panicked", "session", t.session, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			end(Failed{Err: fmt.Errorf("agent: internal error: %v", p)}, "failed")
		}
	}()
	client := a.client(o, t.route)
	history = a.fitHistory(t, o, &client, model, history)
	msgs := buildMessages(t.system, history)
	for n := 0; ; n++ {
		r := a.stream(t, o, &client, model, msgs)
		o.Reap()
		text := r.text.String()

		if reason, aborted := o.Aborted(); aborted {
			finish = reason
			errText := ""
			if reason == transport.StaleAbort {
				errText = fmt.Sprintf("no data from the server for %s (stale_abort)", a.stale)
			}
			if a.cfg.mangleInterrupted != nil {
				text = a.cfg.mangleInterrupted(text)
			}
			m, err := a.saveAssistant(t.session, text, "", store.MessageInterrupted, errText, r.usage)
			if err != nil {
				end(Failed{Text: text, Err: err}, "failed")
				return
			}
			end(Interrupted{MessageID: m.ID, Text: text, Reason: reason}, "interrupted")
			return
		}
		if r.err != nil {
			finish = transport.RequestErrorCleanup
			a.log.Warn("agent: request failed", "session", t.session, "kind", r.err.Kind, "status", r.err.Status, "err", r.err.Msg)
			m, err := a.saveAssistant(t.session, text, "", store.MessageFailed, r.err.Msg, r.usage)
			if err != nil {
				end(Failed{Text: text, Err: err}, "failed")
				return
			}
			end(Failed{MessageID: m.ID, Text: text, Err: r.err}, "failed")
			return
		}

		m, err := a.saveAssistant(t.session, text, storedCalls(r.calls), store.MessageComplete, "", r.usage)
		if err != nil {
			finish = transport.RequestErrorCleanup
			end(Failed{Text: text, Err: err}, "failed")
			return
		}
		if len(r.calls) == 0 {
			end(Done{MessageID: m.ID, Text: text}, "complete")
			return
		}
		if n >= a.maxRounds {
			finish = transport.RequestErrorCleanup
			rerr := &RequestError{Kind: "tool_rounds", Msg: fmt.Sprintf("stopped after %d tool rounds in one turn", a.maxRounds)}
			// The calls the model asked for are answered, so the history
			// stays valid for the next request.
			for _, c := range r.calls {
				a.saveTool(t.session, c.call(), tool.Failed(rerr), store.MessageFailed, "")
			}
			end(Failed{MessageID: m.ID, Text: text, Err: rerr}, "failed")
			return
		}

		msgs = append(msgs, assistantParam(text, r.calls))
		for _, c := range r.calls {
			call := c.call()
			res, stopped, approvalText := a.runCall(t, o, call)
			status := store.MessageComplete
			switch {
			case stopped:
				status = store.MessageInterrupted
			case res.Err, res.Unsuccessful:
				// A tool message's status is how the screen marks it (✗);
				// what the model reads is the result's text either way.
				status = store.MessageFailed
			}
			a.saveTool(t.session, call, res, status, approvalText)
			msgs = append(msgs, openai.ToolMessage(res.ForModel(), c.id))
		}
		if reason, aborted := o.Aborted(); aborted {
			finish = reason
			end(Interrupted{MessageID: m.ID, Text: "", Reason: reason}, "interrupted")
			return
		}
		msgs = a.fitRound(t, model, msgs)
	}
}

// storedCalls is the JSON saved as an assistant message's tool calls, ""
// when there are none.
func storedCalls(calls []*toolCallAcc) string {
	if len(calls) == 0 {
		return ""
	}
	stored := make([]storedToolCall, len(calls))
	for i, c := range calls {
		stored[i].ID, stored[i].Type = c.id, "function"
		stored[i].Function.Name, stored[i].Function.Arguments = c.name, c.args.String()
	}
	bs, _ := json.Marshal(stored) // strings only: cannot fail
	return string(bs)
}

// call is the accumulated call as the tool contract's Call.
func (c *toolCallAcc) call() tool.Call {
	return tool.Call{ID: c.id, Name: c.name, Args: c.args.String()}
}

// runCall runs one tool call with the turn's context, showing it as
// ToolCall and ToolResult events, and returns its result, whether the
// interrupt stopped it (or it never ran), and how its approval was
// decided ("" when it needed none). A tool that asks (tool.Asker) is
// checked against the rules and, if they do not decide, waits for the
// person's answer before it runs. Once the turn is aborted, the remaining
// calls are answered without running, so that the history stays valid for
// the next request.
func (a *Agent) runCall(t *turn, o *transport.Owner, call tool.Call) (res tool.Result, stopped bool, approvalText string) {
	t.c.Event(ToolCall{ID: call.ID, Name: call.Name, Arguments: call.Args})
	if _, aborted := o.Aborted(); aborted {
		res := stoppedResult(call, false)
		t.c.Event(ToolResult{ID: call.ID, Name: call.Name, Result: res, Stopped: true})
		return res, true, ""
	}
	if tl, ok := t.tools.Get(call.Name); ok {
		if asker, ok := tl.(tool.Asker); ok {
			req, bad := asker.Approval(call)
			switch {
			case bad != nil:
				t.c.Event(ToolResult{ID: call.ID, Name: call.Name, Result: *bad})
				return *bad, false, ""
			case req != nil:
				d := a.decide(t, call, *req)
				approvalText = describeDecision(d)
				a.log.Info("agent: tool approval", "session", t.session, "tool", call.Name, "decision", approvalText)
				if !d.Answer.Allowed() {
					res := deniedResult(call, *req, d)
					stopped := t.ctx.Err() != nil
					t.c.Event(ToolResult{ID: call.ID, Name: call.Name, Result: res, Stopped: stopped})
					return res, stopped, approvalText
				}
			}
		}
	}
	start := time.Now()
	res = runTool(t.ctx, t.tools, call)
	if _, aborted := o.Aborted(); aborted && t.ctx.Err() != nil {
		// The tool saw its context end: whatever it returned, it was cut
		// short, and says so.
		res, stopped = stoppedResult(call, true), true
	}
	a.log.Info("agent: tool ran", "session", t.session, "tool", call.Name, "ok", !res.Err, "stopped", stopped,
		"elapsed", time.Since(start).Round(time.Millisecond))
	t.c.Event(ToolResult{ID: call.ID, Name: call.Name, Result: res, Stopped: stopped})
	return res, stopped, approvalText
}

// stream makes one request (with retries before the first token) and reads
// its chunks, forwarding text to the coalescer as it arrives.
func (a *Agent) stream(t *turn, o *transport.Owner, client *openai.Client, model string, msgs []openai.ChatCompletionMessageParamUnion) *round {
	r := &round{}
	params := openai.ChatCompletionNewParams{
		Messages:      msgs,
		Model:         model,
		Tools:         toolParams(t.tools),
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	byIndex := map[int64]*toolCallAcc{}
	for attempt := 0; ; attempt++ {
		if _, aborted := o.Aborted(); aborted {
			return r
		}
		info := &attemptInfo{maxEvent: a.maxEvent, pace: a.pace, abort: t.abortCh}
		stale := watchStale(t, a.stale)
		s := newChunkStream(context.Background(), client, params, option.WithMiddleware(info.middleware))
		shown := false
		for s.Next() {
			// Chunks already buffered when an abort comes are not shown:
			// the reply stops where the person stopped it, without first
			// parsing a socket buffer's worth of text.
			if _, aborted := o.Aborted(); aborted {
				break
			}
			stale.kick()
			chunk := s.Current()
			if u := chunk.Usage; u != nil {
				r.usage = Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}
				t.c.Event(r.usage)
			}
			for i := range chunk.Choices {
				ch := &chunk.Choices[i]
				if ch.Index != 0 {
					continue // spindle asks for one choice
				}
				if d := ch.Delta.Content + ch.Delta.Refusal; d != "" {
					d, over := r.fit(d, a.maxReply)
					r.text.WriteString(d)
					t.c.Text(d)
					shown = true
					if over {
						r.err = replyTooLarge(a.maxReply)
					}
				}
				for _, tc := range ch.Delta.ToolCalls {
					acc := byIndex[tc.Index]
					if acc == nil {
						acc = &toolCallAcc{index: tc.Index}
						byIndex[tc.Index] = acc
						r.calls = append(r.calls, acc)
					}
					if tc.ID != "" {
						acc.id = tc.ID
					}
					if acc.name == "" {
						// The name comes once, in the first delta; some
						// servers repeat it, so never concatenate.
						acc.name = tc.Function.Name
					}
					args, over := r.fit(tc.Function.Arguments, a.maxReply)
					acc.args.WriteString(args)
					shown = true
					if over {
						r.err = replyTooLarge(a.maxReply)
					}
				}
				if ch.FinishReason != "" {
					r.finish = ch.FinishReason
				}
			}
			if r.err != nil {
				break // past the reply limit
			}
		}
		stale.stop()
		err := s.Err()
		s.Close()
		if _, aborted := o.Aborted(); aborted || r.err != nil {
			return r
		}
		if err == nil {
			switch {
			case info.done == nil || !info.done.seen:
				r.err = &RequestError{Kind: "truncated_stream", Msg: fmt.Sprintf("the stream from %s ended early: no \"data: [DONE]\"", hostOf(t.route.baseURL))}
			case r.finish == "":
				r.err = &RequestError{Kind: "truncated_stream", Msg: fmt.Sprintf("the stream from %s ended without a finish_reason", hostOf(t.route.baseURL))}
			default:
				for i, c := range r.calls {
					if c.id == "" {
						c.id = fmt.Sprintf("call_%d", i)
					}
					if c.name == "" {
						r.err = &RequestError{Kind: "malformed_stream", Msg: fmt.Sprintf("malformed stream from %s: tool call %d has no function name", hostOf(t.route.baseURL), c.index)}
					}
				}
			}
			return r
		}
		cl := classify(err, info.streaming, t.route.baseURL, model, t.route.apiKey)
		cl = confirmTLS(o, t.route.baseURL, cl)
		if shown || !cl.retryable || attempt >= a.maxRetries {
			if cl.retryable && attempt > 0 {
				cl.err.Msg += fmt.Sprintf(" (gave up after %d retries)", attempt)
			}
			r.err = cl.err
			return r
		}
		o.Reap()
		delay := a.backoff.Delay(attempt, cl.retryAfter)
		a.log.Info("agent: retrying", "session", t.session, "attempt", attempt+1, "delay", delay.Round(time.Millisecond), "kind", cl.err.Kind, "status", cl.err.Status)
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-t.abortCh:
			timer.Stop()
			return r
		}
	}
}

// staleWatch is the stale-stream detector of one attempt: when kick has not
// been called for d, it aborts the turn with stale_abort through the same
// stranger path as Interrupt. Once stop has returned the abort cannot happen
// any more, so an attempt that ended normally is never half-aborted behind
// the worker's back (flag set after the worker looked at it).
type staleWatch struct {
	d     time.Duration
	timer *time.Timer

	mu      sync.Mutex // held while the abort runs, so stop waits for it
	stopped bool
}

func watchStale(t *turn, d time.Duration) *staleWatch {
	w := &staleWatch{d: d}
	w.timer = time.AfterFunc(d, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if !w.stopped {
			t.abort(transport.StaleAbort)
		}
	})
	return w
}

// kick records that a chunk arrived.
func (w *staleWatch) kick() { w.timer.Reset(w.d) }

// stop disarms the detector and waits for an abort it already started.
func (w *staleWatch) stop() {
	w.timer.Stop()
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

// hostOf is the host (and port) of a base URL, for messages.
func hostOf(base string) string {
	if i := strings.Index(base, "://"); i >= 0 {
		base = base[i+3:]
	}
	if i := strings.IndexByte(base, '/'); i >= 0 {
		base = base[:i]
	}
	return base
}

// attemptInfo records what one HTTP attempt's response looked like.
type attemptInfo struct {
	streaming bool // a 2xx event stream started
	done      *doneWatch
	maxEvent  int             // limit on one event or line (limitEvents)
	pace      time.Duration   // paceBody's pace; 0: reads are not paced
	abort     <-chan struct{} // the turn's abortCh: ends a pace's wait
}

// middleware wraps the response body to pace its reads (paceBody), to
// watch for "data: [DONE]" and to bound each event (limitEvents), rejects a
// 2xx answer that is not an event stream, and reads any other answer into a
// *statusError (readStatusError).
func (i *attemptInfo) middleware(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	i.done = &doneWatch{}
	res, err := next(req)
	if err != nil || res == nil {
		return res, err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, readStatusError(res)
	}
	ct := res.Header.Get("Content-Type")
	if mt, _, perr := mime.ParseMediaType(ct); perr != nil || mt != "text/event-stream" {
		res.Body.Close()
		return nil, errNotStreaming{contentType: ct}
	}
	i.streaming = true
	i.done.rc = res.Body
	if i.pace > 0 {
		i.done.rc = paceBody(res.Body, i.pace, i.abort)
	}
	res.Body = limitEvents(i.done, i.maxEvent)
	return res, nil
}

// doneWatch passes a response body through and notes whether a line that
// is exactly "data: [DONE]" (or "data:[DONE]") went by.
type doneWatch struct {
	rc   io.ReadCloser
	seen bool
	line [16]byte // the first bytes of the current line
	n    int      // bytes of the current line so far (may exceed len(line))
}

var (
	doneLine        = []byte("data: [DONE]")
	doneLineNoSpace = []byte("data:[DONE]")
)

// Read passes the body through, watching for the [DONE] line.
func (w *doneWatch) Read(p []byte) (int, error) {
	n, err := w.rc.Read(p)
	if !w.seen {
		w.scan(p[:n])
	}
	return n, err
}

func (w *doneWatch) scan(p []byte) {
	for _, b := range p {
		if b == '\n' || b == '\r' {
			if w.n <= len(w.line) {
				l := bytes.TrimRight(w.line[:w.n], " ")
				if bytes.Equal(l, doneLine) || bytes.Equal(l, doneLineNoSpace) {
					w.seen = true
					return
				}
			}
			w.n = 0
			continue
		}
		if w.n < len(w.line) {
			w.line[w.n] = b
		}
		w.n++
	}
}

// Close closes the body.
func (w *doneWatch) Close() error { return w.rc.Close() }

func (a *Agent) saveAssistant(session int64, text, toolCalls string, status store.MessageStatus, errText string, u Usage) (store.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := a.cfg.State.AddMessage(ctx, store.Message{
		SessionID: session, Role: store.RoleAssistant, Content: text, ToolCalls: toolCalls,
		Status: status, Error: errText, PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens,
	})
	if err != nil {
		a.log.Error("agent: save reply", "session", session, "status", status, "err", err)
		return m, fmt.Errorf("agent: save reply: %w", err)
	}
	return m, nil
}

// saveTool saves a tool's result: what the model was told, what the screen
// shows, the status (failed for an error result, interrupted for a call
// the interrupt stopped or kept from running), and how its approval was
// decided.
func (a *Agent) saveTool(session int64, call tool.Call, res tool.Result, status store.MessageStatus, approvalText string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	screen := res.Screen
	if screen == res.Model {
		screen = ""
	}
	if _, err := a.cfg.State.AddMessage(ctx, store.Message{
		SessionID: session, Role: store.RoleTool, Content: res.ForModel(), ToolCallID: call.ID,
		ToolName: call.Name, Screen: screen, Status: status, Approval: approvalText,
	}); err != nil {
		a.log.Error("agent: save tool result", "session", session, "err", err)
	}
}

func assistantParam(text string, calls []*toolCallAcc) openai.ChatCompletionMessageParamUnion {
	var m openai.ChatCompletionAssistantMessageParam
	if text != "" {
		m.Content.OfString = param.NewOpt(text)
	}
	for _, c := range calls {
		m.ToolCalls = append(m.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
			OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
				ID:       c.id,
				Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.name, Arguments: c.args.String()},
			},
		})
	}
	return openai.ChatCompletionMessageParamUnion{OfAssistant: &m}
}

// buildMessages turns a session's stored history into request messages,
// after the system prompt. Assistant tool calls without a stored result
// (and results without their call) are left out, since endpoints reject an
// unanswered call; empty failed replies are left out too.
func buildMessages(system string, history []store.Message) []openai.ChatCompletionMessageParamUnion {
	answered := map[string]bool{}
	for _, m := range history {
		if m.Role == store.RoleTool && m.ToolCallID != "" {
			answered[m.ToolCallID] = true
		}
	}
	out := make([]openai.ChatCompletionMessageParamUnion, 0, len(history)+1)
	out = append(out, openai.SystemMessage(system))
	asked := map[string]bool{}
	for _, m := range history {
		switch m.Role {
		case store.RoleUser:
			out = append(out, openai.UserMessage(m.Content))
		case store.RoleSystem:
			out = append(out, openai.SystemMessage(m.Content))
		case store.RoleAssistant:
			var calls []*toolCallAcc
			if m.ToolCalls != "" {
				var stored []storedToolCall
				if err := json.Unmarshal([]byte(m.ToolCalls), &stored); err == nil {
					for _, s := range stored {
						if !answered[s.ID] || s.ID == "" {
							continue
						}
						c := &toolCallAcc{id: s.ID, name: s.Function.Name}
						c.args.WriteString(s.Function.Arguments)
						calls = append(calls, c)
						asked[s.ID] = true
					}
				}
			}
			if m.Content == "" && len(calls) == 0 {
				continue
			}
			out = append(out, assistantParam(m.Content, calls))
		case store.RoleTool:
			if asked[m.ToolCallID] {
				out = append(out, openai.ToolMessage(m.Content, m.ToolCallID))
			}
		}
	}
	return out
}
