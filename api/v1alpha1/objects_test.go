package v1alpha1_test

import (
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Valid objects that the table tests change one field of at a time, written
// as YAML so a test can also put in what Go types cannot hold (an unparsable
// duration, an unknown enum value).

const validCanary = `
apiVersion: mesh.sluice.dev/v1alpha1
kind: Canary
metadata:
  name: app
spec:
  targetRef:
    name: app
  service:
    port: 80
  analysis:
    stepWeight: 10
    maxWeight: 50
    metrics:
    - name: request-success-rate
      thresholdRange:
        min: 99
    webhooks:
    - name: load-test
      url: http://loadtester.test/
`

const validMesh = `
apiVersion: mesh.sluice.dev/v1alpha1
kind: Mesh
metadata:
  name: default
spec: {}
`

const validPolicy = `
apiVersion: mesh.sluice.dev/v1alpha1
kind: Policy
metadata:
  name: app
spec:
  targetRef:
    name: app
  timeout: 10s
`

// patched returns base with a JSON merge patch (RFC 7386, written in YAML)
// applied: maps merge, lists and scalars replace, null deletes.
func patched(t *testing.T, base, patch string) *unstructured.Unstructured {
	t.Helper()
	baseJSON, err := yaml.YAMLToJSON([]byte(base))
	if err != nil {
		t.Fatalf("base: %v", err)
	}
	patchJSON, err := yaml.YAMLToJSON([]byte(patch))
	if err != nil {
		t.Fatalf("patch: %v", err)
	}
	merged, err := jsonpatch.MergePatch(baseJSON, patchJSON)
	if err != nil {
		t.Fatalf("merge patch: %v", err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(merged); err != nil {
		t.Fatalf("decode patched object: %v", err)
	}
	return obj
}
