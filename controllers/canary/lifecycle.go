package canary

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/controllers/canary/hooks"
	"github.com/sluicemesh/sluice/controllers/canary/router"
	"github.com/sluicemesh/sluice/controllers/canary/workload"
)

// gatePoll is how often a closed gate or a full queue is asked again when
// nothing else wakes the Canary up.
const gatePoll = 10 * time.Second

// ensureFinalizer adds our finalizer first, so that deleting the Canary
// always restores the target (see finalize).
func (r *Reconciler) ensureFinalizer(ctx context.Context, s *scope) (ctrl.Result, error) {
	c := s.canary
	if controllerutil.ContainsFinalizer(c, Finalizer) {
		return ctrl.Result{}, nil
	}
	before := c.DeepCopy()
	controllerutil.AddFinalizer(c, Finalizer)
	if err := s.patchMetadata(ctx, r.Client, before); err != nil {
		return ctrl.Result{}, fmt.Errorf("add finalizer to Canary %s/%s: %w", c.Namespace, c.Name, err)
	}
	return ctrl.Result{}, nil
}

// observeTarget reads the target's revision; a missing target stalls.
func (r *Reconciler) observeTarget(ctx context.Context, s *scope) (ctrl.Result, error) {
	rev, err := r.workloads.Revision(ctx, s.canary)
	if errors.Is(err, workload.ErrTargetNotFound) {
		s.stall(meshv1alpha1.ReasonTargetNotFound, fmt.Sprintf("Deployment %s/%s does not exist", s.canary.Namespace, s.canary.Spec.TargetRef.Name))
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("read the revision of %s/%s: %w", s.canary.Namespace, s.canary.Spec.TargetRef.Name, err)
	}
	s.revision = rev
	return ctrl.Result{}, nil
}

// routeAPIRecheck is how often a Canary whose provider's CRDs are missing
// looks for them again.
const routeAPIRecheck = time.Minute

func (s *scope) stall(reason, msg string) {
	s.stalled, s.stalledMessage, s.halt = reason, msg, true
}

// honourSuspend stops all work while spec.suspend is true.
func (r *Reconciler) honourSuspend(_ context.Context, s *scope) (ctrl.Result, error) {
	s.halt = s.canary.Spec.Suspend
	return ctrl.Result{}, nil
}

// honourPause holds a run paused by the `pause` action where it is.
func (r *Reconciler) honourPause(_ context.Context, s *scope) (ctrl.Result, error) {
	s.halt = s.paused
	return ctrl.Result{}, nil
}

// bootstrap creates or updates the primary, the Services and the route
// objects on creation and on each spec change (not every pass: they take
// several API calls and change only then). A new Canary becomes Initialized
// once its primary is ready: the target is scaled to zero and the primary
// serves all traffic.
func (r *Reconciler) bootstrap(ctx context.Context, s *scope) (ctrl.Result, error) {
	c := s.canary
	initializing := s.phase() == "" || s.phase() == meshv1alpha1.CanaryPhaseInitializing
	if !initializing && c.Generation == c.Status.ObservedGeneration {
		return ctrl.Result{}, nil
	}
	primary, err := r.workloads.EnsurePrimary(ctx, c)
	switch {
	case errors.Is(err, workload.ErrSelectorLabelMissing):
		s.stall(meshv1alpha1.ReasonSelectorLabelMissing, err.Error())
		return ctrl.Result{}, nil
	case errors.Is(err, workload.ErrTargetNotFound):
		s.stall(meshv1alpha1.ReasonTargetNotFound, err.Error())
		return ctrl.Result{}, nil
	case errors.Is(err, workload.ErrNotOurs), errors.Is(err, workload.ErrAutoscalerNotFound):
		s.stall(meshv1alpha1.ReasonInvalidSpec, err.Error())
		return ctrl.Result{}, nil
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("ensure the primary of %s/%s: %w", c.Namespace, c.Name, err)
	}
	if initializing && !primary.Ready {
		// The apex Service and routes move to the primary only once it can
		// serve: an adopted Service keeps selecting the target's pods until
		// then, so bootstrapping never interrupts the app.
		s.setPhase(meshv1alpha1.CanaryPhaseInitializing)
		return r.waitForPrimary(ctx, s, primary, "the target keeps serving")
	}
	if err := s.router.Reconcile(ctx, c); err != nil {
		if errors.Is(err, router.ErrSelectorLabelMissing) {
			s.stall(meshv1alpha1.ReasonSelectorLabelMissing, err.Error())
			return ctrl.Result{}, nil
		}
		if meta.IsNoMatchError(err) {
			// The provider's CRDs are not installed: say so in status instead of
			// retrying in a tight loop, and look again now and then, since
			// installing them needs no change to the Canary.
			s.stall(meshv1alpha1.ReasonRouteAPIMissing, fmt.Sprintf(
				"provider %s needs its route API installed in the cluster: %v", c.Spec.Provider, err))
			return ctrl.Result{RequeueAfter: routeAPIRecheck}, nil
		}
		return ctrl.Result{}, fmt.Errorf("reconcile the routes of %s/%s: %w", c.Namespace, c.Name, err)
	}
	if !initializing {
		// A spec change may have switched the provider: the old one's
		// route objects would keep steering traffic.
		if err := router.RemoveStale(ctx, r.Client, c); err != nil {
			return ctrl.Result{}, fmt.Errorf("reconcile the routes of %s/%s: %w", c.Namespace, c.Name, err)
		}
		return ctrl.Result{}, nil
	}
	s.setPhase(meshv1alpha1.CanaryPhaseInitializing)
	if err := r.workloads.ScaleTarget(ctx, c, 0); err != nil {
		return ctrl.Result{}, err
	}
	st := &c.Status
	st.LastAppliedSpec, st.LastPromotedSpec, st.TrackedConfigs = s.revision.Spec, s.revision.Spec, s.revision.Configs
	st.CanaryWeight, st.FailedChecks, st.Iterations = 0, 0, 0
	s.setPhase(meshv1alpha1.CanaryPhaseInitialized)
	r.normal(ctx, s, meshv1alpha1.ReasonInitialized, "Initialization done: %s serves all traffic", primary.Name)
	s.halt = true
	return ctrl.Result{}, nil
}

