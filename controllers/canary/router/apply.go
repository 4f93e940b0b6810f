package router

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// How objects reach the API server. Writes are server-side applies of typed
// objects turned into unstructured ones: the typed Go types (Gateway API,
// Istio, SMI) say what we mean, and going through unstructured lets one
// client write any provider's kinds without registering them in its scheme.
// Reads are unstructured too, so they bypass a manager's cache: a split
// written a moment ago is what the next Routes call sees.

// ownerReference makes the Canary the controller of an object we create, so
// that it is garbage collected with the Canary unless Finalize orphans it.
func ownerReference(c *meshv1alpha1.Canary) metav1.OwnerReference {
	gvk := meshv1alpha1.GroupVersion.WithKind("Canary")
	return metav1.OwnerReference{
		APIVersion:         gvk.GroupVersion().String(),
		Kind:               gvk.Kind,
		Name:               c.Name,
		UID:                c.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}

// applyObject server-side applies obj (a typed object with apiVersion and
// kind set) as FieldManager, taking over fields other managers set to other
// values. Only what obj sets is claimed: the status and the zero creation
// timestamp that typed objects always serialise are dropped.
func applyObject(ctx context.Context, cl client.Client, obj client.Object) error {
	u, err := toUnstructured(obj)
	if err != nil {
		return err
	}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	err = cl.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership)
	if err != nil {
		return fmt.Errorf("apply %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return nil
}

// toUnstructured goes through JSON rather than the reflection converter so
// that custom marshalers (Istio's protobuf types) are honoured.
func toUnstructured(obj client.Object) (*unstructured.Unstructured, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
	}
	u := &unstructured.Unstructured{}
	// utiljson keeps whole numbers int64, as unstructured objects require.
	if err := utiljson.Unmarshal(raw, &u.Object); err != nil {
		return nil, fmt.Errorf("decode %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
	}
	return u, nil
}

// getObject reads the object of kind gvk named key into out (a typed object)
// straight from the API server.
func getObject(ctx context.Context, cl client.Reader, gvk schema.GroupVersionKind, key types.NamespacedName, out any) error {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := cl.Get(ctx, key, u); err != nil {
		return fmt.Errorf("get %s %s: %w", gvk.Kind, key, err)
	}
	raw, err := u.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", gvk.Kind, key, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode %s %s: %w", gvk.Kind, key, err)
	}
	return nil
}

// finalizeObject deletes an object the Canary controls when remove is true;
// otherwise (or when the Canary does not control it) it only drops the
// Canary's owner reference, so garbage collection leaves it in place. A
// missing object is fine.
func finalizeObject(ctx context.Context, cl client.Client, c *meshv1alpha1.Canary, gvk schema.GroupVersionKind, name string, remove bool) error {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	key := types.NamespacedName{Namespace: c.Namespace, Name: name}
	if err := cl.Get(ctx, key, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("get %s %s: %w", gvk.Kind, key, err)
	}
	if remove && metav1.IsControlledBy(u, c) {
		err := cl.Delete(ctx, u, client.Preconditions{UID: ptr.To(u.GetUID())})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete %s %s: %w", gvk.Kind, key, err)
		}
		return nil
	}
	return orphan(ctx, cl, c, u)
}

// orphan removes the Canary's owner reference from u (read just before),
// with an optimistic lock so that a concurrent change is not lost.
func orphan(ctx context.Context, cl client.Client, c *meshv1alpha1.Canary, u *unstructured.Unstructured) error {
	refs := u.GetOwnerReferences()
	kept := refs[:0:0]
	for _, ref := range refs {
		if ref.UID != c.UID {
			kept = append(kept, ref)
		}
	}
	if len(kept) == len(refs) {
		return nil
	}
	base := u.DeepCopy()
	u.SetOwnerReferences(kept)
	if err := cl.Patch(ctx, u, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldManager)); err != nil {
		return fmt.Errorf("orphan %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return nil
}
