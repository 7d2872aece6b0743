// Package offline is spindle's built-in demo model: an OpenAI-compatible
// chat-completions server on loopback TLS that answers deterministically, so
// that spindle works on a fresh machine with no key and no network, and so
// that tests and recorded demos see the same bytes every time.
//
// It serves POST /v1/chat/completions (streamed as server-sent events in the
// OpenAI format, or as one chat.completion object), GET /v1/models and
// GET /v1/models/{id}. The request alone decides the answer: the tools it
// offers and its last message (topics.go, intents.go, worker.go and
// confirm.go hold the rules):
//
//   - a worker's request (it offers card_done and its user message starts
//     with "Card #<id>: <title>") → a short plan and a card_comment call,
//     then a card_done call (card_block when the card says "block" or
//     "blocked"), then a last sentence; an HTTP 500 when the title says
//     "fail";
//   - a tool result → a short confirmation that quotes the result (the
//     card made, the files listed, the top of the file, the command's exit
//     status and output) or says that the person denied the call;
//   - "add a card …", "add card …", "create a card …" (also "… called X",
//     "… titled X") → a kanban_create tool call with {"title": X};
//   - "run X" / "execute X" → bash {"command": X}; "show me X", "open X",
//     "read X", "cat X", "view X" for a file name X → view {"path": X};
//     "list files", "ls", "what is in this folder" → ls {"path": "."};
//     each only when the request offers the tool, else a text that says it
//     is not available;
//   - a question → the canned topic whose keywords it matches best: what
//     spindle is, workers, tools, connecting a real model, sessions, keys,
//     the board, a Go example, a markdown demo, and four long answers
//     (streaming, interrupts, storage, a story) with headings, lists and a
//     Go block, several seconds long at the default pace so that they can
//     be interrupted; "write a long essay", "in detail" and "tell me a
//     story" pick a long one;
//   - a greeting, or a request for something short that matches no topic →
//     a short demo introduction;
//   - anything else → what the offline demo model can show, and how to
//     connect a real model.
//
// Which of a few variants is chosen, and how the text is cut into chunks,
// depends only on the text of the last user message (and, after a tool
// result, on the result), so the same conversation streams the same chunks
// every time; only the "created" timestamps differ. Streamed chunks are
// paced by Options.TokenDelay; a non-streamed request gets the whole answer
// at once. Any model name is accepted and echoed back.
package offline

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// ModelName is the only model the demo server lists. It accepts requests
// naming any model and echoes the requested name back, so that a client
// configured for another model still works against it.
const ModelName = "spindle-demo"

// DefaultTokenDelay is the pause between two streamed chunks when
// Options.TokenDelay is zero: about 40 chunks per second, which makes the long
// answer last 6 to 10 seconds.
const DefaultTokenDelay = 25 * time.Millisecond

// ErrNotLoopback is returned (wrapped) by Start when Options.Addr would
// listen beyond this machine and Options.AllowRemote is not set.
var ErrNotLoopback = errors.New("not a loopback address (127.0.0.1, ::1 or localhost); serving other machines must be allowed explicitly")

// certValidity is how long the per-process certificate is valid.
const certValidity = 24 * time.Hour

// Options configures Start.
type Options struct {
	// TokenDelay is the pause before each streamed chunk after the first.
	// Zero means DefaultTokenDelay (a realistic pace). A negative value, or a
	// positive one under a microsecond, means no pause at all: chunks are
	// written back to back, as fast as the connection takes them (for tests
	// and benchmarks).
	TokenDelay time.Duration

	// Addr is the address to listen on; "" means 127.0.0.1:0 (a free port on
	// loopback). Start refuses an address that is not loopback unless
	// AllowRemote is set.
	Addr string

	// AllowRemote permits a non-loopback Addr (for example 0.0.0.0:8080). The
	// certificate then also names the host part of Addr when it is an IP
	// address or a host name.
	AllowRemote bool

	// Logger receives one debug line per request and the server's own
	// errors (TLS handshakes that failed, and so on); nil means
	// slog.Default(). The server writes nowhere else: never to stdout or
	// stderr directly, so it can run under a full-screen UI.
	Logger *slog.Logger
}

// Server is a running demo model. Its methods are safe for concurrent use.
type Server struct {
	srv     *http.Server
	ln      net.Listener
	baseURL string
	certPEM []byte
	roots   *x509.CertPool
	delay   time.Duration
	logger  *slog.Logger
	hooks   hooks

	baseCtx    context.Context
	cancelBase context.CancelFunc
	served     chan struct{} // closed when Serve has returned
	serveErr   error         // set before served is closed

	mu       sync.Mutex
	closing  bool
	handlers sync.WaitGroup // one per running handler; Add only under mu while !closing
	conns    sync.WaitGroup // one per accepted connection, from StateNew to StateClosed
	active   atomic.Int64   // running handlers, for tests

	closeOnce sync.Once
	closeErr  error
}

// hooks are test seams; the zero value is production behaviour.
type hooks struct {
	// ignoreDisconnect makes streaming handlers ignore their request's
	// context and write errors, the bug the disconnect test must catch.
	ignoreDisconnect bool
	// streamDone is called as each streamed response ends.
	streamDone func(streamReport)
}

