package analysis

import (
	"errors"
	"math"
	"testing"
	"time"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func TestOverall_FailedWinsOverHeldWhichWinsOverPassed(t *testing.T) {
	passed, held, failed := Result{Outcome: meshv1alpha1.MetricPassed}, Result{Outcome: meshv1alpha1.MetricHeld}, Result{Outcome: meshv1alpha1.MetricFailed}
	tests := []struct {
		name    string
		results []Result
		want    meshv1alpha1.MetricResult
	}{
		{name: "no metrics pass (webhooks and readiness decide)", want: meshv1alpha1.MetricPassed},
		{name: "all passed", results: []Result{passed, passed}, want: meshv1alpha1.MetricPassed},
		{name: "one held holds the check", results: []Result{passed, held}, want: meshv1alpha1.MetricHeld},
		{name: "one failed fails it, even with held ones", results: []Result{held, passed, failed}, want: meshv1alpha1.MetricFailed},
		{name: "an unset outcome fails it", results: []Result{passed, {}}, want: meshv1alpha1.MetricFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Overall(tt.results); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestUnavailable_FailsEveryMetricWithTheReason(t *testing.T) {
	now := time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)
	c := newCanary(meshv1alpha1.ProviderSluice, "app", successRate(),
		meshv1alpha1.AnalysisMetric{Name: meshv1alpha1.MetricRequestDuration, MinRequests: minRequests(10), ThresholdRange: between("", "500")})
	results := Unavailable(c, ErrNoMetricsServer, now)
	if len(results) != 2 || Overall(results) != meshv1alpha1.MetricFailed {
		t.Fatalf("got %+v, want two Failed results", results)
	}
	for i, r := range results {
		if r.Name != c.Spec.Analysis.Metrics[i].Name || r.Message != ErrNoMetricsServer.Error() || !math.IsNaN(r.Value) ||
			!r.CheckedAt.Equal(now) || r.Outcome != meshv1alpha1.MetricFailed {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	if got := Unavailable(newCanary(meshv1alpha1.ProviderSluice, "app"), errors.New("x"), now); len(got) != 0 {
		t.Errorf("a Canary without metrics: %+v, want no results", got)
	}
}
