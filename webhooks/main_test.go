package webhooks

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/kubeapi"
)

// The webhooks are tested through a real API server (envtest) with our CRDs and the webhook configurations that
// `make manifests` writes to config/webhook, served by a manager running SetupWithManager: what a user's kubectl
// sees, including the order CRD defaulting -> mutating webhooks -> schema and CEL -> validating webhooks.

// env is the envtest API server with the webhook configurations installed and served; nil when no API server can
// start here, and then every test skips (kubeapi.RequireEnv).
var env *kubeapi.Env

func TestMain(m *testing.M) {
	kubeapi.UseBuiltBinaries() // `make test` sets KUBEBUILDER_ASSETS; a plain `go test` finds what it built
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	// envtest registers the webhooks by URL on 127.0.0.1 with a CA of its own, as a local run does.
	opts := kubeapi.Options{WebhookDir: filepath.Join(kubeapi.RepoRoot(), "config", "webhook")}
	os.Exit(kubeapi.Main(m, opts, func(e *kubeapi.Env) (func(), error) {
		env = e
		return startManager(e)
	}))
}

// startManager runs a manager with our webhooks on envtest's webhook host, port and certificate, and waits until
// the webhook server answers TLS handshakes.
func startManager(e *kubeapi.Env) (stop func(), err error) {
	wh := e.Webhook
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme:  e.Scheme,
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
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandlerWithContext = recorder
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
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
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), mesh) })
	return nil
}
