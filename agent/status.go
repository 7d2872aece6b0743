package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxErrorBody bounds how much of an HTTP error's body is read. Error
// bodies are small; a server that sends an endless one must not grow
// memory (openai-go would read all of it).
const maxErrorBody = 64 << 10

// statusError is an HTTP answer outside 2xx, read by the response
// middleware before openai-go sees it. openai-go decodes an error body only
// in OpenAI's shape ({"error":{"message":…}}) and turns any other shape
// (llama.cpp's, Ollama's and many proxies' {"error":"…"}) into a JSON
// decoding error that loses the status; statusError keeps the status and
// whatever message the body holds.
type statusError struct {
	Status int
	Header http.Header
	// Message is the server's message as sent (unsanitized, possibly
	// quoting the key): only classify turns it into text for people.
	Message string
	Code    string // the error code, when the body names one
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
}

// readStatusError reads at most maxErrorBody bytes of res's body, closes
// it, and returns the status and message as a *statusError. A body cut
// short by a read error still gives the status.
func readStatusError(res *http.Response) *statusError {
	body, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
	res.Body.Close()
	msg, code := errorBodyMessage(body, res.Header.Get("Content-Type"))
	return &statusError{Status: res.StatusCode, Header: res.Header, Message: msg, Code: code}
}

// errorBodyMessage finds the message (and code) in an error body, in the
// shapes servers use:
//
//	{"error":{"message":"…","code":"…"}}      OpenAI, vLLM's proxies, LiteLLM
//	{"error":"…","code":404}                  llama.cpp, Ollama, many proxies
//	{"message":"…","code":404}                vLLM, some gateways
//	{"detail":"…"}                            FastAPI servers
//	an HTML page                              its <title>
//	anything else                             the text itself
func errorBodyMessage(body []byte, contentType string) (msg, code string) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return "", ""
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) == nil {
		code = jsonScalar(top["code"])
		if raw, ok := top["error"]; ok {
			var inner map[string]json.RawMessage
			if json.Unmarshal(raw, &inner) == nil {
				if c := jsonScalar(inner["code"]); c != "" {
					code = c
				}
				return jsonScalar(inner["message"]), code
			}
			return jsonScalar(raw), code
		}
		for _, k := range []string{"message", "detail"} {
			if raw, ok := top[k]; ok {
				if m := jsonScalar(raw); m != "" {
					return m, code
				}
				return string(raw), code
			}
		}
		return "", code
	}
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "text/html" || bytes.HasPrefix(bytes.ToLower(body), []byte("<!doctype html")) || bytes.HasPrefix(bytes.ToLower(body), []byte("<html")) {
		return htmlTitle(body), ""
	}
	return string(body), ""
}

// jsonScalar is a JSON string's value or a number's text, else "".
func jsonScalar(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// htmlTitle is the text of an HTML page's <title>, or "" when it has none:
// the rest of a page is markup, useless in a one-line message.
func htmlTitle(body []byte) string {
	lower := bytes.ToLower(body)
	i := bytes.Index(lower, []byte("<title"))
	if i < 0 {
		return ""
	}
	j := bytes.IndexByte(lower[i:], '>')
	if j < 0 {
		return ""
	}
	start := i + j + 1
	end := bytes.Index(lower[start:], []byte("</title"))
	if end < 0 {
		return ""
	}
	return strings.TrimSpace(string(body[start : start+end]))
}
