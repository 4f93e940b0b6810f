package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicemesh/sluice/proxy/tls/tlstest"
)

// The transparent-mode scene: two pods, each a network namespace the test
// creates, joined by a veth pair and nothing else, so no packet can leave
// them. Pod IPs sit in 198.18.0.0/15 (ARCHITECTURE.md); the client pod
// routes the Service range 198.19.0.0/16 to the veth, where no packet gets
// because its proxy's rules redirect it first.
const (
	clientPodIP  = "198.18.0.4"
	serverPodIP  = "198.18.0.5"
	clientPodIP6 = "fd00:5c::4" // dual stack: the pods have IPv6 addresses too
	serverPodIP6 = "fd00:5c::5"
	appClusterIP = "198.19.0.10" // Service app, port 80 -> server pod :8080 (HTTP)
	dbClusterIP  = "198.19.0.20" // Service db, port 9000 -> server pod :9000 (opaque)
	unknownPort  = "9002"        // an echo port the client's proxy knows nothing of
	proxyUID     = 1337
	clientID     = "spiffe://cluster.local/ns/demo/sa/client"
	serverID     = "spiffe://cluster.local/ns/demo/sa/app"
	helperEnv    = "SLUICE_NETNS_HELPER"
	requestsEach = 5
)

// TestProxy_TransparentModeCarriesAnUnchangedClientToAnUnchangedServer runs
// `proxy init` in both pods, then a client that knows nothing of the mesh
// talks HTTP to a Service IP and to a pod IP, and raw TCP to an opaque
// Service and to an unknown port. The application sees the caller's
// identity (so both proxies and mTLS were on the path) and both proxies'
// metrics count the traffic.
func TestProxy_TransparentModeCarriesAnUnchangedClientToAnUnchangedServer(t *testing.T) {
	requireNetns(t)
	bin, err := buildProxy()
	if err != nil {
		t.Fatal(err)
	}
	dir := sharedDir(t)
	proxyBin := filepath.Join(dir, "proxy")
	copyFile(t, bin, proxyBin)

	client, server := newPodNetns(t, "c", clientPodIP, clientPodIP6), newPodNetns(t, "s", serverPodIP, serverPodIP6)
	link := fmt.Sprintf("sl%dc", os.Getpid()%100000)
	peer := fmt.Sprintf("sl%ds", os.Getpid()%100000)
	mustRun(t, "ip", "link", "add", link, "netns", client.name, "type", "veth", "peer", "name", peer, "netns", server.name)
	client.up(t, link)
	server.up(t, peer)
	mustRun(t, "ip", "-n", client.name, "route", "add", "198.19.0.0/16", "dev", link)

	ca := tlstest.NewCA(t, "mesh")
	tlsArgs := func(name, id string) []string {
		f := tlstest.WriteFiles(t, filepath.Join(dir, name), ca.Issue(t, id, time.Now().Add(24*time.Hour)), ca)
		mustRun(t, "chown", "-R", strconv.Itoa(proxyUID), filepath.Join(dir, name))
		return []string{"--tls-cert", f.Cert, "--tls-key", f.Key, "--tls-trust-bundle", f.TrustBundle}
	}

	// The server pod: the application, its proxy, its rules.
	server.start(t, "app", []string{os.Args[0], "-test.run=^TestNetnsHelper$"}, helperEnv+"=server")
	server.start(t, "proxy", append(asProxyUser(proxyBin,
		"--config", writeShared(t, dir, "server.yaml", `
inbound:
  service: app
  mtls: PERMISSIVE
  ports: [{port: 9000, protocol: opaque}, {port: `+unknownPort+`, protocol: opaque}]
`), "--inbound-addr", "[::]:14143", "--admin-addr", "0.0.0.0:14191"), tlsArgs("server", serverID)...))
	for range 2 { // twice: the rules must not pile up
		server.run(t, proxyBin, "init", "--proxy-uid", strconv.Itoa(proxyUID), "--ipv6")
	}

	// The client pod: its proxy and rules; the client comes last.
	client.start(t, "proxy", append(asProxyUser(proxyBin,
		"--config", writeShared(t, dir, "client.yaml", `
outbound:
  namespace: demo
  services:
  - {name: app, namespace: demo, port: 80, clusterIPs: [`+appClusterIP+`]}
  - {name: db, namespace: demo, port: 9000, clusterIPs: [`+dbClusterIP+`], protocol: opaque}
backends:
- {name: app, namespace: demo, endpoints: [{address: "`+serverPodIP+`:8080", identity: "`+serverID+`"}, {address: "[`+serverPodIP6+`]:8080", identity: "`+serverID+`"}]}
- {name: db, namespace: demo, endpoints: [{address: "`+serverPodIP+`:9000", identity: "`+serverID+`", protocol: opaque}]}
`), "--admin-addr", "127.0.0.1:14191", "--outbound-addr", "127.0.0.1:14140,[::1]:14140"), tlsArgs("client", clientID)...))
	for range 2 {
		client.run(t, proxyBin, "init", "--proxy-uid", strconv.Itoa(proxyUID), "--ipv6")
	}
	if jumps := strings.Count(client.run(t, "iptables", "-t", "nat", "-S", "OUTPUT"), "-j SLUICE_OUTBOUND"); jumps != 1 {
		t.Errorf("OUTPUT jumps to SLUICE_OUTBOUND %d times after two inits, want 1", jumps)
	}

	run := client.command(os.Args[0], "-test.run=^TestNetnsHelper$", "-test.v")
	run.Env = append(os.Environ(), helperEnv+"=client")
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v\n%s\nclient proxy:\n%s\nserver proxy:\n%s", err, out, client.logs["proxy"], server.logs["proxy"])
	}
	t.Logf("client:\n%s", out)

	fetch := []string{helperEnv + "=fetch", "FETCH_URL=http://127.0.0.1:14191/metrics"}
	clientMetrics := client.runEnv(t, fetch, os.Args[0], "-test.run=^TestNetnsHelper$")
	serverMetrics := server.runEnv(t, fetch, os.Args[0], "-test.run=^TestNetnsHelper$")
	for _, c := range []struct {
		what    string
		metrics string
		name    string
		labels  []string
		atLeast float64
	}{
		{"client HTTP requests over mTLS", clientMetrics, "sluice_requests_total", []string{`direction="outbound"`, `service="app"`, `backend="app"`, `status_code="200"`, `tls="true"`}, 3*requestsEach + 1},
		{"server HTTP requests over mTLS", serverMetrics, "sluice_requests_total", []string{`direction="inbound"`, `status_code="200"`, `tls="true"`}, 3*requestsEach + 1},
		{"client opaque bytes", clientMetrics, "sluice_tcp_read_bytes_total", []string{`direction="outbound"`}, 1},
		{"server opaque bytes over mTLS", serverMetrics, "sluice_tcp_read_bytes_total", []string{`direction="inbound"`, `tls="true"`}, 1},
		{"server plaintext passthrough bytes", serverMetrics, "sluice_tcp_read_bytes_total", []string{`direction="inbound"`, `tls="false"`}, 1},
	} {
		if got := sumMetric(c.metrics, c.name, c.labels...); got < c.atLeast {
			t.Errorf("%s: %s%v = %v, want >= %v", c.what, c.name, c.labels, got, c.atLeast)
		}
	}
}

