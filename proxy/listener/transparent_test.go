package listener

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sluicemesh/sluice/proxy/config"
	"github.com/sluicemesh/sluice/proxy/metrics"
)

// These tests pretend that iptables redirected every connection of a
// listener from dst: the classification and forwarding are real, on
// loopback. cmd/proxy tests the real redirection in network namespaces.

func redirectedFrom(dst string) func(net.Conn) (netip.AddrPort, bool) {
	ap := netip.MustParseAddrPort(dst)
	return func(net.Conn) (netip.AddrPort, bool) { return ap, true }
}

// transparentProxy serves the outbound or inbound handler on a listener
// whose connections all come from dst.
func transparentProxy(t *testing.T, yaml, dst string, inbound bool) (*testProxy, string) {
	t.Helper()
	p := &testProxy{store: config.NewStore(), metrics: metrics.New(metrics.Identity{Namespace: "demo", Pod: "p-0", Workload: "p"})}
	p.apply(t, yaml)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var srv *TrafficServer
	var wrapped net.Listener
	if inbound {
		in := NewInbound(p.store, p.metrics, log)
		srv, wrapped = NewTrafficServer(in, log), newInboundListener(ln, p.store, nil, p.metrics, log, redirectedFrom(dst))
		t.Cleanup(in.CloseIdleConnections)
	} else {
		out := NewOutbound(p.store, p.metrics, log)
		srv, wrapped = NewTrafficServer(out, log), newOutboundListener(ln, p.store, nil, p.metrics, log, redirectedFrom(dst))
		t.Cleanup(out.CloseIdleConnections)
	}
	serve(t, srv, wrapped)
	return p, ln.Addr().String()
}

// echoServer answers what it read, prefixed, after the client half-closes.
func echoServer(t *testing.T, prefix string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				data, _ := io.ReadAll(c)
				_, _ = io.WriteString(c, prefix+string(data))
			}()
		}
	}()
	return ln.Addr().String()
}

// tcpExchange sends msg through addr, half-closes, and returns the answer.
func tcpExchange(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).CloseWrite()
	got, _ := io.ReadAll(c)
	return string(got)
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func TestOutboundListener_RoutesByTheServiceIPTheClientConnectedTo(t *testing.T) {
	app := startBackend(t, named("app"))
	p, addr := transparentProxy(t, `
outbound:
  services: [{name: app, namespace: demo, port: 80, clusterIPs: [198.19.0.10]}]
backends: [{name: app, namespace: demo, endpoints: [{address: "`+app+`"}]}]
`, "198.19.0.10:80", false)
	// An unchanged client's Host names the IP, or anything else.
	resp, body := get(t, client(), addr, "legacy-name.example", "/", nil)
	if resp.StatusCode != http.StatusOK || body != "app" {
		t.Fatalf("got %d %q, want 200 from app", resp.StatusCode, body)
	}
	if got := grepLines(httptestRecorder(p), "sluice_requests_total{"); !strings.Contains(got, `service="app"`) {
		t.Errorf("request not counted under service app:\n%s", got)
	}
}

func TestOutboundListener_PassesUnknownDestinationsThroughAsTCP(t *testing.T) {
	echo := echoServer(t, "echo:")
	p, addr := transparentProxy(t, oneService(""), echo, false)
	if got := tcpExchange(t, addr, "not http at all"); got != "echo:not http at all" {
		t.Fatalf("got %q", got)
	}
	// Bytes are counted when the connection closes.
	waitFor(t, func() bool { return sumOf(t, p, "sluice_tcp_read_bytes_total") == float64(len("not http at all")) })
}

func TestOutboundListener_SendsAnOpaqueServiceToItsEndpoint(t *testing.T) {
	echo := echoServer(t, "db:")
	_, addr := transparentProxy(t, `
outbound:
  services: [{name: db, namespace: demo, port: 5432, clusterIPs: [198.19.0.20], protocol: opaque}]
backends: [{name: db, namespace: demo, endpoints: [{address: "`+echo+`", protocol: opaque}]}]
`, "198.19.0.20:5432", false)
	if got := tcpExchange(t, addr, "\x00\x00\x00\x08startup"); got != "db:\x00\x00\x00\x08startup" {
		t.Fatalf("got %q", got)
	}
}

