package canary

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// env is the envtest API server with Gateway API's HTTPRoute installed (the
// route object of the default provider). It runs no controller-manager:
// deploymentController below plays the Deployment controller.
var env *kubeapi.Env

func TestMain(m *testing.M) {
	// Quiet unless asked: without any logger controller-runtime prints a
	// stack trace into every failure's output, hiding the failure.
	ctrl.SetLogger(logr.Discard())
	if os.Getenv("CANARY_TEST_LOGS") != "" {
		ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
	}
	opts := kubeapi.Options{}
	if kubeapi.SkipReason() == "" {
		crd, err := httpRouteCRD()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		opts.ExtraCRDs = []*apiextensionsv1.CustomResourceDefinition{crd}
	}
	os.Exit(kubeapi.Main(m, opts, func(e *kubeapi.Env) (func(), error) {
		env = e
		return nil, nil
	}))
}

func requireEnv(t *testing.T) {
	t.Helper()
	kubeapi.RequireEnv(t, env)
}

// httpRouteCRD is the experimental HTTPRoute CRD from the gateway-api module.
func httpRouteCRD() (*apiextensionsv1.CustomResourceDefinition, error) {
	out, err := exec.Command("go", "list", "-m", "-json", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		return nil, fmt.Errorf("go list -m sigs.k8s.io/gateway-api: %w", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return nil, fmt.Errorf("no module directory for sigs.k8s.io/gateway-api (%v); run go mod download", err)
	}
	data, err := os.ReadFile(filepath.Join(mod.Dir, "config", "crd", "experimental", "gateway.networking.k8s.io_httproutes.yaml"))
	if err != nil {
		return nil, err
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(data, crd); err != nil {
		return nil, err
	}
	return crd, nil
}

// manager is a Canary reconciler running against env for one test's
// namespace, with its own fake clock.
type manager struct {
	stop func()
}

// startManager runs the Canary reconciler with opts, watching only ns (so
// the tests' managers do not meet), until the test ends or stop is called.
func startManager(t *testing.T, ns string, opts Options) *manager {
	t.Helper()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:     env.Scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatalf("new manager: %v", err)
	}
	r := &Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("sluice-canary"), Options: opts}
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatalf("set up the reconciler: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("manager: %v", err)
		}
	}()
	var once sync.Once
	m := &manager{stop: func() { once.Do(func() { cancel(); <-done }) }}
	t.Cleanup(m.stop)
	return m
}

// newClock is a fake clock at the given time.
func newClock(at time.Time) *clocktesting.FakeClock { return clocktesting.NewFakeClock(at) }

// deploymentController plays the Deployment controller of ns: every
// Deployment not held back becomes fully rolled out and available, as the
// test decides, by writing its status.
type deploymentController struct {
	mu      sync.Mutex
	notDone map[string]bool
}

// runDeploymentController starts one for ns until the test ends.
func runDeploymentController(t *testing.T, ns string) *deploymentController {
	d := &deploymentController{notDone: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			d.sync(ctx, ns)
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return d
}

// hold keeps a Deployment from becoming ready (its pods never start).
func (d *deploymentController) hold(name string, held bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.notDone[name] = held
}

func (d *deploymentController) sync(ctx context.Context, ns string) {
	var list appsv1.DeploymentList
	if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return
	}
	d.mu.Lock()
	held := copyHeld(d.notDone)
	d.mu.Unlock()
	for i := range list.Items {
		dep := &list.Items[i]
		replicas := ptr.Deref(dep.Spec.Replicas, 1)
		want := appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, Replicas: replicas, UpdatedReplicas: replicas,
			ReadyReplicas: replicas, AvailableReplicas: replicas}
		if held[dep.Name] {
			want.ReadyReplicas, want.AvailableReplicas = 0, 0
		}
		if dep.Status.ObservedGeneration == want.ObservedGeneration && dep.Status.Replicas == want.Replicas &&
			dep.Status.UpdatedReplicas == want.UpdatedReplicas && dep.Status.AvailableReplicas == want.AvailableReplicas {
			continue
		}
		dep.Status = want
		_ = env.Client.Status().Update(ctx, dep) // a conflict is retried on the next round
	}
}

func copyHeld(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func resourceQuantity(s string) resource.Quantity { return resource.MustParse(s) }
