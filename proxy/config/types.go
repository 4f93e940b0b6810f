package config

// Config is the whole configuration of one proxy: what its inbound listener
// protects, the route table its outbound listener applies, and the backends
// those routes send traffic to. The control plane will compile it from
// Services, EndpointSlices, HTTPRoutes and Policies and stream it; until then it
// is read from a file. Listener bind addresses are flags of cmd/proxy, not part
// of this model, because a running listener cannot move on a hot reload.
type Config struct {
	// Version names this configuration in logs and on the admin /config page.
	// Optional; the control plane sets it to its snapshot version.
	Version string `json:"version,omitempty"`

	// Inbound configures the inbound listener (port 14143): traffic from other
	// pods to the application next to this proxy.
	Inbound Inbound `json:"inbound,omitempty"`

	// Outbound configures the outbound listener (port 14140): traffic from the
	// application to Services.
	Outbound Outbound `json:"outbound,omitempty"`

	// Backends lists every Service a route can send traffic to, with its
	// endpoints. Routes refer to them by name and namespace.
	Backends []Backend `json:"backends,omitempty"`

	// TLS is reserved for the control plane to describe where the proxy's
	// certificate comes from. Ignored for now: cmd/proxy's --tls-cert,
	// --tls-key and --tls-trust-bundle name the files, which are reloaded when
	// they change.
	TLS *TLS `json:"tls,omitempty"`
}

// Inbound configures traffic that arrives at the application.
type Inbound struct {
	// Target is the application's address (host:port) where the inbound
	// listener forwards requests whose original destination is unknown
	// (explicit mode). Default: empty, and the inbound listener answers 503.
	Target string `json:"target,omitempty"`

	// Service is the Service whose port receives this traffic; it becomes the
	// `service` label of inbound metrics. Default: empty.
	Service string `json:"service,omitempty"`

	// Protocol the application speaks on Target, and on every port that
	// Ports does not list. Default: http1.
	Protocol Protocol `json:"protocol,omitempty"`

	// Ports name the protocol of application ports in transparent mode, where
	// a redirected connection goes to 127.0.0.1:<its original port>. A port
	// with protocol opaque is passed through as TCP (after mTLS termination;
	// authorization then allows it only by rules that name no methods and
	// no paths other than /). A plaintext client that stays silent for 300ms
	// is taken for one whose server speaks first (MySQL, SMTP).
	// Default: empty, every port speaks Protocol.
	Ports []InboundPort `json:"ports,omitempty"`

	// Timeout bounds a whole inbound request, response body included.
	// Default: 0, no timeout.
	Timeout Duration `json:"timeout,omitempty"`

	// MTLS is STRICT (plaintext connections refused), PERMISSIVE (TLS
	// detected on the same port by its first bytes, plaintext accepted) or
	// DISABLED (no detection, plaintext only). TLS connections must present
	// a client certificate from the trust bundle. A change applies to new
	// connections. Default: PERMISSIVE.
	MTLS MTLSMode `json:"mtls,omitempty"`

	// Authorization decides which callers may reach the application; a
	// denied request gets 403. Default: nil, every caller is allowed.
	Authorization *Authorization `json:"authorization,omitempty"`

	// RateLimit limits the requests per second the application receives
	// through this proxy (a local token bucket, not shared between replicas),
	// answering 429 beyond it. Default: nil, no limit.
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
}

// InboundPort is one application port and its protocol.
type InboundPort struct {
	// Port of the application. Required.
	Port int `json:"port"`
	// Protocol the application speaks on it. Required.
	Protocol Protocol `json:"protocol"`
}

// Outbound configures traffic that leaves the application.
type Outbound struct {
	// Namespace is the namespace of the workload this proxy serves. A Service
	// in this namespace is also reachable by its short name `name:port`.
	// Default: empty, and every Service gets its short name (two Services with
	// the same name and port are then an error).
	Namespace string `json:"namespace,omitempty"`

	// ClusterDomain is the DNS suffix of Service names. Default: cluster.local.
	ClusterDomain string `json:"clusterDomain,omitempty"`

	// Services is the route table: one entry per Service the application may
	// address.
	Services []Service `json:"services,omitempty"`
}

