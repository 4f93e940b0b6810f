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
//   - breaker: circuit breaking: ejection of endpoints after consecutive
//     failures with exponential backoff, max ejection percent, and the
//     pending-request limit.
//   - fault: delay and abort injection on routes.
//   - ratelimit: the inbound local token bucket (429).
//   - tls: the proxy's SPIFFE identity (certificate files reloaded on
//     change) and the tls.Configs of mTLS between proxies.
//   - authz: inbound authorization by caller identity, namespace, method and
//     path (403).
//   - listener: the inbound and outbound HTTP handlers on
//     httputil.ReverseProxy, the inbound listener that terminates mTLS
//     (STRICT or PERMISSIVE), and transparent mode: both listeners recover
//     a redirected connection's original destination (SO_ORIGINAL_DST) and
//     pass opaque TCP through.
//   - redirect: `proxy init`, the iptables rules that redirect the pod's
//     TCP to the listeners.
//   - metrics: the request metrics of the contract in ARCHITECTURE.md, and
//     the proxy's own counters (retries, ejections, rate limits, denials,
//     faults, TCP connections and bytes, certificate expiry).
//   - admin: /metrics, /live, /ready, /config and /shutdown.
//
// The binary is cmd/proxy; `proxy init` is its subcommand for the init
// container.
package proxy
