package listener

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// countingBackend counts the requests it answers.
func countingBackend(t *testing.T, name string, n *atomic.Int64) string {
	return startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		named(name).ServeHTTP(w, r)
	}))
}

func splitConfig(primary, canary string, primaryWeight, canaryWeight int) string {
	return `
outbound:
  services:
  - name: app
    namespace: demo
    port: 80
    routes:
    - backends: [{name: app-primary, weight: ` + strconv.Itoa(primaryWeight) + `}, {name: app-canary, weight: ` + strconv.Itoa(canaryWeight) + `}]
backends:
- {name: app-primary, namespace: demo, endpoints: [{address: "` + primary + `"}]}
- {name: app-canary, namespace: demo, endpoints: [{address: "` + canary + `"}]}
`
}

// load sends n GET requests to app through the outbound port from workers
// goroutines and returns how many did not answer 200.
func load(t *testing.T, proxyAddr string, n, workers int) int64 {
	t.Helper()
	c := client()
	var failed atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				req, _ := http.NewRequest(http.MethodGet, "http://"+proxyAddr+"/", nil)
				req.Host = "app"
				resp, err := c.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				drain(resp)
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return failed.Load()
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

func TestOutbound_SplitsTrafficByWeight(t *testing.T) {
	var primaryHits, canaryHits atomic.Int64
	primary := countingBackend(t, "primary", &primaryHits)
	canary := countingBackend(t, "canary", &canaryHits)
	p := startProxy(t, splitConfig(primary, canary, 90, 10))

	const n = 10_000
	if failed := load(t, p.outbound, n, 16); failed != 0 {
		t.Fatalf("%d of %d requests failed", failed, n)
	}
	share := float64(canaryHits.Load()) / n * 100
	t.Logf("canary got %.2f%% of %d requests", share, n)
	if share < 8 || share > 12 {
		t.Errorf("canary share = %.2f%%, want 10%% +/- 2 points", share)
	}
	if primaryHits.Load()+canaryHits.Load() != n {
		t.Errorf("backends answered %d requests, want %d", primaryHits.Load()+canaryHits.Load(), n)
	}
	// The metrics agree with what the backends saw.
	c := p.metrics.Registry()
	if got, err := testutil.GatherAndCount(c, "sluice_requests_total"); err != nil || got != 2 {
		t.Errorf("series = %d (%v), want one per backend", got, err)
	}
}

func TestOutbound_WeightChangeTakesEffectOnTheNextRequest(t *testing.T) {
	var primaryHits, canaryHits atomic.Int64
	primary := countingBackend(t, "primary", &primaryHits)
	canary := countingBackend(t, "canary", &canaryHits)
	p := startProxy(t, splitConfig(primary, canary, 100, 0))
	c := client()
	for range 20 {
		get(t, c, p.outbound, "app", "/", nil)
	}
	p.apply(t, splitConfig(primary, canary, 0, 100)) // promote
	for range 20 {
		if _, body := get(t, c, p.outbound, "app", "/", nil); body != "canary" {
			t.Fatalf("after the swap a request went to %s", body)
		}
	}
	if primaryHits.Load() != 20 || canaryHits.Load() != 20 {
		t.Errorf("primary %d canary %d, want 20 and 20", primaryHits.Load(), canaryHits.Load())
	}
}
