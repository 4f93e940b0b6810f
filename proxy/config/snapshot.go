package config

import (
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/sluicemesh/sluice/proxy/authz"
	"github.com/sluicemesh/sluice/proxy/balancing"
	"github.com/sluicemesh/sluice/proxy/breaker"
	"github.com/sluicemesh/sluice/proxy/fault"
	"github.com/sluicemesh/sluice/proxy/ratelimit"
	"github.com/sluicemesh/sluice/proxy/retry"
)

// Snapshot is a validated Config compiled for the request path: authorities
// indexed, regular expressions compiled, backend references resolved, weights
// summed and defaults applied. It is immutable once built; a configuration
// change builds a new one and swaps it in whole (see Store).
type Snapshot struct {
	// Config is the source of the snapshot. Never modify it.
	Config *Config

	// Inbound is the compiled inbound listener configuration.
	Inbound InboundRule

	services map[string]*ServiceTable
	// endpoints indexes every endpoint state by key, so the next snapshot
	// reuses them.
	endpoints map[string]*balancing.Endpoint
}

// InboundRule is the compiled Inbound.
type InboundRule struct {
	// Application is the destination of inbound requests: the application's
	// Target as a single-endpoint destination; nil when no target is set.
	Application *Destination
	Service     string
	Timeout     time.Duration
	// RateLimit is nil when inbound requests are not limited.
	RateLimit *ratelimit.Limiter
	// Authorization is nil when every caller is allowed.
	Authorization *authz.Policy
	// Protocol is the application's protocol on ports Ports does not list.
	Protocol Protocol
	// Ports holds the protocols of the ports the configuration names.
	Ports map[int]Protocol
}

// PortProtocol is the application's protocol on a port.
func (r *InboundRule) PortProtocol(port int) Protocol {
	if p, ok := r.Ports[port]; ok {
		return p
	}
	return r.Protocol
}

// ServiceTable is one Service's compiled route table.
type ServiceTable struct {
	Name      string
	Namespace string
	// Opaque: connections are passed through as TCP, not parsed as HTTP.
	Opaque bool
	Rules  []RouteRule
}

// RouteRule is a compiled Route.
type RouteRule struct {
	Name    string
	Matches []RequestMatch
	// Destinations carry cumulative weights for the weighted pick.
	Destinations []WeightedDestination
	// TotalWeight is the sum of the weights; 0 means no destination.
	TotalWeight uint64
	Mirror      *MirrorRule
	Timeout     time.Duration
	// Retries is nil when the route does not retry.
	Retries *retry.Policy
	// Fault is nil when the route injects no fault.
	Fault *fault.Fault
}

// WeightedDestination is a destination and the sum of weights up to and
// including it.
type WeightedDestination struct {
	Destination *Destination
	Cumulative  uint64
}

// MirrorRule is a compiled Mirror.
type MirrorRule struct {
	Destination *Destination
	// Percent of requests mirrored, 0 to 100.
	Percent float64
}

// RequestMatch is a compiled Match.
type RequestMatch struct {
	PathType PathMatchType // empty when the path is not matched
	Path     string
	PathRE   *regexp.Regexp
	Method   string
	Headers  []HeaderCondition
}

// HeaderCondition is a compiled HeaderMatch.
type HeaderCondition struct {
	// Name is in canonical MIME form, so lookups need no conversion.
	Name  string
	Value string
	RE    *regexp.Regexp // nil for an exact match
}

// Destination is a compiled Backend.
type Destination struct {
	Name      string
	Namespace string
	Endpoints []*balancing.Endpoint
	Balancer  balancing.Balancer
	// Breaker is nil when the backend has no circuit breaker.
	Breaker *breaker.Breaker
}

// EmptySnapshot is the snapshot before any configuration: every outbound
// request gets 404 and inbound requests 503.
func EmptySnapshot() *Snapshot {
	return &Snapshot{Config: &Config{}}
}

// Service returns the route table of a canonical authority (see
// CanonicalAuthority), or nil.
func (s *Snapshot) Service(authority string) *ServiceTable { return s.services[authority] }

// NewSnapshot validates cfg and compiles it. Endpoint states of prev (which
// may be nil) are carried over for endpoints that did not change.
func NewSnapshot(cfg *Config, prev *Snapshot) (*Snapshot, error) {
	return newSnapshot(cfg, prev, nil)
}

