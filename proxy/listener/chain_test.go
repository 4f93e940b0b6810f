package listener

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestChain_GRPCThroughClientAndServerProxies runs the mesh path without
// mTLS: client -> client proxy (outbound) -> server proxy (inbound) -> gRPC
// server, proxy to proxy over h2c, and checks both sides' metrics.
func TestChain_GRPCThroughClientAndServerProxies(t *testing.T) {
	gs := grpc.NewServer()
	healthpb.RegisterHealthServer(gs, health.NewServer()) // "" is SERVING
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)

	server := startProxy(t, `inbound: {target: "`+ln.Addr().String()+`", service: greeter, protocol: grpc}`)
	clientProxy := startProxy(t, `
outbound:
  services: [{name: greeter, namespace: demo, port: 9090}]
backends:
- {name: greeter, namespace: demo, endpoints: [{address: "`+server.inbound+`", protocol: h2}]}
`)
	conn, err := grpc.NewClient("passthrough:///"+clientProxy.outbound,
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority("greeter:9090"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 3 {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("Check through two proxies = %v, %v", resp, err)
		}
	}
	if err := testutil.GatherAndCompare(clientProxy.metrics.Registry(), strings.NewReader(`
# HELP sluice_requests_total Requests proxied, by direction, service, backend, status code, classification and TLS.
# TYPE sluice_requests_total counter
sluice_requests_total{backend="greeter",classification="success",direction="outbound",namespace="demo",pod="client-0",service="greeter",status_code="200",tls="false",workload="client"} 3
`), "sluice_requests_total"); err != nil {
		t.Errorf("client proxy: %v", err)
	}
	if err := testutil.GatherAndCompare(server.metrics.Registry(), strings.NewReader(`
# HELP sluice_requests_total Requests proxied, by direction, service, backend, status code, classification and TLS.
# TYPE sluice_requests_total counter
sluice_requests_total{backend="",classification="success",direction="inbound",namespace="demo",pod="client-0",service="greeter",status_code="200",tls="false",workload="client"} 3
`), "sluice_requests_total"); err != nil {
		t.Errorf("server proxy: %v", err)
	}
}
