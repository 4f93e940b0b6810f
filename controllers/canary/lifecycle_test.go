package canary

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/prometheus"
)

func TestCanary_BootstrapMakesThePrimaryServeAllTraffic(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(nil)
	g := s.g

	g.Expect(s.image("app-primary")).To(Equal("example.com/app:1"))
	g.Expect(s.replicas("app-primary")()).To(Equal(int32(2)))
	g.Eventually(s.replicas("app")).Should(Equal(int32(0)), "the target is scaled to zero")
	for _, name := range []string{"app", "app-primary", "app-canary"} {
		var svc corev1.Service
		g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: name}, &svc)).To(Succeed(), "Service %s", name)
	}
	g.Expect(s.routes()).To(Equal("primary=100 canary=0 mirror=false match=false"))
	g.Expect(s.condition(meshv1alpha1.ConditionReady)).To(Equal("True/Initialized"))
	g.Expect(s.condition(meshv1alpha1.ConditionPromoted)).To(Equal("True/Initialized"))
	g.Expect(s.canary().Status.LastPromotedSpec).NotTo(BeEmpty())
	g.Eventually(s.hasEvent("Normal/Initialized")).Should(BeTrue())
}

func TestCanary_TargetWithoutSelectorLabelStalls(t *testing.T) {
	s := newScene(t, seriesStart(), Options{SelectorLabels: []string{"name"}})
	s.createTarget(1, "example.com/app:1")
	s.createCanary(nil)
	s.g.Eventually(func() string { return s.condition(meshv1alpha1.ConditionStalled) }).Should(Equal("True/SelectorLabelMissing"))
}

func TestCanary_ProviderWithoutItsCRDsStallsWithAReason(t *testing.T) {
	// The suite installs the Gateway API CRDs only: Istio's are missing.
	s := newScene(t, seriesStart(), Options{})
	s.createTarget(1, "example.com/app:1")
	s.createCanary(func(spec *meshv1alpha1.CanarySpec) { spec.Provider = meshv1alpha1.ProviderIstio })
	s.g.Eventually(func() string { return s.condition(meshv1alpha1.ConditionStalled) }).Should(Equal("True/RouteAPIMissing"))
	s.g.Expect(s.canary().Status.Conditions).To(ContainElement(HaveField("Message", ContainSubstring("provider istio"))))
}

func TestCanary_PromotesThroughExactWeights(t *testing.T) {
	start := seriesStart()
	s := newScene(t, start, Options{})
	prom := prometheus.Start(t, prometheus.Options{Backfill: s.traffic(start, 100, 0)})
	s.opts.MetricsServer = prom.URL
	s.restartManager()
	s.bootstrap(successRate)
	g := s.g

	s.startRun("example.com/app:2", 10)
	g.Expect(s.routes()).To(Equal("primary=90 canary=10 mirror=false match=false"))
	g.Expect(s.replicas("app")()).To(Equal(int32(2)), "the canary runs as many replicas as the primary")
	for _, w := range []int32{20, 30, 40, 50} {
		s.tick(time.Minute)
		g.Eventually(s.weight).Should(Equal(w))
	}
	g.Expect(s.routes()).To(Equal("primary=50 canary=50 mirror=false match=false"))
	g.Expect(s.image("app-primary")).To(Equal("example.com/app:1"), "not promoted before the last check")
	s.tick(time.Minute)
	g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseSucceeded))
	g.Expect(s.image("app-primary")).To(Equal("example.com/app:2"))
	g.Expect(s.routes()).To(Equal("primary=100 canary=0 mirror=false match=false"))
	g.Eventually(s.replicas("app")).Should(Equal(int32(0)))
	c := s.canary()
	g.Expect(c.Status.Metrics).To(HaveLen(1))
	g.Expect(c.Status.Metrics[0].Result).To(Equal(meshv1alpha1.MetricPassed))
	g.Expect(c.Status.Prometheus.Source).To(Equal(meshv1alpha1.MetricsServerFromManagerFlag))
	g.Expect(s.condition(meshv1alpha1.ConditionPromoted)).To(Equal("True/Succeeded"))
	g.Eventually(s.hasEvent("Normal/Progressing", "Advance canary weight 50")).Should(BeTrue())

	g.Expect(testutil.ToFloat64(totalCounter.WithLabelValues(s.ns, resultSucceeded))).To(Equal(1.0))
	g.Expect(testutil.ToFloat64(checksCounter.WithLabelValues(s.ns, "passed"))).To(Equal(5.0), "four steps up and the last check")
	// Queries count what was sent: a pass whose status write conflicted (the
	// test's tick annotates the Canary) queries again.
	g.Expect(gatheredCounter(g, "sluice_canary_prometheus_queries_total", s.ns, "ok")).To(BeNumerically(">=", 5), "one query per check")
	g.Expect(testutil.ToFloat64(statusGauge.WithLabelValues("app", s.ns))).To(Equal(1.0))
	g.Expect(testutil.ToFloat64(metricValueGauge.WithLabelValues("app", s.ns, meshv1alpha1.MetricRequestSuccessRate))).To(Equal(100.0))
	names := map[string]bool{}
	families, err := ctrlmetrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		names[f.GetName()] = true
	}
	for _, n := range []string{"sluice_canary_status", "sluice_canary_weight", "sluice_canary_duration_seconds", "sluice_canary_metric_value",
		"sluice_canary_total", "sluice_canary_checks_total", "sluice_canary_prometheus_queries_total"} {
		g.Expect(names).To(HaveKey(n), "on controller-runtime's registry")
	}
}

