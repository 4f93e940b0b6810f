package canary

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// ActionAnnotation asks the reconciler for a manual action (ARCHITECTURE.md):
// promote, abort, retry, pause or resume. It acts once, records an Event and
// removes the annotation.
const ActionAnnotation = "sluice.dev/action"

// PausedAnnotation marks a Canary held by the `pause` action; `resume`
// removes it. It lives in metadata so that a pause survives a restart.
const PausedAnnotation = "sluice.dev/paused"

// The manual actions.
const (
	// ActionPromote opens the gates of the current step: a closed
	// confirm-rollout, confirm-traffic-increase or confirm-promotion gate.
	ActionPromote = "promote"
	// ActionAbort rolls the current run back now.
	ActionAbort = "abort"
	// ActionRetry runs a failed revision again.
	ActionRetry = "retry"
	// ActionPause holds the Canary where it is (no analysis, no steps).
	ActionPause = "pause"
	// ActionResume ends a pause.
	ActionResume = "resume"
)

// Reasons of Events and conditions besides the shared ones of the API.
const (
	ReasonPaused        = "Paused"
	ReasonResumed       = "Resumed"
	ReasonAborted       = "Aborted"
	ReasonRetried       = "Retried"
	ReasonPromoteAsked  = "PromoteRequested"
	ReasonUnknownAction = "UnknownAction"
	ReasonNewRevision   = "NewRevision"
	ReasonReverted      = "Reverted"
	ReasonQueued        = "Queued"
	ReasonPromoting     = "Promoting"
	ReasonFinalising    = "Finalising"
	ReasonHeld          = "Held"
	ReasonCheckFailed   = "CheckFailed"
	ReasonTerminated    = "Terminated"
)

// handleAction consumes the action annotation: it is removed first (so the
// action runs at most once), then acted on in this pass.
func (r *Reconciler) handleAction(ctx context.Context, s *scope) (ctrl.Result, error) {
	c := s.canary
	action, ok := c.Annotations[ActionAnnotation]
	if !ok {
		return ctrl.Result{}, nil
	}
	before := c.DeepCopy()
	delete(c.Annotations, ActionAnnotation)
	switch action {
	case ActionPause:
		c.Annotations[PausedAnnotation] = "true"
	case ActionResume:
		delete(c.Annotations, PausedAnnotation)
	}
	if err := s.patchMetadata(ctx, r.Client, before); err != nil {
		return ctrl.Result{}, fmt.Errorf("remove the %s annotation of %s/%s: %w", ActionAnnotation, c.Namespace, c.Name, err)
	}

	switch action {
	case ActionPromote:
		s.approved = true
		r.normal(ctx, s, ReasonPromoteAsked, "Promote requested by the %s annotation: gates open for this step", ActionAnnotation)
	case ActionAbort:
		switch s.phase() {
		case meshv1alpha1.CanaryPhaseQueued, meshv1alpha1.CanaryPhaseWaiting, meshv1alpha1.CanaryPhaseProgressing,
			meshv1alpha1.CanaryPhaseWaitingPromotion:
			return ctrl.Result{}, r.rollback(ctx, s, ReasonAborted, fmt.Sprintf("aborted by the %s annotation", ActionAnnotation))
		default:
			r.normal(ctx, s, ReasonAborted, "Abort ignored: no run to abort in phase %s", s.phase())
		}
	case ActionRetry:
		if s.phase() == meshv1alpha1.CanaryPhaseFailed {
			// Forgetting the failed revision makes it new again.
			c.Status.LastAppliedSpec = ""
			r.normal(ctx, s, ReasonRetried, "Retrying the failed revision")
		} else {
			r.normal(ctx, s, ReasonRetried, "Retry ignored: the last run did not fail (phase %s)", s.phase())
		}
	case ActionPause:
		s.paused = true
		r.normal(ctx, s, ReasonPaused, "Paused in phase %s", s.phase())
	case ActionResume:
		s.paused = false
		r.normal(ctx, s, ReasonResumed, "Resumed in phase %s", s.phase())
	default:
		r.warning(ctx, s, ReasonUnknownAction, "Unknown %s %q: use promote, abort, retry, pause or resume", ActionAnnotation, action)
	}
	return ctrl.Result{}, nil
}
