package agent

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/store"
)

// TestMisbehavingServer runs one turn against each way a server can go
// wrong and checks what was saved in state.db: content, status and error.
func TestMisbehavingServer(t *testing.T) {
	type want struct {
		status   store.MessageStatus
		content  string
		errHas   string // substring of Message.Error and of the Failed error
		attempts int    // requests the server saw; 0 = don't check
		reason   string // Interrupted.Reason
	}
	cases := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, attempt int, req chatRequest)
		mod     func(*Config)
		want    want
	}{
		{
			name: "well formed",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				startSSE(w).complete("Hello", ", ", "world", "!")
			},
			want: want{status: store.MessageComplete, content: "Hello, world!", attempts: 1},
		},
		{
			name: "slow",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				s := startSSE(w)
				for _, c := range []string{"one ", "two ", "three ", "four"} {
					time.Sleep(30 * time.Millisecond)
					s.content(c)
				}
				s.finish("stop")
				s.done()
			},
			want: want{status: store.MessageComplete, content: "one two three four", attempts: 1},
		},
		{
			name: "truncated: connection closed mid-stream",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				s := startSSE(w)
				s.content("partial ")
				s.content("text")
				hijackClose(w)
			},
			want: want{status: store.MessageFailed, content: "partial text", errHas: "stream", attempts: 1},
		},
		{
			name: "truncated: clean end without [DONE]",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				s := startSSE(w)
				s.content("no done")
				s.finish("stop")
			},
			want: want{status: store.MessageFailed, content: "no done", errHas: `no "data: [DONE]"`, attempts: 1},
		},
		{
			name: "truncated: [DONE] without finish_reason",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				s := startSSE(w)
				s.content("no finish")
				s.done()
			},
			want: want{status: store.MessageFailed, content: "no finish", errHas: "without a finish_reason", attempts: 1},
		},
		{
			name: "malformed chunk",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				s := startSSE(w)
				s.content("before ")
				s.raw(`{"id":"x","choices":[{"index":0,"delta":{"content":"bro`)
				s.content("after")
				s.finish("stop")
				s.done()
			},
			want: want{status: store.MessageFailed, content: "before ", errHas: "malformed stream", attempts: 1},
		},
		{
			name: "error event mid-stream",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				s := startSSE(w)
				s.content("so far")
				s.raw(`{"error":{"message":"upstream overloaded","type":"server_error"}}`)
			},
			want: want{status: store.MessageFailed, content: "so far", errHas: "upstream overloaded", attempts: 1},
		},
		{
			name: "429 with Retry-After, then success",
			handler: func(w http.ResponseWriter, r *http.Request, attempt int, _ chatRequest) {
				if attempt == 0 {
					w.Header().Set("Retry-After", "1")
					apiError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "slow down")
					return
				}
				startSSE(w).complete("after ", "waiting")
			},
			want: want{status: store.MessageComplete, content: "after waiting", attempts: 2},
		},
		{
			name: "500 then success",
			handler: func(w http.ResponseWriter, r *http.Request, attempt int, _ chatRequest) {
				if attempt == 0 {
					apiError(w, http.StatusInternalServerError, "", "boom")
					return
				}
				startSSE(w).complete("recovered")
			},
			want: want{status: store.MessageComplete, content: "recovered", attempts: 2},
		},
		{
			name: "503 forever: bounded retries",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				apiError(w, http.StatusServiceUnavailable, "", "down for maintenance")
			},
			mod:  func(c *Config) { c.MaxRetries = 2 },
			want: want{status: store.MessageFailed, errHas: "server error (503 Service Unavailable)", attempts: 3},
		},
		{
			name: "no retry once text was shown",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				s := startSSE(w)
				s.content("shown")
				hijackClose(w)
			},
			want: want{status: store.MessageFailed, content: "shown", errHas: "stream", attempts: 1},
		},
		{
			name: "never sends a chunk: stale abort",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			},
			mod:  func(c *Config) { c.StaleTimeout = 150 * time.Millisecond },
			want: want{status: store.MessageInterrupted, reason: "stale_abort", errHas: "stale_abort", attempts: 1},
		},
		{
			name: "never answers at all: stale abort",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				<-r.Context().Done()
			},
			mod:  func(c *Config) { c.StaleTimeout = 150 * time.Millisecond },
			want: want{status: store.MessageInterrupted, reason: "stale_abort", attempts: 1},
		},
		{
			name: "stalls after some text: stale abort keeps it",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				s := startSSE(w)
				s.content("kept ")
				s.content("text")
				<-r.Context().Done()
			},
			// A second, not 150 ms: the window must hold connect, request and
			// the first chunks on a loaded machine, or the text is not kept.
			mod:  func(c *Config) { c.StaleTimeout = time.Second },
			want: want{status: store.MessageInterrupted, content: "kept text", reason: "stale_abort", attempts: 1},
		},
		{
			name: "401 bad key",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				apiError(w, http.StatusUnauthorized, "invalid_api_key", "Incorrect API key provided: sk-test-SECRET-KEY-1234")
			},
			want: want{status: store.MessageFailed, errHas: "authentication failed (401", attempts: 1},
		},
		{
			name: "400 whose message repeats the key",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				apiError(w, http.StatusBadRequest, "bad_header", "cannot use header Authorization: "+r.Header.Get("Authorization"))
			},
			want: want{status: store.MessageFailed, errHas: "request rejected (400 Bad Request)", attempts: 1},
		},
		{
			name: "404 model",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, req chatRequest) {
				apiError(w, http.StatusNotFound, "model_not_found", "The model `"+req.Model+"` does not exist")
			},
			want: want{status: store.MessageFailed, errHas: `model "test-model" not found`, attempts: 1},
		},
		{
			name: "200 but not an event stream",
			handler: func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<html>hello</html>"))
			},
			want: want{status: store.MessageFailed, errHas: "did not answer with an event stream", attempts: 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ts := newTestServer(t, tc.handler)
			a := e.agent(ts.base(), tc.mod)
			sid := e.session()
			ch, err := a.Send(context.Background(), sid, "hi there")
			if err != nil {
				t.Fatal(err)
			}
			r := collect(t, ch)
			if r.after != 0 {
				t.Errorf("%d events after the terminal one", r.after)
			}
			m := e.lastAssistant(sid)
			if m.Status != tc.want.status {
				t.Errorf("saved status = %q, want %q (error %q)", m.Status, tc.want.status, m.Error)
			}
			if m.Content != tc.want.content {
				t.Errorf("saved content = %q, want %q", m.Content, tc.want.content)
			}
			if r.text != m.Content {
				t.Errorf("streamed text %q != saved content %q", r.text, m.Content)
			}
			if tc.want.errHas != "" && !strings.Contains(m.Error, tc.want.errHas) {
				t.Errorf("saved error = %q, want it to contain %q", m.Error, tc.want.errHas)
			}
			if strings.Contains(m.Error, "SECRET") || strings.Contains(e.log.String(), "SECRET") {
				t.Errorf("the API key leaked: error %q / log", m.Error)
			}
			if strings.ContainsAny(m.Error, "\r\n") {
				t.Errorf("error is not one line: %q", m.Error)
			}
			if n := int(ts.attempts.Load()); tc.want.attempts != 0 && n != tc.want.attempts {
				t.Errorf("server saw %d requests, want %d", n, tc.want.attempts)
			}
			switch ev := r.terminal.(type) {
			case Done:
				if tc.want.status != store.MessageComplete || ev.MessageID != m.ID || ev.Text != m.Content {
					t.Errorf("terminal %#v does not match saved %q message %d", ev, m.Status, m.ID)
				}
			case Failed:
				if tc.want.status != store.MessageFailed || ev.MessageID != m.ID || ev.Err == nil || ev.Err.Error() != m.Error {
					t.Errorf("terminal %#v does not match saved %q message %d %q", ev, m.Status, m.ID, m.Error)
				}
				var re *RequestError
				if !errors.As(ev.Err, &re) {
					t.Errorf("Failed.Err is %T, want *RequestError", ev.Err)
				}
			case Interrupted:
				if tc.want.status != store.MessageInterrupted || ev.MessageID != m.ID || string(ev.Reason) != tc.want.reason {
					t.Errorf("terminal %#v does not match saved %q message %d (want reason %q)", ev, m.Status, m.ID, tc.want.reason)
				}
			}
		})
	}
}

