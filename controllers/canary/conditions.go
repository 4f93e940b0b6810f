package canary

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// conditionInputs is what the conditions of a Canary are computed from, all
// known at the end of a reconcile pass.
type conditionInputs struct {
	phase meshv1alpha1.CanaryPhase
	// stalled is the reason progress needs a change from the user (e.g.
	// TargetNotFound), "" when none; stalledMessage says what to change.
	stalled, stalledMessage string
	suspended, paused       bool
	// failReason and failMessage say why this pass rolled back, "" otherwise.
	failReason, failMessage string
	// detail describes what the phase waits for, for the Reconciling message.
	detail string
	// overdue says what the phase has waited for past the progress
	// deadline, "" when it is not late.
	overdue string
}

// conditionsFor computes Ready, Reconciling, Stalled and, when the phase
// settles it, Promoted. A nil Promoted leaves the current one as it is: during
// a run the primary still runs what was last promoted.
func conditionsFor(in conditionInputs) []metav1.Condition {
	cond := func(t string, s metav1.ConditionStatus, reason, msg string) metav1.Condition {
		return metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg}
	}
	var out []metav1.Condition

	if in.stalled != "" {
		out = append(out, cond(meshv1alpha1.ConditionStalled, metav1.ConditionTrue, in.stalled, in.stalledMessage))
	} else {
		out = append(out, cond(meshv1alpha1.ConditionStalled, metav1.ConditionFalse, meshv1alpha1.ReasonSucceeded, "Nothing blocks progress"))
	}

	switch {
	case in.stalled != "":
		out = append(out, cond(meshv1alpha1.ConditionReconciling, metav1.ConditionFalse, in.stalled, in.stalledMessage))
	case in.suspended:
		out = append(out, cond(meshv1alpha1.ConditionReconciling, metav1.ConditionFalse, meshv1alpha1.ReasonSuspended, "spec.suspend is true"))
	case in.paused:
		out = append(out, cond(meshv1alpha1.ConditionReconciling, metav1.ConditionFalse, ReasonPaused,
			fmt.Sprintf("Paused in phase %s by the %s annotation; set it to resume", in.phase, ActionAnnotation)))
	case in.phase == meshv1alpha1.CanaryPhaseWaiting || in.phase == meshv1alpha1.CanaryPhaseWaitingPromotion:
		out = append(out, cond(meshv1alpha1.ConditionReconciling, metav1.ConditionTrue, meshv1alpha1.ReasonWaiting, in.detail))
	case inRun(in.phase) || in.phase == meshv1alpha1.CanaryPhaseInitializing || in.phase == "":
		out = append(out, cond(meshv1alpha1.ConditionReconciling, metav1.ConditionTrue, meshv1alpha1.ReasonProgressing,
			fmt.Sprintf("Phase %s: %s", orInitializing(in.phase), in.detail)))
	default:
		out = append(out, cond(meshv1alpha1.ConditionReconciling, metav1.ConditionFalse, meshv1alpha1.ReasonSucceeded, "No run in progress"))
	}

	switch {
	case in.stalled != "":
		out = append(out, cond(meshv1alpha1.ConditionReady, metav1.ConditionFalse, in.stalled, in.stalledMessage))
	case in.phase == meshv1alpha1.CanaryPhaseInitialized:
		out = append(out, cond(meshv1alpha1.ConditionReady, metav1.ConditionTrue, meshv1alpha1.ReasonInitialized, "The primary serves all traffic"))
	case in.phase == meshv1alpha1.CanaryPhaseSucceeded:
		out = append(out, cond(meshv1alpha1.ConditionReady, metav1.ConditionTrue, meshv1alpha1.ReasonSucceeded, "The last revision was promoted"))
	case in.phase == meshv1alpha1.CanaryPhaseFailed:
		reason, msg := in.failReason, in.failMessage
		if reason == "" {
			reason, msg = meshv1alpha1.ReasonRolledBack, "The last revision was rolled back"
		}
		out = append(out, cond(meshv1alpha1.ConditionReady, metav1.ConditionFalse, reason, msg))
	case in.overdue != "":
		out = append(out, cond(meshv1alpha1.ConditionReady, metav1.ConditionFalse, meshv1alpha1.ReasonProgressDeadlineExceeded, in.overdue))
	default:
		out = append(out, cond(meshv1alpha1.ConditionReady, metav1.ConditionFalse, meshv1alpha1.ReasonProgressing,
			fmt.Sprintf("Phase %s", orInitializing(in.phase))))
	}

	switch {
	case in.phase == meshv1alpha1.CanaryPhaseInitialized && in.stalled == "":
		out = append(out, cond(meshv1alpha1.ConditionPromoted, metav1.ConditionTrue, meshv1alpha1.ReasonInitialized, "The primary runs the target's revision"))
	case in.phase == meshv1alpha1.CanaryPhaseSucceeded:
		out = append(out, cond(meshv1alpha1.ConditionPromoted, metav1.ConditionTrue, meshv1alpha1.ReasonSucceeded, "The primary runs the last analysed revision"))
	case in.phase == meshv1alpha1.CanaryPhaseFailed && in.failReason != "":
		out = append(out, cond(meshv1alpha1.ConditionPromoted, metav1.ConditionFalse, in.failReason, in.failMessage))
	}
	return out
}

func orInitializing(p meshv1alpha1.CanaryPhase) meshv1alpha1.CanaryPhase {
	if p == "" {
		return meshv1alpha1.CanaryPhaseInitializing
	}
	return p
}

// setConditions writes conds into status, keeping transition times of
// conditions whose status did not change.
func setConditions(st *meshv1alpha1.CanaryStatus, generation int64, now time.Time, conds []metav1.Condition) {
	for _, c := range conds {
		c.ObservedGeneration = generation
		c.LastTransitionTime = metav1.Time{Time: now}
		meta.SetStatusCondition(&st.Conditions, c)
	}
}
