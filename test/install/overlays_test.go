package install

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// config/certmanager: the default install with cert-manager issuing the
// webhook certificate. cert-manager's CRDs are not in envtest, so the wiring is
// checked on the rendered objects: certificate -> Secret -> volume at the
// manager's cert dir; Certificate named in the CA injection annotation;
// Certificate valid for the Service the webhooks call.
func TestCertManagerOverlay_WiresTheCertificateToTheManagerAndWebhooks(t *testing.T) {
	objs := kustomizeBuild(t, "config/certmanager")
	cert := findObject(t, objs, "Certificate", "sluice-serving-cert")
	secretName, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
	dnsNames, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")

	var d appsv1.Deployment
	convert(t, findObject(t, objs, "Deployment", managerDeployment), &d)
	manager := containerOf(t, findObject(t, objs, "Deployment", managerDeployment), "manager")
	const certDir = "/tmp/k8s-webhook-server/serving-certs"
	for _, arg := range []string{"--webhook-cert-mode=external", "--webhook-cert-dir=" + certDir} {
		if !slices.Contains(manager.Args, arg) {
			t.Errorf("manager args %v lack %s", manager.Args, arg)
		}
	}
	if v := volumeMountedAt(d, manager, certDir); v == nil || v.Secret == nil || v.Secret.SecretName != secretName {
		t.Errorf("%s is not mounted from the Certificate's Secret %s (volume %+v)", certDir, secretName, v)
	}

	want := installNamespace + "/" + cert.GetName()
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		for _, w := range objectsOfKind(objs, kind) {
			if got := w.GetAnnotations()["cert-manager.io/inject-ca-from"]; got != want {
				t.Errorf("%s %s: cert-manager.io/inject-ca-from = %q, want %q", kind, w.GetName(), got, want)
			}
		}
	}
	if svcDNS := webhookService + "." + installNamespace + ".svc"; !slices.Contains(dnsNames, svcDNS) {
		t.Errorf("Certificate dnsNames %v lack %s, the name the API server dials", dnsNames, svcDNS)
	}
	issuerName, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "name")
	findObject(t, objs, "Issuer", issuerName)
}

// config/network-policy: accepted by the API server, and fencing the manager
// pods rather than some other selector.
func TestNetworkPolicyOverlay_SelectsTheManagerAndIsAccepted(t *testing.T) {
	installDefault(t)
	objs := kustomizeBuild(t, "config/network-policy")
	var d appsv1.Deployment
	convert(t, findObject(t, kustomizeBuild(t, "config/default"), "Deployment", managerDeployment), &d)
	policies := objectsOfKind(objs, "NetworkPolicy")
	if len(policies) == 0 {
		t.Fatal("config/network-policy renders no NetworkPolicy")
	}
	for _, u := range policies {
		var np networkingv1.NetworkPolicy
		convert(t, u, &np)
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("NetworkPolicy %s does not select the manager pods (%v)", np.Name, err)
		}
		if np.Namespace != installNamespace {
			t.Errorf("NetworkPolicy %s is in %q, not %s", np.Name, np.Namespace, installNamespace)
		}
	}
	applyAll(t, testContext(t), objs)
}

// config/prometheus: the ServiceMonitor must find the metrics Service and its
// port by name.
func TestPrometheusOverlay_MonitorsTheMetricsService(t *testing.T) {
	monitors := objectsOfKind(kustomizeBuild(t, "config/prometheus"), "ServiceMonitor")
	if len(monitors) != 1 {
		t.Fatalf("config/prometheus renders %d ServiceMonitors, want 1", len(monitors))
	}
	m := monitors[0]
	var svc corev1.Service
	convert(t, findObject(t, kustomizeBuild(t, "config/default"), "Service", metricsService), &svc)

	if m.GetNamespace() != svc.Namespace {
		t.Errorf("ServiceMonitor in %q, metrics Service in %q", m.GetNamespace(), svc.Namespace)
	}
	matchLabels, _, _ := unstructured.NestedStringMap(m.Object, "spec", "selector", "matchLabels")
	if !labels.SelectorFromSet(matchLabels).Matches(labels.Set(svc.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not match the metrics Service labels %v", matchLabels, svc.Labels)
	}
	endpoints, _, _ := unstructured.NestedSlice(m.Object, "spec", "endpoints")
	for _, e := range endpoints {
		port, _ := e.(map[string]any)["port"].(string)
		if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == port }) {
			t.Errorf("ServiceMonitor scrapes port %q, which the metrics Service does not name", port)
		}
	}
}

func volumeMountedAt(d appsv1.Deployment, c corev1.Container, path string) *corev1.Volume {
	for _, m := range c.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		for i := range d.Spec.Template.Spec.Volumes {
			if d.Spec.Template.Spec.Volumes[i].Name == m.Name {
				return &d.Spec.Template.Spec.Volumes[i]
			}
		}
	}
	return nil
}
