package offline

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
)

// offered is the tool definitions for the named tools.
func offered(names ...string) []toolDef {
	defs := make([]toolDef, len(names))
	for i, n := range names {
		defs[i].Type = "function"
		defs[i].Function.Name = n
	}
	return defs
}

var (
	// chatTools are the tools a chat turn offers.
	chatTools = offered(createTool, "kanban_list", lsTool, viewTool, bashTool)
	// workerTools are the tools a worker's turn offers.
	workerTools = offered(commentTool, doneTool, blockTool, "card_create")
)

func user(text string) chatMessage { return chatMessage{Role: "user", Content: mustJSON(text)} }

// answered is the conversation msgs followed by the reply's assistant
// message and the tool's result.
func answered(msgs []chatMessage, r reply, result string) []chatMessage {
	out := append([]chatMessage(nil), msgs...)
	out = append(out, chatMessage{Role: "assistant", Content: mustJSON(r.text), ToolCalls: []toolCall{*r.call}})
	return append(out, chatMessage{Role: "tool", ToolCallID: r.call.ID, Content: mustJSON(result)})
}

// checkPlan is what every plan must satisfy: an error reply has a message
// and nothing to stream; otherwise there is text or a call, the pieces add
// up to exactly the text and the arguments, no piece is empty, a call is
// to a tool the request offers with a JSON object for arguments, the
// finish reason matches, and the usage adds up.
func checkPlan(req *chatRequest, r reply) error {
	if r.status != 0 {
		if r.text == "" || r.pieces != nil || r.args != nil || r.call != nil {
			return fmt.Errorf("error reply %d has text %q, %d pieces, call %v", r.status, r.text, len(r.pieces), r.call)
		}
		return nil
	}
	if r.text == "" && r.call == nil {
		return errors.New("reply has neither text nor a call")
	}
	if got := strings.Join(r.pieces, ""); got != r.text {
		return fmt.Errorf("pieces %q do not add up to the text %q", got, r.text)
	}
	args, finish := "", "stop"
	if r.call != nil {
		args, finish = r.call.Function.Arguments, "tool_calls"
		if !req.offersTool(r.call.Function.Name) {
			return fmt.Errorf("reply calls %s, which the request does not offer", r.call.Function.Name)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(args), &obj); err != nil {
			return fmt.Errorf("arguments %q are not a JSON object: %v", args, err)
		}
		if !strings.HasPrefix(r.call.ID, "call_") || r.call.Type != "function" {
			return fmt.Errorf("call id %q, type %q", r.call.ID, r.call.Type)
		}
	}
	if got := strings.Join(r.args, ""); got != args {
		return fmt.Errorf("argument pieces %q do not add up to %q", got, args)
	}
	for _, p := range append(append([]string(nil), r.pieces...), r.args...) {
		if p == "" {
			return errors.New("an empty piece")
		}
	}
	if r.finish != finish {
		return fmt.Errorf("finish %q, want %q", r.finish, finish)
	}
	if r.usage.CompletionTokens != estimateTokens(r.text)+estimateTokens(args) || r.usage.TotalTokens != r.usage.PromptTokens+r.usage.CompletionTokens {
		return fmt.Errorf("usage %+v does not add up", r.usage)
	}
	return nil
}

// TestCheckPlanCatchesBadPlans is the negative control of checkPlan, which
// the fuzz target and the tests below rely on: each way a plan can be
// wrong must trip it.
func TestCheckPlanCatchesBadPlans(t *testing.T) {
	req := chatRequest{Messages: []chatMessage{user("run git status")}, Tools: chatTools}
	good := planReply(&req)
	if err := checkPlan(&req, good); err != nil || good.call == nil || len(good.args) < 2 {
		t.Fatalf("the control plan is not a good tool call: %v", err)
	}
	text := planFor("tell me a story")
	mutations := map[string]func(r *reply, q *chatRequest){
		"dropped argument piece": func(r *reply, _ *chatRequest) { r.args = r.args[1:] },
		"tool not offered":       func(_ *reply, q *chatRequest) { q.Tools = offered(createTool) },
		"tool_choice none":       func(_ *reply, q *chatRequest) { q.ToolChoice = json.RawMessage(`"none"`) },
		"empty reply":            func(r *reply, _ *chatRequest) { r.call, r.args, r.finish = nil, nil, "stop" },
		"wrong finish":           func(r *reply, _ *chatRequest) { r.finish = "stop" },
		"arguments not JSON":     func(r *reply, _ *chatRequest) { r.call.Function.Arguments, r.args = "{", []string{"{"} },
		"error with pieces":      func(r *reply, _ *chatRequest) { r.status, r.text, r.call = 500, "x", nil },
		"dropped text piece": func(r *reply, _ *chatRequest) {
			*r = text
			r.pieces = r.pieces[:len(r.pieces)-1]
		},
		"empty piece": func(r *reply, _ *chatRequest) {
			*r = text
			r.pieces = append(r.pieces, "")
		},
	}
	for name, mutate := range mutations {
		r, q := good, req
		c := *good.call
		r.call = &c
		r.args = append([]string(nil), good.args...)
		mutate(&r, &q)
		if err := checkPlan(&q, r); err == nil {
			t.Errorf("%s: checkPlan passed a bad plan", name)
		}
	}
}

