package main

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// managerMetrics is what the bench reads from the manager's metrics
// endpoint: controller-runtime's reconcile counters for controller="canary"
// and the analysis counters.
type managerMetrics struct {
	total   float64             // sum of controller_runtime_reconcile_total over results
	buckets map[float64]float64 // controller_runtime_reconcile_time_seconds: le -> cumulative count
	checks  float64             // sluice_canary_checks_total over namespaces and results
	queries float64             // sluice_canary_prometheus_queries_total over namespaces and results
}

// scrapeManagerMetrics reads the manager's plain-HTTP metrics endpoint.
func scrapeManagerMetrics(addr string) (managerMetrics, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return managerMetrics{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return managerMetrics{}, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return parseManagerMetrics(resp.Body, "canary")
}

// parseManagerMetrics reads the Prometheus text format, keeping the reconcile
// series of one controller and the analysis counters.
func parseManagerMetrics(r io.Reader, controller string) (managerMetrics, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return managerMetrics{}, fmt.Errorf("metrics: %w", err)
	}
	m := managerMetrics{buckets: map[float64]float64{},
		checks:  sumCounters(families["sluice_canary_checks_total"]),
		queries: sumCounters(families["sluice_canary_prometheus_queries_total"]),
	}
	for _, metric := range families["controller_runtime_reconcile_total"].GetMetric() {
		if labelValue(metric, "controller") == controller {
			m.total += metric.GetCounter().GetValue()
		}
	}
	for _, metric := range families["controller_runtime_reconcile_time_seconds"].GetMetric() {
		if labelValue(metric, "controller") != controller {
			continue
		}
		h := metric.GetHistogram()
		for _, b := range h.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), 1) {
				m.buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
			}
		}
		m.buckets[math.Inf(1)] += float64(h.GetSampleCount())
	}
	return m, nil
}

func sumCounters(f *dto.MetricFamily) float64 {
	total := 0.0
	for _, metric := range f.GetMetric() {
		total += metric.GetCounter().GetValue()
	}
	return total
}

func labelValue(metric *dto.Metric, name string) string {
	for _, l := range metric.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// since is the difference later - m: the counts of one window.
func (m managerMetrics) since(earlier managerMetrics) managerMetrics {
	d := managerMetrics{total: m.total - earlier.total, buckets: map[float64]float64{},
		checks: m.checks - earlier.checks, queries: m.queries - earlier.queries}
	for le, c := range m.buckets {
		d.buckets[le] = c - earlier.buckets[le]
	}
	return d
}

// quantile estimates the q-quantile from cumulative buckets the way
// Prometheus's histogram_quantile does: linear interpolation inside the
// bucket that holds the rank; the upper bound of the last finite bucket when
// the rank falls in +Inf. NaN when there are no observations.
func quantile(q float64, buckets map[float64]float64) float64 {
	bounds := make([]float64, 0, len(buckets))
	for le := range buckets {
		bounds = append(bounds, le)
	}
	sort.Float64s(bounds)
	if len(bounds) == 0 || buckets[bounds[len(bounds)-1]] <= 0 {
		return math.NaN()
	}
	total := buckets[bounds[len(bounds)-1]]
	rank := q * total
	lowerBound, lowerCount := 0.0, 0.0
	for _, le := range bounds {
		count := buckets[le]
		if count >= rank {
			if math.IsInf(le, 1) {
				return lowerBound
			}
			if count == lowerCount {
				return le
			}
			return lowerBound + (le-lowerBound)*(rank-lowerCount)/(count-lowerCount)
		}
		lowerBound, lowerCount = le, count
	}
	return lowerBound
}
