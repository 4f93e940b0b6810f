package canary

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestDeploymentChangeMatters(t *testing.T) {
	base := func() *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "app", Generation: 3},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2,
				Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: "True", Reason: "NewReplicaSetAvailable",
					LastUpdateTime: metav1.NewTime(time.Unix(100, 0))}}},
		}
	}
	for _, tt := range []struct {
		name   string
		change func(d *appsv1.Deployment)
		want   bool
	}{
		{"condition timestamp only", func(d *appsv1.Deployment) {
			d.Status.Conditions[0].LastUpdateTime = metav1.NewTime(time.Unix(200, 0))
			d.ResourceVersion = "9"
		}, false},
		{"a label", func(d *appsv1.Deployment) { d.Labels = map[string]string{"team": "a"} }, false},
		{"new pod template", func(d *appsv1.Deployment) { d.Generation = 4 }, true},
		{"scaled", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](0) }, true},
		{"observed", func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 4 }, true},
		{"one replica less ready", func(d *appsv1.Deployment) { d.Status.ReadyReplicas = 1 }, true},
		{"one replica less available", func(d *appsv1.Deployment) { d.Status.AvailableReplicas = 1 }, true},
		{"old replicas gone", func(d *appsv1.Deployment) { d.Status.Replicas = 3 }, true},
		{"progress deadline exceeded", func(d *appsv1.Deployment) { d.Status.Conditions[0].Reason = "ProgressDeadlineExceeded" }, true},
		{"being deleted", func(d *appsv1.Deployment) { d.DeletionTimestamp = ptr.To(metav1.Now()) }, true},
	} {
		old, cur := base(), base()
		tt.change(cur)
		if got := deploymentChangeMatters(old, cur); got != tt.want {
			t.Errorf("%s: matters = %t, want %t", tt.name, got, tt.want)
		}
	}
}