func TestCardTitles(t *testing.T) {
	tests := []struct {
		prompt string
		title  string
		isCard bool
	}{
		{"add a card Buy milk", "Buy milk", true},
		{"Add card: Buy milk.", "Buy milk", true},
		{"ADD A CARD 'Buy milk'", "Buy milk", true},
		{`create a card called "Ship v1"`, "Ship v1", true},
		{"create a card titled “Ship v1”!", "Ship v1", true},
		{"Please add a new card named `Fix login`", "Fix login", true},
		{"could you add a card for the release notes?", "the release notes", true},
		{"add a card to the board titled Plan Q3", "Plan Q3", true},
		{"add a card called \"Say \"hi\"\"", `Say "hi"`, true},
		{"add a card\n  spanning\tlines ", "spanning lines", true},
		{"add a card: fix the function called twice", "fix the function called twice", true},
		{"add a card on my board named: Tidy up", "Tidy up", true},
		{"add a card", "", true},
		{"add a card called", "", true},
		{"create card: ", "", true},
		{"tell me about cards", "", false},
		{"add cards to the deck", "", false},
		{"discard the card", "", false},
	}
	for _, tt := range tests {
		title, ok := cardTitle(tt.prompt)
		if ok != tt.isCard || title != tt.title {
			t.Errorf("cardTitle(%q) = %q, %v; want %q, %v", tt.prompt, title, ok, tt.title, tt.isCard)
		}
	}
}