// TestRetryAfterHonoured checks the client waited as long as the server
// asked before retrying (a lower bound, not a speed limit).
func TestRetryAfterHonoured(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, attempt int, _ chatRequest) {
		if attempt == 0 {
			w.Header().Set("Retry-After", "1")
			apiError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "slow down")
			return
		}
		startSSE(w).complete("ok")
	})
	a := e.agent(ts.base(), nil)
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "hi")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := collect(t, ch).terminal.(Done); !ok {
		t.Fatal("turn did not complete")
	}
	ts.mu.Lock()
	gap := ts.times[1].Sub(ts.times[0])
	ts.mu.Unlock()
	if gap < 900*time.Millisecond {
		t.Errorf("retried after %s; the server asked for 1s", gap)
	}
}

// TestConnectErrorRetriedThenFails points the agent at a closed port.
func TestConnectErrorRetriedThenFails(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	a := e.agent("http://"+addr+"/v1", func(c *Config) { c.MaxRetries = 2 })
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "hi")
	if err != nil {
		t.Fatal(err)
	}
	r := collect(t, ch)
	f, ok := r.terminal.(Failed)
	if !ok {
		t.Fatalf("terminal = %#v, want Failed", r.terminal)
	}
	if msg := f.Err.Error(); !strings.Contains(msg, "cannot connect to "+addr) || !strings.Contains(msg, "gave up after 2 retries") {
		t.Errorf("error = %q", msg)
	}
	if n := strings.Count(e.log.String(), "agent: retrying"); n != 2 {
		t.Errorf("logged %d retries, want 2", n)
	}
}

