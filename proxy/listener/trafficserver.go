package listener

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// TrafficServer serves a listener handler (Outbound or Inbound): plaintext
// HTTP/1.1 itself, on the connection's own goroutine, and everything else
// (TLS, HTTP/2, upgrades, 100-continue, chunked request bodies, anything
// unusual) with an http.Server.
//
// Why it exists: a sidecar is held to a fraction of a core, and most of its
// requests are small plaintext HTTP/1.1 exchanges. For each of them
// net/http's server starts a background read to notice a client that goes
// away, with a deadline dance to stop it, and a context and response of its
// own; measured on one core that was a large share of the proxy's CPU. The
// fast path parses requests with net/http's own parser (http.ReadRequest),
// so what it accepts is what net/http accepts, and hands a connection over to
// the http.Server, unread, at the first request it does not take (see
// fastServable). A request on the fast path that runs long still notices its
// client going away (see clientWatch).
type TrafficServer struct {
	handler http.Handler
	log     *slog.Logger
	// headerTimeout bounds the wait for a request's header once it has
	// begun; idleTimeout closes a connection without requests. Tests make
	// them short.
	headerTimeout, idleTimeout time.Duration
	// http serves the connections handed over, from handoff.
	http    *http.Server
	handoff *handoffListener
	serving sync.Once

	mu        sync.Mutex
	listeners []net.Listener
	conns     map[*serverConn]struct{}
	shutdown  atomic.Bool
}

// NewTrafficServer returns a server for a listener handler.
func NewTrafficServer(h http.Handler, log *slog.Logger) *TrafficServer {
	if log == nil {
		log = slog.Default()
	}
	return &TrafficServer{
		handler: h, log: log, http: NewServer(h, log),
		headerTimeout: readHeaderTimeout, idleTimeout: idleTimeout,
		handoff: newHandoffListener(), conns: map[*serverConn]struct{}{},
	}
}

// Serve accepts connections on ln until Shutdown or Close, which make it
// return http.ErrServerClosed.
func (s *TrafficServer) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutdown.Load() {
		s.mu.Unlock()
		_ = ln.Close()
		return http.ErrServerClosed
	}
	s.listeners = append(s.listeners, ln)
	s.mu.Unlock()
	s.handoff.setAddr(ln.Addr())
	s.serving.Do(func() { go func() { _ = s.http.Serve(s.handoff) }() })
	for {
		c, err := acceptRetrying(ln)
		if err != nil {
			if s.shutdown.Load() {
				return http.ErrServerClosed
			}
			return err
		}
		if _, isTLS := c.(*tls.Conn); isTLS {
			// The http.Server does the handshake and picks HTTP/2 by ALPN.
			s.handoff.deliver(c)
			continue
		}
		go s.serveConn(c)
	}
}

func (s *TrafficServer) serveConn(raw net.Conn) {
	c := newServerConn(s, raw)
	s.mu.Lock()
	if s.shutdown.Load() {
		s.mu.Unlock()
		_ = raw.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	handOver := c.serve()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	if handOver != nil {
		s.handoff.deliver(handOver)
	}
}

// shuttingDown says whether responses should close their connection.
func (s *TrafficServer) shuttingDown() bool { return s.shutdown.Load() }

// Shutdown stops accepting, closes idle connections, and waits until the
// requests in flight are answered or ctx ends, as http.Server.Shutdown does.
func (s *TrafficServer) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	httpDone := make(chan error, 1)
	go func() { httpDone <- s.http.Shutdown(ctx) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.closeIdle() == 0 {
			return <-httpDone
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes the listeners and every connection at once.
func (s *TrafficServer) Close() error {
	s.stopAccepting()
	err := s.http.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.raw.Close()
	}
	s.mu.Unlock()
	return err
}

func (s *TrafficServer) stopAccepting() {
	s.mu.Lock()
	s.shutdown.Store(true)
	for _, ln := range s.listeners {
		_ = ln.Close()
	}
	s.mu.Unlock()
}

// closeIdle closes the connections waiting for a request and says how many
// are left (answering one).
func (s *TrafficServer) closeIdle() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(connIdle, connClosing) {
			_ = c.raw.Close()
			delete(s.conns, c)
		}
	}
	return len(s.conns)
}

// handoffListener is how connections reach the http.Server: Accept returns
// what deliver hands over.
type handoffListener struct {
	connQueue
	addr atomic.Value // net.Addr
}

func newHandoffListener() *handoffListener { return &handoffListener{connQueue: newConnQueue()} }

func (l *handoffListener) setAddr(a net.Addr) { l.addr.CompareAndSwap(nil, a) }

func (l *handoffListener) Close() error {
	l.closeWith(net.ErrClosed, nil)
	return nil
}

func (l *handoffListener) Addr() net.Addr {
	if a, ok := l.addr.Load().(net.Addr); ok {
		return a
	}
	return &net.TCPAddr{}
}
