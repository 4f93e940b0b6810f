package install

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// csvSpec is the part of OLM's ClusterServiceVersion these tests read, with
// OLM's field names (operators.coreos.com/v1alpha1).
type csvSpec struct {
	Version                   string `json:"version"`
	CustomResourceDefinitions struct {
		Owned []struct {
			Name, Version, Kind, DisplayName, Description string
		} `json:"owned"`
	} `json:"customresourcedefinitions"`
	InstallModes []installMode `json:"installModes"`
	Install      struct {
		Strategy string `json:"strategy"`
		Spec     struct {
			Deployments        []strategyDeployment `json:"deployments"`
			Permissions        []strategyPermission `json:"permissions"`
			ClusterPermissions []strategyPermission `json:"clusterPermissions"`
		} `json:"spec"`
	} `json:"install"`
	WebhookDefinitions []webhookDefinition `json:"webhookdefinitions"`
}

type installMode struct {
	Type      string `json:"type"`
	Supported bool   `json:"supported"`
}

type strategyDeployment struct {
	Name string                `json:"name"`
	Spec appsv1.DeploymentSpec `json:"spec"`
}

type webhookDefinition struct {
	Type           string              `json:"type"`
	GenerateName   string              `json:"generateName"`
	DeploymentName string              `json:"deploymentName"`
	ContainerPort  int32               `json:"containerPort"`
	TargetPort     *intstr.IntOrString `json:"targetPort"`
	WebhookPath    string              `json:"webhookPath"`
}

type strategyPermission struct {
	ServiceAccountName string              `json:"serviceAccountName"`
	Rules              []rbacv1.PolicyRule `json:"rules"`
}

func bundleCSV(t *testing.T) (*unstructured.Unstructured, csvSpec) {
	t.Helper()
	csv := findObject(t, bundleManifests(t), "ClusterServiceVersion", csvName)
	var spec csvSpec
	data, err := json.Marshal(csv.Object["spec"])
	if err == nil {
		err = json.Unmarshal(data, &spec)
	}
	if err != nil {
		t.Fatalf("read CSV spec: %v", err)
	}
	return csv, spec
}

