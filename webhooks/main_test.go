package webhooks

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// The webhooks are tested through a real API server (envtest) with our CRDs and the webhook configurations that
// `make manifests` writes to config/webhook, served by a manager running SetupWithManager: what a user's kubectl
// sees, including the order CRD defaulting -> mutating webhooks -> schema and CEL -> validating webhooks.

var (
	restConfig *rest.Config
	testScheme = runtime.NewScheme()
	k8s        client.Client
	repoRoot   = filepath.Join("..")
)

func TestMain(m *testing.M) {
	os.Exit(runWithWebhooks(m))
}

func runWithWebhooks(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		// `make test` sets it; a plain `go test` finds the binaries where hack/k8s-binaries.sh builds them.
		out, err := exec.Command(filepath.Join(repoRoot, "hack", "k8s-binaries.sh"), "print-dir").Output()
		if err != nil {
			fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS unset and hack/k8s-binaries.sh print-dir failed:", err)
			return 1
		}
		_ = os.Setenv("KUBEBUILDER_ASSETS", strings.TrimSpace(string(out)))
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, meshv1alpha1.AddToScheme} {
		if err := add(testScheme); err != nil {
			fmt.Fprintln(os.Stderr, "scheme:", err)
			return 1
		}
	}

	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(repoRoot, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		// envtest registers them by URL on 127.0.0.1 with a CA of its own, as a local run does.
		WebhookInstallOptions: envtest.WebhookInstallOptions{Paths: []string{filepath.Join(repoRoot, "config", "webhook")}},
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start envtest:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	restConfig = cfg

	stop, err := startManager(cfg, &env.WebhookInstallOptions)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start manager:", err)
		return 1
	}
	defer stop()

	if k8s, err = client.New(cfg, client.Options{Scheme: testScheme}); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}
	return m.Run()
}

// startManager runs a manager with our webhooks on envtest's webhook host, port and certificate, and waits until
// the webhook server answers TLS handshakes.
func startManager(cfg *rest.Config, wh *envtest.WebhookInstallOptions) (stop func(), err error) {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  testScheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		WebhookServer: webhook.NewServer(webhook.Options{
			Host: wh.LocalServingHost, Port: wh.LocalServingPort, CertDir: wh.LocalServingCertDir,
		}),
	})
	if err != nil {
		return nil, err
	}
	if err := SetupWithManager(mgr); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	stop = func() { cancel(); wg.Wait() }

	addr := net.JoinHostPort(wh.LocalServingHost, strconv.Itoa(wh.LocalServingPort))
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only checks that the server is up
		if err == nil {
			_ = conn.Close()
			return stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("webhook server on %s not up: %w", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// newNamespace creates a namespace of the test's own.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "webhooks-" + rand.String(6)}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), ns) })
	return ns.Name
}

// warningRecorder collects the warnings the API server returns (admission warnings among them), as kubectl
// prints them.
type warningRecorder struct {
	mu       sync.Mutex
	warnings []string
}

func (r *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warnings = append(r.warnings, text)
}

func (r *warningRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.warnings...)
}

// clientRecordingWarnings is a client whose requests' warnings end up in the returned recorder.
func clientRecordingWarnings(t *testing.T) (client.Client, *warningRecorder) {
	t.Helper()
	recorder := &warningRecorder{}
	cfg := rest.CopyConfig(restConfig)
	cfg.WarningHandlerWithContext = recorder
	c, err := client.New(cfg, client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatal(err)
	}
	return c, recorder
}

// createMesh creates the Mesh default and deletes it when the test ends (it is cluster-scoped: one at a time).
func createMesh(t *testing.T, c client.Client, mesh *meshv1alpha1.Mesh) error {
	t.Helper()
	if err := c.Create(context.Background(), mesh); err != nil {
		return err
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), mesh) })
	return nil
}
