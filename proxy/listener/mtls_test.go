package listener

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	meshtls "github.com/sluicemesh/sluice/proxy/tls"
	"github.com/sluicemesh/sluice/proxy/tls/tlstest"
)

const (
	clientID = "spiffe://cluster.local/ns/demo/sa/client"
	appID    = "spiffe://cluster.local/ns/demo/sa/app"
)

// mesh is a CA and the certificate files of proxies it issued.
type mesh struct {
	ca  *tlstest.CA
	dir string
}

func newMesh(t testing.TB) *mesh { return &mesh{ca: tlstest.NewCA(t, "mesh"), dir: t.TempDir()} }

// source issues a certificate for identity, writes it under name and loads
// it, with the proxy's expiry metric as OnLoad when rec is set.
func (m *mesh) source(t testing.TB, name, identity string, onLoad func(*meshtls.Material)) (*meshtls.Source, meshtls.Files) {
	t.Helper()
	files := tlstest.WriteFiles(t, filepath.Join(m.dir, name), m.ca.Issue(t, identity, time.Now().Add(24*time.Hour)), m.ca)
	src, err := meshtls.NewSource(files, onLoad, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return src, files
}

// meshPair starts a server proxy for the application app (identity appID,
// inbound mode) and a client proxy (identity clientID) whose Service app has
// one endpoint: the server proxy's inbound port, expected to be endpointID.
func meshPair(t *testing.T, m *mesh, app, mode, endpointID string) (client, server *testProxy, serverFiles meshtls.Files) {
	t.Helper()
	var serverSrc *meshtls.Source
	var srv *testProxy
	serverSrc, serverFiles = m.source(t, "server", appID, func(mat *meshtls.Material) {
		if srv != nil {
			srv.metrics.CertificateExpiry(mat.NotAfter())
		}
	})
	srv = startProxy(t, "inbound: {target: \""+app+"\", service: app, mtls: "+mode+"}\n", withIdentity(serverSrc))
	clientSrc, _ := m.source(t, "client", clientID, nil)
	cfg := strings.Replace(oneService("", srv.inbound), "{address: \""+srv.inbound+"\"}",
		"{address: \""+srv.inbound+"\", identity: \""+endpointID+"\"}", 1)
	return startProxy(t, cfg, withIdentity(clientSrc)), srv, serverFiles
}

func TestMTLS_ClientProxyToServerProxyOverHTTP2WithTLSMetrics(t *testing.T) {
	var served atomic.Int64
	// Slow enough that the ten requests overlap: over HTTP/1.1 they would
	// need ten connections between the proxies.
	app := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
		served.Add(1)
	}))
	clientProxy, server, _ := meshPair(t, newMesh(t), app, "STRICT", appID)
	c := client()
	// A first request sets the connection up; Go dials once per waiting
	// request until the first handshake has told it the protocol.
	if resp, _ := get(t, c, clientProxy.outbound, "app", "/", nil); resp.StatusCode != 200 {
		t.Fatalf("status %d through the mTLS pair, want 200", resp.StatusCode)
	}
	errs := make(chan error, 10)
	for range 10 {
		go func() {
			req, _ := http.NewRequest(http.MethodGet, "http://"+clientProxy.outbound+"/", nil)
			req.Host = "app"
			resp, err := c.Do(req)
			if err == nil {
				drain(resp)
				if resp.StatusCode != 200 {
					err = fmt.Errorf("status %d through the mTLS pair, want 200", resp.StatusCode)
				}
			}
			errs <- err
		}()
	}
	for range 10 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if served.Load() != 11 {
		t.Errorf("application served %d, want 11", served.Load())
	}
	wantSeries(t, clientProxy, `sluice_requests_total{backend="app",classification="success",direction="outbound",namespace="demo",pod="client-0",service="app",status_code="200",tls="true",workload="client"} 11`)
	wantSeries(t, server, `sluice_requests_total{backend="",classification="success",direction="inbound",namespace="demo",pod="client-0",service="app",status_code="200",tls="true",workload="client"} 11`)
	// HTTP/2 multiplexes the overlapping requests over one connection.
	if got := sumOf(t, server, "sluice_tcp_connections_opened_total"); got != 1 {
		t.Errorf("server proxy accepted %v connections, want 1 (HTTP/2 between proxies)", got)
	}
}

func TestMTLS_StrictRefusesPlaintext(t *testing.T) {
	var served atomic.Int64
	_, server, _ := meshPair(t, newMesh(t), startBackend(t, answering(200, &served)), "STRICT", appID)
	req, _ := http.NewRequest(http.MethodGet, "http://"+server.inbound+"/", nil)
	resp, err := client().Do(req)
	if err == nil {
		drain(resp)
		t.Fatalf("plaintext request to a STRICT inbound answered %d, want the connection refused", resp.StatusCode)
	}
	if served.Load() != 0 {
		t.Error("the application was reached in plaintext")
	}
}

func TestMTLS_PermissiveAcceptsPlaintextAndTLSOnOnePort(t *testing.T) {
	var served atomic.Int64
	clientProxy, server, _ := meshPair(t, newMesh(t), startBackend(t, answering(200, &served)), "PERMISSIVE", appID)
	if resp, _ := get(t, client2(), clientProxy.outbound, "app", "/", nil); resp.StatusCode != 200 {
		t.Errorf("mTLS request: status %d, want 200", resp.StatusCode)
	}
	if resp, _ := get(t, client(), server.inbound, "app", "/", nil); resp.StatusCode != 200 {
		t.Errorf("plaintext request: status %d, want 200", resp.StatusCode)
	}
	wantSeries(t, server, `sluice_requests_total{backend="",classification="success",direction="inbound",namespace="demo",pod="client-0",service="app",status_code="200",tls="false",workload="client"} 1`)
}