// OLM's own CRDs (../shared/olm/crds, from operator-framework/api) hold the
// schema a real OLM cluster enforces: the CSV must be created there with
// strict field validation, so a misspelt or misplaced field is an error
// rather than silently pruned.
func TestBundle_CSVIsAcceptedByOLMsSchema(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	olmCRDs := filepath.Join(kubeapi.RepoRoot(), "..", "shared", "olm", "crds")
	if _, err := os.Stat(olmCRDs); err != nil {
		t.Skipf("OLM's CRDs are not at %s (they come from operator-framework/api crds/); skipping the OLM schema check", olmCRDs)
	}
	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: []string{olmCRDs}, ErrorIfPathMissing: true}); err != nil {
		t.Fatalf("install OLM's CRDs: %v", err)
	}
	ctx := testContext(t)
	objs := bundleManifests(t)

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "olm-bundle-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	strict := client.FieldValidation(metav1.FieldValidationStrict)
	create := func(u *unstructured.Unstructured) error {
		u = u.DeepCopy()
		if u.GetKind() != "CustomResourceDefinition" && u.GroupVersionKind().GroupKind() != (schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}) {
			u.SetNamespace(ns.Name)
		}
		return env.Client.Create(ctx, u, strict)
	}

	// What a catalog install creates: an OperatorGroup for all namespaces and a
	// Subscription to the package, then the bundle's CSV.
	operatorGroup := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
		"metadata": map[string]any{"name": "sluice"},
		"spec":     map[string]any{"upgradeStrategy": "Default"},
	}}
	subscription := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
		"metadata": map[string]any{"name": bundlePackage},
		"spec": map[string]any{
			"channel": "alpha", "name": bundlePackage, "source": "sluice-catalog", "sourceNamespace": ns.Name,
			"installPlanApproval": "Manual", "startingCSV": csvName,
		},
	}}
	for _, u := range []*unstructured.Unstructured{operatorGroup, subscription} {
		if err := create(u); err != nil {
			t.Errorf("OLM refused the %s: %v", u.GetKind(), err)
		}
	}
	for _, u := range objs {
		var err error
		switch u.GetKind() {
		case "CustomResourceDefinition", "ClusterRole":
			err = apply(ctx, u) // the default install may already have made them
		default:
			err = create(u)
		}
		if err != nil {
			t.Errorf("the API server refused bundle object %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}

	// Control: the same strictness rejects a CSV with an unknown field, so the
	// acceptance above is OLM's schema speaking, not pruning.
	bad := findObject(t, objs, "ClusterServiceVersion", csvName).DeepCopy()
	bad.SetName("sluice.v0.0.1-control")
	_ = unstructured.SetNestedField(bad.Object, "x", "spec", "webhookDefinitions")
	if err := create(bad); err == nil {
		t.Error("a CSV with the misspelt field spec.webhookDefinitions was accepted: strict validation is not in effect")
	}
}

func TestBundle_OwnedCRDsMatchTheBundledCRDs(t *testing.T) {
	objs := bundleManifests(t)
	_, spec := bundleCSV(t)
	crds := map[string]apiextensionsv1.CustomResourceDefinition{}
	for _, u := range objectsOfKind(objs, "CustomResourceDefinition") {
		var crd apiextensionsv1.CustomResourceDefinition
		convert(t, u, &crd)
		crds[crd.Name] = crd
	}
	if len(spec.CustomResourceDefinitions.Owned) == 0 {
		t.Fatal("the CSV owns no CRDs")
	}
	owned := map[string]bool{}
	for _, o := range spec.CustomResourceDefinitions.Owned {
		owned[o.Name] = true
		crd, ok := crds[o.Name]
		if !ok {
			t.Errorf("the CSV owns %s, but bundle/manifests has no such CRD", o.Name)
			continue
		}
		if o.Kind != crd.Spec.Names.Kind {
			t.Errorf("owned %s: kind %s, the CRD says %s", o.Name, o.Kind, crd.Spec.Names.Kind)
		}
		if !slices.ContainsFunc(crd.Spec.Versions, func(v apiextensionsv1.CustomResourceDefinitionVersion) bool {
			return v.Name == o.Version && v.Served
		}) {
			t.Errorf("owned %s: version %s is not served by the CRD", o.Name, o.Version)
		}
		if o.DisplayName == "" || o.Description == "" {
			t.Errorf("owned %s has no displayName or description for the console", o.Name)
		}
	}
	for name := range crds {
		if !owned[name] {
			t.Errorf("bundle/manifests has CRD %s, which the CSV does not own", name)
		}
	}
	for _, want := range []string{"canaries.mesh.sluice.dev", "meshes.mesh.sluice.dev", "policies.mesh.sluice.dev"} {
		if !owned[want] {
			t.Errorf("the CSV does not own %s", want)
		}
	}
}

// alm-examples is what a console offers as a template for each kind.
func TestBundle_ALMExamplesParseAndCoverOurKinds(t *testing.T) {
	csv, spec := bundleCSV(t)
	var examples []unstructured.Unstructured
	if err := json.Unmarshal([]byte(csv.GetAnnotations()["alm-examples"]), &examples); err != nil {
		t.Fatalf("alm-examples is not a JSON array of objects: %v", err)
	}
	ownedKinds := map[schema.GroupVersionKind]bool{}
	for _, o := range spec.CustomResourceDefinitions.Owned {
		group := strings.SplitN(o.Name, ".", 2)[1]
		ownedKinds[schema.GroupVersionKind{Group: group, Version: o.Version, Kind: o.Kind}] = true
	}
	seen := map[string]bool{}
	for _, e := range examples {
		gvk := e.GroupVersionKind()
		if !ownedKinds[gvk] {
			t.Errorf("alm-examples has %s %s, which is none of the CSV's owned kinds", gvk, e.GetName())
		}
		if e.GetName() == "" {
			t.Errorf("alm-examples has a %s without a name", gvk.Kind)
		}
		seen[gvk.Kind] = true
	}
	for gvk := range ownedKinds {
		if !seen[gvk.Kind] {
			t.Errorf("alm-examples has no %s: add one to config/samples", gvk.Kind)
		}
	}
}

// OLM reads the bundle image's labels, tools read annotations.yaml: they must
// say the same thing, and point at directories the image really contains.
func TestBundle_AnnotationsAndDockerfileLabelsAgree(t *testing.T) {
	out := generatedBundle(t)
	var meta struct {
		Annotations map[string]string `json:"annotations"`
	}
	readYAMLFile(t, filepath.Join(out, "bundle", "metadata", "annotations.yaml"), &meta)
	dockerfile, err := os.ReadFile(filepath.Join(out, "bundle.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^LABEL (\S+)=(\S+)$`).FindAllStringSubmatch(string(dockerfile), -1) {
		labels[m[1]] = m[2]
	}
	for k, v := range meta.Annotations {
		if labels[k] != v {
			t.Errorf("annotation %s=%s, bundle.Dockerfile LABEL says %q", k, v, labels[k])
		}
	}
	for k := range labels {
		if _, ok := meta.Annotations[k]; !ok {
			t.Errorf("bundle.Dockerfile has LABEL %s, annotations.yaml does not", k)
		}
	}
	want := map[string]string{
		"operators.operatorframework.io.bundle.mediatype.v1": "registry+v1",
		"operators.operatorframework.io.bundle.package.v1":   bundlePackage,
		"operators.operatorframework.io.bundle.manifests.v1": "manifests/",
		"operators.operatorframework.io.bundle.metadata.v1":  "metadata/",
	}
	for k, v := range want {
		if meta.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, meta.Annotations[k], v)
		}
	}
	for _, dir := range []string{"manifests", "metadata"} {
		if !strings.Contains(string(dockerfile), "COPY bundle/"+dir+" /"+dir+"/") {
			t.Errorf("bundle.Dockerfile does not copy bundle/%s to /%s/", dir, dir)
		}
	}
	if !slices.Contains(strings.Split(meta.Annotations["operators.operatorframework.io.bundle.channels.v1"], ","),
		meta.Annotations["operators.operatorframework.io.bundle.channel.default.v1"]) {
		t.Error("the default channel is not one of the bundle's channels")
	}
}

// Under OLM every generated webhook must still reach the manager: OLM builds
// a Service from containerPort/targetPort to the named Deployment.
func TestBundle_WebhookDefinitionsServeEveryGeneratedWebhook(t *testing.T) {
	_, spec := bundleCSV(t)
	generated := readObjectsFile(t, filepath.Join(kubeapi.RepoRoot(), "config", "webhook", "manifests.yaml"))
	type webhook struct{ typ, name, path string }
	var want []webhook
	for _, u := range generated {
		switch u.GetKind() {
		case "MutatingWebhookConfiguration":
			var c admissionregistrationv1.MutatingWebhookConfiguration
			convert(t, u, &c)
			for _, w := range c.Webhooks {
				want = append(want, webhook{"MutatingAdmissionWebhook", w.Name, *w.ClientConfig.Service.Path})
			}
		case "ValidatingWebhookConfiguration":
			var c admissionregistrationv1.ValidatingWebhookConfiguration
			convert(t, u, &c)
			for _, w := range c.Webhooks {
				want = append(want, webhook{"ValidatingAdmissionWebhook", w.Name, *w.ClientConfig.Service.Path})
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("config/webhook/manifests.yaml has no webhooks")
	}
	for _, w := range want {
		i := slices.IndexFunc(spec.WebhookDefinitions, func(d webhookDefinition) bool {
			return d.Type == w.typ && d.GenerateName == w.name
		})
		if i < 0 {
			t.Errorf("the CSV has no %s %s", w.typ, w.name)
			continue
		}
		d := spec.WebhookDefinitions[i]
		if d.WebhookPath != w.path {
			t.Errorf("%s: webhookPath %s, the manager serves %s", w.name, d.WebhookPath, w.path)
		}
		dep := slices.IndexFunc(spec.Install.Spec.Deployments, func(x strategyDeployment) bool {
			return x.Name == d.DeploymentName
		})
		if dep < 0 {
			t.Errorf("%s: deploymentName %s is not a Deployment of the CSV", w.name, d.DeploymentName)
			continue
		}
		target := intstr.FromInt32(d.ContainerPort)
		if d.TargetPort != nil {
			target = *d.TargetPort
		}
		c := spec.Install.Spec.Deployments[dep].Spec.Template.Spec.Containers
		if !slices.ContainsFunc(c, func(c corev1.Container) bool { return hasContainerPort(c, target) }) {
			t.Errorf("%s: targetPort %s is no container port of %s", w.name, target.String(), d.DeploymentName)
		}
	}
}

// OLM mounts its certificate at the webhook cert dir; the manager must serve
// it instead of issuing its own, and run the image the bundle was made for.
func TestBundle_ManagerRunsTheGivenImageWithOLMsCertificate(t *testing.T) {
	_, spec := bundleCSV(t)
	if spec.Version != bundleVersion || spec.Install.Strategy != "deployment" {
		t.Errorf("CSV version %q strategy %q", spec.Version, spec.Install.Strategy)
	}
	if !slices.ContainsFunc(spec.InstallModes, func(m installMode) bool {
		return m.Type == "AllNamespaces" && m.Supported
	}) {
		t.Error("the CSV does not support the AllNamespaces install mode its cluster-wide webhooks need")
	}
	if len(spec.Install.Spec.Deployments) != 1 {
		t.Fatalf("the CSV has %d Deployments, want the manager only", len(spec.Install.Spec.Deployments))
	}
	d := spec.Install.Spec.Deployments[0]
	i := slices.IndexFunc(d.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == "manager" })
	if i < 0 {
		t.Fatal("the CSV's Deployment has no manager container")
	}
	manager := d.Spec.Template.Spec.Containers[i]
	if manager.Image != bundleImage {
		t.Errorf("manager image %s, want %s", manager.Image, bundleImage)
	}
	const certDir = "/tmp/k8s-webhook-server/serving-certs"
	for _, arg := range []string{"--webhook-cert-mode=external", "--webhook-cert-dir=" + certDir} {
		if !slices.Contains(manager.Args, arg) {
			t.Errorf("manager args %v lack %s", manager.Args, arg)
		}
	}
	for _, m := range manager.VolumeMounts {
		if m.MountPath == certDir {
			t.Errorf("the manager already mounts %s (volume %s); OLM's certificate mount there would clash", certDir, m.Name)
		}
	}
}

// The CSV must grant the manager what the kustomize install grants it: every
// rule of the roles bound to its ServiceAccount.
func TestBundle_PermissionsCarryTheManagerRBAC(t *testing.T) {
	_, spec := bundleCSV(t)
	install := kustomizeBuild(t, "config/manifests")
	rulesOf := func(perms []strategyPermission) []rbacv1.PolicyRule {
		var rules []rbacv1.PolicyRule
		for _, p := range perms {
			if p.ServiceAccountName == managerAccount {
				rules = append(rules, p.Rules...)
			}
		}
		return rules
	}
	check := func(kind, name string, granted []rbacv1.PolicyRule) {
		u := findObject(t, install, kind, name)
		rules, _, _ := unstructured.NestedSlice(u.Object, "rules")
		for _, r := range rules {
			var rule rbacv1.PolicyRule
			convert(t, &unstructured.Unstructured{Object: r.(map[string]any)}, &rule)
			if !slices.ContainsFunc(granted, func(g rbacv1.PolicyRule) bool { return equalRules(g, rule) }) {
				t.Errorf("%s %s rule %+v is not in the CSV", kind, name, rule)
			}
		}
	}
	check("ClusterRole", "sluice-manager-role", rulesOf(spec.Install.Spec.ClusterPermissions))
	check("ClusterRole", "sluice-metrics-auth-role", rulesOf(spec.Install.Spec.ClusterPermissions))
	check("Role", "sluice-leader-election-role", rulesOf(spec.Install.Spec.Permissions))
	if len(objectsOfKind(install, "Role")) > 1 {
		check("Role", "sluice-manager-role", rulesOf(spec.Install.Spec.Permissions))
	}
}

func equalRules(a, b rbacv1.PolicyRule) bool {
	return slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) &&
		slices.Equal(a.Verbs, b.Verbs) && slices.Equal(a.ResourceNames, b.ResourceNames) &&
		slices.Equal(a.NonResourceURLs, b.NonResourceURLs)
}
