package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/keymap"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/tui/internal/tuitest"
	"github.com/spindle-sh/spindle/tui/theme"
)

// endpointServer is a loopback OpenAI-compatible endpoint: GET /v1/models
// lists its models, POST /v1/chat/completions streams a short reply and
// records the model the request named.
type endpointServer struct {
	*httptest.Server
	models []string
	reply  string

	mu     sync.Mutex
	asked  []string // the model of each chat request
	listed int      // GET /v1/models requests
}

func newEndpointServer(t testing.TB, reply string, models ...string) *endpointServer {
	t.Helper()
	es := &endpointServer{models: models, reply: reply}
	es.Server = httptest.NewServer(http.HandlerFunc(es.serve))
	t.Cleanup(es.Close)
	return es
}

func (es *endpointServer) base() string { return es.URL + "/v1" }

func (es *endpointServer) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/models":
		es.mu.Lock()
		es.listed++
		es.mu.Unlock()
		data := []map[string]any{}
		for _, m := range es.models {
			data = append(data, map[string]any{"id": m, "object": "model", "created": 1, "owned_by": "test"})
		}
		b, _ := json.Marshal(map[string]any{"object": "list", "data": data})
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	case "/v1/chat/completions":
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Model string `json:"model"`
		}
		json.Unmarshal(body, &req)
		es.mu.Lock()
		es.asked = append(es.asked, req.Model)
		es.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		f, _ := w.(http.Flusher)
		chunk := func(delta, finish string) {
			fin := "null"
			if finish != "" {
				fin = `"` + finish + `"`
			}
			fmt.Fprintf(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":%q,"choices":[{"index":0,"delta":%s,"logprobs":null,"finish_reason":%s}]}`+"\n\n", req.Model, delta, fin)
			f.Flush()
		}
		text, _ := json.Marshal(es.reply)
		chunk(`{"role":"assistant","content":""}`, "")
		chunk(`{"content":`+string(text)+`}`, "")
		chunk(`{}`, "stop")
		fmt.Fprint(w, "data: [DONE]\n\n")
		f.Flush()
	default:
		http.NotFound(w, r)
	}
}

// requests returns the models the chat requests named, and how often the
// models were listed.
func (es *endpointServer) requests() ([]string, int) {
	es.mu.Lock()
	defer es.mu.Unlock()
	return append([]string(nil), es.asked...), es.listed
}

// realHarness drives the root model over the real agent (against cfg's
// endpoint) and real stores; cont is --continue.
func realHarness(t *testing.T, cfg agent.Config, w, h int, cont bool, st *store.State, b *store.Board) (*harness, *agent.Agent) {
	t.Helper()
	if st == nil {
		st, b = tuitest.OpenStores(t)
	}
	cfg.State, cfg.Board = st, b
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ag, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ag.Close() })
	hs := &harness{t: t, state: st, board: b, pump: tuitest.NewPump(t)}
	hs.m = New(Options{Agent: ag, Sessions: st, Board: b, Keys: keymap.Default(), Palette: theme.Default(), Continue: cont})
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	return hs, ag
}

// sendAndWait types a message, sends it, and waits for its turn to end.
func (h *harness) sendAndWait(text string) {
	h.t.Helper()
	h.typeText(text)
	h.key(enter)
	h.until(func(msg tea.Msg) bool {
		return typeName(msg) == "chat.turnStartedMsg" || typeName(msg) == "chat.turnFailedMsg"
	})
	deadline := time.Now().Add(20 * time.Second)
	for h.m.chat.Running() > 0 {
		if time.Now().After(deadline) {
			h.t.Fatalf("the turn did not end:\n%s", h.screen())
		}
		h.untilChat()
	}
}

// picker opens the model picker and waits for the endpoint's models.
func (h *harness) picker() *modelsOverlay {
	h.t.Helper()
	h.command("/model")
	untilMsg[modelsListedMsg](h)
	o, ok := h.top().(*modelsOverlay)
	if !ok {
		h.t.Fatalf("/model opened %T", h.top())
	}
	return o
}

