// Package install tests what users install Sluice from: the kustomize
// installer (config/default, dist/install.yaml) and the OLM bundle (make
// bundle), against a real kube-apiserver started by envtest.
//
// The webhook configurations this suite installs point at a Service no
// process serves, so no test here creates objects of Sluice's own kinds: the
// API server would try to call the webhooks.
package install

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

var (
	// repoRoot is the repository's top directory; the tests run the real tools
	// from there, as the Makefile does.
	repoRoot string
	// kustomizeBin is bin/kustomize, installed by `make kustomize`.
	kustomizeBin string
	cfg          *rest.Config
	k8sClient    client.Client
	// cleanups run after all tests, before envtest stops.
	cleanups []func()
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	kustomizeBin = filepath.Join(repoRoot, "bin", "kustomize")
	if _, err := os.Stat(kustomizeBin); err != nil {
		fmt.Fprintln(os.Stderr, "install tests need bin/kustomize: run `make kustomize`")
		return 1
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		dir, err := exec.Command(filepath.Join(repoRoot, "hack", "k8s-binaries.sh"), "print-dir").Output()
		if err != nil {
			fmt.Fprintln(os.Stderr, "install tests: set KUBEBUILDER_ASSETS or make hack/k8s-binaries.sh print-dir work:", err)
			return 1
		}
		_ = os.Setenv("KUBEBUILDER_ASSETS", strings.TrimSpace(string(dir)))
	}

	env := &envtest.Environment{ErrorIfCRDPathMissing: true}
	var err error
	cfg, err = env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start envtest (are etcd and kube-apiserver in KUBEBUILDER_ASSETS? `make envtest-binaries`):", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
		}
	}()

	scheme := clientgoscheme.Scheme
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}
	defer func() {
		for _, c := range cleanups {
			c()
		}
	}()
	return m.Run()
}

// testContext is cancelled when the test ends.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}
