// Package tool is the contract between the agent and the tools the model may
// call: one type per tool (its name, description and JSON schema, and Run),
// a registry that offers them to the model, and one shape for every result.
//
// A tool never sees the transport, the UI or the approval dialog. The agent
// looks the call up in the registry, asks an approver first when the tool
// implements Asker and its Approval returns a request, and then calls Run
// with a context that ends when the turn is interrupted (Ctrl-C, a worker
// stop, quitting). Run must return soon after that context ends, and must
// not panic on any arguments: bad arguments are an error Result for the
// model, never a crash.
package tool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Call is one tool call as the model made it.
type Call struct {
	ID   string // the model's call id
	Name string
	Args string // JSON object text, as streamed; "" means {}
}

// Result is what a call produced, in the one shape the agent feeds back to
// the model, stores in state.db and the UI shows.
type Result struct {
	// Err is true when the call failed (bad arguments, not found, denied,
	// stopped); Model then says why, for the model to correct itself.
	Err bool
	// Unsuccessful is true when the call ran but what it ran did not
	// succeed (a command's non-zero exit status): the screen marks it so,
	// while the model reads it as a result, not as a failed call.
	Unsuccessful bool
	// Model is the text fed back to the model.
	Model string
	// Screen is what the transcript shows for the call once it ended: a
	// short first line (the outcome) and optionally more lines (output, a
	// diff). "" means: show Model.
	Screen string
}

// OK is a successful result.
func OK(model, screen string) Result { return Result{Model: model, Screen: screen} }

// Errorf is a failed result whose text (for the model and the screen) is
// the formatted message.
func Errorf(format string, args ...any) Result {
	return Result{Err: true, Model: fmt.Sprintf(format, args...)}
}

// Failed is a failed result carrying err's message.
func Failed(err error) Result { return Result{Err: true, Model: err.Error()} }

// ScreenText is what the UI shows: Screen, else Model.
func (r Result) ScreenText() string {
	if r.Screen != "" {
		return r.Screen
	}
	return r.Model
}

// Tool is one tool the model may call.
type Tool interface {
	// Name is the function name the model sees; unique in a registry.
	Name() string
	// Description tells the model what the tool does and when to use it.
	Description() string
	// Schema is the JSON schema of the arguments object.
	Schema() Schema
	// Run performs the call. ctx ends when the turn is interrupted; Run
	// then stops what it is doing (a shell command's process group is
	// killed) and returns a Result that says it was stopped.
	Run(ctx context.Context, call Call) Result
}

// Asker is implemented by tools whose calls may need the person's approval.
// Approval returns nil when this call needs none (a read inside the
// project), or the request to show; an error Result means the arguments are
// bad and the call is answered with it, without asking and without running.
type Asker interface {
	Approval(call Call) (*Request, *Result)
}

// Request is what the approver is shown and what approval rules are matched
// against. Everything in it is shown sanitized.
type Request struct {
	Tool    string // the tool's name
	Subject string // what a rule matches: the command for bash, the path for file tools
	Summary string // the exact command (every line of it), or one line: "write path (N bytes)"
	Detail  string // the diff or the full content, may be ""
	Dir     string // the directory the call acts in
	Outside bool   // the call reaches outside the project
}

// Schema is a JSON schema object for a tool's arguments.
type Schema struct {
	Properties map[string]any
	Required   []string
}

// JSON returns the schema as the map the API takes: an object that allows
// no other properties.
func (s Schema) JSON() map[string]any {
	req := s.Required
	if req == nil {
		req = []string{}
	}
	props := s.Properties
	if props == nil {
		props = map[string]any{}
	}
	return map[string]any{
		"type":                 "object",
		"properties":           props,
		"required":             req,
		"additionalProperties": false,
	}
}

// Decode reads call's arguments into v, which should be a pointer to a
// struct with json tags. Unknown fields, a second JSON value after the
// object (two calls run together), and missing required fields (listed in
// required, checked on the raw object so that a zero value counts as
// present) are errors whose message names the tool.
func Decode(call Call, v any, required ...string) error {
	args := strings.TrimSpace(call.Args)
	if args == "" {
		args = "{}"
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%s: bad arguments: %s", call.Name, fmt.Sprintf(format, a...))
	}
	d := json.NewDecoder(strings.NewReader(args))
	var raw json.RawMessage
	if err := d.Decode(&raw); err != nil {
		return bad("%v", err)
	}
	// Anything after the object (two calls run together by a model merging
	// parallel calls, a stray brace) would otherwise be silently dropped.
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return bad("more than one JSON value")
	}
	if len(required) > 0 {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			return bad("%v", err)
		}
		var missing []string
		for _, r := range required {
			if v, ok := fields[r]; !ok || string(v) == "null" {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			return bad("missing %s", strings.Join(missing, ", "))
		}
	}
	strict := json.NewDecoder(bytes.NewReader(raw))
	strict.DisallowUnknownFields()
	if err := strict.Decode(v); err != nil {
		return bad("%v", err)
	}
	return nil
}

// Registry is a set of tools by name. It is built once and read-only after.
type Registry struct {
	tools  []Tool
	byName map[string]Tool
}

// NewRegistry registers tools in the order given. A duplicate name panics:
// it is a programming error caught by any test that builds the registry.
func NewRegistry(tools ...Tool) *Registry {
	r := &Registry{byName: make(map[string]Tool, len(tools))}
	for _, t := range tools {
		if _, dup := r.byName[t.Name()]; dup {
			panic("tool: duplicate tool " + t.Name())
		}
		r.byName[t.Name()] = t
		r.tools = append(r.tools, t)
	}
	return r
}

// Get returns the tool called name.
func (r *Registry) Get(name string) (Tool, bool) {
	if r == nil {
		return nil, false
	}
	t, ok := r.byName[name]
	return t, ok
}

// Tools returns the tools in registration order.
func (r *Registry) Tools() []Tool {
	if r == nil {
		return nil
	}
	return r.tools
}

// Names returns the tool names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.Tools()))
	for _, t := range r.Tools() {
		names = append(names, t.Name())
	}
	sort.Strings(names)
	return names
}

// ForModel is the text the model is given: Model, marked as an error when
// the call failed, so that the model can tell a failure from output.
func (r Result) ForModel() string {
	if r.Err {
		return "error: " + r.Model
	}
	return r.Model
}

// Describe is a call as one short line for people: the command of a shell
// call, the path (and pattern) of a file call, else the arguments as
// compact JSON. It is not sanitized: callers showing it sanitize it.
func Describe(call Call) string {
	var args map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(call.Args)), &args); err != nil || args == nil {
		return strings.TrimSpace(call.Args)
	}
	str := func(k string) string { s, _ := args[k].(string); return s }
	switch {
	case str("command") != "":
		return str("command")
	case str("pattern") != "" && str("path") != "":
		return str("pattern") + " in " + str("path")
	case str("pattern") != "":
		return str("pattern")
	case str("path") != "":
		return str("path")
	case str("title") != "":
		return str("title")
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(args); err != nil {
		return strings.TrimSpace(call.Args)
	}
	return strings.TrimSpace(b.String())
}
