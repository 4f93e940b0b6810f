package listener

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// The server side's timeouts, the same as NewServer's: a client may be slow
// to send a request's header, not forever, and an idle connection is closed
// after a while.
const (
	readHeaderTimeout = 30 * time.Second
	idleTimeout       = 5 * time.Minute
)

// maxDiscardBody is how much of a request body the handler left unread is
// read and dropped to keep the connection; beyond it the connection closes
// (net/http's limit).
const maxDiscardBody = 256 << 10

// Connection states, for Shutdown: only an idle connection may be closed
// under a client.
const (
	connActive int32 = iota
	connIdle
	connClosing
)

// serverConn is one plaintext connection on the fast path.
type serverConn struct {
	srv    *TrafficServer
	raw    net.Conn
	remote string
	ctx    context.Context
	cancel context.CancelFunc
	state  atomic.Int32

	br   *bufio.Reader // reads through the connection's Read below
	bw   *bufio.Writer
	resp http1Response

	afterPost bool      // the last request was a POST
	served    bool      // a request was answered
	deadline  time.Time // the read deadline set, zero for none
	idleSince time.Time
	watch     clientWatch
}

func newServerConn(s *TrafficServer, raw net.Conn) *serverConn {
	c := &serverConn{srv: s, raw: raw, remote: raw.RemoteAddr().String()}
	c.ctx, c.cancel = context.WithCancel(withOriginalDestination(context.Background(), raw))
	c.br = bufio.NewReaderSize(c, 4<<10)
	c.bw = bufio.NewWriterSize(raw, 4<<10)
	c.resp.conn = c
	c.watch.init(c)
	return c
}

// Read is what br reads: a byte the client watch took first, then the
// connection.
func (c *serverConn) Read(p []byte) (int, error) {
	if c.watch.hasByte {
		c.watch.hasByte = false
		p[0] = c.watch.b[0]
		return 1, nil
	}
	return c.raw.Read(p)
}

// serve answers requests until the connection ends, and returns the
// connection, with what was read of it and not answered, when a request
// needs the http.Server.
func (c *serverConn) serve() (handOver net.Conn) {
	defer c.cancel()
	c.idleSince = time.Now()
	for {
		c.state.Store(connIdle)
		end, err := c.readHeader()
		if c.state.Load() == connClosing {
			return nil // Shutdown closed it while idle
		}
		if err != nil {
			if errors.Is(err, errNotFastPath) {
				return c.handOver()
			}
			_ = c.raw.Close()
			return nil
		}
		req, ok := c.parse(end)
		if !ok {
			return c.handOver()
		}
		if !c.answer(req, end) {
			_ = c.raw.Close()
			return nil
		}
		c.served = true
		c.idleSince = time.Now()
	}
}

// handOver returns the connection with the bytes read but not answered in
// front.
func (c *serverConn) handOver() net.Conn {
	c.setReadDeadline(time.Time{})
	head, _ := c.br.Peek(c.br.Buffered())
	return &peekedConn{Conn: c.raw, head: bytes.Clone(head)}
}

// errNotFastPath: what comes next is for the http.Server (the HTTP/2
// preface, a header larger than the fast path's buffer, or a header the
// client ended in the middle of).
var errNotFastPath = errors.New("not a request for the fast path")

