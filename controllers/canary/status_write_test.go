package canary

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// The status write carries the status alone: the user's spec, labels and
// annotations survive it, and a Canary changed since the pass read it is not
// overwritten (the write conflicts and the next pass decides afresh).
func TestFinishStatus_WritesOnlyTheStatusAndNeverOverAChangeItDidNotSee(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	ns := env.NewNamespace(t)
	created := &meshv1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns, Labels: map[string]string{"team": "shop"}},
		Spec: meshv1alpha1.CanarySpec{
			TargetRef: meshv1alpha1.TargetReference{Name: "app"},
			Service:   meshv1alpha1.CanaryService{Port: 80, TargetPort: ptr.To(intstr.FromInt32(8080))},
			Analysis:  meshv1alpha1.CanaryAnalysis{Interval: &metav1.Duration{Duration: time.Minute}, Threshold: 3, StepWeight: ptr.To[int32](20)},
		},
	}
	if err := env.Client.Create(ctx, created); err != nil {
		t.Fatal(err)
	}
	r := &Reconciler{Client: env.Client}
	pass := func(phase meshv1alpha1.CanaryPhase) (*meshv1alpha1.Canary, *scope) {
		var c meshv1alpha1.Canary
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(created), &c); err != nil {
			t.Fatal(err)
		}
		s := &scope{canary: &c, now: time.Now()}
		s.setPhase(phase)
		return c.DeepCopy(), s
	}
	stored := func() *meshv1alpha1.Canary {
		var c meshv1alpha1.Canary
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(created), &c); err != nil {
			t.Fatal(err)
		}
		return &c
	}

	base, s := pass(meshv1alpha1.CanaryPhaseInitialized)
	if err := r.finishStatus(ctx, s, base, true); err != nil {
		t.Fatalf("finishStatus: %v", err)
	}
	got := stored()
	if got.Status.Phase != meshv1alpha1.CanaryPhaseInitialized || got.Status.ObservedGeneration != got.Generation {
		t.Errorf("status = phase %q observedGeneration %d, want Initialized at generation %d", got.Status.Phase, got.Status.ObservedGeneration, got.Generation)
	}
	if got.Labels["team"] != "shop" || ptr.Deref(got.Spec.Analysis.StepWeight, 0) != 20 || got.Spec.Analysis.Threshold != 3 {
		t.Errorf("the write changed more than the status: labels %v, analysis %+v", got.Labels, got.Spec.Analysis)
	}
	if s.canary.ResourceVersion != got.ResourceVersion {
		t.Errorf("the pass ends at resourceVersion %s, the API server holds %s: the next pass would distrust its cache", s.canary.ResourceVersion, got.ResourceVersion)
	}

	base, s = pass(meshv1alpha1.CanaryPhaseProgressing)
	user := stored()
	user.Annotations = map[string]string{ActionAnnotation: "abort"}
	if err := env.Client.Update(ctx, user); err != nil {
		t.Fatal(err)
	}
	err := r.finishStatus(ctx, s, base, true)
	if !apierrors.IsConflict(err) {
		t.Errorf("finishStatus over a change it did not see: error %v, want a conflict", err)
	}
	if got := stored(); got.Status.Phase != meshv1alpha1.CanaryPhaseInitialized || got.Annotations[ActionAnnotation] != "abort" {
		t.Errorf("after the conflict: phase %q, annotations %v; want Initialized and the user's action kept", got.Status.Phase, got.Annotations)
	}
}
