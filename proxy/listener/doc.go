// Package listener holds the proxy's two traffic listeners as HTTP handlers:
// Outbound (the application's requests to Services: route, split, balance,
// retry) and Inbound (requests to the application). Both forward through one
// httputil.ReverseProxy whose transport chooses the endpoint of each try, so
// health, retries and budgets stay layers around the transport and the
// handlers only decide where a request goes.
//
// Protocols: HTTP/1.1 (keep-alive, chunked, trailers, Upgrade such as
// WebSocket) and cleartext HTTP/2 (h2c, prior knowledge) on the same port,
// which carries gRPC with its trailers. An endpoint's protocol in the
// configuration chooses HTTP/1.1 or h2c towards it.
//
// Serving: a TrafficServer answers plain HTTP/1.1 requests itself on each
// connection's goroutine (http1server.go, http1response.go) and hands a
// connection to an http.Server at the first request that needs more (TLS,
// HTTP/2, upgrades, 100-continue, chunked request bodies, invalid
// requests). Towards endpoints, plain HTTP/1.1 requests take
// http1Client and the rest the net/http Transport. Both fast paths exist
// for a sidecar's CPU; both are tested against net/http's behaviour.
//
// Transparent mode: after `proxy init`, iptables redirects the pod's
// connections to the listeners, which read where each was going
// (SO_ORIGINAL_DST). Outbound, a Service ClusterIP or endpoint address in
// the configuration picks the route table (else the Host does, as in
// explicit mode); an opaque Service is passed through as TCP to one of its
// endpoints; a destination the configuration does not know is passed through
// unchanged. Inbound, requests go to the application at 127.0.0.1 on the
// port the client addressed, and opaque ports are passed through as TCP.
// Which traffic is opaque comes from the configuration (protocol: opaque),
// not from sniffing the first bytes: protocols where the server speaks first
// (MySQL, SMTP) would stall a sniffer waiting for the client. Opaque
// connections have byte counters (sluice_tcp_*) but no request metrics,
// and a drain does not wait for them.
package listener
