package offline

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzPlanReply feeds arbitrary request bodies through what the handler
// does before it writes: decode, validate, plan. Nothing may panic, and a
// valid request's pieces add up to exactly the text or arguments planned.
// The seeds cover every kind of reply; run longer with
//
//	go test -run '^$' -fuzz FuzzPlanReply -fuzztime 60s ./agent/offline/
func FuzzPlanReply(f *testing.F) {
	for _, seed := range []string{
		`{"messages":[{"role":"user","content":"hello"}]}`,
		`{"messages":[{"role":"user","content":"tell me everything"}]}`,
		`{"messages":[{"role":"user","content":"add a card called \"X\""}],"tools":[{"type":"function","function":{"name":"kanban_create"}}]}`,
		`{"messages":[{"role":"user","content":"add a card"}],"tools":[{"function":{"name":"kanban_create"}}],"tool_choice":"none"}`,
		`{"messages":[{"role":"user","content":[{"type":"text","text":"add card ‘é’"}]}]}`,
		`{"messages":[{"role":"assistant","tool_calls":[{"id":"c1","function":{"name":"kanban_list","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"{\"card\":{\"title\":\"t\",\"id\":1.5e400}}"}]}`,
		`{"messages":[{"role":"tool","tool_call_id":"c","content":"[[[[[[]]]]]]"}]}`,
		`{"messages":[{"role":"system","content":null}],"stream":true,"stream_options":null}`,
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
		want := r.text
		if r.call != nil {
			want = r.call.Function.Arguments
		}
		if got := strings.Join(r.pieces, ""); got != want || want == "" {
			t.Fatalf("pieces %q do not add up to %q", got, want)
		}
		if _, err := json.Marshal(r.completion("m", 0)); err != nil {
			t.Fatalf("completion does not encode: %v", err)
		}
	})
}