// Service is one addressable Service and its route table. A client reaches it
// with a Host (or :authority) of `name:port`, `name.namespace:port`,
// `name.namespace.svc:port` or `name.namespace.svc.<clusterDomain>:port`;
// a Host without a port means port 80.
type Service struct {
	// Name of the Service; the `service` label of outbound metrics. Required.
	Name string `json:"name"`

	// Namespace of the Service. Required.
	Namespace string `json:"namespace"`

	// Port the Service listens on. Required.
	Port int `json:"port"`

	// Aliases are extra authorities (host:port) that reach this Service.
	Aliases []string `json:"aliases,omitempty"`

	// ClusterIPs are the Service's virtual IPs. In transparent mode a
	// connection whose original destination is one of them on Port is routed
	// to this Service whatever its Host header says (the IP:Port also works
	// as a Host). Default: empty, the Service is reached by name only.
	ClusterIPs []string `json:"clusterIPs,omitempty"`

	// Protocol is how connections to the Service are handled in transparent
	// mode: http1, h2 or grpc are parsed as HTTP (either is accepted from
	// the client; the endpoint's protocol decides upstream), opaque passes
	// the TCP stream through to an endpoint of the first route's backends,
	// chosen by weight, with mTLS when the endpoint is meshed. Default: http1.
	Protocol Protocol `json:"protocol,omitempty"`

	// Routes are tried in order; the first whose matches accept the request
	// wins. A request no route accepts gets 404. Default: none, and every request
	// goes to the backend of the same name and namespace.
	Routes []Route `json:"routes,omitempty"`

	// Timeout for routes that set none. Default: 0, no timeout.
	Timeout Duration `json:"timeout,omitempty"`

	// Retries for routes that set none. Default: nil, no retries.
	Retries *RetryPolicy `json:"retries,omitempty"`
}

// Route sends the requests it matches to weighted backends.
type Route struct {
	// Name identifies the route in logs. Optional.
	Name string `json:"name,omitempty"`

	// Matches: a request matches the route when it matches any of them.
	// Default: empty, the route matches every request.
	Matches []Match `json:"matches,omitempty"`

	// Backends share the route's traffic in proportion to their weights (this is
	// how a canary split takes effect). Required: at least one.
	Backends []BackendRef `json:"backends"`

	// Mirror copies a share of the requests to another backend and ignores its
	// answers. Default: nil, no mirroring.
	Mirror *Mirror `json:"mirror,omitempty"`

	// Timeout bounds each request on this route, retries included.
	// Default: the Service's timeout.
	Timeout Duration `json:"timeout,omitempty"`

	// Retries of failed requests. Default: the Service's retries.
	Retries *RetryPolicy `json:"retries,omitempty"`

	// Fault injects delays or aborts, for testing resilience. Default: nil.
	Fault *Fault `json:"fault,omitempty"`
}

// Match is a conjunction: every condition it sets must hold.
type Match struct {
	// Path condition. Default: nil, any path.
	Path *PathMatch `json:"path,omitempty"`

	// Method is an HTTP method such as GET. Default: empty, any method.
	Method string `json:"method,omitempty"`

	// Headers must all match. Default: empty.
	Headers []HeaderMatch `json:"headers,omitempty"`
}

// PathMatchType says how a PathMatch compares.
type PathMatchType string

const (
	// PathExact matches the whole path.
	PathExact PathMatchType = "Exact"
	// PathPrefix matches whole path segments: /api matches /api and /api/v1,
	// not /apis.
	PathPrefix PathMatchType = "PathPrefix"
	// PathRegularExpression matches a Go (RE2) regular expression against the
	// whole path.
	PathRegularExpression PathMatchType = "RegularExpression"
)

// PathMatch compares the request path.
type PathMatch struct {
	// Type of comparison. Default: PathPrefix.
	Type PathMatchType `json:"type,omitempty"`
	// Value to compare with. Required; must start with / unless a regular
	// expression.
	Value string `json:"value"`
}

// HeaderMatchType says how a HeaderMatch compares.
type HeaderMatchType string

const (
	// HeaderExact compares the value exactly.
	HeaderExact HeaderMatchType = "Exact"
	// HeaderRegularExpression matches a Go (RE2) regular expression against the
	// whole value.
	HeaderRegularExpression HeaderMatchType = "RegularExpression"
)

// HeaderMatch compares one request header.
type HeaderMatch struct {
	// Name of the header, case-insensitive. Required.
	Name string `json:"name"`
	// Value to compare with. Required.
	Value string `json:"value"`
	// Type of comparison. Default: Exact.
	Type HeaderMatchType `json:"type,omitempty"`
}

// BackendRef points a route at a Backend.
type BackendRef struct {
	// Name of the Backend; the `backend` label of outbound metrics. Required.
	Name string `json:"name"`
	// Namespace of the Backend. Default: the Service's namespace.
	Namespace string `json:"namespace,omitempty"`
	// Weight relative to the route's other backends; 0 sends no traffic.
	// Default: 1.
	Weight *uint32 `json:"weight,omitempty"`
}

// Mirror copies requests to a backend without waiting for or returning its
// answer.
type Mirror struct {
	// Backend that receives the copies. Required.
	Backend BackendRef `json:"backend"`
	// Percent of requests mirrored, 0 to 100. Default: 100.
	Percent *float64 `json:"percent,omitempty"`
}

