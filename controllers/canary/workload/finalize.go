package workload

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// Finalize is called on Canary deletion only AFTER the target serves again
// (ScaleTarget to Primary.Replicas, TargetReady, and the router's Finalize
// pointing the apex Service back at it), so deleting a Canary never takes
// the application down. With remove (spec.revertOnDeletion) it deletes the
// primary, its autoscaler and the config copies the primary references;
// without, it drops the Canary's owner reference from them so that garbage
// collection leaves them in place. Only objects the Canary controls are
// deleted; missing ones are fine.
func (w *Workloads) Finalize(ctx context.Context, c *meshv1alpha1.Canary, remove bool) error {
	primary := &appsv1.Deployment{}
	var owned []client.Object
	err := w.reader.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: PrimaryName(c)}, primary)
	switch {
	case err == nil:
		// The primary first, so that its pods go before their configs.
		owned = append(owned, primary)
		forEachConfigRef(&primary.Spec.Template.Spec, func(kind configKind, name *string, _ *bool) {
			meta := metav1.ObjectMeta{Namespace: c.Namespace, Name: *name}
			if kind == kindConfigMap {
				owned = append(owned, &corev1.ConfigMap{ObjectMeta: meta})
			} else {
				owned = append(owned, &corev1.Secret{ObjectMeta: meta})
			}
		})
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("read primary Deployment %s/%s: %w", c.Namespace, PrimaryName(c), err)
	}
	if c.Spec.AutoscalerRef != nil {
		owned = append(owned, &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: autoscalerName(c)}})
	}
	for _, obj := range owned {
		if err := w.release(ctx, c, obj, remove); err != nil {
			return err
		}
	}
	return nil
}

// release deletes obj (named by its key) if the Canary controls it and
// remove is set, or else drops the Canary's owner reference from it.
func (w *Workloads) release(ctx context.Context, c *meshv1alpha1.Canary, obj client.Object, remove bool) error {
	if err := w.reader.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("read %s %s/%s: %w", kindName(obj), obj.GetNamespace(), obj.GetName(), err)
	}
	if remove && metav1.IsControlledBy(obj, c) {
		err := w.client.Delete(ctx, obj, client.Preconditions{UID: ptr.To(obj.GetUID())})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete %s %s/%s: %w", kindName(obj), obj.GetNamespace(), obj.GetName(), err)
		}
		return nil
	}
	refs := obj.GetOwnerReferences()
	kept := make([]metav1.OwnerReference, 0, len(refs))
	for _, ref := range refs {
		if ref.UID != c.UID {
			kept = append(kept, ref)
		}
	}
	if len(kept) == len(refs) {
		return nil
	}
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	obj.SetOwnerReferences(kept)
	if err := w.client.Patch(ctx, obj, patch, client.FieldOwner(FieldManager)); err != nil {
		return fmt.Errorf("orphan %s %s/%s: %w", kindName(obj), obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}
