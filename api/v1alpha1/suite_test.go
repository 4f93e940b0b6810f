package v1alpha1_test

import (
	"context"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// These tests run against a real kube-apiserver (envtest) with the CRDs that
// `make manifests` generates, because what they check (OpenAPI schema, CEL
// rules, defaulting, printer columns) is enforced by the API server alone.

// env is the envtest API server; nil when KUBEBUILDER_ASSETS is unset, and
// then every test skips (kubeapi.RequireEnv).
var env *kubeapi.Env

func TestMain(m *testing.M) {
	os.Exit(kubeapi.Main(m, kubeapi.Options{}, func(e *kubeapi.Env) (func(), error) {
		env = e
		return nil, nil
	}))
}

// deleteAtCleanup deletes obj when the test ends; for cluster-scoped objects
// (the Mesh) that outlive the test namespace.
func deleteAtCleanup(t *testing.T, obj client.Object) {
	t.Helper()
	t.Cleanup(func() {
		if err := env.Client.Delete(context.Background(), obj); client.IgnoreNotFound(err) != nil {
			t.Errorf("delete %T %s: %v", obj, obj.GetName(), err)
		}
	})
}
