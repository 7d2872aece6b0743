package offline

import (
	"encoding/json"
	"testing"
)

// FuzzPlanReply feeds arbitrary request bodies through what the handler
// does before it writes: decode, validate, plan. Nothing may panic, and a
// valid request's plan satisfies checkPlan: its pieces add up to exactly
// the text and the arguments planned, it calls only a tool the request
// offers, and an error reply has a message and nothing to stream. The
// seeds cover every kind of reply; run longer with
//
//	go test -run '^$' -fuzz FuzzPlanReply -fuzztime 60s ./agent/offline/
func FuzzPlanReply(f *testing.F) {
	const workerTools = `"tools":[{"type":"function","function":{"name":"card_comment"}},{"type":"function","function":{"name":"card_done"}},{"type":"function","function":{"name":"card_block"}}]`
	for _, seed := range []string{
		`{"messages":[{"role":"user","content":"hello"}]}`,
		`{"messages":[{"role":"user","content":"tell me everything"}]}`,
		`{"messages":[{"role":"user","content":"how do I connect a real model?"}]}`,
		`{"messages":[{"role":"user","content":"what is the weather"}]}`,
		`{"messages":[{"role":"user","content":"add a card called \"X\""}],"tools":[{"type":"function","function":{"name":"kanban_create"}}]}`,
		`{"messages":[{"role":"user","content":"add a card"}],"tools":[{"function":{"name":"kanban_create"}}],"tool_choice":"none"}`,
		`{"messages":[{"role":"user","content":[{"type":"text","text":"add card ‘é’"}]}]}`,
		`{"messages":[{"role":"user","content":"run git status"}],"tools":[{"type":"function","function":{"name":"bash"}}]}`,
		`{"messages":[{"role":"user","content":"run git status"}]}`,
		`{"messages":[{"role":"user","content":"show me main.go"}],"tools":[{"type":"function","function":{"name":"view"}}]}`,
		`{"messages":[{"role":"user","content":"list files"}],"tools":[{"type":"function","function":{"name":"ls"}}]}`,
		`{"messages":[{"role":"assistant","tool_calls":[{"id":"c1","function":{"name":"kanban_list","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"{\"card\":{\"title\":\"t\",\"id\":1.5e400}}"}]}`,
		`{"messages":[{"role":"assistant","tool_calls":[{"id":"c1","function":{"name":"bash","arguments":"{\"command\":\"ls\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"exit status 0\nREADME.md"}]}`,
		`{"messages":[{"role":"assistant","tool_calls":[{"id":"c1","function":{"name":"ls","arguments":"{\"path\":1}"}}]},{"role":"tool","tool_call_id":"c1","content":"{\"entries\":[1,{\"name\":\"a\"},null]}"}]}`,
		`{"messages":[{"role":"tool","tool_call_id":"c","content":"[[[[[[]]]]]]"}]}`,
		`{"messages":[{"role":"system","content":null}],"stream":true,"stream_options":null}`,
		`{"messages":[{"role":"user","content":"Card #1: Write it\nbody"}],` + workerTools + `}`,
		`{"messages":[{"role":"user","content":"Card #2: Make this fail"}],` + workerTools + `}`,
		`{"messages":[{"role":"user","content":"Card #3: x\nblocked"},{"role":"assistant","tool_calls":[{"id":"c1","function":{"name":"card_comment","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}],` + workerTools + `}`,
		`{"messages":[{"role":"user","content":"Card #3: x"},{"role":"assistant","tool_calls":[{"id":"c1","function":{"name":"card_done","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"{\"error\":\"no\"}"}],` + workerTools + `}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req chatRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		if _, err := req.validate(); err != nil {
			return
		}
		r := planReply(&req)
		if err := checkPlan(&req, r); err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(r.completion("m", 0)); err != nil {
			t.Fatalf("completion does not encode: %v", err)
		}
	})
}
