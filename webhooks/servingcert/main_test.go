package servingcert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// env is one real API server (envtest) for every test of the package, with only the built-in kinds; nil when no
// API server can start here, and then the tests that need it skip (kubeapi.RequireEnv).
var env *kubeapi.Env

func TestMain(m *testing.M) {
	kubeapi.UseBuiltBinaries() // `make test` sets KUBEBUILDER_ASSETS; a plain `go test` finds what it built
	ctrl.SetLogger(testLogger())
	os.Exit(kubeapi.Main(m, kubeapi.Options{WithoutSluiceCRDs: true}, func(e *kubeapi.Env) (func(), error) {
		env = e
		return nil, nil
	}))
}

// replica is one running manager with the serving certificate set up, as in a Pod of the operator.
type replica struct {
	mgr   ctrl.Manager
	ready <-chan struct{}
	port  int
}

// deniedLabel marks ConfigMaps that the test webhook rejects: a rejection proves the API server reached the
// webhook over TLS, trusting the injected caBundle.
const deniedLabel = "servingcert.test/deny"

// startReplica starts a manager whose webhook server listens on a free loopback port and serves one validating
// webhook at /validate-configmap.
func startReplica(t *testing.T, opts Options, settings *replicaSettings) *replica {
	t.Helper()
	if settings == nil {
		settings = &replicaSettings{}
	}
	port := freePort(t)
	mgrOpts := ctrl.Options{
		Scheme:        scheme.Scheme,
		Metrics:       metricsserver.Options{BindAddress: "0"},
		WebhookServer: webhook.NewServer(webhook.Options{Host: "127.0.0.1", Port: port, CertDir: settings.certDir}),
		Controller:    config.Controller{SkipNameValidation: ptr.To(true)}, // several managers in one process
	}
	if settings.leaderElectionID != "" {
		mgrOpts.LeaderElection = true
		mgrOpts.LeaderElectionID = settings.leaderElectionID
		mgrOpts.LeaderElectionNamespace = settings.leaderElectionNamespace
		mgrOpts.LeaderElectionReleaseOnCancel = true
	}
	mgr, err := ctrl.NewManager(env.Config, mgrOpts)
	if err != nil {
		t.Fatalf("new manager: %v", err)
	}
	ready, err := Setup(mgr, opts)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	mgr.GetWebhookServer().Register("/validate-configmap", &webhook.Admission{Handler: admission.HandlerFunc(
		func(_ context.Context, req admission.Request) admission.Response {
			var cm corev1.ConfigMap
			if err := (admission.NewDecoder(scheme.Scheme)).Decode(req, &cm); err != nil {
				return admission.Errored(http.StatusBadRequest, err)
			}
			if cm.Labels[deniedLabel] != "" {
				return admission.Denied("denied by the test webhook")
			}
			return admission.Allowed("")
		})})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	return &replica{mgr: mgr, ready: ready, port: port}
}

// replicaSettings are what differs between replicas of a test: leader election (off when the ID is empty) and the
// webhook server's CertDir (for external certificates).
type replicaSettings struct {
	leaderElectionID        string
	leaderElectionNamespace string
	certDir                 string
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

func waitReady(t *testing.T, r *replica) {
	t.Helper()
	select {
	case <-r.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("replica not ready within 30s")
	}
}

// servedCertificate does what the API server does: a TLS handshake with 127.0.0.1:<port>, verifying the server
// against caPEM. It returns the certificate the server presented.
func servedCertificate(port int, caPEM []byte) (*x509.Certificate, error) {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no CA certificate")
	}
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	return conn.ConnectionState().PeerCertificates[0], nil
}

func testLogger() logr.Logger {
	return zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true))
}
