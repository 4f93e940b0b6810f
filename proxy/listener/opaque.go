package listener

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"time"

	"github.com/sluicemesh/sluice/proxy/balancing"
	meshtls "github.com/sluicemesh/sluice/proxy/tls"
)

// opaqueDialer reaches the upstream of an opaque connection.
var opaqueDialer = &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}

// dialEndpoint connects to an endpoint for opaque TCP: plaintext when it is
// not meshed, else mTLS checking its identity (no ALPN: the stream is not
// HTTP, and the server side knows it by the port).
func dialEndpoint(ctx context.Context, ep *balancing.Endpoint, identity *meshtls.Source) (net.Conn, error) {
	if ep.Identity != "" && identity == nil {
		return nil, errNoCertificate
	}
	c, err := opaqueDialer.DialContext(ctx, "tcp", ep.Address)
	if err != nil || ep.Identity == "" {
		return c, err
	}
	cfg := identity.ClientConfig(ep.Identity).Clone()
	cfg.NextProtos = nil
	tc := tls.Client(c, cfg)
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	return tc, nil
}

// pipe copies bytes both ways until both directions are done, passing a
// half-close on (a client that shuts down writing still gets its answer),
// then closes both connections.
func pipe(client, upstream net.Conn) {
	done := make(chan struct{})
	go func() {
		copyHalf(upstream, client)
		close(done)
	}()
	copyHalf(client, upstream)
	<-done
	_ = client.Close()
	_ = upstream.Close()
}

func copyHalf(dst, src net.Conn) {
	buf := copyBuffers.Get()
	defer copyBuffers.Put(buf)
	_, err := io.CopyBuffer(dst, src, buf)
	if err != nil {
		// A reset on one side: end both directions now.
		_ = dst.Close()
		_ = src.Close()
		return
	}
	closeWrite(dst)
}

// closeWrite half-closes the innermost connection that can (TLS sends
// close_notify, TCP a FIN); wrappers are looked through.
func closeWrite(c net.Conn) {
	for c != nil {
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
			return
		}
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			_ = c.Close()
			return
		}
		c = w.NetConn()
	}
}
