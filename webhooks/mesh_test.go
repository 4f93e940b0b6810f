package webhooks

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/kubeapi"
)

func TestMesh_WebhookRejectsWhatTheSchemaCannotNamingTheField(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	tests := []struct {
		name       string
		field      string
		invalidate func(m *meshv1alpha1.Mesh)
	}{
		{"namespace selector with an unknown operator", "spec.injection.namespaceSelector.matchExpressions[0].operator", func(m *meshv1alpha1.Mesh) {
			m.Spec.Injection.NamespaceSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "team", Operator: "Equals", Values: []string{"shop"}}}}
		}},
		{"namespace selector In without values", "spec.injection.namespaceSelector.matchExpressions[0].values", func(m *meshv1alpha1.Mesh) {
			m.Spec.Injection.NamespaceSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "team", Operator: metav1.LabelSelectorOpIn}}}
		}},
		{"proxy memory request above its limit", "spec.proxy.resources.requests[memory]", func(m *meshv1alpha1.Mesh) {
			m.Spec.Proxy.Resources = &corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
			}
		}},
		{"metric template with an unclosed placeholder", "spec.metrics.templates[0].query", func(m *meshv1alpha1.Mesh) {
			m.Spec.Metrics.Templates = []meshv1alpha1.MetricTemplate{{Name: "errors", Query: `sum(x{namespace="{{ namespace"})`}}
		}},
		{"upgrade metric referring to a template the Mesh lacks", "spec.upgrade.rolling.metrics[0].templateRef.name", func(m *meshv1alpha1.Mesh) {
			m.Spec.Upgrade = meshv1alpha1.ProxyUpgradeStrategy{Type: meshv1alpha1.ProxyUpgradeRolling, Rolling: &meshv1alpha1.RollingProxyUpgrade{
				Metrics: []meshv1alpha1.AnalysisMetric{{Name: "errors", TemplateRef: &meshv1alpha1.MetricTemplateReference{Name: "errors"},
					ThresholdRange: meshv1alpha1.ThresholdRange{Max: ptr.To(resource.MustParse("1"))}}}}}
		}},
		{"event webhook timeout of 0s", "spec.eventWebhook.timeout", func(m *meshv1alpha1.Mesh) {
			m.Spec.EventWebhook = &meshv1alpha1.EventWebhook{URL: "http://127.0.0.1:8089/", Timeout: seconds(0)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &meshv1alpha1.Mesh{ObjectMeta: metav1.ObjectMeta{Name: meshv1alpha1.MeshName}}
			tt.invalidate(m)
			expectRejectedByWebhook(t, createMesh(t, env.Client, m), "vmesh.mesh.sluice.dev", tt.field)
		})
	}
}

func TestMesh_DefaultsTheRollingUpgrade(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	mesh := createFromYAML(t, env.Client, "", `
apiVersion: mesh.sluice.dev/v1alpha1
kind: Mesh
metadata:
  name: default
spec:
  metrics:
    templates:
    - name: errors
      query: 'sum(x{namespace="{{ namespace }}",workload="{{ target }}"})'
`)
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(mesh), mesh); err != nil {
		t.Fatal(err)
	}
	batch, _, _ := unstructured.NestedInt64(mesh.Object, "spec", "upgrade", "rolling", "batchPercent")
	if batch != 25 {
		t.Errorf("spec.upgrade.rolling.batchPercent = %d, want 25", batch)
	}
	if got := nestedDuration(t, mesh, "spec", "upgrade", "rolling", "interval"); got != time.Minute {
		t.Errorf("spec.upgrade.rolling.interval = %s, want 1m", got)
	}

	// An upgrade metric without interval keeps none: it follows the upgrade interval, even after that changes.
	if err := unstructured.SetNestedField(mesh.Object, "2m", "spec", "upgrade", "rolling", "interval"); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedSlice(mesh.Object, []any{map[string]any{
		"name": "errors", "templateRef": map[string]any{"name": "errors"}, "thresholdRange": map[string]any{"max": int64(1)},
	}}, "spec", "upgrade", "rolling", "metrics"); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Update(context.Background(), mesh); err != nil {
		t.Fatalf("update Mesh: %v", err)
	}
	metrics, _, _ := unstructured.NestedSlice(mesh.Object, "spec", "upgrade", "rolling", "metrics")
	if interval, found := metrics[0].(map[string]any)["interval"]; found {
		t.Errorf("spec.upgrade.rolling.metrics[0].interval = %v, want it unset so it follows the upgrade interval", interval)
	}
}
