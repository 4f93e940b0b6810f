package listener

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestOutbound_ForwardsByHostWithForwardingHeaders(t *testing.T) {
	var seen atomic.Pointer[http.Request]
	backend := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r)
		w.Header().Set("X-Backend", "app")
		_, _ = io.WriteString(w, "hello")
	}))
	p := startProxy(t, oneService("", backend))
	c := client()

	for _, host := range []string{"app.demo.svc.cluster.local:80", "app:80", "app", "app.demo"} {
		resp, body := get(t, c, p.outbound, host, "/greet?x=1", http.Header{"X-Forwarded-For": {"203.0.113.9"}})
		if resp.StatusCode != 200 || body != "hello" || resp.Header.Get("X-Backend") != "app" {
			t.Fatalf("Host %s: %d %q, want 200 hello from the backend", host, resp.StatusCode, body)
		}
		r := seen.Load()
		if r.Host != host || r.URL.RequestURI() != "/greet?x=1" {
			t.Errorf("backend saw Host %q URI %q, want %q /greet?x=1", r.Host, r.URL.RequestURI(), host)
		}
		if got := r.Header.Get("X-Forwarded-For"); got != "203.0.113.9, 127.0.0.1" {
			t.Errorf("X-Forwarded-For = %q, want the client's chain plus the proxy's peer", got)
		}
		if id := r.Header.Get("X-Request-Id"); len(id) != 36 || id[14] != '4' {
			t.Errorf("X-Request-Id = %q, want a generated UUIDv4", id)
		}
	}
	_, _ = get(t, c, p.outbound, "app", "/", http.Header{"X-Request-Id": {"keep-me"}})
	if got := seen.Load().Header.Get("X-Request-Id"); got != "keep-me" {
		t.Errorf("X-Request-Id = %q, want the client's id kept", got)
	}
}

func TestOutbound_AnswersErrorsAProxyMust(t *testing.T) {
	dead := freeAddr(t) // nothing listens here
	p := startProxy(t, `
outbound:
  services:
  - {name: app, namespace: demo, port: 80}
  - {name: empty, namespace: demo, port: 80}
  - name: picky
    namespace: demo
    port: 80
    routes: [{matches: [{path: {value: /only}}], backends: [{name: app}]}]
backends:
- {name: app, namespace: demo, endpoints: [{address: "`+dead+`"}]}
- {name: empty, namespace: demo}
`)
	c := client()
	cases := []struct {
		host, path string
		status     int
		reason     string
	}{
		{"nobody:80", "/", 404, "unknown authority"},
		{"picky", "/elsewhere", 404, "no route"},
		{"empty", "/", 503, "no available endpoint"},
		{"app", "/", 502, "upstream connection failed"},
	}
	for _, tc := range cases {
		resp, _ := get(t, c, p.outbound, tc.host, tc.path, nil)
		if resp.StatusCode != tc.status || resp.Header.Get("Sluice-Proxy-Error") != tc.reason {
			t.Errorf("%s%s: %d %q, want %d %q", tc.host, tc.path, resp.StatusCode, resp.Header.Get("Sluice-Proxy-Error"), tc.status, tc.reason)
		}
	}
}

func TestOutbound_RouteTimeoutAnswers504(t *testing.T) {
	slow := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	p := startProxy(t, `
outbound:
  services:
  - {name: app, namespace: demo, port: 80, timeout: 100ms}
backends:
- {name: app, namespace: demo, endpoints: [{address: "`+slow+`"}]}
`)
	began := time.Now()
	resp, _ := get(t, client(), p.outbound, "app", "/", nil)
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("status = %d, want 504", resp.StatusCode)
	}
	if took := time.Since(began); took > time.Second {
		t.Errorf("answered after %v, want about the 100ms timeout", took)
	}
}

func TestOutbound_ReusesUpstreamConnections(t *testing.T) {
	var conns atomic.Int64
	srv := NewServer(named("app"), nil)
	srv.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	backend := serve(t, srv, nil)
	p := startProxy(t, oneService("", backend))
	c := client()
	for range 50 {
		get(t, c, p.outbound, "app", "/", nil)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("50 sequential requests opened %d upstream connections, want 1 kept alive", n)
	}
}

func TestOutbound_StreamsChunkedBodiesAndTrailers(t *testing.T) {
	backend := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		w.Header().Set("Trailer", "X-Checksum")
		for i := range 3 {
			fmt.Fprintf(w, "chunk%d-", i)
			w.(http.Flusher).Flush()
		}
		fmt.Fprintf(w, "got %d bytes", len(got))
		w.Header().Set("X-Checksum", "abc123")
	}))
	p := startProxy(t, oneService("", backend))

	// A raw HTTP/1.1 exchange: a chunked request body, and the response
	// checked on the wire for chunking and the trailer.
	conn, err := net.Dial("tcp", p.outbound)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(conn, "POST /upload HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\nTE: trailers\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != "chunk0-chunk1-chunk2-got 11 bytes" {
		t.Errorf("body = %q", body)
	}
	if len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("response Transfer-Encoding = %v, want chunked", resp.TransferEncoding)
	}
	if got := resp.Trailer.Get("X-Checksum"); got != "abc123" {
		t.Errorf("trailer X-Checksum = %q, want abc123", got)
	}
}

