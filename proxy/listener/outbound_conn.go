package listener

import (
	"context"
	"log/slog"
	"net"
	"net/netip"

	"github.com/sluicemesh/sluice/proxy/config"
	"github.com/sluicemesh/sluice/proxy/metrics"
	"github.com/sluicemesh/sluice/proxy/routing"
	meshtls "github.com/sluicemesh/sluice/proxy/tls"
)

// OutboundListener accepts the outbound port's connections and sorts them
// by where the application was connecting (SO_ORIGINAL_DST, transparent
// mode):
//   - not redirected (the client addressed the listener itself: explicit
//     mode) or addressed to an HTTP Service: served as HTTP, routed by the
//     Service of the original destination, else by the Host header;
//   - addressed to an opaque Service: passed through as TCP to an endpoint
//     of its first route's backends, chosen by weight;
//   - addressed to anything the configuration does not know: passed
//     through as TCP to the original destination, so the mesh never breaks
//     what it does not understand.
//
// It counts connections and their bytes (sluice_tcp_*).
type OutboundListener struct {
	acceptor
	store    *config.Store
	identity *meshtls.Source
	metrics  *metrics.Recorder
	log      *slog.Logger
}

var _ net.Listener = (*OutboundListener)(nil)

// NewOutboundListener starts accepting on ln. identity may be nil (no
// certificate: meshed opaque endpoints cannot be reached); rec and log may be
// nil.
func NewOutboundListener(ln net.Listener, store *config.Store, identity *meshtls.Source, rec *metrics.Recorder, log *slog.Logger) *OutboundListener {
	return newOutboundListener(ln, store, identity, rec, log, nil)
}

func newOutboundListener(ln net.Listener, store *config.Store, identity *meshtls.Source, rec *metrics.Recorder, log *slog.Logger,
	originalDst func(net.Conn) (netip.AddrPort, bool)) *OutboundListener {
	if log == nil {
		log = slog.Default()
	}
	l := &OutboundListener{store: store, identity: identity, metrics: rec, log: log}
	l.acceptor = newAcceptor(ln, l.classify, originalDst)
	go l.acceptLoop()
	return l
}

func (l *OutboundListener) classify(c net.Conn) {
	dst, ok := l.originalDst(c)
	if !ok {
		l.deliver(countConn(c, metrics.Outbound, false, l.metrics))
		return
	}
	c = countConn(&redirectedConn{Conn: c, dst: dst}, metrics.Outbound, false, l.metrics)
	table := l.store.Load().Service(authorityOf(dst))
	switch {
	case table == nil:
		l.passThrough(c, dst)
	case table.Opaque:
		l.toService(c, table)
	default:
		l.deliver(c)
	}
}

// authorityOf is the canonical authority of an address.
func authorityOf(dst netip.AddrPort) string { return dst.String() }

// passThrough connects an unknown destination as it is.
func (l *OutboundListener) passThrough(c net.Conn, dst netip.AddrPort) {
	up, err := opaqueDialer.Dial("tcp", dst.String())
	if err != nil {
		l.log.Debug("Opaque connection to an unknown destination failed", "destination", dst.String(), "error", err)
		_ = c.Close()
		return
	}
	l.tunnels.pipe(c, up)
}

// toService connects an opaque Service to one of its endpoints.
func (l *OutboundListener) toService(c net.Conn, table *config.ServiceTable) {
	var dest *config.Destination
	if len(table.Rules) > 0 {
		dest = routing.PickDestination(&table.Rules[0])
	}
	ep, start := tryAcquire(dest, nil)
	if ep == nil {
		l.log.Debug("Opaque connection to a Service without an available endpoint", "service", table.Name)
		_ = c.Close()
		return
	}
	up, err := dialEndpoint(context.Background(), ep, l.identity)
	// The endpoint's latency is its connect time; its outcome feeds the
	// circuit breaker like a request's.
	ep.Done(start, err != nil)
	if b := dest.Breaker; b != nil {
		if b.Record(&ep.Outlier, err != nil) {
			l.metrics.Ejection(dest.Name)
		}
		b.Pending.Freed()
	}
	if err != nil {
		l.log.Debug("Opaque connection to an endpoint failed", "service", table.Name, "endpoint", ep.Address, "error", err)
		_ = c.Close()
		return
	}
	l.tunnels.pipe(c, up)
}
