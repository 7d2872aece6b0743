package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/spindle-sh/spindle/agent/offline"
	"github.com/spindle-sh/spindle/config"
	"github.com/spindle-sh/spindle/store"
	"github.com/spindle-sh/spindle/transport"
)

// Endpoints. The agent talks to one endpoint at a time: the one it was
// started with (flags, then environment, then the file's base_url; the
// offline demo model when none is set) or one of the file's named
// [endpoints.NAME] tables. SetEndpoint switches for the turns that start
// after it; a turn keeps the endpoint it started with (turn.route), so a
// switch never changes where a running request's retries or tool rounds
// go. Keys are held here and in the owner's requests only: EndpointInfo,
// the log and errors never carry one.

// NamedEndpoint is one [endpoints.NAME] table, its key read from the
// environment variable the table names.
type NamedEndpoint struct {
	Name string
	Endpoint
}

// NamedEndpoints reads the configuration's named endpoints, sorted by
// name; getenv (os.Getenv outside tests) supplies each one's key.
func NamedEndpoints(file config.File, getenv func(string) string) []NamedEndpoint {
	var out []NamedEndpoint
	for _, name := range slices.Sorted(maps.Keys(file.Endpoints)) {
		e := file.Endpoints[name]
		key := ""
		if e.APIKeyEnv != "" {
			key = strings.TrimSpace(getenv(e.APIKeyEnv))
		}
		out = append(out, NamedEndpoint{Name: name, Endpoint: Endpoint{
			BaseURL: strings.TrimSpace(e.BaseURL), APIKey: key, Model: strings.TrimSpace(e.Model),
		}})
	}
	return out
}

// EndpointInfo describes an endpoint the agent can use, without its key.
type EndpointInfo struct {
	// Name is the configuration's name for it; "" for the one spindle was
	// started with.
	Name    string
	BaseURL string
	// Model is the model it is configured with ("" when none is: the
	// first one it lists is used).
	Model   string
	Offline bool // the built-in demo model
	KeySet  bool
	Current bool // requests go here now
}

// Label is how a person is shown the endpoint: its name, or what the
// start-up one is.
func (e EndpointInfo) Label() string {
	switch {
	case e.Name != "":
		return e.Name
	case e.Offline:
		return "offline demo"
	}
	return "default"
}

// route is where a request goes: an endpoint's URL, key and TLS roots, and
// the model it is configured with.
type route struct {
	name      string
	baseURL   string
	apiKey    string
	tlsConfig *tls.Config
	model     string
	offline   bool
}

// key names the route in a session's record (store.Session.Endpoint): a
// named endpoint by its name, the start-up one by "@" and its base URL
// ("@offline" for the demo model, whose address changes every run), since
// what spindle starts with may differ from one run to the next.
func (r route) key() string {
	switch {
	case r.name != "":
		return r.name
	case r.offline:
		return "@offline"
	}
	return "@" + r.baseURL
}

func (r route) info(current bool) EndpointInfo {
	return EndpointInfo{Name: r.name, BaseURL: r.baseURL, Model: r.model, Offline: r.offline, KeySet: r.apiKey != "" && !r.offline, Current: current}
}

// initEndpoints sets up the start-up route (starting the offline demo model
// when no base URL is configured) and the named ones. A named endpoint
// whose base URL cannot work is left out with a warning; the start-up one
// is an error, as before there were names.
func (a *Agent) initEndpoints(cfg Config) error {
	start := route{baseURL: strings.TrimSpace(cfg.BaseURL), apiKey: cfg.APIKey, model: strings.TrimSpace(cfg.Model)}
	if start.baseURL == "" {
		srv, err := offline.Start(offline.Options{TokenDelay: cfg.OfflineTokenDelay, Logger: a.log})
		if err != nil {
			return fmt.Errorf("agent: start the offline demo model: %w", err)
		}
		a.srv = srv
		start = route{baseURL: srv.BaseURL(), apiKey: offlineKey, model: offline.ModelName, offline: true,
			tlsConfig: &tls.Config{RootCAs: srv.RootCAs(), MinVersion: tls.VersionTLS12}}
	} else if err := checkBaseURL(start.baseURL); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	a.routes = []route{start}
	for _, e := range cfg.Endpoints {
		if e.Name == "" {
			continue
		}
		if err := checkBaseURL(e.BaseURL); err != nil {
			a.log.Warn("agent: endpoint left out", "endpoint", e.Name, "err", err)
			continue
		}
		a.routes = append(a.routes, route{name: e.Name, baseURL: e.BaseURL, apiKey: e.APIKey, model: e.Model})
	}
	a.route, a.model = start, start.model
	a.modelCache = map[string][]string{}
	return nil
}