func TestOutbound_RoutesByHeaderAndRecordsMetrics(t *testing.T) {
	primary := startBackend(t, named("primary"))
	canary := startBackend(t, named("canary"))
	p := startProxy(t, `
outbound:
  services:
  - name: app
    namespace: demo
    port: 80
    routes:
    - matches: [{headers: [{name: x-canary, value: "1"}]}]
      backends: [{name: app-canary}]
    - backends: [{name: app-primary}]
backends:
- {name: app-primary, namespace: demo, endpoints: [{address: "`+primary+`"}]}
- {name: app-canary, namespace: demo, endpoints: [{address: "`+canary+`"}]}
`)
	c := client()
	if _, body := get(t, c, p.outbound, "app", "/", http.Header{"X-Canary": {"1"}}); body != "canary" {
		t.Errorf("with x-canary: %q, want canary", body)
	}
	if _, body := get(t, c, p.outbound, "app", "/", nil); body != "primary" {
		t.Errorf("without x-canary: %q, want primary", body)
	}
	want := `
# HELP sluice_requests_total Requests proxied, by direction, service, backend, status code, classification and TLS.
# TYPE sluice_requests_total counter
sluice_requests_total{backend="app-canary",classification="success",direction="outbound",namespace="demo",pod="client-0",service="app",status_code="200",tls="false",workload="client"} 1
sluice_requests_total{backend="app-primary",classification="success",direction="outbound",namespace="demo",pod="client-0",service="app",status_code="200",tls="false",workload="client"} 1
`
	if err := testutil.GatherAndCompare(p.metrics.Registry(), strings.NewReader(want), "sluice_requests_total"); err != nil {
		t.Error(err)
	}
}

func TestOutbound_MirrorsBodilessRequests(t *testing.T) {
	mirrored := make(chan string, 10)
	app := startBackend(t, named("app"))
	shadow := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mirrored <- r.URL.Path
		w.WriteHeader(500) // a failing shadow must not affect the client
	}))
	p := startProxy(t, `
outbound:
  services:
  - name: app
    namespace: demo
    port: 80
    routes: [{backends: [{name: app}], mirror: {backend: {name: shadow}}}]
backends:
- {name: app, namespace: demo, endpoints: [{address: "`+app+`"}]}
- {name: shadow, namespace: demo, endpoints: [{address: "`+shadow+`"}]}
`)
	resp, body := get(t, client(), p.outbound, "app", "/copy-me", nil)
	if resp.StatusCode != 200 || body != "app" {
		t.Fatalf("client got %d %q, want 200 app", resp.StatusCode, body)
	}
	select {
	case path := <-mirrored:
		if path != "/copy-me" {
			t.Errorf("shadow got %s, want /copy-me", path)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the shadow backend got no copy")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestOutbound_ClientCancellationIsNotABackendFailure(t *testing.T) {
	arrived := make(chan struct{})
	backend := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	}))
	p := startProxy(t, oneService("", backend))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.outbound+"/", nil)
	req.Host = "app"
	go func() {
		<-arrived
		cancel()
	}()
	if _, err := client().Do(req); err == nil {
		t.Fatal("the cancelled request succeeded")
	}
	want := `
# HELP sluice_requests_total Requests proxied, by direction, service, backend, status code, classification and TLS.
# TYPE sluice_requests_total counter
sluice_requests_total{backend="app",classification="success",direction="outbound",namespace="demo",pod="client-0",service="app",status_code="499",tls="false",workload="client"} 1
`
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := testutil.GatherAndCompare(p.metrics.Registry(), strings.NewReader(want), "sluice_requests_total")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOutbound_WorksAsTheApplicationsHTTPProxy(t *testing.T) {
	backend := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "app via "+r.Host)
	}))
	p := startProxy(t, oneService("", backend))
	// An application with HTTP_PROXY pointing at the outbound port sends
	// absolute-form requests: GET http://app.demo.svc.cluster.local/ HTTP/1.1.
	proxyURL, _ := url.Parse("http://" + p.outbound)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	resp, err := c.Get("http://app.demo.svc.cluster.local/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "app via app.demo.svc.cluster.local" {
		t.Errorf("got %d %q, want 200 from app", resp.StatusCode, body)
	}
}

func TestOutbound_FullEndpointsFailFastWith503(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	backend := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	t.Cleanup(func() { close(release) })
	p := startProxy(t, `
outbound:
  services: [{name: app, namespace: demo, port: 80}]
backends:
- name: app
  namespace: demo
  circuitBreaker: {maxRequests: 1}
  endpoints: [{address: "`+backend+`"}]
`)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "http://"+p.outbound+"/", nil)
		req.Host = "app"
		if resp, err := client().Do(req); err == nil {
			drain(resp)
		}
	}()
	<-arrived // the only slot is taken
	resp, _ := get(t, client(), p.outbound, "app", "/", nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second concurrent request: %d, want 503 while the endpoint is full", resp.StatusCode)
	}
}