// TestTLSFailure talks to a TLS server whose certificate is not trusted.
func TestTLSFailure(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		startSSE(w).complete("never")
	}))
	defer srv.Close()
	srv.Config.ErrorLog = quietLog()
	a := e.agent(srv.URL+"/v1", nil)
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "hi")
	if err != nil {
		t.Fatal(err)
	}
	f, ok := collect(t, ch).terminal.(Failed)
	if !ok {
		t.Fatal("want Failed")
	}
	if msg := f.Err.Error(); !strings.Contains(msg, "TLS failure") || !strings.Contains(msg, "x509") {
		t.Errorf("error = %q", msg)
	}
	if m := e.lastAssistant(sid); m.Status != store.MessageFailed || !strings.Contains(m.Error, "x509") {
		t.Errorf("saved %q %q", m.Status, m.Error)
	}
}

// TestPlainHTTPToTLSPort and the other way round: https to a plain server.
func TestHTTPSToPlainServer(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {})
	ts.Config.ErrorLog = quietLog()
	a := e.agent(strings.Replace(ts.base(), "http://", "https://", 1), nil)
	sid := e.session()
	ch, err := a.Send(context.Background(), sid, "hi")
	if err != nil {
		t.Fatal(err)
	}
	f, ok := collect(t, ch).terminal.(Failed)
	if !ok || !strings.Contains(f.Err.Error(), "TLS failure") {
		t.Fatalf("terminal = %#v (%v)", f, f.Err)
	}
}

