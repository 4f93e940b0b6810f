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
package listener
