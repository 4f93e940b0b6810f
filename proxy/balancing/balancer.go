package balancing

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
)

// Balancer picks the endpoint for the next request, or nil when none is
// available.
type Balancer interface {
	Pick(endpoints []*Endpoint) *Endpoint
}

var (
	_ Balancer = PeakEWMA{}
	_ Balancer = (*RoundRobin)(nil)
)

// New returns the balancer an algorithm name designates: "PeakEWMA" (also
// the empty name) or "RoundRobin".
func New(algorithm string) (Balancer, error) {
	switch algorithm {
	case "", "PeakEWMA":
		return PeakEWMA{}, nil
	case "RoundRobin":
		return &RoundRobin{}, nil
	default:
		return nil, fmt.Errorf("unknown load balancer %q", algorithm)
	}
}

// PeakEWMA is power-of-two-choices over peak-EWMA cost.
type PeakEWMA struct{}

// Pick draws two distinct endpoints and keeps the cheaper available one.
func (PeakEWMA) Pick(eps []*Endpoint) *Endpoint {
	switch len(eps) {
	case 0:
		return nil
	case 1:
		if eps[0].Available() {
			return eps[0]
		}
		return nil
	}
	i := rand.IntN(len(eps))
	j := rand.IntN(len(eps) - 1)
	if j >= i {
		j++
	}
	a, b := eps[i], eps[j]
	aOK, bOK := a.Available(), b.Available()
	switch {
	case aOK && bOK:
		if b.Cost() < a.Cost() {
			return b
		}
		return a
	case aOK:
		return a
	case bOK:
		return b
	}
	return firstAvailable(eps, i)
}

// RoundRobin takes the available endpoints in turn.
type RoundRobin struct{ next atomic.Uint64 }

// Pick returns the next available endpoint.
func (r *RoundRobin) Pick(eps []*Endpoint) *Endpoint {
	if len(eps) == 0 {
		return nil
	}
	start := int(r.next.Add(1) % uint64(len(eps)))
	return firstAvailable(eps, start)
}

// firstAvailable scans from start, wrapping around.
func firstAvailable(eps []*Endpoint, start int) *Endpoint {
	for k := range eps {
		if e := eps[(start+k)%len(eps)]; e.Available() {
			return e
		}
	}
	return nil
}
