package router

import (
	"context"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func intOrString(port int32) intstr.IntOrString { return intstr.FromInt32(port) }

// httpRoute reads the fixture's HTTPRoute `app` as stored by the API server.
func httpRoute(t *testing.T, f fixture) *gatewayv1.HTTPRoute {
	t.Helper()
	u := getRaw(t, f.ns, objectRef{httpRouteGVK, "app"})
	route := &gatewayv1.HTTPRoute{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, route); err != nil {
		t.Fatal(err)
	}
	return route
}

func rule(t *testing.T, route *gatewayv1.HTTPRoute, name string) gatewayv1.HTTPRouteRule {
	t.Helper()
	for _, r := range route.Spec.Rules {
		if ptr.Deref(r.Name, "") == gatewayv1.SectionName(name) {
			return r
		}
	}
	t.Fatalf("HTTPRoute has no rule %q: %+v", name, route.Spec.Rules)
	return gatewayv1.HTTPRouteRule{}
}

// backendWeights are a rule's backendRefs as name -> weight, checking they
// all target port 80 of a Service.
func backendWeights(t *testing.T, r gatewayv1.HTTPRouteRule) map[string]int64 {
	t.Helper()
	weights := map[string]int64{}
	for _, ref := range r.BackendRefs {
		if ptr.Deref(ref.Port, 0) != 80 || ptr.Deref(ref.Kind, "Service") != "Service" {
			t.Errorf("backendRef %s: port %v kind %v, want Service port 80", ref.Name, ref.Port, ref.Kind)
		}
		weights[string(ref.Name)] = int64(ptr.Deref(ref.Weight, 1))
	}
	return weights
}

func httpRouteSplit(t *testing.T, f fixture) map[string]int64 {
	return backendWeights(t, rule(t, httpRoute(t, f), splitRuleName))
}

func TestHTTPRoute_MeshRouteAttachesToTheApexServiceWithTimeoutsRetriesAndHeaders(t *testing.T) {
	requireEnv(t)
	f := newFixture(t, meshv1alpha1.ProviderSluice, func(spec *meshv1alpha1.CanarySpec) {
		spec.Service.Timeout = &metav1.Duration{Duration: 90 * time.Second}
		spec.Service.Retries = &meshv1alpha1.Retries{
			Attempts:      ptr.To[int32](3),
			PerTryTimeout: &metav1.Duration{Duration: 2500 * time.Millisecond},
			RetryOn:       []meshv1alpha1.RetryCondition{meshv1alpha1.RetryOnGatewayError, meshv1alpha1.RetryOnRetriable4xx},
		}
		spec.Service.Headers = &meshv1alpha1.HeaderModifiers{
			Request: &gatewayv1.HTTPHeaderFilter{Set: []gatewayv1.HTTPHeader{{Name: "X-Route", Value: "sluice"}}},
		}
	})
	r := f.router(t)
	mustReconcile(t, r, f.canary)
	route := httpRoute(t, f)

	wantParent := []gatewayv1.ParentReference{{
		Group: ptr.To(gatewayv1.Group("")), Kind: ptr.To(gatewayv1.Kind("Service")), Name: "app", Port: ptr.To[int32](80),
	}}
	if !reflect.DeepEqual(route.Spec.ParentRefs, wantParent) {
		t.Errorf("parentRefs = %+v, want the apex Service %+v", route.Spec.ParentRefs, wantParent)
	}
	if len(route.Spec.Hostnames) != 0 {
		t.Errorf("hostnames = %v, want none on a mesh route", route.Spec.Hostnames)
	}
	if len(route.Spec.Rules) != 1 {
		t.Fatalf("rules = %d, want only the split rule", len(route.Spec.Rules))
	}
	split := rule(t, route, splitRuleName)
	wantTimeouts := &gatewayv1.HTTPRouteTimeouts{Request: ptr.To(gatewayv1.Duration("1m30s")), BackendRequest: ptr.To(gatewayv1.Duration("2s500ms"))}
	if !reflect.DeepEqual(split.Timeouts, wantTimeouts) {
		t.Errorf("timeouts = %+v, want %+v", split.Timeouts, wantTimeouts)
	}
	wantRetry := &gatewayv1.HTTPRouteRetry{Codes: []gatewayv1.HTTPRouteRetryStatusCode{502, 503, 504, 409}, Attempts: ptr.To(3)}
	if !reflect.DeepEqual(split.Retry, wantRetry) {
		t.Errorf("retry = %+v, want %+v", split.Retry, wantRetry)
	}
	wantFilters := []gatewayv1.HTTPRouteFilter{{
		Type:                  gatewayv1.HTTPRouteFilterRequestHeaderModifier,
		RequestHeaderModifier: &gatewayv1.HTTPHeaderFilter{Set: []gatewayv1.HTTPHeader{{Name: "X-Route", Value: "sluice"}}},
	}}
	if !reflect.DeepEqual(split.Filters, wantFilters) {
		t.Errorf("filters = %+v, want %+v", split.Filters, wantFilters)
	}
}

func TestHTTPRoute_GatewayAPIRouteAttachesToTheGatewaysWithTheHosts(t *testing.T) {
	requireEnv(t)
	f := newFixture(t, meshv1alpha1.ProviderGatewayAPI, nil)
	mustReconcile(t, f.router(t), f.canary)
	route := httpRoute(t, f)
	if !reflect.DeepEqual(route.Spec.ParentRefs, f.canary.Spec.Service.GatewayRefs) {
		t.Errorf("parentRefs = %+v, want spec.service.gatewayRefs %+v", route.Spec.ParentRefs, f.canary.Spec.Service.GatewayRefs)
	}
	if want := []gatewayv1.Hostname{"app.example.com"}; !reflect.DeepEqual(route.Spec.Hostnames, want) {
		t.Errorf("hostnames = %v, want %v", route.Spec.Hostnames, want)
	}
}

func TestHTTPRoute_ABTestingSendsMatchingRequestsToTheCanary(t *testing.T) {
	requireEnv(t)
	for _, provider := range []meshv1alpha1.Provider{meshv1alpha1.ProviderSluice, meshv1alpha1.ProviderLinkerd} {
		t.Run(string(provider), func(t *testing.T) {
			f := newFixture(t, provider, abTest)
			r := f.router(t)
			mustReconcile(t, r, f.canary)
			ab := Routes{PrimaryWeight: 100, Match: true}
			mustSetRoutes(t, r, f.canary, ab)
			if got := mustRoutes(t, r, f.canary); got != ab {
				t.Errorf("Routes = %s, want %s", got, ab)
			}
			mustReconcile(t, r, f.canary)
			if got := mustRoutes(t, r, f.canary); got != ab {
				t.Errorf("after Reconcile, Routes = %s, want %s", got, ab)
			}

			route := httpRoute(t, f)
			if len(route.Spec.Rules) != 2 || ptr.Deref(route.Spec.Rules[0].Name, "") != matchRuleName {
				t.Fatalf("rules = %+v, want the match rule first, then the split rule", route.Spec.Rules)
			}
			match := route.Spec.Rules[0]
			// The API server defaults each match's path to the prefix "/".
			anyPath := &gatewayv1.HTTPPathMatch{Type: ptr.To(gatewayv1.PathMatchPathPrefix), Value: ptr.To("/")}
			wantMatches := []gatewayv1.HTTPRouteMatch{
				{Path: anyPath, Headers: []gatewayv1.HTTPHeaderMatch{{Type: ptr.To(gatewayv1.HeaderMatchExact), Name: "X-Canary", Value: "insider"}}},
				{Path: anyPath, QueryParams: []gatewayv1.HTTPQueryParamMatch{{Type: ptr.To(gatewayv1.QueryParamMatchExact), Name: "canary", Value: "yes"}}},
			}
			if !reflect.DeepEqual(match.Matches, wantMatches) {
				t.Errorf("matches = %+v, want the Canary's %+v", match.Matches, wantMatches)
			}
			if got, want := backendWeights(t, match), map[string]int64{"app-canary": 100}; !reflect.DeepEqual(got, want) {
				t.Errorf("match rule backends = %v, want %v", got, want)
			}
			if got, want := httpRouteSplit(t, f), map[string]int64{"app-primary": 100, "app-canary": 0}; !reflect.DeepEqual(got, want) {
				t.Errorf("split rule backends = %v, want %v", got, want)
			}

			mustSetRoutes(t, r, f.canary, AllPrimary)
			if n := len(httpRoute(t, f).Spec.Rules); n != 1 {
				t.Errorf("after the A/B run, %d rules, want the split rule alone", n)
			}
		})
	}
}

func TestHTTPRoute_MirrorCopiesRequestsToTheCanary(t *testing.T) {
	requireEnv(t)
	f := newFixture(t, meshv1alpha1.ProviderSluice, mirrored)
	r := f.router(t)
	mustReconcile(t, r, f.canary)
	mirror := Routes{PrimaryWeight: 100, Mirror: true}
	mustSetRoutes(t, r, f.canary, mirror)
	if got := mustRoutes(t, r, f.canary); got != mirror {
		t.Errorf("Routes = %s, want %s", got, mirror)
	}
	split := rule(t, httpRoute(t, f), splitRuleName)
	want := []gatewayv1.HTTPRouteFilter{{
		Type: gatewayv1.HTTPRouteFilterRequestMirror,
		RequestMirror: &gatewayv1.HTTPRequestMirrorFilter{
			BackendRef: gatewayv1.BackendObjectReference{
				Group: ptr.To(gatewayv1.Group("")), Kind: ptr.To(gatewayv1.Kind("Service")), Name: "app-canary", Port: ptr.To[int32](80),
			},
			Percent: ptr.To[int32](40),
		},
	}}
	if !reflect.DeepEqual(split.Filters, want) {
		t.Errorf("filters = %+v, want %+v", split.Filters, want)
	}
	if got, wantW := backendWeights(t, split), map[string]int64{"app-primary": 100, "app-canary": 0}; !reflect.DeepEqual(got, wantW) {
		t.Errorf("backends = %v, want %v", got, wantW)
	}
}

func TestHTTPRoute_LinkerdRetriesAreLinkerdAnnotations(t *testing.T) {
	requireEnv(t)
	f := newFixture(t, meshv1alpha1.ProviderLinkerd, func(spec *meshv1alpha1.CanarySpec) {
		spec.Service.Timeout = &metav1.Duration{Duration: 10 * time.Second}
		spec.Service.Retries = &meshv1alpha1.Retries{PerTryTimeout: &metav1.Duration{Duration: time.Second}}
	})
	mustReconcile(t, f.router(t), f.canary)
	route := httpRoute(t, f)
	want := map[string]string{linkerdRetryHTTP: "502-504", linkerdRetryLimit: "2", linkerdRetryTimeout: "1s"}
	for k, v := range want {
		if route.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, route.Annotations[k], v)
		}
	}
	split := rule(t, route, splitRuleName)
	if split.Retry != nil {
		t.Errorf("retry = %+v, want none (Linkerd reads annotations)", split.Retry)
	}
	if wantT := (&gatewayv1.HTTPRouteTimeouts{Request: ptr.To(gatewayv1.Duration("10s"))}); !reflect.DeepEqual(split.Timeouts, wantT) {
		t.Errorf("timeouts = %+v, want %+v", split.Timeouts, wantT)
	}
}

