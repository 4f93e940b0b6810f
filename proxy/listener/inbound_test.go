package listener

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestInbound_ForwardsToTheApplicationAndMeasuresIt(t *testing.T) {
	app := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("app:" + r.Host))
	}))
	p := startProxy(t, `
inbound: {target: "`+app+`", service: app}
`)
	c := client()
	resp, body := get(t, c, p.inbound, "app.demo.svc.cluster.local:80", "/", nil)
	if resp.StatusCode != 200 || body != "app:app.demo.svc.cluster.local:80" {
		t.Errorf("inbound answered %d %q, want 200 from the app with the Host kept", resp.StatusCode, body)
	}
	get(t, c, p.inbound, "app", "/fail", nil)
	want := `
# HELP sluice_requests_total Requests proxied, by direction, service, backend, status code, classification and TLS.
# TYPE sluice_requests_total counter
sluice_requests_total{backend="",classification="failure",direction="inbound",namespace="demo",pod="client-0",service="app",status_code="500",tls="false",workload="client"} 1
sluice_requests_total{backend="",classification="success",direction="inbound",namespace="demo",pod="client-0",service="app",status_code="200",tls="false",workload="client"} 1
`
	if err := testutil.GatherAndCompare(p.metrics.Registry(), strings.NewReader(want), "sluice_requests_total"); err != nil {
		t.Error(err)
	}
}

func TestInbound_WithoutTargetAnswers503(t *testing.T) {
	p := startProxy(t, `version: "1"`)
	resp, _ := get(t, client(), p.inbound, "app", "/", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Sluice-Proxy-Error") != "no application target" {
		t.Errorf("status %d %q, want 503 no application target", resp.StatusCode, resp.Header.Get("Sluice-Proxy-Error"))
	}
}
