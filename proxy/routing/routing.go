// Package routing decides where an outbound request goes: the route table of
// the Service it addresses, the first route whose matches accept it, and a
// backend drawn by weight (how a canary split takes effect). It reads the
// compiled snapshot only; all its choices are allocation-free.
package routing

import (
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/sluicemesh/sluice/proxy/config"
)

// Find returns the Service table for the request's authority and the first
// rule that accepts the request. table is nil when no Service has that
// authority; rule is nil when the Service has no rule for the request.
func Find(snap *config.Snapshot, r *http.Request) (table *config.ServiceTable, rule *config.RouteRule) {
	return FindIn(snap.Service(config.CanonicalAuthority(r.Host)), r)
}

// FindIn returns the first rule of table that accepts the request; table
// may be nil. Transparent mode finds the table by the connection's original
// destination instead of the Host.
func FindIn(table *config.ServiceTable, r *http.Request) (*config.ServiceTable, *config.RouteRule) {
	if table == nil {
		return nil, nil
	}
	for i := range table.Rules {
		if Accepts(&table.Rules[i], r) {
			return table, &table.Rules[i]
		}
	}
	return table, nil
}

// Accepts reports whether any of the rule's matches accepts the request; a
// rule without matches accepts every request.
func Accepts(rule *config.RouteRule, r *http.Request) bool {
	if len(rule.Matches) == 0 {
		return true
	}
	for i := range rule.Matches {
		if MatchRequest(&rule.Matches[i], r) {
			return true
		}
	}
	return false
}

// MatchRequest reports whether every condition of m holds for the request.
func MatchRequest(m *config.RequestMatch, r *http.Request) bool {
	if m.Method != "" && m.Method != r.Method {
		return false
	}
	if m.PathType != "" && !MatchPath(m, r.URL.Path) {
		return false
	}
	for i := range m.Headers {
		if !MatchHeader(&m.Headers[i], r.Header) {
			return false
		}
	}
	return true
}

// MatchPath applies the path condition of m to path.
func MatchPath(m *config.RequestMatch, path string) bool {
	switch m.PathType {
	case config.PathExact:
		return path == m.Path
	case config.PathPrefix:
		return hasSegmentPrefix(path, m.Path)
	case config.PathRegularExpression:
		return m.PathRE.MatchString(path)
	}
	return false
}

// hasSegmentPrefix matches whole path segments: /api matches /api and
// /api/v1 but not /apis.
func hasSegmentPrefix(path, prefix string) bool {
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || strings.HasSuffix(prefix, "/") || path[len(prefix)] == '/'
}

// MatchHeader reports whether any value of the header satisfies c.
func MatchHeader(c *config.HeaderCondition, h http.Header) bool {
	for _, v := range h[c.Name] {
		if c.RE != nil {
			if c.RE.MatchString(v) {
				return true
			}
		} else if v == c.Value {
			return true
		}
	}
	return false
}

// PickDestination draws a destination with probability weight / total
// weight; nil when every weight is zero.
func PickDestination(rule *config.RouteRule) *config.Destination {
	if rule.TotalWeight == 0 {
		return nil
	}
	return DestinationAt(rule, rand.Uint64N(rule.TotalWeight))
}

// DestinationAt returns the destination whose cumulative weight range holds
// n, for n in [0, TotalWeight).
func DestinationAt(rule *config.RouteRule, n uint64) *config.Destination {
	for i := range rule.Destinations {
		if n < rule.Destinations[i].Cumulative {
			return rule.Destinations[i].Destination
		}
	}
	return nil
}

// ShouldMirror draws whether this request is mirrored under the rule.
func ShouldMirror(rule *config.RouteRule) bool {
	m := rule.Mirror
	return m != nil && m.Percent > 0 && (m.Percent >= 100 || rand.Float64()*100 < m.Percent)
}