// Backend is a Service as a destination: its endpoints and how to spread
// requests across them.
type Backend struct {
	// Name of the Service. Required.
	Name string `json:"name"`
	// Namespace of the Service. Required.
	Namespace string `json:"namespace"`
	// Endpoints that serve it. An empty list is valid: requests then get 503.
	Endpoints []Endpoint `json:"endpoints,omitempty"`
	// LoadBalancer algorithm. Default: PeakEWMA.
	LoadBalancer LoadBalancer `json:"loadBalancer,omitempty"`
	// CircuitBreaker ejects failing endpoints and caps concurrency.
	// Default: nil, no circuit breaking.
	CircuitBreaker *CircuitBreaker `json:"circuitBreaker,omitempty"`
}

// LoadBalancer names a load-balancing algorithm.
type LoadBalancer string

const (
	// PeakEWMA picks the cheaper of two random endpoints, the cost being the
	// peak-sensitive moving average of latency times outstanding requests
	// (power of two choices, as linkerd2-proxy does).
	PeakEWMA LoadBalancer = "PeakEWMA"
	// RoundRobin takes the endpoints in turn.
	RoundRobin LoadBalancer = "RoundRobin"
)

// Endpoint is one address that serves a Backend.
type Endpoint struct {
	// Address is ip:port (or host:port for local runs). Required.
	Address string `json:"address"`
	// Identity is the SPIFFE URI the endpoint's proxy must present, e.g.
	// spiffe://cluster.local/ns/demo/sa/app. Default: empty, the endpoint is
	// not meshed and is reached in plaintext.
	Identity string `json:"identity,omitempty"`
	// Protocol the endpoint speaks. Default: http1.
	Protocol Protocol `json:"protocol,omitempty"`
}

// Protocol is an application protocol.
type Protocol string

const (
	// ProtocolHTTP1 is HTTP/1.1.
	ProtocolHTTP1 Protocol = "http1"
	// ProtocolH2 is HTTP/2 (cleartext h2c when not meshed).
	ProtocolH2 Protocol = "h2"
	// ProtocolGRPC is gRPC, HTTP/2 with trailers.
	ProtocolGRPC Protocol = "grpc"
	// ProtocolOpaque is TCP passed through unchanged (byte counters only, no
	// request metrics), for Services and inbound ports that set it.
	ProtocolOpaque Protocol = "opaque"
)

// RetryPolicy says when and how often a failed request is tried again.
type RetryPolicy struct {
	// Attempts is the number of retries after the first try, 0 to 10.
	// Default: 2.
	Attempts *int `json:"attempts,omitempty"`
	// PerTryTimeout bounds each try. Default: 0, only the route timeout applies.
	PerTryTimeout Duration `json:"perTryTimeout,omitempty"`
	// RetryOn lists the conditions that allow a retry: connect-failure (always
	// safe, retried for any method), reset, 5xx, gateway-error (502, 503, 504),
	// retriable-4xx (409). Responses are retried only for idempotent methods
	// (or requests with an Idempotency-Key). A request body is buffered for
	// replay up to 64 KiB; larger or unsized bodies are never retried.
	// Default: [connect-failure, gateway-error].
	RetryOn []RetryCondition `json:"retryOn,omitempty"`
	// BudgetRatio caps retries at this share of live requests, so retries
	// cannot amplify an outage. Default: 0.2.
	BudgetRatio *float64 `json:"budgetRatio,omitempty"`
	// MinRetriesPerSecond lets a few retries through at low traffic.
	// Default: 10.
	MinRetriesPerSecond *int `json:"minRetriesPerSecond,omitempty"`
}

// RetryCondition names a failure that may be retried.
type RetryCondition string

const (
	RetryOnConnectFailure RetryCondition = "connect-failure"
	RetryOnReset          RetryCondition = "reset"
	RetryOn5xx            RetryCondition = "5xx"
	RetryOnGatewayError   RetryCondition = "gateway-error"
	RetryOnRetriable4xx   RetryCondition = "retriable-4xx"
)

