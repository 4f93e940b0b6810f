package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// reconcileMetrics is what the bench reads from controller-runtime's metrics
// for controller="canary".
type reconcileMetrics struct {
	total   float64             // sum of controller_runtime_reconcile_total over results
	buckets map[float64]float64 // controller_runtime_reconcile_time_seconds_bucket: le -> cumulative count
}

// scrapeReconcileMetrics reads the manager's plain-HTTP metrics endpoint.
func scrapeReconcileMetrics(addr string) (reconcileMetrics, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return reconcileMetrics{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return reconcileMetrics{}, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return parseReconcileMetrics(resp.Body, "canary")
}

// parseReconcileMetrics reads the Prometheus text format, keeping only the
// two series families of one controller. It is a line parser, not a full
// exposition parser: controller-runtime writes simple label sets.
func parseReconcileMetrics(r io.Reader, controller string) (reconcileMetrics, error) {
	m := reconcileMetrics{buckets: map[float64]float64{}}
	want := `controller="` + controller + `"`
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || !strings.Contains(line, want) {
			continue
		}
		open, closing := strings.IndexByte(line, '{'), strings.LastIndexByte(line, '}')
		if open < 0 || closing < open {
			continue
		}
		name, labels := line[:open], line[open+1:closing]
		value, err := strconv.ParseFloat(strings.TrimSpace(line[closing+1:]), 64)
		if err != nil {
			return reconcileMetrics{}, fmt.Errorf("metrics line %q: %w", line, err)
		}
		switch name {
		case "controller_runtime_reconcile_total":
			m.total += value
		case "controller_runtime_reconcile_time_seconds_bucket":
			le, err := labelValue(labels, "le")
			if err != nil {
				return reconcileMetrics{}, fmt.Errorf("metrics line %q: %w", line, err)
			}
			bound, err := strconv.ParseFloat(le, 64) // "+Inf" parses as +Inf
			if err != nil {
				return reconcileMetrics{}, fmt.Errorf("metrics line %q: %w", line, err)
			}
			m.buckets[bound] += value
		}
	}
	return m, sc.Err()
}

func labelValue(labels, key string) (string, error) {
	for _, pair := range strings.Split(labels, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if ok && k == key {
			return strings.Trim(v, `"`), nil
		}
	}
	return "", fmt.Errorf("no label %s", key)
}

// since is the difference later - m: the reconciles of one window.
func (m reconcileMetrics) since(earlier reconcileMetrics) reconcileMetrics {
	d := reconcileMetrics{total: m.total - earlier.total, buckets: map[float64]float64{}}
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
