package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/spindle-sh/spindle/config"
	"github.com/spindle-sh/spindle/store"
)

// modelServer is a loopback OpenAI-compatible endpoint that lists models
// and answers every chat request with reply. It records each request's
// path, model and Authorization header. hold, when set, is called before a
// chat request is answered (with its 0-based number) and may write an error
// itself by returning true.
type modelServer struct {
	*httptest.Server
	models []string
	reply  string
	hold   func(w http.ResponseWriter, n int) bool

	mu      sync.Mutex
	chats   []chatRequest
	auths   []string
	headers []http.Header
	listed  int
}

func newModelServer(t *testing.T, reply string, models ...string) *modelServer {
	t.Helper()
	ms := &modelServer{models: models, reply: reply}
	ms.Server = httptest.NewServer(http.HandlerFunc(ms.serve))
	t.Cleanup(ms.Close)
	return ms
}

func (ms *modelServer) base() string { return ms.URL + "/v1" }

func (ms *modelServer) setHold(f func(w http.ResponseWriter, n int) bool) {
	ms.mu.Lock()
	ms.hold = f
	ms.mu.Unlock()
}

func (ms *modelServer) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/models":
		ms.mu.Lock()
		ms.listed++
		ms.mu.Unlock()
		data := []map[string]any{}
		ms.mu.Lock()
		models := ms.models
		ms.mu.Unlock()
		for _, m := range models {
			data = append(data, map[string]any{"id": m, "object": "model", "created": 1, "owned_by": "test"})
		}
		b, _ := json.Marshal(map[string]any{"object": "list", "data": data})
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	case "/v1/chat/completions":
		body, _ := io.ReadAll(r.Body)
		var req chatRequest
		json.Unmarshal(body, &req)
		ms.mu.Lock()
		n := len(ms.chats)
		ms.chats = append(ms.chats, req)
		ms.auths = append(ms.auths, r.Header.Get("Authorization"))
		ms.headers = append(ms.headers, r.Header.Clone())
		hold := ms.hold
		ms.mu.Unlock()
		if hold != nil && hold(w, n) {
			return
		}
		startSSE(w).complete(ms.reply)
	default:
		http.NotFound(w, r)
	}
}

// requests returns the models and Authorization headers of the chat
// requests so far.
func (ms *modelServer) requests() (models, auths []string) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, c := range ms.chats {
		models = append(models, c.Model)
	}
	return models, append([]string(nil), ms.auths...)
}

func (ms *modelServer) listings() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.listed
}

// sendAndWait sends text in session id and waits for the turn to end.
func sendAndWait(t *testing.T, a *Agent, id int64, text string) result {
	t.Helper()
	ch, err := a.Send(context.Background(), id, text)
	if err != nil {
		t.Fatalf("Send %q: %v", text, err)
	}
	return collect(t, ch)
}

