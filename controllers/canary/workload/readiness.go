package workload

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// deploymentReady says whether d finished rolling out and has at least
// thresholdPercent of its replicas available, and if not, why. A
// Deployment scaled to zero has nothing to wait for and is ready.
func deploymentReady(d *appsv1.Deployment, thresholdPercent int32) (bool, string) {
	if thresholdPercent <= 0 || thresholdPercent > 100 {
		thresholdPercent = 100
	}
	if d.Generation > d.Status.ObservedGeneration {
		return false, fmt.Sprintf("waiting for the Deployment controller to observe generation %d (observed %d)",
			d.Generation, d.Status.ObservedGeneration)
	}
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentProgressing && cond.Reason == "ProgressDeadlineExceeded" {
			return false, fmt.Sprintf("Deployment %s exceeded its progress deadline: %s", d.Name, cond.Message)
		}
	}
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	if desired == 0 {
		return true, ""
	}
	if d.Status.UpdatedReplicas < desired {
		return false, fmt.Sprintf("waiting for rollout: %d of %d replicas updated", d.Status.UpdatedReplicas, desired)
	}
	if old := d.Status.Replicas - d.Status.UpdatedReplicas; old > 0 {
		return false, fmt.Sprintf("waiting for rollout: %d old replicas pending termination", old)
	}
	// The smallest count that is at least thresholdPercent of desired.
	needed := (desired*thresholdPercent + 99) / 100
	if d.Status.AvailableReplicas < needed {
		return false, fmt.Sprintf("%d of %d replicas available, %d needed (ready threshold %d%%)",
			d.Status.AvailableReplicas, desired, needed, thresholdPercent)
	}
	return true, ""
}

// TargetReady says whether the target (the canary) finished rolling out
// with spec.analysis.canaryReadyThreshold percent of its replicas available;
// when not, the string says why, for status and Events. A target scaled to
// zero is ready.
func (w *Workloads) TargetReady(ctx context.Context, c *meshv1alpha1.Canary) (bool, string, error) {
	target, err := w.target(ctx, c)
	if err != nil {
		return false, "", err
	}
	ready, why := deploymentReady(target, c.Spec.Analysis.CanaryReadyThreshold)
	return ready, why, nil
}
