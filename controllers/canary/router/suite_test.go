package router

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/install"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/kubeapi"
)

// env is the envtest API server with the third-party CRDs the routers write.
var env *kubeapi.Env

func TestMain(m *testing.M) {
	opts := kubeapi.Options{}
	if kubeapi.SkipReason() == "" {
		crds, err := thirdPartyCRDs()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		opts.ExtraCRDs = crds
	}
	os.Exit(kubeapi.Main(m, opts, func(e *kubeapi.Env) (func(), error) {
		env = e
		return nil, nil
	}))
}

func requireEnv(t *testing.T) {
	t.Helper()
	kubeapi.RequireEnv(t, env)
}

// thirdPartyCRDs are the providers' CRDs from their own Go modules' YAML:
//   - Gateway API's experimental HTTPRoute (v1.6 has `retry` only there);
//   - Istio's VirtualService and DestinationRule;
//   - SMI's TrafficSplit, converted from apiextensions/v1beta1, which the API
//     server no longer serves.
func thirdPartyCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	gatewayDir, err := moduleDir("sigs.k8s.io/gateway-api")
	if err != nil {
		return nil, err
	}
	istioDir, err := moduleDir("istio.io/api")
	if err != nil {
		return nil, err
	}
	smiDir, err := moduleDir("github.com/servicemeshinterface/smi-sdk-go")
	if err != nil {
		return nil, err
	}
	var all []*apiextensionsv1.CustomResourceDefinition
	for _, src := range []struct {
		path  string
		names []string
	}{
		{filepath.Join(gatewayDir, "config", "crd", "experimental", "gateway.networking.k8s.io_httproutes.yaml"), []string{"httproutes.gateway.networking.k8s.io"}},
		{filepath.Join(istioDir, "kubernetes", "customresourcedefinitions.gen.yaml"), []string{"virtualservices.networking.istio.io", "destinationrules.networking.istio.io"}},
		{filepath.Join(smiDir, "crds", "split.yaml"), []string{"trafficsplits.split.smi-spec.io"}},
	} {
		crds, err := readCRDs(src.path)
		if err != nil {
			return nil, err
		}
		for _, crd := range crds {
			if slices.Contains(src.names, crd.Name) {
				all = append(all, crd)
			}
		}
	}
	if len(all) != 4 {
		return nil, fmt.Errorf("found %d of the 4 third-party CRDs", len(all))
	}
	return all, nil
}

// moduleDir is where the Go module cache holds the module go.mod requires.
func moduleDir(module string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-json", module).Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", module, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("go list -m %s: no module directory (%v); run go mod download", module, err)
	}
	return m.Dir, nil
}

// readCRDs reads every CRD of a multi-document YAML file, converting
// apiextensions/v1beta1 ones to v1.
func readCRDs(path string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var crds []*apiextensionsv1.CustomResourceDefinition
	reader := utilyaml.NewYAMLReader(bufio.NewReader(f))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return crds, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil || tm.Kind != "CustomResourceDefinition" {
			continue
		}
		var crd *apiextensionsv1.CustomResourceDefinition
		switch tm.APIVersion {
		case apiextensionsv1.SchemeGroupVersion.String():
			crd = &apiextensionsv1.CustomResourceDefinition{}
			err = yaml.Unmarshal(doc, crd)
		case apiextensionsv1beta1.SchemeGroupVersion.String():
			crd, err = convertV1beta1CRD(doc)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		crds = append(crds, crd)
	}
}

// convertV1beta1CRD converts with apiextensions' own conversion, then makes
// what v1 requires and v1beta1 did not: a structural schema for every
// version (the root typed as an object). SMI's file serves only v1alpha4;
// the Linkerd SMI extension and Open Service Mesh serve v1alpha2, the version
// the smi router writes, so every listed version is served here (they share
// one schema: a service and weighted backends).
func convertV1beta1CRD(doc []byte) (*apiextensionsv1.CustomResourceDefinition, error) {
	old := &apiextensionsv1beta1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(bytes.TrimSpace(doc), old); err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	install.Install(scheme)
	internal := &apiextensions.CustomResourceDefinition{}
	if err := scheme.Convert(old, internal, nil); err != nil {
		return nil, fmt.Errorf("convert %s to internal: %w", old.Name, err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := scheme.Convert(internal, crd, nil); err != nil {
		return nil, fmt.Errorf("convert %s to v1: %w", old.Name, err)
	}
	for i := range crd.Spec.Versions {
		v := &crd.Spec.Versions[i]
		v.Served = true
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			v.Schema = &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
				Type: "object", XPreserveUnknownFields: ptr.To(true),
			}}
		}
		if v.Schema.OpenAPIV3Schema.Type == "" {
			v.Schema.OpenAPIV3Schema.Type = "object"
		}
	}
	crd.Spec.PreserveUnknownFields = false
	return crd, nil
}