func TestReplyKinds(t *testing.T) {
	withTool := []toolDef{kanbanCreateDef()}
	tests := []struct {
		name     string
		messages []chatMessage
		tools    []toolDef
		choice   string
		kind     string
	}{
		{"long", []chatMessage{user("How does the transport work?")}, withTool, "", replyLong},
		{"topic", []chatMessage{user("How do I connect a real model?")}, withTool, "", replyTopic},
		{"hello", []chatMessage{user("Hello!")}, nil, "", replyShort},
		{"hi", []chatMessage{user("hi")}, nil, "", replyShort},
		{"short", []chatMessage{user("Give me a short answer")}, nil, "", replyShort},
		{"greeting with a topic", []chatMessage{user("hi! what are workers?")}, nil, "", replyTopic},
		// "this" and "which" contain "hi" but are not greetings; "history"
		// leads to the sessions topic.
		{"this is not hi", []chatMessage{user("this thing, which shows history")}, nil, "", replyTopic},
		{"fallback", []chatMessage{user("What's the weather like in Lisbon?")}, nil, "", replyFallback},
		{"card", []chatMessage{user("add a card X")}, withTool, "", replyToolCall},
		{"card beats hello", []chatMessage{user("hi, add a card X")}, withTool, "", replyToolCall},
		{"card beats run", []chatMessage{user("add a card: run the tests")}, chatTools, "", replyToolCall},
		{"card without title", []chatMessage{user("add a card")}, withTool, "", replyNeedTitle},
		{"card without tools", []chatMessage{user("add a card X")}, nil, "", replyNoTool},
		{"card with tool_choice none", []chatMessage{user("add a card X")}, withTool, `"none"`, replyNoTool},
		{"ls", []chatMessage{user("list files")}, chatTools, "", replyToolCall},
		{"ls not offered", []chatMessage{user("list files")}, withTool, "", replyNoTool},
		{"bash", []chatMessage{user("run git status")}, chatTools, "", replyToolCall},
		{"bash with tool_choice none", []chatMessage{user("run git status")}, chatTools, `"none"`, replyNoTool},
		{"tool result", []chatMessage{user("add a card X"), {Role: "assistant", ToolCalls: []toolCall{{ID: "c1", Function: toolFunction{Name: createTool}}}}, {Role: "tool", ToolCallID: "c1", Content: mustJSON(`{"id":1}`)}}, withTool, "", replyConfirm},
		{"last user decides", []chatMessage{user("add a card X"), {Role: "assistant", Content: mustJSON("ok")}, user("hello")}, withTool, "", replyShort},
		{"system only", []chatMessage{{Role: "system", Content: mustJSON("be nice")}}, nil, "", replyFallback},
		{"worker", []chatMessage{user("Card #1: Tidy up")}, workerTools, "", replyWorkerPlan},
		{"worker that fails", []chatMessage{user("Card #1: Make this fail")}, workerTools, "", replyServerError},
		// Without card_done offered, a card prompt is an ordinary question
		// ("card" leads to the board topic), never the worker's 500.
		{"card prompt in a chat", []chatMessage{user("Card #1: Make this fail")}, chatTools, "", replyTopic},
		{"worker tools, no card", []chatMessage{user("hello")}, workerTools, "", replyShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := chatRequest{Messages: tt.messages, Tools: tt.tools}
			if tt.choice != "" {
				req.ToolChoice = []byte(tt.choice)
			}
			if _, err := req.validate(); err != nil {
				t.Fatal(err)
			}
			r := planReply(&req)
			if r.kind != tt.kind {
				t.Fatalf("kind = %s, want %s", r.kind, tt.kind)
			}
			if err := checkPlan(&req, r); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// topicPrompts are prompts a newcomer types and the topic each must reach
// ("" for none: a greeting, a short intro or the fallback). The first few
// are typed by tests, tapes and scripts outside this package, which wait
// for the answer's text.
var topicPrompts = []struct{ prompt, topic string }{
	{"Explain how spindle interrupts a stream", "interrupt"}, // vhs/interrupt.tape waits for "The shape of the owner"
	{"How does streaming work in spindle", "streaming"},      // vhs/chat.tape
	{"Explain how streaming works", "streaming"},             // scripts/e2e-tmux.sh interrupts it
	{"Tell me more about streaming", "streaming"},            // scripts/e2e-tmux.sh
	{"Explain streaming, please", "streaming"},               // tui/realagent_test.go
	{"explain the interrupt path", "interrupt"},              // agent/tools_test.go
	{"tell me about spindle", "about"},                       // agent/tools_test.go interrupts it after 3 deltas
	{"What is spindle?", "about"},
	{"who are you", "about"},
	{"what can you do?", "about"},
	{"How do workers work?", "workers"},
	{"what does the dispatcher do", "workers"},
	{"can I assign a card to the agent", "workers"},
	{"explain workers in detail", "workers"},
	{"what can the agent do with files and commands?", "tools"},
	{"how do approvals work", "tools"},
	{"How do I connect a real model?", "connect"},
	{"where do I put OPENAI_API_KEY", "connect"},
	{"can I use ollama", "connect"},
	{"what goes in config.toml", "connect"},
	{"how does spindle --continue work", "sessions"},
	{"where is my chat history", "sessions"},
	{"How do I resume an old session?", "sessions"},
	{"what does Ctrl-C do", "keys"},
	{"how do I quit", "keys"},
	{"keyboard shortcuts?", "keys"},
	{"How do I use the board?", "board"},
	{"how do I move cards between columns", "board"},
	{"show me some Go code", "gocode"},
	{"write a function in golang", "gocode"},
	{"markdown demo please", "markdown"},
	{"can you render a table?", "markdown"},
	{"What is server-sent events streaming?", "streaming"},
	{"Why do interrupts matter?", "interrupt"},
	{"How does the transport work?", "interrupt"},
	{"how is the board stored in sqlite", "storage"},
	{"what happens if it crashes mid-write", "storage"},
	{"tell me a story", "story"},
	{"why does spindle exist", "story"},
	{"write a long essay about the board", "storage"},
	{"hello", ""},
	{"hi there", ""},
	{"give me a short answer", ""},
	{"a short story", ""},
	{"What's the weather like in Lisbon?", ""},
	{"how long does it take to boil an egg", ""},
	{"", ""},
}

func TestTopics(t *testing.T) {
	for _, tt := range topicPrompts {
		got := ""
		if tp := pickTopic(normalize(tt.prompt), hashString(tt.prompt)); tp != nil {
			got = tp.name
		}
		if got != tt.topic {
			t.Errorf("%q → topic %q, want %q", tt.prompt, got, tt.topic)
		}
		if r := planFor(tt.prompt); r.topic != tt.topic {
			t.Errorf("%q → planned topic %q (%s), want %q", tt.prompt, r.topic, r.kind, tt.topic)
		}
	}
}

// TestEveryTopicIsReachable: a topic that no prompt of the table reaches
// is dead text, or its keywords are shadowed by another topic's.
func TestEveryTopicIsReachable(t *testing.T) {
	reached := map[string]bool{}
	for _, tt := range topicPrompts {
		reached[tt.topic] = true
	}
	for _, tp := range topics {
		if !reached[tp.name] {
			t.Errorf("no prompt in topicPrompts reaches topic %q", tp.name)
		}
	}
}

// TestLongRequests: asking for something long always gets a long answer,
// whatever the words around it, so that there is something to interrupt.
func TestLongRequests(t *testing.T) {
	for _, p := range []string{"write a long essay", "Write me an essay about nothing", "explain in detail",
		"Tell me everything", "now explain it again, all the way through", "give me a long answer about cats", "tell me a story"} {
		if r := planFor(p); r.kind != replyLong {
			t.Errorf("%q → %s %q, want a long answer", p, r.kind, r.topic)
		}
	}
	for _, p := range []string{"how long does it take", "a short story", "briefly, what is streaming?"} {
		if r := planFor(p); r.kind == replyLong {
			t.Errorf("%q → a long answer (%s)", p, r.topic)
		}
	}
}

func TestNormalizeAndKeywords(t *testing.T) {
	if got := normalize("What's Ctrl-C?  --continue, config.toml"); got != " what s ctrl c continue config toml " {
		t.Fatalf("normalize = %q", got)
	}
	norm := normalize("Streaming works; this is history")
	for phrase, want := range map[string]bool{
		"stream*": true, "streaming": true, "stream": false, "works": true, "work": false, "work*": true,
		"hi": false, "this is": true, "is history": true, "history of": false, "": false, "*": false,
	} {
		if got := newKeyword(phrase, 1).matches(norm); got != want {
			t.Errorf("%q matches %q = %v, want %v", phrase, norm, got, want)
		}
	}
}

func TestToolIntents(t *testing.T) {
	tests := []struct{ prompt, tool, args string }{
		{"run git status", bashTool, `{"command":"git status"}`},
		{"Run `git status`.", bashTool, `{"command":"git status"}`},
		{`please run: "go vet ./..."`, bashTool, `{"command":"go vet ./..."}`},
		{"can you execute 'ls -la' please?", bashTool, `{"command":"ls -la"}`},
		{"run the command echo hi", bashTool, `{"command":"echo hi"}`},
		{"run ```make build```", bashTool, `{"command":"make build"}`},
		{"execute echo \"a b\"", bashTool, `{"command":"echo \"a b\""}`},
		{"run the tests", bashTool, `{"command":"go test ./..."}`},
		{"run cat main.go", bashTool, `{"command":"cat main.go"}`},
		{"show me main.go", viewTool, `{"path":"main.go"}`},
		{"open README.md", viewTool, `{"path":"README.md"}`},
		{"read agent/offline/model.go please", viewTool, `{"path":"agent/offline/model.go"}`},
		{"cat go.mod", viewTool, `{"path":"go.mod"}`},
		{"view `tui/view.go`", viewTool, `{"path":"tui/view.go"}`},
		{"what's in main.go?", viewTool, `{"path":"main.go"}`},
		{"show me main.go's imports", viewTool, `{"path":"main.go"}`},
		{"open the Makefile", viewTool, `{"path":"Makefile"}`},
		{"show me .gitignore", viewTool, `{"path":".gitignore"}`},
		{"list files", lsTool, `{"path":"."}`},
		{"ls", lsTool, `{"path":"."}`},
		{"ls -la agent/", lsTool, `{"path":"agent/"}`},
		{"What is in this folder?", lsTool, `{"path":"."}`},
		{"show me the files", lsTool, `{"path":"."}`},
		{"which files are here", lsTool, `{"path":"."}`},
		// Not tool requests:
		{"run a worker on this card", "", ""},
		{"how do I run spindle?", "", ""},
		{"run", "", ""},
		{"run " + strings.Repeat("x", maxCommandBytes+1), "", ""},
		{"open the board", "", ""},
		{"show me a table", "", ""},
		{"read me a story", "", ""},
		{"open https://example.com/x.go", "", ""},
		{"show me version 1.5", "", ""},
		{"else", "", ""},
	}
	for _, tt := range tests {
		in, ok := toolIntent(tt.prompt)
		args := ""
		if ok {
			b, _ := json.Marshal(in.args)
			args = string(b)
		}
		if in.tool != tt.tool || args != tt.args {
			t.Errorf("toolIntent(%q) = %s %s, want %s %s", tt.prompt, in.tool, args, tt.tool, tt.args)
		}
	}
}

// TestToolsOnlyWhenOffered: the model calls a tool only when the request
// offers it; otherwise it says in text that the tool is not available.
func TestToolsOnlyWhenOffered(t *testing.T) {
	for _, tt := range []struct{ prompt, tool, what string }{
		{"run git status", bashTool, "run `git status`"},
		{"show me main.go", viewTool, "open `main.go`"},
		{"list files", lsTool, "list the files in `.`"},
	} {
		for _, choice := range []string{"", `"auto"`, `"none"`} {
			for _, tools := range [][]toolDef{nil, chatTools, offered(tt.tool + "x")} {
				req := chatRequest{Messages: []chatMessage{user(tt.prompt)}, Tools: tools, ToolChoice: json.RawMessage(choice)}
				if choice == "" {
					req.ToolChoice = nil
				}
				r := planReply(&req)
				if err := checkPlan(&req, r); err != nil {
					t.Fatalf("%q: %v", tt.prompt, err)
				}
				if req.offersTool(tt.tool) {
					if r.call == nil || r.call.Function.Name != tt.tool || r.text != "" {
						t.Errorf("%q with %s offered: %s %q", tt.prompt, tt.tool, r.kind, r.text)
					}
					continue
				}
				if r.kind != replyNoTool || !strings.Contains(r.text, "I would "+tt.what+" with the `"+tt.tool+"` tool") {
					t.Errorf("%q without %s (choice %s): %s %q", tt.prompt, tt.tool, choice, r.kind, r.text)
				}
			}
		}
	}
}

func TestConfirmation(t *testing.T) {
	thirty := strings.Repeat("line\n", 30)
	tests := []struct {
		tool, args, result string
		want               []string
		not                []string
	}{
		{"kanban_create", "", `{"id": 12, "title": "Ship it", "status": "todo"}`, []string{"Done: **Ship it** is on the board as card #12 in *To do*."}, nil},
		{"kanban_create", "", `{"card": {"ID": 3, "Title": "Nested"}}`, []string{"Done: **Nested** is on the board as card #3."}, nil},
		{"kanban_create", "", `{"created": {"id": 1, "title": "Write the docs", "status": "todo"}}`, []string{"Done: **Write the docs** is on the board as card #1 in *To do*."}, nil},
		{"kanban_move", "", `{"moved": {"id": 4, "title": "Ship", "status": "done"}}`, []string{"Done: **Ship** is on the board as card #4 in *Done*."}, nil},
		// A status the board does not have is named as it came.
		{"kanban_move", "", `{"moved": {"id": 5, "title": "Later", "status": "someday"}}`, []string{"as card #5 in *someday*."}, nil},
		{"kanban_create", "", `{"title": "No id"}`, []string{"Done: **No id** is on the board."}, nil},
		{"kanban_create", "", `{"error": "board unavailable"}`, []string{"The `kanban_create` tool failed: board unavailable"}, nil},
		// The agent marks a failed call's text "error: "; the answer says
		// "failed" instead of repeating the mark.
		{"kanban_create", "", "error: board refused", []string{"The `kanban_create` tool failed: board refused\n"}, nil},
		{"kanban_list", "", `[{"id":1},{"id":2}]`, []string{"The `kanban_list` tool returned 2 item(s)"}, nil},
		{"kanban_move", "", "moved\ncard 4", []string{"The `kanban_move` tool answered: moved card 4"}, nil},
		{"", "", "", []string{"The `tool` tool finished without saying anything"}, nil},
		{"x", "", strings.Repeat("long ", 100), []string{"…"}, nil},
		{"x", "", "ok \x1b]52;c;aGk=\x07done", []string{"answered: ok done"}, []string{"\x1b", "52;"}},

		{lsTool, `{"path":"."}`, "README.md\nagent/\ngo.mod\ngo.sum\nmain.go\nstore/\ntui/\nsanitize/\nconfig/\nkeymap/",
			[]string{"`.` holds 10 entries:\n\n```text\nREADME.md\nagent/\n", "sanitize/\n```\n\n…and 2 more.", "*show me README.md*"}, []string{"keymap"}},
		{lsTool, `{"path":"agent"}`, `{"entries":[{"name":"tool","type":"dir"},{"name":"agent.go","type":"file"}]}`,
			[]string{"`agent` holds 2 entries:\n\n```text\ntool/\nagent.go\n```", "*show me agent.go*"}, nil},
		{lsTool, `{"path":"empty"}`, "", []string{"`empty` is empty."}, nil},
		// spindle's own ls heads its listing with the folder: not an entry.
		{lsTool, `{"path":"."}`, "./\nmain.go\nsub/", []string{"`.` holds 2 entries:\n\n```text\nmain.go\nsub/\n```"}, []string{"./\n"}},
		{lsTool, `{"path":"agent"}`, "agent/\ntool/\nagent.go", []string{"`agent` holds 2 entries:\n\n```text\ntool/\nagent.go\n```"}, nil},
		// view's line numbers are padded: the first line keeps its padding.
		{viewTool, `{"path":"main.go"}`, "     1\tpackage main\n     2\t\n", []string{"```go\n     1\tpackage main\n     2\t\n```"}, nil},
		{viewTool, `{"path":"main.go"}`, "package main\n\nfunc main() {}\n", []string{"Here is `main.go`, all 3 lines:\n\n```go\npackage main\n\nfunc main() {}\n```"}, nil},
		{viewTool, `{"path":"notes.txt"}`, thirty, []string{"Here is the top of `notes.txt`, 12 of its 30 lines:\n\n```text\n"}, nil},
		{viewTool, `{"path":"nope.go"}`, `{"error":"open nope.go: no such file or directory"}`, []string{"The `view` tool failed: open nope.go: no such file"}, nil},
		{viewTool, `{"path":"secret.txt"}`, "error: denied by the user", []string{"You denied reading `secret.txt`, so nothing ran."}, nil},
		// spindle run denies what it cannot ask about: the person did not.
		{bashTool, `{"command":"git status"}`, "error: bash was not run: denied by spindle run (spindle run cannot ask; the person can allow it with --yolo or an allow rule in the config)",
			[]string{"`spindle run` cannot ask you for approval, so it denied running `git status` and nothing ran.", "`--yolo`"}, []string{"You denied"}},
		// Only an error can be a denial: not a listing that names
		// denied.txt, nor a file that says "rejected".
		{lsTool, `{"path":"."}`, "denied.txt\nnotes.md", []string{"`.` holds 2 entries"}, []string{"You denied"}},
		{viewTool, `{"path":"log.txt"}`, "rejected", []string{"Here is `log.txt`, all 1 line:"}, []string{"You denied"}},
		{bashTool, `{"command":"git status"}`, "exit status 0\nOn branch main\nnothing to commit, working tree clean",
			[]string{"`git status` exited with status 0. Its output:\n\n```text\nOn branch main\nnothing to commit, working tree clean\n```"}, []string{"exit status 0\n"}},
		{bashTool, `{"command":"git status"}`, `{"exit_code":128,"stdout":"","stderr":"fatal: not a git repository"}`,
			[]string{"`git status` exited with status 128, so it did not succeed.", "fatal: not a git repository"}, nil},
		{bashTool, `{"command":"true"}`, `{"exit_code":0,"output":""}`, []string{"`true` exited with status 0. It printed nothing."}, nil},
		{bashTool, `{"command":"seq 20"}`, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n[exit code: 0]",
			[]string{"The first lines of its output:", "\n8\n```\n\n…and 4 more lines."}, []string{"\n9\n"}},
		{bashTool, `{"command":"make"}`, "building…\ndone", []string{"`make` finished. Its output:"}, nil},
		{bashTool, `{"command":"git status"}`, `{"error":"denied by the user"}`, []string{"You denied running `git status`, so nothing ran."}, []string{"failed"}},
		{bashTool, `{"command":"rm -rf /"}`, "error: The user declined to run this command.", []string{"You denied running `rm -rf /`"}, nil},
		{bashTool, `{"command":"ls"}`, "denied.txt", []string{"`ls` finished. Its output:"}, []string{"You denied"}},
		// A command's own "Permission denied" is not the person's denial.
		{bashTool, `{"command":"cat /etc/shadow"}`, "cat: /etc/shadow: Permission denied\nexit status 1",
			[]string{"`cat /etc/shadow` exited with status 1", "Permission denied"}, []string{"You denied"}},
		{bashTool, `{"command":"sleep 9"}`, `{"error":"stopped: the turn was interrupted"}`, []string{"The `bash` tool failed: stopped"}, nil},
		{bashTool, `{"command":"printf"}`, "exit status 0\n\x1b[31mred\x1b[0m text", []string{"```text\nred text\n```"}, []string{"\x1b"}},
		{bashTool, "", "exit status 0", []string{"The command exited with status 0."}, nil},
		// Results as spindle's agent words them (tool.Result.ForModel).
		{viewTool, `{"path":"nope.go"}`, "error: view: open nope.go: no such file or directory\nsee the log", []string{"The `view` tool failed: view: open nope.go"}, nil},
		{lsTool, `{"path":"/root"}`, "error: ls: /root is outside the project and was denied", []string{"You denied listing `/root`, so nothing ran."}, nil},
		{bashTool, `{"command":"false"}`, "error: exit status 1\nboom", []string{"`false` exited with status 1, so it did not succeed. Its output:\n\n```text\nboom\n```"}, nil},
		{bashTool, `{"command":"git push"}`, "error: bash: the person denied running this command", []string{"You denied running `git push`"}, nil},
		// A deny rule's denial is the rule's, never the person's: they were
		// not asked (agent.deniedResult's words, and the transcript's).
		{bashTool, `{"command":"rm -rf build"}`, "error: bash was not run: the deny rule \"bash:rm *\" denied it, not the person; do not try to get around it",
			[]string{"The deny rule `bash:rm *` refused running `rm -rf build`, so nothing ran; you were not asked.", "/permissions"}, []string{"You denied", "doing its job"}},
		{bashTool, `{"command":"git push"}`, "error: denied by deny rule bash:git push *",
			[]string{"The deny rule `bash:git push *` refused running `git push`"}, []string{"You denied"}},
		{viewTool, `{"path":".env"}`, "error: view was not run: the deny rule \"view:**/.env\" denied it, not the person",
			[]string{"The deny rule `view:**/.env` refused reading `.env`"}, []string{"You denied"}},
		{"edit", `{"path":"a.go"}`, "error: edit was not run: the deny rule \"edit:**/*.go\" denied it, not the person",
			[]string{"The deny rule `edit:**/*.go` refused the `edit` call"}, []string{"You denied", "failed"}},
		{"edit", `{"path":"a.go"}`, `{"error":"denied by deny rule edit:**/*.go"}`, []string{"The deny rule `edit:**/*.go` refused the `edit` call"}, nil},
		{bashTool, `{"command":"make"}`, "error: bash was not run: the person denied it", []string{"You denied running `make`"}, []string{"rule"}},
		{bashTool, `{"command":"make"}`, "error: bash was not run: denied by timeout (nobody answered within 5m0s)",
			[]string{"Nobody answered the request for running `make` in time, so nothing ran."}, []string{"You denied"}},
		{bashTool, `{"command":"sleep 9"}`, "error: bash: stopped: the turn was interrupted", []string{"The `bash` tool failed: bash: stopped: the turn was interrupted\n"}, nil},
	}
	for _, tt := range tests {
		got := confirmation(tt.tool, tt.args, tt.result)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("confirmation(%q, %q, %q) = %q, want it to contain %q", tt.tool, tt.args, tt.result, got, w)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("confirmation(%q, %q, %q) = %q, must not contain %q", tt.tool, tt.args, tt.result, got, n)
			}
		}
		if strings.Count(got, "\n") > 24 {
			t.Errorf("confirmation(%q, ...) has %d lines", tt.tool, strings.Count(got, "\n"))
		}
	}
}

// TestQuotesCannotEscape: quoted output and names sit in fences and code
// spans that their own backticks cannot close, so a tool result cannot turn
// the rest of the answer into markdown of its choosing.
func TestQuotesCannotEscape(t *testing.T) {
	lines := []string{"```", "**bold** ````", "end"}
	block, _ := quoteBlock(lines, "text", 8)
	if !strings.HasPrefix(block, "`````text\n") || !strings.HasSuffix(block, "\n`````\n") {
		t.Fatalf("block = %q, want a fence of five backticks", block)
	}
	// Control: with a three-backtick fence, the first line would close the
	// block early.
	if lines[0] != "```" {
		t.Fatal("the control line must be a bare fence")
	}
	for in, want := range map[string]string{"a": "`a`", "a`b": "``a`b``", "`a": "`` `a ``", "a``": "``` a`` ```", "": `""`} {
		if got := codeSpan(in); got != want {
			t.Errorf("codeSpan(%q) = %q, want %q", in, got, want)
		}
	}
	if got := escapeMarkdown("*a* _b_ `c` [d](e) <f> #g |h| ~i~ \\"); got != `\*a\* \_b\_ \`+"`"+`c\`+"`"+` \[d\](e) \<f\> \#g \|h\| \~i\~ \\` {
		t.Errorf("escapeMarkdown = %q", got)
	}
}

