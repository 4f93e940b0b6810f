package workload

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

type namedObject struct {
	name string
	obj  client.Object
}

// ours are the objects EnsurePrimary makes for the default fixture with an
// autoscaler.
func ours() []namedObject {
	return []namedObject{
		{"app-primary", &appsv1.Deployment{}},
		{"app-primary", &autoscalingv2.HorizontalPodAutoscaler{}},
		{"app-env-primary", &corev1.ConfigMap{}},
		{"app-files-primary", &corev1.ConfigMap{}},
		{"app-secret-primary", &corev1.Secret{}},
		{"app-tls-primary", &corev1.Secret{}},
	}
}

func TestFinalize_RemovesWhatItMadeWithRevertOnDeletion(t *testing.T) {
	f := newFixture(t, nil, withAutoscaler(nil))
	f.createTargetAutoscaler()
	f.ensurePrimary()
	if err := f.w.Finalize(context.Background(), f.canary, true); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	for _, o := range ours() {
		if err := env.Client.Get(context.Background(), objectKey(f.ns, o.name), o.obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s still exists after Finalize with remove (get: %v)", o.obj, o.name, err)
		}
	}
	// The user's objects stay.
	for _, o := range []namedObject{{"app", &appsv1.Deployment{}}, {"app", &autoscalingv2.HorizontalPodAutoscaler{}}, {"app-env", &corev1.ConfigMap{}}} {
		f.get(o.name, o.obj)
	}
	if err := f.w.Finalize(context.Background(), f.canary, true); err != nil {
		t.Errorf("a second Finalize: %v", err)
	}
}

func TestFinalize_LeavesWhatItMadeWithoutRevertOnDeletion(t *testing.T) {
	f := newFixture(t, nil, withAutoscaler(nil))
	f.createTargetAutoscaler()
	f.ensurePrimary()
	if err := f.w.Finalize(context.Background(), f.canary, false); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	for _, o := range ours() {
		f.get(o.name, o.obj)
		if metav1.GetControllerOf(o.obj) != nil {
			t.Errorf("%T %s keeps the owner reference %+v; garbage collection would delete it", o.obj, o.name, o.obj.GetOwnerReferences())
		}
	}
}

// A Canary deleted without revertOnDeletion leaves the primary serving; a
// new Canary of the same name takes it over, without restarting it.
func TestEnsurePrimary_AdoptsWhatAnEarlierCanaryLeft(t *testing.T) {
	f := newFixture(t, nil, withAutoscaler(nil))
	f.createTargetAutoscaler()
	f.ensurePrimary()
	before := f.deployment("app-primary")
	if err := f.w.Finalize(context.Background(), f.canary, false); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	if err := env.Client.Delete(context.Background(), f.canary); err != nil {
		t.Fatalf("delete Canary: %v", err)
	}
	f.canary = &meshv1alpha1.Canary{ObjectMeta: f.meta("app"), Spec: *f.canary.Spec.DeepCopy()}
	f.create(f.canary)

	if p := f.ensurePrimary(); p.Created {
		t.Error("EnsurePrimary says it created a primary that was there")
	}
	for _, o := range ours() {
		f.get(o.name, o.obj)
		f.controlledByCanary(o.obj)
	}
	if after := f.deployment("app-primary"); after.Generation != before.Generation {
		t.Errorf("adoption changed the primary's spec (generation %d -> %d)", before.Generation, after.Generation)
	}
}