func TestBadBaseURL(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"ftp://example.com/v1", "localhost:8080", "http://user:hunter2@example.com/v1", "http://%zz", "ftp://user:hunter2@example.com/v1", "https://user:hunter2@/v1", "http://hunter2@/v1"} {
		_, err := New(Config{BaseURL: u, State: e.state})
		if err == nil {
			t.Errorf("New(%q) succeeded", u)
			continue
		}
		if !strings.Contains(err.Error(), "bad base URL") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New(%q) = %v", u, err)
		}
	}
}

// TestRequestShape checks what goes over the wire: the model, stream with
// include_usage, the tools, the system prompt first, the key as a bearer
// token, and the history in order.
func TestRequestShape(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
		startSSE(w).complete("first answer")
	})
	a := e.agent(ts.base(), nil)
	sid := e.session()
	for _, msg := range []string{"first question", "second question"} {
		ch, err := a.Send(context.Background(), sid, msg)
		if err != nil {
			t.Fatal(err)
		}
		var r result
		for ev := range ch {
			r.add(ev)
		}
		if _, ok := r.terminal.(Done); !ok {
			t.Fatalf("turn %q: %#v", msg, r.terminal)
		}
	}
	req := ts.request(1)
	if req.Model != "test-model" || !req.Stream || !req.StreamOptions.IncludeUsage {
		t.Errorf("model %q stream %v include_usage %v", req.Model, req.Stream, req.StreamOptions.IncludeUsage)
	}
	var names []string
	for _, tl := range req.Tools {
		names = append(names, tl.Function.Name)
	}
	if got := strings.Join(names, ","); got != "kanban_list,kanban_create,kanban_update,kanban_move,kanban_comment" {
		t.Errorf("tools = %s", got)
	}
	var roles []string
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
	}
	if got := strings.Join(roles, ","); got != "system,user,assistant,user" {
		t.Errorf("roles = %s", got)
	}
	if ts.auth[0] != "Bearer sk-test-SECRET-KEY-1234" {
		t.Errorf("Authorization = %q", ts.auth[0])
	}
	sess, _ := e.state.Session(context.Background(), sid)
	if sess.Title != "first question" {
		t.Errorf("session title = %q", sess.Title)
	}
}

// hijackClose drops the connection without finishing the response.
func hijackClose(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestModels(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"object":"list","data":[{"id":"zeta","object":"model","created":1,"owned_by":"x"},{"id":"alpha","object":"model","created":1,"owned_by":"x"}]}`))
	}))
	defer srv.Close()
	a := e.agent(srv.URL+"/v1", nil)
	got, err := a.Models(context.Background())
	if err != nil || strings.Join(got, ",") != "alpha,zeta" {
		t.Errorf("Models = %v, %v", got, err)
	}
	a.SetModel("zeta")
	if a.Model() != "zeta" {
		t.Errorf("Model after SetModel = %q", a.Model())
	}

	// An endpoint without the route: a clear error, not a hang.
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {})
	b := e.agent(ts.base(), nil)
	if _, err := b.Models(context.Background()); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("Models without /v1/models: %v", err)
	}

	// A cancelled context aborts the listing through the transport.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	c := e.agent(hang.URL+"/v1", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Models(ctx); !errors.Is(err, ErrInterrupted) {
		t.Errorf("Models with a cancelled context: %v", err)
	}
}

func TestSendRefusals(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) { startSSE(w).complete("x") })
	a := e.agent(ts.base(), nil)
	if _, err := a.Send(context.Background(), 12345, "hi"); err == nil || a.Running(12345) {
		t.Errorf("Send to a missing session: %v, running %v", err, a.Running(12345))
	}
	sid := e.session()
	if _, err := a.Send(context.Background(), sid, "  \n"); err == nil {
		t.Error("Send of an empty message succeeded")
	}
	if n := len(e.messages(sid)); n != 0 {
		t.Errorf("%d messages saved by refused sends", n)
	}
	if ts.attempts.Load() != 0 {
		t.Error("a refused send made a request")
	}
}
