package install

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// fieldOwner is the server-side apply manager of everything this suite applies.
const fieldOwner = client.FieldOwner("sluice-install-test")

// kustomizeBuild renders a kustomization of config/ with bin/kustomize.
func kustomizeBuild(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(kustomizeBin, "build", filepath.Join(kubeapi.RepoRoot(), dir))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kustomize build %s: %v\n%s", dir, err, stderr.String())
	}
	objs, err := kubeapi.DecodeObjects(&stdout)
	if err != nil {
		t.Fatalf("read kustomize build %s: %v", dir, err)
	}
	return objs
}

// readObjectsFile reads a multi-document YAML file.
func readObjectsFile(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := kubeapi.ReadObjects(path)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// applyOrder is the order `kubectl apply` users must respect: Namespaces and
// CRDs before what lives in them, webhook configurations last so they cannot
// intercept the rest of the install.
func applyOrder(u *unstructured.Unstructured) int {
	switch u.GetKind() {
	case "Namespace":
		return 0
	case "CustomResourceDefinition":
		return 1
	case "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration":
		return 3
	default:
		return 2
	}
}

// applyAll server-side applies objs in applyOrder, waiting for CRDs to be
// established before anything else, and reports every object the API server
// refuses.
func applyAll(t *testing.T, ctx context.Context, objs []*unstructured.Unstructured) {
	t.Helper()
	for stage := 0; stage <= 3; stage++ {
		var crds []string
		for _, u := range objs {
			if applyOrder(u) != stage {
				continue
			}
			if err := apply(ctx, u); err != nil {
				t.Errorf("API server refused %s %s: %v", u.GetKind(), describe(u), err)
				continue
			}
			if u.GetKind() == "CustomResourceDefinition" {
				crds = append(crds, u.GetName())
			}
		}
		for _, name := range crds {
			if err := waitForCRDEstablished(ctx, name); err != nil {
				t.Errorf("CRD %s: %v", name, err)
			}
		}
	}
}

func apply(ctx context.Context, u *unstructured.Unstructured) error {
	return env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), fieldOwner, client.ForceOwnership)
}

func waitForCRDEstablished(ctx context.Context, name string) error {
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := env.Client.Get(ctx, types.NamespacedName{Name: name}, &crd); err != nil {
			return false, nil
		}
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

// describe names an object for messages: namespace/name or name.
func describe(u *unstructured.Unstructured) string {
	if u.GetNamespace() != "" {
		return u.GetNamespace() + "/" + u.GetName()
	}
	return u.GetName()
}

// findObject returns the one object of kind and name, failing the test when
// there is none.
func findObject(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, u := range objs {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	t.Fatalf("no %s %s among %d objects", kind, name, len(objs))
	return nil
}

// objectsOfKind returns the objects of one kind.
func objectsOfKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, u := range objs {
		if u.GetKind() == kind {
			out = append(out, u)
		}
	}
	return out
}

// convert reads an unstructured object into its typed form.
func convert(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtimeConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatalf("read %s %s: %v", u.GetKind(), describe(u), err)
	}
}

func mustExist(t *testing.T, ctx context.Context, u *unstructured.Unstructured) {
	t.Helper()
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(u.GroupVersionKind())
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(u), got); err != nil {
		t.Errorf("%s %s is not in the cluster after the install: %v", u.GetKind(), describe(u), err)
	}
}

// runtimeConverter converts between unstructured and typed objects.
var runtimeConverter = runtime.DefaultUnstructuredConverter
