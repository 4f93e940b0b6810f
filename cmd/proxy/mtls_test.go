package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicemesh/sluice/proxy/tls/tlstest"
)

// TestProxy_TwoBinariesTalkMTLSFromCertificateFiles runs a client and a
// server proxy from flags alone: the server's inbound is STRICT, the client's
// endpoint names the server's identity, and the application learns who
// called.
func TestProxy_TwoBinariesTalkMTLSFromCertificateFiles(t *testing.T) {
	const (
		appID    = "spiffe://cluster.local/ns/demo/sa/app"
		clientID = "spiffe://cluster.local/ns/demo/sa/client"
	)
	ca := tlstest.NewCA(t, "mesh")
	dir := t.TempDir()
	tlsArgs := func(name, id string) []string {
		f := tlstest.WriteFiles(t, filepath.Join(dir, name), ca.Issue(t, id, time.Now().Add(24*time.Hour)), ca)
		return []string{"--tls-cert", f.Cert, "--tls-key", f.Key, "--tls-trust-bundle", f.TrustBundle}
	}
	app := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get("Sluice-Client-Id"))
	}))
	server := startBinary(t, "inbound: {target: \""+app+"\", service: app, mtls: STRICT}\n", tlsArgs("server", appID)...)
	client := startBinary(t, `
outbound:
  services: [{name: app, namespace: demo, port: 80}]
backends:
- {name: app, namespace: demo, endpoints: [{address: "`+server.inbound+`", identity: "`+appID+`"}]}
`, tlsArgs("client", clientID)...)

	status, body, err := getVia(client.outbound, "app")
	if err != nil || status != 200 || body != clientID {
		t.Fatalf("through the pair: %d %q %v, want 200 and the caller's identity", status, body, err)
	}
	if _, _, err := getVia(server.inbound, "app"); err == nil {
		t.Error("the STRICT server answered a plaintext request")
	}
	resp, err := http.Get("http://" + server.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	var inboundTLS bool
	for line := range strings.Lines(string(metrics)) {
		inboundTLS = inboundTLS || strings.HasPrefix(line, "sluice_requests_total{") &&
			strings.Contains(line, `direction="inbound"`) && strings.Contains(line, `tls="true"`)
	}
	if !inboundTLS {
		t.Error(`server metrics lack an inbound request with tls="true"`)
	}
	if !strings.Contains(string(metrics), "sluice_tls_certificate_expiry_timestamp_seconds{") {
		t.Error("server metrics lack the certificate expiry")
	}
}
