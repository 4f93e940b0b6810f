package analysis

import (
	"math"
	"strconv"
	"time"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// Result is the outcome of one metric check.
type Result struct {
	// Name of the metric (spec.analysis.metrics[].name).
	Name string
	// Query is the rendered PromQL that was (or would have been) run; empty when it could not be rendered.
	Query string
	// Value read from Prometheus; NaN when there was none (held, or failed before a number came back).
	Value float64
	// ThresholdRange the value was compared with.
	ThresholdRange meshv1alpha1.ThresholdRange
	// Outcome: Passed only when Prometheus returned one finite value within ThresholdRange; Held when the
	// request count was below minRequests; Failed otherwise.
	Outcome meshv1alpha1.MetricResult
	// Message says why, in words fit for status and Events, e.g. "93.2 is below the minimum 99".
	Message string
	// CheckedAt is the time the query was evaluated at (the clock of the caller).
	CheckedAt time.Time
}

// Overall combines the results of one check: Failed when any metric failed (the run counts one failed
// check), else Held when any metric held (neither pass nor fail: the weight stays, nothing is counted), else
// Passed. No results (a Canary without metrics) is Passed: only webhooks and readiness decide then.
func Overall(results []Result) meshv1alpha1.MetricResult {
	overall := meshv1alpha1.MetricPassed
	for _, r := range results {
		switch r.Outcome {
		case meshv1alpha1.MetricPassed:
		case meshv1alpha1.MetricHeld:
			overall = meshv1alpha1.MetricHeld
		default:
			// Anything but Passed or Held fails: an unset outcome must never promote.
			return meshv1alpha1.MetricFailed
		}
	}
	return overall
}

// Unavailable fails every metric of c with the same reason, for when no check can run at all (no metrics
// server, an unusable Secret). It keeps status and Events as precise as when Prometheus answers.
func Unavailable(c *meshv1alpha1.Canary, reason error, now time.Time) []Result {
	results := make([]Result, 0, len(c.Spec.Analysis.Metrics))
	for _, m := range c.Spec.Analysis.Metrics {
		results = append(results, failed(m, "", reason.Error(), now))
	}
	return results
}

func failed(m meshv1alpha1.AnalysisMetric, query, message string, now time.Time) Result {
	return Result{Name: m.Name, Query: query, Value: math.NaN(), ThresholdRange: m.ThresholdRange,
		Outcome: meshv1alpha1.MetricFailed, Message: message, CheckedAt: now}
}

// formatValue writes a metric value for people: at most three decimals, no exponent, no trailing zeros
// (99.333, 375, 0.005); empty for NaN.
func formatValue(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}