// newSnapshot is NewSnapshot with the clock circuit breakers measure
// ejections with; nil is the system clock.
func newSnapshot(cfg *Config, prev *Snapshot, clock breaker.Clock) (*Snapshot, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := compiler{prev: prev, clock: clock, snap: &Snapshot{
		Config:    cfg,
		services:  map[string]*ServiceTable{},
		endpoints: map[string]*balancing.Endpoint{},
	}}
	return c.compile()
}

type compiler struct {
	prev         *Snapshot
	clock        breaker.Clock
	snap         *Snapshot
	destinations map[string]*Destination
}

func (c *compiler) compile() (*Snapshot, error) {
	cfg := c.snap.Config
	c.destinations = make(map[string]*Destination, len(cfg.Backends))
	for i := range cfg.Backends {
		d, err := c.destination(&cfg.Backends[i])
		if err != nil {
			return nil, err
		}
		c.destinations[backendKey(d.Namespace, d.Name)] = d
	}
	for i := range cfg.Outbound.Services {
		svc := &cfg.Outbound.Services[i]
		table := &ServiceTable{Name: svc.Name, Namespace: svc.Namespace, Opaque: svc.Protocol == ProtocolOpaque}
		routes := svc.Routes
		if len(routes) == 0 {
			routes = []Route{{Name: "default", Backends: []BackendRef{{Name: svc.Name}}}}
		}
		for j := range routes {
			table.Rules = append(table.Rules, c.rule(svc, &routes[j]))
		}
		for _, a := range cfg.Outbound.authorities(svc) {
			c.snap.services[a] = table
		}
	}
	c.endpointTables()
	in := cfg.Inbound
	c.snap.Inbound = InboundRule{Service: in.Service, Timeout: in.Timeout.D(), RateLimit: c.rateLimit(in.RateLimit),
		Authorization: compileAuthorization(in.Authorization), Protocol: protocolOrDefault(in.Protocol)}
	if len(in.Ports) > 0 {
		c.snap.Inbound.Ports = make(map[int]Protocol, len(in.Ports))
		for _, p := range in.Ports {
			c.snap.Inbound.Ports[p.Port] = p.Protocol
		}
	}
	if in.Target != "" {
		c.snap.Inbound.Application = &Destination{
			Name:      in.Service,
			Endpoints: []*balancing.Endpoint{c.endpoint(in.Target, "", protocolOrDefault(in.Protocol))},
			Balancer:  balancing.PeakEWMA{},
		}
	}
	return c.snap, nil
}

// endpointTables makes every endpoint address that no Service claims
// routable by itself: a client that connects to a pod IP directly (a
// headless Service, a StatefulSet peer) reaches that one endpoint, with its
// identity and protocol, and is measured under the endpoint's backend. The
// first backend listing an address names it.
func (c *compiler) endpointTables() {
	for i := range c.snap.Config.Backends {
		b := &c.snap.Config.Backends[i]
		for _, e := range b.Endpoints {
			a := CanonicalAuthority(e.Address)
			if _, taken := c.snap.services[a]; taken {
				continue
			}
			only := &Destination{Name: b.Name, Namespace: b.Namespace, Balancer: balancing.PeakEWMA{},
				Endpoints: []*balancing.Endpoint{c.endpoint(e.Address, e.Identity, protocolOrDefault(e.Protocol))}}
			c.snap.services[a] = &ServiceTable{Name: b.Name, Namespace: b.Namespace, Opaque: e.Protocol == ProtocolOpaque,
				Rules: []RouteRule{{Name: "endpoint", Destinations: []WeightedDestination{{Destination: only, Cumulative: 1}}, TotalWeight: 1}}}
		}
	}
}

