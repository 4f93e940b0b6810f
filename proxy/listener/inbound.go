package listener

import (
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/sluicemesh/sluice/proxy/balancing"
	"github.com/sluicemesh/sluice/proxy/config"
	"github.com/sluicemesh/sluice/proxy/metrics"
	meshtls "github.com/sluicemesh/sluice/proxy/tls"
)

// ClientIDHeader carries the verified SPIFFE identity of a meshed caller to
// the application (like linkerd's l5d-client-id). The inbound listener drops
// any value the caller sent itself.
const ClientIDHeader = "Sluice-Client-Id"

// Inbound handles requests to the application next to the proxy and
// measures them: the inbound metrics are what the Canary analysis queries.
type Inbound struct {
	store *config.Store
	fwd   *forwarder
	// ports holds the application's destination per port and protocol in
	// transparent mode, kept across reloads so the endpoint's latency and
	// connections stay warm.
	ports sync.Map // appPort -> *config.Destination
}

type appPort struct {
	port     uint16
	protocol config.Protocol
	service  string
}

var _ http.Handler = (*Inbound)(nil)

// NewInbound returns the inbound handler. rec and log may be nil.
func NewInbound(store *config.Store, rec *metrics.Recorder, log *slog.Logger, opts ...Option) *Inbound {
	return &Inbound{store: store, fwd: newForwarder(metrics.Inbound, rec, log, opts)}
}

func (in *Inbound) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rule := &in.store.Load().Inbound
	key := metrics.Key{Direction: metrics.Inbound, Service: rule.Service, TLS: r.TLS != nil}
	// Only this proxy may tell the application who the caller is.
	if _, spoofed := r.Header[ClientIDHeader]; spoofed {
		r.Header.Del(ClientIDHeader)
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		// The handshake verified the chain; the identity is what
		// authorization and the application's view of the caller rest on.
		peer := meshtls.IdentityOf(r.TLS.PeerCertificates[0])
		r = r.WithContext(meshtls.WithPeer(r.Context(), peer))
		r.Header.Set(ClientIDHeader, peer)
	}
	// Authorization before the rate limit: a denied caller must not use up
	// the application's tokens.
	if rule.Authorization != nil && !rule.Authorization.Allow(meshtls.PeerFrom(r.Context()), r) {
		in.fwd.metrics.AuthzDenied(metrics.Inbound)
		in.fwd.reject(w, key, start, http.StatusForbidden, "forbidden by authorization")
		return
	}
	if rule.RateLimit != nil && !rule.RateLimit.Allow() {
		in.fwd.metrics.RateLimited(metrics.Inbound)
		in.fwd.reject(w, key, start, http.StatusTooManyRequests, "rate limited")
		return
	}
	app := rule.Application
	if dst, ok := OriginalDestination(r.Context()); ok {
		app = in.application(dst.Port(), rule.PortProtocol(int(dst.Port())), rule.Service)
	}
	if app == nil {
		in.fwd.reject(w, key, start, http.StatusServiceUnavailable, "no application target")
		return
	}
	in.fwd.forward(w, r, &exchange{dest: app}, key, start, rule.Timeout)
}

// application is where a redirected request goes: the application at
// 127.0.0.1 on the port the client addressed.
func (in *Inbound) application(port uint16, protocol config.Protocol, service string) *config.Destination {
	k := appPort{port: port, protocol: protocol, service: service}
	if d, ok := in.ports.Load(k); ok {
		return d.(*config.Destination)
	}
	addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), port).String()
	d, _ := in.ports.LoadOrStore(k, &config.Destination{
		Name:      service,
		Endpoints: []*balancing.Endpoint{balancing.NewEndpoint(addr, "", string(protocol))},
		Balancer:  balancing.PeakEWMA{},
	})
	return d.(*config.Destination)
}

// CloseIdleConnections closes kept-alive connections to the application.
func (in *Inbound) CloseIdleConnections() { in.fwd.upstream.CloseIdleConnections() }
