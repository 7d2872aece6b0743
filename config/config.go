// Package config resolves spindle's directories and reads its configuration
// file. It imports nothing of spindle's own, so every other package may use it.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/adrg/xdg"
)

// File is the configuration read from $XDG_CONFIG_HOME/spindle/config.toml.
// Every field is optional; a zero value means the default, which the
// ...OrDefault methods apply. Flags and environment variables take
// precedence over the file. Load has validated every field but Keys.
type File struct {
	// BaseURL is an OpenAI-compatible endpoint, e.g. "https://api.openai.com/v1".
	BaseURL string `toml:"base_url"`
	// Model is the model name sent with each request.
	Model string `toml:"model"`
	// APIKey is accepted for convenience; OPENAI_API_KEY is preferred.
	APIKey string `toml:"api_key"`
	// StaleTimeout aborts a stream that sends no chunk for this long.
	StaleTimeout Duration `toml:"stale_timeout"`
	// Keys overrides key bindings: action name → keys, e.g.
	// "chat.send" = ["enter"]. The keymap package validates them.
	Keys map[string][]string `toml:"keys"`

	// MaxWorkers is how many cards the dispatcher works on at once
	// (0 = 2; 1 to 16, anything else is refused).
	MaxWorkers int `toml:"max_workers"`
	// ApprovalTimeout is how long a worker waits for an answer to an
	// approval request before the request counts as denied (0 = 10m).
	ApprovalTimeout Duration `toml:"approval_timeout"`
	// Allow and Deny are approval rules, "tool:pattern", e.g.
	// "bash:go test *" or "edit:docs/**". Deny rules win over Allow rules.
	Allow []string `toml:"allow"`
	Deny  []string `toml:"deny"`
	// Yolo runs every tool without asking. Deny rules still apply.
	Yolo bool `toml:"yolo"`
	// Theme is "auto" (the default: follow the terminal), "dark" or "light".
	Theme string `toml:"theme"`
	// Mouse turns mouse support on or off; nil means on.
	Mouse *bool `toml:"mouse"`
	// MaxReplyBytes bounds one reply from the model (0 = 4 MiB).
	MaxReplyBytes int64 `toml:"max_reply_bytes"`
	// MaxEventBytes bounds one streamed event (0 = 1 MiB).
	MaxEventBytes int64 `toml:"max_event_bytes"`
	// History says what to do when the conversation no longer fits the
	// context window: "drop" (the default) drops the oldest messages,
	// "summarise" replaces them with a summary.
	History string `toml:"history"`
	// Endpoints are named endpoints, [endpoints.NAME] tables.
	Endpoints map[string]Endpoint `toml:"endpoints"`
	// Models describes models by name, [models.NAME] tables.
	Models map[string]Model `toml:"models"`
}

// Endpoint is a named OpenAI-compatible endpoint. The key itself is never
// written in the file, only the name of the environment variable holding it.
type Endpoint struct {
	// BaseURL is required, e.g. "http://localhost:11434/v1".
	BaseURL string `toml:"base_url"`
	// APIKeyEnv names the environment variable that holds the key, e.g.
	// "OPENROUTER_API_KEY". Empty: no key.
	APIKeyEnv string `toml:"api_key_env"`
	// Model is the model asked for when none is named elsewhere.
	Model string `toml:"model"`
}

// Model is what spindle knows of a model: its size and its price.
type Model struct {
	// ContextWindow is the model's context window in tokens (0 = unknown).
	ContextWindow int `toml:"context_window"`
	// InputPrice and OutputPrice are in US dollars per million tokens.
	InputPrice  float64 `toml:"input_price"`
	OutputPrice float64 `toml:"output_price"`
}

// Defaults and limits of the settings, as the ...OrDefault methods apply them.
const (
	DefaultMaxWorkers      = 2
	MaxWorkersLimit        = 16
	DefaultApprovalTimeout = 10 * time.Minute
	DefaultMaxReplyBytes   = 4 << 20
	DefaultMaxEventBytes   = 1 << 20
)

// Values of File.Theme and File.History.
const (
	ThemeAuto  = "auto"
	ThemeDark  = "dark"
	ThemeLight = "light"

	HistoryDrop      = "drop"
	HistorySummarise = "summarise"
)

