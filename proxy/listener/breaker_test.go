package listener

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func breakerConfig(policy string, endpoints ...string) string {
	return oneService("", endpoints...) + "  circuitBreaker: " + policy + "\n"
}

func TestBreaker_EjectsAfterConsecutive5xxAndReadmitsAfterBackoff(t *testing.T) {
	var bad, good atomic.Int64
	failing := startBackend(t, answering(500, &bad))
	healthy := startBackend(t, answering(200, &good))
	clock := newFakeClock()
	// Round robin, so the failing endpoint's share does not depend on
	// latencies.
	p := startProxy(t, breakerConfig("{consecutiveFailures: 3, baseEjectionTime: 10s, maxEjectionTime: 40s}\n  loadBalancer: RoundRobin", failing, healthy), withClock(clock))
	c := client()
	send := func(n int) {
		for range n {
			get(t, c, p.outbound, "app", "/", nil)
		}
	}
	// expectEjected sends traffic and checks whether the failing endpoint
	// still receives some.
	expectEjected := func(when string, ejected bool) {
		t.Helper()
		before := bad.Load()
		send(40)
		if got := bad.Load() - before; (got == 0) != ejected {
			t.Fatalf("%s: the failing endpoint got %d of 40 requests; ejected = %v wanted", when, got, ejected)
		}
	}

	// Until three failures in a row the endpoint keeps its share.
	for bad.Load() < 3 {
		send(1)
	}
	expectEjected("after 3 consecutive 500s", true)

	clock.Advance(10*time.Second + time.Millisecond)
	expectEjected("after the base ejection time", false) // and fails 3 times again

	clock.Advance(10*time.Second + time.Millisecond)
	expectEjected("10s into the second ejection, which lasts 2 x 10s", true)
	clock.Advance(10 * time.Second)
	expectEjected("after the doubled ejection time", false)

	want := `
# HELP sluice_endpoint_ejections_total Endpoints ejected from load balancing by the circuit breaker.
# TYPE sluice_endpoint_ejections_total counter
sluice_endpoint_ejections_total{backend="app",namespace="demo",pod="client-0",workload="client"} 3
`
	if err := testutil.GatherAndCompare(p.metrics.Registry(), strings.NewReader(want), "sluice_endpoint_ejections_total"); err != nil {
		t.Error(err)
	}
}

func TestBreaker_NeverEjectsMoreThanMaxEjectionPercent(t *testing.T) {
	var a, b atomic.Int64
	p := startProxy(t, breakerConfig("{consecutiveFailures: 1, maxEjectionPercent: 50}",
		startBackend(t, answering(500, &a)), startBackend(t, answering(500, &b))), withClock(newFakeClock()))
	c := client()
	for range 40 {
		// The backend's own 500, never the proxy's 503 for no endpoint.
		if resp, _ := get(t, c, p.outbound, "app", "/", nil); resp.StatusCode != 500 {
			t.Fatalf("status %d, want 500 from the endpoint left in rotation", resp.StatusCode)
		}
	}
	// One of two endpoints is 50%: the other must stay in rotation.
	if min(a.Load(), b.Load()) != 1 {
		t.Errorf("requests per endpoint %d and %d: want one ejected after its first failure, the other taking the rest", a.Load(), b.Load())
	}
}

func TestBreaker_PendingLimitFailsFastWith503(t *testing.T) {
	release := make(chan struct{})
	var served atomic.Int64
	slow := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		served.Add(1)
	}))
	p := startProxy(t, breakerConfig("{maxRequests: 1, maxPendingRequests: 1}", slow))
	c := client()

	statuses := make(chan int, 2)
	for range 2 { // one in flight, one pending
		go func() {
			req, _ := http.NewRequest(http.MethodGet, "http://"+p.outbound+"/", nil)
			req.Host = "app"
			resp, err := c.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			drain(resp)
			statuses <- resp.StatusCode
		}()
	}
	waitFor(t, func() bool {
		return p.store.Load().Service("app:80").Rules[0].Destinations[0].Destination.Breaker.Pending.Waiting() == 1
	})

	start := time.Now()
	resp, _ := get(t, c, p.outbound, "app", "/", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || time.Since(start) > 500*time.Millisecond {
		t.Errorf("third request: status %d after %v, want 503 at once", resp.StatusCode, time.Since(start))
	}
	close(release)
	for range 2 {
		if s := <-statuses; s != http.StatusOK {
			t.Errorf("in-flight or pending request: status %d, want 200", s)
		}
	}
	if served.Load() != 2 {
		t.Errorf("backend served %d, want 2", served.Load())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBreaker_EjectionSurvivesAConfigurationReload(t *testing.T) {
	var bad, good atomic.Int64
	failing := startBackend(t, answering(500, &bad))
	healthy := startBackend(t, answering(200, &good))
	cfg := breakerConfig("{consecutiveFailures: 2}\n  loadBalancer: RoundRobin", failing, healthy)
	p := startProxy(t, cfg, withClock(newFakeClock()))
	c := client()
	for bad.Load() < 2 {
		get(t, c, p.outbound, "app", "/", nil)
	}
	p.apply(t, "version: v2\n"+cfg)
	before := bad.Load()
	for range 20 {
		get(t, c, p.outbound, "app", "/", nil)
	}
	if bad.Load() != before {
		t.Errorf("the ejected endpoint got %d requests after a reload, want none", bad.Load()-before)
	}
}
