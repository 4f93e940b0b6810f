package router

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

var httpRouteGVK = schema.GroupVersionKind{Group: gatewayv1.GroupName, Version: "v1", Kind: "HTTPRoute"}

// Names of the rules (and Istio http routes) we write, by which Routes finds
// them again.
const (
	// matchRuleName sends the requests matching spec.analysis.match to the
	// canary (A/B).
	matchRuleName = "canary-match"
	// splitRuleName splits the other requests by weight.
	splitRuleName = "split"
)

// httpRouteFlavour is what differs between the providers that write an
// HTTPRoute.
type httpRouteFlavour int

const (
	// meshFlavour (provider sluice): attached to the apex Service (GAMMA).
	meshFlavour httpRouteFlavour = iota
	// linkerdFlavour: attached to the apex Service; no mirroring (Linkerd
	// does not implement RequestMirror); retries as Linkerd's annotations.
	linkerdFlavour
	// gatewayFlavour (provider gatewayapi): attached to spec.service.
	// gatewayRefs, answering for spec.service.hosts (north-south).
	gatewayFlavour
)

// Linkerd's retry annotations on an HTTPRoute (Linkerd 2.16 and later).
const (
	linkerdRetryHTTP    = "retry.linkerd.io/http"
	linkerdRetryLimit   = "retry.linkerd.io/limit"
	linkerdRetryTimeout = "retry.linkerd.io/timeout"
)

// HTTPRouteRouter writes a Gateway API HTTPRoute `<app>` with two rules: the
// optional canary-match rule (requests matching spec.analysis.match to the
// canary) and the split rule (weighted backendRefs `<app>-primary` and
// `<app>-canary`, with an optional RequestMirror filter). Both carry
// spec.service's timeout, retries and header modifiers.
//
// Retries are the HTTPRoute `retry` field, in the experimental channel of
// Gateway API v1.6 (standard from v1.7): its CRD must be installed for
// spec.service.retries; for Linkerd they are annotations instead.
type HTTPRouteRouter struct {
	client   client.Client
	services *Services
	flavour  httpRouteFlavour
}

var _ Router = (*HTTPRouteRouter)(nil)

func (r *HTTPRouteRouter) canMirror() bool { return r.flavour != linkerdFlavour }

// Reconcile implements Router.
func (r *HTTPRouteRouter) Reconcile(ctx context.Context, c *meshv1alpha1.Canary) error {
	if err := r.services.Reconcile(ctx, c); err != nil {
		return err
	}
	current, err := keptSplit(r.Routes(ctx, c))
	if err != nil {
		return err
	}
	return r.apply(ctx, c, current.sanitizedFor(c, true, r.canMirror()))
}

// Routes implements Router.
func (r *HTTPRouteRouter) Routes(ctx context.Context, c *meshv1alpha1.Canary) (Routes, error) {
	route := &gatewayv1.HTTPRoute{}
	key := types.NamespacedName{Namespace: c.Namespace, Name: apexName(c)}
	if err := getObject(ctx, r.client, httpRouteGVK, key, route); err != nil {
		return Routes{}, err
	}
	var routes Routes
	split := false
	for _, rule := range route.Spec.Rules {
		switch ptr.Deref(rule.Name, "") {
		case matchRuleName:
			routes.Match = backendWeight(rule.BackendRefs, canaryName(c)) > 0
		case splitRuleName:
			split = true
			routes.PrimaryWeight = backendWeight(rule.BackendRefs, primaryName(c))
			routes.CanaryWeight = backendWeight(rule.BackendRefs, canaryName(c))
			for _, f := range rule.Filters {
				routes.Mirror = routes.Mirror || f.Type == gatewayv1.HTTPRouteFilterRequestMirror
			}
		}
	}
	if !split {
		return Routes{}, unreadable("HTTPRoute %s has no rule named %q", key, splitRuleName)
	}
	return routes, nil
}

// SetRoutes implements Router.
func (r *HTTPRouteRouter) SetRoutes(ctx context.Context, c *meshv1alpha1.Canary, routes Routes) error {
	if err := routes.validateFor(c, true, r.canMirror()); err != nil {
		return err
	}
	return r.apply(ctx, c, routes)
}

// Finalize implements Router.
func (r *HTTPRouteRouter) Finalize(ctx context.Context, c *meshv1alpha1.Canary, remove bool) error {
	if err := r.services.FinalizeApex(ctx, c); err != nil {
		return err
	}
	if err := finalizeObject(ctx, r.client, c, httpRouteGVK, apexName(c), remove); err != nil {
		return err
	}
	return r.services.FinalizeBackends(ctx, c, remove)
}

