package canary

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// canaryFrom is a client whose Get answers one fixed Canary, marked with where
// it came from.
func canaryFrom(from, resourceVersion string) client.Client {
	return fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
		Get: func(_ context.Context, _ client.WithWatch, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
			c := obj.(*meshv1alpha1.Canary)
			*c = meshv1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
				ResourceVersion: resourceVersion, Annotations: map[string]string{"from": from}}}
			return nil
		},
	}).Build()
}

func TestReadCanary_TrustsTheCacheOnlyAtAVersionThatHasOurLastWrite(t *testing.T) {
	key := types.NamespacedName{Namespace: "shop", Name: "app"}
	read := func(r *Reconciler) string {
		t.Helper()
		var c meshv1alpha1.Canary
		if err := r.readCanary(context.Background(), key, &c); err != nil {
			t.Fatal(err)
		}
		return c.Annotations["from"] + "@" + c.ResourceVersion
	}
	r := &Reconciler{Client: canaryFrom("cache", "5"), APIReader: canaryFrom("api", "7")}
	if got := read(r); got != "api@7" {
		t.Errorf("first read = %s, want api@7: a Canary not seen since the start is read from the API server", got)
	}
	if got := read(r); got != "api@7" {
		t.Errorf("cache behind = %s, want api@7", got)
	}
	r.Client = canaryFrom("cache", "7")
	if got := read(r); got != "cache@7" {
		t.Errorf("cache caught up = %s, want cache@7", got)
	}
	r.wroteCanary(&meshv1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "app", ResourceVersion: "9"}})
	r.APIReader = canaryFrom("api", "9")
	if got := read(r); got != "api@9" {
		t.Errorf("after our write of 9, a cache at 7 = %s, want api@9", got)
	}
}
