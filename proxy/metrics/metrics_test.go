package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRecorder_ExportsTheContractNamesLabelsAndBuckets(t *testing.T) {
	r := New(Identity{Namespace: "demo", Pod: "app-7d9-x2", Workload: "app", ServiceAccount: "app"})
	r.Observe(Key{Direction: Outbound, Service: "app", Backend: "app-canary", StatusCode: 200}, 3*time.Millisecond)
	r.Observe(Key{Direction: Outbound, Service: "app", Backend: "app-canary", StatusCode: 200}, 7*time.Millisecond)
	r.Observe(Key{Direction: Inbound, Service: "app", StatusCode: 503, TLS: true}, 2*time.Second)

	want := `
# HELP sluice_requests_total Requests proxied, by direction, service, backend, status code, classification and TLS.
# TYPE sluice_requests_total counter
sluice_requests_total{backend="",classification="failure",direction="inbound",namespace="demo",pod="app-7d9-x2",service="app",status_code="503",tls="true",workload="app"} 1
sluice_requests_total{backend="app-canary",classification="success",direction="outbound",namespace="demo",pod="app-7d9-x2",service="app",status_code="200",tls="false",workload="app"} 2
`
	if err := testutil.GatherAndCompare(r.Registry(), strings.NewReader(want), "sluice_requests_total"); err != nil {
		t.Error(err)
	}
	mfs, err := r.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "sluice_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			var got []float64
			for _, b := range h.GetBucket() {
				got = append(got, b.GetUpperBound())
			}
			if len(got) != len(DurationBuckets) {
				t.Fatalf("buckets = %v, want %v", got, DurationBuckets)
			}
			for i := range got {
				if got[i] != DurationBuckets[i] {
					t.Fatalf("buckets = %v, want %v", got, DurationBuckets)
				}
			}
			if strings.Contains(m.String(), "outbound") && (h.GetSampleCount() != 2 || h.GetBucket()[3].GetCumulativeCount() != 1) {
				t.Errorf("outbound histogram: count %d, le=0.005 %d; want 2 and 1", h.GetSampleCount(), h.GetBucket()[3].GetCumulativeCount())
			}
		}
		return
	}
	t.Fatal("sluice_request_duration_seconds not exported")
}

func TestClassification_FailureIsServerErrorsOnly(t *testing.T) {
	for code, want := range map[int]string{200: "success", 404: "success", 429: "success", 500: "failure", 502: "failure", 504: "failure", 0: "failure"} {
		if got := Classification(code); got != want {
			t.Errorf("Classification(%d) = %s, want %s", code, got, want)
		}
	}
}

func TestIdentityFromEnv(t *testing.T) {
	t.Setenv(EnvNamespace, "demo")
	t.Setenv(EnvPod, "p")
	t.Setenv(EnvWorkload, "w")
	t.Setenv(EnvServiceAccount, "sa")
	if got := IdentityFromEnv(); got != (Identity{Namespace: "demo", Pod: "p", Workload: "w", ServiceAccount: "sa"}) {
		t.Errorf("IdentityFromEnv() = %+v", got)
	}
}

func BenchmarkObserve(b *testing.B) {
	r := New(Identity{Namespace: "demo", Pod: "p", Workload: "w"})
	k := Key{Direction: Outbound, Service: "app", Backend: "app-primary", StatusCode: 200}
	b.ReportAllocs()
	for b.Loop() {
		r.Observe(k, 1500*time.Microsecond)
	}
}

func BenchmarkObserveParallel(b *testing.B) {
	r := New(Identity{Namespace: "demo", Pod: "p", Workload: "w"})
	k := Key{Direction: Outbound, Service: "app", Backend: "app-primary", StatusCode: 200}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Observe(k, 1500*time.Microsecond)
		}
	})
}
