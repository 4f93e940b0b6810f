package router

import (
	"fmt"
	"testing"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func TestNew_ChoosesTheProvidersRouterAndRejectsUnknownOnes(t *testing.T) {
	for _, tc := range []struct {
		provider meshv1alpha1.Provider
		want     Router
	}{
		{"", &HTTPRouteRouter{}},
		{meshv1alpha1.ProviderSluice, &HTTPRouteRouter{}},
		{meshv1alpha1.ProviderGatewayAPI, &HTTPRouteRouter{}},
		{meshv1alpha1.ProviderLinkerd, &HTTPRouteRouter{}},
		{meshv1alpha1.ProviderIstio, &IstioRouter{}},
		{meshv1alpha1.ProviderSMI, &SMIRouter{}},
		{meshv1alpha1.ProviderKubernetes, &KubernetesRouter{}},
	} {
		r, err := New(tc.provider, nil, Options{})
		if err != nil {
			t.Errorf("New(%q): %v", tc.provider, err)
			continue
		}
		if gotT, wantT := typeName(r), typeName(tc.want); gotT != wantT {
			t.Errorf("New(%q) = %s, want %s", tc.provider, gotT, wantT)
		}
	}
	if r, err := New("nginx", nil, Options{}); err == nil {
		t.Errorf("New(nginx) = %T, want an error", r)
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

func TestRoutes_Validation(t *testing.T) {
	ab := &meshv1alpha1.Canary{Spec: meshv1alpha1.CanarySpec{Analysis: meshv1alpha1.CanaryAnalysis{
		Match: []meshv1alpha1.CanaryMatch{{}},
	}}}
	plain := &meshv1alpha1.Canary{}
	for _, tc := range []struct {
		name              string
		routes            Routes
		canary            *meshv1alpha1.Canary
		canMatch, canMirr bool
		ok                bool
	}{
		{"90/10", Routes{PrimaryWeight: 90, CanaryWeight: 10}, plain, false, false, true},
		{"0/100", Routes{CanaryWeight: 100}, plain, false, false, true},
		{"sum over 100", Routes{PrimaryWeight: 90, CanaryWeight: 20}, plain, true, true, false},
		{"negative", Routes{PrimaryWeight: 110, CanaryWeight: -10}, plain, true, true, false},
		{"match without spec.analysis.match", Routes{PrimaryWeight: 100, Match: true}, plain, true, true, false},
		{"match", Routes{PrimaryWeight: 100, Match: true}, ab, true, true, true},
		{"match unsupported", Routes{PrimaryWeight: 100, Match: true}, ab, false, true, false},
		{"mirror", Routes{PrimaryWeight: 100, Mirror: true}, plain, true, true, true},
		{"mirror unsupported", Routes{PrimaryWeight: 100, Mirror: true}, plain, true, false, false},
	} {
		err := tc.routes.validateFor(tc.canary, tc.canMatch, tc.canMirr)
		if (err == nil) != tc.ok {
			t.Errorf("%s: validateFor(%s) = %v, want ok %t", tc.name, tc.routes, err, tc.ok)
		}
	}
}