// detectRevision starts a run for a new revision of the target, restarts a
// run whose revision changed from weight 0, and ends a run whose target went
// back to what the primary runs. Reverting an idle target to the primary's
// revision starts nothing.
func (r *Reconciler) detectRevision(ctx context.Context, s *scope) (ctrl.Result, error) {
	c := s.canary
	st := &c.Status
	if s.phase() == meshv1alpha1.CanaryPhasePromoting || s.phase() == meshv1alpha1.CanaryPhaseFinalising {
		return ctrl.Result{}, nil // the promotion finishes first; the next pass sees the change
	}
	switch classifyRevision(st, s.revision) {
	case revisionUnchanged:
		if len(st.TrackedConfigs) > 0 && !inRun(s.phase()) {
			// ConfigMaps and Secrets are not watched (the manager must not
			// cache every one of the cluster): look again each interval.
			return ctrl.Result{RequeueAfter: analysisInterval(c)}, nil
		}
		return ctrl.Result{}, nil
	case revisionReverted:
		st.LastAppliedSpec = s.revision.Spec
		if !inRun(s.phase()) {
			return ctrl.Result{}, nil
		}
		if err := r.stopTraffic(ctx, s); err != nil {
			return ctrl.Result{}, err
		}
		s.setPhase(meshv1alpha1.CanaryPhaseInitialized)
		r.normal(ctx, s, ReasonReverted, "Target reverted to the primary's revision: run ended, the primary serves all traffic")
		s.halt = true
		return ctrl.Result{}, nil
	}
	restart := holdsSlot(s.phase())
	st.LastAppliedSpec, st.TrackedConfigs = s.revision.Spec, s.revision.Configs
	st.FailedChecks, st.Iterations, st.LastAnalysisTime, st.Metrics = 0, 0, nil, nil
	if restart {
		if err := r.setWeight(ctx, s, router.AllPrimary, 0); err != nil {
			return ctrl.Result{}, err
		}
		r.normal(ctx, s, ReasonNewRevision, "New revision %s during the run: restarting the analysis from weight 0", short(s.revision.Spec))
	} else {
		r.normal(ctx, s, ReasonNewRevision, "New revision %s detected", short(s.revision.Spec))
	}
	s.startPending = true
	return ctrl.Result{}, nil
}

