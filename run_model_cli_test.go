package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spindle-sh/spindle/store"
)

// TestRunWithoutAModelUsesTheFirstListed: `spindle run` against a real
// endpoint with no model named anywhere asks the endpoint for its models,
// uses the first it lists (not a built-in name it may not serve), says so
// on stderr, and the run session remembers the model; with --model the
// endpoint is not asked.
func TestRunWithoutAModelUsesTheFirstListed(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	listed := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/models":
			mu.Lock()
			listed++
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"object":"list","data":[{"id":"served-7b","object":"model","created":1,"owned_by":"x"},{"id":"another","object":"model","created":1,"owned_by":"x"}]}`)
		case "/v1/chat/completions":
			var req struct {
				Model string `json:"model"`
			}
			json.NewDecoder(r.Body).Decode(&req)
			mu.Lock()
			asked = append(asked, req.Model)
			mu.Unlock()
			w.Header().Set("Content-Type", "text/event-stream")
			for _, data := range []string{
				`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"ok"},"logprobs":null,"finish_reason":null}]}`,
				`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`,
				`[DONE]`,
			} {
				fmt.Fprintf(w, "data: %s\n\n", data)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	e := newRunEnv(t, spindleBin(t))
	e.extra = []string{"OPENAI_BASE_URL=" + srv.URL + "/v1"}
	out, errOut, code := e.run(t, "", "run", "hello")
	if code != 0 || out != "ok\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "no model configured; using served-7b, the first the endpoint lists") {
		t.Errorf("stderr does not say which model: %q", errOut)
	}
	mu.Lock()
	got := append([]string(nil), asked...)
	mu.Unlock()
	if len(got) != 1 || got[0] != "served-7b" {
		t.Fatalf("the endpoint was asked for %v", got)
	}
	st, err := store.OpenState(filepath.Join(e.home, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Session(context.Background(), 1)
	st.Close()
	if err != nil || s.Kind != store.SessionRun || s.Model != "served-7b" {
		t.Errorf("session 1: %+v, %v", s, err)
	}

	// With a model named, nothing is listed and nothing is said.
	mu.Lock()
	before := listed
	mu.Unlock()
	if _, errOut, code := e.run(t, "", "--model", "another", "run", "hello"); code != 0 || strings.Contains(errOut, "no model configured") {
		t.Fatalf("--model: exit %d, stderr %q", code, errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if listed != before || asked[len(asked)-1] != "another" {
		t.Errorf("--model: listed %d → %d, asked %v", before, listed, asked)
	}
}