// workerStep plans the next worker request and checks the plan.
func workerStep(t *testing.T, msgs []chatMessage, tools []toolDef) (chatRequest, reply) {
	t.Helper()
	req := chatRequest{Messages: msgs, Tools: tools}
	if _, err := req.validate(); err != nil {
		t.Fatal(err)
	}
	r := planReply(&req)
	if err := checkPlan(&req, r); err != nil {
		t.Fatal(err)
	}
	return req, r
}

func TestWorkerFlow(t *testing.T) {
	tests := []struct {
		name, prompt string
		final        string // card_done or card_block
		args         string // its arguments
		last         string // the last sentence
	}{
		{"done", "Card #12: Write the changelog\n\nList the changes since v0.3.\n\nComments:\n- me: keep it short",
			doneTool, `{"summary":"Finished “Write the changelog”: read the card, planned the work and left a progress note on it."}`,
			"Card #12 is done, and its summary is on the card.\n"},
		{"blocked in the title", "Card #3: Blocked on the API key", blockTool,
			`{"reason":"The card says it is blocked: “Blocked on the API key”"}`, "Card #3 is blocked now;"},
		{"blocked in the body", "## Card #7: Wire the API\n\nWe cannot start:\nthis is BLOCKED by the vendor.", blockTool,
			`{"reason":"The card says it is blocked: “this is BLOCKED by the vendor.”"}`, "Card #7 is blocked now;"},
		{"block, the verb", "Card #8: Tidy up\nblock the old endpoint", blockTool,
			`{"reason":"The card says it is blocked: “block the old endpoint”"}`, "Card #8 is blocked now;"},
		{"blocking is not block", "Card #9: Remove the blocking call", doneTool,
			`{"summary":"Finished “Remove the blocking call”: read the card, planned the work and left a progress note on it."}`, "Card #9 is done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := []chatMessage{{Role: "system", Content: mustJSON("You work one card.")}, user(tt.prompt)}
			card, ok := parseCardPrompt(tt.prompt)
			if !ok {
				t.Fatal("not a card prompt")
			}

			// Step 1: a plan, then card_comment.
			_, r := workerStep(t, msgs, workerTools)
			if r.kind != replyWorkerPlan || r.call == nil || r.call.Function.Name != commentTool ||
				r.call.Function.Arguments != `{"text":"Started work: read the card and wrote a plan; a summary follows when it is finished."}` {
				t.Fatalf("step 1: %s %+v", r.kind, r.call)
			}
			if n := estimateTokens(r.text); n < 150 || n > 250 || !strings.Contains(r.text, "#"+card.id) || !strings.Contains(r.text, "**"+card.title+"**") {
				t.Errorf("step 1: plan of %d tokens, want 150-250 naming the card: %q", n, r.text)
			}
			if blockRE.MatchString(workerProgressNote) || strings.Contains(strings.ToLower(workerProgressNote), "fail") {
				t.Error("the progress note says block or fail, which would change the card's next run")
			}

			// Step 2: a sentence, then card_done or card_block.
			msgs = answered(msgs, r, `{"commented":{"card_id":12,"event_id":3,"text":"Started work"}}`)
			_, r = workerStep(t, msgs, workerTools)
			if r.kind != replyWorkerFinish || r.call == nil || r.call.Function.Name != tt.final || r.call.Function.Arguments != tt.args {
				t.Fatalf("step 2: %s %+v, want %s %s", r.kind, r.call, tt.final, tt.args)
			}
			if !strings.HasPrefix(r.text, "The progress note is on the card. ") || strings.Count(r.text, ".") > 3 {
				t.Errorf("step 2 text = %q", r.text)
			}

			// Step 3: a last sentence, and stop.
			msgs = answered(msgs, r, `{"ok":true}`)
			_, r = workerStep(t, msgs, workerTools)
			if r.kind != replyWorkerFinal || r.call != nil || r.finish != "stop" || !strings.HasPrefix(r.text, tt.last) {
				t.Fatalf("step 3: %s %q", r.kind, r.text)
			}
		})
	}
}

