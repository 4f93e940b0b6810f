// Package proxy is the home of Sluice's bundled data-plane sidecar. Its
// concerns each get a package of their own below this one:
//
//   - config: the typed configuration model, its validation, the immutable
//     compiled Snapshot, the Store that swaps snapshots atomically, and the
//     Source interface (a polled file today, the control-plane stream later).
//   - routing: which route and which weighted backend an outbound request
//     takes.
//   - balancing: endpoint state and the choice of endpoint (power of two
//     choices over peak-EWMA latency, or round robin).
//   - retry: retry conditions and the retry budget.
//   - listener: the inbound and outbound HTTP handlers on
//     httputil.ReverseProxy.
//   - metrics: the request metrics of the contract in ARCHITECTURE.md.
//   - admin: /metrics, /live, /ready, /config and /shutdown.
//
// The binary is cmd/proxy. To be built: circuit breaking, fault injection,
// rate limits, authorization, mTLS, opaque TCP and transparent interception.
package proxy