// TestModelPickerAgainstALoopbackEndpoint: the picker shows what the
// endpoint lists (asked once, asked again on refresh), marks the model in
// use; choosing another makes the next request name it (checked at the
// server) and the status bar say it; a name the endpoint did not list is
// used with a warning; the session remembers its model, and resuming it
// later uses that model again.
func TestModelPickerAgainstALoopbackEndpoint(t *testing.T) {
	srv := newEndpointServer(t, "Hello from the loopback.", "alpha-1", "beta-2", "gamma-3")
	h, ag := realHarness(t, agent.Config{BaseURL: srv.base(), APIKey: "sk-loopback", Model: "alpha-1"}, 120, 40, false, nil, nil)

	o := h.picker()
	screen := h.screen()
	for _, want := range []string{"alpha-1", "beta-2", "gamma-3", "● in use"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the picker lacks %q:\n%s", want, screen)
		}
	}
	if s, _ := o.row(); s != "alpha-1" {
		t.Errorf("the cursor starts on %q, want the model in use", s)
	}
	if strings.Contains(h.statusBar(), "gamma-3") {
		t.Fatalf("the status bar names gamma-3 before it was chosen: %q", h.statusBar())
	}
	h.typeText("gam")
	h.key(enter)
	if len(h.m.overlays) != 0 || ag.Model() != "gamma-3" {
		t.Fatalf("after choosing: overlays %d, model %q", len(h.m.overlays), ag.Model())
	}
	if !strings.Contains(h.statusBar(), "gamma-3") {
		t.Errorf("the status bar does not name the model: %q", h.statusBar())
	}
	h.sendAndWait("hello")
	asked, listed := srv.requests()
	if len(asked) != 1 || asked[0] != "gamma-3" {
		t.Fatalf("the server was asked for %v, want gamma-3", asked)
	}
	first := h.m.chat.Session().ID
	if s, _ := h.state.Session(context.Background(), first); s.Model != "gamma-3" {
		t.Errorf("the session remembers model %q", s.Model)
	}

	// The list is kept: opening the picker again does not ask; refresh
	// does.
	h.picker()
	if _, n := srv.requests(); n != listed {
		t.Errorf("reopening the picker listed the models again (%d → %d)", listed, n)
	}
	h.key(tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl})
	untilMsg[modelsListedMsg](h)
	if _, n := srv.requests(); n != listed+1 {
		t.Errorf("refresh did not ask the endpoint (%d → %d)", listed, n)
	}

	// A name the endpoint does not list: used, with a warning.
	h.typeText("delta-4")
	if !strings.Contains(h.screen(), "use “delta-4”, which the endpoint did not list") {
		t.Fatalf("no row for the typed name:\n%s", h.screen())
	}
	h.key(enter)
	if !strings.Contains(h.screen(), "did not list it") || ag.Model() != "delta-4" {
		t.Fatalf("no warning in the transcript (model %q):\n%s", ag.Model(), h.screen())
	}
	h.until(func(msg tea.Msg) bool { _, ok := msg.(sessionRouteSavedMsg); return ok })
	if s, _ := h.state.Session(context.Background(), first); s.Model != "delta-4" {
		t.Errorf("the choice was not remembered at once: %q", s.Model)
	}
	h.sendAndWait("and now?")
	if asked, _ := srv.requests(); asked[len(asked)-1] != "delta-4" {
		t.Errorf("the server was asked for %v", asked)
	}

	// A new session with another model; resuming the first one uses
	// delta-4 again, and says so.
	h.command("/new")
	h.command("/model beta-2")
	h.sendAndWait("in the second session")
	h.command(fmt.Sprintf("/resume %d", first))
	h.untilChat()
	h.until(func(msg tea.Msg) bool { return typeName(msg) == "chat.SessionShownMsg" })
	if ag.Model() != "delta-4" || !strings.Contains(h.screen(), "Using delta-4 again") {
		t.Fatalf("resuming did not use the session's model (%q):\n%s", ag.Model(), h.screen())
	}
	h.sendAndWait("back again")
	if asked, _ := srv.requests(); asked[len(asked)-1] != "delta-4" || asked[len(asked)-2] != "beta-2" {
		t.Errorf("the server was asked for %v", asked)
	}
}

// row is the model under the cursor, and whether it is the typed name.
func (o *modelsOverlay) row() (string, bool) {
	if o.cursor < len(o.shown) {
		return o.shown[o.cursor], false
	}
	return o.custom, true
}

