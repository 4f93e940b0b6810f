// Package breaker is circuit breaking for one backend: endpoints that fail
// several times in a row are ejected from load balancing for an exponentially
// growing time, never more than a share of the backend at once, and requests
// that would wait for a full backend beyond a limit fail fast.
package breaker

import (
	"time"
)

// Policy is a backend's compiled CircuitBreaker.
type Policy struct {
	// ConsecutiveFailures (5xx or transport errors) that eject an endpoint;
	// 0 disables ejection.
	ConsecutiveFailures int
	// BaseEjectionTime is the first ejection's length; the k-th ejection of
	// the same endpoint lasts BaseEjectionTime x 2^k.
	BaseEjectionTime time.Duration
	// MaxEjectionTime caps an ejection's length. An endpoint that stays
	// admitted longer than it starts again from BaseEjectionTime.
	MaxEjectionTime time.Duration
	// MaxEjectionPercent of the backend's endpoints ejected at once; at least
	// one endpoint may always be ejected (as in Envoy), so a backend of one
	// endpoint fails fast rather than keep hammering a broken endpoint.
	MaxEjectionPercent int
	// MaxPendingRequests waiting for a free endpoint when every available
	// endpoint is full; 0 = none wait, the request fails at once.
	MaxPendingRequests int
}

// Breaker applies a Policy to the endpoints of one backend. Its methods are
// safe for concurrent use.
type Breaker struct {
	policy   Policy
	clock    clockRef
	outliers []*Outlier
	Pending  *Pending
}

// New returns the breaker of a backend whose endpoints have these outlier
// records. clock may be nil for the system clock.
func New(p Policy, outliers []*Outlier, clock Clock) *Breaker {
	if clock == nil {
		clock = SystemClock
	}
	return &Breaker{policy: p, clock: clockRef{clock}, outliers: outliers, Pending: NewPending(p.MaxPendingRequests)}
}

// Record feeds the outcome of one try to an endpoint and reports whether it
// ejected the endpoint. failed is true for a 5xx response or a transport
// error that was the endpoint's fault.
func (b *Breaker) Record(o *Outlier, failed bool) (ejected bool) {
	if !failed {
		// Only store when needed: a write on every success would make
		// concurrent requests contend on the cache line.
		if o.consecutive.Load() != 0 {
			o.consecutive.Store(0)
		}
		return false
	}
	n := b.policy.ConsecutiveFailures
	if n <= 0 || o.consecutive.Add(1) < int64(n) || o.Ejected() {
		return false
	}
	return b.eject(o)
}

func (b *Breaker) eject(o *Outlier) bool {
	ejected := 0
	for _, other := range b.outliers {
		if other.Ejected() {
			ejected++
		}
	}
	allowed := max(1, len(b.outliers)*b.policy.MaxEjectionPercent/100)
	if ejected >= allowed {
		// Too much of the backend is out already: keep this endpoint in
		// rotation; its next failure tries again.
		return false
	}
	now := b.clock.Now().UnixNano()
	k := o.ejections.Load()
	last := o.until.Load()
	if last != 0 && b.policy.MaxEjectionTime > 0 && now-last > int64(b.policy.MaxEjectionTime) {
		k = 0 // admitted long enough since the last ejection: start afresh
	}
	// The clock goes first: a reader that sees the new deadline must find
	// the clock that judges it.
	o.clock.Store(&b.clock)
	if !o.until.CompareAndSwap(last, now+int64(b.ejectionTime(k))) {
		return false // another request ejected it at the same moment
	}
	o.ejections.Store(k + 1)
	o.consecutive.Store(0)
	return true
}

// ejectionTime is base x 2^k, capped.
func (b *Breaker) ejectionTime(k int64) time.Duration {
	d, limit := b.policy.BaseEjectionTime, b.policy.MaxEjectionTime
	if limit <= 0 {
		limit = time.Duration(1<<63 - 1)
	}
	for range k {
		if d >= limit/2 {
			return limit
		}
		d *= 2
	}
	return min(d, limit)
}
