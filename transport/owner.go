// Package transport owns the sockets of spindle's model requests.
//
// An Owner is a goroutine locked to one OS thread. Every socket dialled for
// that owner is really closed (close(2)) on that thread and nowhere else; any
// other goroutine — net/http's read and write loops, idle timers, the UI
// goroutine that interrupts a stream — can only mark a socket closed and shut
// it down. A descriptor number never leaves a syscall.RawConn.Control
// callback. Together these make the seed bug (a stranger closes a socket, the
// kernel hands the number to the next open(), and a late TLS write lands in
// kanban.db) impossible to write in this package. See docs/design.md, rules T1–T6.
//
// Use: on the worker goroutine call NewOwner, build the openai-go client with
// option.WithHTTPClient(o.Client()) and option.WithMaxRetries(0), stream,
// leave the loop when o.Aborted() says so, close the stream, call o.Reap(),
// and at the end o.Finish(reason) on the same goroutine. Any other goroutine
// may call o.Abort(reason) at any time.
//
// One limitation is outside this package's reach: a TCP connect that fails
// or is cancelled is closed by the net package on net/http's dial goroutine
// before the descriptor is ever handed out, so no late write can reach its
// number. Every socket that connected is closed on the owner's thread.
package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Reason names why an owner's sockets were aborted or closed. It is the first
// word inside the parentheses of the abort and close log lines.
type Reason string

// The reasons spindle uses. The first three are for Abort, the last two for
// Finish after a request that was not aborted.
const (
	InterruptAbort      Reason = "interrupt_abort"
	StaleAbort          Reason = "stale_abort"
	ShutdownAbort       Reason = "shutdown_abort"
	RequestComplete     Reason = "request_complete"
	RequestErrorCleanup Reason = "request_error_cleanup"
)

// seedBugHook exists for one purpose: the negative control of the
// product-level interrupt storm (dispatch/storm_unsafe_test.go), which must
// show that its harness sees the seed bug. It is nil in every normal build,
// where seedBugBuilt is the constant false and its three call sites (a
// socket's Read, Abort, Finish) compile to nothing; only unsafe_seedbug.go,
// built with the spindle_unsafe tag alone, declares a setter
// (EnableSeedBug).
var seedBugHook func(step seedBugStep, o *Owner, c *OwnedConn)

// seedBugStep names the call site of seedBugHook.
type seedBugStep int

const (
	seedBugFirstRead seedBugStep = iota // OwnedConn.Read, any goroutine, c set
	seedBugAbort                        // Abort, after its shutdowns (the stranger)
	seedBugFinish                       // Finish, on the owner's thread before it unlocks
)

// ErrAborted is returned by the owner's dialer once the owner was aborted.
var ErrAborted = errors.New("transport: owner aborted")

// ErrFinished is returned by the owner's dialer once Finish has run.
var ErrFinished = errors.New("transport: owner finished")

// Default timeouts.
const (
	defaultDialTimeout = 10 * time.Second
	// dialWait bounds how long Finish waits for cancelled dials to return.
	dialWait = 2 * time.Second
)

// drainWait bounds how long the owner waits for in-flight Read, Write,
// deadline or shutdown calls on a socket to return before its real close.
// A shut-down socket's operations return within microseconds, so the bound
// only fires if something is badly wrong; it logs when it does. A variable
// so that a test can shorten it.
var drainWait = 2 * time.Second

// Config configures an Owner.
type Config struct {
	// BaseURL and Model are only used as attributes of the log lines.
	BaseURL, Model string
	// Logger receives the abort and close lines; nil means slog.Default().
	Logger *slog.Logger
	// TLSConfig is cloned for the owner's transport; nil means the system
	// roots. NextProtos is always forced to HTTP/1.1.
	TLSConfig *tls.Config
	// DialTimeout bounds a TCP connect; 0 means 10s.
	DialTimeout time.Duration
	// OnRealClose is a test hook called right before each real close(2) of
	// a socket, with the calling thread's id (unix.Gettid()).
	OnRealClose func(tid int)
}