// TestModelPickerSwitchesEndpoints: Tab shows another configured
// endpoint's models; choosing one sends the next request there, with that
// endpoint's key, and the status bar names the endpoint.
func TestModelPickerSwitchesEndpoints(t *testing.T) {
	first := newEndpointServer(t, "from first", "m1")
	second := newEndpointServer(t, "from second", "s1", "s2")
	h, ag := realHarness(t, agent.Config{BaseURL: first.base(), Model: "m1",
		Endpoints: []agent.NamedEndpoint{{Name: "second", Endpoint: agent.Endpoint{BaseURL: second.base(), Model: "s1"}}}}, 80, 24, false, nil, nil)
	h.picker()
	if !strings.Contains(h.screen(), " default ") || !strings.Contains(h.screen(), " second ") {
		t.Fatalf("the endpoints are not shown:\n%s", h.screen())
	}
	h.key(tab)
	untilMsg[modelsListedMsg](h)
	if s := h.screen(); !strings.Contains(s, "  s2") || strings.Contains(s, "  m1") {
		t.Fatalf("Tab did not show the second endpoint's models:\n%s", s)
	}
	if ag.Endpoint().Name != "" {
		t.Fatal("showing another endpoint's models switched to it")
	}
	h.key(tea.KeyPressMsg{Code: tea.KeyDown})
	h.key(enter)
	if ag.Endpoint().Name != "second" || ag.Model() != "s2" || !strings.Contains(h.statusBar(), "second · s2") {
		t.Fatalf("after choosing: endpoint %q model %q, status %q", ag.Endpoint().Name, ag.Model(), h.statusBar())
	}
	h.sendAndWait("hello")
	if asked, _ := second.requests(); len(asked) != 1 || asked[0] != "s2" {
		t.Errorf("the second endpoint was asked for %v", asked)
	}
	if asked, _ := first.requests(); len(asked) != 0 {
		t.Errorf("the first endpoint was asked for %v", asked)
	}
}

// TestNoModelConfiguredIsSaid: a real endpoint with no model configured:
// the first model it lists is used, and the transcript says which, also
// when --continue loads the last session after the note was added (a
// load replaces the transcript). The status bar names the model.
func TestNoModelConfiguredIsSaid(t *testing.T) {
	srv := newEndpointServer(t, "hi", "first-listed", "another")
	st, b := tuitest.OpenStores(t)
	addSession(t, st, "earlier", store.SessionChat, "an earlier question", "an earlier answer")

	h, ag := realHarness(t, agent.Config{BaseURL: srv.base()}, 120, 40, true, st, b)
	// The model's answer first, then the session: the order in which the
	// note would be lost. A plain note added then is lost (the negative
	// control: the load does replace the transcript).
	h.m.chat.AddNote("a plain note")
	resolved := h.m.resolveModel()()
	h.send(resolved)
	if ag.Model() != "first-listed" {
		t.Fatalf("model %q, want the first listed", ag.Model())
	}
	h.pump.Run(h.m.chat.Init())
	h.untilChat()
	screen := h.screen()
	if !strings.Contains(screen, "an earlier answer") || !strings.Contains(screen, "spindle uses first-listed, the first model") {
		t.Fatalf("after --continue the note or the session is missing:\n%s", screen)
	}
	if strings.Contains(screen, "a plain note") {
		t.Fatalf("negative control: the load kept a plain note, so the check above proves nothing:\n%s", screen)
	}
	if !strings.Contains(h.statusBar(), "first-listed") {
		t.Errorf("status bar %q", h.statusBar())
	}
	h.sendAndWait("hello")
	if asked, _ := srv.requests(); len(asked) != 1 || asked[0] != "first-listed" {
		t.Errorf("the server was asked for %v", asked)
	}
}

// TestModelPickerReachesEveryModel: at 80×24, with more models than rows,
// moving down shows every model in turn, and End reaches the last.
func TestModelPickerReachesEveryModel(t *testing.T) {
	h := newHarness(t, 80, 24)
	var models []string
	for i := range 60 {
		models = append(models, fmt.Sprintf("model-%02d", i))
	}
	h.ag.SetEndpoints([]agent.EndpointInfo{{Model: "model-00", BaseURL: "http://127.0.0.1:1/v1"}}, map[string][]string{"": models})
	o := h.picker()
	for i, want := range models {
		if got, _ := o.row(); got != want || !strings.Contains(h.screen(), "› "+want) {
			t.Fatalf("row %d: cursor on %q, want %q on screen:\n%s", i, got, want, h.screen())
		}
		h.key(tea.KeyPressMsg{Code: tea.KeyDown})
	}
	h.key(tea.KeyPressMsg{Code: tea.KeyHome})
	h.key(tea.KeyPressMsg{Code: tea.KeyEnd})
	if !strings.Contains(h.screen(), "› model-59") {
		t.Fatalf("End:\n%s", h.screen())
	}
}

