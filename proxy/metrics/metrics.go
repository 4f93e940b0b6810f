// Package metrics exports the request metrics the Canary analysis relies on,
// exactly as ARCHITECTURE.md defines them: sluice_requests_total and the
// histogram sluice_request_duration_seconds, labelled with direction, the
// proxy's own namespace, workload and pod, service, backend, status_code,
// classification and tls; and the proxy's own counters beyond the contract
// (see events.go). They live on a private registry so nothing else leaks onto
// the proxy's /metrics.
package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Direction is the side of the application a request crossed.
type Direction string

const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// DurationBuckets are the histogram buckets of the metrics contract, in
// seconds.
var DurationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// labelNames in the order of the metrics contract.
var labelNames = []string{"direction", "namespace", "workload", "pod", "service", "backend", "status_code", "classification", "tls"}

// Key is what varies between requests; the rest of the labels is the proxy's
// Identity.
type Key struct {
	Direction Direction
	// Service the client addressed (outbound) or that received it (inbound).
	Service string
	// Backend chosen by the route; outbound only.
	Backend string
	// StatusCode answered to the client.
	StatusCode int
	// TLS is true when the request crossed mTLS.
	TLS bool
}

// Classification is "failure" for 5xx answers (transport errors are answered
// as 502, 503 or 504) and "success" otherwise.
func Classification(statusCode int) string {
	if statusCode >= 500 || statusCode <= 0 {
		return "failure"
	}
	return "success"
}

// Recorder records requests. Observe is safe for concurrent use.
type Recorder struct {
	id        Identity
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	events    *events

	// observers caches the label-bound series per Key, so the hot path does a
	// map lookup instead of building and hashing nine label values.
	mu        sync.RWMutex
	observers map[Key]observers
}

type observers struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// New returns a Recorder on a fresh registry that also carries the Go and
// process collectors.
func New(id Identity) *Recorder {
	r := &Recorder{
		id:       id,
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_requests_total",
			Help: "Requests proxied, by direction, service, backend, status code, classification and TLS.",
		}, labelNames),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_request_duration_seconds",
			Help:    "Time from receiving a request to sending the last byte of its response.",
			Buckets: DurationBuckets,
		}, labelNames),
		observers: map[Key]observers{},
	}
	r.registry.MustRegister(r.requests, r.durations,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var extra []prometheus.Collector
	r.events, extra = newEvents(id)
	r.registry.MustRegister(extra...)
	return r
}

// Registry is where the proxy's metrics live, for /metrics and for other
// packages' collectors.
func (r *Recorder) Registry() *prometheus.Registry { return r.registry }

// Observe records one finished request.
func (r *Recorder) Observe(k Key, d time.Duration) {
	o := r.observersFor(k)
	o.count.Inc()
	o.duration.Observe(d.Seconds())
}

func (r *Recorder) observersFor(k Key) observers {
	r.mu.RLock()
	o, ok := r.observers[k]
	r.mu.RUnlock()
	if ok {
		return o
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if o, ok := r.observers[k]; ok {
		return o
	}
	values := []string{
		string(k.Direction), r.id.Namespace, r.id.Workload, r.id.Pod,
		k.Service, k.Backend, strconv.Itoa(k.StatusCode), Classification(k.StatusCode), strconv.FormatBool(k.TLS),
	}
	o = observers{count: r.requests.WithLabelValues(values...), duration: r.durations.WithLabelValues(values...)}
	r.observers[k] = o
	return o
}
