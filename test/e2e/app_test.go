package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// The application of every scenario: a podinfo-like Deployment of two
// replicas. Its images are never pulled: kwok plays the kubelet.
const (
	appName     = "podinfo"
	appReplicas = 2
	imageV1     = "ghcr.io/stefanprodan/podinfo:6.9.0"
	imageV2     = "ghcr.io/stefanprodan/podinfo:6.9.1"
)

// The analysis of every scenario: checks every 10s (the API's minimum), two
// passing checks take the canary to 25% then 50%, the next promotes; two
// failed checks roll back.
const (
	analysisInterval = 10 * time.Second
	stepWeight       = 25
	maxWeight        = 50
	threshold        = 2
)

// app is one scenario's application in its own namespace, seen through the
// API the way kubectl shows it.
type app struct {
	t  *testing.T
	g  *WithT
	c  client.WithWatch
	ns string
}

// newApp creates a namespace named after the scenario. Namespaces are not
// deleted: the cluster is, at the end of the suite.
func newApp(t *testing.T, s *suiteEnv, scenario string) *app {
	t.Helper()
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	a := &app{t: t, g: NewWithT(t), c: s.client, ns: scenario + "-" + hex.EncodeToString(suffix)}
	a.g.SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	a.g.Expect(a.c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: a.ns}})).To(Succeed())
	return a
}

// createDeployment creates the Deployment `podinfo`, labelled the way a
// Helm chart labels it (app.kubernetes.io/name, one of the default selector
// labels).
func (a *app) createDeployment() {
	a.t.Helper()
	labels := map[string]string{"app.kubernetes.io/name": appName}
	a.g.Expect(a.c.Create(context.Background(), &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: appName, Namespace: a.ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](appReplicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: appName, Image: imageV1,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
				}}},
			},
		},
	})).To(Succeed())
}

// createCanary creates the Canary `podinfo` for the Deployment: provider
// sluice (an HTTPRoute on the apex Service), the builtin success rate and
// latency checks.
func (a *app) createCanary() {
	a.t.Helper()
	c := &meshv1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: appName, Namespace: a.ns},
		Spec: meshv1alpha1.CanarySpec{
			TargetRef:               meshv1alpha1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: appName},
			Provider:                meshv1alpha1.ProviderSluice,
			ProgressDeadlineSeconds: 120,
			Service:                 meshv1alpha1.CanaryService{Port: 9898, TargetPort: ptr.To(intstr.FromString("http"))},
			Analysis: meshv1alpha1.CanaryAnalysis{
				Interval:   &metav1.Duration{Duration: analysisInterval},
				Threshold:  threshold,
				StepWeight: ptr.To[int32](stepWeight),
				MaxWeight:  ptr.To[int32](maxWeight),
				Metrics: []meshv1alpha1.AnalysisMetric{
					{Name: meshv1alpha1.MetricRequestSuccessRate, ThresholdRange: meshv1alpha1.ThresholdRange{Min: ptr.To(resource.MustParse("99"))}},
					{Name: meshv1alpha1.MetricRequestDuration, ThresholdRange: meshv1alpha1.ThresholdRange{Max: ptr.To(resource.MustParse("500"))}},
				},
			},
		},
	}
	// The webhooks may refuse connections for a moment after the manager's
	// /readyz (run-local retries for the same reason).
	a.g.Eventually(func() error { return a.c.Create(context.Background(), c) }, 20*time.Second).Should(Succeed())
}

// bootstrap creates the Deployment and its Canary and waits until the
// Canary is Initialized.
func (a *app) bootstrap() {
	a.t.Helper()
	start := time.Now()
	a.createDeployment()
	a.createCanary()
	a.g.Eventually(a.phase, 2*time.Minute).Should(Equal(meshv1alpha1.CanaryPhaseInitialized), a.describe)
	a.t.Logf("Initialized %s after the Deployment and Canary were created", time.Since(start).Round(100*time.Millisecond))
}

// canary reads the Canary; on an error, which describe shows, it is empty.
func (a *app) canary() *meshv1alpha1.Canary {
	c := &meshv1alpha1.Canary{}
	_ = a.get(appName, c)
	return c
}

func (a *app) get(name string, obj client.Object) error {
	return a.c.Get(context.Background(), client.ObjectKey{Namespace: a.ns, Name: name}, obj)
}

func (a *app) phase() meshv1alpha1.CanaryPhase { return a.canary().Status.Phase }

