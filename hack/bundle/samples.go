package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ourGroup is the API group whose objects are examples of Sluice's kinds.
// config/samples also holds objects of other groups (a demo Deployment), which
// do not belong in alm-examples.
const ourGroup = "mesh.sluice.dev"

// readSamples returns the objects of our group in dir's YAML files, sorted by
// kind and name so the bundle is the same on every run.
func readSamples(dir string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var samples []*unstructured.Unstructured
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		objs, err := decodeObjects(data)
		_ = data.Close()
		if err != nil {
			return nil, fmt.Errorf("read sample %s: %w", f, err)
		}
		for _, o := range objs {
			if o.GroupVersionKind().Group == ourGroup {
				samples = append(samples, o)
			}
		}
	}
	sort.SliceStable(samples, func(i, j int) bool {
		if samples[i].GetKind() != samples[j].GetKind() {
			return samples[i].GetKind() < samples[j].GetKind()
		}
		return samples[i].GetName() < samples[j].GetName()
	})
	return samples, nil
}

// almExamples renders the samples as OLM's alm-examples annotation: a JSON
// array of objects a console offers as templates. The namespace and status are
// dropped: the user picks the first, the operator writes the second.
func almExamples(samples []*unstructured.Unstructured) (string, error) {
	examples := make([]map[string]any, 0, len(samples))
	for _, s := range samples {
		c := s.DeepCopy()
		c.SetNamespace("")
		unstructured.RemoveNestedField(c.Object, "status")
		examples = append(examples, c.Object)
	}
	data, err := json.MarshalIndent(examples, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode alm-examples: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}
