package agent

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/spindle-sh/spindle/store"
)

// TestErrorBodyShapes answers with the error bodies that llama.cpp, Ollama,
// vLLM, FastAPI servers and proxies send, and checks each is reported with
// its status, the server's message and the usual hint. Before the fix every
// {"error":"…"} body became "malformed stream … cannot unmarshal string"
// with the status lost.
func TestErrorBodyShapes(t *testing.T) {
	cases := []struct {
		name        string
		status      int
		ctype, body string
		kind        string
		has         []string
		attempts    int
	}{
		{"llama.cpp 404 route", 404, "application/json", `{"error":"Not Found"}`,
			"not_found", []string{"/v1/chat/completions not found (404)", "check the base URL"}, 1},
		{"Ollama 404 model", 404, "application/json", `{"error":"model 'x' not found","code":404}`,
			"model_not_found", []string{`model "test-model" not found`, "(404)", "--model"}, 1},
		{"string 401", 401, "application/json", `{"error":"Unauthorized"}`,
			"auth", []string{"authentication failed (401 Unauthorized)", "OPENAI_API_KEY"}, 1},
		{"string 403", 403, "application/json", `{"error":"Forbidden"}`,
			"auth", []string{"permission denied (403 Forbidden)"}, 1},
		{"string 400", 400, "application/json", `{"error":"context length exceeded"}`,
			"rejected", []string{"request rejected (400 Bad Request)", ": context length exceeded"}, 1},
		{"string 500 retried", 500, "application/json", `{"error":"CUDA out of memory"}`,
			"server", []string{"server error (500 Internal Server Error)", "CUDA out of memory", "gave up after 3 retries"}, 4},
		{"string 429 retried", 429, "application/json", `{"error":"slow down"}`,
			"rate_limited", []string{"rate limited (429 Too Many Requests)", "slow down"}, 4},
		{"vLLM message", 400, "application/json", `{"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400}`,
			"rejected", []string{"(400 Bad Request)", "max_tokens is too large"}, 1},
		{"FastAPI detail", 422, "application/json", `{"detail":"field required"}`,
			"rejected", []string{"(422 Unprocessable Entity)", "field required"}, 1},
		{"HTML page", 502, "text/html", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>nginx</body></html>",
			"server", []string{"server error (502 Bad Gateway)", ": 502 Bad Gateway"}, 4},
		{"plain text", 400, "text/plain", "no such thing\n",
			"rejected", []string{"(400 Bad Request)", ": no such thing"}, 1},
		{"OpenAI shape still works", 400, "application/json", `{"error":{"message":"bad param","type":"invalid_request_error","param":null,"code":"x"}}`,
			"rejected", []string{"(400 Bad Request)", ": bad param"}, 1},
		{"status without a name", 499, "application/json", `{"error":"client closed"}`,
			"rejected", []string{"request rejected (499)", "client closed"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			})
			a := e.agent(ts.base(), nil)
			sid := e.session()
			ch, err := a.Send(context.Background(), sid, "hi")
			if err != nil {
				t.Fatal(err)
			}
			f, ok := collect(t, ch).terminal.(Failed)
			if !ok {
				t.Fatal("want Failed")
			}
			var re *RequestError
			if !errors.As(f.Err, &re) {
				t.Fatalf("Failed.Err is %T", f.Err)
			}
			if re.Kind != tc.kind || re.Status != tc.status {
				t.Errorf("kind %q status %d, want %q %d (%q)", re.Kind, re.Status, tc.kind, tc.status, re.Msg)
			}
			for _, h := range tc.has {
				if !strings.Contains(re.Msg, h) {
					t.Errorf("message %q lacks %q", re.Msg, h)
				}
			}
			if strings.Contains(re.Msg, "malformed") || strings.Contains(re.Msg, "unmarshal") {
				t.Errorf("reported as a decoding failure: %q", re.Msg)
			}
			if m := e.lastAssistant(sid); m.Status != store.MessageFailed || m.Error != re.Msg {
				t.Errorf("saved %q %q", m.Status, m.Error)
			}
			if n := int(ts.attempts.Load()); n != tc.attempts {
				t.Errorf("server saw %d requests, want %d", n, tc.attempts)
			}
		})
	}
}

// TestEndlessErrorBody: an error answer whose body never ends is read only
// up to maxErrorBody (openai-go would read it all, for ever).
func TestEndlessErrorBody(t *testing.T) {
	e := newEnv(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"`))
		chunk := []byte(strings.Repeat("x", 32<<10))
		for {
			if _, err := w.Write(chunk); err != nil {
				return // the client hung up
			}
		}
	})
	a := e.agent(ts.base(), nil)
	ch, err := a.Send(context.Background(), e.session(), "hi")
	if err != nil {
		t.Fatal(err)
	}
	f, ok := collect(t, ch).terminal.(Failed)
	if !ok || !strings.Contains(f.Err.Error(), "request rejected (400 Bad Request)") {
		t.Fatalf("terminal %#v", f)
	}
	if len(f.Err.Error()) > 400 {
		t.Errorf("message is %d bytes long", len(f.Err.Error()))
	}
}

func TestErrorBodyMessage(t *testing.T) {
	tests := []struct {
		body, ctype, msg, code string
	}{
		{`{"error":{"message":"m","code":"model_not_found"}}`, "application/json", "m", "model_not_found"},
		{`{"error":{"message":"m","code":404}}`, "application/json", "m", "404"},
		{`{"error":"m","code":404}`, "application/json", "m", "404"},
		{`{"error":"m"}`, "", "m", ""},
		{`{"message":"m","code":"c"}`, "application/json", "m", "c"},
		{`{"detail":"m"}`, "application/json", "m", ""},
		{`{"detail":[{"loc":["body"],"msg":"m"}]}`, "application/json", `[{"loc":["body"],"msg":"m"}]`, ""},
		{`{"other":1}`, "application/json", "", ""},
		{"<!DOCTYPE html><html><head><TITLE> Oops </TITLE>", "", "Oops", ""},
		{"<html><body>no title</body></html>", "text/html", "", ""},
		{"  plain words \n", "text/plain", "plain words", ""},
		{"", "application/json", "", ""},
	}
	for _, tt := range tests {
		msg, code := errorBodyMessage([]byte(tt.body), tt.ctype)
		if msg != tt.msg || code != tt.code {
			t.Errorf("errorBodyMessage(%q) = %q, %q; want %q, %q", tt.body, msg, code, tt.msg, tt.code)
		}
	}
}
