package workload

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// ownerReference makes the Canary the controller of an object we create, so
// that it goes with the Canary unless Finalize orphans it.
func ownerReference(c *meshv1alpha1.Canary) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         meshv1alpha1.GroupVersion.String(),
		Kind:               "Canary",
		Name:               c.Name,
		UID:                c.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}

// checkOwner refuses an existing object unless the Canary controls it or
// it is an orphan a Canary of this name made (see CanaryAnnotation).
func checkOwner(obj client.Object, c *meshv1alpha1.Canary) error {
	ref := metav1.GetControllerOf(obj)
	switch {
	case ref != nil && ref.UID == c.UID:
		return nil
	case ref != nil:
		return fmt.Errorf("%s %s/%s %w: controlled by %s %s", kindName(obj), obj.GetNamespace(), obj.GetName(), ErrNotOurs, ref.Kind, ref.Name)
	case obj.GetAnnotations()[CanaryAnnotation] == c.Name:
		return nil
	default:
		return fmt.Errorf("%s %s/%s %w: it lacks the annotation %s=%s; rename or remove it", kindName(obj), obj.GetNamespace(), obj.GetName(), ErrNotOurs, CanaryAnnotation, c.Name)
	}
}

// ourMeta is the metadata of an object we create: controlled by the Canary
// and annotated with its name.
func ourMeta(c *meshv1alpha1.Canary, name string, labels, annotations map[string]string) metav1.ObjectMeta {
	annotations = maps.Clone(annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[CanaryAnnotation] = c.Name
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       c.Namespace,
		Labels:          labels,
		Annotations:     annotations,
		OwnerReferences: []metav1.OwnerReference{ownerReference(c)},
	}
}

// apply server-side applies obj (a typed object with apiVersion and kind
// set) as FieldManager, taking over fields other managers set to other
// values. Only the fields obj sets are claimed: status and null values
// (such as the zero creation timestamps typed objects serialise) are
// dropped. Fields we applied before and obj leaves out are removed by the
// API server, which is why callers always apply the whole of what they own.
//
// When result is not nil it receives the object as the API server returned
// it, so callers need no second read to see, e.g., the new generation.
func apply(ctx context.Context, cl client.Client, obj client.Object, result client.Object) error {
	raw, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encode %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
	}
	u := &unstructured.Unstructured{}
	// utiljson keeps whole numbers int64, as unstructured objects require.
	if err := utiljson.Unmarshal(raw, &u.Object); err != nil {
		return fmt.Errorf("decode %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
	}
	delete(u.Object, "status")
	dropNulls(u.Object)
	if err := cl.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	if result != nil {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, result); err != nil {
			return fmt.Errorf("decode applied %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
	return nil
}

// dropNulls removes null values from nested maps (and maps in lists).
func dropNulls(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			dropNulls(v)
		case []any:
			for _, item := range v {
				if im, ok := item.(map[string]any); ok {
					dropNulls(im)
				}
			}
		}
	}
}

// kindName names the kinds this package writes, for messages (typed
// objects read by a client have an empty TypeMeta).
func kindName(obj client.Object) string {
	switch obj.(type) {
	case *appsv1.Deployment:
		return "Deployment"
	case *corev1.ConfigMap:
		return "ConfigMap"
	case *corev1.Secret:
		return "Secret"
	case *autoscalingv2.HorizontalPodAutoscaler:
		return "HorizontalPodAutoscaler"
	default:
		return fmt.Sprintf("%T", obj)
	}
}