// admitQueued lets a new revision start when a run slot is free
// (--max-concurrent-canaries); otherwise the Canary waits in phase Queued.
func (r *Reconciler) admitQueued(ctx context.Context, s *scope) (ctrl.Result, error) {
	if !s.startPending && s.phase() != meshv1alpha1.CanaryPhaseQueued {
		return ctrl.Result{}, nil
	}
	if !holdsSlot(s.phase()) {
		free, err := r.reserveSlot(ctx, s.canary)
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("count running Canaries: %w", err)
		}
		if !free {
			if s.phase() != meshv1alpha1.CanaryPhaseQueued {
				s.setPhase(meshv1alpha1.CanaryPhaseQueued)
				r.normal(ctx, s, ReasonQueued, "Queued: %d Canaries already run (--max-concurrent-canaries)", r.Options.MaxConcurrentCanaries)
			}
			s.detail = "waiting for a run slot"
			s.halt = true
			return ctrl.Result{RequeueAfter: gatePoll}, nil
		}
	}
	s.startPending = true
	return ctrl.Result{}, nil
}

// confirmRollout asks the confirm-rollout gates before a run starts; a gate
// closed past its gateTimeout abandons the revision (the primary serves on).
func (r *Reconciler) confirmRollout(ctx context.Context, s *scope) (ctrl.Result, error) {
	if !s.startPending && s.phase() != meshv1alpha1.CanaryPhaseWaiting {
		return ctrl.Result{}, nil
	}
	if !s.canary.Spec.SkipAnalysis {
		if s.phase() != meshv1alpha1.CanaryPhaseWaiting {
			s.setPhase(meshv1alpha1.CanaryPhaseWaiting)
		}
		g := r.gate(ctx, s, meshv1alpha1.WebhookConfirmRollout)
		if g.timedOut {
			return ctrl.Result{}, r.rollback(ctx, s, meshv1alpha1.ReasonGateTimeout, g.message)
		}
		if !g.open {
			s.detail = g.message
			if s.startPending {
				r.normal(ctx, s, meshv1alpha1.ReasonWaiting, "Waiting for approval: %s", g.message)
			}
			s.halt = true
			return ctrl.Result{RequeueAfter: gatePoll}, nil
		}
	}
	return ctrl.Result{}, r.startRun(ctx, s)
}

// startRun scales the target up and enters Progressing at weight 0; traffic
// moves once the canary is ready and the pre-rollout hooks pass (analyse).
func (r *Reconciler) startRun(ctx context.Context, s *scope) error {
	c := s.canary
	primary, err := r.workloads.PrimaryStatus(ctx, c)
	if err != nil {
		return fmt.Errorf("read the primary of %s/%s: %w", c.Namespace, c.Name, err)
	}
	replicas := max(primary.Replicas, 1)
	if c.Spec.Analysis.ScaleCanaryWithWeight {
		replicas = 1
	}
	if err := r.workloads.ScaleTarget(ctx, c, replicas); err != nil {
		return err
	}
	st := &c.Status
	st.CanaryWeight, st.FailedChecks, st.Iterations, st.LastAnalysisTime = 0, 0, 0, nil
	s.startPending = false
	st.Phase = meshv1alpha1.CanaryPhaseProgressing
	st.LastTransitionTime = nowTime(s.now)
	r.normal(ctx, s, meshv1alpha1.ReasonProgressing, "Starting canary analysis of revision %s", short(st.LastAppliedSpec))
	return nil
}

// beginPromotion is reached when the analysis passed: the confirm-promotion
// gates come next (confirmPromotion, same pass).
func (r *Reconciler) beginPromotion(ctx context.Context, s *scope) {
	s.setPhase(meshv1alpha1.CanaryPhaseWaitingPromotion)
}