// MaxWorkersOrDefault is MaxWorkers, 2 if unset, and never more than 16
// (Load refuses a file that asks for more; this guards a File built in
// code).
func (f File) MaxWorkersOrDefault() int {
	switch {
	case f.MaxWorkers <= 0:
		return DefaultMaxWorkers
	case f.MaxWorkers > MaxWorkersLimit:
		return MaxWorkersLimit
	}
	return f.MaxWorkers
}

// ApprovalTimeoutOrDefault is ApprovalTimeout, 10 minutes if unset.
func (f File) ApprovalTimeoutOrDefault() time.Duration {
	if f.ApprovalTimeout.Duration <= 0 {
		return DefaultApprovalTimeout
	}
	return f.ApprovalTimeout.Duration
}

// ThemeOrDefault is Theme, ThemeAuto if unset.
func (f File) ThemeOrDefault() string {
	if f.Theme == "" {
		return ThemeAuto
	}
	return f.Theme
}

// MouseOrDefault is Mouse, true if unset.
func (f File) MouseOrDefault() bool { return f.Mouse == nil || *f.Mouse }

// MaxReplyBytesOrDefault is MaxReplyBytes, 4 MiB if unset.
func (f File) MaxReplyBytesOrDefault() int64 {
	if f.MaxReplyBytes <= 0 {
		return DefaultMaxReplyBytes
	}
	return f.MaxReplyBytes
}

// MaxEventBytesOrDefault is MaxEventBytes, 1 MiB if unset.
func (f File) MaxEventBytesOrDefault() int64 {
	if f.MaxEventBytes <= 0 {
		return DefaultMaxEventBytes
	}
	return f.MaxEventBytes
}

// HistoryOrDefault is History, HistoryDrop if unset.
func (f File) HistoryOrDefault() string {
	if f.History == "" {
		return HistoryDrop
	}
	return f.History
}

// AllowRules is Allow parsed. Load has checked every rule, so a File from
// Load has none to drop; a rule that does not parse is left out.
func (f File) AllowRules() []Rule { return parseRules(f.Allow) }

// DenyRules is Deny parsed, like AllowRules.
func (f File) DenyRules() []Rule { return parseRules(f.Deny) }

// Duration is a time.Duration written as "30s" in TOML.
type Duration struct{ time.Duration }

// durationError is UnmarshalText's error. It keeps the text so that Load
// can find the key it came from when the TOML decoder does not say.
type durationError struct{ text string }

func (e *durationError) Error() string {
	return fmt.Sprintf("%q is not a duration such as \"30s\" or \"10m\"", e.text)
}

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return &durationError{text: string(b)}
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Dir is spindle's configuration directory, $XDG_CONFIG_HOME/spindle.
func Dir() string { return filepath.Join(xdg.ConfigHome, "spindle") }

// Path is the configuration file's path.
func Path() string { return filepath.Join(Dir(), "config.toml") }

// Load reads the configuration file at path. A missing file is an empty
// configuration, not an error. Anything else that is wrong (not a regular
// file, larger than MaxFileSize, bad TOML, an unknown key, a bad value) is
// an error of one line that names the file and, where it can, the line and
// the key.
func Load(path string) (File, error) {
	return load(path, nil)
}

// load is Load with a hook that runs between the file's check and its
// open, for tests.
func load(path string, beforeOpen func()) (File, error) {
	b, err := readRegular(path, beforeOpen)
	if err != nil || b == nil {
		return File{}, err
	}
	var f File
	if err := decode(path, b, &f); err != nil {
		return File{}, err
	}
	if ps := f.problems(); len(ps) > 0 {
		return File{}, problemsError(path, b, ps)
	}
	return f, nil
}

// DataDir resolves the data directory: flag, else $SPINDLE_HOME, else
// $XDG_DATA_HOME/spindle (~/.local/share/spindle). It creates the
// directory with mode 0700 if it does not exist.
func DataDir(flag string) (string, error) {
	dir := flag
	if dir == "" {
		dir = os.Getenv("SPINDLE_HOME")
	}
	if dir == "" {
		dir = filepath.Join(xdg.DataHome, "spindle")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("config: create data directory: %w", err)
	}
	return dir, nil
}

// StateDir is $XDG_STATE_HOME/spindle, where the log file lives. It is
// created with mode 0700.
func StateDir() (string, error) {
	dir := filepath.Join(xdg.StateHome, "spindle")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("config: create state directory: %w", err)
	}
	return dir, nil
}

// LogPath is the log file's path inside StateDir.
func LogPath() string { return filepath.Join(xdg.StateHome, "spindle", "spindle.log") }
