package listener

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/sluicemesh/sluice/proxy/config"
	"github.com/sluicemesh/sluice/proxy/metrics"
	meshtls "github.com/sluicemesh/sluice/proxy/tls"
)

// detectTimeout bounds how long a new inbound connection may stay silent
// before its first bytes tell TLS from plaintext.
const detectTimeout = 10 * time.Second

// InboundListener accepts the inbound port's connections and applies the
// mTLS mode of the active configuration to each: it peeks at the first bytes
// (a TLS ClientHello starts with 0x16 0x03), terminates mTLS for TLS
// connections, and in STRICT mode refuses plaintext ones. Peeking happens
// off the accept loop, so a silent client cannot hold up the others. It
// counts connections and their bytes.
type InboundListener struct {
	ln    net.Listener
	store *config.Store
	// tlsConfig is nil without a certificate: TLS connections are refused.
	tlsConfig *tls.Config
	metrics   *metrics.Recorder
	log       *slog.Logger

	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
	err       error
}

var _ net.Listener = (*InboundListener)(nil)

// NewInboundListener starts accepting on ln. source may be nil (no
// certificate: plaintext only); rec and log may be nil.
func NewInboundListener(ln net.Listener, store *config.Store, source *meshtls.Source, rec *metrics.Recorder, log *slog.Logger) *InboundListener {
	if log == nil {
		log = slog.Default()
	}
	l := &InboundListener{ln: ln, store: store, metrics: rec, log: log, conns: make(chan net.Conn), done: make(chan struct{})}
	if source != nil {
		l.tlsConfig = source.ServerConfig()
	}
	go l.acceptLoop()
	return l
}

func (l *InboundListener) acceptLoop() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond) // out of file descriptors: let some close
				continue
			}
			l.closeWith(err)
			return
		}
		go l.classify(c)
	}
}

// classify decides what the connection is and hands it to Accept, or
// closes it.
func (l *InboundListener) classify(c net.Conn) {
	mode := l.store.Load().Config.Inbound.MTLS
	if mode == config.MTLSDisabled {
		l.deliver(countConn(c, metrics.Inbound, false, l.metrics))
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(detectTimeout))
	var head [2]byte
	n, err := io.ReadFull(c, head[:1])
	if err == nil && head[0] == 0x16 {
		var m int
		m, err = io.ReadFull(c, head[1:])
		n += m
	}
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		_ = c.Close()
		return
	}
	peeked := &peekedConn{Conn: c, head: head[:n]}
	isTLS := n == 2 && head[0] == 0x16 && head[1] == 0x03
	switch {
	case isTLS && l.tlsConfig == nil:
		l.log.Warn("Refused a TLS connection: the proxy has no certificate", "remote", c.RemoteAddr().String())
		_ = c.Close()
	case isTLS:
		l.deliver(tls.Server(countConn(peeked, metrics.Inbound, true, l.metrics), l.tlsConfig))
	case mode == config.MTLSStrict:
		l.log.Debug("Refused a plaintext connection in STRICT mode", "remote", c.RemoteAddr().String())
		_ = c.Close()
	default:
		l.deliver(countConn(peeked, metrics.Inbound, false, l.metrics))
	}
}

func (l *InboundListener) deliver(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		_ = c.Close()
	}
}

// Accept returns the next classified connection.
func (l *InboundListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, l.err
	}
}

// Close stops accepting.
func (l *InboundListener) Close() error {
	l.closeWith(net.ErrClosed)
	return nil
}

func (l *InboundListener) closeWith(err error) {
	l.closeOnce.Do(func() {
		l.err = err
		close(l.done)
		_ = l.ln.Close()
	})
}

// Addr is the listening address.
func (l *InboundListener) Addr() net.Addr { return l.ln.Addr() }

// peekedConn gives back the bytes read to classify the connection.
type peekedConn struct {
	net.Conn
	head []byte
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
