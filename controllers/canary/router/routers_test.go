package router

import (
	"context"
	"fmt"
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// What every Router promises, checked for each provider against the real
// API server. Provider-specific object shapes are in each provider's test.

// providerCase describes one provider for the shared tests.
type providerCase struct {
	provider meshv1alpha1.Provider
	// objects are the route objects the router creates (besides Services).
	objects []objectRef
	// split is a run's intermediate split the provider can express.
	split Routes
	// rawSplit reads the split's weights by backend straight from the
	// provider's objects, independently of Routes.
	rawSplit func(t *testing.T, f fixture) map[string]int64
	// rejects are splits the provider cannot express.
	rejects []Routes
}

type objectRef struct {
	gvk  schema.GroupVersionKind
	name string
}

var invalidWeights = []Routes{{PrimaryWeight: 90, CanaryWeight: 20}, {PrimaryWeight: 110, CanaryWeight: -10}, {}}

var providerCases = []providerCase{
	{
		provider: meshv1alpha1.ProviderSluice,
		objects:  []objectRef{{httpRouteGVK, "app"}},
		split:    Routes{PrimaryWeight: 90, CanaryWeight: 10},
		rawSplit: httpRouteSplit,
		rejects:  invalidWeights,
	},
	{
		provider: meshv1alpha1.ProviderGatewayAPI,
		objects:  []objectRef{{httpRouteGVK, "app"}},
		split:    Routes{PrimaryWeight: 90, CanaryWeight: 10},
		rawSplit: httpRouteSplit,
		rejects:  invalidWeights,
	},
	{
		provider: meshv1alpha1.ProviderLinkerd,
		objects:  []objectRef{{httpRouteGVK, "app"}},
		split:    Routes{PrimaryWeight: 90, CanaryWeight: 10},
		rawSplit: httpRouteSplit,
		rejects:  append([]Routes{{PrimaryWeight: 100, Mirror: true}}, invalidWeights...),
	},
	{
		provider: meshv1alpha1.ProviderIstio,
		objects:  []objectRef{{virtualServiceGVK, "app"}, {destinationRuleGVK, "app-primary"}, {destinationRuleGVK, "app-canary"}},
		split:    Routes{PrimaryWeight: 90, CanaryWeight: 10},
		rawSplit: virtualServiceSplit,
		rejects:  invalidWeights,
	},
	{
		provider: meshv1alpha1.ProviderSMI,
		objects:  []objectRef{{trafficSplitGVK, "app"}},
		split:    Routes{PrimaryWeight: 90, CanaryWeight: 10},
		rawSplit: trafficSplitWeights,
		rejects:  append([]Routes{{PrimaryWeight: 100, Mirror: true}, {PrimaryWeight: 100, Match: true}}, invalidWeights...),
	},
	{
		provider: meshv1alpha1.ProviderKubernetes,
		split:    Routes{CanaryWeight: 100},
		rawSplit: apexSplit,
		rejects: append([]Routes{
			{PrimaryWeight: 90, CanaryWeight: 10}, {PrimaryWeight: 100, Mirror: true}, {PrimaryWeight: 100, Match: true},
		}, invalidWeights...),
	},
}

// forEachProvider runs test for every provider, each in its own namespace.
func forEachProvider(t *testing.T, test func(t *testing.T, pc providerCase, f fixture, r Router)) {
	requireEnv(t)
	for _, pc := range providerCases {
		t.Run(string(pc.provider), func(t *testing.T) {
			f := newFixture(t, pc.provider, nil)
			test(t, pc, f, f.router(t))
		})
	}
}

func mustReconcile(t *testing.T, r Router, c *meshv1alpha1.Canary) {
	t.Helper()
	if err := r.Reconcile(context.Background(), c); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
}

func mustSetRoutes(t *testing.T, r Router, c *meshv1alpha1.Canary, routes Routes) {
	t.Helper()
	if err := r.SetRoutes(context.Background(), c, routes); err != nil {
		t.Fatalf("SetRoutes(%s): %v", routes, err)
	}
}

func mustRoutes(t *testing.T, r Router, c *meshv1alpha1.Canary) Routes {
	t.Helper()
	routes, err := r.Routes(context.Background(), c)
	if err != nil {
		t.Fatalf("Routes: %v", err)
	}
	return routes
}

func TestRouters_ReconcileOnAFreshCanarySendsAllTrafficToThePrimary(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase, f fixture, r Router) {
		mustReconcile(t, r, f.canary)
		if got := mustRoutes(t, r, f.canary); got != AllPrimary {
			t.Errorf("Routes = %s, want %s", got, AllPrimary)
		}
		if got, want := pc.rawSplit(t, f), map[string]int64{"app-primary": 100, "app-canary": 0}; !maps.Equal(got, want) {
			t.Errorf("weights in the API server = %v, want %v", got, want)
		}
		for _, ref := range append(pc.objects, objectRef{serviceGVK, "app"}, objectRef{serviceGVK, "app-primary"}, objectRef{serviceGVK, "app-canary"}) {
			obj := getRaw(t, f.ns, ref)
			if !metav1.IsControlledBy(obj, f.canary) {
				t.Errorf("%s %s: owner references %v, want the Canary as controller", ref.gvk.Kind, ref.name, obj.GetOwnerReferences())
			}
		}
	})
}

