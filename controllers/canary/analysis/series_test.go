package analysis

import (
	"maps"
	"strconv"
	"time"

	"github.com/sluicemesh/sluice/test/prometheus"
)

// The series tests query: ten minutes of history, a sample every 15s, backfilled three hours ago (promtool
// writes blocks for past data only) and read at the end of the ten minutes, the injected clock's now.
const (
	seriesSteps = 40
	seriesStep  = 15 * time.Second
	testNS      = "shop"
)

// history says when the backfilled series start and when the checks read them.
type history struct{ start, now time.Time }

func newHistory() history {
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	return history{start: start, now: start.Add(seriesSteps * seriesStep)}
}

// counter is a counter growing by perStep each step (0: it exists but nothing happens).
func (h history) counter(metric string, labels map[string]string, perStep float64) []prometheus.Sample {
	var samples []prometheus.Sample
	for i := 0; i <= seriesSteps; i++ {
		samples = append(samples, prometheus.Sample{Metric: metric, Labels: labels, Value: perStep * float64(i),
			Time: h.start.Add(time.Duration(i) * seriesStep)})
	}
	return samples
}

// histogram is a histogram's cumulative buckets growing by perStep[le] each step (`+Inf` included).
func (h history) histogram(metric string, labels map[string]string, perStep map[float64]float64, inf float64) []prometheus.Sample {
	var samples []prometheus.Sample
	for le, n := range perStep {
		samples = append(samples, h.counter(metric+"_bucket", with(labels, "le", strconv.FormatFloat(le, 'g', -1, 64)), n)...)
	}
	return append(samples, h.counter(metric+"_bucket", with(labels, "le", "+Inf"), inf)...)
}

func with(labels map[string]string, name, value string) map[string]string {
	out := maps.Clone(labels)
	out[name] = value
	return out
}

// sluiceWorkload is the inbound traffic of a workload as Sluice proxies count it: success and failure
// requests per step, and per-step cumulative latency buckets (seconds) with their total.
func (h history) sluiceWorkload(workload string, success, failure float64, buckets map[float64]float64, total float64) []prometheus.Sample {
	base := map[string]string{"direction": "inbound", "namespace": testNS, "workload": workload, "pod": workload + "-7d4b9c-x2x9z",
		"service": workload, "status_code": "200", "tls": "true"}
	samples := h.counter("sluice_requests_total", with(base, "classification", "success"), success)
	if failure > 0 {
		failed := with(with(base, "classification", "failure"), "status_code", "503")
		samples = append(samples, h.counter("sluice_requests_total", failed, failure)...)
	}
	if buckets != nil {
		delete(base, "status_code")
		delete(base, "tls")
		samples = append(samples, h.histogram("sluice_request_duration_seconds", base, buckets, total)...)
	}
	return samples
}

// sluiceBuckets are Sluice's histogram bounds (ARCHITECTURE.md), in seconds.
var sluiceBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// cumulative spreads per-step request counts, keyed by the upper bound of the bucket they fall in, over the
// cumulative buckets bounds.
func cumulative(bounds []float64, counts map[float64]float64) (map[float64]float64, float64) {
	buckets := map[float64]float64{}
	var total float64
	for _, le := range bounds {
		total += counts[le]
		buckets[le] = total
	}
	return buckets, total
}

// fixtures are the workloads the table tests judge, in namespace shop:
//   - healthy (Sluice): 99 successes and 1 failure per step (99%); 98 requests at most 5ms and 2 between
//     250ms and 500ms per 100, so the p99 is 375ms (linear interpolation in the (0.25, 0.5] bucket).
//   - failing (Sluice): 90 successes and 10 failures per step (90%).
//   - quiet (Sluice): 1 success per step: about 4 requests a minute.
//   - idle (Sluice): counters that exist but do not move: 0 requests, success rate 0/0.
//   - reviews (Istio, reporter destination): 97 responses 200 and 3 responses 503 per step (97%); as the
//     client reports it (reporter source) every request failed, which the builtin query must ignore. p99 of
//     90 requests at most 25ms and 10 between 50ms and 100ms: 95ms.
//   - web (Linkerd, inbound): 49 successes and 1 failure per step (98%); outbound, all failures, to ignore.
//     p99 of 50 requests at most 5ms and 50 between 5ms and 10ms: 9.9ms.
func (h history) fixtures() []prometheus.Sample {
	healthyBuckets, healthyTotal := cumulative(sluiceBuckets, map[float64]float64{0.005: 98, 0.5: 2})
	samples := h.sluiceWorkload("healthy", 99, 1, healthyBuckets, healthyTotal)
	samples = append(samples, h.sluiceWorkload("failing", 90, 10, nil, 0)...)
	samples = append(samples, h.sluiceWorkload("quiet", 1, 0, nil, 0)...)
	samples = append(samples, h.sluiceWorkload("idle", 0, 0, nil, 0)...)

	istio := map[string]string{"reporter": "destination", "destination_workload_namespace": testNS,
		"destination_workload": "reviews", "source_workload": "productpage"}
	samples = append(samples, h.counter("istio_requests_total", with(istio, "response_code", "200"), 97)...)
	samples = append(samples, h.counter("istio_requests_total", with(istio, "response_code", "503"), 3)...)
	samples = append(samples, h.counter("istio_requests_total", with(with(istio, "reporter", "source"), "response_code", "500"), 50)...)
	istioBuckets, istioTotal := cumulative([]float64{1, 5, 10, 25, 50, 100, 250, 500, 1000}, map[float64]float64{25: 90, 100: 10})
	samples = append(samples, h.histogram("istio_request_duration_milliseconds", istio, istioBuckets, istioTotal)...)

	linkerd := map[string]string{"direction": "inbound", "namespace": testNS, "deployment": "web", "pod": "web-5f6d8-abcde"}
	samples = append(samples, h.counter("response_total", with(linkerd, "classification", "success"), 49)...)
	samples = append(samples, h.counter("response_total", with(linkerd, "classification", "failure"), 1)...)
	samples = append(samples, h.counter("response_total", with(with(linkerd, "direction", "outbound"), "classification", "failure"), 50)...)
	linkerdBuckets, linkerdTotal := cumulative([]float64{1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100}, map[float64]float64{5: 50, 10: 50})
	samples = append(samples, h.histogram("response_latency_ms", linkerd, linkerdBuckets, linkerdTotal)...)
	return samples
}
