package analysis

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/prometheus"
)

// successRate is a builtin metric that the fixture workload healthy (99%) passes.
func successRate() meshv1alpha1.AnalysisMetric {
	return meshv1alpha1.AnalysisMetric{Name: meshv1alpha1.MetricRequestSuccessRate, ThresholdRange: between("98", "")}
}

// guard is a loopback HTTP(S) server in front of Prometheus that forwards only requests whose Authorization
// header is the wanted one (any, when wantAuthorization is empty), like an authenticating proxy.
func guard(t *testing.T, prometheusURL, wantAuthorization string, serveTLS bool) *httptest.Server {
	t.Helper()
	target, err := url.Parse(prometheusURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantAuthorization != "" && r.Header.Get("Authorization") != wantAuthorization {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	})
	var srv *httptest.Server
	if serveTLS {
		srv = httptest.NewUnstartedServer(handler)
		// The unknown-CA case makes the client hang up mid-handshake, which the server would log.
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
	} else {
		srv = httptest.NewServer(handler)
	}
	t.Cleanup(srv.Close)
	return srv
}

func secret(name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

// TestCheck_ReachesPrometheusWithCredentialsAndTLS resolves the Canary's metrics server with its Secrets and
// checks through a guard that lets through only the right credentials, over plain HTTP or TLS.
func TestCheck_ReachesPrometheusWithCredentialsAndTLS(t *testing.T) {
	h := newHistory()
	prom := prometheus.Start(t, prometheus.Options{Backfill: h.fixtures()})

	tests := []struct {
		name        string
		guardAuth   string // the Authorization header the guard wants
		guardTLS    bool
		secrets     map[string]string // the auth Secret's data; nil: no authSecretRef
		withCA      bool              // refer to a Secret holding the guard's certificate
		insecure    bool
		wantOutcome meshv1alpha1.MetricResult
		wantMessage string
	}{
		{name: "bearer token from the Secret is sent", guardAuth: "Bearer s3cr3t",
			secrets: map[string]string{"token": "s3cr3t"}, wantOutcome: meshv1alpha1.MetricPassed},
		{name: "a wrong bearer token fails the check", guardAuth: "Bearer s3cr3t",
			secrets: map[string]string{"token": "guess"}, wantOutcome: meshv1alpha1.MetricFailed, wantMessage: "401"},
		{name: "basic auth from the Secret is sent", guardAuth: "Basic " + "YW5hbHlzdDpodW50ZXIy", // analyst:hunter2
			secrets: map[string]string{"username": "analyst", "password": "hunter2"}, wantOutcome: meshv1alpha1.MetricPassed},
		{name: "no credentials fail against a server that wants them", guardAuth: "Bearer s3cr3t",
			wantOutcome: meshv1alpha1.MetricFailed, wantMessage: "401"},
		{name: "TLS with the CA bundle from the Secret", guardTLS: true, withCA: true, wantOutcome: meshv1alpha1.MetricPassed},
		{name: "TLS signed by an unknown CA fails", guardTLS: true, wantOutcome: meshv1alpha1.MetricFailed,
			wantMessage: "certificate"},
		{name: "TLS with insecureSkipVerify", guardTLS: true, insecure: true, wantOutcome: meshv1alpha1.MetricPassed},
		{name: "TLS and a bearer token together", guardTLS: true, withCA: true, guardAuth: "Bearer s3cr3t",
			secrets: map[string]string{"token": "s3cr3t"}, wantOutcome: meshv1alpha1.MetricPassed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := guard(t, prom.URL, tt.guardAuth, tt.guardTLS)
			c := newCanary(meshv1alpha1.ProviderSluice, "healthy", successRate())
			ms := &meshv1alpha1.MetricsServer{Address: srv.URL, InsecureSkipVerify: tt.insecure}
			reader := fake.NewClientBuilder().WithScheme(scheme.Scheme)
			if tt.secrets != nil {
				ms.AuthSecretRef = &meshv1alpha1.LocalSecretReference{Name: "prometheus-auth"}
				reader.WithObjects(secret("prometheus-auth", tt.secrets))
			}
			if tt.withCA {
				ms.CASecretRef = &meshv1alpha1.LocalSecretReference{Name: "prometheus-ca"}
				caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
				reader.WithObjects(secret("prometheus-ca", map[string]string{"ca.crt": string(caPEM)}))
			}
			c.Spec.Analysis.MetricsServer = ms

			server, err := ResolveServer(context.Background(), reader.Build(), c, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			results := newChecker(t, server).Check(context.Background(), c, nil, h.now)
			r := results[0]
			t.Logf("%s %q", r.Outcome, r.Message)
			if r.Outcome != tt.wantOutcome || !strings.Contains(r.Message, tt.wantMessage) {
				t.Errorf("%s %q, want %s with %q", r.Outcome, r.Message, tt.wantOutcome, tt.wantMessage)
			}
		})
	}
}

// TestCheck_PrometheusGoingDownFailsTheNextCheck: a check that passed fails once Prometheus stops
// answering; the connection the Checker kept does not hide it.
func TestCheck_PrometheusGoingDownFailsTheNextCheck(t *testing.T) {
	h := newHistory()
	prom := prometheus.Start(t, prometheus.Options{Backfill: h.fixtures()})
	front := guard(t, prom.URL, "", false)
	checker := newChecker(t, Server{Address: front.URL})
	c := newCanary(meshv1alpha1.ProviderSluice, "healthy", successRate())

	queries := func(result string) float64 { return testutil.ToFloat64(queriesCounter.WithLabelValues(testNS, result)) }
	okBefore, errorsBefore := queries(queryOK), queries(queryError)

	if got := Overall(checker.Check(context.Background(), c, nil, h.now)); got != meshv1alpha1.MetricPassed {
		t.Fatalf("while Prometheus answers: %s, want Passed", got)
	}
	if got := queries(queryOK) - okBefore; got != 1 {
		t.Errorf("sluice_canary_prometheus_queries_total{result=ok} rose by %v, want 1 (one metric without minRequests)", got)
	}
	front.Close()
	results := checker.Check(context.Background(), c, nil, h.now)
	if got := Overall(results); got != meshv1alpha1.MetricFailed {
		t.Fatalf("after Prometheus went down: %s, want Failed", got)
	}
	if got := queries(queryError) - errorsBefore; got != 1 {
		t.Errorf("sluice_canary_prometheus_queries_total{result=error} rose by %v, want 1", got)
	}
	if !strings.Contains(results[0].Message, "connection refused") {
		t.Errorf("message %q, want it to say the connection was refused", results[0].Message)
	}
}

// TestCheck_UnreachablePrometheusNeverPasses: with nothing listening, every kind of metric fails (none is
// held: not knowing the request count is no reason to wait), and says why.
func TestCheck_UnreachablePrometheusNeverPasses(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := "http://" + l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	checker := newChecker(t, Server{Address: address})
	mesh := meshWithTemplates()
	c := newCanary(meshv1alpha1.ProviderSluice, "healthy",
		successRate(),
		meshv1alpha1.AnalysisMetric{Name: meshv1alpha1.MetricRequestDuration, MinRequests: minRequests(10), ThresholdRange: between("", "500")},
		meshv1alpha1.AnalysisMetric{Name: "failures", TemplateRef: &meshv1alpha1.MetricTemplateReference{Name: "failures"}, ThresholdRange: between("", "10")},
		meshv1alpha1.AnalysisMetric{Name: "inline", Query: `vector(1)`, ThresholdRange: between("0", "")},
	)

	results := checker.Check(context.Background(), c, mesh, time.Now())
	if got := Overall(results); got != meshv1alpha1.MetricFailed {
		t.Errorf("overall %s, want Failed", got)
	}
	for i, r := range results {
		if r.Name != c.Spec.Analysis.Metrics[i].Name {
			t.Errorf("result %d is %s, want %s: one result per metric, in spec order", i, r.Name, c.Spec.Analysis.Metrics[i].Name)
		}
		if r.Outcome != meshv1alpha1.MetricFailed || !strings.Contains(r.Message, "connection refused") {
			t.Errorf("%s: %s %q, want Failed saying the connection was refused", r.Name, r.Outcome, r.Message)
		}
	}
}

// TestCheck_SlowPrometheusTimesOut: a server that never answers fails the check after the query timeout, or
// sooner when the caller's context ends first.
func TestCheck_SlowPrometheusTimesOut(t *testing.T) {
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		// The server notices a client that gave up only once the request body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hanging.Close)
	t.Cleanup(func() { close(release) }) // runs first: Close waits for the handlers
	c := newCanary(meshv1alpha1.ProviderSluice, "healthy", successRate())

	tests := []struct {
		name         string
		queryTimeout time.Duration
		ctxTimeout   time.Duration
	}{
		{name: "the query timeout", queryTimeout: 200 * time.Millisecond, ctxTimeout: time.Minute},
		{name: "the caller's deadline", queryTimeout: time.Minute, ctxTimeout: 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checker := newChecker(t, Server{Address: hanging.URL})
			checker.QueryTimeout = tt.queryTimeout
			ctx, cancel := context.WithTimeout(context.Background(), tt.ctxTimeout)
			defer cancel()
			began := time.Now()
			results := checker.Check(ctx, c, nil, time.Now())
			if took := time.Since(began); took > 10*time.Second {
				t.Errorf("the check took %s", took)
			}
			if r := results[0]; r.Outcome != meshv1alpha1.MetricFailed || !strings.Contains(r.Message, "no answer from Prometheus") {
				t.Errorf("%s %q, want Failed saying Prometheus did not answer", r.Outcome, r.Message)
			}
		})
	}
}
