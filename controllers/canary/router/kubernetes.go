package router

import (
	"context"
	"fmt"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// KubernetesRouter does blue/green without a mesh: the apex Service selects
// either the primary's pods (100/0) or the target's (0/100). It has no route
// object of its own, and no other split, matching or mirroring.
type KubernetesRouter struct {
	services *Services
}

var _ Router = (*KubernetesRouter)(nil)

// Reconcile implements Router: the Services, with the apex left on the side
// it selects.
func (r *KubernetesRouter) Reconcile(ctx context.Context, c *meshv1alpha1.Canary) error {
	return r.services.Reconcile(ctx, c)
}

// Routes implements Router.
func (r *KubernetesRouter) Routes(ctx context.Context, c *meshv1alpha1.Canary) (Routes, error) {
	toTarget, err := r.services.apexSelectsTarget(ctx, c)
	if err != nil {
		return Routes{}, err
	}
	if toTarget {
		return Routes{CanaryWeight: 100}, nil
	}
	return AllPrimary, nil
}

// SetRoutes implements Router.
func (r *KubernetesRouter) SetRoutes(ctx context.Context, c *meshv1alpha1.Canary, routes Routes) error {
	if err := routes.validateFor(c, false, false); err != nil {
		return err
	}
	if routes.CanaryWeight != 0 && routes.CanaryWeight != 100 {
		return fmt.Errorf("routes %s: provider kubernetes switches all traffic at once (100/0 or 0/100)", routes)
	}
	return r.services.pointApex(ctx, c, routes.CanaryWeight == 100)
}

// Finalize implements Router.
func (r *KubernetesRouter) Finalize(ctx context.Context, c *meshv1alpha1.Canary, remove bool) error {
	return r.services.Finalize(ctx, c, remove)
}
