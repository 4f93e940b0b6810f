package canary

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// Manager metrics, on controller-runtime's registry (served at the manager's
// metrics endpoint). Flagger's flagger_canary_* have the same meaning.
var (
	statusGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sluice_canary_status",
		Help: "Canary state: 0 running, 1 successful (Initialized or Succeeded), 2 failed.",
	}, []string{"name", "namespace"})
	weightGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sluice_canary_weight",
		Help: "Percent of traffic on the canary.",
	}, []string{"name", "namespace"})
	durationHistogram = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sluice_canary_duration_seconds",
		Help:    "Seconds spent in one reconcile pass of a Canary (analysis included).",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, []string{"name", "namespace"})
	metricValueGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sluice_canary_metric_value",
		Help: "Last value of each analysis metric of a Canary.",
	}, []string{"name", "namespace", "metric"})
	totalCounter = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_canary_total",
		Help: "Finished runs by result: succeeded or failed.",
	}, []string{"namespace", "result"})
	checksCounter = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_canary_checks_total",
		Help: "Analysis checks (hooks and metrics of one interval) by result: passed, failed or held (too little traffic to judge).",
	}, []string{"namespace", "result"})
)

func init() {
	metrics.Registry.MustRegister(statusGauge, weightGauge, durationHistogram, metricValueGauge, totalCounter, checksCounter)
}

// Results of sluice_canary_total.
const (
	resultSucceeded = "succeeded"
	resultFailed    = "failed"
)

// countCheck records the outcome of one analysis check.
func countCheck(namespace string, outcome meshv1alpha1.MetricResult) {
	checksCounter.WithLabelValues(namespace, strings.ToLower(string(outcome))).Inc()
}

// observeMetrics records the state a pass left the Canary in.
func observeMetrics(c *meshv1alpha1.Canary, took time.Duration) {
	state := 0.0
	switch c.Status.Phase {
	case meshv1alpha1.CanaryPhaseInitialized, meshv1alpha1.CanaryPhaseSucceeded:
		state = 1
	case meshv1alpha1.CanaryPhaseFailed:
		state = 2
	}
	statusGauge.WithLabelValues(c.Name, c.Namespace).Set(state)
	weightGauge.WithLabelValues(c.Name, c.Namespace).Set(float64(c.Status.CanaryWeight))
	durationHistogram.WithLabelValues(c.Name, c.Namespace).Observe(took.Seconds())
}

// forgetMetrics drops the series of a deleted Canary.
func forgetMetrics(namespace, name string) {
	labels := prometheus.Labels{"name": name, "namespace": namespace}
	statusGauge.DeletePartialMatch(labels)
	weightGauge.DeletePartialMatch(labels)
	durationHistogram.DeletePartialMatch(labels)
	metricValueGauge.DeletePartialMatch(labels)
}
