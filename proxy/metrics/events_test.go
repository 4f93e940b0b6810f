package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRecorder_ExportsTheProxyCounters(t *testing.T) {
	r := New(Identity{Namespace: "demo", Pod: "app-0", Workload: "app"})
	r.Retry(Outbound, "app-canary")
	r.Ejection("app-canary")
	r.RateLimited(Inbound)
	r.AuthzDenied(Inbound)
	r.FaultInjected("abort")
	r.ConnectionOpened(Inbound, true)
	r.ConnectionClosed(Inbound, true, 100, 2048)
	r.CertificateExpiry(time.Unix(1_900_000_000, 0))

	want := `
# HELP sluice_endpoint_ejections_total Endpoints ejected from load balancing by the circuit breaker.
# TYPE sluice_endpoint_ejections_total counter
sluice_endpoint_ejections_total{backend="app-canary",namespace="demo",pod="app-0",workload="app"} 1
# HELP sluice_retries_total Tries sent again after a failure.
# TYPE sluice_retries_total counter
sluice_retries_total{backend="app-canary",direction="outbound",namespace="demo",pod="app-0",workload="app"} 1
# HELP sluice_tcp_write_bytes_total Bytes written to client connections of a listener, counted at close.
# TYPE sluice_tcp_write_bytes_total counter
sluice_tcp_write_bytes_total{direction="inbound",namespace="demo",pod="app-0",tls="false",workload="app"} 0
sluice_tcp_write_bytes_total{direction="inbound",namespace="demo",pod="app-0",tls="true",workload="app"} 2048
sluice_tcp_write_bytes_total{direction="outbound",namespace="demo",pod="app-0",tls="false",workload="app"} 0
sluice_tcp_write_bytes_total{direction="outbound",namespace="demo",pod="app-0",tls="true",workload="app"} 0
# HELP sluice_tls_certificate_expiry_timestamp_seconds Expiry of the proxy's own certificate, in Unix seconds; 0 without a certificate.
# TYPE sluice_tls_certificate_expiry_timestamp_seconds gauge
sluice_tls_certificate_expiry_timestamp_seconds{namespace="demo",pod="app-0",workload="app"} 1.9e+09
`
	if err := testutil.GatherAndCompare(r.Registry(), strings.NewReader(want),
		"sluice_endpoint_ejections_total", "sluice_retries_total", "sluice_tcp_write_bytes_total", "sluice_tls_certificate_expiry_timestamp_seconds"); err != nil {
		t.Error(err)
	}
	for name, wantValue := range map[string]float64{
		"sluice_rate_limited_total": 1, "sluice_authz_denied_total": 1, "sluice_fault_injected_total": 1,
		"sluice_tcp_connections_opened_total": 1, "sluice_tcp_connections_closed_total": 1, "sluice_tcp_read_bytes_total": 100,
	} {
		if got := sum(t, r, name); got != wantValue {
			t.Errorf("%s = %v, want %v", name, got, wantValue)
		}
	}
}

func TestRecorder_NilRecordsNothingAndDoesNotPanic(t *testing.T) {
	var r *Recorder
	r.Retry(Outbound, "x")
	r.Ejection("x")
	r.RateLimited(Inbound)
	r.AuthzDenied(Inbound)
	r.FaultInjected("delay")
	r.ConnectionOpened(Outbound, false)
	r.ConnectionClosed(Outbound, false, 1, 1)
	r.CertificateExpiry(time.Now())
}

func sum(t *testing.T, r *Recorder, name string) float64 {
	t.Helper()
	mfs, err := r.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}
