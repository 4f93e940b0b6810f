package canary

import (
	"net"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/utils/ptr"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/prometheus"
)

// promScene is a scene whose manager reads Prometheus holding traffic of
// `app` with the given successes and failures per 15s.
func promScene(t *testing.T, success, failure float64) *scene {
	start := seriesStart()
	s := newScene(t, start, Options{})
	var samples []prometheus.Sample
	if success+failure > 0 {
		samples = s.traffic(start, success, failure)
	} else {
		// Some unrelated series, so Prometheus has data, only not ours.
		samples = (&scene{ns: "elsewhere"}).traffic(start, 100, 0)
	}
	prom := prometheus.Start(t, prometheus.Options{Backfill: samples})
	s.opts.MetricsServer = prom.URL
	s.restartManager()
	return s
}

func TestCanary_RollsBackAfterThresholdFailedChecks(t *testing.T) {
	s := promScene(t, 90, 10) // 90% success, below the 99% minimum
	s.bootstrap(successRate)
	g := s.g

	s.startRun("example.com/app:2", 10)
	s.tick(time.Minute)
	g.Eventually(s.failedChecks).Should(Equal(int32(1)))
	g.Expect(s.state()).To(Equal("Progressing/10"), "a failed check holds the weight")
	g.Eventually(s.hasEvent("Warning/CheckFailed", "request-success-rate", "90")).Should(BeTrue())

	s.tick(time.Minute)
	g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseFailed))
	c := s.canary()
	g.Expect(c.Status.FailedChecks).To(Equal(int32(2)), "exactly threshold failed checks")
	g.Expect(testutil.ToFloat64(checksCounter.WithLabelValues(s.ns, "failed"))).To(Equal(2.0), "sluice_canary_checks_total counts them")
	g.Expect(c.Status.CanaryWeight).To(BeZero())
	g.Expect(s.routes()).To(Equal("primary=100 canary=0 mirror=false match=false"))
	g.Eventually(s.replicas("app")).Should(Equal(int32(0)))
	g.Expect(s.image("app-primary")).To(Equal("example.com/app:1"), "the primary is never touched")
	g.Expect(s.condition(meshv1alpha1.ConditionPromoted)).To(Equal("False/RolledBack"))
	g.Expect(s.condition(meshv1alpha1.ConditionReady)).To(Equal("False/RolledBack"))
	g.Eventually(s.hasEvent("Warning/RolledBack", "request-success-rate", "90")).Should(BeTrue())
	g.Expect(c.Status.Metrics[0].Result).To(Equal(meshv1alpha1.MetricFailed))

	// The failed revision does not run again by itself.
	s.tick(time.Minute)
	g.Consistently(s.phase, 2*time.Second).Should(Equal(meshv1alpha1.CanaryPhaseFailed))
}

func TestCanary_NoDataIsAFailedCheck(t *testing.T) {
	s := promScene(t, 0, 0)
	s.bootstrap(successRate)
	s.startRun("example.com/app:2", 10)
	s.tick(time.Minute)
	s.g.Eventually(s.failedChecks).Should(Equal(int32(1)))
	s.g.Expect(s.weight()).To(Equal(int32(10)))
	s.g.Expect(s.canary().Status.Metrics[0].Result).To(Equal(meshv1alpha1.MetricFailed))
}

func TestCanary_PrometheusDownNeverPromotes(t *testing.T) {
	s := newScene(t, seriesStart(), Options{MetricsServer: "http://" + closedPort(t)})
	s.bootstrap(func(spec *meshv1alpha1.CanarySpec) {
		successRate(spec)
		spec.Analysis.Threshold = 3
	})
	s.startRun("example.com/app:2", 10)
	for i := 1; i <= 3; i++ {
		s.tick(time.Minute)
		s.g.Eventually(s.failedChecks).Should(Equal(int32(i)))
	}
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseFailed))
	s.g.Expect(s.image("app-primary")).To(Equal("example.com/app:1"))
	s.g.Expect(s.canary().Status.Prometheus.Address).To(HavePrefix("http://127.0.0.1:"))
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestCanary_StepWeights(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(func(spec *meshv1alpha1.CanarySpec) {
		spec.Analysis.StepWeight, spec.Analysis.MaxWeight = nil, nil
		spec.Analysis.StepWeights = []int32{5, 25, 60}
	})
	s.startRun("example.com/app:2", 5)
	for _, w := range []int32{25, 60} {
		s.tick(time.Minute)
		s.g.Eventually(s.weight).Should(Equal(w))
	}
	s.tick(time.Minute)
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseSucceeded))
}

func TestCanary_ProgressDeadlineFailsACanaryThatNeverGetsReady(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(func(spec *meshv1alpha1.CanarySpec) { spec.ProgressDeadlineSeconds = 60 })
	s.deployments.hold("app", true)
	s.setImage("example.com/app:broken")
	s.g.Eventually(s.state).Should(Equal("Progressing/0"))
	s.tick(30 * time.Second)
	s.g.Consistently(s.phase, time.Second).Should(Equal(meshv1alpha1.CanaryPhaseProgressing))
	s.tick(31 * time.Second)
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseFailed))
	s.g.Expect(s.condition(meshv1alpha1.ConditionPromoted)).To(Equal("False/ProgressDeadlineExceeded"))
	s.g.Eventually(s.replicas("app")).Should(Equal(int32(0)))
}

// slowTraffic is `app`'s latency histogram with every request between 0.5s
// and 1s: a p99 of about 995ms.
func (s *scene) slowTraffic(start time.Time) []prometheus.Sample {
	var samples []prometheus.Sample
	base := map[string]string{"direction": "inbound", "namespace": s.ns, "workload": "app", "pod": "app-1", "service": "app"}
	for i := 0; i <= 480; i++ {
		at := start.Add(time.Duration(i) * 15 * time.Second)
		for _, le := range []string{"0.25", "0.5", "1", "+Inf"} {
			v := 0.0
			if le == "1" || le == "+Inf" {
				v = 100 * float64(i)
			}
			samples = append(samples, prometheus.Sample{Metric: "sluice_request_duration_seconds_bucket",
				Labels: with(base, map[string]string{"le": le}), Value: v, Time: at})
		}
	}
	return samples
}

func TestCanary_RollsBackOnHighLatency(t *testing.T) {
	start := seriesStart()
	s := newScene(t, start, Options{})
	prom := prometheus.Start(t, prometheus.Options{Backfill: s.slowTraffic(start)})
	s.opts.MetricsServer = prom.URL
	s.restartManager()
	s.bootstrap(func(spec *meshv1alpha1.CanarySpec) {
		spec.Analysis.Threshold = 1
		spec.Analysis.Metrics = []meshv1alpha1.AnalysisMetric{{
			Name:           meshv1alpha1.MetricRequestDuration,
			ThresholdRange: meshv1alpha1.ThresholdRange{Max: ptr.To(resourceQuantity("500"))},
		}}
	})
	s.startRun("example.com/app:2", 10)
	s.tick(time.Minute)
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseFailed))
	s.g.Eventually(s.hasEvent("Warning/RolledBack", "request-duration", "99")).Should(BeTrue())
	s.g.Expect(s.image("app-primary")).To(Equal("example.com/app:1"))
}
