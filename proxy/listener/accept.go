package listener

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// acceptor is the part the inbound and outbound listeners share: it accepts
// connections and classifies each in its own goroutine (a classification may
// read from the client or dial), so a slow client cannot hold up the
// others. classify hands HTTP connections to Accept with deliver and keeps
// the others (opaque TCP) to itself.
type acceptor struct {
	ln       net.Listener
	classify func(net.Conn)
	// originalDst says where a connection was going before iptables
	// redirected it; tests replace it, as only a network namespace with
	// iptables rules can redirect for real.
	originalDst func(net.Conn) (netip.AddrPort, bool)

	connQueue
	tunnels tunnels
}

func newAcceptor(ln net.Listener, classify func(net.Conn), originalDst func(net.Conn) (netip.AddrPort, bool)) acceptor {
	if originalDst == nil {
		originalDst = redirected
	}
	return acceptor{ln: ln, classify: classify, originalDst: originalDst, connQueue: newConnQueue()}
}

func (a *acceptor) acceptLoop() {
	for {
		c, err := acceptRetrying(a.ln)
		if err != nil {
			a.closeWith(err)
			return
		}
		go a.classify(c)
	}
}

// acceptRetrying accepts the next connection, waiting a little and trying
// again on a temporary failure (out of file descriptors: let some close).
func acceptRetrying(ln net.Listener) (net.Conn, error) {
	for {
		c, err := ln.Accept()
		var ne net.Error
		if err != nil && errors.As(err, &ne) && ne.Timeout() {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		return c, err
	}
}

// Close stops accepting. Opaque connections already passed through go on
// until either side closes them, or DrainTunnels cuts them.
func (a *acceptor) Close() error {
	a.closeWith(net.ErrClosed)
	return nil
}

func (a *acceptor) closeWith(err error) {
	a.connQueue.closeWith(err, func() { _ = a.ln.Close() })
}

// connQueue hands connections from the goroutines that accept or sort them
// to a server's Accept, until it is closed: the HTTP connections an
// acceptor classified, and those a TrafficServer hands to its http.Server.
type connQueue struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
	err       error
}

func newConnQueue() connQueue {
	return connQueue{conns: make(chan net.Conn), done: make(chan struct{})}
}

// deliver hands a connection to Accept, or closes it once the queue is
// closed.
func (q *connQueue) deliver(c net.Conn) {
	select {
	case q.conns <- c:
	case <-q.done:
		_ = c.Close()
	}
}

// Accept returns the next connection delivered.
func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, q.err
	}
}

// closeWith makes Accept return err from now on, and runs then once.
func (q *connQueue) closeWith(err error, then func()) {
	q.closeOnce.Do(func() {
		q.err = err
		close(q.done)
		if then != nil {
			then()
		}
	})
}

// DrainTunnels waits, until ctx ends, for the opaque connections passed
// through to end, then cuts the others and says how many. Call it after
// Close (the HTTP server's Shutdown closes the listener).
func (a *acceptor) DrainTunnels(ctx context.Context) int { return a.tunnels.drain(ctx) }

// Addr is the listening address.
func (a *acceptor) Addr() net.Addr { return a.ln.Addr() }