// Endpoints lists the endpoints the agent can switch to: the start-up one
// first, then the named ones by name.
func (a *Agent) Endpoints() []EndpointInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]EndpointInfo, len(a.routes))
	for i, r := range a.routes {
		out[i] = r.info(r.name == a.route.name)
	}
	return out
}

// Endpoint describes the endpoint the next turn goes to.
func (a *Agent) Endpoint() EndpointInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.route.info(true)
}

// ErrUnknownEndpoint is SetEndpoint's error for a name the configuration
// does not have (any more).
var ErrUnknownEndpoint = errors.New("no such endpoint")

// SetEndpoint sends the turns that start after it to the named endpoint
// ("" is the start-up one), with the model it is configured with. When it
// has none, Model is "" until SetModel or ResolveModel sets one (a Send
// before that resolves it itself). Running turns are not affected.
func (a *Agent) SetEndpoint(name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.routes {
		if r.name == name {
			if r.name != a.route.name {
				a.log.Info("agent: endpoint switched", "endpoint", r.info(true).Label(), "base_url", r.baseURL, "model", r.model)
			}
			a.route, a.model = r, r.model
			return nil
		}
	}
	return fmt.Errorf("agent: set endpoint %q: %w", name, ErrUnknownEndpoint)
}

// Offline reports whether the next turn goes to the built-in demo model.
func (a *Agent) Offline() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.route.offline
}

// BaseURL is the endpoint the next turn goes to (the offline server's when
// Offline).
func (a *Agent) BaseURL() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.route.baseURL
}

// ListModels is the named endpoint's models ("" is the start-up one),
// sorted, from GET /v1/models the first time and from a cache after that,
// until refresh asks again. Errors are not cached.
func (a *Agent) ListModels(ctx context.Context, endpoint string, refresh bool) ([]string, error) {
	a.mu.Lock()
	r, ok := a.findRoute(endpoint)
	cached, hit := a.modelCache[endpoint]
	a.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("agent: list models of %q: %w", endpoint, ErrUnknownEndpoint)
	}
	if hit && !refresh {
		return slices.Sorted(slices.Values(cached)), nil
	}
	ids, err := a.list(ctx, r)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.modelCache[endpoint] = ids
	a.mu.Unlock()
	return slices.Sorted(slices.Values(ids)), nil
}

// findRoute finds a route by name; the caller holds a.mu.
func (a *Agent) findRoute(name string) (route, bool) {
	for _, r := range a.routes {
		if r.name == name {
			return r, true
		}
	}
	return route{}, false
}

