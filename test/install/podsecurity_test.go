package install

import (
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The install's Namespace enforces the "restricted" Pod Security Standard, so
// a manager pod that loosens its securityContext would never start. No
// controller runs in envtest, so the test creates the pod the Deployment would
// create and lets the API server's PodSecurity admission judge it.
func TestInstaller_ManagerPodPassesRestrictedPodSecurity(t *testing.T) {
	objs := installDefault(t)
	ctx := testContext(t)
	if webhooksInterceptPods(t, objs) {
		t.Skip("an installed webhook intercepts pods; creating one would make the API server call it")
	}
	var d appsv1.Deployment
	convert(t, findObject(t, objs, "Deployment", managerDeployment), &d)

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "manager-pod-security-", Namespace: installNamespace, Labels: d.Spec.Template.Labels},
		Spec:       *d.Spec.Template.Spec.DeepCopy(),
	}
	if err := env.Client.Create(ctx, pod); err != nil {
		t.Fatalf("the manager pod is refused in %s: %v", installNamespace, err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, pod) })

	// The same pod without its securityContext must be refused; otherwise
	// PodSecurity admission is off and the check above proved nothing.
	loose := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "loose-pod-security-", Namespace: installNamespace},
		Spec:       *d.Spec.Template.Spec.DeepCopy(),
	}
	loose.Spec.SecurityContext = nil
	for i := range loose.Spec.Containers {
		loose.Spec.Containers[i].SecurityContext = nil
	}
	err := env.Client.Create(ctx, loose)
	if err == nil {
		_ = env.Client.Delete(ctx, loose)
		t.Fatalf("a pod without securityContext was admitted to %s: the Namespace does not enforce restricted", installNamespace)
	}
	if !strings.Contains(err.Error(), "restricted") {
		t.Fatalf("a pod without securityContext was refused, but not by PodSecurity: %v", err)
	}
}

// webhooksInterceptPods reports whether any webhook of the install matches
// pods.
func webhooksInterceptPods(t *testing.T, objs []*unstructured.Unstructured) bool {
	var rules []admissionregistrationv1.RuleWithOperations
	for _, u := range objectsOfKind(objs, "MutatingWebhookConfiguration") {
		var c admissionregistrationv1.MutatingWebhookConfiguration
		convert(t, u, &c)
		for _, w := range c.Webhooks {
			rules = append(rules, w.Rules...)
		}
	}
	for _, u := range objectsOfKind(objs, "ValidatingWebhookConfiguration") {
		var c admissionregistrationv1.ValidatingWebhookConfiguration
		convert(t, u, &c)
		for _, w := range c.Webhooks {
			rules = append(rules, w.Rules...)
		}
	}
	for _, r := range rules {
		if slices.Contains(r.Resources, "pods") || slices.Contains(r.Resources, "*") {
			return true
		}
	}
	return false
}
