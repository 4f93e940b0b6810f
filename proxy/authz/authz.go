// Package authz decides whether an inbound request may reach the
// application, from the caller's verified identity (the SPIFFE URI of its
// client certificate, so its namespace too), the method and the path.
package authz

import (
	"net/http"
	"strings"
)

// Policy is a compiled Authorization. It is immutable.
type Policy struct {
	// DefaultAllow decides requests no rule matches.
	DefaultAllow bool
	// Rules allow a request when any of them matches it.
	Rules []Rule
}

// Rule matches when every list it sets contains the request's value; an
// empty list matches anything.
type Rule struct {
	// Identities are caller SPIFFE URIs.
	Identities []string
	// Namespaces of callers, read from their SPIFFE URI.
	Namespaces []string
	// Methods such as GET.
	Methods []string
	// PathPrefixes match whole segments: /api matches /api and /api/v1, not
	// /apis.
	PathPrefixes []string
}

// Allow decides one request. peer is the caller's verified SPIFFE URI, ""
// for a plaintext caller, which only rules without identities and namespaces
// can match.
func (p *Policy) Allow(peer string, r *http.Request) bool {
	if p == nil {
		return true
	}
	for i := range p.Rules {
		if p.Rules[i].matches(peer, r) {
			return true
		}
	}
	return p.DefaultAllow
}

func (rule *Rule) matches(peer string, r *http.Request) bool {
	if len(rule.Identities) > 0 && !contains(rule.Identities, peer) {
		return false
	}
	if len(rule.Namespaces) > 0 {
		ns, ok := namespaceOf(peer)
		if !ok || !contains(rule.Namespaces, ns) {
			return false
		}
	}
	if len(rule.Methods) > 0 && !contains(rule.Methods, r.Method) {
		return false
	}
	if len(rule.PathPrefixes) > 0 {
		ok := false
		for _, prefix := range rule.PathPrefixes {
			if hasPathPrefix(r.URL.Path, prefix) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// namespaceOf reads <ns> from spiffe://<td>/ns/<ns>/sa/<sa>, accepting
// exactly what tls.ParseSPIFFEID accepts, without allocating.
func namespaceOf(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, "spiffe://")
	if !ok {
		return "", false
	}
	td, rest, ok := strings.Cut(rest, "/")
	if !ok || td == "" {
		return "", false
	}
	if rest, ok = strings.CutPrefix(rest, "ns/"); !ok {
		return "", false
	}
	ns, rest, ok := strings.Cut(rest, "/")
	if !ok || ns == "" {
		return "", false
	}
	sa, ok := strings.CutPrefix(rest, "sa/")
	if !ok || sa == "" || strings.Contains(sa, "/") {
		return "", false
	}
	return ns, true
}

func hasPathPrefix(path, prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return true
	}
	return path == prefix || (strings.HasPrefix(path, prefix) && path[len(prefix)] == '/')
}
