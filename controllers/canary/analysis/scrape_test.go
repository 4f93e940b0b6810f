package analysis

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/proxy/metrics"
	"github.com/sluicemesh/sluice/test/prometheus"
)

// TestCheck_BuiltinQueriesReadWhatSluiceProxiesExport keeps the builtin queries and the proxy's metrics in
// step: a real proxy Recorder is scraped by Prometheus and the builtin metrics are judged on what it
// exported. Before each scrape the proxy serves 19 requests answered 200 in 2ms and one answered 503 in
// 300ms, so the success rate is 95% and the p99 falls in the (250ms, 500ms] bucket: 250 + 250*(19.8-19) =
// 450ms.
func TestCheck_BuiltinQueriesReadWhatSluiceProxiesExport(t *testing.T) {
	recorder := metrics.New(metrics.Identity{Namespace: testNS, Workload: "app", Pod: "app-6b7f9-k2x8q", ServiceAccount: "app"})
	exporter := promhttp.HandlerFor(recorder.Registry(), promhttp.HandlerOpts{})
	proxyAdmin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 19 {
			recorder.Observe(metrics.Key{Direction: metrics.Inbound, Service: "app", StatusCode: http.StatusOK, TLS: true}, 2*time.Millisecond)
		}
		recorder.Observe(metrics.Key{Direction: metrics.Inbound, Service: "app", StatusCode: http.StatusServiceUnavailable, TLS: true}, 300*time.Millisecond)
		// Outbound calls of the same proxy are not the canary's own answers: the builtins must not count them.
		recorder.Observe(metrics.Key{Direction: metrics.Outbound, Service: "db", Backend: "db", StatusCode: http.StatusBadGateway}, time.Second)
		exporter.ServeHTTP(w, r)
	}))
	t.Cleanup(proxyAdmin.Close)
	prom := prometheus.Start(t, prometheus.Options{ScrapeTargets: []string{strings.TrimPrefix(proxyAdmin.URL, "http://")}})
	checker := newChecker(t, Server{Address: prom.URL})

	subject := Subject{Provider: meshv1alpha1.ProviderSluice, Namespace: testNS, Target: "app", Service: "app", Interval: 10 * time.Second}
	checks := []meshv1alpha1.AnalysisMetric{
		{Name: meshv1alpha1.MetricRequestSuccessRate, MinRequests: minRequests(40), ThresholdRange: between("94.5", "95.5")},
		{Name: meshv1alpha1.MetricRequestDuration, MinRequests: minRequests(40), ThresholdRange: between("449", "451")},
	}
	// Scraping starts about 5s after Prometheus; until two scrapes fall in the interval the checks hold.
	var results []Result
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		results = checker.CheckMetrics(context.Background(), subject, checks, nil, time.Now())
		if Overall(results) != meshv1alpha1.MetricHeld {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, r := range results {
		t.Logf("%s: %s %q (value %v)", r.Name, r.Outcome, r.Message, r.Value)
		if r.Outcome != meshv1alpha1.MetricPassed || math.IsNaN(r.Value) {
			t.Errorf("%s: %s %q, want Passed", r.Name, r.Outcome, r.Message)
		}
	}
}
