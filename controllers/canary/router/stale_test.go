package router

import (
	"context"
	"testing"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func providerCaseOf(t *testing.T, p meshv1alpha1.Provider) providerCase {
	t.Helper()
	for _, pc := range providerCases {
		if pc.provider == p {
			return pc
		}
	}
	t.Fatalf("no provider case for %q", p)
	return providerCase{}
}

// After spec.provider changes, only the new provider's route objects steer
// traffic: the old provider's are deleted, a shared HTTPRoute is kept.
func TestRemoveStale_DeletesWhatTheOldProviderLeft(t *testing.T) {
	requireEnv(t)
	for _, change := range []struct{ from, to meshv1alpha1.Provider }{
		{meshv1alpha1.ProviderSluice, meshv1alpha1.ProviderKubernetes},
		{meshv1alpha1.ProviderIstio, meshv1alpha1.ProviderSMI},
		{meshv1alpha1.ProviderSMI, meshv1alpha1.ProviderGatewayAPI},
		{meshv1alpha1.ProviderGatewayAPI, meshv1alpha1.ProviderLinkerd},
	} {
		t.Run(string(change.from)+"-to-"+string(change.to), func(t *testing.T) {
			f := newFixture(t, change.from, nil)
			mustReconcile(t, f.router(t), f.canary)
			f.canary.Spec.Provider = change.to
			mustReconcile(t, f.router(t), f.canary)
			if err := RemoveStale(context.Background(), env.Client, f.canary); err != nil {
				t.Fatalf("RemoveStale: %v", err)
			}
			kept := map[objectRef]bool{}
			for _, ref := range providerCaseOf(t, change.to).objects {
				kept[ref] = true
				if !exists(t, f.ns, ref) {
					t.Errorf("%s %s of the new provider %s is gone", ref.gvk.Kind, ref.name, change.to)
				}
			}
			for _, ref := range providerCaseOf(t, change.from).objects {
				if !kept[ref] && exists(t, f.ns, ref) {
					t.Errorf("%s %s of the old provider %s is still there", ref.gvk.Kind, ref.name, change.from)
				}
			}
		})
	}
}
