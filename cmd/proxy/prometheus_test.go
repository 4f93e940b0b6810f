package main

import (
	"context"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/sluicemesh/sluice/test/prometheus"
)

// The builtin analysis queries of ARCHITECTURE.md, word for word.
const (
	successRateQuery = `sum(rate(sluice_requests_total{direction="inbound",namespace="{{ namespace }}",workload="{{ target }}",classification="success"}[{{ interval }}])) / sum(rate(sluice_requests_total{direction="inbound",namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}])) * 100`
	p99Query         = `histogram_quantile(0.99, sum(rate(sluice_request_duration_seconds_bucket{direction="inbound",namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}])) by (le)) * 1000`
)

func render(query string) string {
	return strings.NewReplacer("{{ namespace }}", "demo", "{{ target }}", "app", "{{ interval }}", "30s").Replace(query)
}

// TestProxy_BuiltinAnalysisQueriesMeasureTheTraffic runs the real binary in
// front of an application that fails one request in ten and delays one in
// twenty by 200ms, has a real Prometheus scrape the admin port, and checks
// what the Canary analysis would read: a 90% success rate, and a p99 of
// 220ms, which is where histogram_quantile puts the 99th percentile when 95%
// of the requests sit below the 100ms bucket and 5% in the 100-250ms one
// (0.1 + 0.15 x 4/5). The slow requests have 50ms of slack before the next
// bucket, for a loaded machine's scheduling.
func TestProxy_BuiltinAnalysisQueriesMeasureTheTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus and load for about 15s")
	}
	var n atomic.Int64
	app := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		if i%20 == 5 {
			time.Sleep(200 * time.Millisecond)
		}
		if i%10 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	p := startBinary(t, proxyConfig(app))
	prom := prometheus.Start(t, prometheus.Options{ScrapeTargets: []string{p.admin}})

	// Bounded load: 4 clients in a closed loop, a few hundred requests/s.
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var transportErrors atomic.Int64
	for range 4 {
		wg.Go(func() {
			c := &http.Client{Timeout: 5 * time.Second}
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.inbound+"/", nil)
				resp, err := c.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						transportErrors.Add(1)
					}
					continue
				}
				resp.Body.Close()
			}
		})
	}
	defer func() { stop(); wg.Wait() }()

	// Wait until the window holds enough scrapes for a steady rate.
	query := func(q string) (float64, bool) {
		v, _, err := prom.API().Query(ctx, q, time.Now())
		if err != nil {
			t.Fatalf("query %s: %v", q, err)
		}
		vec, ok := v.(model.Vector)
		if !ok || len(vec) != 1 || math.IsNaN(float64(vec[0].Value)) {
			return 0, false
		}
		return float64(vec[0].Value), true
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		samples, ok := query(`min(count_over_time(sluice_requests_total{direction="inbound",namespace="demo",workload="app"}[30s]))`)
		if ok && samples >= 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Prometheus did not collect 6 scrapes of the proxy within 60s")
		}
		time.Sleep(500 * time.Millisecond)
	}

	success, ok := query(render(successRateQuery))
	if !ok || math.Abs(success-90) > 1.5 {
		t.Errorf("request-success-rate = %v (ok %v), want 90 ± 1.5 for an application failing 1 request in 10", success, ok)
	}
	p99, ok := query(render(p99Query))
	if !ok || math.Abs(p99-220) > 20 {
		t.Errorf("request-duration p99 = %vms (ok %v), want 220 ± 20ms for 5%% of requests taking 200ms", p99, ok)
	}
	if transportErrors.Load() > 0 {
		t.Errorf("%d requests failed without a response", transportErrors.Load())
	}
	t.Logf("success rate %.2f%%, p99 %.2fms over %d requests", success, p99, n.Load())
}
