package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/spindle-sh/spindle/config"
)

// Environment variables read by ResolveEndpoint.
const (
	EnvBaseURL = "OPENAI_BASE_URL"
	EnvAPIKey  = "OPENAI_API_KEY"
	EnvModel   = "SPINDLE_MODEL"
)

// Endpoint is where requests go and with which credentials. Its String and
// LogValue methods never include the key, so an Endpoint can be logged or
// printed safely.
type Endpoint struct {
	BaseURL string // "" = the offline demo model
	APIKey  string
	Model   string // "": the first model the endpoint lists (offline: the demo model)
}

// ResolveEndpoint applies spindle's precedence: flags, then the environment
// (OPENAI_BASE_URL, OPENAI_API_KEY, SPINDLE_MODEL), then the configuration
// file. There is no flag for the key, on purpose: a flag would land in shell
// history and in the process list. No model named anywhere stays "": the
// agent then asks the endpoint which models it serves (ResolveModel) rather
// than guess one. getenv is os.Getenv outside tests.
func ResolveEndpoint(flagBaseURL, flagModel string, file config.File, getenv func(string) string) Endpoint {
	first := func(vs ...string) string {
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
		return ""
	}
	e := Endpoint{
		BaseURL: first(flagBaseURL, getenv(EnvBaseURL), file.BaseURL),
		APIKey:  first(getenv(EnvAPIKey), file.APIKey),
		Model:   first(flagModel, getenv(EnvModel), file.Model),
	}
	return e
}

// String describes the endpoint without its key.
func (e Endpoint) String() string {
	base := e.BaseURL
	if base == "" {
		base = "offline demo model"
	}
	key := "no key"
	if e.APIKey != "" {
		key = "key set"
	}
	return fmt.Sprintf("%s (model %q, %s)", base, e.Model, key)
}

// LogValue logs the endpoint without its key.
func (e Endpoint) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", e.BaseURL),
		slog.String("model", e.Model),
		slog.Bool("key_set", e.APIKey != ""),
	)
}

// GoString keeps %#v from printing the key.
func (e Endpoint) GoString() string { return e.String() }

// checkBaseURL rejects a base URL that cannot work before any request is
// made, with a message that says what is wrong with it.
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, which may hold credentials; keep only
		// the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("bad base URL: %v", oneLine(err.Error()))
	}
	// First, so that the messages below, which quote the URL, never
	// repeat a password.
	if u.User != nil {
		return fmt.Errorf("bad base URL: credentials in the URL are not supported; use OPENAI_API_KEY")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("bad base URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("bad base URL %q: no host", raw)
	}
	return nil
}
