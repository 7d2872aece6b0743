package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// tcpPeer is a loopback listener that accepts connections and, per conn,
// reads until EOF, recording that it saw EOF.
type tcpPeer struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	eofs int
	accs []net.Conn
}

func newTCPPeer(t *testing.T) *tcpPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpPeer{ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.accs = append(p.accs, c)
			p.mu.Unlock()
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				_, err := io.Copy(io.Discard, c)
				if err == nil {
					p.mu.Lock()
					p.eofs++
					p.mu.Unlock()
				}
			}()
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *tcpPeer) accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.accs)
}

func (p *tcpPeer) sawEOF() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.eofs
}

func (p *tcpPeer) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.accs {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// dialOwned dials the peer through the owner's dialer, as net/http would.
func dialOwned(t *testing.T, o *Owner, addr string) *OwnedConn {
	t.Helper()
	c, err := o.dial(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*OwnedConn)
}

// TestStrangerCloseOnlyShutsDown is T2 at the conn level: Close from a
// stranger marks and shuts down (the peer sees EOF, I/O fails) but does not
// release the descriptor; Reap on the owner's thread does, exactly once.
func TestStrangerCloseOnlyShutsDown(t *testing.T) {
	warmNetpoll(t)
	fd0 := countFDs(t)
	p := newTCPPeer(t)
	logger, logs := newCapture()
	rec := &tidRecorder{}
	o := NewOwner(Config{Logger: logger, OnRealClose: rec.hook})
	c := dialOwned(t, o, p.ln.Addr().String())
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}

	waitFor(t, "peer accepted", func() bool { return p.accepted() == 1 })
	st := startStranger()
	defer st.stop()
	var closeErr, again error
	st.do(func() { closeErr = c.Close(); again = c.Close() })
	if closeErr != nil || !errors.Is(again, net.ErrClosed) {
		t.Errorf("stranger Close = %v then %v; want nil then net.ErrClosed", closeErr, again)
	}
	if got := rec.get(); len(got) != 0 {
		t.Fatalf("stranger Close really closed the socket (hook %v)", got)
	}
	if fds := countFDs(t); fds != fd0+3 { // listener, accepted conn, our socket
		t.Errorf("after stranger Close %d descriptors open, want %d (socket not released)", fds, fd0+3)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close = %v, want net.ErrClosed", err)
	}
	waitFor(t, "peer EOF after shutdown", func() bool { return p.sawEOF() == 1 })

	// Reap from the stranger refuses and logs; from the owner it closes.
	st.do(o.Reap)
	if got := rec.get(); len(got) != 0 {
		t.Fatalf("Reap off the owner's thread closed a socket (hook %v)", got)
	}
	if recs := logs.all(); len(recs) != 1 || !strings.Contains(recs[0].Msg, "off the owner's thread") {
		t.Errorf("off-thread Reap logged %v", recs)
	}
	o.Reap()
	o.Reap()
	if got := rec.get(); !slices.Equal(got, []int{o.OwnerTID()}) {
		t.Errorf("real closes %v, want one on owner tid %d", got, o.OwnerTID())
	}
	o.Finish(RequestComplete)
	if got := rec.get(); len(got) != 1 {
		t.Errorf("Finish closed again: %v", got)
	}
	p.close()
	waitFDs(t, fd0)
}

// TestRealCloseWaitsForInFlightRead: the owner's real close waits for a
// Read on another goroutine to return (so that close(2) runs on the owner,
// not wherever the last descriptor reference drops).
func TestRealCloseWaitsForInFlightRead(t *testing.T) {
	p := newTCPPeer(t)
	var readReturned atomic.Bool
	var hookSawRead atomic.Bool
	o := NewOwner(Config{Logger: discardLogger(), OnRealClose: func(int) { hookSawRead.Store(readReturned.Load()) }})
	c := dialOwned(t, o, p.ln.Addr().String())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		close(started)
		_, err := c.Read(make([]byte, 1))
		readReturned.Store(true)
		done <- err
	}()
	<-started
	waitFor(t, "read in flight", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.inflight == 1 })
	o.Finish(InterruptAbort)
	if err := <-done; err == nil {
		t.Error("read on a shut-down socket returned no error")
	}
	if !hookSawRead.Load() {
		t.Error("real close ran before the in-flight Read returned")
	}
}

