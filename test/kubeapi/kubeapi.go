// Package kubeapi starts a real kube-apiserver and etcd (controller-runtime's
// envtest) with Sluice's CRDs installed, for integration tests. The binaries
// come from hack/k8s-binaries.sh; `make test` points KUBEBUILDER_ASSETS at them.
package kubeapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// Options choose what the API server has installed besides Sluice's CRDs.
type Options struct {
	// ExtraCRDDirs are more directories of CRD YAML (third-party APIs).
	ExtraCRDDirs []string
	// ExtraCRDs are more CRDs given as objects, for third-party APIs whose YAML
	// needs filtering or converting first (e.g. apiextensions/v1beta1 files).
	ExtraCRDs []*apiextensionsv1.CustomResourceDefinition
	// WebhookDir, when set, installs the webhook configurations found there
	// (config/webhook); envtest rewrites them to its local webhook server.
	WebhookDir string
	// WithoutSluiceCRDs starts the API server without Sluice's CRDs, for
	// tests that install them as a user does (test/install) or need only
	// built-in kinds.
	WithoutSluiceCRDs bool
}

// Env is a running API server and a client for it.
type Env struct {
	Config *rest.Config
	Client client.Client
	Scheme *k8sruntime.Scheme
	// Webhook holds the host, port and cert dir a webhook server must use
	// when Options.WebhookDir was set.
	Webhook *envtest.WebhookInstallOptions

	env *envtest.Environment
}

// RepoRoot is the repository's top directory, found from this file's path so
// tests in any package agree on it.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// SkipReason says why no API server can start here, or "" when one can.
func SkipReason() string {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return "KUBEBUILDER_ASSETS is unset: run `make test`, or build the binaries with `make envtest-binaries` " +
			"and export KUBEBUILDER_ASSETS=$(hack/k8s-binaries.sh print-dir)"
	}
	return ""
}

// UseBuiltBinaries points KUBEBUILDER_ASSETS, when unset, at the binaries
// hack/k8s-binaries.sh has built, so a plain `go test` runs the suite as
// `make test` does. When they are not built it changes nothing and the tests
// skip with SkipReason. Call it in TestMain before Main.
func UseBuiltBinaries() {
	if SkipReason() == "" {
		return
	}
	out, err := exec.Command(filepath.Join(RepoRoot(), "hack", "k8s-binaries.sh"), "print-dir").Output()
	if err != nil {
		return
	}
	dir := strings.TrimSpace(string(out))
	for _, binary := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, binary)); err != nil {
			return
		}
	}
	_ = os.Setenv("KUBEBUILDER_ASSETS", dir)
}

// RequireEnv skips t when env is nil: Main leaves it so when no API server
// can start here (see SkipReason).
func RequireEnv(t testing.TB, env *Env) {
	t.Helper()
	if env == nil {
		t.Skip(SkipReason())
	}
}

// NewScheme knows the built-in kinds, CRDs and Sluice's kinds.
func NewScheme() (*k8sruntime.Scheme, error) {
	scheme := k8sruntime.NewScheme()
	for _, add := range []func(*k8sruntime.Scheme) error{
		clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, meshv1alpha1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	return scheme, nil
}

// Start starts etcd and kube-apiserver with Sluice's CRDs and opts applied.
func Start(opts Options) (*Env, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, fmt.Errorf("build scheme: %w", err)
	}
	crdDirs := opts.ExtraCRDDirs
	if !opts.WithoutSluiceCRDs {
		crdDirs = append([]string{filepath.Join(RepoRoot(), "config", "crd", "bases")}, crdDirs...)
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     crdDirs,
		CRDs:                  opts.ExtraCRDs,
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	if opts.WebhookDir != "" {
		env.WebhookInstallOptions = envtest.WebhookInstallOptions{Paths: []string{opts.WebhookDir}}
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start envtest: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("create client: %w", err)
	}
	e := &Env{Config: cfg, Client: c, Scheme: scheme, env: env}
	if opts.WebhookDir != "" {
		e.Webhook = &env.WebhookInstallOptions
	}
	return e, nil
}

// Stop stops the API server and etcd.
func (e *Env) Stop() error { return e.env.Stop() }

// Main is a TestMain body: it starts the API server, hands it to setup (which
// may start a manager against it and return a function that stops it), runs
// the tests and stops everything. Without binaries it runs the tests with env
// nil, so each test skips with SkipReason.
func Main(m *testing.M, opts Options, setup func(*Env) (stop func(), err error)) int {
	if reason := SkipReason(); reason != "" {
		// CI must run these tests, not skip them: a missing binary there is a
		// broken build step, not an optional dependency.
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "CI=true and no API server can start:", reason)
			return 1
		}
		return m.Run()
	}
	env, err := Start(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop envtest: %v\n", err)
		}
	}()
	if setup != nil {
		stop, err := setup(env)
		if err != nil {
			fmt.Fprintf(os.Stderr, "test setup: %v\n", err)
			return 1
		}
		if stop != nil {
			defer stop()
		}
	}
	return m.Run()
}

// NewNamespace creates a namespace with a random name for one test and
// deletes it when the test ends.
func (e *Env) NewNamespace(t testing.TB) string {
	t.Helper()
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatalf("random namespace name: %v", err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "test-" + hex.EncodeToString(suffix)}}
	if err := e.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("create namespace %s: %v", ns.Name, err)
	}
	t.Cleanup(func() {
		if err := e.Client.Delete(context.Background(), ns); client.IgnoreNotFound(err) != nil {
			t.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	return ns.Name
}
