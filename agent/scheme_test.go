package agent

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// tcpServer is a loopback listener whose every connection is handled by
// serve in its own goroutine; Close waits for them all.
type tcpServer struct {
	ln    net.Listener
	conns atomic.Int64
	wg    sync.WaitGroup
}

func startTCP(t *testing.T, ln net.Listener, serve func(net.Conn)) *tcpServer {
	t.Helper()
	s := &tcpServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// testCert is a certificate for 127.0.0.1 that the agent does not trust.
func testCert(t *testing.T) tls.Certificate {
	t.Helper()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	return srv.TLS.Certificates[0]
}

// runFailed sends one message and returns the turn's RequestError.
func runFailed(t *testing.T, e *env, base string) *RequestError {
	t.Helper()
	a := e.agent(base, nil)
	ch, err := a.Send(context.Background(), e.session(), "hi")
	if err != nil {
		t.Fatal(err)
	}
	r := collect(t, ch)
	f, ok := r.terminal.(Failed)
	if !ok {
		t.Fatalf("terminal = %#v, want Failed", r.terminal)
	}
	var re *RequestError
	if !errors.As(f.Err, &re) {
		t.Fatalf("Failed.Err is %T", f.Err)
	}
	return re
}

// TestHTTPURLToTLSServer points an http:// base URL at servers that speak
// only TLS. Before the fix: "request rejected (400 Bad Request)" from Go's
// server, "closed the connection before answering (gave up after 3
// retries)" from one that hangs up, and "malformed HTTP response" from one
// that answers with a TLS alert.
func TestHTTPURLToTLSServer(t *testing.T) {
	cert := testCert(t)
	cases := []struct {
		name  string
		start func(t *testing.T) (hostport string, conns func() int64)
		// maxConns: the failed request, plus the TLS probe when needed;
		// more means it was retried.
		maxConns int64
	}{
		{"Go's net/http TLS server (answers a plain 400)", func(t *testing.T) (string, func() int64) {
			var n atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			srv.Config.ErrorLog = quietLog()
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					n.Add(1)
				}
			}
			srv.StartTLS()
			t.Cleanup(srv.Close)
			return srv.Listener.Addr().String(), n.Load
		}, 1},
		{"TLS server that hangs up on a plain request", func(t *testing.T) (string, func() int64) {
			ln := tls.NewListener(listen(t), &tls.Config{Certificates: []tls.Certificate{cert}})
			s := startTCP(t, ln, func(c net.Conn) {
				c.(*tls.Conn).Handshake() // fails on "POST /v1/…"; the deferred Close hangs up
			})
			return ln.Addr().String(), s.conns.Load
		}, 2},
		{"TLS server that answers with an alert record", func(t *testing.T) (string, func() int64) {
			s := startTCP(t, listen(t), func(c net.Conn) {
				// Read the whole request, so that the client's write
				// cannot fail first, then answer as some TLS stacks do:
				// a fatal alert (21 = alert, TLS 1.2, length 2, fatal,
				// unexpected_message).
				if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					io.Copy(io.Discard, req.Body)
				}
				c.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a})
			})
			return s.ln.Addr().String(), s.conns.Load
		}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			hostport, conns := tc.start(t)
			re := runFailed(t, e, "http://"+hostport+"/v1")
			want := "the server at " + hostport + " speaks TLS: use an https:// base URL"
			if re.Msg != want || re.Kind != "bad_base_url" {
				t.Errorf("kind %q message %q, want bad_base_url %q", re.Kind, re.Msg, want)
			}
			if n := strings.Count(e.log.String(), "agent: retrying"); n != 0 {
				t.Errorf("retried %d times", n)
			}
			if n := conns(); n > tc.maxConns {
				t.Errorf("server saw %d connections, want at most %d", n, tc.maxConns)
			}
		})
	}
}

// TestPlainServerHangingUpIsNotTLS is the probe's negative control: a plain
// HTTP server that hangs up before answering is still reported as closing
// the connection, and retried, not mistaken for a TLS server.
func TestPlainServerHangingUpIsNotTLS(t *testing.T) {
	e := newEnv(t)
	s := startTCP(t, listen(t), func(c net.Conn) {
		// Hang up on whatever comes first: the request, or the probe's
		// ClientHello.
		c.Read(make([]byte, 4096))
	})
	hostport := s.ln.Addr().String()
	re := runFailed(t, e, "http://"+hostport+"/v1")
	if re.Kind != "connect" || !strings.Contains(re.Msg, hostport+" closed the connection before answering") || !strings.Contains(re.Msg, "gave up after 3 retries") {
		t.Errorf("kind %q message %q", re.Kind, re.Msg)
	}
}

// TestAnsweredWithTLS pins the text net/http gives when a plain request
// gets TLS bytes back, which answeredWithTLS relies on.
func TestAnsweredWithTLS(t *testing.T) {
	s := startTCP(t, listen(t), func(c net.Conn) {
		http.ReadRequest(bufio.NewReader(c))
		c.Write([]byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46})
	})
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	_, err := (&http.Client{Transport: tr}).Get("http://" + s.ln.Addr().String() + "/")
	if err == nil || !answeredWithTLS(err) {
		t.Fatalf("answeredWithTLS(%v) = false", err)
	}
	if answeredWithTLS(errors.New(`malformed HTTP response "hello"`)) {
		t.Error("plain garbage taken for TLS")
	}
}
