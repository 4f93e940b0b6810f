package canary

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/prometheus"
)

func (s *scene) configValue(name string) string {
	var cm corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: name}, &cm); err != nil {
		return "missing"
	}
	return cm.Data["level"]
}

func TestCanary_ConfigMapChangeRunsAndIsCopiedOnPromotion(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	g := s.g
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app-config", Namespace: s.ns}, Data: map[string]string{"level": "info"}}
	g.Expect(env.Client.Create(context.Background(), cm)).To(Succeed())
	s.createTarget(1, "example.com/app:1")
	d := s.deployment("app")
	before := d.DeepCopy()
	d.Spec.Template.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "app-config"}}}}
	g.Expect(env.Client.Patch(context.Background(), d, client.MergeFrom(before))).To(Succeed())
	s.createCanary(func(spec *meshv1alpha1.CanarySpec) { spec.Analysis.StepWeight = ptr.To[int32](50) })
	g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseInitialized))
	g.Expect(s.configValue("app-config-primary")).To(Equal("info"))

	before2 := cm.DeepCopy()
	cm.Data["level"] = "debug"
	g.Expect(env.Client.Patch(context.Background(), cm, client.MergeFrom(before2))).To(Succeed())
	// ConfigMaps are not watched but read, uncached, each interval; the tick stands for that look.
	s.tick(time.Second)
	g.Eventually(s.state).Should(Equal("Progressing/50"))
	g.Expect(s.configValue("app-config-primary")).To(Equal("info"), "the primary keeps its config during the run")
	s.tick(time.Minute)
	g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseSucceeded))
	g.Expect(s.configValue("app-config-primary")).To(Equal("debug"))
}

func TestCanary_LowTrafficHoldsTheWeight(t *testing.T) {
	start := seriesStart()
	s := newScene(t, start, Options{})
	prom := prometheus.Start(t, prometheus.Options{Backfill: s.traffic(start, 1, 0)}) // 4 requests a minute
	s.opts.MetricsServer = prom.URL
	s.restartManager()
	s.bootstrap(func(spec *meshv1alpha1.CanarySpec) {
		successRate(spec)
		spec.Analysis.Metrics[0].MinRequests = ptr.To[int64](50)
	})
	s.startRun("example.com/app:2", 10)
	held := func() float64 { return testutil.ToFloat64(checksCounter.WithLabelValues(s.ns, "held")) }
	for i := range 3 {
		s.tick(time.Minute)
		s.g.Eventually(held).Should(Equal(float64(i+1)), "each interval's check holds (sluice_canary_checks_total{result=held})")
	}
	s.g.Expect(s.hasEvent("Normal/Held")()).To(BeTrue())
	s.g.Consistently(s.state, time.Second).Should(Equal("Progressing/10"))
	c := s.canary()
	s.g.Expect(c.Status.FailedChecks).To(BeZero(), "held checks do not count")
	s.g.Expect(c.Status.Metrics[0].Result).To(Equal(meshv1alpha1.MetricHeld))
	s.g.Expect(c.Status.Metrics[0].Message).To(ContainSubstring("50"))
}