// confirmPromotion asks the confirm-promotion gates; a gate closed past its
// gateTimeout rolls back (Flagger waits forever, fluxcd/flagger#1450).
func (r *Reconciler) confirmPromotion(ctx context.Context, s *scope) (ctrl.Result, error) {
	if s.phase() != meshv1alpha1.CanaryPhaseWaitingPromotion {
		return ctrl.Result{}, nil
	}
	c := s.canary
	if !c.Spec.SkipAnalysis {
		g := r.gate(ctx, s, meshv1alpha1.WebhookConfirmPromotion)
		if g.timedOut {
			return ctrl.Result{}, r.rollback(ctx, s, meshv1alpha1.ReasonGateTimeout, g.message)
		}
		if !g.open {
			if s.detail == "" {
				r.normal(ctx, s, meshv1alpha1.ReasonWaiting, "Waiting for promotion approval: %s", g.message)
			}
			s.detail = g.message
			s.halt = true
			return ctrl.Result{RequeueAfter: gatePoll}, nil
		}
	}
	if strategyOf(c.Spec.Analysis) == blueGreen {
		// Blue/green switches all traffic to the tested canary while the
		// primary rolls out the same revision.
		if err := r.setWeight(ctx, s, router.Routes{CanaryWeight: 100}, 100); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := r.workloads.Promote(ctx, c); err != nil {
		return ctrl.Result{}, fmt.Errorf("promote %s/%s: %w", c.Namespace, c.Name, err)
	}
	c.Status.LastPromotedSpec = c.Status.LastAppliedSpec
	s.setPhase(meshv1alpha1.CanaryPhasePromoting)
	r.normal(ctx, s, ReasonPromoting, "Copying revision %s to the primary", short(c.Status.LastAppliedSpec))
	return ctrl.Result{}, nil
}

// awaitPrimary waits for the promoted primary to be ready, then sends all
// traffic back to it and scales the canary to zero (Finalising).
func (r *Reconciler) awaitPrimary(ctx context.Context, s *scope) (ctrl.Result, error) {
	if s.phase() != meshv1alpha1.CanaryPhasePromoting {
		return ctrl.Result{}, nil
	}
	primary, err := r.workloads.PrimaryStatus(ctx, s.canary)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("read the primary of %s/%s: %w", s.canary.Namespace, s.canary.Name, err)
	}
	if !primary.Ready {
		return r.waitForPrimary(ctx, s, primary, "its previous pods and the canary keep serving")
	}
	if res, stepping, err := r.stepPromotion(ctx, s); stepping || err != nil {
		return res, err
	}
	if err := r.stopTraffic(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	s.setPhase(meshv1alpha1.CanaryPhaseFinalising)
	r.normal(ctx, s, ReasonFinalising, "Routing all traffic to the promoted primary and scaling the canary to zero")
	s.halt = true // our status write brings the next pass
	return ctrl.Result{}, nil
}

// waitForPrimary ends the pass until the primary is ready; its Deployment
// watch brings the next pass. Past the progress deadline the Canary says so
// (Ready=False, ProgressDeadlineExceeded, and a Warning Event once) but keeps
// waiting: unlike a canary that never gets ready, there is nothing to roll
// back to that would serve better, and serving says what still serves.
func (r *Reconciler) waitForPrimary(ctx context.Context, s *scope, primary workload.Primary, serving string) (ctrl.Result, error) {
	s.detail = waitingFor(primary.Name)
	s.halt = true
	deadline := progressDeadline(s.canary)
	late := s.now.Sub(s.since())
	if late < deadline {
		return ctrl.Result{RequeueAfter: deadline - late}, nil
	}
	s.overdue = fmt.Sprintf("%s not ready within the progress deadline %s (%s); %s", primary.Name, deadline, primary.NotReady, serving)
	if ready := meta.FindStatusCondition(s.canary.Status.Conditions, meshv1alpha1.ConditionReady); ready == nil || ready.Reason != meshv1alpha1.ReasonProgressDeadlineExceeded {
		r.warning(ctx, s, meshv1alpha1.ReasonProgressDeadlineExceeded, "Primary %s", s.overdue)
	}
	return ctrl.Result{}, nil
}

// stepPromotion moves traffic back to the promoted primary in steps of
// spec.analysis.stepWeightPromotion, one per interval, instead of all at
// once; it says stepping while the canary still has traffic.
func (r *Reconciler) stepPromotion(ctx context.Context, s *scope) (ctrl.Result, bool, error) {
	c := s.canary
	st := &c.Status
	step := c.Spec.Analysis.StepWeightPromotion
	if step == nil || strategyOf(c.Spec.Analysis) != canaryWeights || st.CanaryWeight == 0 {
		return ctrl.Result{}, false, nil
	}
	// Every weight, the last one before 0 included, holds for one interval.
	interval := analysisInterval(c)
	if st.LastAnalysisTime != nil {
		if wait := untilDue(st.LastAnalysisTime.Time, interval, s.now); wait > 0 {
			s.detail = "promoting step by step"
			s.halt = true
			return ctrl.Result{RequeueAfter: wait}, true, nil
		}
	}
	if st.CanaryWeight <= *step {
		return ctrl.Result{}, false, nil // the last step: all traffic to the primary
	}
	w := st.CanaryWeight - *step
	if err := r.setWeight(ctx, s, runRoutes(c, w), w); err != nil {
		return ctrl.Result{}, true, err
	}
	st.LastAnalysisTime = nowTime(s.now)
	r.normal(ctx, s, ReasonPromoting, "Advance primary weight %d", 100-w)
	s.halt = true
	return ctrl.Result{RequeueAfter: interval}, true, nil
}

// finalise ends a promotion: Succeeded, post-rollout hooks.
func (r *Reconciler) finalise(ctx context.Context, s *scope) (ctrl.Result, error) {
	if s.phase() != meshv1alpha1.CanaryPhaseFinalising {
		return ctrl.Result{}, nil
	}
	s.setPhase(meshv1alpha1.CanaryPhaseSucceeded)
	r.normal(ctx, s, meshv1alpha1.ReasonSucceeded, "Promotion of revision %s completed", short(s.canary.Status.LastPromotedSpec))
	r.postRollout(ctx, s)
	totalCounter.WithLabelValues(s.canary.Namespace, resultSucceeded).Inc()
	return ctrl.Result{}, nil
}

// rollback sends all traffic to the primary, scales the canary to zero and
// fails the run. The primary is never touched.
func (r *Reconciler) rollback(ctx context.Context, s *scope, reason, msg string) error {
	if err := r.stopTraffic(ctx, s); err != nil {
		return err
	}
	s.setPhase(meshv1alpha1.CanaryPhaseFailed)
	s.failReason, s.failMessage = reason, msg
	s.startPending = false
	r.warning(ctx, s, reason, "Rolling back %s.%s: %s", s.canary.Name, s.canary.Namespace, msg)
	r.postRollout(ctx, s)
	totalCounter.WithLabelValues(s.canary.Namespace, resultFailed).Inc()
	s.halt = true
	return nil
}

// stopTraffic routes everything to the primary and scales the canary to 0.
func (r *Reconciler) stopTraffic(ctx context.Context, s *scope) error {
	if err := r.setWeight(ctx, s, router.AllPrimary, 0); err != nil {
		return err
	}
	return r.workloads.ScaleTarget(ctx, s.canary, 0)
}

// setWeight writes a split and records the canary's weight.
func (r *Reconciler) setWeight(ctx context.Context, s *scope, routes router.Routes, weight int32) error {
	if err := s.router.SetRoutes(ctx, s.canary, routes); err != nil {
		return fmt.Errorf("route %s for Canary %s/%s: %w", routes, s.canary.Namespace, s.canary.Name, err)
	}
	s.canary.Status.CanaryWeight = weight
	return nil
}

// postRollout calls the post-rollout hooks; their answers are ignored.
func (r *Reconciler) postRollout(ctx context.Context, s *scope) {
	for _, h := range hooks.ByType(s.canary.Spec.Analysis.Webhooks, meshv1alpha1.WebhookPostRollout) {
		if err := r.hooks.Call(ctx, h, hooks.NewPayload(s.canary)); err != nil {
			ctrl.LoggerFrom(ctx).Info("Post-rollout webhook failed", "webhook", h.Name, "error", err.Error())
		}
	}
}

// gateResult is the answer of a gate: open, still closed, or closed for
// longer than a gate timeout.
type gateResult struct {
	open, timedOut bool
	message        string
}

// gate asks every hook of type t; all must answer 2xx. A `promote` action
// opens it. The gate timeout runs from the start of the current phase.
func (r *Reconciler) gate(ctx context.Context, s *scope, t meshv1alpha1.WebhookType) gateResult {
	hs := hooks.ByType(s.canary.Spec.Analysis.Webhooks, t)
	if len(hs) == 0 || s.approved {
		return gateResult{open: true}
	}
	for _, h := range hs {
		err := r.hooks.Call(ctx, h, hooks.NewPayload(s.canary))
		if err == nil {
			continue
		}
		g := gateResult{message: fmt.Sprintf("%s gate %s is closed: %v", t, h.Name, err)}
		if h.GateTimeout != nil && s.now.Sub(s.since()) >= h.GateTimeout.Duration {
			g.timedOut = true
			g.message = fmt.Sprintf("%s gate %s stayed closed for more than %s: %v", t, h.Name, h.GateTimeout.Duration, err)
		}
		return g
	}
	return gateResult{open: true}
}

func short(spec string) string {
	if len(spec) > 10 {
		return spec[:10]
	}
	return spec
}