func TestRouters_SetRoutesIsWrittenExactlyAndReadBack(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase, f fixture, r Router) {
		mustReconcile(t, r, f.canary)
		mustSetRoutes(t, r, f.canary, pc.split)
		if got := mustRoutes(t, r, f.canary); got != pc.split {
			t.Errorf("Routes = %s, want %s", got, pc.split)
		}
		want := map[string]int64{"app-primary": int64(pc.split.PrimaryWeight), "app-canary": int64(pc.split.CanaryWeight)}
		if got := pc.rawSplit(t, f); !maps.Equal(got, want) {
			t.Errorf("weights in the API server = %v, want %v", got, want)
		}
		mustSetRoutes(t, r, f.canary, AllPrimary)
		if got := mustRoutes(t, r, f.canary); got != AllPrimary {
			t.Errorf("after going back, Routes = %s, want %s", got, AllPrimary)
		}
	})
}

func TestRouters_ReconcileKeepsTheCurrentSplit(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase, f fixture, r Router) {
		mustReconcile(t, r, f.canary)
		mustSetRoutes(t, r, f.canary, pc.split)
		mustReconcile(t, r, f.canary)
		if got := mustRoutes(t, r, f.canary); got != pc.split {
			t.Errorf("after Reconcile, Routes = %s, want %s", got, pc.split)
		}
	})
}

func TestRouters_RoutesOfAMissingObjectIsNotFound(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase, f fixture, r Router) {
		if _, err := r.Routes(context.Background(), f.canary); !apierrors.IsNotFound(err) {
			t.Errorf("Routes before Reconcile: error %v, want NotFound", err)
		}
	})
}

func TestRouters_RejectSplitsTheyCannotExpressAndWriteNothing(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase, f fixture, r Router) {
		mustReconcile(t, r, f.canary)
		for _, bad := range pc.rejects {
			if err := r.SetRoutes(context.Background(), f.canary, bad); err == nil {
				t.Errorf("SetRoutes(%s) succeeded, want an error", bad)
			}
		}
		if got := mustRoutes(t, r, f.canary); got != AllPrimary {
			t.Errorf("after rejected splits, Routes = %s, want %s", got, AllPrimary)
		}
	})
}

// Server-side apply: we only own what we write, so what another manager adds
// to our objects survives our writes.
func TestRouters_FieldsSetByAnotherManagerSurvive(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase, f fixture, r Router) {
		ctx := context.Background()
		mustReconcile(t, r, f.canary)
		for _, ref := range pc.objects {
			applyAsSomeoneElse(t, f.ns, ref, map[string]any{"metadata": map[string]any{"labels": map[string]any{"team": "payments"}}})
		}
		applyAsSomeoneElse(t, f.ns, objectRef{serviceGVK, "app-primary"}, map[string]any{"spec": map[string]any{"sessionAffinity": "ClientIP"}})

		mustSetRoutes(t, r, f.canary, pc.split)
		mustReconcile(t, r, f.canary)

		for _, ref := range pc.objects {
			if got := getRaw(t, f.ns, ref).GetLabels()["team"]; got != "payments" {
				t.Errorf("%s %s: label team = %q, want payments", ref.gvk.Kind, ref.name, got)
			}
		}
		svc := &corev1.Service{}
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: f.ns, Name: "app-primary"}, svc); err != nil {
			t.Fatal(err)
		}
		if svc.Spec.SessionAffinity != corev1.ServiceAffinityClientIP {
			t.Errorf("Service app-primary: sessionAffinity = %q, want ClientIP", svc.Spec.SessionAffinity)
		}
	})
}

func TestRouters_FinalizeWithoutRemoveLeavesObjectsOrphanedAndApexOnTarget(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase, f fixture, r Router) {
		mustReconcile(t, r, f.canary)
		if err := r.Finalize(context.Background(), f.canary, false); err != nil {
			t.Fatalf("Finalize(remove=false): %v", err)
		}
		for _, ref := range append(pc.objects, objectRef{serviceGVK, "app"}, objectRef{serviceGVK, "app-primary"}, objectRef{serviceGVK, "app-canary"}) {
			obj := getRaw(t, f.ns, ref)
			if len(obj.GetOwnerReferences()) != 0 {
				t.Errorf("%s %s: owner references %v, want none (garbage collection would delete it)", ref.gvk.Kind, ref.name, obj.GetOwnerReferences())
			}
		}
		if got, want := f.service(t, "app").Spec.Selector, map[string]string{"app": "app"}; !maps.Equal(got, want) {
			t.Errorf("apex selector = %v, want the target's %v", got, want)
		}
	})
}

