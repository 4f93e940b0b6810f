package webhooks

import (
	"context"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// TestSamples_PassTheWebhooks creates every object of config/samples, as `kubectl apply -k config/samples` would,
// through the defaulting and validating webhooks, and checks that no webhook warns about them either.
func TestSamples_PassTheWebhooks(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	c, warnings := clientRecordingWarnings(t)
	files, err := filepath.Glob(filepath.Join(kubeapi.RepoRoot(), "config", "samples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]*unstructured.Unstructured{}
	for _, file := range files {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		objs, err := kubeapi.ReadObjects(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range objs {
			mapping, err := c.RESTMapper().RESTMapping(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version)
			if err != nil {
				t.Fatalf("%s: no API for %s: %v", file, obj.GroupVersionKind(), err)
			}
			if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
				obj.SetNamespace(ns)
			}
			if err := c.Create(context.Background(), obj); err != nil {
				t.Fatalf("%s: %s %s rejected: %v", filepath.Base(file), obj.GetKind(), obj.GetName(), err)
			}
			if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
				t.Cleanup(func() { _ = env.Client.Delete(context.Background(), obj) })
			}
			created[obj.GetKind()] = obj
		}
	}
	for _, kind := range []string{"Mesh", "Canary", "Policy"} {
		if created[kind] == nil {
			t.Errorf("config/samples has no %s", kind)
		}
	}
	if w := warnings.all(); len(w) > 0 {
		t.Errorf("the samples drew warnings: %q", w)
	}
}
