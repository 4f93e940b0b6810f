package listener

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestAuthz_DeniesAnUnlistedIdentityWith403AndAllowsAListedOne(t *testing.T) {
	m := newMesh(t)
	app := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get(ClientIDHeader))
	}))
	serverSrc, _ := m.source(t, "server", appID, nil)
	server := startProxy(t, `
inbound:
  target: "`+app+`"
  service: app
  mtls: PERMISSIVE
  authorization:
    rules:
    - identities: ["`+clientID+`"]
`, withIdentity(serverSrc))
	// callerProxy is a client proxy with identity id whose Service app is the
	// server proxy.
	callerProxy := func(name, id string) *testProxy {
		src, _ := m.source(t, name, id, nil)
		cfg := strings.Replace(oneService("", server.inbound), "{address: \""+server.inbound+"\"}",
			"{address: \""+server.inbound+"\", identity: \""+appID+"\"}", 1)
		return startProxy(t, cfg, withIdentity(src))
	}
	listed := callerProxy("listed", clientID)
	intruder := callerProxy("intruder", "spiffe://cluster.local/ns/demo/sa/intruder")

	resp, body := get(t, client(), listed.outbound, "app", "/", nil)
	if resp.StatusCode != 200 || body != clientID {
		t.Errorf("listed caller: %d %q, want 200 and the application told its identity %s", resp.StatusCode, body, clientID)
	}
	resp, _ = get(t, client(), intruder.outbound, "app", "/", nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unlisted caller: status %d, want 403", resp.StatusCode)
	}
	// A plaintext caller claiming the listed identity in the header is
	// still nobody.
	resp, _ = get(t, client(), server.inbound, "app", "/", http.Header{ClientIDHeader: {clientID}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("plaintext caller forging %s: status %d, want 403", ClientIDHeader, resp.StatusCode)
	}
	if got := sumOf(t, server, "sluice_authz_denied_total"); got != 2 {
		t.Errorf("sluice_authz_denied_total = %v, want 2", got)
	}
	wantSeries(t, server, `sluice_requests_total{backend="",classification="success",direction="inbound",namespace="demo",pod="client-0",service="app",status_code="403",tls="true",workload="client"} 1`)
}
