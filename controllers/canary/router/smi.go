package router

import (
	"context"

	splitv1alpha2 "github.com/servicemeshinterface/smi-sdk-go/pkg/apis/split/v1alpha2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

var trafficSplitGVK = splitv1alpha2.SchemeGroupVersion.WithKind("TrafficSplit")

// SMIRouter writes an SMI TrafficSplit v1alpha2 `<app>` (older Linkerd, Open
// Service Mesh) for the apex Service with the weighted backends
// `<app>-primary` and `<app>-canary`. SMI splits by weight only: no
// matching, no mirroring, no timeouts or retries.
type SMIRouter struct {
	client   client.Client
	services *Services
}

var _ Router = (*SMIRouter)(nil)

// Reconcile implements Router.
func (r *SMIRouter) Reconcile(ctx context.Context, c *meshv1alpha1.Canary) error {
	if err := r.services.Reconcile(ctx, c); err != nil {
		return err
	}
	current, err := keptSplit(r.Routes(ctx, c))
	if err != nil {
		return err
	}
	return applyObject(ctx, r.client, trafficSplit(c, current.sanitizedFor(c, false, false)))
}

// Routes implements Router.
func (r *SMIRouter) Routes(ctx context.Context, c *meshv1alpha1.Canary) (Routes, error) {
	ts := &splitv1alpha2.TrafficSplit{}
	key := types.NamespacedName{Namespace: c.Namespace, Name: apexName(c)}
	if err := getObject(ctx, r.client, trafficSplitGVK, key, ts); err != nil {
		return Routes{}, err
	}
	var routes Routes
	found := 0
	for _, b := range ts.Spec.Backends {
		switch b.Service {
		case primaryName(c):
			routes.PrimaryWeight = int32(b.Weight)
			found++
		case canaryName(c):
			routes.CanaryWeight = int32(b.Weight)
			found++
		}
	}
	if found != 2 {
		return Routes{}, unreadable("TrafficSplit %s does not have the backends %s and %s", key, primaryName(c), canaryName(c))
	}
	return routes, nil
}

// SetRoutes implements Router.
func (r *SMIRouter) SetRoutes(ctx context.Context, c *meshv1alpha1.Canary, routes Routes) error {
	if err := routes.validateFor(c, false, false); err != nil {
		return err
	}
	return applyObject(ctx, r.client, trafficSplit(c, routes))
}

// Finalize implements Router.
func (r *SMIRouter) Finalize(ctx context.Context, c *meshv1alpha1.Canary, remove bool) error {
	if err := r.services.FinalizeApex(ctx, c); err != nil {
		return err
	}
	if err := finalizeObject(ctx, r.client, c, trafficSplitGVK, apexName(c), remove); err != nil {
		return err
	}
	return r.services.FinalizeBackends(ctx, c, remove)
}

func trafficSplit(c *meshv1alpha1.Canary, routes Routes) *splitv1alpha2.TrafficSplit {
	return &splitv1alpha2.TrafficSplit{
		TypeMeta: metav1.TypeMeta{APIVersion: trafficSplitGVK.GroupVersion().String(), Kind: trafficSplitGVK.Kind},
		ObjectMeta: metav1.ObjectMeta{
			Name:            apexName(c),
			Namespace:       c.Namespace,
			OwnerReferences: []metav1.OwnerReference{ownerReference(c)},
		},
		Spec: splitv1alpha2.TrafficSplitSpec{
			Service: apexName(c),
			Backends: []splitv1alpha2.TrafficSplitBackend{
				{Service: primaryName(c), Weight: int(routes.PrimaryWeight)},
				{Service: canaryName(c), Weight: int(routes.CanaryWeight)},
			},
		},
	}
}