func TestRouters_FinalizeWithRemoveDeletesOurObjectsButNotTheApex(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase, f fixture, r Router) {
		mustReconcile(t, r, f.canary)
		if err := r.Finalize(context.Background(), f.canary, true); err != nil {
			t.Fatalf("Finalize(remove=true): %v", err)
		}
		for _, ref := range append(pc.objects, objectRef{serviceGVK, "app-primary"}, objectRef{serviceGVK, "app-canary"}) {
			if exists(t, f.ns, ref) {
				t.Errorf("%s %s still exists", ref.gvk.Kind, ref.name)
			}
		}
		apex := f.service(t, "app")
		if got, want := apex.Spec.Selector, map[string]string{"app": "app"}; !maps.Equal(got, want) {
			t.Errorf("apex selector = %v, want the target's %v", got, want)
		}
		if len(apex.OwnerReferences) != 0 {
			t.Errorf("apex owner references %v, want none", apex.OwnerReferences)
		}
		// Finalize is safe to repeat (the reconciler retries on errors).
		if err := r.Finalize(context.Background(), f.canary, true); err != nil {
			t.Errorf("second Finalize: %v", err)
		}
	})
}

// A user's existing Service `app` is adopted: only its selector changes while
// the Canary lives, and it gets it back, whole, on Finalize.
func TestRouters_AdoptTheUsersApexServiceAndGiveItBack(t *testing.T) {
	requireEnv(t)
	for _, pc := range providerCases {
		for _, remove := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/remove=%t", pc.provider, remove), func(t *testing.T) {
				ctx := context.Background()
				f := newFixture(t, pc.provider, nil)
				user := &corev1.Service{
					ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: f.ns, Labels: map[string]string{"owner": "user"}},
					Spec: corev1.ServiceSpec{
						Selector:        map[string]string{"app": "app"},
						SessionAffinity: corev1.ServiceAffinityClientIP,
						Ports:           []corev1.ServicePort{{Name: "web", Port: 80, TargetPort: intOrString(8080)}},
					},
				}
				if err := env.Client.Create(ctx, user); err != nil {
					t.Fatal(err)
				}
				r := f.router(t)
				mustReconcile(t, r, f.canary)
				mustSetRoutes(t, r, f.canary, pc.split)
				mustReconcile(t, r, f.canary)

				apex := f.service(t, "app")
				wantSelector := map[string]string{"app": "app-primary"}
				if pc.provider == meshv1alpha1.ProviderKubernetes {
					wantSelector = map[string]string{"app": "app"} // switched to the canary by SetRoutes
				}
				if !maps.Equal(apex.Spec.Selector, wantSelector) {
					t.Errorf("adopted apex selector = %v, want %v", apex.Spec.Selector, wantSelector)
				}
				assertUserFieldsKept(t, apex)
				if len(apex.OwnerReferences) != 0 {
					t.Errorf("adopted apex has owner references %v: garbage collection would delete the user's Service", apex.OwnerReferences)
				}

				mustSetRoutes(t, r, f.canary, AllPrimary)
				if err := r.Finalize(ctx, f.canary, remove); err != nil {
					t.Fatalf("Finalize(remove=%t): %v", remove, err)
				}
				apex = f.service(t, "app")
				if want := map[string]string{"app": "app"}; !maps.Equal(apex.Spec.Selector, want) {
					t.Errorf("after Finalize, selector = %v, want the original %v", apex.Spec.Selector, want)
				}
				assertUserFieldsKept(t, apex)
				if _, ok := apex.Annotations[OriginalSelectorAnnotation]; ok {
					t.Errorf("after Finalize, annotation %s is still there", OriginalSelectorAnnotation)
				}
			})
		}
	}
}

func assertUserFieldsKept(t *testing.T, apex *corev1.Service) {
	t.Helper()
	if apex.Labels["owner"] != "user" || apex.Spec.SessionAffinity != corev1.ServiceAffinityClientIP ||
		len(apex.Spec.Ports) != 1 || apex.Spec.Ports[0].Name != "web" || apex.Spec.Ports[0].TargetPort != intOrString(8080) {
		t.Errorf("the user's fields of the apex changed: labels %v, sessionAffinity %q, ports %+v",
			apex.Labels, apex.Spec.SessionAffinity, apex.Spec.Ports)
	}
}

// getRaw reads an object of the namespace as unstructured.
func getRaw(t *testing.T, ns string, ref objectRef) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(ref.gvk)
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: ref.name}, u); err != nil {
		t.Fatalf("get %s %s: %v", ref.gvk.Kind, ref.name, err)
	}
	return u
}

func exists(t *testing.T, ns string, ref objectRef) bool {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(ref.gvk)
	err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: ref.name}, u)
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("get %s %s: %v", ref.gvk.Kind, ref.name, err)
	}
	return err == nil
}

// applyAsSomeoneElse server-side applies fields to an object as another
// field manager.
func applyAsSomeoneElse(t *testing.T, ns string, ref objectRef, fields map[string]any) {
	t.Helper()
	u := &unstructured.Unstructured{Object: fields}
	u.SetGroupVersionKind(ref.gvk)
	u.SetNamespace(ns)
	u.SetName(ref.name)
	if err := env.Client.Apply(context.Background(), client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("someone-else")); err != nil {
		t.Fatalf("apply to %s %s as someone-else: %v", ref.gvk.Kind, ref.name, err)
	}
}
