package workload

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// ScaleTarget sets the target's replicas: 0 after bootstrap and after a
// run, up for a run, and back to the primary's replicas (Primary.Replicas)
// on deletion. It changes nothing else of the user's object (a merge patch
// of spec.replicas only) and nothing when the count is already right.
func (w *Workloads) ScaleTarget(ctx context.Context, c *meshv1alpha1.Canary, replicas int32) error {
	target, err := w.target(ctx, c)
	if err != nil {
		return err
	}
	if ptr.Deref(target.Spec.Replicas, 1) == replicas {
		return nil
	}
	// Written out rather than diffed from two copies of the whole Deployment.
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas))
	if err := w.client.Patch(ctx, target, patch, client.FieldOwner(FieldManager)); err != nil {
		return fmt.Errorf("scale target Deployment %s/%s to %d: %w", target.Namespace, target.Name, replicas, err)
	}
	w.wroteDeployment(client.ObjectKeyFromObject(target), target.Generation)
	return nil
}
