package workload

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// deploymentFrom is a client whose Get answers one fixed Deployment at
// generation, marked with where it came from.
func deploymentFrom(from string, generation int64) client.Client {
	return fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
		Get: func(_ context.Context, _ client.WithWatch, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
			*obj.(*appsv1.Deployment) = appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
				Generation: generation, Annotations: map[string]string{"from": from}}}
			return nil
		},
	}).Build()
}

func TestGetDeployment_TrustsTheCacheOnceItHasOurLastWrite(t *testing.T) {
	key := types.NamespacedName{Namespace: "shop", Name: "app"}
	w := New(nil, Options{Reader: deploymentFrom("api", 4), Cache: deploymentFrom("cache", 4)})
	read := func() string {
		t.Helper()
		d := &appsv1.Deployment{}
		if err := w.getDeployment(context.Background(), key, d); err != nil {
			t.Fatal(err)
		}
		return d.Annotations["from"]
	}
	if got := read(); got != "api" {
		t.Errorf("a Deployment not seen since the start came from the %s, want the API server", got)
	}
	if got := read(); got != "cache" {
		t.Errorf("a cache at the known generation was not used (%s)", got)
	}
	w.wroteDeployment(key, 5) // we scaled it: generation 5
	w.reader = deploymentFrom("api", 5)
	if got := read(); got != "api" {
		t.Errorf("a cache at generation 4 after our write of 5 was used (%s)", got)
	}
	w.cache = deploymentFrom("cache", 6) // someone else changed it since
	if got := read(); got != "cache" {
		t.Errorf("a cache past our write was not used (%s)", got)
	}
	w.wroteDeployment(key, 0)
	if got := read(); got != "api" {
		t.Errorf("after a write of unknown generation, the read came from the %s", got)
	}
}
