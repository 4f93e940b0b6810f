package workload

import (
	"context"
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// withAutoscaler gives the Canary an autoscalerRef to the HPA `app`.
func withAutoscaler(bounds *meshv1alpha1.ScalerReplicas) func(*meshv1alpha1.Canary) {
	return func(c *meshv1alpha1.Canary) {
		c.Spec.AutoscalerRef = &meshv1alpha1.AutoscalerReference{Name: "app", PrimaryScalerReplicas: bounds}
	}
}

func (f *fixture) createTargetAutoscaler() {
	f.t.Helper()
	f.create(&autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: f.meta("app"),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "app"},
			MinReplicas:    ptr.To[int32](2),
			MaxReplicas:    10,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name:   corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](70)},
			}}},
		},
	})
}

func TestEnsurePrimary_CopiesTheAutoscalerForThePrimary(t *testing.T) {
	f := newFixture(t, nil, withAutoscaler(&meshv1alpha1.ScalerReplicas{MaxReplicas: ptr.To[int32](20)}))
	f.createTargetAutoscaler()
	f.ensurePrimary()
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	f.get("app-primary", hpa)
	f.controlledByCanary(hpa)
	if ref := hpa.Spec.ScaleTargetRef; ref.Kind != "Deployment" || ref.Name != "app-primary" || ref.APIVersion != "apps/v1" {
		t.Errorf("primary HPA scales %+v, want Deployment app-primary", ref)
	}
	if ptr.Deref(hpa.Spec.MinReplicas, 0) != 2 || hpa.Spec.MaxReplicas != 20 {
		t.Errorf("primary HPA bounds %d..%d, want the target's min 2 and the override max 20",
			ptr.Deref(hpa.Spec.MinReplicas, 0), hpa.Spec.MaxReplicas)
	}
	if len(hpa.Spec.Metrics) != 1 || ptr.Deref(hpa.Spec.Metrics[0].Resource.Target.AverageUtilization, 0) != 70 {
		t.Errorf("primary HPA metrics %+v, want the target's CPU 70%%", hpa.Spec.Metrics)
	}
	target := &autoscalingv2.HorizontalPodAutoscaler{}
	f.get("app", target)
	if target.Spec.ScaleTargetRef.Name != "app" {
		t.Errorf("the target's HPA now scales %s", target.Spec.ScaleTargetRef.Name)
	}
}

func TestEnsurePrimary_AutoscalerNotFound(t *testing.T) {
	f := newFixture(t, nil, withAutoscaler(nil))
	if _, err := f.w.EnsurePrimary(context.Background(), f.canary); !errors.Is(err, ErrAutoscalerNotFound) {
		t.Fatalf("EnsurePrimary: %v, want ErrAutoscalerNotFound", err)
	}
}

// The HPA controller scales the primary through the scale subresource under
// its own field manager; our re-applies must leave its count alone.
func TestEnsurePrimary_DoesNotOverwriteReplicasAnAutoscalerManages(t *testing.T) {
	f := newFixture(t, nil, withAutoscaler(nil))
	f.createTargetAutoscaler()
	f.ensurePrimary()
	scale := &autoscalingv1.Scale{}
	primary := f.deployment("app-primary")
	if err := env.Client.SubResource("scale").Get(context.Background(), primary, scale); err != nil {
		t.Fatalf("get scale: %v", err)
	}
	scale.Spec.Replicas = 7
	if err := env.Client.SubResource("scale").Update(context.Background(), primary, client.WithSubResourceBody(scale),
		client.FieldOwner("kube-controller-manager")); err != nil {
		t.Fatalf("scale the primary as the HPA would: %v", err)
	}
	for range 2 {
		if p := f.ensurePrimary(); p.Replicas != 7 {
			t.Fatalf("EnsurePrimary set the autoscaled primary's replicas to %d, want the HPA's 7", p.Replicas)
		}
	}
	// Writing the same count back would still race with the HPA: we must
	// not claim the field at all.
	if applied, err := appsv1ac.ExtractDeployment(f.deployment("app-primary"), FieldManager); err != nil || applied.Spec.Replicas != nil {
		t.Errorf("%s owns spec.replicas of the autoscaled primary (extract: %v)", FieldManager, err)
	}
	target := &appsv1.Deployment{}
	f.update("app", target, func() { target.Spec.Template.Spec.Containers[0].Image = "example.com/app:2" })
	if err := f.w.Promote(context.Background(), f.canary); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	if got := ptr.Deref(f.deployment("app-primary").Spec.Replicas, 0); got != 7 {
		t.Errorf("Promote set the autoscaled primary's replicas to %d, want the HPA's 7", got)
	}
}
