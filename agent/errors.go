package agent

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/spindle-sh/spindle/sanitize"
)

// ErrBusy is returned by Send when the session already has a running turn.
var ErrBusy = errors.New("agent: this session is already streaming a reply")

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("agent: closed")

// RequestError is a failed turn's error: Error() is one line meant for
// people (status bar, stderr), never containing the API key; Unwrap gives the
// underlying error for errors.Is/As.
type RequestError struct {
	// Kind says what went wrong, for callers that branch on it: "auth",
	// "model_not_found", "not_found", "rate_limited", "server", "rejected",
	// "connect", "bad_base_url", "tls", "malformed_stream",
	// "truncated_stream", "stream_error", "reply_too_large",
	// "event_too_large", "tool_rounds", "other".
	Kind   string
	Status int    // HTTP status, 0 when there was no response
	Msg    string // one line, sanitized, the key masked (see scrub)
	Err    error
}

// Error returns the one-line message for people.
func (e *RequestError) Error() string { return e.Msg }

// Unwrap returns the underlying error.
func (e *RequestError) Unwrap() error { return e.Err }

// errNotStreaming is returned by the response middleware when a 2xx answer
// is not an event stream (a web page at the base URL, a proxy's login page).
type errNotStreaming struct{ contentType string }

func (e errNotStreaming) Error() string {
	return fmt.Sprintf("the endpoint did not answer with an event stream (content-type %q)", e.contentType)
}

// classified is the outcome of looking at one attempt's error.
type classified struct {
	err        *RequestError
	retryable  bool          // connect error, 429 or 5xx
	retryAfter time.Duration // from the response, if any
	// maybeTLS: an http:// request was dropped before any answer, which
	// is what a TLS-only server does with one; confirmTLS checks.
	maybeTLS bool
}

// classify turns an attempt's error into a one-line RequestError and says
// whether it may be retried (only meaningful before the first token).
// streaming is true when a 2xx response had started streaming.
//
// Every message goes through scrub once more as a whole, so RequestError.Msg
// is always sanitized, on one line, and free of the key; every piece of a
// server's text is scrubbed before it is cut (server), so that no cut can
// leave part of the key unmasked.
func classify(err error, streaming bool, baseURL, model, key string) classified {
	host := hostOf(baseURL)
	mk := func(kind string, status int, format string, args ...any) *RequestError {
		return &RequestError{Kind: kind, Status: status, Msg: scrub(fmt.Sprintf(format, args...), key), Err: err}
	}
	server := func(s string, n int) string { return clip(scrub(s, key), n) }

	var f httpFailure
	var apiErr *openai.Error
	var stErr *statusError
	switch {
	case errors.As(err, &stErr):
		f = httpFailure{status: stErr.Status, header: stErr.Header, message: stErr.Message, code: stErr.Code}
	case errors.As(err, &apiErr):
		f = httpFailure{status: apiErr.StatusCode, message: apiErr.Message, code: apiErr.Code}
		if apiErr.Response != nil {
			f.header = apiErr.Response.Header
		}
	}
	if f.status != 0 {
		st := f.status
		detail := ""
		if m := server(f.message, 160); m != "" {
			detail = ": " + m
		}
		switch {
		case strings.HasPrefix(baseURL, "http://") && tlsPortPage(f.message):
			return classified{err: mk("bad_base_url", st, "%s", plainToTLSMessage(host))}
		case st == http.StatusUnauthorized:
			// The server's message may echo part of the key; leave it out.
			return classified{err: mk("auth", st, "authentication failed (401 Unauthorized) at %s: check OPENAI_API_KEY", host)}
		case st == http.StatusForbidden:
			return classified{err: mk("auth", st, "permission denied (403 Forbidden) at %s: the key may not have access to model %q", host, model)}
		case st == http.StatusNotFound:
			if f.code == "model_not_found" || strings.Contains(strings.ToLower(f.message), "model") {
				return classified{err: mk("model_not_found", st, "model %q not found at %s (404): check --model or SPINDLE_MODEL", model, host)}
			}
			return classified{err: mk("not_found", st, "%s/chat/completions not found (404): check the base URL (it usually ends in /v1) and model %q", strings.TrimRight(baseURL, "/"), model)}
		case st == http.StatusTooManyRequests:
			return classified{err: mk("rate_limited", st, "rate limited (429 Too Many Requests) at %s%s", host, detail), retryable: true, retryAfter: retryAfter(f.header, time.Now())}
		case st >= 500:
			return classified{err: mk("server", st, "server error (%s) at %s%s", f.statusText(), host, detail), retryable: true, retryAfter: retryAfter(f.header, time.Now())}
		default:
			return classified{err: mk("rejected", st, "request rejected (%s) by %s%s", f.statusText(), host, detail)}
		}
	}

	var ns errNotStreaming
	if errors.As(err, &ns) {
		return classified{err: mk("bad_base_url", 0, "%s: %s is probably not an OpenAI-compatible base URL", ns.Error(), baseURL)}
	}
	var big *errEventTooLarge
	if errors.As(err, &big) {
		return classified{err: mk("event_too_large", 0, "an event from %s passed the %s limit (max_event_bytes); what arrived before it is saved", host, sizeText(big.max))}
	}
	if strings.HasPrefix(baseURL, "http://") && answeredWithTLS(err) {
		return classified{err: mk("bad_base_url", 0, "%s", plainToTLSMessage(host))}
	}
	if m := tlsProblem(err); m != "" {
		return classified{err: mk("tls", 0, "TLS failure connecting to %s: %s", host, m)}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return classified{err: mk("bad_base_url", 0, "bad base URL %s: host %q not found", baseURL, dnsErr.Name)}
		}
		return classified{err: mk("connect", 0, "cannot resolve %s: %s", host, dnsErr.Err), retryable: true}
	}
	var opErr *net.OpError
	if !streaming && errors.As(err, &opErr) && opErr.Op == "dial" {
		return classified{err: mk("connect", 0, "cannot connect to %s: %s", host, syscallText(opErr)), retryable: true}
	}
	var urlErr *url.Error
	if !streaming && errors.As(err, &urlErr) && !errors.As(err, &opErr) && strings.Contains(urlErr.Err.Error(), "unsupported protocol scheme") {
		return classified{err: mk("bad_base_url", 0, "bad base URL %q: scheme must be http or https", baseURL)}
	}

	var streamErr *ssestream.StreamError
	if errors.As(err, &streamErr) {
		// The event's own message rather than openai-go's text, which is
		// the raw JSON of the error object with its escapes.
		m, _ := errorBodyMessage(streamErr.Event.Data, "application/json")
		if m == "" {
			m = strings.TrimPrefix(streamErr.Message, "received error while streaming: ")
		}
		return classified{err: mk("stream_error", 0, "the server reported an error while streaming: %s", server(m, 200))}
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.As(err, &typ) || (streaming && isJSONError(err)) {
		return classified{err: mk("malformed_stream", 0, "malformed stream from %s: a chunk is not valid chat-completion JSON (%s)", host, server(err.Error(), 120))}
	}
	if streaming {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) {
			return classified{err: mk("truncated_stream", 0, "the stream from %s broke off: %s", host, server(err.Error(), 120))}
		}
		return classified{err: mk("truncated_stream", 0, "the stream from %s failed: %s", host, server(err.Error(), 160))}
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		// The server hung up before answering: a connect-level failure,
		// or a TLS server that got a plain request. When it hangs up while
		// the request is still being written, net/http reports the write's
		// error: a broken pipe, or a closed conn (its reader saw the end
		// first and closed it).
		return classified{err: mk("connect", 0, "%s closed the connection before answering", host), retryable: true, maybeTLS: strings.HasPrefix(baseURL, "http://")}
	}
	inner := err
	if urlErr != nil || errors.As(err, &urlErr) {
		inner = urlErr.Err // drop the `Post "URL":` prefix
	}
	return classified{err: mk("other", 0, "request to %s failed: %s", host, server(inner.Error(), 200))}
}

