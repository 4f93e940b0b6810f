package router

import (
	"context"
	"strings"

	"google.golang.org/protobuf/types/known/durationpb"
	istiov1 "istio.io/api/networking/v1"
	istionetworkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

var (
	virtualServiceGVK  = schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService"}
	destinationRuleGVK = schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "DestinationRule"}
)

// IstioRouter writes a VirtualService `<app>` (hosts: `<app>` and
// spec.service.hosts) with the http routes canary-match (A/B: matching
// requests to `<app>-canary`) and split (weighted destinations
// `<app>-primary` and `<app>-canary`, optional mirror with
// mirrorPercentage), each with spec.service's timeout, retries and header
// operations; and the DestinationRules `<app>-primary` and `<app>-canary`.
// spec.service.gatewayRefs are Gateway API references and do not apply: the
// VirtualService serves the mesh.
type IstioRouter struct {
	client   client.Client
	services *Services
}

var _ Router = (*IstioRouter)(nil)

// Reconcile implements Router.
func (r *IstioRouter) Reconcile(ctx context.Context, c *meshv1alpha1.Canary) error {
	if err := r.services.Reconcile(ctx, c); err != nil {
		return err
	}
	for _, host := range []string{primaryName(c), canaryName(c)} {
		if err := applyObject(ctx, r.client, destinationRule(c, host)); err != nil {
			return err
		}
	}
	current, err := keptSplit(r.Routes(ctx, c))
	if err != nil {
		return err
	}
	return applyObject(ctx, r.client, virtualService(c, current.sanitizedFor(c, true, true)))
}

// Routes implements Router.
func (r *IstioRouter) Routes(ctx context.Context, c *meshv1alpha1.Canary) (Routes, error) {
	vs := &istionetworkingv1.VirtualService{}
	key := types.NamespacedName{Namespace: c.Namespace, Name: apexName(c)}
	if err := getObject(ctx, r.client, virtualServiceGVK, key, vs); err != nil {
		return Routes{}, err
	}
	var routes Routes
	split := false
	for _, http := range vs.Spec.Http {
		switch http.Name {
		case matchRuleName:
			routes.Match = destinationWeight(http.Route, canaryName(c)) > 0
		case splitRuleName:
			split = true
			routes.PrimaryWeight = destinationWeight(http.Route, primaryName(c))
			routes.CanaryWeight = destinationWeight(http.Route, canaryName(c))
			routes.Mirror = http.Mirror != nil && http.Mirror.Host == canaryName(c)
		}
	}
	if !split {
		return Routes{}, unreadable("VirtualService %s has no http route named %q", key, splitRuleName)
	}
	return routes, nil
}

// SetRoutes implements Router.
func (r *IstioRouter) SetRoutes(ctx context.Context, c *meshv1alpha1.Canary, routes Routes) error {
	if err := routes.validateFor(c, true, true); err != nil {
		return err
	}
	return applyObject(ctx, r.client, virtualService(c, routes))
}

// Finalize implements Router.
func (r *IstioRouter) Finalize(ctx context.Context, c *meshv1alpha1.Canary, remove bool) error {
	if err := r.services.FinalizeApex(ctx, c); err != nil {
		return err
	}
	if err := finalizeObject(ctx, r.client, c, virtualServiceGVK, apexName(c), remove); err != nil {
		return err
	}
	for _, name := range []string{primaryName(c), canaryName(c)} {
		if err := finalizeObject(ctx, r.client, c, destinationRuleGVK, name, remove); err != nil {
			return err
		}
	}
	return r.services.FinalizeBackends(ctx, c, remove)
}

// destinationWeight is the weight of the destination whose host is host. A
// weight of 0 is not serialised by Istio's JSON, so absent means 0 too.
func destinationWeight(dests []*istiov1.HTTPRouteDestination, host string) int32 {
	for _, d := range dests {
		if d.Destination != nil && d.Destination.Host == host {
			if len(dests) == 1 && d.Weight == 0 {
				return 100 // a lone destination takes everything
			}
			return d.Weight
		}
	}
	return 0
}

func destinationRule(c *meshv1alpha1.Canary, host string) *istionetworkingv1.DestinationRule {
	dr := &istionetworkingv1.DestinationRule{
		TypeMeta: metav1.TypeMeta{APIVersion: destinationRuleGVK.GroupVersion().String(), Kind: destinationRuleGVK.Kind},
		ObjectMeta: metav1.ObjectMeta{
			Name:            host,
			Namespace:       c.Namespace,
			OwnerReferences: []metav1.OwnerReference{ownerReference(c)},
		},
	}
	dr.Spec.Host = host
	return dr
}

