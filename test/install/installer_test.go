package install

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// The names a user of the default install sees (config/default: namespace and
// prefix), which the manager's flags default to as well.
const (
	installNamespace   = "sluice-system"
	managerDeployment  = "sluice-controller-manager"
	managerAccount     = "sluice-controller-manager"
	webhookService     = "sluice-webhook-service"
	metricsService     = "sluice-controller-manager-metrics-service"
	webhookCertSecret  = "sluice-webhook-server-cert"
	mutatingWebhooks   = "sluice-mutating-webhook-configuration"
	validatingWebhooks = "sluice-validating-webhook-configuration"
)

var (
	installOnce    sync.Once
	installObjects []*unstructured.Unstructured
)

// installDefault renders config/default, as `make build-installer` does into
// dist/install.yaml, and applies it once for the whole suite.
func installDefault(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	kubeapi.RequireEnv(t, env)
	installOnce.Do(func() {
		objs := kustomizeBuild(t, "config/default")
		applyAll(t, testContext(t), objs)
		if !t.Failed() {
			installObjects = objs
		}
	})
	if installObjects == nil {
		t.Fatal("the default install did not apply (see the first test that ran it)")
	}
	return installObjects
}

func TestInstaller_EveryObjectIsAcceptedByTheAPIServer(t *testing.T) {
	objs := installDefault(t)
	ctx := testContext(t)

	// A complete install: losing one of these in a kustomization edit would
	// leave a broken operator without any error from kustomize.
	for _, kind := range []string{"Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole",
		"ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment",
		"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		if len(objectsOfKind(objs, kind)) == 0 {
			t.Errorf("config/default renders no %s", kind)
		}
	}
	for _, crd := range []string{"canaries.mesh.sluice.dev", "meshes.mesh.sluice.dev", "policies.mesh.sluice.dev"} {
		findObject(t, objs, "CustomResourceDefinition", crd)
	}
	for _, u := range objs {
		mustExist(t, ctx, u)
	}
}

// dist/install.yaml is what a release ships; when `make build-installer` has
// made one, it must install as well as config/default does.
func TestInstaller_DistInstallYAMLIsAcceptedByTheAPIServer(t *testing.T) {
	path := filepath.Join(kubeapi.RepoRoot(), "dist", "install.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Skip("no dist/install.yaml: run `make build-installer` to test the rendered file too")
	}
	installDefault(t) // same objects; applying the file on top must also succeed
	objs := readObjectsFile(t, path)
	applyAll(t, testContext(t), objs)
	if d := findObject(t, objs, "Deployment", managerDeployment); strings.Contains(containerOf(t, d, "manager").Image, "controller:latest") {
		t.Errorf("dist/install.yaml still runs the placeholder image controller:latest; build-installer must set IMG")
	}
}

func TestInstaller_NamesAndNamespaceMatchTheManagerDefaults(t *testing.T) {
	objs := kustomizeBuild(t, "config/default")
	for _, u := range objs {
		switch {
		case u.GetKind() == "CustomResourceDefinition":
			continue // named by their API group
		case !strings.HasPrefix(u.GetName(), "sluice-"):
			t.Errorf("%s %s lacks the sluice- prefix", u.GetKind(), u.GetName())
		}
		if u.GetNamespace() != "" && u.GetNamespace() != installNamespace {
			t.Errorf("%s %s is in namespace %s, not %s", u.GetKind(), u.GetName(), u.GetNamespace(), installNamespace)
		}
	}
	// The manager's flags default to these names (cmd/manager/options.go).
	findObject(t, objs, "Namespace", installNamespace)
	findObject(t, objs, "Service", webhookService)
	findObject(t, objs, "MutatingWebhookConfiguration", mutatingWebhooks)
	findObject(t, objs, "ValidatingWebhookConfiguration", validatingWebhooks)
}

// The API server must reach the manager's webhook server through the Service:
// configuration -> Service port -> Service targetPort -> a container port of
// the pods the Service selects.
func TestInstaller_WebhooksReachTheManagerPod(t *testing.T) {
	objs := kustomizeBuild(t, "config/default")
	var deployment appsv1.Deployment
	convert(t, findObject(t, objs, "Deployment", managerDeployment), &deployment)
	var svc corev1.Service
	convert(t, findObject(t, objs, "Service", webhookService), &svc)

	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(deployment.Spec.Template.Labels)) {
		t.Fatalf("Service %s selector %v does not select the manager pods %v", svc.Name, svc.Spec.Selector, deployment.Spec.Template.Labels)
	}
	var clientConfigs []admissionregistrationv1.WebhookClientConfig
	var mutating admissionregistrationv1.MutatingWebhookConfiguration
	convert(t, findObject(t, objs, "MutatingWebhookConfiguration", mutatingWebhooks), &mutating)
	for _, w := range mutating.Webhooks {
		clientConfigs = append(clientConfigs, w.ClientConfig)
	}
	var validating admissionregistrationv1.ValidatingWebhookConfiguration
	convert(t, findObject(t, objs, "ValidatingWebhookConfiguration", validatingWebhooks), &validating)
	for _, w := range validating.Webhooks {
		clientConfigs = append(clientConfigs, w.ClientConfig)
	}
	if len(clientConfigs) == 0 {
		t.Fatal("the webhook configurations have no webhooks")
	}
	manager := containerOf(t, findObject(t, objs, "Deployment", managerDeployment), "manager")
	for _, cc := range clientConfigs {
		ref := cc.Service
		if ref == nil || ref.Name != webhookService || ref.Namespace != installNamespace {
			t.Errorf("webhook %v does not call Service %s/%s", cc, installNamespace, webhookService)
			continue
		}
		port := int32(443)
		if ref.Port != nil {
			port = *ref.Port
		}
		target, ok := servicePortTarget(svc, port)
		if !ok {
			t.Errorf("webhook calls port %d, which Service %s does not have", port, svc.Name)
			continue
		}
		if !hasContainerPort(manager, target) {
			t.Errorf("Service %s sends port %d to %s, which the manager container does not expose", svc.Name, port, target.String())
		}
	}
}

