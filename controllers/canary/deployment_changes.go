package canary

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// deploymentChanges passes the Deployment updates a Canary acts on: a new
// spec (generation, which covers the pod template and replicas) and the
// status fields readiness is judged by. The Deployment controller also
// rewrites condition timestamps and messages on every sync; reconciling
// every Canary for those would be most of an idle manager's work.
var deploymentChanges = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, okOld := e.ObjectOld.(*appsv1.Deployment)
		cur, okNew := e.ObjectNew.(*appsv1.Deployment)
		if !okOld || !okNew {
			return true
		}
		return deploymentChangeMatters(old, cur)
	},
}

func deploymentChangeMatters(old, cur *appsv1.Deployment) bool {
	if old.Generation != cur.Generation || !cur.DeletionTimestamp.Equal(old.DeletionTimestamp) ||
		!equality.Semantic.DeepEqual(old.Spec.Replicas, cur.Spec.Replicas) {
		return true
	}
	o, n := old.Status, cur.Status
	return o.ObservedGeneration != n.ObservedGeneration || o.Replicas != n.Replicas ||
		o.UpdatedReplicas != n.UpdatedReplicas || o.ReadyReplicas != n.ReadyReplicas ||
		o.AvailableReplicas != n.AvailableReplicas || o.UnavailableReplicas != n.UnavailableReplicas ||
		progressDeadlineExceeded(old) != progressDeadlineExceeded(cur)
}

func progressDeadlineExceeded(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return true
		}
	}
	return false
}