// TestNetnsHelper is not a test: it is the application, the client or a
// metrics fetch of the transparent-mode scene, run inside a pod's network
// namespace by re-executing the test binary with SLUICE_NETNS_HELPER set.
func TestNetnsHelper(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "":
		t.Skip("helper process of TestProxy_TransparentModeCarriesAnUnchangedClientToAnUnchangedServer")
	case "server":
		serveApplication(t)
	case "client":
		runClient(t)
	case "fetch":
		body, err := httpGet(os.Getenv("FETCH_URL"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Print(body)
		os.Exit(0) // no PASS line after the body
	}
}

// serveApplication is an application that knows nothing of the mesh: HTTP
// on :8080 answering with the caller identity the proxy vouches for, and
// TCP echo servers that say which address the connection came from.
func serveApplication(t *testing.T) {
	for _, port := range []string{"9000", unknownPort} {
		ln, err := net.Listen("tcp", ":"+port)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					from, _, _ := net.SplitHostPort(c.RemoteAddr().String())
					data, _ := io.ReadAll(c)
					fmt.Fprintf(c, "%s from %s", data, from)
				}()
			}
		}()
	}
	err := http.ListenAndServe(":8080", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get("Sluice-Client-Id"))
	}))
	t.Fatal(err)
}

// runClient is a client that knows nothing of the mesh.
func runClient(t *testing.T) {
	// Both proxies ready: the server's admin port is reached through the
	// client's proxy as an unknown destination (passed through).
	deadline := time.Now().Add(20 * time.Second)
	for _, ready := range []string{"http://127.0.0.1:14191/ready", "http://" + serverPodIP + ":14191/ready"} {
		for {
			if _, err := httpGet(ready); err == nil {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("%s: %v", ready, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, url := range []string{"http://" + appClusterIP + "/", "http://" + serverPodIP + ":8080/", "http://[" + serverPodIP6 + "]:8080/"} {
		for range requestsEach {
			body, err := httpGet(url)
			if err != nil || body != clientID {
				t.Fatalf("GET %s: %q, %v; want the client's identity, as the server's proxy vouches for it", url, body, err)
			}
		}
		t.Logf("GET %s: the application saw %s", url, clientID)
	}
	// Explicit mode still works next to transparent mode: loopback is not
	// redirected, and the Host names the Service.
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:14140/", nil)
	req.Host = "app"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("explicit mode: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != clientID {
		t.Fatalf("explicit mode: %d %q, want 200 and the client's identity", resp.StatusCode, body)
	}
	for _, addr := range []string{dbClusterIP + ":9000", serverPodIP + ":" + unknownPort, "[" + serverPodIP6 + "]:" + unknownPort} {
		got, err := echo(addr, "ping")
		// The server's inbound proxy connects to the application from
		// loopback; a connection that bypassed it would come from the client
		// pod's IP.
		if want := "ping from 127.0.0.1"; err != nil || got != want {
			t.Fatalf("TCP %s: %q, %v; want %q", addr, got, err, want)
		}
		t.Logf("TCP %s: %q", addr, got)
	}
}

func httpGet(url string) (string, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("status %d: %s", resp.StatusCode, resp.Header.Get("Sluice-Proxy-Error"))
	}
	return string(body), err
}

// echo sends msg, half-closes, and reads the answer.
func echo(addr, msg string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		return "", err
	}
	_ = c.(*net.TCPConn).CloseWrite()
	b, err := io.ReadAll(c)
	return string(b), err
}

// sumMetric adds up the samples of a metric whose labels include all of
// labels.
func sumMetric(text, name string, labels ...string) float64 {
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			sum += v
		}
	}
	return sum
}
