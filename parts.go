package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spindle-sh/spindle/agent"
	"github.com/spindle-sh/spindle/agent/approval"
	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/agent/tool/files"
	"github.com/spindle-sh/spindle/agent/tool/shell"
	"github.com/spindle-sh/spindle/config"
	"github.com/spindle-sh/spindle/store"
)

// project is the directory the agent's file and shell tools work in, and
// the approval policy that guards them.
type project struct {
	root   string
	tools  []tool.Tool
	policy *approval.Policy
}

// openProject resolves the project directory (--cwd, else the working
// directory), builds its tools, and loads the approval rules: the config
// file's allow and deny, --yolo, and the project's saved "always" rules,
// which live in spindle's config directory, not in the project, so that a
// cloned repository cannot pre-approve its own commands.
func (a *app) openProject() (*project, error) {
	dir := a.cwd
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("project: working directory: %w", err)
		}
		dir = wd
	}
	p, err := files.NewProject(dir)
	if err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	policy, err := approval.New(p.Root(), approval.Config{
		Allow: a.cfg.Allow, Deny: a.cfg.Deny, Yolo: a.yolo || a.cfg.Yolo,
		SettingsPath: projectSettingsPath(p.Root()),
	})
	if err != nil {
		return nil, err
	}
	tools := append(p.Tools(), shell.New(p.Root()))
	return &project{root: p.Root(), tools: tools, policy: policy}, nil
}

// projectSettingsPath is where a project's "always allow" rules are kept:
// $XDG_CONFIG_HOME/spindle/projects/<name>-<hash of the path>.toml, a file
// the person can read, edit and delete (/permissions shows it).
func projectSettingsPath(root string) string {
	sum := sha256.Sum256([]byte(root))
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < 0x20 {
			return '_'
		}
		return r
	}, filepath.Base(root))
	return filepath.Join(config.Dir(), "projects", name+"-"+hex.EncodeToString(sum[:])[:12]+".toml")
}

// newAgent builds the agent every command uses: the endpoint from flags,
// environment and config, the board tools (board may be nil), the
// project's file and shell tools behind its approval policy, and the size
// limits from the config.
func (a *app) newAgent(state *store.State, board *store.Board, proj *project) (*agent.Agent, error) {
	ep := agent.ResolveEndpoint(a.baseURL, a.model, a.cfg, os.Getenv)
	cfg := agent.Config{
		BaseURL: ep.BaseURL, APIKey: ep.APIKey, Model: ep.Model,
		State: state, Board: board, Logger: a.logger,
		StaleTimeout:  a.cfg.StaleTimeout.Duration,
		MaxReplyBytes: int(a.cfg.MaxReplyBytesOrDefault()),
		MaxEventBytes: int(a.cfg.MaxEventBytesOrDefault()),
		Context:       agent.ContextOptions{Models: a.cfg.Models, History: a.cfg.HistoryOrDefault()},
		Endpoints:     agent.NamedEndpoints(a.cfg, os.Getenv),
	}
	if proj != nil {
		cfg.Tools, cfg.Policy = proj.tools, proj.policy
	}
	ag, err := agent.New(cfg)
	if err != nil {
		return nil, err
	}
	a.logger.Info("agent: ready", "endpoint", ep, "offline", ag.Offline())
	return ag, nil
}