// httpFailure is what classify needs of an HTTP error answer, whether
// openai-go decoded it (*openai.Error, from a request without spindle's
// middleware) or the middleware did (*statusError).
type httpFailure struct {
	status  int
	header  http.Header
	message string
	code    string
}

// statusText is "404 Not Found", or only the number for a status that Go
// has no name for.
func (f httpFailure) statusText() string {
	if t := http.StatusText(f.status); t != "" {
		return strconv.Itoa(f.status) + " " + t
	}
	return strconv.Itoa(f.status)
}

// isJSONError recognises decoding errors that do not use encoding/json's
// types (openai-go validates a chunk's shape itself).
func isJSONError(err error) bool {
	s := err.Error()
	return strings.Contains(s, "json") || strings.Contains(s, "JSON") || strings.Contains(s, "invalid character") || strings.Contains(s, "unexpected end of")
}

// tlsProblem describes a certificate or handshake failure, or returns "".
func tlsProblem(err error) string {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var cve *tls.CertificateVerificationError
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &he):
		return "x509: " + strings.TrimPrefix(he.Error(), "x509: ")
	case errors.As(err, &ua):
		return "x509: certificate signed by unknown authority (set SSL_CERT_FILE to trust it)"
	case errors.As(err, &ci):
		return "x509: " + strings.TrimPrefix(ci.Error(), "x509: ")
	case errors.As(err, &cve):
		return "x509: " + strings.TrimPrefix(cve.Err.Error(), "x509: ")
	case errors.As(err, &rh):
		return "the server did not answer with TLS (is it plain http?)"
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return "the server answered in plain HTTP (use an http:// base URL)"
	}
	if s := err.Error(); strings.Contains(s, "tls: ") || strings.Contains(s, "x509: ") {
		i := strings.Index(s, "tls: ")
		if j := strings.Index(s, "x509: "); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		return s[i:]
	}
	return ""
}

func syscallText(e *net.OpError) string {
	var se *net.AddrError
	if errors.As(e, &se) {
		return se.Error()
	}
	switch {
	case errors.Is(e, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(e, syscall.EHOSTUNREACH), errors.Is(e, syscall.ENETUNREACH):
		return "host unreachable"
	case e.Timeout():
		return "timed out"
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Error()
}

// oneLine makes an error text safe to show on one line: terminal controls
// removed and line breaks folded (sanitize.Line). It does not mask the key;
// a server's text goes through scrub instead.
func oneLine(s string) string { return sanitize.Line(s) }

// clip shortens s to at most n bytes (on a rune boundary). It only cuts:
// s must already be clean (scrub), so that the cut cannot split the key.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
