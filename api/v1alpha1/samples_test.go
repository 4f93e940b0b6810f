package v1alpha1_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// TestSamples_AreAcceptedByTheAPIServer creates every object of every file in
// config/samples, as `kubectl apply -k config/samples` would, so a sample that
// drifts from the CRDs fails here rather than in a user's first try.
func TestSamples_AreAcceptedByTheAPIServer(t *testing.T) {
	ns := newNamespace(t)
	files, err := filepath.Glob(filepath.Join(repoRoot, "config", "samples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, file := range files {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		for _, obj := range readObjects(t, file) {
			kinds[obj.GetKind()] = true
			t.Run(filepath.Base(file)+"/"+obj.GetKind()+"/"+obj.GetName(), func(t *testing.T) {
				mapping, err := k8s.RESTMapper().RESTMapping(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version)
				if err != nil {
					t.Fatalf("no API for %s: %v", obj.GroupVersionKind(), err)
				}
				if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
					obj.SetNamespace(ns)
				} else {
					deleteAtCleanup(t, obj)
				}
				if err := k8s.Create(context.Background(), obj); err != nil {
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

// readObjects decodes every YAML document of file into an unstructured object.
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
			break
		}
		if err != nil {
			t.Fatalf("decode %s: %v", file, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		if strings.TrimSpace(obj.GetKind()) == "" {
			t.Fatalf("%s: a document without kind", file)
		}
		objs = append(objs, obj)
	}
	return objs
}