func TestNamedEndpointsReadTheirKeysFromTheEnvironment(t *testing.T) {
	file := config.File{Endpoints: map[string]config.Endpoint{
		"router": {BaseURL: " https://router.example/v1 ", APIKeyEnv: "ROUTER_KEY", Model: " big "},
		"local":  {BaseURL: "http://127.0.0.1:11434/v1"},
		"nokey":  {BaseURL: "http://h/v1", APIKeyEnv: "UNSET_KEY"},
	}}
	env := map[string]string{"ROUTER_KEY": "sk-router-SECRET"}
	got := NamedEndpoints(file, func(k string) string { return env[k] })
	want := []NamedEndpoint{
		{Name: "local", Endpoint: Endpoint{BaseURL: "http://127.0.0.1:11434/v1"}},
		{Name: "nokey", Endpoint: Endpoint{BaseURL: "http://h/v1"}},
		{Name: "router", Endpoint: Endpoint{BaseURL: "https://router.example/v1", APIKey: "sk-router-SECRET", Model: "big"}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != 3 || got[2].APIKey != "sk-router-SECRET" {
		t.Fatalf("NamedEndpoints = %v, want %v", got, want)
	}
}

// TestSetEndpointAppliesToTheNextTurn: a switch sends the next turn to the
// other endpoint with its model and key; a turn already running keeps its
// endpoint, retries included; the session remembers where it went; and no
// key reaches the log or the endpoint descriptions.
func TestSetEndpointAppliesToTheNextTurn(t *testing.T) {
	e := newEnv(t)
	first := newModelServer(t, "from first", "m1")
	second := newModelServer(t, "from second", "m2a", "m2b")
	a := e.agent(first.base(), func(c *Config) {
		c.Endpoints = []NamedEndpoint{
			{Name: "second", Endpoint: Endpoint{BaseURL: second.base(), APIKey: "sk-second-SECRET-5678", Model: "m2b"}},
			{Name: "broken", Endpoint: Endpoint{BaseURL: "ftp://nowhere"}},
		}
	})
	infos := a.Endpoints()
	if len(infos) != 2 || infos[0].Name != "" || !infos[0].Current || infos[0].Label() != "default" || infos[1].Name != "second" || infos[1].Current || !infos[1].KeySet {
		t.Fatalf("Endpoints = %+v; want the start-up one (current) and second, not the broken one", infos)
	}
	if err := a.SetEndpoint("nowhere"); !errors.Is(err, ErrUnknownEndpoint) {
		t.Errorf("SetEndpoint(nowhere) = %v", err)
	}
	id := e.session()

	// The first request blocks until the switch has happened, then fails
	// with a retryable 503: the retry must still go to the first endpoint.
	switched := make(chan struct{})
	first.setHold(func(w http.ResponseWriter, n int) bool {
		if n == 0 {
			<-switched
			apiError(w, 503, "overloaded", "try again")
			return true
		}
		return false
	})
	ch, err := a.Send(context.Background(), id, "one")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(guard); ; time.Sleep(time.Millisecond) {
		if m, _ := first.requests(); len(m) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first request never came")
		}
	}
	if err := a.SetEndpoint("second"); err != nil {
		t.Fatal(err)
	}
	close(switched)
	if r := collect(t, ch); r.text != "from first" {
		t.Fatalf("the running turn after the switch: %q (%T)", r.text, r.terminal)
	}
	if m, _ := second.requests(); len(m) != 0 {
		t.Fatalf("a running turn's retry went to the new endpoint: %v", m)
	}
	if m, auth := first.requests(); len(m) != 2 || m[1] != "test-model" || auth[1] != "Bearer sk-test-SECRET-KEY-1234" {
		t.Fatalf("first endpoint saw %v %v; want the request and its retry", m, auth)
	}
	if a.Model() != "m2b" || a.BaseURL() != second.base() || !a.Endpoint().Current || a.Endpoint().Name != "second" {
		t.Fatalf("after the switch: model %q, base %q", a.Model(), a.BaseURL())
	}

	if r := sendAndWait(t, a, id, "two"); r.text != "from second" {
		t.Fatalf("the next turn: %q", r.text)
	}
	m, auth := second.requests()
	if len(m) != 1 || m[0] != "m2b" || auth[0] != "Bearer sk-second-SECRET-5678" {
		t.Fatalf("second endpoint saw %v %v; want m2b with its own key", m, auth)
	}
	s, _ := e.state.Session(context.Background(), id)
	if s.Endpoint != "second" || s.Model != "m2b" {
		t.Errorf("the session remembers %q/%q, want second/m2b", s.Endpoint, s.Model)
	}
	if ep, model, ok := a.SessionRoute(s); !ok || ep != "second" || model != "m2b" {
		t.Errorf("SessionRoute = %q %q %v", ep, model, ok)
	}
	for _, gone := range []string{"gone", "", "@offline", "@http://elsewhere/v1"} {
		s.Endpoint = gone
		if _, _, ok := a.SessionRoute(s); ok {
			t.Errorf("SessionRoute accepted endpoint %q, which is not here", gone)
		}
	}
	s.Endpoint = "@" + first.base()
	if ep, model, ok := a.SessionRoute(s); !ok || ep != "" || model != "m2b" {
		t.Errorf("SessionRoute of the start-up endpoint = %q %q %v", ep, model, ok)
	}

	// Back to the start-up endpoint: its own model again, and the
	// session's record says so at once when asked to.
	if err := a.SetEndpoint(""); err != nil || a.Model() != "test-model" {
		t.Fatalf("back to the start-up endpoint: %v, model %q", err, a.Model())
	}
	if err := a.RememberRoute(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.state.Session(context.Background(), id); s.Endpoint != "@"+first.base() || s.Model != "test-model" {
		t.Errorf("after RememberRoute: %q/%q", s.Endpoint, s.Model)
	}

	log := e.log.String()
	for _, secret := range []string{"sk-second-SECRET-5678", "sk-test-SECRET-KEY-1234"} {
		if strings.Contains(log, secret) || strings.Contains(fmt.Sprintf("%+v %#v", a.Endpoints(), a.Endpoints()), secret) {
			t.Errorf("a key leaked: %s", secret)
		}
	}
	// The check can fail: the switch was logged, with the address.
	if !strings.Contains(log, "endpoint switched") || !strings.Contains(log, second.base()) {
		t.Errorf("the switch was not logged:\n%s", log)
	}
}

// TestSwitchBeforeSendGoesToTheNewEndpoint is the other side of the check
// above: switched before the send, the same turn (and its retry) goes to
// the new endpoint, so "the retry stayed" is not true of every switch.
func TestSwitchBeforeSendGoesToTheNewEndpoint(t *testing.T) {
	e := newEnv(t)
	first := newModelServer(t, "from first", "m1")
	second := newModelServer(t, "from second", "m2")
	second.setHold(func(w http.ResponseWriter, n int) bool {
		if n == 0 {
			apiError(w, 503, "overloaded", "try again")
			return true
		}
		return false
	})
	a := e.agent(first.base(), func(c *Config) {
		c.Endpoints = []NamedEndpoint{{Name: "second", Endpoint: Endpoint{BaseURL: second.base(), Model: "m2"}}}
	})
	if err := a.SetEndpoint("second"); err != nil {
		t.Fatal(err)
	}
	if r := sendAndWait(t, a, e.session(), "one"); r.text != "from second" {
		t.Fatalf("reply %q", r.text)
	}
	if m, _ := second.requests(); len(m) != 2 {
		t.Errorf("second endpoint saw %v, want the request and its retry", m)
	}
	if m, _ := first.requests(); len(m) != 0 {
		t.Errorf("first endpoint saw %v", m)
	}
}

// TestNoModelConfiguredUsesTheFirstListed: a real endpoint with no model
// named anywhere is asked for its models, and the first it lists (in its
// order, not by name) is used, instead of a built-in name it may not serve.
func TestNoModelConfiguredUsesTheFirstListed(t *testing.T) {
	e := newEnv(t)
	srv := newModelServer(t, "hi", "zeta-7b", "alpha-1b")
	a := e.agent(srv.base(), func(c *Config) { c.Model = "" })
	if a.Model() != "" {
		t.Fatalf("Model before resolving = %q, want none", a.Model())
	}
	model, picked, err := a.ResolveModel(context.Background())
	if err != nil || !picked || model != "zeta-7b" || a.Model() != "zeta-7b" {
		t.Fatalf("ResolveModel = %q %v %v; model now %q", model, picked, err, a.Model())
	}
	if model, picked, err := a.ResolveModel(context.Background()); err != nil || picked || model != "zeta-7b" {
		t.Errorf("second ResolveModel = %q %v %v; want no new pick", model, picked, err)
	}
	sendAndWait(t, a, e.session(), "hello")
	if m, _ := srv.requests(); len(m) != 1 || m[0] != "zeta-7b" {
		t.Errorf("the request named %v", m)
	}

	// A Send before anyone resolved resolves by itself.
	b := e.agent(srv.base(), func(c *Config) { c.Model = "" })
	sendAndWait(t, b, e.session(), "hello")
	if m, _ := srv.requests(); len(m) != 2 || m[1] != "zeta-7b" {
		t.Errorf("the unresolved agent's request named %v", m)
	}

	// An endpoint that lists nothing: a clear error, and no turn starts.
	empty := newModelServer(t, "hi")
	c := e.agent(empty.base(), func(c *Config) { c.Model = "" })
	id := e.session()
	if _, err := c.Send(context.Background(), id, "hello"); err == nil || !strings.Contains(err.Error(), "--model") || c.Running(id) {
		t.Errorf("Send to an endpoint with no models: %v", err)
	}
	if m, _ := empty.requests(); len(m) != 0 {
		t.Errorf("a chat request went out without a model: %v", m)
	}
	if n := len(e.messages(id)); n != 0 {
		t.Errorf("%d messages saved for a send that could not start", n)
	}
}

func TestListModelsIsCachedPerEndpoint(t *testing.T) {
	e := newEnv(t)
	first := newModelServer(t, "x", "b", "a")
	second := newModelServer(t, "x", "z")
	a := e.agent(first.base(), func(c *Config) {
		c.Endpoints = []NamedEndpoint{{Name: "second", Endpoint: Endpoint{BaseURL: second.base()}}}
	})
	ctx := context.Background()
	for range 3 {
		if got, err := a.ListModels(ctx, "", false); err != nil || strings.Join(got, ",") != "a,b" {
			t.Fatalf("ListModels = %v, %v", got, err)
		}
	}
	if n := first.listings(); n != 1 {
		t.Errorf("three listings asked the endpoint %d times, want once", n)
	}
	first.mu.Lock()
	first.models = []string{"c"}
	first.mu.Unlock()
	if got, _ := a.ListModels(ctx, "", true); strings.Join(got, ",") != "c" || first.listings() != 2 {
		t.Errorf("refresh: %v after %d listings", got, first.listings())
	}
	if got, err := a.ListModels(ctx, "second", false); err != nil || strings.Join(got, ",") != "z" || second.listings() != 1 {
		t.Errorf("another endpoint's models: %v, %v", got, err)
	}
	if a.Endpoint().Name != "" {
		t.Error("listing another endpoint's models switched to it")
	}
	if _, err := a.ListModels(ctx, "nope", false); !errors.Is(err, ErrUnknownEndpoint) {
		t.Errorf("unknown endpoint: %v", err)
	}
}

func TestOfflineIsTheStartUpEndpoint(t *testing.T) {
	e := newEnv(t)
	srv := newModelServer(t, "real", "m")
	a := e.agent("", func(c *Config) {
		c.Endpoints = []NamedEndpoint{{Name: "real", Endpoint: Endpoint{BaseURL: srv.base(), Model: "m"}}}
	})
	if !a.Offline() || a.Endpoints()[0].Label() != "offline demo" || a.Endpoints()[0].KeySet {
		t.Fatalf("offline start: %+v", a.Endpoints())
	}
	if err := a.SetEndpoint("real"); err != nil || a.Offline() {
		t.Fatalf("switch to a real endpoint: %v, offline %v", err, a.Offline())
	}
	if err := a.SetEndpoint(""); err != nil || !a.Offline() || a.Model() == "" {
		t.Fatalf("back to the demo: %v, offline %v, model %q", err, a.Offline(), a.Model())
	}
	// A session of the demo model resumes on the demo model, not on
	// whatever spindle started with another time.
	if ep, _, ok := a.SessionRoute(store.Session{Endpoint: "@offline", Model: "spindle-demo"}); !ok || ep != "" {
		t.Errorf("SessionRoute(@offline) = %q %v", ep, ok)
	}
}

// TestEnvironmentKeysReachOnlyTheirEndpoint: with OPENAI_API_KEY,
// OPENAI_ADMIN_KEY and OPENAI_ORG_ID set, a named endpoint without a key of
// its own gets no Authorization and no organisation header, and the
// start-up endpoint gets its own key, never the admin key. The control: a
// plain openai-go client in the same environment sends the environment's
// key to the same server.
func TestEnvironmentKeysReachOnlyTheirEndpoint(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-env-SECRET-api-000000")
	t.Setenv("OPENAI_ADMIN_KEY", "sk-admin-SECRET-000000")
	t.Setenv("OPENAI_ORG_ID", "org-env-000000")
	e := newEnv(t)
	first := newModelServer(t, "from first", "m1")
	local := newModelServer(t, "from local", "llama")
	a := e.agent(first.base(), func(c *Config) {
		c.Endpoints = []NamedEndpoint{{Name: "local", Endpoint: Endpoint{BaseURL: local.base(), Model: "llama"}}}
	})
	id := e.session()
	if r := sendAndWait(t, a, id, "one"); r.text != "from first" {
		t.Fatalf("the start-up endpoint: %q", r.text)
	}
	if err := a.SetEndpoint("local"); err != nil {
		t.Fatal(err)
	}
	if r := sendAndWait(t, a, id, "two"); r.text != "from local" {
		t.Fatalf("the named endpoint: %q", r.text)
	}
	_, auths := first.requests()
	if len(auths) != 1 || auths[0] != "Bearer sk-test-SECRET-KEY-1234" {
		t.Errorf("the start-up endpoint got Authorization %q, want its own key", auths)
	}
	local.mu.Lock()
	h := local.headers[0]
	local.mu.Unlock()
	if got := h.Get("Authorization"); got != "" {
		t.Errorf("the named endpoint without a key got Authorization %q", got)
	}
	if got := h.Get("OpenAI-Organization"); got != "" {
		t.Errorf("the named endpoint got OpenAI-Organization %q", got)
	}

	// Only the admin key in the environment: still nothing.
	t.Setenv("OPENAI_API_KEY", "")
	if r := sendAndWait(t, a, id, "three"); r.text != "from local" {
		t.Fatalf("the named endpoint: %q", r.text)
	}
	local.mu.Lock()
	h = local.headers[1]
	local.mu.Unlock()
	if got := h.Get("Authorization"); got != "" {
		t.Errorf("with only OPENAI_ADMIN_KEY set, the named endpoint got Authorization %q", got)
	}
	t.Setenv("OPENAI_API_KEY", "sk-env-SECRET-api-000000")

	// The control: the environment is live.
	plain := openai.NewClient(option.WithBaseURL(local.base()), option.WithMaxRetries(0))
	_, _ = plain.Models.List(context.Background())
	_, _ = plain.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "llama",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	local.mu.Lock()
	defer local.mu.Unlock()
	if n := len(local.headers); n != 3 || local.headers[2].Get("Authorization") != "Bearer sk-env-SECRET-api-000000" ||
		local.headers[2].Get("OpenAI-Organization") != "org-env-000000" {
		t.Errorf("control: a plain client's request (%d) did not carry the environment's key and organisation", n)
	}
}