// fixture is one test's Canary with its target Deployment, in its own
// namespace.
type fixture struct {
	ns     string
	canary *meshv1alpha1.Canary
}

// newFixture creates the target Deployment `app` (pods labelled app=app)
// and a Canary for provider, after mutate adjusts its spec.
func newFixture(t *testing.T, provider meshv1alpha1.Provider, mutate func(*meshv1alpha1.CanarySpec)) fixture {
	t.Helper()
	ctx := context.Background()
	ns := env.NewNamespace(t)
	labels := map[string]string{"app": "app"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}},
			},
		},
	}
	if err := env.Client.Create(ctx, dep); err != nil {
		t.Fatalf("create Deployment: %v", err)
	}
	c := &meshv1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns},
		Spec: meshv1alpha1.CanarySpec{
			TargetRef: meshv1alpha1.TargetReference{Name: "app"},
			Provider:  provider,
			Service:   meshv1alpha1.CanaryService{Port: 80, TargetPort: ptr.To(intstr.FromInt32(8080))},
			Analysis:  meshv1alpha1.CanaryAnalysis{StepWeight: ptr.To[int32](10)},
		},
	}
	if provider == meshv1alpha1.ProviderKubernetes {
		c.Spec.Analysis = meshv1alpha1.CanaryAnalysis{Iterations: ptr.To[int32](2)}
	}
	if provider == meshv1alpha1.ProviderGatewayAPI {
		c.Spec.Service.GatewayRefs = []gatewayv1.ParentReference{{Name: "public", Namespace: ptr.To(gatewayv1.Namespace("gateways"))}}
		c.Spec.Service.Hosts = []gatewayv1.Hostname{"app.example.com"}
	}
	if mutate != nil {
		mutate(&c.Spec)
	}
	if err := env.Client.Create(ctx, c); err != nil {
		t.Fatalf("create Canary: %v", err)
	}
	return fixture{ns: ns, canary: c}
}

// abTest makes a Canary an A/B run matching a header or a query parameter.
func abTest(spec *meshv1alpha1.CanarySpec) {
	spec.Analysis = meshv1alpha1.CanaryAnalysis{
		Iterations: ptr.To[int32](5),
		Match: []meshv1alpha1.CanaryMatch{
			{Headers: []gatewayv1.HTTPHeaderMatch{{Name: "X-Canary", Value: "insider"}}},
			{QueryParams: []gatewayv1.HTTPQueryParamMatch{{Name: "canary", Value: "yes"}}},
		},
	}
}

// mirrored makes a Canary a blue/green run with 40% mirroring.
func mirrored(spec *meshv1alpha1.CanarySpec) {
	spec.Analysis = meshv1alpha1.CanaryAnalysis{
		Iterations:   ptr.To[int32](5),
		Mirror:       true,
		MirrorWeight: ptr.To[int32](40),
	}
}

// router is the Router of the fixture's provider, reading the apex live as
// the manager does (the Services tests cover the reads without LiveReader).
func (f fixture) router(t *testing.T) Router {
	t.Helper()
	r, err := New(f.canary.Spec.Provider, env.Client, Options{LiveReader: env.Client})
	if err != nil {
		t.Fatalf("New(%q): %v", f.canary.Spec.Provider, err)
	}
	return r
}

// service reads a Service of the fixture's namespace.
func (f fixture) service(t *testing.T, name string) *corev1.Service {
	t.Helper()
	svc := &corev1.Service{}
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: f.ns, Name: name}, svc); err != nil {
		t.Fatalf("get Service %s: %v", name, err)
	}
	return svc
}
