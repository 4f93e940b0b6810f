package main

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestAssembleCSV_NamesItAfterTheVersion(t *testing.T) {
	base := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
		"metadata": map[string]any{"name": "sluice.v0.0.0", "namespace": "placeholder"},
		"spec":     map[string]any{"displayName": "Sluice"},
	}}
	csv, err := assembleCSV(base, generatedCSVParts{version: "1.2.3", image: "img:1.2.3", almExamples: "[]", replaces: "sluice.v1.2.2"})
	if err != nil {
		t.Fatal(err)
	}
	if csv.GetName() != "sluice.v1.2.3" || csv.GetNamespace() != "" {
		t.Errorf("CSV %s/%s, want sluice.v1.2.3 without namespace", csv.GetNamespace(), csv.GetName())
	}
	for path, want := range map[string]string{"version": "1.2.3", "replaces": "sluice.v1.2.2", "displayName": "Sluice"} {
		if got, _, _ := unstructured.NestedString(csv.Object, "spec", path); got != want {
			t.Errorf("spec.%s = %q, want %q", path, got, want)
		}
	}
	if base.GetName() != "sluice.v0.0.0" {
		t.Error("assembleCSV changed the base")
	}
}

func TestAssembleCSV_RejectsAVersionOLMCannotOrder(t *testing.T) {
	base := &unstructured.Unstructured{Object: map[string]any{"kind": "ClusterServiceVersion", "metadata": map[string]any{"name": "sluice.v0.0.0"}}}
	for _, v := range []string{"v0.1.0", "0.1", "latest"} {
		if _, err := assembleCSV(base, generatedCSVParts{version: v}); err == nil {
			t.Errorf("version %q accepted; OLM orders upgrades by semantic version", v)
		}
	}
}
