package v1alpha1_test

import (
	"context"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// TestSamples_AreAcceptedByTheAPIServer creates every object of every file in
// config/samples, as `kubectl apply -k config/samples` would, so a sample that
// drifts from the CRDs fails here rather than in a user's first try.
func TestSamples_AreAcceptedByTheAPIServer(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	files, err := filepath.Glob(filepath.Join(kubeapi.RepoRoot(), "config", "samples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, file := range files {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		objs, err := kubeapi.ReadObjects(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range objs {
			kinds[obj.GetKind()] = true
			t.Run(filepath.Base(file)+"/"+obj.GetKind()+"/"+obj.GetName(), func(t *testing.T) {
				mapping, err := env.Client.RESTMapper().RESTMapping(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version)
				if err != nil {
					t.Fatalf("no API for %s: %v", obj.GroupVersionKind(), err)
				}
				if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
					obj.SetNamespace(ns)
				} else {
					deleteAtCleanup(t, obj)
				}
				if err := env.Client.Create(context.Background(), obj); err != nil {
					t.Fatalf("the API server rejected the sample: %v", err)
				}
			})
		}
	}
	for _, kind := range []string{"Mesh", "Canary", "Policy", "Deployment"} {
		if !kinds[kind] {
			t.Errorf("config/samples has no %s", kind)
		}
	}
}
