package agent

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/agent/offline"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/agent/tool/board"
	"github.com/spindle-sh/spindle/store"
)

// TestToolCallRoundTrip: the model streams a kanban_create call (arguments
// split over several tool_calls deltas with an index, as OpenAI does), the
// agent creates a real card in kanban.db, feeds the result back, and the
// model's second answer completes the turn. Every message is in state.db.
func TestToolCallRoundTrip(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, attempt int, req chatRequest) {
		s := startSSE(w)
		if attempt == 0 {
			s.toolCall(0, "call_abc", "kanban_create", "")
			s.toolCall(0, "", "", `{"title": "Write`)
			s.toolCall(0, "", "", ` the release notes", "priority": "high"}`)
			s.finish("tool_calls")
			s.usage(40, 12)
			s.done()
			return
		}
		s.complete("Added ", "the card.")
	})
	a := e.agent(ts.base(), nil)
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "add a card")
	if err != nil {
		t.Fatal(err)
	}
	r := collect(t, ch)

	var kinds []string
	for _, ev := range r.events {
		switch ev := ev.(type) {
		case ToolCall:
			kinds = append(kinds, "call")
			if ev.ID != "call_abc" || ev.Name != "kanban_create" || !json.Valid([]byte(ev.Arguments)) {
				t.Errorf("ToolCall = %#v", ev)
			}
		case ToolResult:
			kinds = append(kinds, "result")
			if ev.Result.Err || !strings.Contains(ev.Result.Model, `"title":"Write the release notes"`) || !strings.Contains(ev.Result.Screen, "Write the release notes") {
				t.Errorf("ToolResult = %#v", ev)
			}
		case Usage:
			kinds = append(kinds, "usage")
		case Done:
			kinds = append(kinds, "done")
			if ev.Text != "Added the card." {
				t.Errorf("Done.Text = %q", ev.Text)
			}
		}
	}
	if got := strings.Join(kinds, ","); got != "usage,call,result,usage,done" {
		t.Errorf("events = %s", got)
	}

	cards, err := e.board.List(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(cards) != 1 || cards[0].Title != "Write the release notes" || cards[0].Priority != store.PriorityHigh || cards[0].Status != store.Todo {
		t.Fatalf("cards = %+v", cards)
	}
	evs, err := e.board.Events(context.Background(), cards[0].ID)
	if err != nil || len(evs) == 0 || evs[0].Actor != store.ActorAgent {
		t.Errorf("card history = %+v, %v (want actor %q)", evs, err, store.ActorAgent)
	}

	ms := e.messages(sid)
	var roles []string
	for _, m := range ms {
		roles = append(roles, string(m.Role)+":"+string(m.Status))
	}
	if got := strings.Join(roles, ","); got != "user:complete,assistant:complete,tool:complete,assistant:complete" {
		t.Fatalf("messages = %s", got)
	}
	var calls []storedToolCall
	if err := json.Unmarshal([]byte(ms[1].ToolCalls), &calls); err != nil || len(calls) != 1 ||
		calls[0].ID != "call_abc" || calls[0].Type != "function" || calls[0].Function.Name != "kanban_create" ||
		calls[0].Function.Arguments != `{"title": "Write the release notes", "priority": "high"}` {
		t.Errorf("saved tool_calls = %s (%v)", ms[1].ToolCalls, err)
	}
	if ms[2].ToolCallID != "call_abc" || !strings.Contains(ms[2].Content, "Write the release notes") {
		t.Errorf("tool message = %+v", ms[2])
	}
	if ms[3].Content != "Added the card." {
		t.Errorf("final reply = %q", ms[3].Content)
	}

	// The second request carried the call and its result, in order.
	req := ts.request(1)
	n := len(req.Messages)
	if n < 4 {
		t.Fatalf("second request has %d messages", n)
	}
	asst, tool := req.Messages[n-2], req.Messages[n-1]
	if asst.Role != "assistant" || len(asst.ToolCalls) != 1 || asst.ToolCalls[0].ID != "call_abc" || asst.ToolCalls[0].Function.Name != "kanban_create" {
		t.Errorf("assistant message sent back = %+v", asst)
	}
	if tool.Role != "tool" || tool.ToolCallID != "call_abc" {
		t.Errorf("tool message sent back = %+v", tool)
	}
}

