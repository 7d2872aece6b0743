// Package config resolves spindle's directories and reads its configuration
// file. It imports nothing of spindle's own, so every other package may use it.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/adrg/xdg"
	"github.com/pelletier/go-toml/v2"
)

// File is the configuration read from $XDG_CONFIG_HOME/spindle/config.toml.
// Every field is optional; flags and environment variables take precedence.
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
	// "chat.send" = ["enter"].
	Keys map[string][]string `toml:"keys"`
}

// Duration is a time.Duration written as "30s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("config: duration %q: %w", b, err)
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
// configuration, not an error; a malformed one is an error naming the file.
func Load(path string) (File, error) {
	var f File
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("config: read %s: %w", path, err)
	}
	if err := toml.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("config: parse %s: %w", path, err)
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
