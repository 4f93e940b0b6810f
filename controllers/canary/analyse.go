package canary

import (
	"context"
	"fmt"
	"math"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/controllers/canary/analysis"
	"github.com/sluicemesh/sluice/controllers/canary/hooks"
)

// analyse runs a Progressing Canary: once the canary is ready, the
// pre-rollout hooks and the first step of traffic; then, each interval after
// status.lastAnalysisTime, the rollback hooks, the rollout hooks and the
// metrics. A pass moves to the next weight or iteration, a failure counts
// and holds the weight, `threshold` failures roll back; a Held metric (too
// little traffic) neither passes nor fails.
func (r *Reconciler) analyse(ctx context.Context, s *scope) (ctrl.Result, error) {
	if s.phase() != meshv1alpha1.CanaryPhaseProgressing {
		return ctrl.Result{}, nil
	}
	c := s.canary
	st := &c.Status
	interval := analysisInterval(c)

	if res, waiting, err := r.awaitCanary(ctx, s); waiting || err != nil {
		return res, err
	}
	if c.Spec.SkipAnalysis {
		r.beginPromotion(ctx, s)
		return ctrl.Result{}, nil
	}

	if st.LastAnalysisTime == nil {
		// No traffic yet: pre-rollout hooks, then the first step.
		if err := r.hooks.CallAll(ctx, hooks.ByType(c.Spec.Analysis.Webhooks, meshv1alpha1.WebhookPreRollout), hooks.NewPayload(c)); err != nil {
			return r.failedCheck(ctx, s, fmt.Sprintf("pre-rollout %v", err))
		}
		return r.advance(ctx, s)
	}

	if wait := untilDue(st.LastAnalysisTime.Time, interval, s.now); wait > 0 {
		s.detail = fmt.Sprintf("next check at %s", st.LastAnalysisTime.Add(interval).UTC().Format("15:04:05"))
		s.halt = true
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	for _, h := range hooks.ByType(c.Spec.Analysis.Webhooks, meshv1alpha1.WebhookRollback) {
		if err := r.hooks.Call(ctx, h, hooks.NewPayload(c)); err == nil {
			return ctrl.Result{}, r.rollback(ctx, s, meshv1alpha1.ReasonRolledBack, fmt.Sprintf("rollback webhook %s asked for it", h.Name))
		}
	}
	st.LastAnalysisTime = nowTime(s.now)
	if err := r.hooks.CallAll(ctx, hooks.ByType(c.Spec.Analysis.Webhooks, meshv1alpha1.WebhookRollout), hooks.NewPayload(c)); err != nil {
		return r.failedCheck(ctx, s, fmt.Sprintf("rollout %v", err))
	}
	results := r.checkMetrics(ctx, s)
	switch analysis.Overall(results) {
	case meshv1alpha1.MetricFailed:
		return r.failedCheck(ctx, s, describe(results, meshv1alpha1.MetricFailed))
	case meshv1alpha1.MetricHeld:
		s.checked = meshv1alpha1.MetricHeld
		r.normal(ctx, s, ReasonHeld, "Holding weight %d: %s", st.CanaryWeight, describe(results, meshv1alpha1.MetricHeld))
		s.halt = true
		return ctrl.Result{RequeueAfter: interval}, nil
	}
	s.checked = meshv1alpha1.MetricPassed
	return r.advance(ctx, s)
}

// awaitCanary waits for the canary to be ready; past the progress deadline
// (counted from the start of the run or the last check, whichever is later)
// the run fails.
func (r *Reconciler) awaitCanary(ctx context.Context, s *scope) (ctrl.Result, bool, error) {
	ready, why, err := r.workloads.TargetReady(ctx, s.canary)
	if err != nil {
		return ctrl.Result{}, true, err
	}
	if ready {
		return ctrl.Result{}, false, nil
	}
	since := s.since()
	if t := s.canary.Status.LastAnalysisTime; t != nil && t.After(since) {
		since = t.Time
	}
	deadline := progressDeadline(s.canary)
	if s.now.Sub(since) >= deadline {
		return ctrl.Result{}, true, r.rollback(ctx, s, meshv1alpha1.ReasonProgressDeadlineExceeded,
			fmt.Sprintf("canary not ready within the progress deadline %s: %s", deadline, why))
	}
	s.detail = waitingFor(s.canary.Spec.TargetRef.Name)
	s.halt = true
	return ctrl.Result{RequeueAfter: deadline - s.now.Sub(since)}, true, nil
}

// failedCheck counts one failed check and holds the weight; reaching the
// threshold rolls back.
func (r *Reconciler) failedCheck(ctx context.Context, s *scope, why string) (ctrl.Result, error) {
	st := &s.canary.Status
	st.FailedChecks++
	s.checked = meshv1alpha1.MetricFailed
	if st.FailedChecks >= threshold(s.canary) {
		return ctrl.Result{}, r.rollback(ctx, s, meshv1alpha1.ReasonRolledBack,
			fmt.Sprintf("failed checks reached the threshold %d: %s", threshold(s.canary), why))
	}
	r.warning(ctx, s, ReasonCheckFailed, "Halt advancement at weight %d (failed checks %d of %d): %s",
		st.CanaryWeight, st.FailedChecks, threshold(s.canary), why)
	s.halt = true
	return ctrl.Result{RequeueAfter: analysisInterval(s.canary)}, nil
}

// advance takes the next step after a passing check: the next weight (each
// increase behind the confirm-traffic-increase gates) or iteration, or
// promotion after the last one.
func (r *Reconciler) advance(ctx context.Context, s *scope) (ctrl.Result, error) {
	c := s.canary
	st := &c.Status
	a := c.Spec.Analysis
	interval := analysisInterval(c)
	first := st.LastAnalysisTime == nil

	if strategyOf(a) != canaryWeights {
		if first {
			if err := r.setWeight(ctx, s, runRoutes(c, 0), 0); err != nil {
				return ctrl.Result{}, err
			}
			st.LastAnalysisTime = nowTime(s.now)
			r.normal(ctx, s, meshv1alpha1.ReasonProgressing, "Starting %d iterations", *a.Iterations)
			return ctrl.Result{RequeueAfter: interval}, nil
		}
		st.Iterations++
		if st.Iterations >= *a.Iterations {
			r.beginPromotion(ctx, s)
			return ctrl.Result{}, nil
		}
		r.normal(ctx, s, meshv1alpha1.ReasonProgressing, "Advance iteration %d of %d", st.Iterations, *a.Iterations)
		return ctrl.Result{RequeueAfter: interval}, nil
	}

	next, more := nextWeight(a, st.CanaryWeight)
	if !more {
		r.beginPromotion(ctx, s)
		return ctrl.Result{}, nil
	}
	if g := r.gate(ctx, s, meshv1alpha1.WebhookConfirmTrafficIncrease); !g.open {
		r.normal(ctx, s, meshv1alpha1.ReasonWaiting, "Holding weight %d: %s", st.CanaryWeight, g.message)
		s.detail = g.message
		s.halt = true
		return ctrl.Result{RequeueAfter: interval}, nil
	}
	if a.ScaleCanaryWithWeight {
		primary, err := r.workloads.PrimaryStatus(ctx, c)
		if err != nil {
			return ctrl.Result{}, err
		}
		if err := r.workloads.ScaleTarget(ctx, c, canaryReplicas(primary.Replicas, next)); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := r.setWeight(ctx, s, runRoutes(c, next), next); err != nil {
		return ctrl.Result{}, err
	}
	if first {
		st.LastAnalysisTime = nowTime(s.now)
	}
	r.normal(ctx, s, meshv1alpha1.ReasonProgressing, "Advance canary weight %d", next)
	s.halt = true
	return ctrl.Result{RequeueAfter: interval}, nil
}

// checkMetrics runs the metrics against the resolved Prometheus and records
// the results in status and the manager's metrics. Whatever prevents a
// check (no server, an unusable Secret, Prometheus down) fails it.
func (r *Reconciler) checkMetrics(ctx context.Context, s *scope) []analysis.Result {
	c := s.canary
	if len(c.Spec.Analysis.Metrics) == 0 {
		return nil
	}
	server, err := analysis.ResolveServer(ctx, r.APIReader, c, s.mesh, r.Options.MetricsServer)
	if server.Address != "" {
		c.Status.Prometheus = server.Status()
	}
	var results []analysis.Result
	if err == nil {
		var checker *analysis.Checker
		if checker, err = r.checkers.For(server); err == nil {
			results = checker.Check(ctx, c, s.mesh, s.now)
		}
	}
	if err != nil {
		results = analysis.Unavailable(c, err, s.now)
	}
	analysis.RecordMetrics(&c.Status, results)
	for _, res := range results {
		if !math.IsNaN(res.Value) {
			metricValueGauge.WithLabelValues(c.Name, c.Namespace, res.Name).Set(res.Value)
		}
	}
	return results
}

// describe names the metrics with the given outcome, their values and why,
// for Events: `request-success-rate 90 (90 is below the minimum 99)`.
func describe(results []analysis.Result, outcome meshv1alpha1.MetricResult) string {
	var parts []string
	for _, res := range results {
		if res.Outcome != outcome {
			continue
		}
		value := "no value"
		if !math.IsNaN(res.Value) {
			value = fmt.Sprintf("%g", res.Value)
		}
		parts = append(parts, fmt.Sprintf("metric %s %s (%s)", res.Name, value, res.Message))
	}
	return strings.Join(parts, "; ")
}
