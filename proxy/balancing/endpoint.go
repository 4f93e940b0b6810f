package balancing

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicemesh/sluice/proxy/breaker"
)

const (
	// decayTime is the time constant of the latency average: a sample's weight
	// falls to 1/e after it (linkerd2-proxy's default).
	decayTime = 10 * time.Second
	// defaultRTT is the latency assumed for an endpoint before any answer, so a
	// new endpoint is neither starved nor flooded.
	defaultRTT = 30 * time.Millisecond
	// idlePenalty is the cost of an endpoint whose estimate decayed to zero but
	// has requests outstanding, so it is not mistaken for a free one.
	idlePenalty = float64(time.Second)
	// failurePenalty is the latency recorded for a try that got no response
	// (refused or broken connection). Such failures are fast, and without a
	// penalty the balancer would favour the endpoint that fails quickest.
	failurePenalty = float64(time.Second)
)

// clockStart anchors the monotonic clock the endpoints use.
var clockStart = time.Now()

func monotonicNow() int64 { return int64(time.Since(clockStart)) }

// Endpoint is one address of a backend and what the proxy learned about it.
// Its state survives configuration swaps: a new snapshot reuses the Endpoint of
// the same key, so latency estimates and in-flight counts carry over.
type Endpoint struct {
	// Address is ip:port.
	Address string
	// Identity is the SPIFFE URI the endpoint must present; empty = not meshed.
	Identity string
	// Protocol is http1, h2, grpc or opaque.
	Protocol string

	// Outlier is the circuit breaker's record of the endpoint's failures
	// and ejections.
	Outlier breaker.Outlier

	inflight    atomic.Int64
	maxInflight atomic.Int64 // 0 = no limit

	mu    sync.Mutex
	ewma  float64 // nanoseconds
	stamp int64   // monotonic nanoseconds of the last update
}

// NewEndpoint returns the state of a fresh endpoint.
func NewEndpoint(address, identity, protocol string) *Endpoint {
	return &Endpoint{
		Address:  address,
		Identity: identity,
		Protocol: protocol,
		ewma:     float64(defaultRTT),
		stamp:    monotonicNow(),
	}
}

// Key identifies the endpoint across configuration snapshots.
func (e *Endpoint) Key() string { return EndpointKey(e.Address, e.Identity, e.Protocol) }

// EndpointKey is the Key of an endpoint with these attributes.
func EndpointKey(address, identity, protocol string) string {
	return address + "|" + identity + "|" + protocol
}

// Available says whether the endpoint may take a new request now.
func (e *Endpoint) Available() bool { return e.Healthy() && !e.Full() }

// Healthy is false while the circuit breaker has the endpoint ejected.
func (e *Endpoint) Healthy() bool { return !e.Outlier.Ejected() }

// Full is true when the endpoint has its maximum of requests in flight.
func (e *Endpoint) Full() bool {
	limit := e.maxInflight.Load()
	return limit > 0 && e.inflight.Load() >= limit
}

// SetMaxInflight sets the in-flight limit; 0 removes it.
func (e *Endpoint) SetMaxInflight(n int64) { e.maxInflight.Store(n) }

// EjectFor makes the endpoint unhealthy for d.
func (e *Endpoint) EjectFor(d time.Duration) {
	e.Outlier.EjectUntil(time.Now().Add(d), breaker.SystemClock)
}

// Inflight is the number of requests sent and not yet answered.
func (e *Endpoint) Inflight() int64 { return e.inflight.Load() }

// Start records a request sent to the endpoint and returns its start time, to
// hand back to Done.
func (e *Endpoint) Start() int64 {
	e.inflight.Add(1)
	return monotonicNow()
}

// TryStart is Start within the in-flight limit: it fails, recording
// nothing, when the endpoint is full. Picking an available endpoint and then
// starting is not enough under concurrency, as two requests could both see the
// last free slot.
func (e *Endpoint) TryStart() (start int64, ok bool) {
	limit := e.maxInflight.Load()
	if limit <= 0 {
		return e.Start(), true
	}
	for {
		n := e.inflight.Load()
		if n >= limit {
			return 0, false
		}
		if e.inflight.CompareAndSwap(n, n+1) {
			return monotonicNow(), true
		}
	}
}

// Done records the end of a request started at start: the response headers
// arrived, or it failed without a response. Its latency, or a penalty for a
// failure, feeds the estimate.
func (e *Endpoint) Done(start int64, failed bool) {
	e.inflight.Add(-1)
	now := monotonicNow()
	rtt := float64(now - start)
	if failed {
		rtt = max(rtt, failurePenalty)
	}
	e.observe(rtt, now)
}

// observe is the peak-EWMA update: a latency above the estimate replaces it at
// once (peak), a lower one pulls it down smoothly.
func (e *Endpoint) observe(rtt float64, now int64) {
	e.mu.Lock()
	if rtt > e.ewma {
		e.ewma = rtt
	} else {
		w := decayWeight(now - e.stamp)
		e.ewma = e.ewma*w + rtt*(1-w)
	}
	if now > e.stamp {
		e.stamp = now
	}
	e.mu.Unlock()
}

// Cost is the expected latency of one more request: the estimate, decayed for
// the time since the last answer so an idle endpoint is tried again, times the
// outstanding requests plus one.
func (e *Endpoint) Cost() float64 {
	now := monotonicNow()
	e.mu.Lock()
	ewma := e.ewma * decayWeight(now-e.stamp)
	e.mu.Unlock()
	pending := float64(e.inflight.Load())
	if ewma == 0 && pending > 0 {
		return idlePenalty + pending
	}
	return ewma * (pending + 1)
}

func decayWeight(elapsed int64) float64 {
	if elapsed <= 0 {
		return 1
	}
	return math.Exp(-float64(elapsed) / float64(decayTime))
}