func TestInboundListener_ForwardsToTheApplicationOnTheOriginalPort(t *testing.T) {
	app := startBackend(t, named("app on its own port"))
	// No target: explicit mode would answer 503.
	_, addr := transparentProxy(t, "inbound: {service: app}\n", "198.18.0.5:"+portOf(t, app), true)
	resp, body := get(t, client(), addr, "app", "/", nil)
	if resp.StatusCode != http.StatusOK || body != "app on its own port" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}

func TestInboundListener_PassesOpaquePortsThroughAndAuthorizesThem(t *testing.T) {
	echo := echoServer(t, "app:")
	port := portOf(t, echo)
	_, addr := transparentProxy(t, "inbound: {ports: [{port: "+port+", protocol: opaque}]}\n", "198.18.0.5:"+port, true)
	if got := tcpExchange(t, addr, "hello"); got != "app:hello" {
		t.Fatalf("got %q", got)
	}
	// A policy that only allows GETs cannot allow a TCP stream.
	_, denied := transparentProxy(t, `
inbound:
  ports: [{port: `+port+`, protocol: opaque}]
  authorization: {rules: [{methods: [GET]}]}
`, "198.18.0.5:"+port, true)
	if got := tcpExchange(t, denied, "hello"); got != "" {
		t.Fatalf("a denied connection reached the application: %q", got)
	}
}

func TestInboundListener_StrictRefusesPlaintextOnOpaquePorts(t *testing.T) {
	echo := echoServer(t, "app:")
	port := portOf(t, echo)
	_, addr := transparentProxy(t, "inbound: {mtls: STRICT, ports: [{port: "+port+", protocol: opaque}]}\n", "198.18.0.5:"+port, true)
	if got := tcpExchange(t, addr, "hello"); got != "" {
		t.Fatalf("STRICT passed plaintext through: %q", got)
	}
}

func TestInboundListener_OpaquePortsServeProtocolsWhereTheServerSpeaksFirst(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "220 greeting\r\n")
	}()
	port := portOf(t, ln.Addr().String())
	_, addr := transparentProxy(t, "inbound: {ports: [{port: "+port+", protocol: opaque}]}\n", "198.18.0.5:"+port, true)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	// The client says nothing until the server greets it.
	got, err := io.ReadAll(c)
	if string(got) != "220 greeting\r\n" {
		t.Fatalf("got %q, %v; want the server's greeting", got, err)
	}
}

// openTunnel opens an opaque connection through addr to an echo server and
// sends it a first message.
func openTunnel(t *testing.T, addr string) net.Conn {
	t.Helper()
	c := dialRaw(t, addr)
	if _, err := io.WriteString(c, "ping"); err != nil {
		t.Fatal(err)
	}
	return c
}

// An opaque connection in flight lives through the drain until it ends on
// its own; one that outlives the grace period is cut.
func TestOutboundListener_DrainWaitsForOpaqueConnectionsThenCutsThem(t *testing.T) {
	echo := echoServer(t, "echo:")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &testProxy{store: config.NewStore()}
	p.apply(t, oneService(""))
	l := newOutboundListener(ln, p.store, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), redirectedFrom(echo))
	finishing, stuck := openTunnel(t, ln.Addr().String()), openTunnel(t, ln.Addr().String())
	waitFor(t, func() bool { l.tunnels.mu.Lock(); defer l.tunnels.mu.Unlock(); return len(l.tunnels.open) == 2 })
	_ = l.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	cut := make(chan int, 1)
	go func() { cut <- l.DrainTunnels(ctx) }()
	// During the drain, the finishing connection still gets its answer.
	_ = finishing.(*net.TCPConn).CloseWrite()
	if got, _ := io.ReadAll(finishing); string(got) != "echo:ping" {
		t.Fatalf("a tunnel in flight during the drain answered %q, want echo:ping", got)
	}
	select {
	case n := <-cut:
		t.Fatalf("the drain ended (%d cut) while a tunnel was still open", n)
	case <-time.After(200 * time.Millisecond):
	}
	if n := <-cut; n != 1 {
		t.Errorf("cut %d tunnels at the end of the grace period, want 1", n)
	}
	if _, err := io.ReadAll(stuck); err != nil {
		t.Errorf("the cut tunnel: %v, want a clean end of stream", err)
	}
}