func (c *compiler) destination(b *Backend) (*Destination, error) {
	bal, err := balancing.New(string(b.LoadBalancer))
	if err != nil {
		return nil, fmt.Errorf("backends %s: %w", backendKey(b.Namespace, b.Name), err)
	}
	d := &Destination{Name: b.Name, Namespace: b.Namespace, Balancer: bal}
	var maxInflight int64
	if b.CircuitBreaker != nil {
		maxInflight = int64(b.CircuitBreaker.MaxRequests)
	}
	outliers := make([]*breaker.Outlier, 0, len(b.Endpoints))
	for _, e := range b.Endpoints {
		ep := c.endpoint(e.Address, e.Identity, protocolOrDefault(e.Protocol))
		ep.SetMaxInflight(maxInflight)
		d.Endpoints = append(d.Endpoints, ep)
		outliers = append(outliers, &ep.Outlier)
	}
	if b.CircuitBreaker != nil {
		d.Breaker = breaker.New(compileBreaker(b.CircuitBreaker), outliers, c.clock)
	}
	return d, nil
}

// rateLimit compiles the inbound rate limit, keeping the previous
// snapshot's bucket when its settings did not change.
func (c *compiler) rateLimit(rl *RateLimit) *ratelimit.Limiter {
	if rl == nil {
		return nil
	}
	if c.prev != nil && c.prev.Inbound.RateLimit.Same(rl.RequestsPerSecond, rl.Burst) {
		return c.prev.Inbound.RateLimit
	}
	return ratelimit.New(rl.RequestsPerSecond, rl.Burst)
}

func compileAuthorization(a *Authorization) *authz.Policy {
	if a == nil {
		return nil
	}
	p := &authz.Policy{DefaultAllow: a.Default == Allow || (a.Default == "" && len(a.Rules) == 0)}
	for _, r := range a.Rules {
		p.Rules = append(p.Rules, authz.Rule{Identities: r.Identities, Namespaces: r.Namespaces, Methods: r.Methods, PathPrefixes: r.PathPrefixes})
	}
	return p
}

func compileFault(f *Fault) *fault.Fault {
	if f == nil {
		return nil
	}
	out := &fault.Fault{}
	if f.Delay != nil {
		out.Delay, out.DelayPercent = f.Delay.Duration.D(), f.Delay.Percent
	}
	if f.Abort != nil {
		out.AbortStatus, out.AbortPercent = f.Abort.Status, f.Abort.Percent
	}
	for _, h := range f.Headers {
		hc := compileHeader(h)
		out.Headers = append(out.Headers, fault.Header{Name: hc.Name, Value: hc.Value, RE: hc.RE})
	}
	return out
}

// Defaults of CircuitBreaker, documented on its fields.
const (
	defaultConsecutiveFailures = 5
	defaultBaseEjectionTime    = 30 * time.Second
	defaultMaxEjectionTime     = 300 * time.Second
	defaultMaxEjectionPercent  = 50
)

func compileBreaker(cb *CircuitBreaker) breaker.Policy {
	p := breaker.Policy{
		ConsecutiveFailures: cb.ConsecutiveFailures,
		BaseEjectionTime:    cb.BaseEjectionTime.D(),
		MaxEjectionTime:     cb.MaxEjectionTime.D(),
		MaxEjectionPercent:  cb.MaxEjectionPercent,
		MaxPendingRequests:  cb.MaxPendingRequests,
	}
	if p.ConsecutiveFailures == 0 {
		p.ConsecutiveFailures = defaultConsecutiveFailures
	}
	if p.BaseEjectionTime == 0 {
		p.BaseEjectionTime = defaultBaseEjectionTime
	}
	if p.MaxEjectionTime == 0 {
		p.MaxEjectionTime = max(defaultMaxEjectionTime, p.BaseEjectionTime)
	}
	if p.MaxEjectionPercent == 0 {
		p.MaxEjectionPercent = defaultMaxEjectionPercent
	}
	return p
}

// endpoint returns the state of an endpoint, reused from the previous
// snapshot when it is the same endpoint.
func (c *compiler) endpoint(address, identity string, protocol Protocol) *balancing.Endpoint {
	key := balancing.EndpointKey(address, identity, string(protocol))
	if ep, ok := c.snap.endpoints[key]; ok {
		return ep
	}
	var ep *balancing.Endpoint
	if c.prev != nil {
		ep = c.prev.endpoints[key]
	}
	if ep == nil {
		ep = balancing.NewEndpoint(address, identity, string(protocol))
	}
	c.snap.endpoints[key] = ep
	return ep
}