// gatheredCounter reads a counter with labels namespace and result from
// controller-runtime's registry (where the analysis package registers its own).
func gatheredCounter(g Gomega, name, namespace, result string) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == namespace && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestCanary_StepWeightPromotionMovesTrafficBackInSteps(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(func(spec *meshv1alpha1.CanarySpec) {
		spec.Analysis.StepWeight, spec.Analysis.MaxWeight = ptr.To[int32](50), ptr.To[int32](80)
		spec.Analysis.StepWeightPromotion = ptr.To[int32](30)
	})
	g := s.g
	s.startRun("example.com/app:2", 50)
	s.tick(time.Minute)
	g.Eventually(s.weight).Should(Equal(int32(80)))
	s.tick(time.Minute) // the last check passes: promote, the primary rolls out
	g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhasePromoting))
	g.Expect(s.image("app-primary")).To(Equal("example.com/app:2"))
	g.Consistently(s.weight, time.Second).Should(Equal(int32(80)))
	s.tick(time.Minute)
	g.Eventually(s.state).Should(Equal("Promoting/50"))
	s.tick(time.Minute)
	g.Eventually(s.state).Should(Equal("Promoting/20"))
	g.Consistently(s.state, time.Second).Should(Equal("Promoting/20"), "the last step holds for an interval too")
	s.tick(time.Minute)
	g.Eventually(s.state).Should(Equal("Succeeded/0"))
	g.Expect(s.routes()).To(Equal("primary=100 canary=0 mirror=false match=false"))
}

// A primary that never gets ready must not take the app down: the user's own
// Service keeps selecting the target's pods and the target keeps its
// replicas; past the progress deadline the Canary says why it waits.
func TestCanary_PrimaryNeverReadyKeepsTheTargetServing(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	g := s.g
	apex := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: s.ns},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "app"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
	g.Expect(env.Client.Create(context.Background(), apex)).To(Succeed())
	s.deployments.hold("app-primary", true)
	s.createTarget(2, "example.com/app:1")
	s.createCanary(func(spec *meshv1alpha1.CanarySpec) { spec.ProgressDeadlineSeconds = 60 })
	g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseInitializing))

	apexSelector := func() string {
		var svc corev1.Service
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "app"}, &svc); err != nil {
			return err.Error()
		}
		return svc.Spec.Selector["app"]
	}
	g.Consistently(apexSelector, time.Second).Should(Equal("app"), "the apex Service keeps serving the target's pods")
	g.Expect(s.replicas("app")()).To(Equal(int32(2)))
	g.Expect(s.condition(meshv1alpha1.ConditionReady)).To(Equal("False/Progressing"))
	reconciling := meta.FindStatusCondition(s.canary().Status.Conditions, meshv1alpha1.ConditionReconciling)
	g.Expect(reconciling).NotTo(BeNil())
	g.Expect(reconciling.Message).To(ContainSubstring("kubectl rollout status deployment/app-primary"), "says what it waits for and where to look")

	s.tick(61 * time.Second)
	g.Eventually(func() string { return s.condition(meshv1alpha1.ConditionReady) }).Should(Equal("False/ProgressDeadlineExceeded"))
	g.Eventually(s.hasEvent("Warning/ProgressDeadlineExceeded", "app-primary", "the target keeps serving")).Should(BeTrue())
	g.Expect(s.phase()).To(Equal(meshv1alpha1.CanaryPhaseInitializing))
	g.Expect(s.replicas("app")()).To(Equal(int32(2)), "the target is not scaled down for a primary that cannot serve")
	g.Expect(apexSelector()).To(Equal("app"))

	s.deployments.hold("app-primary", false)
	g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseInitialized))
	g.Expect(apexSelector()).To(Equal("app-primary"))
	g.Expect(s.condition(meshv1alpha1.ConditionReady)).To(Equal("True/Initialized"))
}
