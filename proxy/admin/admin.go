// Package admin serves the proxy's admin port (14191): /metrics for
// Prometheus, /live and /ready for the kubelet, /config to see the active
// configuration, and /shutdown so that a Job's proxy can end with its work.
package admin

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluicemesh/sluice/proxy/config"
)

// Options wire the admin endpoints to the running proxy.
type Options struct {
	// Store holds the active configuration shown on /config.
	Store *config.Store
	// Gatherer provides /metrics.
	Gatherer prometheus.Gatherer
	// Ready reports whether the proxy should receive traffic: configured,
	// listening, and not shutting down.
	Ready func() bool
	// Shutdown starts a graceful shutdown; it must not block.
	Shutdown func()
}

// NewHandler returns the admin endpoints.
func NewHandler(o Options) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /live", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("live\n"))
	})
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) {
		if !o.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(o.Store.Load().Config.Redacted())
	})
	// POST only: a stray GET (a browser, a crawler) must not stop the proxy.
	mux.HandleFunc("POST /shutdown", func(w http.ResponseWriter, _ *http.Request) {
		o.Shutdown()
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("shutting down\n"))
	})
	return mux
}
