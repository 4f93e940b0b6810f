package workload

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func TestDeploymentReady(t *testing.T) {
	done := func(replicas, available int32) *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "app", Generation: 2},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(replicas)},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: replicas, UpdatedReplicas: replicas,
				AvailableReplicas: available},
		}
	}
	for _, tc := range []struct {
		name      string
		d         *appsv1.Deployment
		threshold int32
		ready     bool
		why       string
	}{
		{"all available", done(4, 4), 100, true, ""},
		{"one short of 100%", done(4, 3), 100, false, "3 of 4 replicas available, 4 needed"},
		{"half at 50%", done(4, 2), 50, true, ""},
		{"below 50%", done(4, 1), 50, false, "1 of 4 replicas available, 2 needed"},
		{"threshold rounds up", done(3, 1), 50, false, "2 needed"},
		{"unset threshold is 100%", done(2, 1), 0, false, "2 needed"},
		{"scaled to zero", done(0, 0), 100, true, ""},
		{"generation not observed", func() *appsv1.Deployment { d := done(2, 2); d.Generation = 3; return d }(), 100, false, "observe generation 3"},
		{"rollout not done", func() *appsv1.Deployment { d := done(2, 2); d.Status.UpdatedReplicas = 1; return d }(), 100, false, "1 of 2 replicas updated"},
		{"old pods terminating", func() *appsv1.Deployment { d := done(2, 2); d.Status.Replicas = 3; return d }(), 100, false, "1 old replicas"},
		{"progress deadline", func() *appsv1.Deployment {
			d := done(2, 0)
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet timed out"}}
			return d
		}(), 100, false, "progress deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ready, why := deploymentReady(tc.d, tc.threshold)
			if ready != tc.ready || !strings.Contains(why, tc.why) {
				t.Errorf("deploymentReady = %t, %q; want %t, containing %q", ready, why, tc.ready, tc.why)
			}
		})
	}
}

func TestEnsurePrimary_ReadyPerPrimaryReadyThreshold(t *testing.T) {
	f := newFixture(t, func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](4) },
		func(c *meshv1alpha1.Canary) { c.Spec.Analysis.PrimaryReadyThreshold = 50 })
	if p := f.ensurePrimary(); p.Ready || p.NotReady == "" {
		t.Fatalf("a primary no controller has looked at is ready: %+v", p)
	}
	f.rollout("app-primary", 1)
	if p := f.ensurePrimary(); p.Ready || !strings.Contains(p.NotReady, "1 of 4") {
		t.Errorf("1 of 4 available at threshold 50: %+v, want not ready saying 1 of 4", p)
	}
	f.rollout("app-primary", 2)
	p := f.ensurePrimary()
	if !p.Ready || p.AvailableReplicas != 2 || p.Replicas != 4 {
		t.Errorf("2 of 4 available at threshold 50: %+v, want ready", p)
	}
	if s, err := f.w.PrimaryStatus(context.Background(), f.canary); err != nil || s.Ready != p.Ready || s.Replicas != 4 {
		t.Errorf("PrimaryStatus = %+v, %v; want what EnsurePrimary reported", s, err)
	}
}

func TestTargetReady_PerCanaryReadyThreshold(t *testing.T) {
	f := newFixture(t, func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](4) },
		func(c *meshv1alpha1.Canary) { c.Spec.Analysis.CanaryReadyThreshold = 75 })
	f.rollout("app", 2)
	ready, why, err := f.w.TargetReady(context.Background(), f.canary)
	if err != nil || ready || !strings.Contains(why, "3 needed") {
		t.Errorf("2 of 4 at threshold 75: %t, %q, %v; want not ready, 3 needed", ready, why, err)
	}
	f.rollout("app", 3)
	if ready, why, err := f.w.TargetReady(context.Background(), f.canary); err != nil || !ready {
		t.Errorf("3 of 4 at threshold 75: %t, %q, %v; want ready", ready, why, err)
	}
}

func TestScaleTarget_ChangesOnlyReplicas(t *testing.T) {
	f := newFixture(t, nil, nil)
	before := f.deployment("app")
	if err := f.w.ScaleTarget(context.Background(), f.canary, 0); err != nil {
		t.Fatalf("ScaleTarget 0: %v", err)
	}
	after := f.deployment("app")
	if got := ptr.Deref(after.Spec.Replicas, -1); got != 0 {
		t.Fatalf("target replicas %d after ScaleTarget 0", got)
	}
	if templateHash(&after.Spec.Template) != templateHash(&before.Spec.Template) {
		t.Error("ScaleTarget changed the target's pod template")
	}
	if err := f.w.ScaleTarget(context.Background(), f.canary, 3); err != nil {
		t.Fatalf("ScaleTarget 3: %v", err)
	}
	if got := ptr.Deref(f.deployment("app").Spec.Replicas, -1); got != 3 {
		t.Errorf("target replicas %d after ScaleTarget 3", got)
	}
}
