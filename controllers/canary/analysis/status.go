package analysis

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// RecordMetrics writes the results of one check into status.metrics: one entry per result, in the results'
// order, with the value as text (empty when there was none), the threshold range, the outcome, the message
// and the check time. It replaces the list, so metrics removed from the spec leave status too.
func RecordMetrics(status *meshv1alpha1.CanaryStatus, results []Result) {
	if len(results) == 0 {
		status.Metrics = nil
		return
	}
	metrics := make([]meshv1alpha1.MetricStatus, 0, len(results))
	for _, r := range results {
		threshold := r.ThresholdRange.DeepCopy()
		checkedAt := metav1.NewTime(r.CheckedAt)
		metrics = append(metrics, meshv1alpha1.MetricStatus{
			Name:           r.Name,
			Value:          formatValue(r.Value),
			ThresholdRange: threshold,
			Result:         r.Outcome,
			Message:        r.Message,
			LastCheckTime:  &checkedAt,
		})
	}
	status.Metrics = metrics
}
