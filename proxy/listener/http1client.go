package listener

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"syscall"
	"time"
)

// http1Client is the fast path to plaintext HTTP/1.1 endpoints, the common
// case of a sidecar (application to application, and to its own
// application). It writes the request and reads the response on the calling
// goroutine, over keep-alive connections pooled per endpoint.
//
// Why it exists: net/http's Transport runs a read and a write goroutine per
// connection and hands every request and response between them and the
// caller over channels. On a sidecar held to one core those handoffs (and
// their scheduling) cost more than the proxying itself. This client does
// only what a plain request needs; anything else (Expect: 100-continue,
// protocol upgrades, request trailers, streamed or large request bodies)
// goes through the Transport, see fastEligible.
type http1Client struct {
	dialer      net.Dialer
	maxIdle     int           // idle connections kept per endpoint
	idleTimeout time.Duration // an idle connection older than this is closed
	pools       sync.Map      // address -> *connPool
}

var _ http.RoundTripper = (*http1Client)(nil)

func newHTTP1Client() *http1Client {
	return &http1Client{
		dialer:      net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second},
		maxIdle:     UpstreamIdleConnsPerHost,
		idleTimeout: 90 * time.Second,
	}
}

// fastEligible says whether req can take the fast path: nothing in it needs
// the Transport's concurrent reading and writing. A request body is written
// before the response is read, so only small bodies of known length qualify.
func fastEligible(req *http.Request) bool {
	if len(req.Trailer) > 0 || req.Header.Get("Upgrade") != "" || req.Header.Get("Expect") != "" {
		return false
	}
	if req.Body == nil || req.Body == http.NoBody {
		return true
	}
	return req.ContentLength > 0 && req.ContentLength <= maxReplayBody
}

// RoundTrip sends req to req.URL.Host. A request that met a kept-alive
// connection the endpoint had already closed is sent once more on a new
// connection when it can be replayed, as the Transport does.
func (c *http1Client) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	pool := c.pool(req.URL.Host)
	for {
		conn, err := pool.get(ctx, c)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		resp, err := conn.roundTrip(ctx, req)
		if err == nil {
			return resp, nil
		}
		_ = conn.Close()
		if ctx.Err() != nil {
			closeBody(req)
			return nil, ctx.Err()
		}
		if !conn.reused || !errors.Is(err, errStaleConn) || !rewind(req) {
			closeBody(req)
			return nil, err
		}
	}
}

// errStaleConn: a kept-alive connection closed before any byte of the
// response, most likely by the endpoint while it was idle.
var errStaleConn = errors.New("kept-alive connection closed by the endpoint")

// rewind prepares req to be sent again: it must not have reached the
// application in a way that matters (idempotent, as the Transport judges)
// and its body must be readable again.
func rewind(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
	default:
		if req.Header.Get("Idempotency-Key") == "" && req.Header.Get("X-Idempotency-Key") == "" {
			return false
		}
	}
	if req.Body == nil || req.Body == http.NoBody {
		return true
	}
	if req.GetBody == nil {
		return false
	}
	body, err := req.GetBody()
	if err != nil {
		return false
	}
	req.Body = body
	return true
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func (c *http1Client) pool(addr string) *connPool {
	if p, ok := c.pools.Load(addr); ok {
		return p.(*connPool)
	}
	p, _ := c.pools.LoadOrStore(addr, &connPool{addr: addr})
	return p.(*connPool)
}

// CloseIdleConnections closes every pooled connection; those in use go on.
func (c *http1Client) CloseIdleConnections() {
	c.pools.Range(func(_, p any) bool {
		p.(*connPool).closeIdle()
		return true
	})
}

// probeAfterIdle is how long a connection may sit idle before it is checked
// for a close by the endpoint before reuse. Endpoints time idle connections
// out after seconds (Node.js: 5 s), and a connection busy a moment ago is
// almost always still open; the resend of idempotent requests covers the
// rest.
const probeAfterIdle = 250 * time.Millisecond

// connPool is the idle connections to one endpoint, most recent last: the
// warmest is reused first, and the coldest age out.
type connPool struct {
	addr string
	mu   sync.Mutex
	idle []*upstreamConn
}

func (p *connPool) get(ctx context.Context, c *http1Client) (*upstreamConn, error) {
	now := time.Now()
	p.mu.Lock()
	for n := len(p.idle); n > 0; n = len(p.idle) {
		conn := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		idle := now.Sub(conn.idleSince)
		if idle >= c.idleTimeout {
			_ = conn.Close()
			continue
		}
		p.mu.Unlock()
		if idle >= probeAfterIdle && peerClosed(conn.Conn) {
			_ = conn.Close()
			p.mu.Lock()
			continue
		}
		conn.reused = true
		return conn, nil
	}
	p.mu.Unlock()
	nc, err := c.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	return &upstreamConn{Conn: nc, pool: p, client: c, br: bufio.NewReader(nc), bw: bufio.NewWriter(nc)}, nil
}

