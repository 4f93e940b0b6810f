package admin

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicemesh/sluice/proxy/config"
	"github.com/sluicemesh/sluice/proxy/metrics"
)

type adminFixture struct {
	url      string
	store    *config.Store
	shutdown atomic.Int32
	ready    atomic.Bool
}

func startAdmin(t *testing.T) *adminFixture {
	t.Helper()
	f := &adminFixture{store: config.NewStore()}
	rec := metrics.New(metrics.Identity{Namespace: "demo", Pod: "p", Workload: "w"})
	rec.Observe(metrics.Key{Direction: metrics.Inbound, Service: "app", StatusCode: 200}, time.Millisecond)
	h := NewHandler(Options{
		Store:    f.store,
		Gatherer: rec.Registry(),
		Ready:    f.ready.Load,
		Shutdown: func() { f.shutdown.Add(1) },
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	f.url = "http://" + ln.Addr().String()
	return f
}

func fetch(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestAdmin_LiveAndReady(t *testing.T) {
	f := startAdmin(t)
	if code, _ := fetch(t, "GET", f.url+"/live"); code != 200 {
		t.Errorf("/live = %d, want 200", code)
	}
	if code, _ := fetch(t, "GET", f.url+"/ready"); code != 503 {
		t.Errorf("/ready before ready = %d, want 503", code)
	}
	f.ready.Store(true)
	if code, _ := fetch(t, "GET", f.url+"/ready"); code != 200 {
		t.Errorf("/ready = %d, want 200", code)
	}
}

func TestAdmin_MetricsInPrometheusText(t *testing.T) {
	f := startAdmin(t)
	code, body := fetch(t, "GET", f.url+"/metrics")
	if code != 200 || !strings.Contains(body, `sluice_requests_total{backend="",classification="success",direction="inbound",namespace="demo",pod="p",service="app",status_code="200",tls="false",workload="w"} 1`) {
		t.Errorf("/metrics = %d, lacks the request counter:\n%s", code, body)
	}
	if !strings.Contains(body, `sluice_request_duration_seconds_bucket{`) || !strings.Contains(body, "go_goroutines") {
		t.Error("/metrics lacks the histogram or the Go runtime metrics")
	}
}

func TestAdmin_ConfigIsTheActiveOneWithSecretsRedacted(t *testing.T) {
	f := startAdmin(t)
	cfg, err := config.Decode([]byte(`
version: "7"
inbound: {target: "127.0.0.1:8080", service: app}
tls: {keyPEM: "-----BEGIN PRIVATE KEY----- very secret"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	code, body := fetch(t, "GET", f.url+"/config")
	if code != 200 || strings.Contains(body, "very secret") {
		t.Fatalf("/config = %d and leaks the key:\n%s", code, body)
	}
	var got config.Config
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "7" || got.Inbound.Target != "127.0.0.1:8080" || got.TLS.KeyPEM != "REDACTED" {
		t.Errorf("/config = %+v", got)
	}
}

func TestAdmin_ShutdownNeedsPOST(t *testing.T) {
	f := startAdmin(t)
	if code, _ := fetch(t, "GET", f.url+"/shutdown"); code != http.StatusMethodNotAllowed || f.shutdown.Load() != 0 {
		t.Errorf("GET /shutdown = %d and shut down %d times; want 405 and none", code, f.shutdown.Load())
	}
	if code, _ := fetch(t, "POST", f.url+"/shutdown"); code != http.StatusAccepted || f.shutdown.Load() != 1 {
		t.Errorf("POST /shutdown = %d, shutdowns %d; want 202 and 1", code, f.shutdown.Load())
	}
}