// streamReport says how one streamed response ended.
type streamReport struct {
	kind    string // replyLong, replyShort, ...
	sent    int    // content or argument chunks written
	total   int    // content or argument chunks planned
	outcome string // "complete", "client_gone" or "shutdown"
}

// Start listens on opts.Addr with a fresh self-signed certificate and serves
// the demo model until Close. It fails when the address is not loopback (and
// AllowRemote is not set) or cannot be listened on.
func Start(opts Options) (*Server, error) { return start(opts, hooks{}) }

func start(opts Options, h hooks) (*Server, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("offline: listen address %q: %w", addr, err)
	}
	if !opts.AllowRemote && !isLoopbackHost(host) {
		return nil, fmt.Errorf("offline: listen address %q: %w", addr, ErrNotLoopback)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	cert, certPEM, err := newCertificate(host)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("offline: listen on %s: %w", addr, err)
	}
	s := &Server{
		ln:      ln,
		baseURL: "https://" + dialAddr(ln.Addr()) + "/v1",
		certPEM: certPEM,
		roots:   roots,
		delay:   effectiveDelay(opts.TokenDelay),
		logger:  logger,
		hooks:   h,
		served:  make(chan struct{}),
	}
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
	protocols := new(http.Protocols)
	// HTTP/1.1 only, like spindle's own transport: one request per
	// connection at a time, and a client that goes away is seen at once.
	protocols.SetHTTP1(true)
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.route),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		Protocols:         protocols,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
		ConnState:         s.connState,
	}
	go func() {
		defer close(s.served)
		err := s.srv.ServeTLS(ln, "", "")
		if !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = fmt.Errorf("offline: serve: %w", err)
		}
	}()
	logger.Info("offline demo model started", "base_url", s.baseURL, "model", ModelName, "token_delay", s.delay)
	return s, nil
}

// BaseURL is the OpenAI base URL of the server, "https://127.0.0.1:PORT/v1".
func (s *Server) BaseURL() string { return s.baseURL }

// RootCAs returns a pool that trusts only this server's certificate; use it as
// tls.Config.RootCAs of the client.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// CertPEM returns the server's certificate in PEM form (no private key).
func (s *Server) CertPEM() []byte { return append([]byte(nil), s.certPEM...) }

// WriteCertFile writes the certificate in PEM form to path with mode 0600,
// replacing any file there atomically, so that other processes can trust the
// server (for example with SSL_CERT_FILE=path).
func (s *Server) WriteCertFile(path string) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".demo-cert-*.pem")
	if err != nil {
		return fmt.Errorf("offline: write certificate %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(s.certPEM)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("offline: write certificate %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("offline: write certificate %s: %w", path, err)
	}
	return nil
}

// Close stops the server: running streams end at once (their clients see a
// truncated response, never a clean end), connections are closed, and Close
// returns after every handler and connection goroutine has finished. It may be
// called any number of times; every call returns the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.cancelBase()
		err := s.srv.Close()
		<-s.served
		s.conns.Wait()
		s.handlers.Wait()
		s.closeErr = errors.Join(err, s.serveErr)
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("offline: close: %w", s.closeErr)
		}
		s.logger.Info("offline demo model stopped", "base_url", s.baseURL)
	})
	return s.closeErr
}

// connState tracks connections so that Close can wait for their goroutines.
// Every StateNew is followed by exactly one StateClosed (nothing hijacks).
// StateNew runs on the Serve goroutine, so it cannot race with conns.Wait,
// which Close calls only after Serve has returned.
func (s *Server) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		s.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		s.conns.Done()
	}
}

// enter registers a running handler; it reports false once Close has begun.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.handlers.Add(1)
	s.active.Add(1)
	return true
}

func (s *Server) leave() {
	s.active.Add(-1)
	s.handlers.Done()
}

// effectiveDelay maps Options.TokenDelay to the pause actually used; zero
// means no pause.
func effectiveDelay(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultTokenDelay
	case d < time.Microsecond:
		return 0
	default:
		return d
	}
}

// isLoopbackHost reports whether a listen host is loopback only. An empty
// host or an unspecified address listens on every interface.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dialAddr turns the listener's address into one a local client can dial:
// an unspecified address (0.0.0.0, ::) becomes the loopback address.
func dialAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	switch {
	case ip.To4() != nil && ip.IsUnspecified():
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// newCertificate makes a fresh ECDSA P-256 self-signed certificate for
// 127.0.0.1, ::1 and localhost (plus extraHost when it is something else),
// valid from an hour ago (clock skew) until a day from now. The private key
// never leaves the process.
func newCertificate(extraHost string) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("offline: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("offline: generate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"spindle"}, CommonName: "spindle demo model (offline)"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if extraHost != "" && !isLoopbackHost(extraHost) {
		if ip := net.ParseIP(extraHost); ip != nil {
			if !ip.IsUnspecified() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, extraHost)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("offline: create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("offline: parse certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, certPEM, nil
}