// put keeps conn for the next request, unless the pool is full; it also
// closes the oldest idle connection once it has aged out.
func (p *connPool) put(conn *upstreamConn) {
	conn.idleSince = time.Now()
	p.mu.Lock()
	var expired *upstreamConn
	if len(p.idle) > 0 && conn.idleSince.Sub(p.idle[0].idleSince) >= conn.client.idleTimeout {
		expired = p.idle[0]
		p.idle = append(p.idle[:0], p.idle[1:]...)
	}
	full := len(p.idle) >= conn.client.maxIdle
	if !full {
		p.idle = append(p.idle, conn)
	}
	p.mu.Unlock()
	if expired != nil {
		_ = expired.Close()
	}
	if full {
		_ = conn.Close()
	}
}

func (p *connPool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, conn := range idle {
		_ = conn.Close()
	}
}

// upstreamConn is one connection to an endpoint and its buffers, which stay
// with it across requests.
type upstreamConn struct {
	net.Conn
	pool      *connPool
	client    *http1Client
	br        *bufio.Reader
	bw        *bufio.Writer
	reused    bool
	idleSince time.Time
}

// aLongTimeAgo is a deadline that makes pending reads and writes fail at
// once: how a cancelled request interrupts its connection.
var aLongTimeAgo = time.Unix(1, 0)

// roundTrip writes req and reads the response header; the response body
// reads from the connection and gives it back to the pool when it ends.
func (conn *upstreamConn) roundTrip(ctx context.Context, req *http.Request) (*http.Response, error) {
	stop := func() bool { return true }
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(aLongTimeAgo) })
	}
	resp, err := conn.exchange(ctx, req)
	if err != nil {
		stop()
		return nil, err
	}
	keep := !resp.Close && !req.Close
	if resp.Body == http.NoBody {
		conn.release(stop, keep)
		return resp, nil
	}
	resp.Body = &pooledBody{body: resp.Body, conn: conn, stop: stop, keep: keep, ctx: ctx}
	return resp, nil
}

func (conn *upstreamConn) exchange(ctx context.Context, req *http.Request) (*http.Response, error) {
	if err := writeRequest(conn.bw, req); err != nil {
		return nil, err
	}
	for {
		if _, err := conn.br.Peek(1); err != nil {
			// Nothing of a response: the endpoint closed the connection
			// (or reset it) before answering.
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				return nil, errors.Join(errStaleConn, err)
			}
			return nil, err
		}
		resp, err := http.ReadResponse(conn.br, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusSwitchingProtocols || resp.StatusCode >= 200 || resp.StatusCode < 100 {
			if resp.StatusCode == http.StatusSwitchingProtocols {
				// Upgrades never take this path: an answer switching
				// protocols cannot be relayed as a response.
				return nil, errors.New("unexpected 101 Switching Protocols")
			}
			return resp, nil
		}
		// An informational answer (103 Early Hints): the relay passes
		// it on through its exchange, the ReverseProxy through its client
		// trace, as with the Transport.
		if ex := exchangeOf(ctx); ex != nil && ex.info.w != nil {
			if err := ex.info.relay(resp.StatusCode, textproto.MIMEHeader(resp.Header)); err != nil {
				return nil, err
			}
		} else if trace := httptrace.ContextClientTrace(ctx); trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(resp.StatusCode, textproto.MIMEHeader(resp.Header)); err != nil {
				return nil, err
			}
		}
	}
}

// release ends a request on the connection: back to the pool when the
// response allows it and no cancellation touched the connection.
func (conn *upstreamConn) release(stop func() bool, keep bool) {
	if stop() && keep {
		conn.reused = false
		conn.pool.put(conn)
		return
	}
	_ = conn.Close()
}

// pooledBody is a response body that gives its connection back once read to
// the end, and closes it when abandoned early (unread bytes would corrupt
// the next response).
type pooledBody struct {
	body io.ReadCloser
	conn *upstreamConn
	stop func() bool
	keep bool
	ctx  context.Context
	done bool
}

func (b *pooledBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	switch {
	case err == io.EOF:
		b.done = true
		b.conn.release(b.stop, b.keep)
	case err != nil:
		b.done = true
		b.conn.release(b.stop, false)
		if b.ctx.Err() != nil {
			err = b.ctx.Err()
		}
	}
	return n, err
}

func (b *pooledBody) Close() error {
	if !b.done {
		b.done = true
		b.conn.release(b.stop, false)
	}
	return nil
}