// readHeader waits for a whole request header in the buffer and returns
// its length; it reads nothing past what the client sent.
func (c *serverConn) readHeader() (int, error) {
	if c.afterPost {
		// Old clients send a CRLF after a POST body; net/http skips up
		// to four CR or LF bytes there (RFC 9112, section 2.2), and so
		// must the fast path, or the two would read the rest apart.
		c.afterPost = false
		c.refreshDeadline(time.Now())
		peek, _ := c.br.Peek(4)
		skip := 0
		for skip < len(peek) && (peek[skip] == '\r' || peek[skip] == '\n') {
			skip++
		}
		_, _ = c.br.Discard(skip)
	}
	for {
		if c.br.Buffered() == 0 {
			c.refreshDeadline(time.Now())
		}
		buf, _ := c.br.Peek(c.br.Buffered())
		if len(buf) > 0 && !c.active() {
			return 0, net.ErrClosed
		}
		if len(buf) > 0 && buf[0] == 'P' && bytes.HasPrefix(buf, []byte("PRI ")) {
			return 0, errNotFastPath // the HTTP/2 preface (h2c prior knowledge)
		}
		if end := headerEnd(buf); end > 0 {
			return end, nil
		}
		if len(buf) == c.br.Size() {
			return 0, errNotFastPath
		}
		first := len(buf) == 0
		_, err := c.br.Peek(len(buf) + 1)
		if err == nil {
			if first {
				// A request begins: it has the header timeout from now.
				c.refreshDeadline(time.Now())
			}
			continue
		}
		var ne net.Error
		timeout := errors.As(err, &ne) && ne.Timeout()
		switch {
		case first && timeout && time.Since(c.idleSince) < c.srv.idleTimeout:
			// Idle, within the idle timeout: keep waiting.
			c.deadline = time.Time{}
			continue
		case !first && !timeout && (!c.served || len(buf) >= 4):
			// The client ended in the middle of a header: net/http
			// answers what it makes of the part it got, except after a
			// request, where it waits for four bytes before it reads a
			// header and closes without a word when fewer come.
			return 0, errNotFastPath
		}
		return 0, err
	}
}

// active marks the connection busy from a request's first byte on, so
// Shutdown lets it finish; it says false when Shutdown closed it first.
func (c *serverConn) active() bool {
	return c.state.Load() == connActive || c.state.CompareAndSwap(connIdle, connActive)
}

// refreshDeadline gives the client the header timeout from now to send a
// header, or what is left of the idle timeout, whichever is shorter. On a
// busy connection it keeps a deadline up to a thirtieth of the timeout
// early (a second of 30) rather than move it on every request: setting it
// costs a timer update.
func (c *serverConn) refreshDeadline(now time.Time) {
	timeout := c.srv.headerTimeout
	want := now.Add(timeout)
	if idleEnd := c.idleSince.Add(c.srv.idleTimeout); c.br.Buffered() == 0 && idleEnd.Before(want) {
		want = idleEnd
	}
	if !c.deadline.IsZero() && want.Sub(c.deadline) < timeout/30 && c.deadline.After(now) {
		return
	}
	c.setReadDeadline(want)
}

func (c *serverConn) setReadDeadline(t time.Time) {
	if t.Equal(c.deadline) {
		return
	}
	_ = c.raw.SetReadDeadline(t)
	c.deadline = t
}

// headerEnd is the length of the request header at the start of buf (up
// to and including its empty line), or 0 when it is not all there.
func headerEnd(buf []byte) int {
	for i := 0; i < len(buf); {
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 {
			return 0
		}
		i += j + 1
		if i < len(buf) && buf[i] == '\n' {
			return i + 1
		}
		if i+1 < len(buf) && buf[i] == '\r' && buf[i+1] == '\n' {
			return i + 2
		}
	}
	return 0
}

// parse reads the request header of length end, without consuming it, and
// says whether the fast path takes the request.
func (c *serverConn) parse(end int) (*http.Request, bool) {
	raw, _ := c.br.Peek(end)
	hr := headerReaders.Get().(*headerReader)
	hr.bytes.Reset(raw)
	hr.buf.Reset(&hr.bytes)
	req, err := http.ReadRequest(hr.buf)
	hr.bytes.Reset(nil)
	headerReaders.Put(hr)
	if err != nil || !fastServable(req, raw) {
		return nil, false // the http.Server answers it, errors included
	}
	return req, true
}

// headerReader parses a request's header from the bytes buffered, without
// consuming them, so a request the fast path does not take is still unread
// when handed over. Pooled: a connection needs one only while parsing.
type headerReader struct {
	bytes bytes.Reader
	buf   *bufio.Reader
}

var headerReaders = sync.Pool{New: func() any {
	hr := &headerReader{}
	hr.buf = bufio.NewReaderSize(&hr.bytes, 4<<10)
	return hr
}}