func (c *compiler) rule(svc *Service, r *Route) RouteRule {
	rule := RouteRule{Name: r.Name, Timeout: r.Timeout.D()}
	if rule.Timeout == 0 {
		rule.Timeout = svc.Timeout.D()
	}
	retries := r.Retries
	if retries == nil {
		retries = svc.Retries
	}
	rule.Retries = compileRetries(retries)
	rule.Fault = compileFault(r.Fault)
	for _, m := range r.Matches {
		rule.Matches = append(rule.Matches, compileMatch(m))
	}
	for _, ref := range r.Backends {
		w := uint64(1)
		if ref.Weight != nil {
			w = uint64(*ref.Weight)
		}
		if w == 0 {
			continue
		}
		rule.TotalWeight += w
		rule.Destinations = append(rule.Destinations, WeightedDestination{
			Destination: c.destinations[backendKey(refNamespace(ref, svc), ref.Name)],
			Cumulative:  rule.TotalWeight,
		})
	}
	if m := r.Mirror; m != nil {
		pct := 100.0
		if m.Percent != nil {
			pct = *m.Percent
		}
		rule.Mirror = &MirrorRule{Destination: c.destinations[backendKey(refNamespace(m.Backend, svc), m.Backend.Name)], Percent: pct}
	}
	return rule
}

func refNamespace(ref BackendRef, svc *Service) string {
	if ref.Namespace != "" {
		return ref.Namespace
	}
	return svc.Namespace
}

func compileMatch(m Match) RequestMatch {
	rm := RequestMatch{Method: m.Method}
	if m.Path != nil {
		rm.PathType = m.Path.Type
		if rm.PathType == "" {
			rm.PathType = PathPrefix
		}
		rm.Path = m.Path.Value
		if rm.PathType == PathRegularExpression {
			rm.PathRE = regexp.MustCompile(anchored(m.Path.Value)) // Validate compiled it already
		}
	}
	for _, h := range m.Headers {
		rm.Headers = append(rm.Headers, compileHeader(h))
	}
	return rm
}

func compileHeader(h HeaderMatch) HeaderCondition {
	hc := HeaderCondition{Name: http.CanonicalHeaderKey(h.Name), Value: h.Value}
	if h.Type == HeaderRegularExpression {
		hc.RE = regexp.MustCompile(anchored(h.Value))
	}
	return hc
}

// anchored makes a regular expression match the whole input, as Gateway API
// and Envoy do.
func anchored(re string) string { return `^(?:` + re + `)$` }

// Defaults of RetryPolicy, documented on its fields.
const (
	defaultRetryAttempts       = 2
	defaultRetryBudgetRatio    = 0.2
	defaultMinRetriesPerSecond = 10
)

func compileRetries(p *RetryPolicy) *retry.Policy {
	if p == nil {
		return nil
	}
	attempts, ratio, minPerSec := defaultRetryAttempts, defaultRetryBudgetRatio, defaultMinRetriesPerSecond
	if p.Attempts != nil {
		attempts = *p.Attempts
	}
	if p.BudgetRatio != nil {
		ratio = *p.BudgetRatio
	}
	if p.MinRetriesPerSecond != nil {
		minPerSec = *p.MinRetriesPerSecond
	}
	on := p.RetryOn
	if len(on) == 0 {
		on = []RetryCondition{RetryOnConnectFailure, RetryOnGatewayError}
	}
	var conds retry.Conditions
	for _, c := range on {
		conds |= retryConditions[c]
	}
	// The budget belongs to the route in this snapshot: a reload starts it
	// afresh, which at worst lets one window's worth of extra retries through.
	return &retry.Policy{Attempts: attempts, PerTryTimeout: p.PerTryTimeout.D(), On: conds, Budget: retry.NewBudget(ratio, minPerSec)}
}

var retryConditions = map[RetryCondition]retry.Conditions{
	RetryOnConnectFailure: retry.ConnectFailure,
	RetryOnReset:          retry.Reset,
	RetryOn5xx:            retry.ServerError,
	RetryOnGatewayError:   retry.GatewayError,
	RetryOnRetriable4xx:   retry.Retriable4xx,
}

func protocolOrDefault(p Protocol) Protocol {
	if p == "" {
		return ProtocolHTTP1
	}
	return p
}
