package servingcert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

var (
	restConfig *rest.Config
	k8s        client.Client
)

// TestMain starts one real API server (envtest) for every test of the package.
func TestMain(m *testing.M) {
	os.Exit(runWithAPIServer(m))
}

func runWithAPIServer(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		// `make test` sets it; a plain `go test` finds the binaries where hack/k8s-binaries.sh builds them.
		out, err := exec.Command(filepath.Join("..", "..", "hack", "k8s-binaries.sh"), "print-dir").Output()
		if err != nil {
			fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS unset and hack/k8s-binaries.sh print-dir failed:", err)
			return 1
		}
		_ = os.Setenv("KUBEBUILDER_ASSETS", strings.TrimSpace(string(out)))
	}
	ctrl.SetLogger(testLogger())
	env := &envtest.Environment{}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start envtest:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	restConfig = cfg
	if k8s, err = client.New(cfg, client.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}
	return m.Run()
}

// newNamespace creates a namespace of the test's own.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "servingcert-" + rand.String(6)}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), ns) })
	return ns.Name
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
	mgr, err := ctrl.NewManager(restConfig, mgrOpts)
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