// TestToolErrorsFedBack: bad arguments, unknown cards and a missing board
// come back to the model as an error result ("error: ..."), saved with
// status failed, not as a failed turn.
func TestToolErrorsFedBack(t *testing.T) {
	cases := []struct {
		name, tool, args string
		noBoard          bool
		errHas           string
	}{
		{"unknown card", board.KanbanMove, `{"id": 999, "status": "done"}`, false, "not found"},
		{"bad status", board.KanbanMove, `{"id": 1, "status": "someday"}`, false, "someday"},
		{"bad json", board.KanbanCreate, `{"title": `, false, "bad arguments"},
		{"unknown field", board.KanbanCreate, `{"title": "x", "colour": "red"}`, false, "bad arguments"},
		{"two values run together", board.KanbanCreate, `{"title": "x"} {"title": "y"}`, false, "more than one JSON value"},
		{"trailing brace", board.KanbanCreate, `{"title": "x"}}`, false, "more than one JSON value"},
		{"empty title", board.KanbanCreate, `{"title": "  "}`, false, "title is empty"},
		{"missing id", board.KanbanMove, `{"status": "done"}`, false, "missing id"},
		{"no board", board.KanbanList, `{}`, true, "board is unavailable"},
		{"unknown tool", "rm_rf", `{}`, false, "unknown tool"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, attempt int, _ chatRequest) {
				s := startSSE(w)
				if attempt == 0 {
					s.toolCall(0, "call_1", tc.tool, tc.args)
					s.finish("tool_calls")
					s.done()
					return
				}
				s.complete("ok")
			})
			a := e.agent(ts.base(), func(c *Config) {
				if tc.noBoard {
					c.Board = nil
				}
			})
			sid := e.session()
			ch, err := a.Send(context.Background(), sid, "do it")
			if err != nil {
				t.Fatal(err)
			}
			r := collect(t, ch)
			if _, ok := r.terminal.(Done); !ok {
				t.Fatalf("terminal = %#v", r.terminal)
			}
			var res ToolResult
			for _, ev := range r.events {
				if v, ok := ev.(ToolResult); ok {
					res = v
				}
			}
			if !res.Result.Err || !strings.Contains(res.Result.Model, tc.errHas) {
				t.Errorf("ToolResult = %#v, want an error containing %q", res, tc.errHas)
			}
			ms := e.messages(sid)
			if ms[2].Role != store.RoleTool || ms[2].Status != store.MessageFailed || !strings.HasPrefix(ms[2].Content, "error: ") ||
				!strings.Contains(ms[2].Content, tc.errHas) || ms[2].ToolName != tc.tool {
				t.Errorf("saved tool message = %+v", ms[2])
			}
		})
	}
}

// TestToolRoundsBounded: a model that calls a tool forever is stopped.
func TestToolRoundsBounded(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
		s := startSSE(w)
		s.toolCall(0, "call_x", board.KanbanList, `{}`)
		s.finish("tool_calls")
		s.done()
	})
	a := e.agent(ts.base(), func(c *Config) { c.MaxToolRounds = 3 })
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "loop")
	if err != nil {
		t.Fatal(err)
	}
	f, ok := collect(t, ch).terminal.(Failed)
	if !ok || !strings.Contains(f.Err.Error(), "stopped after 3 tool rounds") {
		t.Fatalf("terminal = %#v", f)
	}
	if n := ts.attempts.Load(); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
	// Every call has its answer, so the history is valid for the next turn.
	msgs := buildMessages(systemPrompt, e.messages(sid))
	b, _ := json.Marshal(msgs)
	if c, r := strings.Count(string(b), `"tool_calls"`), strings.Count(string(b), `"tool_call_id"`); c != r || c != 4 {
		t.Errorf("history has %d tool_calls and %d tool results", c, r)
	}
}

// TestOfflineModel streams the built-in demo model end to end over its
// loopback TLS, with no key and no base URL, and checks the saved reply is
// exactly the model's text.
func TestOfflineModel(t *testing.T) {
	e := newEnv(t)
	a := e.agent("", func(c *Config) { c.APIKey = "" })
	if !a.Offline() || a.Model() != offline.ModelName || !strings.HasPrefix(a.BaseURL(), "https://127.0.0.1:") {
		t.Fatalf("Offline %v, Model %q, BaseURL %q", a.Offline(), a.Model(), a.BaseURL())
	}
	for _, prompt := range []string{"hello", "explain the interrupt path"} {
		sid := e.session()
		ch, err := a.Send(context.Background(), sid, prompt)
		if err != nil {
			t.Fatal(err)
		}
		r := collect(t, ch)
		d, ok := r.terminal.(Done)
		if !ok {
			t.Fatalf("%q: terminal = %#v", prompt, r.terminal)
		}
		want := offline.Reply(prompt)
		if want == "" || r.text != want || d.Text != want {
			t.Fatalf("%q: streamed %d bytes, want %d", prompt, len(r.text), len(want))
		}
		if m := e.lastAssistant(sid); m.Content != want || m.Status != store.MessageComplete {
			t.Errorf("%q: saved %q %d bytes", prompt, m.Status, len(m.Content))
		}
	}
	models, err := a.Models(context.Background())
	if err != nil || len(models) == 0 || models[0] != offline.ModelName {
		t.Errorf("Models = %v, %v", models, err)
	}
}

