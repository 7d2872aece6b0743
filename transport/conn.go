package transport

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// OwnedConn is a TCP socket that belongs to one Owner.
//
// The close rule (T1, T2, T5). Go's internal/poll reference-counts each
// descriptor, and close(2) runs on whichever goroutine drops the last
// reference: the one calling net.Conn.Close if nothing else is using the
// socket, otherwise the Read, Write, SetDeadline or RawConn.Control call that
// finishes last. So the owner's thread runs the close only if it calls
// net.Conn.Close while no other operation holds a reference. OwnedConn makes
// that true: every operation that takes a reference is counted as in flight;
// Close from any thread but the owner's only marks the conn closed (after
// which no new operation starts) and shuts the socket down (which makes the
// in-flight ones return at once); the owner's thread then waits for the count
// to reach zero and does the one real close. A descriptor number is never
// stored or passed outside a RawConn.Control callback (T3).
type OwnedConn struct {
	nc    net.Conn
	raw   syscall.RawConn
	owner *Owner
	id    uint64

	mu       sync.Mutex
	inflight int
	closed   bool          // Close was called or the owner is reaping: no new I/O
	shut     bool          // shutdown(SHUT_RDWR) has been issued
	released bool          // the real close has run: nothing touches the socket again
	drained  chan struct{} // closed when inflight drops to zero, while someone waits
}

// begin starts an I/O or deadline operation, which holds a descriptor
// reference; it is refused once the conn is closed. (shutdown counts its
// RawConn.Control call itself, since it must still run on a closed conn.)
func (c *OwnedConn) begin() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.released {
		return false
	}
	c.inflight++
	return true
}

// end finishes an operation started by begin.
func (c *OwnedConn) end() {
	c.mu.Lock()
	c.inflight--
	if c.inflight == 0 && c.drained != nil {
		close(c.drained)
		c.drained = nil
	}
	c.mu.Unlock()
}

// Read reads from the socket; it fails with net.ErrClosed once the conn is closed.
func (c *OwnedConn) Read(p []byte) (int, error) {
	if !c.begin() {
		return 0, c.closedErr("read")
	}
	defer c.end()
	if seedBugBuilt && seedBugHook != nil {
		seedBugHook(seedBugFirstRead, c.owner, c) // negative control only: see seedBugHook
	}
	return c.nc.Read(p)
}

// Write writes to the socket; it fails with net.ErrClosed once the conn is closed.
func (c *OwnedConn) Write(p []byte) (int, error) {
	if !c.begin() {
		return 0, c.closedErr("write")
	}
	defer c.end()
	return c.nc.Write(p)
}

// SetDeadline sets the read and write deadlines (it holds a descriptor
// reference, so it is counted like I/O).
func (c *OwnedConn) SetDeadline(t time.Time) error {
	if !c.begin() {
		return c.closedErr("set deadline")
	}
	defer c.end()
	return c.nc.SetDeadline(t)
}

// SetReadDeadline sets the read deadline.
func (c *OwnedConn) SetReadDeadline(t time.Time) error {
	if !c.begin() {
		return c.closedErr("set read deadline")
	}
	defer c.end()
	return c.nc.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline.
func (c *OwnedConn) SetWriteDeadline(t time.Time) error {
	if !c.begin() {
		return c.closedErr("set write deadline")
	}
	defer c.end()
	return c.nc.SetWriteDeadline(t)
}

// LocalAddr returns the local address (no descriptor reference is taken).
func (c *OwnedConn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the remote address (no descriptor reference is taken).
func (c *OwnedConn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Close closes the conn for its users. On the owner's thread it really
// closes the socket once in-flight operations drain; on any other thread
// (net/http's read and write loops, idle timers, a TLS handshake watchdog) it
// only marks the conn closed and shuts the socket down, leaving the real
// close to the owner's Reap or Finish. The first call returns nil, later
// calls net.ErrClosed.
func (c *OwnedConn) Close() error {
	if !c.markClosed() {
		return c.closedErr("close")
	}
	c.shutdown()
	if c.owner.isOwnerThread() {
		c.realClose(false)
	}
	return nil
}

// markClosed marks the conn closed; it reports whether this call did it.
func (c *OwnedConn) markClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.released {
		return false
	}
	c.closed = true
	return true
}

// up reports whether the socket is connected and not yet shut down.
func (c *OwnedConn) up() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.released && !c.shut
}

// needsReap reports whether somebody closed or shut down the conn and the
// real close is still due.
func (c *OwnedConn) needsReap() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.released && (c.closed || c.shut)
}

// shutdown issues shutdown(SHUT_RDWR) once, inside RawConn.Control, so the
// descriptor number never leaves the callback. Any thread may call it; it
// never releases the descriptor. It reports whether this call shut the
// socket down.
func (c *OwnedConn) shutdown() bool {
	c.mu.Lock()
	if c.released || c.shut {
		c.mu.Unlock()
		return false
	}
	c.shut = true
	c.inflight++ // Control holds a descriptor reference too.
	c.mu.Unlock()
	defer c.end()

	var serr error
	err := c.raw.Control(func(fd uintptr) {
		serr = unix.Shutdown(int(fd), unix.SHUT_RDWR)
	})
	if err != nil {
		return false
	}
	// ENOTCONN: the peer already reset the connection; it is down either way.
	return serr == nil || errors.Is(serr, unix.ENOTCONN)
}

// realClose performs the one real close on the owner's thread: mark closed,
// shut down, wait (bounded) for in-flight operations to drain, then close. If
// the wait fires it logs; with force it closes anyway (Go's reference count
// still keeps the descriptor safe, but close(2) then runs wherever the last
// operation ends), without force it leaves the conn for the next Reap or
// Finish.
func (c *OwnedConn) realClose(force bool) {
	if !c.owner.isOwnerThread() {
		return
	}
	c.markClosed()
	c.shutdown()

	c.mu.Lock()
	if c.released {
		c.mu.Unlock()
		return
	}
	if c.inflight > 0 {
		if c.drained == nil {
			c.drained = make(chan struct{})
		}
		ch, n := c.drained, c.inflight
		c.mu.Unlock()
		timer := time.NewTimer(drainWait)
		select {
		case <-ch:
			timer.Stop()
		case <-timer.C:
			c.owner.logger.Warn("transport: in-flight socket operations did not drain before close",
				slog.Int("in_flight", n), slog.Uint64("conn", c.id),
				slog.Int("owner_tid", c.owner.tid), slog.Duration("waited", drainWait), slog.Bool("forced", force))
			if !force {
				return
			}
		}
		c.mu.Lock()
		if c.released {
			c.mu.Unlock()
			return
		}
	}
	c.released = true
	c.mu.Unlock()

	c.owner.forget(c)
	if hook := c.owner.cfg.OnRealClose; hook != nil {
		hook(unix.Gettid())
	}
	if err := c.nc.Close(); err != nil {
		c.owner.logger.Warn("transport: real close failed",
			slog.Uint64("conn", c.id), slog.Int("owner_tid", c.owner.tid), slog.String("err", err.Error()))
	}
}

// closedErr is the error for an operation on a closed conn.
func (c *OwnedConn) closedErr(op string) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(), Err: net.ErrClosed}
}
