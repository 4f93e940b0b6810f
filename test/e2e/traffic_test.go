package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/sluicemesh/sluice/proxy/metrics"
)

// health is how the requests a canary's pods receive turn out.
type health int

const (
	// healthy: every request succeeds in 4ms.
	healthy health = iota
	// failing: half the requests answer 500.
	failing
)

// requestsPerTick are the requests each canary receives every tick; half of
// them fail when it is failing, so its success rate is exactly 50%.
const (
	requestsPerTick = 10
	tickInterval    = 100 * time.Millisecond
	requestLatency  = 4 * time.Millisecond
)

// traffic plays the inbound side of the proxies in front of the canaries'
// pods: the pods run no containers on the kwok node, so no request can reach
// them. Each canary gets a proxy metrics Recorder (proxy/metrics, what a real
// proxy exports) with the canary's namespace and workload, and the test steers
// how its requests turn out. A loopback /metrics endpoint serves the request
// metrics of all of them for Prometheus to scrape.
type traffic struct {
	// Addr is the host:port of the /metrics endpoint, on 127.0.0.1.
	Addr string

	// mu makes each tick atomic for scrapes: a scrape never sees a tick's
	// successes without its failures, so rates are exact.
	mu      sync.Mutex
	streams map[streamKey]*stream
}

type streamKey struct{ namespace, workload string }

type stream struct {
	recorder *metrics.Recorder
	health   health
}

// startTraffic serves /metrics on a free loopback port and records requests
// every tick until the test ends.
func startTraffic(t *testing.T) *traffic {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen for the metrics endpoint: %v", err)
	}
	tr := &traffic{Addr: l.Addr().String(), streams: map[streamKey]*stream{}}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(tr, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	ctx, cancel := context.WithCancel(context.Background())
	ticking := make(chan struct{})
	go func() {
		defer close(ticking)
		tick := time.NewTicker(tickInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				tr.tick()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-ticking
		_ = srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Metrics endpoint: %v", err)
		}
	})
	return tr
}

// send makes the pods of workload in namespace receive requests from now on,
// turning out as h says.
func (tr *traffic) send(namespace, workload string, h health) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	key := streamKey{namespace, workload}
	s, ok := tr.streams[key]
	if !ok {
		s = &stream{recorder: metrics.New(metrics.Identity{Namespace: namespace, Workload: workload, Pod: workload + "-canary-pod"})}
		tr.streams[key] = s
	}
	s.health = h
}

func (tr *traffic) tick() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for key, s := range tr.streams {
		for i := 0; i < requestsPerTick; i++ {
			status := http.StatusOK
			if s.health == failing && i%2 == 1 {
				status = http.StatusInternalServerError
			}
			s.recorder.Observe(metrics.Key{Direction: metrics.Inbound, Service: key.workload + "-canary", StatusCode: status}, requestLatency)
		}
	}
}

// Gather implements prometheus.Gatherer: the request metrics of every
// stream. The Recorders' Go and process collectors would collide (one set per
// Recorder), and they describe this test process, not a proxy: left out.
func (tr *traffic) Gather() ([]*dto.MetricFamily, error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	gatherers := make(prometheus.Gatherers, 0, len(tr.streams))
	for _, s := range tr.streams {
		gatherers = append(gatherers, requestMetricsOf{s.recorder.Registry()})
	}
	return gatherers.Gather()
}

// requestMetricsOf keeps only the request metrics of a Recorder's registry.
type requestMetricsOf struct{ registry prometheus.Gatherer }

func (g requestMetricsOf) Gather() ([]*dto.MetricFamily, error) {
	families, err := g.registry.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather a proxy Recorder: %w", err)
	}
	kept := families[:0]
	for _, f := range families {
		if name := f.GetName(); name == "sluice_requests_total" || name == "sluice_request_duration_seconds" {
			kept = append(kept, f)
		}
	}
	return kept, nil
}
