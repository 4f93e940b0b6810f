package analysis

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/prometheus"
)

func quantity(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

// between is a threshold range; "" leaves a bound open.
func between(lowest, highest string) meshv1alpha1.ThresholdRange {
	var r meshv1alpha1.ThresholdRange
	if lowest != "" {
		r.Min = quantity(lowest)
	}
	if highest != "" {
		r.Max = quantity(highest)
	}
	return r
}

func minRequests(n int64) *int64 { return &n }

// newCanary is a Canary in namespace shop on target, analysed every minute.
func newCanary(provider meshv1alpha1.Provider, target string, metrics ...meshv1alpha1.AnalysisMetric) *meshv1alpha1.Canary {
	return &meshv1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: target},
		Spec: meshv1alpha1.CanarySpec{
			Provider:  provider,
			TargetRef: meshv1alpha1.TargetReference{Name: target},
			Analysis: meshv1alpha1.CanaryAnalysis{
				Interval: &metav1.Duration{Duration: time.Minute},
				Metrics:  metrics,
			},
		},
	}
}

func newChecker(t *testing.T, s Server) *Checker {
	t.Helper()
	k, err := NewChecker(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

// meshWithTemplates is a Mesh default with two query templates:
//   - failures counts a workload's failed requests over the interval.
//   - failure-percent is its percentage of failures, with a request count for minRequests.
func meshWithTemplates() *meshv1alpha1.Mesh {
	return &meshv1alpha1.Mesh{
		ObjectMeta: metav1.ObjectMeta{Name: meshv1alpha1.MeshName},
		Spec: meshv1alpha1.MeshSpec{Metrics: meshv1alpha1.MeshMetrics{Templates: []meshv1alpha1.MetricTemplate{
			{
				Name:  "failures",
				Query: `sum(increase(sluice_requests_total{namespace="{{ namespace }}",workload="{{ target }}",classification="failure"}[{{ interval }}]))`,
			},
			{
				Name:              "failure-percent",
				Query:             `sum(rate(sluice_requests_total{namespace="{{ namespace }}",workload="{{ target }}",classification="failure"}[{{ interval }}])) / sum(rate(sluice_requests_total{namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}])) * 100`,
				RequestCountQuery: `sum(increase(sluice_requests_total{namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}]))`,
			},
			{
				Name:  "per-route",
				Query: `sum(rate(sluice_requests_total{namespace="{{ namespace }}",workload="{{ target }}",route="{{ route }}"}[{{ interval }}]))`,
			},
		}}},
	}
}

// TestCheck_JudgesRealSeries runs metric checks against a real Prometheus holding the fixtures' series and
// asserts what a user reads in status: the outcome, the value and why.
func TestCheck_JudgesRealSeries(t *testing.T) {
	h := newHistory()
	prom := prometheus.Start(t, prometheus.Options{Backfill: h.fixtures()})
	checker := newChecker(t, Server{Address: prom.URL})
	mesh := meshWithTemplates()
	nan := math.NaN()

	tests := []struct {
		name        string
		provider    meshv1alpha1.Provider
		target      string
		metric      meshv1alpha1.AnalysisMetric
		wantOutcome meshv1alpha1.MetricResult
		wantValue   float64 // NaN: no value read
		wantMessage string  // a part of the message
		wantQuery   string  // a part of the rendered query, when it matters
	}{
		{
			name: "success rate above its minimum passes", provider: meshv1alpha1.ProviderSluice, target: "healthy",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-success-rate", ThresholdRange: between("98.5", "")},
			wantOutcome: meshv1alpha1.MetricPassed, wantValue: 99, wantMessage: "within the threshold range",
			// ARCHITECTURE.md's query, word for word, rendered.
			wantQuery: `sum(rate(sluice_requests_total{direction="inbound",namespace="shop",workload="healthy",classification="success"}[1m])) / sum(rate(sluice_requests_total{direction="inbound",namespace="shop",workload="healthy"}[1m])) * 100`,
		},
		{
			name: "success rate below its minimum fails", provider: meshv1alpha1.ProviderSluice, target: "failing",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-success-rate", ThresholdRange: between("99", "")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: 90, wantMessage: "90 is below the minimum 99",
		},
		{
			name: "success rate with a decimal minimum just above it fails", provider: meshv1alpha1.ProviderSluice, target: "healthy",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-success-rate", ThresholdRange: between("99.5", "")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: 99, wantMessage: "below the minimum 99.5",
		},
		{
			name: "p99 latency from histogram buckets under its maximum passes", provider: meshv1alpha1.ProviderSluice, target: "healthy",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-duration", ThresholdRange: between("", "500")},
			wantOutcome: meshv1alpha1.MetricPassed, wantValue: 375,
			wantQuery: `histogram_quantile(0.99, sum(rate(sluice_request_duration_seconds_bucket{direction="inbound",namespace="shop",workload="healthy"}[1m])) by (le)) * 1000`,
		},
		{
			name: "p99 latency over its maximum fails", provider: meshv1alpha1.ProviderSluice, target: "healthy",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-duration", ThresholdRange: between("", "300")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: 375, wantMessage: "375 is above the maximum 300",
		},
		{
			name: "builtin metrics of providers that keep Sluice proxies read Sluice's series", provider: meshv1alpha1.ProviderKubernetes, target: "failing",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-success-rate", ThresholdRange: between("99", "")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: 90,
		},
		{
			name: "a provider without builtin metrics fails them", provider: meshv1alpha1.Provider("consul"), target: "healthy",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-success-rate", ThresholdRange: between("99", "")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: nan, wantMessage: `provider "consul" has no builtin metrics`,
		},
		{
			name: "a workload without series fails with no data", provider: meshv1alpha1.ProviderSluice, target: "ghost",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-success-rate", ThresholdRange: between("99", "")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: nan, wantMessage: "no data",
		},
		{
			name: "a success rate of no requests (0/0 = NaN) fails", provider: meshv1alpha1.ProviderSluice, target: "idle",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-success-rate", ThresholdRange: between("0", "")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: nan, wantMessage: "NaN",
		},
		{
			name: "fewer requests than minRequests hold the check", provider: meshv1alpha1.ProviderSluice, target: "quiet",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-success-rate", MinRequests: minRequests(50), ThresholdRange: between("99", "")},
			wantOutcome: meshv1alpha1.MetricHeld, wantValue: nan, wantMessage: "4 requests over 1m, below minRequests 50",
		},
		{
			name: "no requests at all hold a check with minRequests rather than fail it on NaN", provider: meshv1alpha1.ProviderSluice, target: "idle",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-duration", MinRequests: minRequests(1), ThresholdRange: between("", "500")},
			wantOutcome: meshv1alpha1.MetricHeld, wantValue: nan, wantMessage: "0 requests over 1m, below minRequests 1",
		},
		{
			name: "enough requests for minRequests are judged", provider: meshv1alpha1.ProviderSluice, target: "quiet",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-success-rate", MinRequests: minRequests(3), ThresholdRange: between("99", "")},
			wantOutcome: meshv1alpha1.MetricPassed, wantValue: 100,
		},
		{
			name: "istio success rate counts only what the destination reports", provider: meshv1alpha1.ProviderIstio, target: "reviews",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-success-rate", ThresholdRange: between("95", "")},
			wantOutcome: meshv1alpha1.MetricPassed, wantValue: 97, wantQuery: "istio_requests_total",
		},
		{
			name: "istio p99 latency in milliseconds", provider: meshv1alpha1.ProviderIstio, target: "reviews",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-duration", ThresholdRange: between("", "90")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: 95, wantMessage: "95 is above the maximum 90",
			wantQuery: "istio_request_duration_milliseconds_bucket",
		},
		{
			name: "istio minRequests counts the destination's requests", provider: meshv1alpha1.ProviderIstio, target: "reviews",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-success-rate", MinRequests: minRequests(500), ThresholdRange: between("95", "")},
			wantOutcome: meshv1alpha1.MetricHeld, wantValue: nan, wantMessage: "400 requests over 1m, below minRequests 500",
		},
		{
			name: "linkerd success rate counts only inbound responses", provider: meshv1alpha1.ProviderLinkerd, target: "web",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-success-rate", ThresholdRange: between("97.5", "")},
			wantOutcome: meshv1alpha1.MetricPassed, wantValue: 98, wantQuery: "response_total",
		},
		{
			name: "linkerd p99 latency in milliseconds", provider: meshv1alpha1.ProviderLinkerd, target: "web",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-duration", ThresholdRange: between("", "10")},
			wantOutcome: meshv1alpha1.MetricPassed, wantValue: 9.9, wantQuery: "response_latency_ms_bucket",
		},
		{
			name: "linkerd minRequests counts inbound responses", provider: meshv1alpha1.ProviderLinkerd, target: "web",
			metric:      meshv1alpha1.AnalysisMetric{Name: "request-duration", MinRequests: minRequests(300), ThresholdRange: between("", "10")},
			wantOutcome: meshv1alpha1.MetricHeld, wantValue: nan, wantMessage: "200 requests over 1m, below minRequests 300",
		},
		{
			name: "a Mesh template by templateRef", provider: meshv1alpha1.ProviderSluice, target: "failing",
			metric: meshv1alpha1.AnalysisMetric{Name: "failed-requests", TemplateRef: &meshv1alpha1.MetricTemplateReference{Name: "failures"},
				ThresholdRange: between("", "10")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: 40, wantMessage: "40 is above the maximum 10",
			wantQuery: `classification="failure"}[1m]`,
		},
		{
			name: "a Mesh template's request count holds below minRequests", provider: meshv1alpha1.ProviderSluice, target: "quiet",
			metric: meshv1alpha1.AnalysisMetric{Name: "failure-percent", TemplateRef: &meshv1alpha1.MetricTemplateReference{Name: "failure-percent"},
				MinRequests: minRequests(10), ThresholdRange: between("", "1")},
			wantOutcome: meshv1alpha1.MetricHeld, wantValue: nan, wantMessage: "below minRequests 10",
		},
		{
			name: "a templateRef to a template the Mesh does not have fails", provider: meshv1alpha1.ProviderSluice, target: "healthy",
			metric: meshv1alpha1.AnalysisMetric{Name: "latency", TemplateRef: &meshv1alpha1.MetricTemplateReference{Name: "latency-p95"},
				ThresholdRange: between("", "10")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: nan, wantMessage: `the Mesh default has no metric template "latency-p95"`,
		},
		{
			name: "a Mesh template with a variable the metric does not give fails naming it", provider: meshv1alpha1.ProviderSluice, target: "healthy",
			metric: meshv1alpha1.AnalysisMetric{Name: "route", TemplateRef: &meshv1alpha1.MetricTemplateReference{Name: "per-route"},
				ThresholdRange: between("", "10")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: nan, wantMessage: "unknown variable {{ route }}",
		},
		{
			name: "an inline query with user variables and its own interval", provider: meshv1alpha1.ProviderSluice, target: "failing",
			metric: meshv1alpha1.AnalysisMetric{Name: "errors",
				Query:     `sum(increase(sluice_requests_total{namespace="{{ namespace }}",workload="{{ target }}",service="{{ service }}",status_code="{{ code }}"}[{{ interval }}]))`,
				Variables: map[string]string{"code": "503"}, Interval: &metav1.Duration{Duration: 2 * time.Minute},
				ThresholdRange: between("", "100")},
			wantOutcome: meshv1alpha1.MetricPassed, wantValue: 80,
			wantQuery: `sum(increase(sluice_requests_total{namespace="shop",workload="failing",service="failing",status_code="503"}[2m]))`,
		},
		{
			name: "an inline query with an unknown variable fails naming it", provider: meshv1alpha1.ProviderSluice, target: "healthy",
			metric: meshv1alpha1.AnalysisMetric{Name: "errors",
				Query:          `sum(rate(sluice_requests_total{namespace="{{ namespace }}",path="{{ path }}"}[{{ interval }}]))`,
				ThresholdRange: between("", "100")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: nan, wantMessage: "unknown variable {{ path }}",
		},
		{
			name: "an inline query with minRequests counts with its requestCountQuery", provider: meshv1alpha1.ProviderSluice, target: "quiet",
			metric: meshv1alpha1.AnalysisMetric{Name: "errors",
				Query:             `sum(increase(sluice_requests_total{namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}]))`,
				RequestCountQuery: `sum(increase(sluice_requests_total{namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}]))`,
				MinRequests:       minRequests(5), ThresholdRange: between("", "100")},
			wantOutcome: meshv1alpha1.MetricHeld, wantValue: nan, wantMessage: "4 requests over 1m, below minRequests 5",
		},
		{
			name: "an inline query with minRequests but nothing to count with fails", provider: meshv1alpha1.ProviderSluice, target: "quiet",
			metric: meshv1alpha1.AnalysisMetric{Name: "errors",
				Query:       `sum(increase(sluice_requests_total{namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}]))`,
				MinRequests: minRequests(5), ThresholdRange: between("", "100")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: nan, wantMessage: "needs a requestCountQuery",
		},
		{
			name: "a query returning several series fails", provider: meshv1alpha1.ProviderSluice, target: "failing",
			metric: meshv1alpha1.AnalysisMetric{Name: "by-class",
				Query:          `sum by (classification) (rate(sluice_requests_total{namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}]))`,
				ThresholdRange: between("0", "")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: nan, wantMessage: "returned 2 series",
		},
		{
			name: "a query returning an infinity fails", provider: meshv1alpha1.ProviderSluice, target: "healthy",
			metric: meshv1alpha1.AnalysisMetric{Name: "ratio",
				Query:          `sum(rate(sluice_requests_total{namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}])) / 0`,
				ThresholdRange: between("0", "")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: nan, wantMessage: "+Inf, not a finite number",
		},
		{
			name: "a query Prometheus cannot parse fails with its error", provider: meshv1alpha1.ProviderSluice, target: "healthy",
			metric: meshv1alpha1.AnalysisMetric{Name: "broken",
				Query: `sum(rate(sluice_requests_total{namespace="{{ namespace }}"}[{{ interval }}])`, ThresholdRange: between("0", "")},
			wantOutcome: meshv1alpha1.MetricFailed, wantValue: nan, wantMessage: "query Prometheus " + prom.URL,
		},
		{
			name: "a scalar result is one number", provider: meshv1alpha1.ProviderSluice, target: "healthy",
			metric: meshv1alpha1.AnalysisMetric{Name: "scalar",
				Query: `scalar(sum(increase(sluice_requests_total{namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}])))`, ThresholdRange: between("399", "401")},
			wantOutcome: meshv1alpha1.MetricPassed, wantValue: 400,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := checker.Check(context.Background(), newCanary(tt.provider, tt.target, tt.metric), mesh, h.now)
			if len(results) != 1 {
				t.Fatalf("got %d results, want 1", len(results))
			}
			r := results[0]
			t.Logf("%s: %s %q (value %v)\n%s", r.Name, r.Outcome, r.Message, r.Value, r.Query)
			if r.Name != tt.metric.Name || r.Outcome != tt.wantOutcome {
				t.Errorf("%s: %s, want %s", r.Name, r.Outcome, tt.wantOutcome)
			}
			if !strings.Contains(r.Message, tt.wantMessage) {
				t.Errorf("message %q, want it to contain %q", r.Message, tt.wantMessage)
			}
			if !strings.Contains(r.Query, tt.wantQuery) {
				t.Errorf("query\n%s\nwant it to contain\n%s", r.Query, tt.wantQuery)
			}
			switch {
			case math.IsNaN(tt.wantValue) && !math.IsNaN(r.Value):
				t.Errorf("value %v, want none (NaN)", r.Value)
			case !math.IsNaN(tt.wantValue) && !(math.Abs(r.Value-tt.wantValue) < 0.01):
				t.Errorf("value %v, want %v", r.Value, tt.wantValue)
			}
			if !r.CheckedAt.Equal(h.now) {
				t.Errorf("checked at %v, want the injected clock's %v", r.CheckedAt, h.now)
			}
		})
	}
}
