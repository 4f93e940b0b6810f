package router

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// routeObject is one route object a provider writes for a Canary.
type routeObject struct {
	gvk  schema.GroupVersionKind
	name func(*meshv1alpha1.Canary) string
}

// routeObjectsOf lists the route objects each provider writes. The three
// HTTPRoute providers share the one HTTPRoute: switching between them
// rewrites it in place.
func routeObjectsOf(p meshv1alpha1.Provider) []routeObject {
	switch p {
	case meshv1alpha1.ProviderSluice, meshv1alpha1.ProviderLinkerd, meshv1alpha1.ProviderGatewayAPI, "":
		return []routeObject{{httpRouteGVK, apexName}}
	case meshv1alpha1.ProviderIstio:
		return []routeObject{{virtualServiceGVK, apexName}, {destinationRuleGVK, primaryName}, {destinationRuleGVK, canaryName}}
	case meshv1alpha1.ProviderSMI:
		return []routeObject{{trafficSplitGVK, apexName}}
	default: // kubernetes: the apex Service is the route
		return nil
	}
}

var allProviders = []meshv1alpha1.Provider{
	meshv1alpha1.ProviderSluice, meshv1alpha1.ProviderIstio, meshv1alpha1.ProviderSMI, meshv1alpha1.ProviderKubernetes,
}

// RemoveStale deletes the route objects a Canary controls that its current
// provider does not use: left over from before spec.provider changed, an
// HTTPRoute at 100/0 on the apex would otherwise keep sending every request
// to the primary whatever the new provider does. Call it after the current
// provider's Reconcile, so that the new routes exist before the old ones go.
// Kinds whose CRDs are not installed hold nothing to remove.
func RemoveStale(ctx context.Context, cl client.Client, c *meshv1alpha1.Canary) error {
	current := map[schema.GroupVersionKind]bool{}
	for _, o := range routeObjectsOf(c.Spec.Provider) {
		current[o.gvk] = true
	}
	for _, p := range allProviders {
		for _, o := range routeObjectsOf(p) {
			if current[o.gvk] {
				continue
			}
			err := finalizeObject(ctx, cl, c, o.gvk, o.name(c), true)
			if err != nil && !meta.IsNoMatchError(err) {
				return fmt.Errorf("remove what provider %s left: %w", p, err)
			}
		}
	}
	return nil
}