func (a *app) condition(conditionType string) metav1.Condition {
	if c := meta.FindStatusCondition(a.canary().Status.Conditions, conditionType); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// deployment reads a Deployment; on an error, which describe shows, it is
// empty.
func (a *app) deployment(name string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	_ = a.get(name, d)
	return d
}

func (a *app) service(name string) *corev1.Service {
	s := &corev1.Service{}
	a.g.Expect(a.get(name, s)).To(Succeed())
	return s
}

func (a *app) httpRoute() *gatewayv1.HTTPRoute {
	r := &gatewayv1.HTTPRoute{}
	a.g.Expect(a.get(appName, r)).To(Succeed())
	return r
}

// routeWeights reads the HTTPRoute's split as "<primary>/<canary>", e.g.
// "100/0"; "" before the route has a split.
func routeWeights(obj runtime.Object) string {
	r, ok := obj.(*gatewayv1.HTTPRoute)
	if !ok {
		return ""
	}
	for _, rule := range r.Spec.Rules {
		weights := map[string]int32{}
		for _, b := range rule.BackendRefs {
			weights[string(b.Name)] = ptr.Deref(b.Weight, 1)
		}
		p, okP := weights[appName+"-primary"]
		c, okC := weights[appName+"-canary"]
		if okP && okC {
			return fmt.Sprintf("%d/%d", p, c)
		}
	}
	return ""
}

func canaryPhase(obj runtime.Object) string {
	if c, ok := obj.(*meshv1alpha1.Canary); ok {
		return string(c.Status.Phase)
	}
	return ""
}

// watchRoute and watchPhase record what `kubectl get httproute podinfo -w`
// and `kubectl get canary podinfo -w` show from now on.
func (a *app) watchRoute() *history {
	return watchHistory(a.t, a.c, &gatewayv1.HTTPRouteList{}, a.ns, appName, routeWeights)
}

func (a *app) watchPhase() *history {
	return watchHistory(a.t, a.c, &meshv1alpha1.CanaryList{}, a.ns, appName, canaryPhase)
}

// setImage changes the Deployment's image, as `kubectl set image` does.
func (a *app) setImage(image string) {
	a.t.Helper()
	d := a.deployment(appName)
	before := d.DeepCopy()
	d.Spec.Template.Spec.Containers[0].Image = image
	a.g.Expect(a.c.Patch(context.Background(), d, client.MergeFrom(before))).To(Succeed())
}

// readyPods are the images of the pods labelled app.kubernetes.io/name=value
// that are Running and Ready on a node, or a line saying why one is not.
func (a *app) readyPods(value string) []string {
	var pods corev1.PodList
	if err := a.c.List(context.Background(), &pods, client.InNamespace(a.ns), client.MatchingLabels{"app.kubernetes.io/name": value}); err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, p := range pods.Items {
		ready := p.Status.Phase == corev1.PodRunning && p.Spec.NodeName != "" && p.DeletionTimestamp == nil
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady {
				ready = ready && c.Status == corev1.ConditionTrue
			}
		}
		if !ready {
			out = append(out, fmt.Sprintf("pod %s not ready (%s)", p.Name, p.Status.Phase))
			continue
		}
		out = append(out, p.Spec.Containers[0].Image)
	}
	return out
}

// events are the Canary's Events as "<type> <reason>: <note>", oldest first.
func (a *app) events() []string {
	var list eventsv1.EventList
	if err := a.c.List(context.Background(), &list, client.InNamespace(a.ns)); err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "Canary" && e.Regarding.Name == appName {
			out = append(out, fmt.Sprintf("%s %s: %s", e.Type, e.Reason, e.Note))
		}
	}
	return out
}

// kubectlGetCanary is the row `kubectl get canary podinfo` prints (the
// printer columns), with runs of spaces collapsed to one.
func (a *app) kubectlGetCanary(s *suiteEnv) string {
	out, err := s.kubectl(context.Background(), nil, "get", "canary", appName, "--namespace", a.ns, "--no-headers")
	if err != nil {
		return err.Error()
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// describe is what a user would look at when a wait fails: the Canary's
// status, the Deployments and the Events (like kubectl describe).
func (a *app) describe() string {
	var b strings.Builder
	c := &meshv1alpha1.Canary{}
	if err := a.get(appName, c); err != nil {
		fmt.Fprintf(&b, "Get Canary: %v\n", err)
	}
	fmt.Fprintf(&b, "Canary %s/%s: phase %q weight %d failedChecks %d\n", a.ns, appName, c.Status.Phase, c.Status.CanaryWeight, c.Status.FailedChecks)
	for _, cond := range c.Status.Conditions {
		fmt.Fprintf(&b, "  condition %s=%s %s: %s\n", cond.Type, cond.Status, cond.Reason, cond.Message)
	}
	for _, m := range c.Status.Metrics {
		fmt.Fprintf(&b, "  metric %s=%s %s: %s\n", m.Name, m.Value, m.Result, m.Message)
	}
	for _, name := range []string{appName, appName + "-primary"} {
		d := &appsv1.Deployment{}
		if err := a.get(name, d); err != nil {
			fmt.Fprintf(&b, "Get Deployment %s: %v\n", name, err)
			continue
		}
		fmt.Fprintf(&b, "Deployment %s: replicas %d ready %d updated %d (generation %d observed %d)\n",
			name, ptr.Deref(d.Spec.Replicas, 1), d.Status.ReadyReplicas, d.Status.UpdatedReplicas, d.Generation, d.Status.ObservedGeneration)
	}
	for _, e := range a.events() {
		fmt.Fprintf(&b, "Event %s\n", e)
	}
	return b.String()
}
