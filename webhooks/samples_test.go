package webhooks

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// TestSamples_PassTheWebhooks creates every object of config/samples, as `kubectl apply -k config/samples` would,
// through the defaulting and validating webhooks, and checks that no webhook warns about them either.
func TestSamples_PassTheWebhooks(t *testing.T) {
	ns := newNamespace(t)
	c, warnings := clientRecordingWarnings(t)
	files, err := filepath.Glob(filepath.Join(repoRoot, "config", "samples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]*unstructured.Unstructured{}
	for _, file := range files {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		for _, obj := range readObjects(t, file) {
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
				t.Cleanup(func() { _ = k8s.Delete(context.Background(), obj) })
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

// readObjects decodes every YAML document of file.
func readObjects(t *testing.T, file string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		obj := &unstructured.Unstructured{}
		err := decoder.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("decode %s: %v", file, err)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}
