package router

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// Istio's objects are checked as raw JSON: that is what Istio reads.

// httpRoutes are the VirtualService's http routes by name.
func istioHTTPRoutes(t *testing.T, f fixture) (hosts []any, routes map[string]map[string]any, order []string) {
	t.Helper()
	vs := getRaw(t, f.ns, objectRef{virtualServiceGVK, "app"})
	hosts, _, _ = unstructured.NestedSlice(vs.Object, "spec", "hosts")
	list, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	routes = map[string]map[string]any{}
	for _, item := range list {
		m := item.(map[string]any)
		name, _ := m["name"].(string)
		routes[name] = m
		order = append(order, name)
	}
	return hosts, routes, order
}

// destinationWeights are a route's destinations as host -> weight; Istio's
// JSON leaves out a weight of 0.
func destinationWeights(route map[string]any) map[string]int64 {
	weights := map[string]int64{}
	dests, _, _ := unstructured.NestedSlice(route, "route")
	for _, d := range dests {
		host, _, _ := unstructured.NestedString(d.(map[string]any), "destination", "host")
		w, _, _ := unstructured.NestedInt64(d.(map[string]any), "weight")
		weights[host] = w
	}
	return weights
}

func virtualServiceSplit(t *testing.T, f fixture) map[string]int64 {
	_, routes, _ := istioHTTPRoutes(t, f)
	return destinationWeights(routes[splitRuleName])
}

func TestIstio_VirtualServiceCarriesHostsTimeoutRetriesAndHeaders(t *testing.T) {
	requireEnv(t)
	f := newFixture(t, meshv1alpha1.ProviderIstio, func(spec *meshv1alpha1.CanarySpec) {
		spec.Service.Hosts = []gatewayv1.Hostname{"app.example.com"}
		spec.Service.Timeout = &metav1.Duration{Duration: 15 * time.Second}
		spec.Service.Retries = &meshv1alpha1.Retries{Attempts: ptr.To[int32](3), PerTryTimeout: &metav1.Duration{Duration: 2 * time.Second}}
		spec.Service.Headers = &meshv1alpha1.HeaderModifiers{
			Response: &gatewayv1.HTTPHeaderFilter{Add: []gatewayv1.HTTPHeader{{Name: "X-Served-By", Value: "sluice"}}, Remove: []string{"Server"}},
		}
	})
	mustReconcile(t, f.router(t), f.canary)
	hosts, routes, _ := istioHTTPRoutes(t, f)
	if want := []any{"app", "app.example.com"}; !reflect.DeepEqual(hosts, want) {
		t.Errorf("hosts = %v, want %v", hosts, want)
	}
	split := routes[splitRuleName]
	want := map[string]any{
		"name": splitRuleName,
		"route": []any{
			map[string]any{"destination": map[string]any{"host": "app-primary"}, "weight": int64(100)},
			map[string]any{"destination": map[string]any{"host": "app-canary"}},
		},
		"timeout": "15s",
		"retries": map[string]any{"attempts": int64(3), "perTryTimeout": "2s", "retryOn": "connect-failure,gateway-error"},
		"headers": map[string]any{"response": map[string]any{
			"add": map[string]any{"X-Served-By": "sluice"}, "remove": []any{"Server"},
		}},
	}
	if !reflect.DeepEqual(split, want) {
		t.Errorf("split route =\n%v\nwant\n%v", split, want)
	}
	for _, host := range []string{"app-primary", "app-canary"} {
		dr := getRaw(t, f.ns, objectRef{destinationRuleGVK, host})
		if got, _, _ := unstructured.NestedString(dr.Object, "spec", "host"); got != host {
			t.Errorf("DestinationRule %s: host %q, want %q", host, got, host)
		}
	}
}

func TestIstio_ABTestingSendsMatchingRequestsToTheCanary(t *testing.T) {
	requireEnv(t)
	f := newFixture(t, meshv1alpha1.ProviderIstio, abTest)
	r := f.router(t)
	mustReconcile(t, r, f.canary)
	ab := Routes{PrimaryWeight: 100, Match: true}
	mustSetRoutes(t, r, f.canary, ab)
	if got := mustRoutes(t, r, f.canary); got != ab {
		t.Errorf("Routes = %s, want %s", got, ab)
	}
	_, routes, order := istioHTTPRoutes(t, f)
	if want := []string{matchRuleName, splitRuleName}; !reflect.DeepEqual(order, want) {
		t.Fatalf("http routes %v, want %v", order, want)
	}
	wantMatch := []any{
		map[string]any{"headers": map[string]any{"x-canary": map[string]any{"exact": "insider"}}},
		map[string]any{"queryParams": map[string]any{"canary": map[string]any{"exact": "yes"}}},
	}
	if got := routes[matchRuleName]["match"]; !reflect.DeepEqual(got, wantMatch) {
		t.Errorf("match = %v, want %v", got, wantMatch)
	}
	if got, want := destinationWeights(routes[matchRuleName]), map[string]int64{"app-canary": 100}; !reflect.DeepEqual(got, want) {
		t.Errorf("match route = %v, want %v", got, want)
	}
	if got, want := destinationWeights(routes[splitRuleName]), map[string]int64{"app-primary": 100, "app-canary": 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("split route = %v, want %v", got, want)
	}
}

func TestIstio_MirrorCopiesRequestsToTheCanary(t *testing.T) {
	requireEnv(t)
	f := newFixture(t, meshv1alpha1.ProviderIstio, mirrored)
	r := f.router(t)
	mustReconcile(t, r, f.canary)
	mirror := Routes{PrimaryWeight: 100, Mirror: true}
	mustSetRoutes(t, r, f.canary, mirror)
	if got := mustRoutes(t, r, f.canary); got != mirror {
		t.Errorf("Routes = %s, want %s", got, mirror)
	}
	_, routes, _ := istioHTTPRoutes(t, f)
	split := routes[splitRuleName]
	if got, want := split["mirror"], map[string]any{"host": "app-canary"}; !reflect.DeepEqual(got, want) {
		t.Errorf("mirror = %v, want %v", got, want)
	}
	if got, want := split["mirrorPercentage"], map[string]any{"value": int64(40)}; !reflect.DeepEqual(got, want) {
		t.Errorf("mirrorPercentage = %v, want %v", got, want)
	}
}