func (r *HTTPRouteRouter) apply(ctx context.Context, c *meshv1alpha1.Canary, routes Routes) error {
	route, err := r.desired(c, routes)
	if err != nil {
		return err
	}
	err = applyObject(ctx, r.client, route)
	if err != nil && strings.Contains(err.Error(), "retry: field not declared in schema") {
		return fmt.Errorf("spec.service.retries needs the HTTPRoute CRD of Gateway API's experimental channel (v1.6) or v1.7 or later: %w", err)
	}
	return err
}

// desired is the whole HTTPRoute for routes; every apply sends all of it, so
// what an earlier apply set and this one does not is removed.
func (r *HTTPRouteRouter) desired(c *meshv1alpha1.Canary, routes Routes) (*gatewayv1.HTTPRoute, error) {
	svc := c.Spec.Service
	port := ptr.To(svc.Port)
	route := &gatewayv1.HTTPRoute{
		TypeMeta: metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            apexName(c),
			Namespace:       c.Namespace,
			OwnerReferences: []metav1.OwnerReference{ownerReference(c)},
		},
	}
	switch r.flavour {
	case gatewayFlavour:
		route.Spec.ParentRefs = svc.GatewayRefs
		route.Spec.Hostnames = svc.Hosts
	default:
		route.Spec.ParentRefs = []gatewayv1.ParentReference{{
			Group: ptr.To(gatewayv1.Group("")),
			Kind:  ptr.To(gatewayv1.Kind("Service")),
			Name:  gatewayv1.ObjectName(apexName(c)),
			Port:  port,
		}}
	}

	timeouts, err := httpRouteTimeouts(svc, r.flavour)
	if err != nil {
		return nil, err
	}
	var retry *gatewayv1.HTTPRouteRetry
	if r.flavour == linkerdFlavour {
		route.Annotations = linkerdRetryAnnotations(svc.Retries)
	} else {
		retry = httpRouteRetry(svc.Retries)
	}
	headerFilters := httpHeaderFilters(svc.Headers)
	backend := func(name string, weight int32) gatewayv1.HTTPBackendRef {
		return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
			BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(name), Port: port},
			Weight:                 ptr.To(weight),
		}}
	}

	if routes.Match {
		matches := make([]gatewayv1.HTTPRouteMatch, 0, len(c.Spec.Analysis.Match))
		for _, m := range c.Spec.Analysis.Match {
			matches = append(matches, gatewayv1.HTTPRouteMatch{Headers: m.Headers, QueryParams: m.QueryParams})
		}
		route.Spec.Rules = append(route.Spec.Rules, gatewayv1.HTTPRouteRule{
			Name:        ptr.To(gatewayv1.SectionName(matchRuleName)),
			Matches:     matches,
			Filters:     headerFilters,
			BackendRefs: []gatewayv1.HTTPBackendRef{backend(canaryName(c), 100)},
			Timeouts:    timeouts,
			Retry:       retry,
		})
	}
	split := gatewayv1.HTTPRouteRule{
		Name:    ptr.To(gatewayv1.SectionName(splitRuleName)),
		Filters: headerFilters,
		BackendRefs: []gatewayv1.HTTPBackendRef{
			backend(primaryName(c), routes.PrimaryWeight),
			backend(canaryName(c), routes.CanaryWeight),
		},
		Timeouts: timeouts,
		Retry:    retry,
	}
	if routes.Mirror {
		split.Filters = append(append([]gatewayv1.HTTPRouteFilter{}, headerFilters...), gatewayv1.HTTPRouteFilter{
			Type: gatewayv1.HTTPRouteFilterRequestMirror,
			RequestMirror: &gatewayv1.HTTPRequestMirrorFilter{
				BackendRef: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(canaryName(c)), Port: port},
				Percent:    c.Spec.Analysis.MirrorWeight,
			},
		})
	}
	route.Spec.Rules = append(route.Spec.Rules, split)
	return route, nil
}

// backendWeight is the weight of the backendRef named name (0 when absent;
// the API server defaults a missing weight to 1).
func backendWeight(refs []gatewayv1.HTTPBackendRef, name string) int32 {
	for _, ref := range refs {
		if string(ref.Name) == name {
			return ptr.Deref(ref.Weight, 1)
		}
	}
	return 0
}

// httpRouteTimeouts: spec.service.timeout is the request timeout, the
// retries' perTryTimeout the backend request timeout (not for Linkerd, whose
// per-try timeout is an annotation).
func httpRouteTimeouts(svc meshv1alpha1.CanaryService, flavour httpRouteFlavour) (*gatewayv1.HTTPRouteTimeouts, error) {
	var t gatewayv1.HTTPRouteTimeouts
	if svc.Timeout != nil {
		d, err := gatewayDuration(svc.Timeout.Duration)
		if err != nil {
			return nil, fmt.Errorf("spec.service.timeout: %w", err)
		}
		t.Request = &d
	}
	if flavour != linkerdFlavour && svc.Retries != nil && svc.Retries.PerTryTimeout != nil {
		d, err := gatewayDuration(svc.Retries.PerTryTimeout.Duration)
		if err != nil {
			return nil, fmt.Errorf("spec.service.retries.perTryTimeout: %w", err)
		}
		t.BackendRequest = &d
	}
	if t.Request == nil && t.BackendRequest == nil {
		return nil, nil
	}
	return &t, nil
}