// CircuitBreaker ejects endpoints that keep failing and caps load.
type CircuitBreaker struct {
	// ConsecutiveFailures (5xx answers or transport errors, not client
	// cancellations) that eject an endpoint from load balancing. Default: 5.
	ConsecutiveFailures int `json:"consecutiveFailures,omitempty"`
	// BaseEjectionTime is how long the first ejection of an endpoint lasts;
	// each new ejection of the same endpoint doubles it (base x 2^k), up to
	// MaxEjectionTime. The endpoint is readmitted when it ends. Default: 30s.
	BaseEjectionTime Duration `json:"baseEjectionTime,omitempty"`
	// MaxEjectionTime caps an ejection; an endpoint admitted for longer than
	// it starts again from BaseEjectionTime. Default: 300s.
	MaxEjectionTime Duration `json:"maxEjectionTime,omitempty"`
	// MaxEjectionPercent of a backend's endpoints ejected at once; one
	// endpoint may always be ejected. Default: 50.
	MaxEjectionPercent int `json:"maxEjectionPercent,omitempty"`
	// MaxRequests in flight per endpoint (until response headers). Over
	// HTTP/1.1 each holds an upstream connection, so this is also the
	// endpoint's connection limit. A full endpoint takes no new request.
	// Default: 0, no limit.
	MaxRequests int `json:"maxRequests,omitempty"`
	// MaxPendingRequests may wait for a free endpoint when every available
	// endpoint is full; beyond it, and when it is 0, such a request fails
	// fast with 503. Default: 0.
	MaxPendingRequests int `json:"maxPendingRequests,omitempty"`
}

// Fault injects failures on a share of requests. A request may be both
// delayed and aborted: the delay comes first. An aborted request never reaches
// a backend, and carries the header Sluice-Proxy-Error: fault injected.
type Fault struct {
	// Delay adds latency. Default: nil.
	Delay *FaultDelay `json:"delay,omitempty"`
	// Abort answers with an error status instead of forwarding. Default: nil.
	Abort *FaultAbort `json:"abort,omitempty"`
	// Headers, when set, limit the fault to requests that match all of them.
	Headers []HeaderMatch `json:"headers,omitempty"`
}

// FaultDelay delays a share of requests.
type FaultDelay struct {
	// Duration of the delay. Required.
	Duration Duration `json:"duration"`
	// Percent of requests delayed, 0 to 100. Required.
	Percent float64 `json:"percent"`
}

// FaultAbort fails a share of requests.
type FaultAbort struct {
	// Status code answered, 400 to 599. Required.
	Status int `json:"status"`
	// Percent of requests aborted, 0 to 100. Required.
	Percent float64 `json:"percent"`
}

// RateLimit is a local token bucket. A reload with the same settings keeps
// the bucket's level.
type RateLimit struct {
	// RequestsPerSecond refilled into the bucket. Required, > 0.
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	// Burst is the bucket size. Default: RequestsPerSecond rounded up.
	Burst int `json:"burst,omitempty"`
}

// MTLSMode says whether inbound traffic must be mTLS.
type MTLSMode string

const (
	MTLSStrict     MTLSMode = "STRICT"
	MTLSPermissive MTLSMode = "PERMISSIVE"
	MTLSDisabled   MTLSMode = "DISABLED"
)

// Authorization decides which callers may reach the application. Callers are
// known by the SPIFFE URI of their client certificate; a plaintext caller has
// no identity and matches only rules without identities and namespaces.
type Authorization struct {
	// Default action when no rule matches: Allow or Deny. Default: Deny when
	// rules are set, else Allow.
	Default AuthorizationAction `json:"default,omitempty"`
	// Rules allow a request when any of them matches it.
	Rules []AuthorizationRule `json:"rules,omitempty"`
}

// AuthorizationAction is Allow or Deny.
type AuthorizationAction string

const (
	Allow AuthorizationAction = "Allow"
	Deny  AuthorizationAction = "Deny"
)

// AuthorizationRule matches callers and requests; empty lists match anything.
type AuthorizationRule struct {
	// Identities are caller SPIFFE URIs.
	Identities []string `json:"identities,omitempty"`
	// Namespaces of callers.
	Namespaces []string `json:"namespaces,omitempty"`
	// Methods such as GET.
	Methods []string `json:"methods,omitempty"`
	// PathPrefixes of the request path, matching whole segments: /api
	// matches /api and /api/v1, not /apis.
	PathPrefixes []string `json:"pathPrefixes,omitempty"`
}

// TLS is where the proxy's certificate and trust anchors come from.
type TLS struct {
	// TrustDomain of SPIFFE identities. Default: cluster.local.
	TrustDomain string `json:"trustDomain,omitempty"`
	// CertFile is the PEM leaf certificate chain.
	CertFile string `json:"certFile,omitempty"`
	// KeyFile is the PEM private key.
	KeyFile string `json:"keyFile,omitempty"`
	// KeyPEM is the private key inline, instead of KeyFile. Secret: redacted on
	// the admin /config page.
	KeyPEM string `json:"keyPEM,omitempty"`
	// TrustAnchorsFile is the PEM bundle of trust anchors.
	TrustAnchorsFile string `json:"trustAnchorsFile,omitempty"`
}
