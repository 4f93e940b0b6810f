package main

import (
	"math"
	"strings"
	"testing"
)

const sampleMetrics = `# HELP controller_runtime_reconcile_total Total number of reconciliations per controller
# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="canary",result="success"} 90
controller_runtime_reconcile_total{controller="canary",result="requeue_after"} 8
controller_runtime_reconcile_total{controller="canary",result="error"} 2
controller_runtime_reconcile_total{controller="mesh",result="success"} 1000
# HELP controller_runtime_reconcile_time_seconds Length of time per reconciliation per controller
# TYPE controller_runtime_reconcile_time_seconds histogram
controller_runtime_reconcile_time_seconds_bucket{controller="canary",le="0.01"} 50
controller_runtime_reconcile_time_seconds_bucket{controller="canary",le="0.1"} 90
controller_runtime_reconcile_time_seconds_bucket{controller="canary",le="1"} 100
controller_runtime_reconcile_time_seconds_bucket{controller="canary",le="+Inf"} 100
controller_runtime_reconcile_time_seconds_sum{controller="canary"} 12.5
controller_runtime_reconcile_time_seconds_count{controller="canary"} 100
controller_runtime_reconcile_time_seconds_bucket{controller="mesh",le="+Inf"} 1000
controller_runtime_reconcile_time_seconds_sum{controller="mesh"} 50
controller_runtime_reconcile_time_seconds_count{controller="mesh"} 1000
# HELP sluice_canary_checks_total Analysis checks.
# TYPE sluice_canary_checks_total counter
sluice_canary_checks_total{namespace="a",result="passed"} 6
sluice_canary_checks_total{namespace="b",result="failed"} 2
# HELP sluice_canary_prometheus_queries_total Instant queries.
# TYPE sluice_canary_prometheus_queries_total counter
sluice_canary_prometheus_queries_total{namespace="a",result="ok"} 12
sluice_canary_prometheus_queries_total{namespace="b",result="error"} 4
`

func TestParseReconcileMetricsKeepsOnlyTheCanaryController(t *testing.T) {
	m, err := parseManagerMetrics(strings.NewReader(sampleMetrics), "canary")
	if err != nil {
		t.Fatal(err)
	}
	if m.total != 100 {
		t.Fatalf("total = %v, want 100 (all results of controller canary, none of mesh)", m.total)
	}
	if m.buckets[math.Inf(1)] != 100 || m.buckets[0.1] != 90 {
		t.Fatalf("buckets = %v", m.buckets)
	}
	if m.checks != 8 || m.queries != 16 {
		t.Fatalf("checks = %v, queries = %v, want 8 and 16 (summed over namespaces and results)", m.checks, m.queries)
	}
	if got := queriesPerCheck(m); got != "2.00 (16 queries over 8 checks)" {
		t.Fatalf("queries per check = %q", got)
	}
}

func TestQuantileInterpolatesInsideTheBucket(t *testing.T) {
	m, err := parseManagerMetrics(strings.NewReader(sampleMetrics), "canary")
	if err != nil {
		t.Fatal(err)
	}
	// Rank 99 of 100 lies in (0.1, 1] which holds ranks 91..100: 0.1 + 0.9*9/10.
	if got, want := quantile(0.99, m.buckets), 0.91; math.Abs(got-want) > 1e-9 {
		t.Fatalf("p99 = %v, want %v", got, want)
	}
	if got := quantile(0.5, m.buckets); got != 0.01 {
		t.Fatalf("p50 = %v, want 0.01 (rank 50 is the top of the first bucket)", got)
	}
}

func TestQuantileOfAWindowUsesOnlyItsObservations(t *testing.T) {
	earlier := managerMetrics{total: 10, buckets: map[float64]float64{0.01: 10, 1: 10, math.Inf(1): 10}}
	later := managerMetrics{total: 20, buckets: map[float64]float64{0.01: 10, 1: 20, math.Inf(1): 20}}
	window := later.since(earlier)
	if window.total != 10 {
		t.Fatalf("window total = %v, want 10", window.total)
	}
	// All ten new reconciles took between 10 ms and 1 s.
	if got := quantile(0.99, window.buckets); got <= 0.01 {
		t.Fatalf("window p99 = %v, want above 0.01", got)
	}
	if got := quantile(0.99, map[float64]float64{math.Inf(1): 0}); !math.IsNaN(got) {
		t.Fatalf("p99 of no observations = %v, want NaN", got)
	}
}
