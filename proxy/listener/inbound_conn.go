package listener

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/sluicemesh/sluice/proxy/config"
	"github.com/sluicemesh/sluice/proxy/metrics"
	meshtls "github.com/sluicemesh/sluice/proxy/tls"
)

// detectTimeout bounds how long a new inbound connection may stay silent
// before its first bytes tell TLS from plaintext.
const detectTimeout = 10 * time.Second

// opaqueDetectTimeout is how long a new connection to an opaque port may
// stay silent before it is taken for plaintext: a mesh peer's TLS
// ClientHello comes at once, while the clients of protocols where the
// server speaks first (MySQL, SMTP) wait for it.
const opaqueDetectTimeout = 300 * time.Millisecond

// InboundListener accepts the inbound port's connections and applies the
// mTLS mode of the active configuration to each: it peeks at the first bytes
// (a TLS ClientHello starts with 0x16 0x03), terminates mTLS for TLS
// connections, and in STRICT mode refuses plaintext ones. Peeking happens
// off the accept loop, so a silent client cannot hold up the others. It
// counts connections and their bytes.
type InboundListener struct {
	acceptor
	store *config.Store
	// tlsConfig is nil without a certificate: TLS connections are refused.
	tlsConfig *tls.Config
	metrics   *metrics.Recorder
	log       *slog.Logger
}

var _ net.Listener = (*InboundListener)(nil)

// NewInboundListener starts accepting on ln. source may be nil (no
// certificate: plaintext only); rec and log may be nil.
func NewInboundListener(ln net.Listener, store *config.Store, source *meshtls.Source, rec *metrics.Recorder, log *slog.Logger) *InboundListener {
	return newInboundListener(ln, store, source, rec, log, nil)
}

func newInboundListener(ln net.Listener, store *config.Store, source *meshtls.Source, rec *metrics.Recorder, log *slog.Logger,
	originalDst func(net.Conn) (netip.AddrPort, bool)) *InboundListener {
	if log == nil {
		log = slog.Default()
	}
	l := &InboundListener{store: store, metrics: rec, log: log}
	l.acceptor = newAcceptor(ln, l.classify, originalDst)
	if source != nil {
		l.tlsConfig = source.ServerConfig()
	}
	go l.acceptLoop()
	return l
}

// classify decides what the connection is and hands it to Accept, passes
// it through (opaque ports), or closes it.
func (l *InboundListener) classify(c net.Conn) {
	snap := l.store.Load()
	opaque := false
	if dst, ok := l.originalDst(c); ok {
		// Transparent mode: the application listens on the port the
		// client addressed.
		c = &redirectedConn{Conn: c, dst: dst}
		opaque = snap.Inbound.PortProtocol(int(dst.Port())) == config.ProtocolOpaque
	}
	mode := snap.Config.Inbound.MTLS
	if mode == config.MTLSDisabled {
		l.accept(countConn(c, metrics.Inbound, false, l.metrics), opaque)
		return
	}
	timeout := detectTimeout
	if opaque {
		timeout = opaqueDetectTimeout
	}
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	var head [2]byte
	n, err := io.ReadFull(c, head[:1])
	if err == nil && head[0] == 0x16 {
		var m int
		m, err = io.ReadFull(c, head[1:])
		n += m
	}
	_ = c.SetReadDeadline(time.Time{})
	var ne net.Error
	if opaque && n == 0 && errors.As(err, &ne) && ne.Timeout() {
		// A silent client on an opaque port waits for the server to
		// speak first (MySQL, SMTP): it is not TLS, which starts at once.
		err = nil
	}
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
		l.accept(tls.Server(countConn(peeked, metrics.Inbound, true, l.metrics), l.tlsConfig), opaque)
	case mode == config.MTLSStrict:
		l.log.Debug("Refused a plaintext connection in STRICT mode", "remote", c.RemoteAddr().String())
		_ = c.Close()
	default:
		l.accept(countConn(peeked, metrics.Inbound, false, l.metrics), opaque)
	}
}

// accept hands an HTTP connection to the server, or passes an opaque one
// through to the application.
func (l *InboundListener) accept(c net.Conn, opaque bool) {
	if opaque {
		l.passThrough(c)
		return
	}
	l.deliver(c)
}

// passThrough forwards an opaque connection to the application at
// 127.0.0.1:<original port>, after the mTLS handshake for a TLS client.
// Authorization applies to the connection as a whole: a rule that names
// methods, or paths other than /, never allows it.
func (l *InboundListener) passThrough(c net.Conn) {
	peer := ""
	if tc, ok := c.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(context.Background(), detectTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			_ = c.Close()
			return
		}
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			peer = meshtls.IdentityOf(certs[0])
		}
	}
	rule := &l.store.Load().Inbound
	if rule.Authorization != nil && !rule.Authorization.Allow(peer, opaqueRequest) {
		l.metrics.AuthzDenied(metrics.Inbound)
		_ = c.Close()
		return
	}
	var dst netip.AddrPort
	if r, ok := innermost[*redirectedConn](c); ok {
		dst = r.dst
	}
	app, err := opaqueDialer.Dial("tcp", netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), dst.Port()).String())
	if err != nil {
		l.log.Debug("Opaque connection to the application failed", "port", dst.Port(), "error", err)
		_ = c.Close()
		return
	}
	l.tunnels.pipe(c, app)
}

// opaqueRequest is what authorization sees of an opaque connection: no
// method and an empty path.
var opaqueRequest = &http.Request{URL: &url.URL{}, Header: http.Header{}}

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

// NetConn is the connection it reads from.
func (c *peekedConn) NetConn() net.Conn { return c.Conn }
