package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The proxy's own metrics beyond the request contract. Each carries the
// proxy's namespace, workload and pod as constant labels, like the request
// metrics, so one query can join them.
//
//   - sluice_retries_total{direction,backend}: tries sent again after a
//     failure (not counting first tries).
//   - sluice_endpoint_ejections_total{backend}: endpoints the circuit breaker
//     took out of load balancing.
//   - sluice_rate_limited_total{direction}: requests answered 429 by the local
//     rate limit.
//   - sluice_authz_denied_total{direction}: requests answered 403 by
//     authorization.
//   - sluice_fault_injected_total{kind}: requests delayed or aborted by fault
//     injection (kind delay|abort).
//   - sluice_tcp_connections_opened_total / sluice_tcp_connections_closed_total
//     {direction,tls}: client connections accepted by a listener and closed;
//     their difference is the open connections.
//   - sluice_tcp_read_bytes_total / sluice_tcp_write_bytes_total
//     {direction,tls}: bytes read from and written to those connections,
//     counted when a connection closes.
//   - sluice_tls_certificate_expiry_timestamp_seconds: when the proxy's own
//     certificate expires, in Unix seconds; alert on it minus time().
type events struct {
	retries     *prometheus.CounterVec
	ejections   *prometheus.CounterVec
	rateLimited [2]prometheus.Counter // by direction index
	authzDenied [2]prometheus.Counter
	faults      *prometheus.CounterVec
	connOpened  [2][2]prometheus.Counter // [direction][tls]
	connClosed  [2][2]prometheus.Counter
	readBytes   [2][2]prometheus.Counter
	writeBytes  [2][2]prometheus.Counter
	certExpiry  prometheus.Gauge
}

func newEvents(id Identity) (*events, []prometheus.Collector) {
	constLabels := prometheus.Labels{"namespace": id.Namespace, "workload": id.Workload, "pod": id.Pod}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: constLabels}, labels)
	}
	e := &events{
		retries:   counterVec("sluice_retries_total", "Tries sent again after a failure.", "direction", "backend"),
		ejections: counterVec("sluice_endpoint_ejections_total", "Endpoints ejected from load balancing by the circuit breaker.", "backend"),
		faults:    counterVec("sluice_fault_injected_total", "Requests delayed or aborted by fault injection.", "kind"),
		certExpiry: prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        "sluice_tls_certificate_expiry_timestamp_seconds",
			Help:        "Expiry of the proxy's own certificate, in Unix seconds; 0 without a certificate.",
			ConstLabels: constLabels,
		}),
	}
	rateLimited := counterVec("sluice_rate_limited_total", "Requests answered 429 by the local rate limit.", "direction")
	authzDenied := counterVec("sluice_authz_denied_total", "Requests answered 403 by authorization.", "direction")
	tcp := func(name, help string) *prometheus.CounterVec { return counterVec(name, help, "direction", "tls") }
	opened := tcp("sluice_tcp_connections_opened_total", "Client connections accepted by a listener.")
	closed := tcp("sluice_tcp_connections_closed_total", "Client connections of a listener closed.")
	read := tcp("sluice_tcp_read_bytes_total", "Bytes read from client connections of a listener, counted at close.")
	written := tcp("sluice_tcp_write_bytes_total", "Bytes written to client connections of a listener, counted at close.")
	// Bind the fixed label combinations once: these counters are touched per
	// request or per connection.
	for d, dir := range []Direction{Inbound, Outbound} {
		e.rateLimited[d] = rateLimited.WithLabelValues(string(dir))
		e.authzDenied[d] = authzDenied.WithLabelValues(string(dir))
		for t, tls := range []string{"false", "true"} {
			e.connOpened[d][t] = opened.WithLabelValues(string(dir), tls)
			e.connClosed[d][t] = closed.WithLabelValues(string(dir), tls)
			e.readBytes[d][t] = read.WithLabelValues(string(dir), tls)
			e.writeBytes[d][t] = written.WithLabelValues(string(dir), tls)
		}
	}
	return e, []prometheus.Collector{e.retries, e.ejections, e.faults, e.certExpiry,
		rateLimited, authzDenied, opened, closed, read, written}
}

func directionIndex(d Direction) int {
	if d == Outbound {
		return 1
	}
	return 0
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The methods below are safe on a nil Recorder, so handlers built without
// metrics need no checks.

// Retry counts a try sent again to backend.
func (r *Recorder) Retry(d Direction, backend string) {
	if r != nil {
		r.events.retries.WithLabelValues(string(d), backend).Inc()
	}
}

// Ejection counts an endpoint of backend ejected by the circuit breaker.
func (r *Recorder) Ejection(backend string) {
	if r != nil {
		r.events.ejections.WithLabelValues(backend).Inc()
	}
}

// RateLimited counts a request answered 429 by the local rate limit.
func (r *Recorder) RateLimited(d Direction) {
	if r != nil {
		r.events.rateLimited[directionIndex(d)].Inc()
	}
}

// AuthzDenied counts a request answered 403 by authorization.
func (r *Recorder) AuthzDenied(d Direction) {
	if r != nil {
		r.events.authzDenied[directionIndex(d)].Inc()
	}
}

// FaultInjected counts a request delayed (kind "delay") or aborted ("abort").
func (r *Recorder) FaultInjected(kind string) {
	if r != nil {
		r.events.faults.WithLabelValues(kind).Inc()
	}
}

// ConnectionOpened counts a client connection accepted by a listener.
func (r *Recorder) ConnectionOpened(d Direction, tls bool) {
	if r != nil {
		r.events.connOpened[directionIndex(d)][boolIndex(tls)].Inc()
	}
}

// ConnectionClosed counts a closed client connection and its bytes.
func (r *Recorder) ConnectionClosed(d Direction, tls bool, read, written int64) {
	if r == nil {
		return
	}
	i, t := directionIndex(d), boolIndex(tls)
	r.events.connClosed[i][t].Inc()
	r.events.readBytes[i][t].Add(float64(read))
	r.events.writeBytes[i][t].Add(float64(written))
}

// CertificateExpiry sets the expiry gauge of the proxy's own certificate.
func (r *Recorder) CertificateExpiry(notAfter time.Time) {
	if r != nil {
		r.events.certExpiry.Set(float64(notAfter.Unix()))
	}
}
