package router

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// trafficSplitWeights reads the TrafficSplit's backends as stored, checking
// it splits the apex Service.
func trafficSplitWeights(t *testing.T, f fixture) map[string]int64 {
	t.Helper()
	ts := getRaw(t, f.ns, objectRef{trafficSplitGVK, "app"})
	if svc, _, _ := unstructured.NestedString(ts.Object, "spec", "service"); svc != "app" {
		t.Errorf("TrafficSplit service = %q, want the apex app", svc)
	}
	weights := map[string]int64{}
	backends, _, _ := unstructured.NestedSlice(ts.Object, "spec", "backends")
	for _, b := range backends {
		name, _, _ := unstructured.NestedString(b.(map[string]any), "service")
		w, _, _ := unstructured.NestedInt64(b.(map[string]any), "weight")
		weights[name] = w
	}
	return weights
}