// TestDrainWaitIsBoundedAndLogs: when an in-flight operation never drains,
// Reap gives up after the bound, logs, and leaves the socket for later;
// Finish then logs and closes it anyway.
func TestDrainWaitIsBoundedAndLogs(t *testing.T) {
	old := drainWait
	drainWait = 20 * time.Millisecond
	defer func() { drainWait = old }()
	p := newTCPPeer(t)
	logger, logs := newCapture()
	rec := &tidRecorder{}
	o := NewOwner(Config{Logger: logger, OnRealClose: rec.hook})
	c := dialOwned(t, o, p.ln.Addr().String())
	if !c.begin() { // a stuck operation
		t.Fatal("begin failed on a fresh conn")
	}
	c.Close() // on the owner's thread, cannot drain yet
	o.Reap()
	if got := rec.get(); len(got) != 0 {
		t.Fatalf("closed with an operation in flight: %v", got)
	}
	warns := 0
	for _, r := range logs.all() {
		if strings.Contains(r.Msg, "did not drain") {
			warns++
		}
	}
	if warns != 2 { // Close on the owner, then Reap
		t.Errorf("%d drain warnings, want 2: %v", warns, logs.all())
	}
	o.Finish(RequestErrorCleanup)
	if got := rec.get(); len(got) != 1 {
		t.Errorf("Finish real closes %v, want 1 (forced)", got)
	}
	c.end()
}

// TestAbortDuringTLSHandshake: the server accepts but never answers, so
// net/http's dial goroutine is blocked in the TLS handshake on our socket.
// The stranger's Abort shuts it down (N=1), the request fails, and the owner
// really closes the socket on its thread.
func TestAbortDuringTLSHandshake(t *testing.T) {
	warmNetpoll(t)
	fd0 := countFDs(t)
	p := newTCPPeer(t)
	logger, logs := newCapture()
	rec := &tidRecorder{}
	o := NewOwner(Config{Logger: logger, OnRealClose: rec.hook, BaseURL: "https://" + p.ln.Addr().String() + "/v1/"})
	st := startStranger()
	var n int
	aborter := make(chan struct{})
	go func() {
		defer close(aborter)
		waitFor(t, "handshake in progress", func() bool {
			for _, c := range o.liveConns() {
				c.mu.Lock()
				busy := c.inflight > 0
				c.mu.Unlock()
				if busy {
					return true
				}
			}
			return false
		})
		st.do(func() { n = o.Abort(InterruptAbort) })
	}()
	resp, err := o.Client().Get("https://" + p.ln.Addr().String() + "/v1/models")
	if err == nil {
		resp.Body.Close()
		t.Fatal("request to a silent server succeeded")
	}
	<-aborter
	st.stop()
	o.Reap()
	o.Finish(InterruptAbort)
	if n != 1 {
		t.Errorf("Abort during handshake = %d, want 1", n)
	}
	if got := rec.get(); !slices.Equal(got, []int{o.OwnerTID()}) {
		t.Errorf("real closes %v, want one on owner tid %d", got, o.OwnerTID())
	}
	if got := logs.all()[0].Msg; got != "OpenAI client aborted (interrupt_abort, shared=false, tcp_force_closed=1, deferred_close=stranger_thread)" {
		t.Errorf("abort line %q", got)
	}
	p.close()
	waitFDs(t, fd0)
	goleak.VerifyNone(t)
}

// waitFor polls cond until it holds, failing the test after a generous
// bound (it guards against hangs, it does not measure speed).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out waiting for %s", what)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLeakChecksCanFail is the negative control of the leak assertions the
// other tests rely on: the /proc/self/fd count sees one unclosed socket, and
// goleak sees one parked goroutine.
func TestLeakChecksCanFail(t *testing.T) {
	warmNetpoll(t)
	fd0 := countFDs(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if got := countFDs(t); got != fd0+1 {
		t.Errorf("descriptor count %d with a socket left open, want %d", got, fd0+1)
	}
	block := make(chan struct{})
	parked := make(chan struct{})
	go func() {
		close(parked)
		<-block
	}()
	<-parked
	if err := goleak.Find(); err == nil {
		t.Error("goleak did not see a parked goroutine")
	}
	close(block)
	ln.Close()
	waitFDs(t, fd0)
	goleak.VerifyNone(t)
}