// A route that exists but holds no split of ours (made by hand, or by
// another tool) is taken over with all traffic on the primary.
func TestHTTPRoute_ReconcileTakesOverAForeignRouteOnThePrimary(t *testing.T) {
	requireEnv(t)
	f := newFixture(t, meshv1alpha1.ProviderSluice, nil)
	foreign := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: f.ns},
		Spec: gatewayv1.HTTPRouteSpec{Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{{
			BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "app-canary", Port: ptr.To[int32](80)}},
		}}}}},
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(foreign)
	if err != nil {
		t.Fatal(err)
	}
	applyAsSomeoneElse(t, f.ns, objectRef{httpRouteGVK, "app"}, u)
	r := f.router(t)
	if _, err := r.Routes(context.Background(), f.canary); err == nil {
		t.Error("Routes of a foreign route succeeded, want an error")
	}
	mustReconcile(t, r, f.canary)
	if got := mustRoutes(t, r, f.canary); got != AllPrimary {
		t.Errorf("Routes = %s, want %s", got, AllPrimary)
	}
	if n := len(httpRoute(t, f).Spec.Rules); n != 1 {
		t.Errorf("%d rules, want ours alone (we force-own the atomic rules list)", n)
	}
}

func TestGatewayDuration(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want gatewayv1.Duration
		err  bool
	}{
		{15 * time.Second, "15s", false},
		{90 * time.Second, "1m30s", false},
		{1500 * time.Millisecond, "1s500ms", false},
		{250 * time.Millisecond, "250ms", false},
		{2*time.Hour + 3*time.Millisecond, "2h3ms", false},
		{time.Microsecond, "", true},
		{0, "", true},
	} {
		got, err := gatewayDuration(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("gatewayDuration(%s) = %q, %v; want %q, error %t", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// A spec change reaches the route on the next Reconcile, at the same split.
func TestHTTPRoute_ReconcileAppliesSpecChangesAtTheCurrentSplit(t *testing.T) {
	requireEnv(t)
	f := newFixture(t, meshv1alpha1.ProviderSluice, nil)
	r := f.router(t)
	mustReconcile(t, r, f.canary)
	split := Routes{PrimaryWeight: 70, CanaryWeight: 30}
	mustSetRoutes(t, r, f.canary, split)

	f.canary.Spec.Service.Timeout = &metav1.Duration{Duration: 5 * time.Second}
	mustReconcile(t, r, f.canary)
	if got := rule(t, httpRoute(t, f), splitRuleName).Timeouts; got == nil || ptr.Deref(got.Request, "") != "5s" {
		t.Errorf("timeouts = %+v, want request 5s", got)
	}
	if got := httpRouteSplit(t, f); got["app-primary"] != 70 || got["app-canary"] != 30 {
		t.Errorf("weights = %v, want 70/30 kept", got)
	}

	f.canary.Spec.Service.Timeout = nil
	mustReconcile(t, r, f.canary)
	if got := rule(t, httpRoute(t, f), splitRuleName).Timeouts; got != nil {
		t.Errorf("timeouts = %+v after the spec dropped them, want none (we own what we wrote)", got)
	}
}