// gatewayDuration writes d in GEP-2257 form (e.g. "1m30s", "250ms"), the
// subset of Go's syntax Gateway API accepts: no fractions, at most 5 digits
// per unit. Sub-millisecond precision is dropped.
func gatewayDuration(d time.Duration) (gatewayv1.Duration, error) {
	if d <= 0 {
		return "", fmt.Errorf("duration %s must be positive", d)
	}
	var b strings.Builder
	for _, unit := range []struct {
		size   time.Duration
		suffix string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		n := d / unit.size
		d -= n * unit.size
		if n > 99999 {
			return "", fmt.Errorf("duration too long for Gateway API")
		}
		if n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + unit.suffix)
		}
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("duration shorter than 1ms")
	}
	return gatewayv1.Duration(b.String()), nil
}

// retryCodes are the HTTP status codes of each retry condition. Connect
// failures and resets have none: Gateway API implementations retry them
// whenever a retry stanza is present.
var retryCodes = map[meshv1alpha1.RetryCondition][]gatewayv1.HTTPRouteRetryStatusCode{
	meshv1alpha1.RetryOn5xx:          {500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511},
	meshv1alpha1.RetryOnGatewayError: {502, 503, 504},
	meshv1alpha1.RetryOnRetriable4xx: {409},
}

// defaultRetryOn is Retries.RetryOn's documented default.
var defaultRetryOn = []meshv1alpha1.RetryCondition{meshv1alpha1.RetryOnConnectFailure, meshv1alpha1.RetryOnGatewayError}

// defaultRetryAttempts is Retries.Attempts' documented default.
const defaultRetryAttempts = 2

func retryConditions(r *meshv1alpha1.Retries) []meshv1alpha1.RetryCondition {
	if len(r.RetryOn) == 0 {
		return defaultRetryOn
	}
	return r.RetryOn
}

func httpRouteRetry(r *meshv1alpha1.Retries) *gatewayv1.HTTPRouteRetry {
	if r == nil {
		return nil
	}
	var codes []gatewayv1.HTTPRouteRetryStatusCode
	seen := map[gatewayv1.HTTPRouteRetryStatusCode]bool{}
	for _, cond := range retryConditions(r) {
		for _, code := range retryCodes[cond] {
			if !seen[code] {
				seen[code] = true
				codes = append(codes, code)
			}
		}
	}
	return &gatewayv1.HTTPRouteRetry{
		Codes:    codes,
		Attempts: ptr.To(int(ptr.Deref(r.Attempts, defaultRetryAttempts))),
	}
}

// linkerdRetryAnnotations writes retries the way Linkerd reads them from an
// HTTPRoute: status codes and ranges, a limit and a per-try timeout.
func linkerdRetryAnnotations(r *meshv1alpha1.Retries) map[string]string {
	if r == nil {
		return nil
	}
	linkerdCodes := map[meshv1alpha1.RetryCondition]string{
		meshv1alpha1.RetryOn5xx:          "5xx",
		meshv1alpha1.RetryOnGatewayError: "502-504",
		meshv1alpha1.RetryOnRetriable4xx: "409",
	}
	var codes []string
	for _, cond := range retryConditions(r) {
		if code, ok := linkerdCodes[cond]; ok {
			codes = append(codes, code)
		}
	}
	a := map[string]string{linkerdRetryLimit: strconv.Itoa(int(ptr.Deref(r.Attempts, defaultRetryAttempts)))}
	if len(codes) > 0 {
		a[linkerdRetryHTTP] = strings.Join(codes, ",")
	}
	if r.PerTryTimeout != nil {
		a[linkerdRetryTimeout] = r.PerTryTimeout.Duration.String()
	}
	return a
}

func httpHeaderFilters(h *meshv1alpha1.HeaderModifiers) []gatewayv1.HTTPRouteFilter {
	if h == nil {
		return nil
	}
	var filters []gatewayv1.HTTPRouteFilter
	if h.Request != nil {
		filters = append(filters, gatewayv1.HTTPRouteFilter{
			Type: gatewayv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: h.Request,
		})
	}
	if h.Response != nil {
		filters = append(filters, gatewayv1.HTTPRouteFilter{
			Type: gatewayv1.HTTPRouteFilterResponseHeaderModifier, ResponseHeaderModifier: h.Response,
		})
	}
	return filters
}
