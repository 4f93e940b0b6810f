package workload

import (
	"context"
	"errors"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// ErrAutoscalerNotFound: spec.autoscalerRef names no HorizontalPodAutoscaler.
var ErrAutoscalerNotFound = errors.New("autoscaler not found")

// autoscalerName is the name of the primary's autoscaler.
func autoscalerName(c *meshv1alpha1.Canary) string {
	return primaryCopyName(c.Spec.AutoscalerRef.Name)
}

// ensureAutoscaler copies the target's HorizontalPodAutoscaler for the
// primary (`<hpa>-primary`): same metrics and behaviour, scaleTargetRef
// pointed at the primary, and replica bounds from
// spec.autoscalerRef.primaryScalerReplicas where set. It follows the
// target's autoscaler on every call: the autoscaler is not part of a
// revision.
func (w *Workloads) ensureAutoscaler(ctx context.Context, c *meshv1alpha1.Canary) error {
	ref := c.Spec.AutoscalerRef
	src := &autoscalingv2.HorizontalPodAutoscaler{}
	key := types.NamespacedName{Namespace: c.Namespace, Name: ref.Name}
	if err := w.reader.Get(ctx, key, src); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("HorizontalPodAutoscaler %s: %w", key, ErrAutoscalerNotFound)
		}
		return fmt.Errorf("read HorizontalPodAutoscaler %s: %w", key, err)
	}
	existing := &autoscalingv2.HorizontalPodAutoscaler{}
	err := w.reader.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: autoscalerName(c)}, existing)
	switch {
	case err == nil:
		if err := checkOwner(existing, c); err != nil {
			return err
		}
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("read HorizontalPodAutoscaler %s/%s: %w", c.Namespace, autoscalerName(c), err)
	}
	spec := *src.Spec.DeepCopy()
	spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: PrimaryName(c)}
	if bounds := ref.PrimaryScalerReplicas; bounds != nil {
		if bounds.MinReplicas != nil {
			spec.MinReplicas = bounds.MinReplicas
		}
		if bounds.MaxReplicas != nil {
			spec.MaxReplicas = *bounds.MaxReplicas
		}
	}
	meta := copyMeta(c, src.ObjectMeta)
	meta.Name = autoscalerName(c)
	return apply(ctx, w.client, &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: meta,
		Spec:       spec,
	}, nil)
}