// Owner is the goroutine, locked to its OS thread, that makes one agent
// worker's requests and owns every socket they open.
//
// Only Abort and Aborted may be called from other goroutines. Client, Reap
// and Finish belong to the owner's goroutine; Reap and Finish refuse (and
// log) when called from any other thread, because a real close anywhere else
// is exactly the bug this package exists to prevent.
type Owner struct {
	cfg    Config
	logger *slog.Logger
	tid    int
	tr     *http.Transport
	client *http.Client
	dialer net.Dialer

	// abortCtx is cancelled by Abort and Finish; every dial watches it.
	abortCtx    context.Context
	abortCancel context.CancelFunc

	// locked is true from NewOwner until Finish unlocks the thread; only
	// while it holds does "running on tid" mean "running on the owner".
	locked atomic.Bool
	// isAborted mirrors abortReason != "" for lock-free reads.
	isAborted atomic.Bool

	mu          sync.Mutex
	abortReason Reason
	finished    bool
	dialing     int
	dialDone    chan struct{} // signalled (non-blocking) whenever a dial returns
	conns       map[*OwnedConn]struct{}
	nextID      uint64
}

// NewOwner makes the calling goroutine an owner: it locks the goroutine to
// its OS thread (runtime.LockOSThread) and records the thread id. Call it on
// the goroutine that will make the requests, and call Finish on that same
// goroutine when done; Finish unlocks the thread.
func NewOwner(cfg Config) *Owner {
	runtime.LockOSThread()
	o := &Owner{
		cfg:      cfg,
		logger:   cfg.Logger,
		tid:      unix.Gettid(),
		conns:    make(map[*OwnedConn]struct{}),
		dialDone: make(chan struct{}, 1),
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	o.locked.Store(true)
	o.abortCtx, o.abortCancel = context.WithCancel(context.Background())
	timeout := cfg.DialTimeout
	if timeout <= 0 {
		timeout = defaultDialTimeout
	}
	o.dialer = net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}

	var tlsCfg *tls.Config
	if cfg.TLSConfig != nil {
		tlsCfg = cfg.TLSConfig.Clone()
	} else {
		tlsCfg = &tls.Config{}
	}
	// HTTP/2 multiplexes one conn across requests and closes it from its own
	// goroutines (T4): offer HTTP/1.1 only.
	tlsCfg.NextProtos = []string{"http/1.1"}
	if tlsCfg.MinVersion == 0 {
		tlsCfg.MinVersion = tls.VersionTLS12
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	o.tr = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           o.dial,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   timeout,
		ForceAttemptHTTP2:     false,
		TLSNextProto:          map[string]func(string, *tls.Conn) http.RoundTripper{},
		Protocols:             protocols,
		MaxIdleConns:          4,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	o.client = &http.Client{Transport: o.tr}
	return o
}

// Client returns the owner's HTTP client: one http.Transport per owner,
// HTTP/1.1 only, TLS by crypto/tls over sockets the owner controls. It has no
// overall timeout, because replies stream for as long as the model talks;
// interrupts go through Abort.
func (o *Owner) Client() *http.Client { return o.client }

// OwnerTID returns the id of the OS thread the owner is locked to.
func (o *Owner) OwnerTID() int { return o.tid }

// Aborted reports whether Abort was called and with which reason. Whether a
// request was interrupted is decided by this flag, never by the type of the
// error the request returned.
func (o *Owner) Aborted() (Reason, bool) {
	if !o.isAborted.Load() {
		return "", false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.abortReason, true
}

// Abort interrupts the owner's requests from any goroutine. It shuts down
// (shutdown(2) with SHUT_RDWR, inside RawConn.Control) every socket the owner
// has not yet really closed, cancels pending dials, sets the abort flag and
// logs one line. It never releases a descriptor: the blocked read on the
// owner side returns at once, and the owner really closes the sockets in Reap
// or Finish on its own thread.
//
// Abort may be called any number of times; the first call wins, and later
// calls return 0 without logging. After Finish there is nothing left to
// interrupt: Abort returns 0, logs nothing and leaves the flag unset. It returns how many of the owner's
// sockets were still up (connected, not yet shut down) when the abort took
// effect; every one of them is shut down before Abort returns. That is the
// tcp_force_closed count of the log line.
func (o *Owner) Abort(reason Reason) int {
	o.mu.Lock()
	if o.abortReason != "" || o.finished {
		o.mu.Unlock()
		return 0
	}
	o.abortReason = reason
	o.isAborted.Store(true)
	// N is fixed here, at the instant the flag is set: the sockets still up.
	// The owner may react to the flag and close its stream (so net/http
	// shuts a socket down itself) before the loop below reaches it; that
	// socket was still force-closed by this abort.
	conns := o.snapshotLocked(func(c *OwnedConn) bool { return c.up() })
	o.mu.Unlock()

	o.abortCancel()
	for _, c := range conns {
		c.shutdown()
	}
	n := len(conns)
	if seedBugBuilt && seedBugHook != nil {
		seedBugHook(seedBugAbort, o, nil) // negative control only: see seedBugHook
	}

	tid := unix.Gettid()
	thread := "stranger"
	if tid == o.tid && o.locked.Load() {
		thread = "owner"
	}
	msg := fmt.Sprintf("OpenAI client aborted (%s, shared=false, tcp_force_closed=%d, deferred_close=stranger_thread)", reason, n)
	attrs := []slog.Attr{
		slog.String("thread", thread),
		slog.Int("tid", tid),
		slog.Int("owner_tid", o.tid),
		slog.String("base_url", o.cfg.BaseURL),
		slog.String("model", o.cfg.Model),
	}
	level := slog.LevelInfo
	if n == 0 {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("note", "no socket was connected yet; the pending dial was cancelled"))
	}
	o.logger.LogAttrs(context.Background(), level, msg, attrs...)
	return n
}

// Reap really closes, on the owner's thread, every socket that somebody has
// closed or Abort has shut down, once its in-flight operations have drained.
// Healthy idle keep-alive sockets stay open for the owner's next request.
// Call it after each stream. Called from another thread it only logs.
func (o *Owner) Reap() {
	if !o.onOwnerThread("reap") {
		return
	}
	o.mu.Lock()
	conns := o.snapshotLocked(func(c *OwnedConn) bool { return c.needsReap() })
	o.mu.Unlock()
	for _, c := range conns {
		c.realClose(false)
	}
}

// Finish ends the owner on its own thread: it refuses new dials, cancels and
// waits for pending ones, closes idle connections, really closes every
// remaining socket after its in-flight operations drain, logs
// "OpenAI client closed (REASON, shared=false, tcp_force_closed=0)" and
// unlocks the OS thread. Called from another thread it only logs. Calling it
// twice is harmless.
func (o *Owner) Finish(reason Reason) {
	if !o.onOwnerThread("finish") {
		return
	}
	o.mu.Lock()
	if o.finished {
		o.mu.Unlock()
		return
	}
	o.finished = true
	o.mu.Unlock()
	o.abortCancel()
	o.waitDials()

	// Closes idle conns through OwnedConn.Close on this thread.
	o.tr.CloseIdleConnections()

	o.mu.Lock()
	conns := o.snapshotLocked(func(*OwnedConn) bool { return true })
	o.mu.Unlock()
	for _, c := range conns {
		c.realClose(true)
	}

	msg := fmt.Sprintf("OpenAI client closed (%s, shared=false, tcp_force_closed=0)", reason)
	o.logger.LogAttrs(context.Background(), slog.LevelInfo, msg,
		slog.String("thread", "owner"),
		slog.Int("tid", o.tid),
		slog.Int("owner_tid", o.tid),
		slog.String("base_url", o.cfg.BaseURL),
		slog.String("model", o.cfg.Model),
		slog.Int("sockets_closed", len(conns)),
	)
	if seedBugBuilt && seedBugHook != nil {
		seedBugHook(seedBugFinish, o, nil) // negative control only: see seedBugHook
	}
	o.locked.Store(false)
	runtime.UnlockOSThread()
}

// onOwnerThread reports whether the caller runs on the owner's locked thread,
// logging an error naming op when it does not.
func (o *Owner) onOwnerThread(op string) bool {
	tid := unix.Gettid()
	if tid == o.tid && o.locked.Load() {
		return true
	}
	o.logger.Error("transport: "+op+" called off the owner's thread; nothing closed",
		slog.Int("tid", tid), slog.Int("owner_tid", o.tid), slog.Bool("owner_locked", o.locked.Load()))
	return false
}

// isOwnerThread is onOwnerThread without the log line.
func (o *Owner) isOwnerThread() bool {
	return unix.Gettid() == o.tid && o.locked.Load()
}

// snapshotLocked returns the live conns that keep returns true for.
func (o *Owner) snapshotLocked(keep func(*OwnedConn) bool) []*OwnedConn {
	out := make([]*OwnedConn, 0, len(o.conns))
	for c := range o.conns {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// forget drops a really closed conn from the owner's set.
func (o *Owner) forget(c *OwnedConn) {
	o.mu.Lock()
	delete(o.conns, c)
	o.mu.Unlock()
}

// waitDials waits, bounded, until no dial is in progress. New dials are
// already refused because finished is set.
func (o *Owner) waitDials() {
	timer := time.NewTimer(dialWait)
	defer timer.Stop()
	for {
		o.mu.Lock()
		n := o.dialing
		o.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-o.dialDone:
		case <-timer.C:
			o.logger.Warn("transport: pending dials did not return in time",
				slog.Int("dialing", n), slog.Int("owner_tid", o.tid), slog.Duration("waited", dialWait))
			return
		}
	}
}

// dial is the transport's DialContext. net/http calls it from its own dial
// goroutine; the socket it returns is wrapped so that only the owner's
// thread ever really closes it.
func (o *Owner) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	o.mu.Lock()
	switch {
	case o.finished:
		o.mu.Unlock()
		return nil, fmt.Errorf("transport: dial %s: %w", addr, ErrFinished)
	case o.abortReason != "":
		o.mu.Unlock()
		return nil, fmt.Errorf("transport: dial %s: %w", addr, ErrAborted)
	}
	o.dialing++
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.dialing--
		o.mu.Unlock()
		select {
		case o.dialDone <- struct{}{}:
		default:
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(o.abortCtx, cancel)
	defer stop()

	// A connect that fails or is cancelled here is closed by the net
	// package on this goroutine before we ever see it; its number was never
	// handed to anybody, so no late write can reach it.
	nc, err := o.dialer.DialContext(ctx, network, addr)
	if err != nil {
		if o.isAborted.Load() {
			return nil, fmt.Errorf("transport: dial %s: %w (%w)", addr, ErrAborted, err)
		}
		return nil, fmt.Errorf("transport: dial %s: %w", addr, err)
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		// Every net.Dialer TCP or Unix conn implements syscall.Conn; close
		// it right here only because it was never exposed.
		_ = nc.Close()
		return nil, fmt.Errorf("transport: dial %s: %T has no raw conn", addr, nc)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("transport: dial %s: raw conn: %w", addr, err)
	}

	o.mu.Lock()
	o.nextID++
	c := &OwnedConn{nc: nc, raw: raw, owner: o, id: o.nextID}
	o.conns[c] = struct{}{}
	aborted := o.abortReason != ""
	o.mu.Unlock()
	if aborted {
		// Abort ran between the connect and the registration and so did
		// not see this socket: shut it down now; the owner closes it.
		c.markClosed()
		c.shutdown()
		return nil, fmt.Errorf("transport: dial %s: %w", addr, ErrAborted)
	}
	return c, nil
}