func TestWorkerFailsOnPurpose(t *testing.T) {
	for _, title := range []string{"Make this fail", "FAILING build", "failover"} {
		_, r := workerStep(t, []chatMessage{user("Card #4: " + title)}, workerTools)
		if r.status != 500 || r.kind != replyServerError || !strings.Contains(r.text, "card #4") {
			t.Errorf("%q: status %d %s %q", title, r.status, r.kind, r.text)
		}
	}
	// "fail" in the body does not fail the request: only the title does.
	_, r := workerStep(t, []chatMessage{user("Card #5: Tidy up\n\nDon't fail.")}, workerTools)
	if r.status != 0 || r.kind != replyWorkerPlan {
		t.Errorf("fail in the body: status %d %s", r.status, r.kind)
	}
}

func TestWorkerEdgeCases(t *testing.T) {
	prompt := user("Card #2: Write the changelog")
	t.Run("no comment tool", func(t *testing.T) {
		_, r := workerStep(t, []chatMessage{prompt}, offered(doneTool, blockTool))
		if r.kind != replyWorkerPlan || r.call == nil || r.call.Function.Name != doneTool || !strings.Contains(r.text, "\n\nNothing stands in the way") {
			t.Fatalf("%s %+v %q", r.kind, r.call, r.text)
		}
	})
	t.Run("no block tool", func(t *testing.T) {
		msgs := []chatMessage{user("Card #2: Blocked by review")}
		_, r := workerStep(t, msgs, offered(commentTool, doneTool))
		msgs = answered(msgs, r, "ok")
		_, r = workerStep(t, msgs, offered(commentTool, doneTool))
		if r.call != nil || !strings.Contains(r.text, "I would finish with the `card_block` tool, but this request does not offer it") {
			t.Fatalf("%+v %q", r.call, r.text)
		}
	})
	t.Run("comment failed", func(t *testing.T) {
		msgs := []chatMessage{prompt}
		_, r := workerStep(t, msgs, workerTools)
		msgs = answered(msgs, r, `{"error":"card 2 is archived"}`)
		_, r = workerStep(t, msgs, workerTools)
		if r.call == nil || r.call.Function.Name != doneTool || !strings.HasPrefix(r.text, "The progress note did not make it onto the card (card 2 is archived).") {
			t.Fatalf("%+v %q", r.call, r.text)
		}
	})
	t.Run("done failed", func(t *testing.T) {
		msgs := []chatMessage{prompt}
		_, r := workerStep(t, msgs, workerTools)
		msgs = answered(msgs, r, "ok")
		_, r = workerStep(t, msgs, workerTools)
		msgs = answered(msgs, r, "error: the card moved")
		_, r = workerStep(t, msgs, workerTools)
		if r.kind != replyWorkerFinal || r.text != "The `card_done` tool failed: the card moved. The card stays where it is.\n" {
			t.Fatalf("%s %q", r.kind, r.text)
		}
	})
	t.Run("another tool's result", func(t *testing.T) {
		msgs := []chatMessage{prompt, {Role: "assistant", ToolCalls: []toolCall{{ID: "c9", Function: toolFunction{Name: lsTool, Arguments: `{"path":"."}`}}}},
			{Role: "tool", ToolCallID: "c9", Content: mustJSON("a.go")}}
		_, r := workerStep(t, msgs, append(offered(lsTool), workerTools...))
		if r.kind != replyConfirm || !strings.Contains(r.text, "`.` holds 1 entry") {
			t.Fatalf("%s %q", r.kind, r.text)
		}
	})
	t.Run("markdown in the title", func(t *testing.T) {
		_, r := workerStep(t, []chatMessage{user("Card #6: Fix *all* the `bugs`\x1b[2J")}, workerTools)
		if !strings.Contains(r.text, `**Fix \*all\* the \`+"`"+`bugs\`+"`"+`**`) || strings.Contains(r.text, "\x1b") {
			t.Fatalf("%q", r.text)
		}
	})
}

func TestParseCardPrompt(t *testing.T) {
	for prompt, want := range map[string]workerCard{
		"Card #12: Title\nbody\nmore":    {id: "12", title: "Title", body: "body\nmore"},
		"\n  ## Card #3:   Spaced  \r\n": {id: "3", title: "Spaced", body: ""},
		"**Card #4: Bold**":              {id: "4", title: "Bold", body: ""},
		"card #5:":                       {id: "5", title: "", body: ""},
	} {
		if got, ok := parseCardPrompt(prompt); !ok || got != want {
			t.Errorf("parseCardPrompt(%q) = %+v, %v; want %+v", prompt, got, ok, want)
		}
	}
	for _, prompt := range []string{"", "Card 12: x", "Card #x: y", "hello\nCard #1: x", "The Card #1: x"} {
		if _, ok := parseCardPrompt(prompt); ok {
			t.Errorf("parseCardPrompt(%q) accepted a non-card prompt", prompt)
		}
	}
}

// longPrompt is a prompt that reaches the named long topic.
func longPrompt(t testing.TB, name string) string {
	t.Helper()
	for _, tt := range topicPrompts {
		if tt.topic == name {
			return tt.prompt
		}
	}
	t.Fatalf("no prompt reaches topic %q", name)
	return ""
}

// TestAnswerShapes pins what the answers are made of: every long answer has
// 600 to 750 words, headings, a bulleted list and one Go block of 10 to 15
// lines, and lasts 6 to 10 seconds at the default pace; the short topics
// are 100 to 250 words; greetings last about a second.
func TestAnswerShapes(t *testing.T) {
	for _, tp := range topics {
		words := len(strings.Fields(tp.answer))
		if !tp.long {
			if words < 100 || words > 250 {
				t.Errorf("topic %s: %d words, want 100-250", tp.name, words)
			}
			continue
		}
		a := tp.answer
		if words < 600 || words > 750 {
			t.Errorf("long topic %s: %d words, want 600-750", tp.name, words)
		}
		if !strings.HasPrefix(a, "# ") || strings.Count(a, "\n## ") < 2 || strings.Count(a, "\n- ") < 3 || strings.Count(a, "```go\n") != 1 || strings.Count(a, "\n```\n") != 1 {
			t.Errorf("long topic %s lacks a heading, sections, a list or exactly one Go block", tp.name)
		}
		code := strings.SplitN(strings.SplitN(a, "```go\n", 2)[1], "```", 2)[0]
		if n := strings.Count(code, "\n"); n < 10 || n > 15 {
			t.Errorf("long topic %s: Go block has %d lines, want 10-15", tp.name, n)
		}
		p := planFor(longPrompt(t, tp.name))
		if p.text != a {
			t.Fatalf("the prompt for %s does not reach it", tp.name)
		}
		if d := time.Duration(len(p.pieces)) * DefaultTokenDelay; d < 6*time.Second || d > 10*time.Second {
			t.Errorf("long topic %s: %d chunks last %v at the default pace, want 6-10 s", tp.name, len(p.pieces), d)
		}
	}
	for i, a := range shortAnswers {
		p := planFor(promptForShort(t, i))
		if d := time.Duration(len(p.pieces)) * DefaultTokenDelay; d < 400*time.Millisecond || d > 1500*time.Millisecond || strings.Count(a, "\n") > 8 {
			t.Errorf("short answer %d: %d chunks (%v), %d lines", i, len(p.pieces), d, strings.Count(a, "\n"))
		}
	}
	fb := planFor("What's the weather like in Lisbon?")
	for _, want := range []string{"offline demo model", "“What's the weather like in Lisbon?”", "Ctrl-C", "add a card", "run git status", "Workers", "OPENAI_BASE_URL", "OPENAI_API_KEY", "SPINDLE_MODEL", "config.toml"} {
		if !strings.Contains(fb.text, want) {
			t.Errorf("the fallback lacks %q", want)
		}
	}
	if !strings.Contains(planFor("*zebra* `pi` <y>").text, `“\*zebra\* \`+"`"+`pi\`+"`"+` \<y\>”`) {
		t.Error("the fallback does not escape the prompt it quotes")
	}
}

// goBlockRE finds the Go code blocks of an answer.
var goBlockRE = regexp.MustCompile("(?s)```go\n(.*?)```")

// parseGo parses a Go block: a whole file, or declarations.
func parseGo(code string) error {
	if !strings.HasPrefix(code, "package ") {
		code = "package p\n\n" + code
	}
	_, err := parser.ParseFile(token.NewFileSet(), "block.go", code, parser.AllErrors)
	return err
}

// TestGoBlocksParse: every Go block the model shows is valid Go.
func TestGoBlocksParse(t *testing.T) {
	n := 0
	for _, tp := range topics {
		for _, m := range goBlockRE.FindAllStringSubmatch(tp.answer, -1) {
			n++
			if err := parseGo(m[1]); err != nil {
				t.Errorf("topic %s: Go block does not parse: %v", tp.name, err)
			}
		}
	}
	if n < 5 {
		t.Errorf("found %d Go blocks, want one per long topic and the Go example", n)
	}
	// Control: the check sees a broken block.
	if parseGo("func f( {\n") == nil {
		t.Error("parseGo accepted broken Go")
	}
}

func TestSplitWordsAddsUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	texts := []string{"", " ", "a", "  lead and trail  ", "tabs\tand\n\nnewlines\n"}
	for _, tp := range topics {
		texts = append(texts, tp.answer)
	}
	for _, text := range texts {
		pieces := splitWords(text, rng)
		if strings.Join(pieces, "") != text {
			t.Fatalf("pieces of %q do not add up", text)
		}
		for _, p := range pieces {
			if n := len(strings.Fields(p)); p == "" || n > 4 {
				t.Fatalf("piece %q has %d words", p, n)
			}
		}
	}
	args := `{"title":"Café ☕ über 日本語"}`
	for range 50 {
		pieces := splitBytes(args, rng)
		if strings.Join(pieces, "") != args {
			t.Fatal("argument pieces do not add up")
		}
		for _, p := range pieces {
			if !strings.ContainsRune(p, 0xFFFD) && !isValidUTF8(p) {
				t.Fatalf("piece %q splits a UTF-8 sequence", p)
			}
		}
	}
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestEffectiveDelay(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		0: DefaultTokenDelay, -1: 0, time.Nanosecond: 0, time.Microsecond: time.Microsecond, 5 * time.Millisecond: 5 * time.Millisecond,
	} {
		if got := effectiveDelay(in); got != want {
			t.Errorf("effectiveDelay(%v) = %v, want %v", in, got, want)
		}
	}
}

// promptForShort finds a greeting whose answer is shortAnswers[v].
func promptForShort(t testing.TB, v int) string {
	t.Helper()
	for i := range 100 {
		p := fmt.Sprintf("hello %d", i)
		if Reply(p) == shortAnswers[v] {
			return p
		}
	}
	t.Fatalf("no greeting reaches short answer %d", v)
	return ""
}
