package listener

import (
	"context"
	"net"
	"net/netip"
)

// redirectedConn is a connection that iptables redirected to the proxy, and
// where it was going. The listener wraps the accepted connection in it
// before anything else (counting, TLS), so the HTTP server finds it by
// unwrapping.
type redirectedConn struct {
	net.Conn
	dst netip.AddrPort
}

// NetConn is the connection it wraps.
func (c *redirectedConn) NetConn() net.Conn { return c.Conn }

// redirected returns the original destination of a connection accepted on
// ln's address, and whether it was redirected at all: a connection made to
// the listener's own address (explicit mode) was not.
func redirected(c net.Conn) (netip.AddrPort, bool) {
	dst, ok := originalDestination(c)
	if !ok {
		return netip.AddrPort{}, false
	}
	if local, isTCP := c.LocalAddr().(*net.TCPAddr); isTCP && local.AddrPort() == dst {
		return netip.AddrPort{}, false
	}
	return dst, true
}

type originalDestinationKey struct{}

// withOriginalDestination is the http.Server's ConnContext: it records a
// redirected connection's original destination in the context of every
// request it carries.
func withOriginalDestination(ctx context.Context, c net.Conn) context.Context {
	if r, ok := innermost[*redirectedConn](c); ok {
		return context.WithValue(ctx, originalDestinationKey{}, r.dst)
	}
	return ctx
}

// innermost finds the connection of type T that c wraps (or is), looking
// through wrappers that tell what they wrap (TLS, counting, peeking).
func innermost[T net.Conn](c net.Conn) (T, bool) {
	for c != nil {
		if t, ok := c.(T); ok {
			return t, true
		}
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = w.NetConn()
	}
	var zero T
	return zero, false
}

// OriginalDestination is where the client of a request addressed its
// connection before iptables redirected it to the proxy; ok is false in
// explicit mode.
func OriginalDestination(ctx context.Context) (netip.AddrPort, bool) {
	dst, ok := ctx.Value(originalDestinationKey{}).(netip.AddrPort)
	return dst, ok
}
