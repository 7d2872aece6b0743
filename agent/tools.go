package agent

import (
	"context"
	"fmt"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/spindle-sh/spindle/agent/tool"
	"github.com/spindle-sh/spindle/agent/tool/board"
	"github.com/spindle-sh/spindle/sanitize"
)

// ChatTools returns the registry the chat's turns use: the board tools
// (acting as the actor "agent") followed by extra (the file and shell tools
// when they are configured). b may be nil when kanban.db was refused; the
// board tools then say so.
func ChatTools(b board.Board, extra ...tool.Tool) *tool.Registry {
	return tool.NewRegistry(append(board.ChatTools(b), extra...)...)
}

// toolParams is the registry as the request's function tools.
func toolParams(r *tool.Registry) []openai.ChatCompletionToolUnionParam {
	tools := r.Tools()
	if len(tools) == 0 {
		return nil
	}
	out := make([]openai.ChatCompletionToolUnionParam, 0, len(tools))
	for _, t := range tools {
		out = append(out, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        t.Name(),
			Description: openai.String(t.Description()),
			Parameters:  shared.FunctionParameters(t.Schema().JSON()),
		}))
	}
	return out
}

// runTool runs one call through the registry. An unknown tool and a panic
// inside a tool are error results for the model, never a crash.
func runTool(ctx context.Context, r *tool.Registry, call tool.Call) (res tool.Result) {
	t, ok := r.Get(call.Name)
	if !ok {
		return tool.Errorf("unknown tool %q", sanitize.Line(call.Name))
	}
	defer func() {
		if p := recover(); p != nil {
			res = tool.Errorf("%s: internal error: %v", call.Name, p)
		}
	}()
	return t.Run(ctx, call)
}

// stoppedResult answers a call that was not run, or was stopped, because
// the turn was interrupted.
func stoppedResult(call tool.Call, ran bool) tool.Result {
	if ran {
		return tool.Result{Err: true, Model: fmt.Sprintf("%s: stopped: the turn was interrupted", call.Name)}
	}
	return tool.Result{Err: true, Model: fmt.Sprintf("%s: not run: the turn was interrupted", call.Name)}
}
