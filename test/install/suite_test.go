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
	"path/filepath"
	"testing"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

var (
	// env is an API server without Sluice's CRDs: the tests install them as
	// a user does. It is nil when no API server can start here, and then the
	// tests that need one skip (kubeapi.RequireEnv).
	env *kubeapi.Env
	// kustomizeBin is bin/kustomize, installed by `make kustomize`; the tests
	// run the real tools from the repository's top directory, as the
	// Makefile does.
	kustomizeBin = filepath.Join(kubeapi.RepoRoot(), "bin", "kustomize")
	// cleanups run after all tests.
	cleanups []func()
)

func TestMain(m *testing.M) {
	if _, err := os.Stat(kustomizeBin); err != nil {
		fmt.Fprintln(os.Stderr, "install tests need bin/kustomize: run `make kustomize`")
		os.Exit(1)
	}
	kubeapi.UseBuiltBinaries() // `make test` sets KUBEBUILDER_ASSETS; a plain `go test` finds what it built
	code := kubeapi.Main(m, kubeapi.Options{WithoutSluiceCRDs: true}, func(e *kubeapi.Env) (func(), error) {
		env = e
		return nil, nil
	})
	for _, c := range cleanups {
		c()
	}
	os.Exit(code)
}

// testContext is cancelled when the test ends.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}