// ResolveModel makes sure the next turn names a model. When the endpoint
// has none configured it asks GET /v1/models and takes the first model the
// endpoint lists (not the first by name: servers that serve one model list
// it, and others list their default first), and returns it with picked
// set, so that the caller can say which it chose. An endpoint that lists
// no model, or cannot be asked, is an error, and nothing is set.
func (a *Agent) ResolveModel(ctx context.Context) (model string, picked bool, err error) {
	a.mu.Lock()
	r, model := a.route, a.model
	a.mu.Unlock()
	if model != "" {
		return model, false, nil
	}
	ids, err := a.list(ctx, r)
	if err != nil {
		return "", false, fmt.Errorf("agent: no model is configured for %s, and asking it failed: %w", hostOf(r.baseURL), err)
	}
	if len(ids) == 0 {
		return "", false, fmt.Errorf("agent: no model is configured for %s, and it lists none: set one with --model or SPINDLE_MODEL", hostOf(r.baseURL))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.modelCache[r.name] = ids
	if a.route.name != r.name || a.model != "" {
		// Switched, or set, meanwhile: that choice stands.
		return a.model, false, nil
	}
	a.model = ids[0]
	a.log.Info("agent: no model configured; using the endpoint's first", "endpoint", r.info(true).Label(), "model", a.model)
	return a.model, true, nil
}

// RememberRoute records in the session the endpoint and model the next
// turn will use, so that resuming the session later uses them again (a
// turn records its own when it starts; the model picker calls this at
// once).
func (a *Agent) RememberRoute(ctx context.Context, sessionID int64) error {
	a.mu.Lock()
	key, model := a.route.key(), a.model
	a.mu.Unlock()
	return a.cfg.State.SetSessionRoute(ctx, sessionID, key, model)
}

// rememberRoute is RememberRoute for a turn's route, written only when it
// changed. A failure is logged: the turn goes on.
func (a *Agent) rememberRoute(ctx context.Context, sessionID int64, r route, model string) {
	s, err := a.cfg.State.Session(ctx, sessionID)
	if err == nil && s.Endpoint == r.key() && s.Model == model {
		return
	}
	if err == nil {
		err = a.cfg.State.SetSessionRoute(ctx, sessionID, r.key(), model)
	}
	if err != nil {
		a.log.Warn("agent: remember the session's model", "session", sessionID, "err", err)
	}
}

// SessionRoute is the endpoint (its name, "" for the start-up one) and the
// model a stored session last used, if the agent can still use them: ok is
// false when the session has none recorded or that endpoint is not here
// now (no longer configured, or spindle started with another).
func (a *Agent) SessionRoute(s store.Session) (endpoint, model string, ok bool) {
	if s.Model == "" {
		return "", "", false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.routes {
		if r.key() == s.Endpoint {
			return r.name, s.Model, true
		}
	}
	return "", "", false
}

// list asks the route's endpoint for its models (GET /v1/models), in the
// order it lists them, from a socket owner of its own like a turn's.
func (a *Agent) list(ctx context.Context, r route) ([]string, error) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, ErrClosed
	}
	a.workers.Add(1)
	model := a.model
	a.mu.Unlock()

	type result struct {
		ids []string
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer a.workers.Done()
		o := transport.NewOwner(a.transportConfig(r, model))
		reason := transport.RequestComplete
		defer func() { o.Finish(reason) }()
		// Cancellation takes the same stranger-safe path as an interrupt.
		stopCtx := afterClose(ctx.Done(), func() { o.Abort(transport.InterruptAbort) })
		defer stopCtx()
		stopShutdown := afterClose(a.shutdown, func() { o.Abort(transport.ShutdownAbort) })
		defer stopShutdown()

		client := a.client(o, r)
		page, err := client.Models.List(context.Background())
		o.Reap()
		if reason0, aborted := o.Aborted(); aborted {
			reason = reason0
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			done <- result{err: fmt.Errorf("agent: list models: %w", errors.Join(ErrInterrupted, err))}
			return
		}
		if err != nil {
			reason = transport.RequestErrorCleanup
			done <- result{err: fmt.Errorf("agent: list models: %w", classify(err, false, r.baseURL, model, r.apiKey).err)}
			return
		}
		ids := make([]string, 0, len(page.Data))
		for _, m := range page.Data {
			if id := strings.TrimSpace(m.ID); id != "" {
				ids = append(ids, id)
			}
		}
		done <- result{ids: ids}
	}()
	res := <-done
	return res.ids, res.err
}

func (a *Agent) transportConfig(r route, model string) transport.Config {
	return transport.Config{BaseURL: r.baseURL, Model: model, Logger: a.log, TLSConfig: r.tlsConfig}
}

// client builds an openai-go client on the owner's http.Client. Retries are
// spindle's own (WithMaxRetries(0)), so that no hidden retry races an abort.
//
// The route's key is the only credential sent. openai-go's client also
// reads OPENAI_API_KEY and OPENAI_ADMIN_KEY from the environment, which
// would send them to an endpoint that has no key of its own (a named
// endpoint for a local server, say); a named endpoint does not get the
// OpenAI organisation and project headers from the environment either.
func (a *Agent) client(o *transport.Owner, r route) openai.Client {
	opts := []option.RequestOption{
		option.WithHTTPClient(o.Client()),
		option.WithBaseURL(r.baseURL),
		option.WithMaxRetries(0),
		option.WithAPIKey(r.apiKey),
		option.WithAdminAPIKey(""),
	}
	if r.name != "" {
		opts = append(opts, option.WithHeaderDel("OpenAI-Organization"), option.WithHeaderDel("OpenAI-Project"))
	}
	return openai.NewClient(opts...)
}