// TestModelPickerListFailure: an endpoint that cannot list its models
// still lets the person type a name.
func TestModelPickerListFailure(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.ag.ListErr = fmt.Errorf("404 Not Found: no /v1/models here")
	h.picker()
	if !strings.Contains(h.screen(), "could not list the models: 404 Not Found") {
		t.Fatalf("the error is not shown:\n%s", h.screen())
	}
	h.typeText("my-model")
	h.key(enter)
	if h.ag.Model() != "my-model" {
		t.Errorf("model %q", h.ag.Model())
	}
}

func TestGoldenModels(t *testing.T) {
	eps := []agent.EndpointInfo{
		{BaseURL: "https://api.example.test/v1", Model: "gpt-large", KeySet: true},
		{Name: "local", BaseURL: "http://127.0.0.1:11434/v1", Model: "llama3.2"},
		{Name: "router", BaseURL: "https://router.example.test/api/v1", KeySet: true},
	}
	lists := map[string][]string{
		"":       {"gpt-large", "gpt-small", "o-mini", "text-embedding-3", "whisper-1"},
		"local":  {"llama3.2", "qwen2.5-coder:7b"},
		"router": {"anthropic/claude-sonnet", "google/gemini-flash", "meta/llama-70b"},
	}
	tests := []struct {
		name string
		w, h int
		run  func(h *harness)
	}{
		{"open_120x40", 120, 40, func(h *harness) { h.picker() }},
		{"open_80x24", 80, 24, func(h *harness) { h.picker() }},
		{"filtered_80x24", 80, 24, func(h *harness) {
			h.picker()
			h.typeText("gpt")
		}},
		{"unlisted_name_80x24", 80, 24, func(h *harness) {
			h.picker()
			h.typeText("gpt-5-preview")
		}},
		{"other_endpoint_120x40", 120, 40, func(h *harness) {
			h.picker()
			h.key(tab)
			untilMsg[modelsListedMsg](h)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.w, tc.h)
			h.ag.SetEndpoints(eps, lists)
			tc.run(h)
			checkScreen(t, h.m)
		})
	}
}

// TestDialogsFromThePalette: both dialogs open from the command palette;
// F1 shows every key on top of a dialog, and Esc comes back to it.
func TestDialogsFromThePalette(t *testing.T) {
	h := newHarness(t, 120, 40)
	for _, tc := range []struct {
		query string
		want  func(overlay) bool
	}{
		{"/model", func(o overlay) bool { _, ok := o.(*modelsOverlay); return ok }},
		{"/sessions", func(o overlay) bool { _, ok := o.(*sessionsOverlay); return ok }},
	} {
		h.key(tea.KeyPressMsg{Code: 'p', Mod: tea.ModCtrl})
		h.typeText(tc.query)
		h.key(enter)
		h.until(func(msg tea.Msg) bool { _, ok := msg.(paletteChoseMsg); return ok })
		if !tc.want(h.top()) {
			t.Fatalf("the palette's %s opened %T", tc.query, h.top())
		}
		h.settle()
		if _, ok := h.top().(*modelsOverlay); ok {
			untilMsg[modelsListedMsg](h)
		}
		h.key(tea.KeyPressMsg{Code: tea.KeyF1})
		if _, ok := h.top().(*helpOverlay); !ok || !strings.Contains(h.screen(), "Session browser") {
			t.Fatalf("F1 in %s:\n%s", tc.query, h.screen())
		}
		h.key(esc)
		if !tc.want(h.top()) {
			t.Fatalf("Esc from the help did not come back to %s", tc.query)
		}
		h.key(esc)
		if len(h.m.overlays) != 0 {
			t.Fatalf("Esc did not close %s", tc.query)
		}
	}
}
