package listener

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func TestOutbound_CarriesH2CEndToEnd(t *testing.T) {
	backend := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Done")
		_, _ = io.WriteString(w, r.Proto)
		w.Header().Set("X-Done", "yes")
	}))
	p := startProxy(t, `
outbound:
  services: [{name: app, namespace: demo, port: 80}]
backends:
- {name: app, namespace: demo, endpoints: [{address: "`+backend+`", protocol: h2}]}
`)
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Protocols: &protocols}}
	resp, body := get(t, c, p.outbound, "app", "/", nil)
	if resp.Proto != "HTTP/2.0" {
		t.Errorf("client got %s from the proxy, want HTTP/2.0", resp.Proto)
	}
	if body != "HTTP/2.0" {
		t.Errorf("backend saw %q, want HTTP/2.0 (h2c towards an h2 endpoint)", body)
	}
	if resp.Trailer.Get("X-Done") != "yes" {
		t.Errorf("trailer X-Done = %q, want yes", resp.Trailer.Get("X-Done"))
	}
	// An HTTP/1.1 client reaches the same h2 endpoint.
	if _, body := get(t, client(), p.outbound, "app", "/", nil); body != "HTTP/2.0" {
		t.Errorf("HTTP/1.1 client: backend saw %q, want HTTP/2.0", body)
	}
}

func TestOutbound_CarriesGRPCWithItsStatus(t *testing.T) {
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

	p := startProxy(t, `
outbound:
  services: [{name: health, namespace: demo, port: 50051}]
backends:
- {name: health, namespace: demo, endpoints: [{address: "`+ln.Addr().String()+`", protocol: grpc}]}
`)
	// Explicit mode: the client dials the outbound port and names the
	// Service in :authority.
	conn, err := grpc.NewClient("passthrough:///"+p.outbound,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithAuthority("health.demo.svc.cluster.local:50051"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hc := healthpb.NewHealthClient(conn)

	resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "sluice.Demo"})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check(sluice.Demo) = %v, %v; want SERVING", resp, err)
	}
	_, err = hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "unknown"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("Check(unknown) error = %v, want NotFound carried in grpc-status", err)
	}

	// A server stream: Watch sends the current status, then each change.
	stream, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{Service: "sluice.Demo"})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := stream.Recv(); err != nil || first.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Watch first = %v, %v", first, err)
	}
	hs.SetServingStatus("sluice.Demo", healthpb.HealthCheckResponse_NOT_SERVING)
	if next, err := stream.Recv(); err != nil || next.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("Watch after change = %v, %v; want NOT_SERVING streamed through", next, err)
	}
}

func TestOutbound_UpgradesToWebSocket(t *testing.T) {
	backend := startBackend(t, websocket.Handler(func(ws *websocket.Conn) {
		_, _ = io.Copy(ws, ws) // echo
	}))
	p := startProxy(t, oneService("", backend))

	cfg, err := websocket.NewConfig("ws://app/echo", "http://app/")
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Dial("tcp", p.outbound)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tcp.Close() })
	_ = tcp.SetDeadline(time.Now().Add(5 * time.Second))
	ws, err := websocket.NewClient(cfg, tcp)
	if err != nil {
		t.Fatalf("WebSocket handshake through the proxy: %v", err)
	}
	for _, msg := range []string{"hello", "through the proxy"} {
		if err := websocket.Message.Send(ws, msg); err != nil {
			t.Fatal(err)
		}
		var echo string
		if err := websocket.Message.Receive(ws, &echo); err != nil {
			t.Fatal(err)
		}
		if echo != msg {
			t.Errorf("echo = %q, want %q", echo, msg)
		}
	}
}
