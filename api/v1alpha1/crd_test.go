package v1alpha1_test

import (
	"context"
	"slices"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// TestCRDs_CarryPrinterColumnsShortNamesAndCategories reads the installed
// CRDs back from the API server: what `kubectl get` shows and accepts.
func TestCRDs_CarryPrinterColumnsShortNamesAndCategories(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	want := []struct {
		crd        string
		scope      apiextensionsv1.ResourceScope
		shortNames []string
		columns    []string
	}{
		{"canaries.mesh.sluice.dev", apiextensionsv1.NamespaceScoped, []string{"cn"},
			[]string{"Status", "Weight", "FailedChecks", "LastTransition", "Age"}},
		{"meshes.mesh.sluice.dev", apiextensionsv1.ClusterScoped, []string{"sluicemesh"},
			[]string{"Version", "mTLS", "Ready", "Age"}},
		{"policies.mesh.sluice.dev", apiextensionsv1.NamespaceScoped, []string{"spol", "sluicepolicy"},
			[]string{"Target", "Accepted", "Proxies", "Age"}},
	}
	for _, w := range want {
		t.Run(w.crd, func(t *testing.T) {
			var crd apiextensionsv1.CustomResourceDefinition
			if err := env.Client.Get(context.Background(), client.ObjectKey{Name: w.crd}, &crd); err != nil {
				t.Fatal(err)
			}
			if crd.Spec.Scope != w.scope {
				t.Errorf("scope = %s, want %s", crd.Spec.Scope, w.scope)
			}
			if !slices.Equal(crd.Spec.Names.ShortNames, w.shortNames) {
				t.Errorf("short names = %v, want %v", crd.Spec.Names.ShortNames, w.shortNames)
			}
			if !slices.Contains(crd.Spec.Names.Categories, "sluice") {
				t.Errorf("categories = %v, want sluice (kubectl get sluice lists every kind)", crd.Spec.Names.Categories)
			}
			if len(crd.Spec.Versions) != 1 {
				t.Fatalf("versions = %d, want 1", len(crd.Spec.Versions))
			}
			v := crd.Spec.Versions[0]
			if v.Subresources == nil || v.Subresources.Status == nil {
				t.Errorf("no status subresource")
			}
			var columns []string
			for _, c := range v.AdditionalPrinterColumns {
				columns = append(columns, c.Name)
			}
			if !slices.Equal(columns, w.columns) {
				t.Errorf("printer columns = %v, want %v", columns, w.columns)
			}
		})
	}
}
