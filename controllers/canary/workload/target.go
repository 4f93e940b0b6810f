package workload

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/controllers/canary/router"
)

// target reads the Canary's target workload. This is where another kind
// would be dispatched to.
func (w *Workloads) target(ctx context.Context, c *meshv1alpha1.Canary) (*appsv1.Deployment, error) {
	if kind := c.Spec.TargetRef.Kind; kind != "" && kind != meshv1alpha1.TargetKindDeployment {
		return nil, fmt.Errorf("target %s %s/%s: kind not supported, only Deployment", kind, c.Namespace, c.Spec.TargetRef.Name)
	}
	d := &appsv1.Deployment{}
	key := types.NamespacedName{Namespace: c.Namespace, Name: c.Spec.TargetRef.Name}
	if err := w.getDeployment(ctx, key, d); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("target Deployment %s: %w", key, ErrTargetNotFound)
		}
		return nil, fmt.Errorf("read target Deployment %s: %w", key, err)
	}
	return d, nil
}

// selectorLabel is the pod label that tells primary pods from canary pods:
// the target's pods carry key=value, the primary's key=value-primary.
type selectorLabel struct{ key, value string }

func (s selectorLabel) primaryValue() string { return primaryCopyName(s.value) }

// selectorOf picks the selector label exactly as the router does for the
// Services, so that they select the pods this package labels.
func (w *Workloads) selectorOf(c *meshv1alpha1.Canary, target *appsv1.Deployment) (selectorLabel, error) {
	key, value, err := router.TargetSelector(target.Spec.Template.Labels, w.selectorLabels)
	if err != nil {
		return selectorLabel{}, fmt.Errorf("target Deployment %s/%s: %w", c.Namespace, target.Name, err)
	}
	return selectorLabel{key: key, value: value}, nil
}