func TestMTLS_ClientRefusesAWrongServerIdentity(t *testing.T) {
	var served atomic.Int64
	client, _, _ := meshPair(t, newMesh(t), startBackend(t, answering(200, &served)), "STRICT", "spiffe://cluster.local/ns/demo/sa/someone-else")
	if resp, _ := get(t, client2(), client.outbound, "app", "/", nil); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d, want 502: the server proxy is not the identity the endpoint names", resp.StatusCode)
	}
	if served.Load() != 0 {
		t.Error("the request reached an application whose identity was wrong")
	}
}

func TestMTLS_CertificateReloadKeepsOpenConnections(t *testing.T) {
	var served atomic.Int64
	m := newMesh(t)
	client, server, serverFiles := meshPair(t, m, startBackend(t, answering(200, &served)), "STRICT", appID)
	ctx := t.Context()
	go server.identity.Watch(ctx, 20*time.Millisecond)
	c := client2()
	if resp, _ := get(t, c, client.outbound, "app", "/", nil); resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	oldSerial := serverCertSerial(t, m, server)

	renewed := m.ca.Issue(t, appID, time.Now().Add(48*time.Hour))
	tlstest.WriteFiles(t, filepath.Dir(serverFiles.Cert), renewed, m.ca)
	waitFor(t, func() bool { return serverCertSerial(t, m, server) == renewed.Cert.SerialNumber.String() })
	if oldSerial == renewed.Cert.SerialNumber.String() {
		t.Fatal("the renewed certificate has the old serial; the test proves nothing")
	}

	// The client proxy's connection from before the reload carries on.
	if resp, _ := get(t, c, client.outbound, "app", "/", nil); resp.StatusCode != 200 {
		t.Fatalf("after reload: status %d, want 200", resp.StatusCode)
	}
	// Probes opened and closed connections; the client proxy's one stayed
	// open through the reload.
	waitFor(t, func() bool {
		return sumOf(t, server, "sluice_tcp_connections_opened_total")-sumOf(t, server, "sluice_tcp_connections_closed_total") == 1
	})
	if got := sumOf(t, server, "sluice_tls_certificate_expiry_timestamp_seconds"); got != float64(renewed.Cert.NotAfter.Unix()) {
		t.Errorf("certificate expiry gauge %v, want the renewed certificate's %d", got, renewed.Cert.NotAfter.Unix())
	}
}

// serverCertSerial dials the server proxy's inbound port with a fresh mTLS
// handshake and returns the serial of the certificate it presents.
func serverCertSerial(t *testing.T, m *mesh, server *testProxy) string {
	t.Helper()
	probe, _ := m.source(t, "probe", clientID, nil)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", server.inbound, probe.ClientConfig(appID))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// client2 is a client with one keep-alive connection, so requests reuse it.
func client2() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1, DisableCompression: true}}
}

func wantSeries(t *testing.T, p *testProxy, series string) {
	t.Helper()
	rec := httptestRecorder(p)
	if !strings.Contains(rec, series) {
		t.Errorf("metrics lack\n  %s\ngot:\n%s", series, grepLines(rec, strings.SplitN(series, "{", 2)[0]))
	}
}

func TestMTLS_CarriesAWebSocketBetweenProxies(t *testing.T) {
	app := startBackend(t, websocket.Handler(func(ws *websocket.Conn) {
		_, _ = io.Copy(ws, ws) // echo
	}))
	clientProxy, _, _ := meshPair(t, newMesh(t), app, "STRICT", appID)
	cfg, err := websocket.NewConfig("ws://app/echo", "http://app/")
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Dial("tcp", clientProxy.outbound)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tcp.Close() })
	_ = tcp.SetDeadline(time.Now().Add(5 * time.Second))
	ws, err := websocket.NewClient(cfg, tcp)
	if err != nil {
		t.Fatalf("WebSocket handshake through the mTLS pair: %v", err)
	}
	if err := websocket.Message.Send(ws, "over mTLS"); err != nil {
		t.Fatal(err)
	}
	var echo string
	if err := websocket.Message.Receive(ws, &echo); err != nil || echo != "over mTLS" {
		t.Errorf("echo = %q, %v; want the message back", echo, err)
	}
}

func TestMTLS_CarriesGRPCStatusBetweenProxies(t *testing.T) {
	gs := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("sluice.Demo", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)

	m := newMesh(t)
	serverSrc, _ := m.source(t, "server", appID, nil)
	server := startProxy(t, "inbound: {target: \""+ln.Addr().String()+"\", service: health, protocol: grpc, mtls: STRICT}\n", withIdentity(serverSrc))
	clientSrc, _ := m.source(t, "client", clientID, nil)
	clientProxy := startProxy(t, `
outbound:
  services: [{name: health, namespace: demo, port: 50051}]
backends:
- {name: health, namespace: demo, endpoints: [{address: "`+server.inbound+`", identity: "`+appID+`", protocol: grpc}]}
`, withIdentity(clientSrc))

	conn, err := grpc.NewClient("passthrough:///"+clientProxy.outbound,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithAuthority("health.demo.svc.cluster.local:50051"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hc := healthpb.NewHealthClient(conn)
	if resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "sluice.Demo"}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check(sluice.Demo) = %v, %v; want SERVING", resp, err)
	}
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "unknown"}); status.Code(err) != codes.NotFound {
		t.Errorf("Check(unknown) error = %v, want NotFound carried in grpc-status across mTLS", err)
	}
}
