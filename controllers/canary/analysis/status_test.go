package analysis

import (
	"math"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func TestRecordMetrics_WritesOneEntryPerResultAndDropsOldOnes(t *testing.T) {
	now := time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)
	status := meshv1alpha1.CanaryStatus{Metrics: []meshv1alpha1.MetricStatus{{Name: "removed-from-spec", Result: meshv1alpha1.MetricFailed}}}
	results := []Result{
		{Name: "request-success-rate", Value: 99.33333333, ThresholdRange: between("99", ""), Outcome: meshv1alpha1.MetricPassed,
			Message: "99.333 is within the threshold range", CheckedAt: now},
		{Name: "request-duration", Value: math.NaN(), ThresholdRange: between("", "500"), Outcome: meshv1alpha1.MetricHeld,
			Message: "4 requests over 1m, below minRequests 50: not judged yet", CheckedAt: now},
	}

	RecordMetrics(&status, results)

	if len(status.Metrics) != 2 {
		t.Fatalf("got %d entries, want 2: %+v", len(status.Metrics), status.Metrics)
	}
	want := []struct{ name, value, min, max string }{
		{name: "request-success-rate", value: "99.333", min: "99"},
		{name: "request-duration", value: "", max: "500"},
	}
	for i, w := range want {
		got := status.Metrics[i]
		if got.Name != w.name || got.Value != w.value || got.Result != results[i].Outcome || got.Message != results[i].Message {
			t.Errorf("entry %d: %+v, want %s = %q (%s, %q)", i, got, w.name, w.value, results[i].Outcome, results[i].Message)
		}
		if got.LastCheckTime == nil || !got.LastCheckTime.Equal(&metav1.Time{Time: now}) {
			t.Errorf("entry %d: last check %v, want %v", i, got.LastCheckTime, now)
		}
		if bound := got.ThresholdRange.Min; (bound == nil) != (w.min == "") || bound != nil && bound.String() != w.min {
			t.Errorf("entry %d: min %v, want %q", i, bound, w.min)
		}
		if bound := got.ThresholdRange.Max; (bound == nil) != (w.max == "") || bound != nil && bound.String() != w.max {
			t.Errorf("entry %d: max %v, want %q", i, bound, w.max)
		}
	}

	// The status keeps its own copy: a later change to the spec's bound does not rewrite history.
	results[0].ThresholdRange.Min.Set(1)
	if status.Metrics[0].ThresholdRange.Min.String() != "99" {
		t.Errorf("the status shares the spec's Quantity")
	}

	RecordMetrics(&status, nil)
	if status.Metrics != nil {
		t.Errorf("a Canary without metrics keeps %+v", status.Metrics)
	}
}
