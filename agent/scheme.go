package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spindle-sh/spindle/transport"
)

// An http:// base URL that points at a server speaking TLS fails in one of
// three ways, depending on the server:
//
//   - Go's net/http and nginx answer the plain request with a plain 400 page
//     saying so (tlsPortPage);
//   - some TLS stacks answer with a TLS alert record (0x15 0x03 …), which
//     net/http reports as a malformed HTTP response (answeredWithTLS);
//   - OpenSSL-based servers (uvicorn, llama.cpp's, Python's) just hang up,
//     which looks like any server dropping the connection; confirmTLS then
//     asks the same host:port for a TLS handshake to tell the two apart.
//
// Each becomes a bad_base_url error that says to use https://, not retried.

// plainToTLSMessage is the message for an http:// base URL whose server
// speaks TLS.
func plainToTLSMessage(host string) string {
	return fmt.Sprintf("the server at %s speaks TLS: use an https:// base URL", host)
}

// tlsPortPage reports whether an error page's message is a server saying
// that a plain HTTP request reached its TLS port.
func tlsPortPage(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "http request to an https server") || // Go's net/http
		strings.Contains(m, "plain http request was sent to https port") // nginx
}

// answeredWithTLS reports whether a plain HTTP request got a TLS record back
// instead of a status line: net/http quotes the bytes it could not parse,
// and a TLS record starts with its type (0x14..0x17) and major version 3.
func answeredWithTLS(err error) bool {
	const prefix = `malformed HTTP response "`
	s := err.Error()
	i := strings.Index(s, prefix)
	if i < 0 {
		return false
	}
	rest := s[i+len(prefix):]
	for _, rec := range []string{`\x14\x03`, `\x15\x03`, `\x16\x03`, `\x17\x03`} {
		if strings.HasPrefix(rest, rec) {
			return true
		}
	}
	return false
}

// tlsProbeTimeout bounds confirmTLS's handshake.
const tlsProbeTimeout = 5 * time.Second

// confirmTLS is called on the owner's goroutine after classify. When cl is
// an http:// request that the server dropped before answering
// (cl.maybeTLS), it asks the same host and port for a TLS handshake through
// the owner's client, so the probe's socket is owned, shut down by an
// interrupt and reaped like any other. If the server completes a handshake,
// or fails it only on the certificate, or sends a TLS alert, it speaks TLS:
// the result is a bad_base_url error saying so, not retryable. Otherwise cl
// is returned unchanged.
func confirmTLS(o *transport.Owner, baseURL string, cl classified) classified {
	if !cl.maybeTLS {
		return cl
	}
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "http" {
		return cl
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	if !handshakes(o.Client(), "https://"+host+"/") {
		o.Reap()
		return cl
	}
	o.Reap()
	return classified{err: &RequestError{Kind: "bad_base_url", Msg: scrub(plainToTLSMessage(u.Host), ""), Err: cl.err.Err}}
}

// handshakes reports whether the server at an https:// URL answers a TLS
// handshake. It stops as soon as the handshake is over: the request after
// it is never waited for.
func handshakes(client *http.Client, rawURL string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), tlsProbeTimeout)
	defer cancel()
	var speaks atomic.Bool
	trace := &httptrace.ClientTrace{
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if spokeTLS(err) {
				speaks.Store(true)
			}
			cancel()
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodHead, rawURL, nil)
	if err != nil {
		return false
	}
	if res, err := client.Do(req); err == nil {
		res.Body.Close()
	}
	return speaks.Load()
}

// spokeTLS reports whether a handshake's outcome shows a TLS server: it
// completed, or failed only in verifying the certificate, or the server
// sent an alert. A reply that is not a TLS record, or a dropped connection,
// shows nothing.
func spokeTLS(err error) bool {
	if err == nil {
		return true
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return false
	}
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return true
	}
	return strings.Contains(err.Error(), "remote error: tls: ")
}
