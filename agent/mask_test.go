package agent

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
)

// longKey is shaped like a real key: 42 characters.
const longKey = "sk-proj-Zq7RkW2mNcX9vTbL4hYpA8sDfG3jKeU1oI"

// keyRun returns the first run of maskRun or more consecutive characters of
// key found in s, or "".
func keyRun(s, key string) string {
	const n = 12
	for i := 0; i+n <= len(key); i++ {
		if strings.Contains(s, key[i:i+n]) {
			return key[i : i+n]
		}
	}
	return ""
}

func TestMaskKey(t *testing.T) {
	tests := []struct {
		name, key, in, want string
	}{
		{"whole key", longKey, "bad key " + longKey + ".", "bad key [API key]."},
		{"twice", longKey, longKey + " and " + longKey, "[API key] and [API key]"},
		{"cut by the server", longKey, "key " + longKey[:14] + "… rejected", "key [API key]… rejected"},
		{"tail only", longKey, "key …" + longKey[28:] + " rejected", "key …[API key] rejected"},
		{"inside a longer word: the whole word", longKey, "x=ab" + longKey + "cd;", "x=[API key];"},
		{"after Bearer", longKey, "header Authorization: Bearer " + longKey, "header Authorization: Bearer [API key]"},
		{"short run left alone", longKey, "key sk-proj-Zq7…oI", "key sk-proj-Zq7…oI"},
		{"11 characters left alone", longKey, "key " + longKey[5:16], "key " + longKey[5:16]},
		{"12 characters masked", longKey, "key " + longKey[5:17], "key [API key]"},
		{"base64 alphabet", "QUJDREVGR0hJSktM+/=0123", "got QUJDREVGR0hJSktM+/=0123 here", "got [API key] here"},
		{"short key never masked", "llama", "model llama3 not found: ollama pull llama", "model llama3 not found: ollama pull llama"},
		{"one-letter key never masked", "e", "the model was not found", "the model was not found"},
		{"11-character key never masked", "local-dummy", "key local-dummy", "key local-dummy"},
		{"no key", "", "anything " + longKey, "anything " + longKey},
		{"unicode around", longKey, "é" + longKey + "é", "é[API key]é"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := maskKey(tt.in, tt.key); got != tt.want {
				t.Errorf("maskKey(%q, %q) = %q, want %q", tt.in, tt.key, got, tt.want)
			}
		})
	}
}

// TestServerTextCutNeverShowsKey feeds classify a server message that
// repeats the key at every offset around the 160-byte cut of a 400's
// detail, and the other paths that quote a server's text. Before the fix
// the cut came first and up to 40 of the 42 characters survived.
func TestServerTextCutNeverShowsKey(t *testing.T) {
	// Negative control: cutting first, as before, leaves a part of the
	// key that keyRun sees.
	if keyRun(clip(strings.Repeat("x", 118)+" "+longKey, 160), longKey) == "" {
		t.Fatal("keyRun cannot see a key cut at 160 bytes")
	}
	for pad := 80; pad <= 170; pad++ {
		msg := strings.Repeat("x", pad) + " " + longKey + " tail"
		for _, err := range []error{
			&openai.Error{StatusCode: 400, Message: msg},
			&openai.Error{StatusCode: 503, Message: msg},
			errors.New(msg),
		} {
			cl := classify(err, false, "https://api.example/v1", "m", longKey)
			if run := keyRun(cl.err.Msg, longKey); run != "" {
				t.Fatalf("pad %d, %T: message %q shows %q of the key", pad, err, cl.err.Msg, run)
			}
		}
	}
}

// TestShortDummyKeyDoesNotGarble: keys like "llama" are common with local
// servers and must not be masked inside words.
func TestShortDummyKeyDoesNotGarble(t *testing.T) {
	for _, key := range []string{"e", "llama", "ollama"} {
		err := &openai.Error{StatusCode: 400, Message: "model llama3 is not loaded; run ollama pull llama3"}
		got := classify(err, false, "http://localhost:11434/v1", "llama3", key).err.Msg
		if !strings.Contains(got, "model llama3 is not loaded; run ollama pull llama3") || strings.Contains(got, keyMask) {
			t.Errorf("key %q: %q", key, got)
		}
	}
}

// TestKeyMaskedEverywhereThroughATurn repeats the key near the cut in a real
// 400 over loopback and checks every place the message reaches: the Failed
// event, state.db and the log.
func TestKeyMaskedEverywhereThroughATurn(t *testing.T) {
	for _, pad := range []int{0, 100, 118, 120, 130, 150} {
		e := newEnv(t)
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
			key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			apiError(w, http.StatusBadRequest, "bad_header", strings.Repeat("y", pad)+" cannot use "+key+" here")
		})
		a := e.agent(ts.base(), func(c *Config) { c.APIKey = longKey })
		sid := e.session()
		ch, err := a.Send(context.Background(), sid, "hi")
		if err != nil {
			t.Fatal(err)
		}
		f, ok := collect(t, ch).terminal.(Failed)
		if !ok {
			t.Fatalf("pad %d: want Failed", pad)
		}
		m := e.lastAssistant(sid)
		for where, s := range map[string]string{"event": f.Err.Error(), "state.db": m.Error, "log": e.log.String()} {
			if run := keyRun(s, longKey); run != "" {
				t.Errorf("pad %d: %s shows %q of the key: %q", pad, where, run, s)
			}
		}
		if !strings.Contains(m.Error, "request rejected (400 Bad Request)") {
			t.Errorf("pad %d: saved error %q", pad, m.Error)
		}
	}
}

// TestServerTextSanitized sends terminal control sequences (an OSC 52
// clipboard write, a screen clear) in each place a server's text reaches a
// message, and checks the Failed error and state.db hold none of it.
func TestServerTextSanitized(t *testing.T) {
	const evil = "bad\x1b]52;c;aGVsbG8=\x07 thing\x1b[2J\r\nhere\u202e"
	hasControls := func(s string) bool {
		return strings.ContainsAny(s, "\x1b\x07\r\n\u202e") || strings.Contains(s, "52;c")
	}
	if !hasControls(evil) {
		t.Fatal("the check cannot see the sequences") // negative control
	}
	cases := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, attempt int, req chatRequest)
		has     string
	}{
		{"400 message", func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
			apiError(w, http.StatusBadRequest, "x", evil)
		}, "request rejected (400 Bad Request)"},
		{"error event mid-stream", func(w http.ResponseWriter, r *http.Request, _ int, _ chatRequest) {
			s := startSSE(w)
			b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": evil, "type": "server_error"}})
			s.raw(string(b))
		}, "while streaming"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ts := newTestServer(t, tc.handler)
			a := e.agent(ts.base(), nil)
			sid := e.session()
			ch, err := a.Send(context.Background(), sid, "hi")
			if err != nil {
				t.Fatal(err)
			}
			f, ok := collect(t, ch).terminal.(Failed)
			if !ok {
				t.Fatal("want Failed")
			}
			m := e.lastAssistant(sid)
			for where, s := range map[string]string{"event": f.Err.Error(), "state.db": m.Error} {
				if hasControls(s) {
					t.Errorf("%s holds control sequences: %q", where, s)
				}
				if !strings.Contains(s, tc.has) || !strings.Contains(s, "bad thing here") {
					t.Errorf("%s = %q, want %q and the server's words", where, s, tc.has)
				}
			}
		})
	}
}
