package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/prometheus"
)

const (
	primaryName = appName + "-primary"
	canaryName  = appName + "-canary"
	// selectorLabel is the label the Deployment's pods carry, one of the
	// manager's default --selector-labels.
	selectorLabel = "app.kubernetes.io/name"
)

// TestCanary runs the manager as a process on the local cluster, analysing
// against a real Prometheus, and drives a Canary through each part of its
// lifecycle a user relies on, one namespace per scenario, all at once.
func TestCanary(t *testing.T) {
	s := requireSuite(t)
	start := time.Now()
	tr := startTraffic(t)
	prom := prometheus.Start(t, prometheus.Options{ScrapeTargets: []string{tr.Addr}, ScrapeInterval: time.Second})
	startManager(t, s, prom.URL)
	waitScraped(t, prom, tr.Addr)
	t.Logf("Metrics endpoint, Prometheus and manager up in %s", time.Since(start).Round(100*time.Millisecond))

	t.Run("BootstrapMakesAReadyPrimaryServeAllTraffic", func(t *testing.T) {
		t.Parallel()
		testBootstrap(t, s)
	})
	t.Run("PromotesAHealthyImageStepByStep", func(t *testing.T) {
		t.Parallel()
		testPromotion(t, s, tr, prom.URL)
	})
	t.Run("RollsBackAFailingImageWithoutTouchingThePrimary", func(t *testing.T) {
		t.Parallel()
		testRollback(t, s, tr)
	})
}

func testBootstrap(t *testing.T, s *suiteEnv) {
	a := newApp(t, s, "bootstrap")
	g := a.g
	a.bootstrap()

	ready := a.condition(meshv1alpha1.ConditionReady)
	g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), a.describe)
	g.Expect(ready.Reason).To(Equal(meshv1alpha1.ReasonInitialized))
	g.Expect(a.condition(meshv1alpha1.ConditionPromoted).Status).To(Equal(metav1.ConditionTrue))

	// The primary is a copy selected by its own label value, and its pods
	// really run on the kwok node and are Ready.
	primary := a.deployment(primaryName)
	g.Expect(primary.Status.ReadyReplicas).To(BeEquivalentTo(appReplicas), a.describe)
	g.Expect(primary.Spec.Selector.MatchLabels).To(Equal(map[string]string{selectorLabel: primaryName}))
	g.Expect(a.readyPods(primaryName)).To(Equal([]string{imageV1, imageV1}))

	g.Expect(a.service(appName).Spec.Selector).To(Equal(map[string]string{selectorLabel: primaryName}), "the apex Service selects the primary")
	g.Expect(a.service(primaryName).Spec.Selector).To(Equal(map[string]string{selectorLabel: primaryName}))
	g.Expect(a.service(canaryName).Spec.Selector).To(Equal(map[string]string{selectorLabel: appName}))

	route := a.httpRoute()
	g.Expect(routeWeights(route)).To(Equal("100/0"))
	g.Expect(route.Spec.ParentRefs).To(HaveLen(1))
	g.Expect(route.Spec.ParentRefs[0].Kind).To(Equal(ptr.To(gatewayv1.Kind("Service"))))
	g.Expect(route.Spec.ParentRefs[0].Name).To(BeEquivalentTo(appName), "the route is attached to the apex Service (GAMMA)")

	// The target is scaled to zero and its pods are gone.
	g.Expect(a.deployment(appName).Spec.Replicas).To(Equal(ptr.To[int32](0)))
	g.Eventually(func() []string { return a.readyPods(appName) }, time.Minute).Should(BeEmpty())

	g.Expect(a.events()).To(ContainElement(HavePrefix("Normal Initialized: ")))
}

func testPromotion(t *testing.T, s *suiteEnv, tr *traffic, prometheusURL string) {
	a := newApp(t, s, "promotion")
	g := a.g
	a.bootstrap()
	phases, weights := a.watchPhase(), a.watchRoute()

	tr.send(a.ns, appName, healthy)
	start := time.Now()
	a.setImage(imageV2)
	g.Eventually(a.phase, 3*time.Minute).Should(Equal(meshv1alpha1.CanaryPhaseSucceeded), a.describe)
	t.Logf("Promoted %s after the image changed; phases %v; weights (primary/canary) %v",
		time.Since(start).Round(100*time.Millisecond), phases.Values(), weights.Values())

	g.Expect(a.kubectlGetCanary(s)).To(HavePrefix(appName+" Succeeded "), "kubectl get canary shows the phase")
	g.Expect(weights.Values()).To(Equal([]string{"100/0", "75/25", "50/50", "100/0"}), "the canary's weight steps up by 25 to 50, then all goes to the promoted primary")
	g.Expect(phases.Values()).To(HaveExactElements(
		string(meshv1alpha1.CanaryPhaseInitialized), string(meshv1alpha1.CanaryPhaseProgressing),
		string(meshv1alpha1.CanaryPhasePromoting), string(meshv1alpha1.CanaryPhaseFinalising),
		string(meshv1alpha1.CanaryPhaseSucceeded)))

	c := a.canary()
	g.Expect(c.Status.FailedChecks).To(BeZero())
	g.Expect(c.Status.Prometheus).NotTo(BeNil())
	g.Expect(c.Status.Prometheus.Address).To(Equal(prometheusURL), "the flag's Prometheus is the one used")
	g.Expect(c.Status.Metrics).To(ConsistOf(
		metricStatus(meshv1alpha1.MetricRequestSuccessRate, Equal("100"), meshv1alpha1.MetricPassed),
		metricStatus(meshv1alpha1.MetricRequestDuration, Not(BeEmpty()), meshv1alpha1.MetricPassed),
	))
	ready := a.condition(meshv1alpha1.ConditionReady)
	g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(ready.Reason).To(Equal(meshv1alpha1.ReasonSucceeded))
	g.Expect(a.events()).To(ContainElement(HavePrefix("Normal Succeeded: ")))

	// The primary runs the new image on Ready pods; the target is back to 0.
	primary := a.deployment(primaryName)
	g.Expect(primary.Spec.Template.Spec.Containers[0].Image).To(Equal(imageV2))
	g.Expect(primary.Status.ReadyReplicas).To(BeEquivalentTo(appReplicas))
	g.Eventually(func() []string { return a.readyPods(primaryName) }, time.Minute).Should(Equal([]string{imageV2, imageV2}))
	g.Expect(a.deployment(appName).Spec.Replicas).To(Equal(ptr.To[int32](0)))
	g.Eventually(func() []string { return a.readyPods(appName) }, time.Minute).Should(BeEmpty())
}

