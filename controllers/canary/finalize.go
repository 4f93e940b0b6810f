package canary

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/controllers/canary/router"
	"github.com/sluicemesh/sluice/controllers/canary/workload"
)

// finalize makes deleting a Canary never take the application down: traffic
// goes to the primary, the target is scaled back up to the primary's replicas
// and waited for, and the apex Service is pointed back at the target; only
// then are our objects removed (spec.revertOnDeletion) or left in place, and
// the finalizer dropped.
func (r *Reconciler) finalize(ctx context.Context, s *scope) (ctrl.Result, error) {
	c := s.canary
	if !controllerutil.ContainsFinalizer(c, Finalizer) {
		s.removed = true
		return ctrl.Result{}, nil
	}
	s.setPhase(meshv1alpha1.CanaryPhaseTerminating)

	replicas := int32(1)
	switch primary, err := r.workloads.PrimaryStatus(ctx, c); {
	case err == nil:
		replicas = max(primary.Replicas, 1)
	case !apierrors.IsNotFound(err):
		return ctrl.Result{}, fmt.Errorf("read the primary of %s/%s: %w", c.Namespace, c.Name, err)
	}
	targetExists := true
	if err := r.workloads.ScaleTarget(ctx, c, replicas); err != nil {
		if !errors.Is(err, workload.ErrTargetNotFound) {
			return ctrl.Result{}, err
		}
		targetExists = false
	}
	if targetExists {
		// The route may be mid-run: the primary keeps serving until the
		// target is ready. A missing route object is fine here.
		if err := s.router.SetRoutes(ctx, c, router.AllPrimary); err != nil && !apierrors.IsNotFound(err) {
			ctrl.LoggerFrom(ctx).Info("Could not route all traffic to the primary before finalizing", "error", err.Error())
		}
		ready, why, err := r.workloads.TargetReady(ctx, c)
		if err != nil {
			return ctrl.Result{}, err
		}
		if !ready {
			s.detail = "waiting for the target to serve again: " + why
			s.halt = true
			return ctrl.Result{}, nil
		}
	}
	if err := s.router.Finalize(ctx, c, c.Spec.RevertOnDeletion); err != nil {
		return ctrl.Result{}, fmt.Errorf("finalize the routes of %s/%s: %w", c.Namespace, c.Name, err)
	}
	if err := r.workloads.Finalize(ctx, c, c.Spec.RevertOnDeletion); err != nil {
		return ctrl.Result{}, fmt.Errorf("finalize the primary of %s/%s: %w", c.Namespace, c.Name, err)
	}
	s.setPhase(meshv1alpha1.CanaryPhaseTerminated)
	r.normal(ctx, s, ReasonTerminated, "The target serves again; removed our objects: %t", c.Spec.RevertOnDeletion)
	before := c.DeepCopy()
	controllerutil.RemoveFinalizer(c, Finalizer)
	if err := s.patchMetadata(ctx, r.Client, before); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	s.removed = true
	return ctrl.Result{}, nil
}