func TestInstaller_MetricsServiceReachesTheSecureMetricsPort(t *testing.T) {
	objs := kustomizeBuild(t, "config/default")
	var svc corev1.Service
	convert(t, findObject(t, objs, "Service", metricsService), &svc)
	manager := containerOf(t, findObject(t, objs, "Deployment", managerDeployment), "manager")
	target, ok := servicePortTarget(svc, 8443)
	if !ok || !hasContainerPort(manager, target) {
		t.Errorf("metrics Service port 8443 does not reach a manager container port (target %v)", target.String())
	}
	if !slices.Contains(manager.Args, "--metrics-bind-address=:8443") {
		t.Errorf("manager args %v do not serve metrics on :8443", manager.Args)
	}
}

// What the manager does at run time needs RBAC from three places (markers,
// hand-written roles, bindings); ask the real RBAC authorizer whether the
// installed ServiceAccount may do it.
func TestInstaller_ManagerHasTheRightsItNeedsAndNoMore(t *testing.T) {
	installDefault(t)
	ctx := testContext(t)
	user := "system:serviceaccount:" + installNamespace + ":" + managerAccount
	cases := []struct {
		name    string
		attrs   authorizationv1.ResourceAttributes
		allowed bool
	}{
		{"create the certificate Secret", authorizationv1.ResourceAttributes{Namespace: installNamespace, Verb: "create", Resource: "secrets"}, true},
		{"update the certificate Secret", authorizationv1.ResourceAttributes{Namespace: installNamespace, Verb: "update", Resource: "secrets", Name: webhookCertSecret}, true},
		{"watch Secrets of its namespace", authorizationv1.ResourceAttributes{Namespace: installNamespace, Verb: "watch", Resource: "secrets"}, true},
		{"patch the mutating caBundle", authorizationv1.ResourceAttributes{Group: "admissionregistration.k8s.io", Verb: "patch", Resource: "mutatingwebhookconfigurations", Name: mutatingWebhooks}, true},
		{"patch the validating caBundle", authorizationv1.ResourceAttributes{Group: "admissionregistration.k8s.io", Verb: "patch", Resource: "validatingwebhookconfigurations", Name: validatingWebhooks}, true},
		{"watch webhook configurations", authorizationv1.ResourceAttributes{Group: "admissionregistration.k8s.io", Verb: "watch", Resource: "validatingwebhookconfigurations"}, true},
		{"hold the leader Lease", authorizationv1.ResourceAttributes{Namespace: installNamespace, Group: "coordination.k8s.io", Verb: "update", Resource: "leases", Name: "any"}, true},
		{"review metrics callers' tokens", authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Verb: "create", Resource: "tokenreviews"}, true},
		// A Canary's primary gets copies of the Secrets its pod template uses, in
		// the Canary's namespace, so Secrets are readable cluster-wide (as with
		// Flagger); what the manager must never do is widen its own rights.
		{"copy a Secret a Canary references", authorizationv1.ResourceAttributes{Namespace: "shop", Verb: "get", Resource: "secrets", Name: "db"}, true},
		{"not bind cluster roles", authorizationv1.ResourceAttributes{Group: "rbac.authorization.k8s.io", Verb: "create", Resource: "clusterrolebindings"}, false},
		{"not delete Namespaces", authorizationv1.ResourceAttributes{Verb: "delete", Resource: "namespaces", Name: "kube-system"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			attrs := tc.attrs
			review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User:               user,
				Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + installNamespace, "system:authenticated"},
				ResourceAttributes: &attrs,
			}}
			if err := env.Client.Create(ctx, review); err != nil {
				t.Fatal(err)
			}
			if review.Status.Allowed != tc.allowed {
				t.Errorf("%s %s %s/%s: allowed=%v, want %v (%s)", user, attrs.Verb, attrs.Resource, attrs.Name,
					review.Status.Allowed, tc.allowed, review.Status.Reason)
			}
		})
	}
}

func containerOf(t *testing.T, u *unstructured.Unstructured, name string) corev1.Container {
	t.Helper()
	var d appsv1.Deployment
	convert(t, u, &d)
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("Deployment %s has no container %s", d.Name, name)
	return corev1.Container{}
}

func servicePortTarget(svc corev1.Service, port int32) (intstr.IntOrString, bool) {
	for _, p := range svc.Spec.Ports {
		if p.Port == port {
			if p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal == 0 {
				return intstr.FromInt32(port), true
			}
			return p.TargetPort, true
		}
	}
	return intstr.IntOrString{}, false
}

func hasContainerPort(c corev1.Container, target intstr.IntOrString) bool {
	for _, p := range c.Ports {
		if (target.Type == intstr.Int && p.ContainerPort == target.IntVal) ||
			(target.Type == intstr.String && p.Name == target.StrVal) {
			return true
		}
	}
	return false
}
