package listener

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicemesh/sluice/proxy/breaker"
	"github.com/sluicemesh/sluice/proxy/config"
	"github.com/sluicemesh/sluice/proxy/metrics"
	meshtls "github.com/sluicemesh/sluice/proxy/tls"
)

// startBackend serves h on a free loopback port, over HTTP/1.1 and h2c, and
// returns its address.
func startBackend(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := NewServer(h, nil)
	return serve(t, srv, nil)
}

// serve runs srv (an http.Server or a TrafficServer) on ln, or on a free
// loopback port when ln is nil, until the test ends, and returns the
// address.
func serve(t testing.TB, srv interface {
	Serve(net.Listener) error
	Close() error
}, ln net.Listener) string {
	t.Helper()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// testProxy is an outbound and an inbound listener on free loopback ports,
// sharing a store and a metrics recorder.
type testProxy struct {
	store    *config.Store
	metrics  *metrics.Recorder
	identity *meshtls.Source // nil = no certificate
	outbound string
	inbound  string
}

// proxyOption changes the test proxy before its configuration is applied.
type proxyOption func(*testProxy)

// withIdentity gives the proxy a certificate for mTLS.
func withIdentity(src *meshtls.Source) proxyOption { return func(p *testProxy) { p.identity = src } }

// withClock makes circuit breakers measure ejections with c.
func withClock(c breaker.Clock) proxyOption { return func(p *testProxy) { p.store.Clock = c } }

func startProxy(t testing.TB, yaml string, opts ...proxyOption) *testProxy {
	t.Helper()
	p := &testProxy{
		store:   config.NewStore(),
		metrics: metrics.New(metrics.Identity{Namespace: "demo", Pod: "client-0", Workload: "client"}),
	}
	for _, o := range opts {
		o(p)
	}
	p.apply(t, yaml)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	out := NewOutbound(p.store, p.metrics, log, WithIdentity(p.identity))
	in := NewInbound(p.store, p.metrics, log)
	p.outbound = serve(t, NewTrafficServer(out, log), nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.inbound = serve(t, NewTrafficServer(in, log), NewInboundListener(ln, p.store, p.identity, p.metrics, log))
	t.Cleanup(out.CloseIdleConnections)
	t.Cleanup(in.CloseIdleConnections)
	return p
}

func (p *testProxy) apply(t testing.TB, yaml string) {
	t.Helper()
	cfg, err := config.Decode([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.store.Apply(cfg); err != nil {
		t.Fatal(err)
	}
}

// client is an HTTP/1.1 client with a keep-alive pool.
func client() *http.Client {
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
	}
}

// get sends GET to the proxy's outbound port with the given Host and returns
// the status and body.
func get(t testing.TB, c *http.Client, proxyAddr, host, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+proxyAddr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s via %s: %v", host, path, proxyAddr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(body)
}

// named answers with its name, for telling backends apart.
func named(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, name)
	})
}

// oneService is the configuration of one Service app.demo:80 whose route
// sends everything to backend app with the given endpoints.
func oneService(extraRoute string, endpoints ...string) string {
	var eps strings.Builder
	for _, e := range endpoints {
		eps.WriteString("    - {address: \"" + e + "\"}\n")
	}
	return `
outbound:
  services:
  - name: app
    namespace: demo
    port: 80
    routes:
    - backends: [{name: app}]
` + extraRoute + `
backends:
- name: app
  namespace: demo
  endpoints:
` + eps.String()
}
