package router

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func TestServices_ThreeServicesWithPortsSelectorsAndMetadata(t *testing.T) {
	requireEnv(t)
	f := newFixture(t, meshv1alpha1.ProviderSluice, func(spec *meshv1alpha1.CanarySpec) {
		spec.Service.PortName = "grpc"
		spec.Service.AppProtocol = ptr.To("kubernetes.io/h2c")
		spec.Service.Apex = &meshv1alpha1.ObjectMetadata{Labels: map[string]string{"tier": "apex"}}
		spec.Service.Primary = &meshv1alpha1.ObjectMetadata{Annotations: map[string]string{"note": "primary"}}
		spec.Service.Canary = &meshv1alpha1.ObjectMetadata{Labels: map[string]string{"tier": "canary"}}
	})
	if err := NewServices(env.Client, Options{}).Reconcile(context.Background(), f.canary); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	for _, tc := range []struct {
		name                string
		selector            map[string]string
		labels, annotations map[string]string
	}{
		{"app", map[string]string{"app": "app-primary"}, map[string]string{"tier": "apex"}, nil},
		{"app-primary", map[string]string{"app": "app-primary"}, nil, map[string]string{"note": "primary"}},
		{"app-canary", map[string]string{"app": "app"}, map[string]string{"tier": "canary"}, nil},
	} {
		svc := f.service(t, tc.name)
		if !maps.Equal(svc.Spec.Selector, tc.selector) {
			t.Errorf("%s: selector %v, want %v", tc.name, svc.Spec.Selector, tc.selector)
		}
		if !maps.Equal(svc.Labels, tc.labels) || !maps.Equal(svc.Annotations, tc.annotations) {
			t.Errorf("%s: labels %v annotations %v, want %v and %v", tc.name, svc.Labels, svc.Annotations, tc.labels, tc.annotations)
		}
		want := []corev1.ServicePort{{
			Name: "grpc", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intOrString(8080), AppProtocol: ptr.To("kubernetes.io/h2c"),
		}}
		if !reflect.DeepEqual(svc.Spec.Ports, want) {
			t.Errorf("%s: ports %+v, want %+v", tc.name, svc.Spec.Ports, want)
		}
	}
}

func TestServices_SelectorLabelIsTheFirstConfiguredKeyOnThePods(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	f := newFixture(t, meshv1alpha1.ProviderSluice, nil)
	dep := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: f.ns, Name: "app"}, dep); err != nil {
		t.Fatal(err)
	}
	dep.Spec.Template.Labels["app.kubernetes.io/name"] = "shop"
	if err := env.Client.Update(ctx, dep); err != nil {
		t.Fatal(err)
	}
	opts := Options{SelectorLabels: []string{"app.kubernetes.io/name", "app"}}
	if err := NewServices(env.Client, opts).Reconcile(ctx, f.canary); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if got, want := f.service(t, "app-canary").Spec.Selector, map[string]string{"app.kubernetes.io/name": "shop"}; !maps.Equal(got, want) {
		t.Errorf("canary selector %v, want %v", got, want)
	}
	if got, want := f.service(t, "app-primary").Spec.Selector, map[string]string{"app.kubernetes.io/name": "shop-primary"}; !maps.Equal(got, want) {
		t.Errorf("primary selector %v, want %v", got, want)
	}

	err := NewServices(env.Client, Options{SelectorLabels: []string{"name"}}).Reconcile(ctx, f.canary)
	if !errors.Is(err, ErrSelectorLabelMissing) {
		t.Errorf("Reconcile with a label the pods lack: error %v, want ErrSelectorLabelMissing", err)
	}
}

func TestTargetSelector(t *testing.T) {
	for _, tc := range []struct {
		labels     map[string]string
		key, value string
		missing    bool
	}{
		{map[string]string{"app": "a", "name": "n"}, "app", "a", false},
		{map[string]string{"name": "n", "app.kubernetes.io/name": "k"}, "name", "n", false},
		{map[string]string{"app.kubernetes.io/name": "k"}, "app.kubernetes.io/name", "k", false},
		{map[string]string{"app": "", "name": "n"}, "name", "n", false},
		{map[string]string{"tier": "web"}, "", "", true},
	} {
		k, v, err := TargetSelector(tc.labels, DefaultSelectorLabels)
		if k != tc.key || v != tc.value || errors.Is(err, ErrSelectorLabelMissing) != tc.missing {
			t.Errorf("TargetSelector(%v) = %q, %q, %v; want %q, %q, missing %t", tc.labels, k, v, err, tc.key, tc.value, tc.missing)
		}
	}
}