// TestOfflineAddCard: "add a card …" makes the demo model call kanban_create;
// the card lands in the real kanban.db and the model confirms.
func TestOfflineAddCard(t *testing.T) {
	e := newEnv(t)
	a := e.agent("", nil)
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "add a card Buy milk")
	if err != nil {
		t.Fatal(err)
	}
	r := collect(t, ch)
	if _, ok := r.terminal.(Done); !ok {
		t.Fatalf("terminal = %#v", r.terminal)
	}
	cards, err := e.board.List(context.Background(), false)
	if err != nil || len(cards) != 1 || !strings.Contains(strings.ToLower(cards[0].Title), "buy milk") {
		t.Fatalf("cards = %+v, %v", cards, err)
	}
	if m := e.lastAssistant(sid); m.Status != store.MessageComplete || m.Content == "" {
		t.Errorf("confirmation = %q %q", m.Status, m.Content)
	}
}

// TestOfflineInterrupt interrupts the demo model's long answer mid-stream.
func TestOfflineInterrupt(t *testing.T) {
	e := newEnv(t)
	a := e.agent("", func(c *Config) { c.OfflineTokenDelay = 0 }) // realistic pace
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "tell me about spindle")
	if err != nil {
		t.Fatal(err)
	}
	var r result
	for ev := range ch {
		r.add(ev)
		if _, ok := ev.(Delta); ok && len(r.deltas) == 3 {
			a.Interrupt(sid)
		}
	}
	it, ok := r.terminal.(Interrupted)
	if !ok {
		t.Fatalf("terminal = %#v", r.terminal)
	}
	full := offline.Reply("tell me about spindle")
	if it.Text == "" || it.Text != r.text || !strings.HasPrefix(full, it.Text) || len(it.Text) >= len(full) {
		t.Errorf("partial %d bytes of %d", len(it.Text), len(full))
	}
	if m := e.lastAssistant(sid); m.Content != r.text || m.Status != store.MessageInterrupted {
		t.Errorf("saved %q %d bytes", m.Status, len(m.Content))
	}
	if !strings.Contains(e.log.String(), "OpenAI client aborted (interrupt_abort") {
		t.Error("no abort line in the log")
	}
}

// slowTool blocks until its call's context ends, like a shell command that
// never finishes, and reports that it saw the end.
type slowTool struct {
	started chan struct{}
	ended   chan error
}

func (s *slowTool) Name() string        { return "slow" }
func (s *slowTool) Description() string { return "waits until stopped" }
func (s *slowTool) Schema() tool.Schema { return tool.Schema{} }
func (s *slowTool) Run(ctx context.Context, call tool.Call) tool.Result {
	close(s.started)
	<-ctx.Done()
	s.ended <- ctx.Err()
	return tool.OK("finished anyway", "")
}

// TestInterruptStopsARunningTool: Ctrl-C while a tool runs ends the call
// through its context (the tool returns), the call's result says it was
// stopped, it is saved with status interrupted, and the turn ends
// Interrupted. With the tool run on a context the interrupt does not end
// (as before the registry), the tool never returns and the guard fails the
// test.
func TestInterruptStopsARunningTool(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, attempt int, _ chatRequest) {
		s := startSSE(w)
		s.toolCall(0, "call_slow", "slow", `{}`)
		s.finish("tool_calls")
		s.done()
	})
	slow := &slowTool{started: make(chan struct{}), ended: make(chan error, 1)}
	a := e.agent(ts.base(), func(c *Config) { c.Tools = []tool.Tool{slow} })
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "run the slow thing")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-slow.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the tool never started")
	}
	if !a.Interrupt(sid) {
		t.Fatal("Interrupt found no running turn")
	}
	select {
	case err := <-slow.ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the tool's context ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the interrupt did not end the tool's context")
	}
	r := collect(t, ch)
	if it, ok := r.terminal.(Interrupted); !ok || it.Reason != InterruptAbort {
		t.Fatalf("terminal = %#v", r.terminal)
	}
	var res ToolResult
	for _, ev := range r.events {
		if v, ok := ev.(ToolResult); ok {
			res = v
		}
	}
	if !res.Stopped || !res.Result.Err || !strings.Contains(res.Result.Model, "stopped") {
		t.Errorf("ToolResult = %#v", res)
	}
	ms := e.messages(sid)
	last := ms[len(ms)-1]
	if last.Role != store.RoleTool || last.Status != store.MessageInterrupted || !strings.Contains(last.Content, "stopped: the turn was interrupted") {
		t.Errorf("saved tool message = %+v", last)
	}
}
