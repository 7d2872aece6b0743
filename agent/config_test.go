package agent

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spindle-sh/spindle/config"
)

func TestResolveEndpointPrecedence(t *testing.T) {
	file := config.File{BaseURL: "https://file.example/v1", Model: "file-model", APIKey: "file-key"}
	env := map[string]string{EnvBaseURL: "https://env.example/v1", EnvAPIKey: "env-key", EnvModel: "env-model"}
	getenv := func(k string) string { return env[k] }
	none := func(string) string { return "" }
	cases := []struct {
		name             string
		flagURL, flagMod string
		file             config.File
		getenv           func(string) string
		want             Endpoint
	}{
		{"flags win", "https://flag.example/v1", "flag-model", file, getenv, Endpoint{"https://flag.example/v1", "env-key", "flag-model"}},
		{"env next", "", "", file, getenv, Endpoint{"https://env.example/v1", "env-key", "env-model"}},
		{"file last", "", "", file, none, Endpoint{"https://file.example/v1", "file-key", "file-model"}},
		{"nothing: offline", "", "", config.File{}, none, Endpoint{}},
		{"endpoint without model", "http://localhost:11434/v1", "", config.File{}, none, Endpoint{"http://localhost:11434/v1", "", ""}},
		{"blank values skipped", " ", "", file, func(k string) string { return "  " }, Endpoint{"https://file.example/v1", "file-key", "file-model"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ResolveEndpoint(tc.flagURL, tc.flagMod, tc.file, tc.getenv); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestResolveEndpointFromConfigFile reads a real config.toml and mixes the
// sources field by field: each field takes its own highest source.
func TestResolveEndpointFromConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	doc := "base_url = \"https://file.example/v1\"\nmodel = \"file-model\"\napi_key = \"file-key\"\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name             string
		flagURL, flagMod string
		env              map[string]string
		want             Endpoint
	}{
		{"flag URL, env model, file key", "https://flag.example/v1", "", map[string]string{EnvModel: "env-model"},
			Endpoint{"https://flag.example/v1", "file-key", "env-model"}},
		{"env URL, flag model, env key", "", "flag-model", map[string]string{EnvBaseURL: "https://env.example/v1", EnvAPIKey: "env-key"},
			Endpoint{"https://env.example/v1", "env-key", "flag-model"}},
		{"file only", "", "", nil, Endpoint{"https://file.example/v1", "file-key", "file-model"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ResolveEndpoint(tc.flagURL, tc.flagMod, file, func(k string) string { return tc.env[k] })
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestEndpointNeverShowsKey formats an Endpoint every way it is likely to
// be printed or logged.
func TestEndpointNeverShowsKey(t *testing.T) {
	e := Endpoint{BaseURL: "https://x.example/v1", APIKey: "sk-VERY-SECRET", Model: "m"}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("endpoint", "ep", e)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("endpoint", "ep", e)
	for _, s := range []string{fmt.Sprint(e), fmt.Sprintf("%v %+v %#v %s", e, e, e, e), e.String(), logged.String()} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("key shown: %s", s)
		}
	}
	// Negative control: the raw struct does print it.
	type raw Endpoint
	if !strings.Contains(fmt.Sprintf("%+v", raw(e)), "SECRET") {
		t.Fatal("the check above cannot see a key")
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{Base: 100 * time.Millisecond, Max: time.Second}
	for attempt, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		want *= time.Millisecond
		for _, j := range []float64{0, 0.5, 0.999} {
			b.Jitter = func() float64 { return j }
			d := b.Delay(attempt, 0)
			if d < want/2 || d >= want {
				t.Errorf("attempt %d jitter %v: %s not in [%s, %s)", attempt, j, d, want/2, want)
			}
		}
	}
	b.Jitter = nil
	seen := map[time.Duration]bool{}
	for i := 0; i < 20; i++ {
		seen[b.Delay(2, 0)] = true
	}
	if len(seen) < 2 {
		t.Error("no jitter")
	}
	if d := b.Delay(0, 700*time.Millisecond); d != 700*time.Millisecond {
		t.Errorf("Retry-After not honoured: %s", d)
	}
	if d := b.Delay(0, time.Hour); d != time.Second {
		t.Errorf("Retry-After not bounded: %s", d)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(10 * time.Second).Format(http.TimeFormat)}}, 10 * time.Second},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"Retry-After": {"-1"}}, 0},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond},
		{nil, 0},
	}
	for _, tc := range cases {
		if got := retryAfter(tc.h, now); got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.h, got, tc.want)
		}
	}
}

func TestTitleFrom(t *testing.T) {
	cases := map[string]string{
		"  hello   world \nsecond line": "hello world",
		"":                              "untitled",
		strings.Repeat("word ", 30):     "word word word word word word word word word…",
		strings.Repeat("é", 60):         strings.Repeat("é", 48) + "…",
	}
	for in, want := range cases {
		if got := TitleFrom(in); got != want {
			t.Errorf("TitleFrom(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDoneWatch(t *testing.T) {
	cases := map[string]bool{
		"data: [DONE]\n\n":                                       true,
		"data:[DONE]\r\n":                                        true,
		"data: {\"x\":1}\n\ndata: [DONE]\n":                      true,
		"data: {\"content\":\"data: [DONE]\"}\n\n":               false,
		"data: [DONE] and more\n":                                false,
		"data: [DONE]":                                           false, // no line end: never dispatched
		"data: {\"content\":\"[DONE]\"}\n\n":                     false,
		": comment\ndata: [DO" + "NE]\n":                         true,
		strings.Repeat("x", 100) + "data: [DONE]\n":              false,
		"data: " + strings.Repeat("x", 100) + "\n\n":             false,
		"data: " + strings.Repeat("y", 100) + "\ndata: [DONE]\n": true,
	}
	for in, want := range cases {
		// Feed it in every split, to cover reads that cut a line.
		for cut := 0; cut <= len(in); cut++ {
			w := &doneWatch{}
			w.scan([]byte(in[:cut]))
			w.scan([]byte(in[cut:]))
			if w.seen != want {
				t.Errorf("%q cut at %d: seen %v, want %v", in, cut, w.seen, want)
				break
			}
		}
	}
}