// virtualService is the whole VirtualService for routes.
func virtualService(c *meshv1alpha1.Canary, routes Routes) *istionetworkingv1.VirtualService {
	svc := c.Spec.Service
	vs := &istionetworkingv1.VirtualService{
		TypeMeta: metav1.TypeMeta{APIVersion: virtualServiceGVK.GroupVersion().String(), Kind: virtualServiceGVK.Kind},
		ObjectMeta: metav1.ObjectMeta{
			Name:            apexName(c),
			Namespace:       c.Namespace,
			OwnerReferences: []metav1.OwnerReference{ownerReference(c)},
		},
	}
	vs.Spec.Hosts = []string{apexName(c)}
	for _, h := range svc.Hosts {
		vs.Spec.Hosts = append(vs.Spec.Hosts, string(h))
	}
	destination := func(host string, weight int32) *istiov1.HTTPRouteDestination {
		return &istiov1.HTTPRouteDestination{Destination: &istiov1.Destination{Host: host}, Weight: weight}
	}
	// common sets what both routes carry from spec.service.
	common := func(h *istiov1.HTTPRoute) *istiov1.HTTPRoute {
		if svc.Timeout != nil {
			h.Timeout = durationpb.New(svc.Timeout.Duration)
		}
		h.Retries = istioRetries(svc.Retries)
		h.Headers = istioHeaders(svc.Headers)
		return h
	}
	if routes.Match {
		var matches []*istiov1.HTTPMatchRequest
		for _, m := range c.Spec.Analysis.Match {
			matches = append(matches, istioMatch(m))
		}
		vs.Spec.Http = append(vs.Spec.Http, common(&istiov1.HTTPRoute{
			Name:  matchRuleName,
			Match: matches,
			Route: []*istiov1.HTTPRouteDestination{destination(canaryName(c), 100)},
		}))
	}
	split := common(&istiov1.HTTPRoute{
		Name: splitRuleName,
		Route: []*istiov1.HTTPRouteDestination{
			destination(primaryName(c), routes.PrimaryWeight),
			destination(canaryName(c), routes.CanaryWeight),
		},
	})
	if routes.Mirror {
		split.Mirror = &istiov1.Destination{Host: canaryName(c)}
		if w := c.Spec.Analysis.MirrorWeight; w != nil {
			split.MirrorPercentage = &istiov1.Percent{Value: float64(*w)}
		}
	}
	vs.Spec.Http = append(vs.Spec.Http, split)
	return vs
}

// istioMatch turns Gateway API header and query matches into Istio's: header
// names lower-cased (Istio requires it), Exact or RegularExpression values.
func istioMatch(m meshv1alpha1.CanaryMatch) *istiov1.HTTPMatchRequest {
	match := &istiov1.HTTPMatchRequest{}
	for _, h := range m.Headers {
		if match.Headers == nil {
			match.Headers = map[string]*istiov1.StringMatch{}
		}
		regex := ptr.Deref(h.Type, gatewayv1.HeaderMatchExact) == gatewayv1.HeaderMatchRegularExpression
		match.Headers[strings.ToLower(string(h.Name))] = stringMatch(h.Value, regex)
	}
	for _, q := range m.QueryParams {
		if match.QueryParams == nil {
			match.QueryParams = map[string]*istiov1.StringMatch{}
		}
		regex := ptr.Deref(q.Type, gatewayv1.QueryParamMatchExact) == gatewayv1.QueryParamMatchRegularExpression
		match.QueryParams[string(q.Name)] = stringMatch(q.Value, regex)
	}
	return match
}

func stringMatch(value string, regex bool) *istiov1.StringMatch {
	if regex {
		return &istiov1.StringMatch{MatchType: &istiov1.StringMatch_Regex{Regex: value}}
	}
	return &istiov1.StringMatch{MatchType: &istiov1.StringMatch_Exact{Exact: value}}
}

// istioRetries: Istio's retryOn names are ours.
func istioRetries(r *meshv1alpha1.Retries) *istiov1.HTTPRetry {
	if r == nil {
		return nil
	}
	var on []string
	for _, cond := range retryConditions(r) {
		on = append(on, string(cond))
	}
	retry := &istiov1.HTTPRetry{Attempts: ptr.Deref(r.Attempts, defaultRetryAttempts), RetryOn: strings.Join(on, ",")}
	if r.PerTryTimeout != nil {
		retry.PerTryTimeout = durationpb.New(r.PerTryTimeout.Duration)
	}
	return retry
}

func istioHeaders(h *meshv1alpha1.HeaderModifiers) *istiov1.Headers {
	if h == nil {
		return nil
	}
	return &istiov1.Headers{Request: istioHeaderOps(h.Request), Response: istioHeaderOps(h.Response)}
}

func istioHeaderOps(f *gatewayv1.HTTPHeaderFilter) *istiov1.Headers_HeaderOperations {
	if f == nil {
		return nil
	}
	ops := &istiov1.Headers_HeaderOperations{Remove: f.Remove}
	for _, h := range f.Set {
		if ops.Set == nil {
			ops.Set = map[string]string{}
		}
		ops.Set[string(h.Name)] = h.Value
	}
	for _, h := range f.Add {
		if ops.Add == nil {
			ops.Add = map[string]string{}
		}
		ops.Add[string(h.Name)] = h.Value
	}
	return ops
}
