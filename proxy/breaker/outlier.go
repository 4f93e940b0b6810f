package breaker

import (
	"sync/atomic"
	"time"
)

// Outlier is one endpoint's failure record: its run of consecutive failures
// and its ejections. It lives inside the endpoint's state, which survives
// configuration swaps, so an endpoint ejected under one snapshot stays
// ejected under the next. The zero value is a healthy endpoint.
type Outlier struct {
	consecutive atomic.Int64
	// ejections is k in base x 2^k: how many times the endpoint was ejected
	// since it last stayed healthy longer than the maximum ejection time.
	ejections atomic.Int64
	// until is the end of the current or last ejection in Unix nanoseconds of
	// clock; 0 = never ejected.
	until atomic.Int64
	// clock is the clock of the breaker that set until, the one that decides
	// when it passed.
	clock atomic.Pointer[clockRef]
}

type clockRef struct{ Clock }

// Ejected reports whether the endpoint is out of rotation now. It costs one
// atomic load for an endpoint that was never ejected.
func (o *Outlier) Ejected() bool {
	until := o.until.Load()
	if until == 0 {
		return false
	}
	return o.clock.Load().Now().UnixNano() < until
}

// EjectedUntil is the end of the current ejection, or the zero time.
func (o *Outlier) EjectedUntil() time.Time {
	if !o.Ejected() {
		return time.Time{}
	}
	return time.Unix(0, o.until.Load())
}

// ConsecutiveFailures is the current run of failures.
func (o *Outlier) ConsecutiveFailures() int64 { return o.consecutive.Load() }

// EjectUntil takes the endpoint out of rotation until the given time of
// clock, outside any policy (for operators and tests).
func (o *Outlier) EjectUntil(until time.Time, clock Clock) {
	o.clock.Store(&clockRef{clock})
	o.until.Store(until.UnixNano())
}
