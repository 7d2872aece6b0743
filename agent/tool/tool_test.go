package tool

import "testing"

func TestDescribe(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{`{"command":"echo hello > proof.txt"}`, "echo hello > proof.txt"},
		{`{"path":"main.go","offset":3}`, "main.go"},
		{`{"pattern":"TODO","path":"agent"}`, "TODO in agent"},
		{`{"title":"Write the docs"}`, "Write the docs"},
		{`{"id":3,"status":"done"}`, `{"id":3,"status":"done"}`},
		{`not json`, "not json"},
		{``, ""},
	} {
		if got := Describe(Call{Name: "x", Args: tc.args}); got != tc.want {
			t.Errorf("Describe(%s) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestDecode(t *testing.T) {
	var v struct {
		ID   int64  `json:"id"`
		Text string `json:"text"`
	}
	for _, tc := range []struct {
		args string
		ok   bool
	}{
		{`{"id":1,"text":"x"}`, true},
		{`{"id":1}`, false},                  // text missing
		{`{"id":1,"text":null}`, false},      // null is missing
		{`{"id":1,"text":"x","y":2}`, false}, // unknown field
		{`{"id":1,"text":"x"} {}`, false},    // two values
		{`{"id":`, false},
	} {
		err := Decode(Call{Name: "t", Args: tc.args}, &v, "id", "text")
		if (err == nil) != tc.ok {
			t.Errorf("Decode(%s) = %v, want ok=%v", tc.args, err, tc.ok)
		}
	}
}