func testRollback(t *testing.T, s *suiteEnv, tr *traffic) {
	a := newApp(t, s, "rollback")
	g := a.g
	a.bootstrap()
	primaryBefore := a.deployment(primaryName)
	primaryPodsBefore := a.podNames(primaryName)
	phases, weights := a.watchPhase(), a.watchRoute()

	tr.send(a.ns, appName, failing)
	start := time.Now()
	a.setImage(imageV2)
	g.Eventually(a.phase, 3*time.Minute).Should(Equal(meshv1alpha1.CanaryPhaseFailed), a.describe)
	t.Logf("Rolled back %s after the image changed; phases %v; weights (primary/canary) %v",
		time.Since(start).Round(100*time.Millisecond), phases.Values(), weights.Values())

	g.Expect(a.kubectlGetCanary(s)).To(HavePrefix(appName+" Failed "), "kubectl get canary shows the phase")
	g.Expect(weights.Values()).To(Equal([]string{"100/0", "75/25", "100/0"}), "the first step, held while checks fail, then all back to the primary")
	g.Expect(phases.Values()).To(HaveExactElements(
		string(meshv1alpha1.CanaryPhaseInitialized), string(meshv1alpha1.CanaryPhaseProgressing), string(meshv1alpha1.CanaryPhaseFailed)))
	c := a.canary()
	g.Expect(c.Status.FailedChecks).To(BeEquivalentTo(threshold))
	g.Expect(c.Status.Metrics).To(ContainElement(metricStatus(meshv1alpha1.MetricRequestSuccessRate, Equal("50"), meshv1alpha1.MetricFailed)))
	ready := a.condition(meshv1alpha1.ConditionReady)
	g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(ready.Reason).To(Equal(meshv1alpha1.ReasonRolledBack))
	g.Expect(a.condition(meshv1alpha1.ConditionPromoted).Status).To(Equal(metav1.ConditionFalse))

	// One Warning per failed check below the threshold, then the rollback
	// naming the metric and its value.
	events := a.events()
	g.Expect(events).To(ContainElement(MatchRegexp(`^Warning RolledBack: .*request-success-rate 50\b`)), "events: %v", events)
	g.Expect(events).To(ContainElement(MatchRegexp(`^Warning CheckFailed: .*request-success-rate 50\b`)), "events: %v", events)

	// The target is back to zero; the primary was never touched: same
	// generation, image and pods.
	g.Expect(a.deployment(appName).Spec.Replicas).To(Equal(ptr.To[int32](0)))
	g.Eventually(func() []string { return a.readyPods(appName) }, time.Minute).Should(BeEmpty())
	primary := a.deployment(primaryName)
	g.Expect(primary.Generation).To(Equal(primaryBefore.Generation))
	g.Expect(primary.Spec.Template.Spec.Containers[0].Image).To(Equal(imageV1))
	g.Expect(primary.Status.ReadyReplicas).To(BeEquivalentTo(appReplicas))
	g.Expect(a.podNames(primaryName)).To(Equal(primaryPodsBefore))
}

// metricStatus matches a Canary's status of one metric.
func metricStatus(name string, value OmegaMatcher, result meshv1alpha1.MetricResult) OmegaMatcher {
	return And(
		HaveField("Name", name),
		HaveField("Value", value),
		HaveField("Result", result),
	)
}

// podNames are the names of the pods labelled with the selector label value.
func (a *app) podNames(value string) []string {
	var pods corev1.PodList
	a.g.Expect(a.c.List(context.Background(), &pods, client.InNamespace(a.ns), client.MatchingLabels{selectorLabel: value})).To(Succeed())
	names := make([]string, 0, len(pods.Items))
	for _, p := range pods.Items {
		names = append(names, p.Name)
	}
	return names
}

// waitScraped waits for Prometheus's first scrape of the metrics endpoint
// (it hands new targets to its scrape loop only after ~5s), so the first
// analysis never finds an empty Prometheus.
func waitScraped(t *testing.T, prom *prometheus.Server, target string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		v, _, err := prom.API().Query(context.Background(), `up{instance="`+target+`"} == 1`, time.Now())
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(v.String()).NotTo(BeEmpty())
	}, 30*time.Second, 250*time.Millisecond).Should(Succeed())
}