// fastServable says whether the fast path answers req: a plain HTTP/1.1
// request with a body of known length or none, valid as net/http's server
// checks it. Anything else goes to the http.Server: HTTP/1.0 (its
// keep-alive rules), CONNECT, chunked bodies (and their trailers),
// Expect (100-continue), protocol upgrades, OPTIONS * (which net/http
// answers itself), and invalid requests, which it answers with its own
// errors.
func fastServable(req *http.Request, raw []byte) bool {
	if req.ProtoMajor != 1 || req.ProtoMinor != 1 || req.Method == http.MethodConnect || req.RequestURI == "*" {
		return false
	}
	if len(req.TransferEncoding) > 0 || req.ContentLength < 0 {
		return false
	}
	// net/http checks the Host field itself, which an absolute-form
	// request line (GET http://host/) overrides in req.Host.
	if req.Host == "" || !httpguts.ValidHostHeader(req.Host) {
		return false
	}
	// (Comparing first spares a copy of the field in the usual case.)
	if host, n := hostField(raw); n != 1 || string(host) != req.Host && !httpguts.ValidHostHeader(string(host)) {
		return false
	}
	if _, ok := req.Header["Upgrade"]; ok {
		return false
	}
	if _, ok := req.Header["Expect"]; ok {
		return false
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return false
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return false
			}
		}
	}
	return true
}

// hostField returns the value of a raw header's Host field and how many
// there are (http.ReadRequest keeps only the first, and deletes it from the
// header; more than one is an error).
func hostField(raw []byte) (value []byte, n int) {
	for i := bytes.IndexByte(raw, '\n'); i >= 0 && i+5 < len(raw); {
		line := raw[i+1:]
		j := bytes.IndexByte(line, '\n')
		if j < 0 {
			break
		}
		if bytes.EqualFold(line[:5], []byte("host:")) {
			n++
			if n == 1 {
				value = bytes.Trim(line[5:j], " \t\r")
			}
			if next := line[j+1:]; len(next) > 0 && (next[0] == ' ' || next[0] == '\t') {
				n++ // folded onto the next line: net/http judges it
			}
		}
		i += j + 1
	}
	return value, n
}

// answer serves one request whose header is the next end bytes, and says
// whether the connection stays open for the next.
func (c *serverConn) answer(req *http.Request, end int) (keep bool) {
	_, _ = c.br.Discard(end)
	c.afterPost = req.Method == http.MethodPost
	req.RemoteAddr = c.remote
	var body *fastBody
	if req.ContentLength > 0 {
		// The body may take its time; the header timeout is over.
		c.setReadDeadline(time.Time{})
		body = &fastBody{br: c.br, remaining: req.ContentLength}
		req.Body = body
	}
	req = req.WithContext(c.ctx)
	w := &c.resp
	w.reset(req)
	watching := body == nil && c.br.Buffered() == 0
	if watching {
		c.watch.arm()
	}
	panicked := c.callHandler(w, req)
	clientGone := false
	if watching {
		clientGone = c.watch.disarm()
	}
	if panicked || clientGone {
		return false
	}
	if body != nil {
		// What the handler left of the body goes before the next request.
		// A body cut short (the client sent less than it announced) still
		// gets its response, then the connection closes, as with net/http.
		left, broken := body.finish()
		switch {
		case broken, left > maxDiscardBody:
			w.closeAfter = true
		case left > 0:
			if _, err := io.CopyN(io.Discard, c.br, left); err != nil {
				w.closeAfter = true
			}
		}
	}
	if err := w.finish(); err != nil {
		return false
	}
	return !w.closeAfter
}

// callHandler runs the handler and says whether it panicked. A handler that
// aborts a response it has begun (http.ErrAbortHandler) breaks the
// connection, so the client sees the response incomplete, as net/http does.
func (c *serverConn) callHandler(w *http1Response, req *http.Request) (panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			panicked = true
			if p != http.ErrAbortHandler {
				c.srv.log.Error("Handler panicked", "remote", c.remote, "panic", p, "stack", string(debug.Stack()))
			}
		}
	}()
	c.srv.handler.ServeHTTP(w, req)
	return false
}

// fastBody is a request body of known length read from the connection.
// The handler may read it from another goroutine (the upstream transport),
// hence the lock.
type fastBody struct {
	mu        sync.Mutex
	br        *bufio.Reader
	remaining int64
	closed    bool
	broken    bool // the client sent less than it announced
}

func (b *fastBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.remaining == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.br.Read(p)
	b.remaining -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		b.broken = true
	}
	if err == nil && b.remaining == 0 {
		err = io.EOF
	}
	return n, err
}

func (b *fastBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// finish closes the body for the handler and says how much of it is left
// unread, and whether the client sent less than it announced.
func (b *fastBody) finish() (left int64, broken bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return b.remaining, b.broken
}
