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

	conns     chan net.Conn
	tunnels   tunnels
	done      chan struct{}
	closeOnce sync.Once
	err       error
}

func newAcceptor(ln net.Listener, classify func(net.Conn), originalDst func(net.Conn) (netip.AddrPort, bool)) acceptor {
	if originalDst == nil {
		originalDst = redirected
	}
	return acceptor{ln: ln, classify: classify, originalDst: originalDst, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (a *acceptor) acceptLoop() {
	for {
		c, err := a.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond) // out of file descriptors: let some close
				continue
			}
			a.closeWith(err)
			return
		}
		go a.classify(c)
	}
}

// deliver hands a connection to the HTTP server.
func (a *acceptor) deliver(c net.Conn) {
	select {
	case a.conns <- c:
	case <-a.done:
		_ = c.Close()
	}
}

// Accept returns the next classified connection.
func (a *acceptor) Accept() (net.Conn, error) {
	select {
	case c := <-a.conns:
		return c, nil
	case <-a.done:
		return nil, a.err
	}
}

// Close stops accepting. Opaque connections already passed through go on
// until either side closes them, or DrainTunnels cuts them.
func (a *acceptor) Close() error {
	a.closeWith(net.ErrClosed)
	return nil
}

func (a *acceptor) closeWith(err error) {
	a.closeOnce.Do(func() {
		a.err = err
		close(a.done)
		_ = a.ln.Close()
	})
}

// DrainTunnels waits, until ctx ends, for the opaque connections passed
// through to end, then cuts the others and says how many. Call it after
// Close (the HTTP server's Shutdown closes the listener).
func (a *acceptor) DrainTunnels(ctx context.Context) int { return a.tunnels.drain(ctx) }

// Addr is the listening address.
func (a *acceptor) Addr() net.Addr { return a.ln.Addr() }
