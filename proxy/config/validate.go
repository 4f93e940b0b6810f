package config

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// maxRetryAttempts caps RetryPolicy.Attempts: more retries only deepen an
// outage.
const maxRetryAttempts = 10

// Validate reports every problem of the configuration at once, each error
// naming the field, e.g. `outbound.services[0].routes[1].backends[0].name: ...`.
func (c *Config) Validate() error {
	v := &validator{}
	c.Inbound.validate(v, "inbound")
	backends := make(map[string]bool, len(c.Backends))
	for i := range c.Backends {
		b := &c.Backends[i]
		p := fmt.Sprintf("backends[%d]", i)
		b.validate(v, p)
		key := backendKey(b.Namespace, b.Name)
		if backends[key] {
			v.addf(p, "duplicate backend %s", key)
		}
		backends[key] = true
	}
	c.Outbound.validate(v, "outbound", backends)
	return v.err()
}

type validator struct{ errs []error }

func (v *validator) addf(path, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

func (v *validator) err() error { return errors.Join(v.errs...) }

func (in *Inbound) validate(v *validator, p string) {
	if in.Target != "" {
		validateAddress(v, p+".target", in.Target)
	}
	validateProtocol(v, p+".protocol", in.Protocol)
	ports := map[int]bool{}
	for i, port := range in.Ports {
		pp := fmt.Sprintf("%s.ports[%d]", p, i)
		if port.Port < 1 || port.Port > 65535 {
			v.addf(pp+".port", "must be between 1 and 65535, got %d", port.Port)
		}
		if ports[port.Port] {
			v.addf(pp+".port", "duplicate port %d", port.Port)
		}
		ports[port.Port] = true
		if port.Protocol == "" {
			v.addf(pp+".protocol", "required")
		}
		validateProtocol(v, pp+".protocol", port.Protocol)
	}
	if in.Timeout < 0 {
		v.addf(p+".timeout", "must not be negative")
	}
	switch in.MTLS {
	case "", MTLSStrict, MTLSPermissive, MTLSDisabled:
	default:
		v.addf(p+".mtls", "unknown mode %q (want STRICT, PERMISSIVE or DISABLED)", in.MTLS)
	}
	if a := in.Authorization; a != nil {
		switch a.Default {
		case "", Allow, Deny:
		default:
			v.addf(p+".authorization.default", "unknown action %q (want Allow or Deny)", a.Default)
		}
		for i, r := range a.Rules {
			for j, id := range r.Identities {
				validateIdentity(v, fmt.Sprintf("%s.authorization.rules[%d].identities[%d]", p, i, j), id)
			}
		}
	}
	if rl := in.RateLimit; rl != nil {
		if !(rl.RequestsPerSecond > 0) {
			v.addf(p+".rateLimit.requestsPerSecond", "must be greater than 0")
		}
		if rl.Burst < 0 {
			v.addf(p+".rateLimit.burst", "must not be negative")
		}
	}
}

func (o *Outbound) validate(v *validator, p string, backends map[string]bool) {
	seen := map[string]string{}
	for i := range o.Services {
		s := &o.Services[i]
		sp := fmt.Sprintf("%s.services[%d]", p, i)
		if s.Name == "" {
			v.addf(sp+".name", "required")
		}
		if s.Namespace == "" {
			v.addf(sp+".namespace", "required")
		}
		if s.Port < 1 || s.Port > 65535 {
			v.addf(sp+".port", "must be between 1 and 65535, got %d", s.Port)
		}
		for j, a := range s.Aliases {
			if _, _, err := splitAuthority(a); err != nil {
				v.addf(fmt.Sprintf("%s.aliases[%d]", sp, j), "%v", err)
			}
		}
		for j, ip := range s.ClusterIPs {
			if net.ParseIP(ip) == nil {
				v.addf(fmt.Sprintf("%s.clusterIPs[%d]", sp, j), "not an IP address: %q", ip)
			}
		}
		validateProtocol(v, sp+".protocol", s.Protocol)
		if s.Name != "" && s.Namespace != "" {
			for _, a := range o.authorities(s) {
				if prev, dup := seen[a]; dup {
					v.addf(sp, "authority %q is also claimed by %s", a, prev)
				}
				seen[a] = sp
			}
		}
		if s.Timeout < 0 {
			v.addf(sp+".timeout", "must not be negative")
		}
		validateRetries(v, sp+".retries", s.Retries)
		if len(s.Routes) == 0 && s.Name != "" && !backends[backendKey(s.Namespace, s.Name)] {
			v.addf(sp+".routes", "no routes and no backend %s to send traffic to", backendKey(s.Namespace, s.Name))
		}
		for j := range s.Routes {
			s.Routes[j].validate(v, fmt.Sprintf("%s.routes[%d]", sp, j), s.Namespace, backends)
		}
	}
}

func (r *Route) validate(v *validator, p, namespace string, backends map[string]bool) {
	for i, m := range r.Matches {
		m.validate(v, fmt.Sprintf("%s.matches[%d]", p, i))
	}
	if len(r.Backends) == 0 {
		v.addf(p+".backends", "at least one backend is required")
	}
	for i, b := range r.Backends {
		validateBackendRef(v, fmt.Sprintf("%s.backends[%d]", p, i), b, namespace, backends)
	}
	if m := r.Mirror; m != nil {
		validateBackendRef(v, p+".mirror.backend", m.Backend, namespace, backends)
		if m.Percent != nil {
			validatePercent(v, p+".mirror.percent", *m.Percent)
		}
	}
	if r.Timeout < 0 {
		v.addf(p+".timeout", "must not be negative")
	}
	validateRetries(v, p+".retries", r.Retries)
	if f := r.Fault; f != nil {
		if f.Delay != nil {
			if f.Delay.Duration <= 0 {
				v.addf(p+".fault.delay.duration", "must be greater than 0")
			}
			validatePercent(v, p+".fault.delay.percent", f.Delay.Percent)
		}
		if f.Abort != nil {
			if f.Abort.Status < 400 || f.Abort.Status > 599 {
				v.addf(p+".fault.abort.status", "must be between 400 and 599, got %d", f.Abort.Status)
			}
			validatePercent(v, p+".fault.abort.percent", f.Abort.Percent)
		}
		for i, h := range f.Headers {
			h.validate(v, fmt.Sprintf("%s.fault.headers[%d]", p, i))
		}
	}
}

func (m *Match) validate(v *validator, p string) {
	if pm := m.Path; pm != nil {
		switch pm.Type {
		case "", PathPrefix, PathExact:
			if !strings.HasPrefix(pm.Value, "/") {
				v.addf(p+".path.value", "must start with /, got %q", pm.Value)
			}
		case PathRegularExpression:
			if _, err := regexp.Compile(anchored(pm.Value)); err != nil {
				v.addf(p+".path.value", "invalid regular expression: %v", err)
			}
		default:
			v.addf(p+".path.type", "unknown type %q (want Exact, PathPrefix or RegularExpression)", pm.Type)
		}
	}
	if m.Method != "" && strings.ToUpper(m.Method) != m.Method {
		v.addf(p+".method", "must be upper case, got %q", m.Method)
	}
	for i, h := range m.Headers {
		h.validate(v, fmt.Sprintf("%s.headers[%d]", p, i))
	}
}

func (h *HeaderMatch) validate(v *validator, p string) {
	if h.Name == "" {
		v.addf(p+".name", "required")
	}
	switch h.Type {
	case "", HeaderExact:
	case HeaderRegularExpression:
		if _, err := regexp.Compile(anchored(h.Value)); err != nil {
			v.addf(p+".value", "invalid regular expression: %v", err)
		}
	default:
		v.addf(p+".type", "unknown type %q (want Exact or RegularExpression)", h.Type)
	}
}

func (b *Backend) validate(v *validator, p string) {
	if b.Name == "" {
		v.addf(p+".name", "required")
	}
	if b.Namespace == "" {
		v.addf(p+".namespace", "required")
	}
	switch b.LoadBalancer {
	case "", PeakEWMA, RoundRobin:
	default:
		v.addf(p+".loadBalancer", "unknown algorithm %q (want PeakEWMA or RoundRobin)", b.LoadBalancer)
	}
	seen := map[string]bool{}
	for i, e := range b.Endpoints {
		ep := fmt.Sprintf("%s.endpoints[%d]", p, i)
		validateAddress(v, ep+".address", e.Address)
		if seen[e.Address] {
			v.addf(ep+".address", "duplicate endpoint %s", e.Address)
		}
		seen[e.Address] = true
		if e.Identity != "" {
			validateIdentity(v, ep+".identity", e.Identity)
		}
		validateProtocol(v, ep+".protocol", e.Protocol)
	}
	if cb := b.CircuitBreaker; cb != nil {
		if cb.ConsecutiveFailures < 0 || cb.MaxRequests < 0 || cb.MaxPendingRequests < 0 || cb.BaseEjectionTime < 0 || cb.MaxEjectionTime < 0 {
			v.addf(p+".circuitBreaker", "values must not be negative")
		}
		if cb.MaxEjectionPercent < 0 || cb.MaxEjectionPercent > 100 {
			v.addf(p+".circuitBreaker.maxEjectionPercent", "must be between 0 and 100, got %d", cb.MaxEjectionPercent)
		}
	}
}

func validateBackendRef(v *validator, p string, b BackendRef, namespace string, backends map[string]bool) {
	if b.Name == "" {
		v.addf(p+".name", "required")
		return
	}
	ns := b.Namespace
	if ns == "" {
		ns = namespace
	}
	if !backends[backendKey(ns, b.Name)] {
		v.addf(p+".name", "no backend %s in backends", backendKey(ns, b.Name))
	}
}

func validateRetries(v *validator, p string, r *RetryPolicy) {
	if r == nil {
		return
	}
	if r.Attempts != nil && (*r.Attempts < 0 || *r.Attempts > maxRetryAttempts) {
		v.addf(p+".attempts", "must be between 0 and %d, got %d", maxRetryAttempts, *r.Attempts)
	}
	if r.PerTryTimeout < 0 {
		v.addf(p+".perTryTimeout", "must not be negative")
	}
	for i, c := range r.RetryOn {
		switch c {
		case RetryOnConnectFailure, RetryOnReset, RetryOn5xx, RetryOnGatewayError, RetryOnRetriable4xx:
		default:
			v.addf(fmt.Sprintf("%s.retryOn[%d]", p, i), "unknown condition %q", c)
		}
	}
	if r.BudgetRatio != nil && !(*r.BudgetRatio >= 0 && *r.BudgetRatio <= 1) {
		v.addf(p+".budgetRatio", "must be between 0 and 1, got %v", *r.BudgetRatio)
	}
	if r.MinRetriesPerSecond != nil && *r.MinRetriesPerSecond < 0 {
		v.addf(p+".minRetriesPerSecond", "must not be negative")
	}
}

func validateProtocol(v *validator, p string, proto Protocol) {
	switch proto {
	case "", ProtocolHTTP1, ProtocolH2, ProtocolGRPC, ProtocolOpaque:
	default:
		v.addf(p, "unknown protocol %q (want http1, h2, grpc or opaque)", proto)
	}
}

func validatePercent(v *validator, p string, pct float64) {
	if !(pct >= 0 && pct <= 100) {
		v.addf(p, "must be between 0 and 100, got %v", pct)
	}
}

func validateAddress(v *validator, p, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.addf(p, "must be host:port: %v", err)
		return
	}
	if host == "" {
		v.addf(p, "host is required in %q", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		v.addf(p, "port must be between 1 and 65535 in %q", addr)
	}
}

func validateIdentity(v *validator, p, id string) {
	if !strings.HasPrefix(id, "spiffe://") || len(id) == len("spiffe://") {
		v.addf(p, "must be a SPIFFE URI such as spiffe://cluster.local/ns/demo/sa/app, got %q", id)
	}
}

func backendKey(namespace, name string) string { return name + "." + namespace }
