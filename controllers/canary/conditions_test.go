package canary

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func TestConditionsFor(t *testing.T) {
	type want struct{ status, reason string }
	for _, tc := range []struct {
		name string
		in   conditionInputs
		// want by condition type; "-" means the condition is not set.
		want map[string]want
	}{
		{"initialized", conditionInputs{phase: meshv1alpha1.CanaryPhaseInitialized}, map[string]want{
			meshv1alpha1.ConditionReady:       {"True", meshv1alpha1.ReasonInitialized},
			meshv1alpha1.ConditionPromoted:    {"True", meshv1alpha1.ReasonInitialized},
			meshv1alpha1.ConditionReconciling: {"False", meshv1alpha1.ReasonSucceeded},
			meshv1alpha1.ConditionStalled:     {"False", meshv1alpha1.ReasonSucceeded},
		}},
		{"progressing keeps Promoted as it was", conditionInputs{phase: meshv1alpha1.CanaryPhaseProgressing}, map[string]want{
			meshv1alpha1.ConditionReady:       {"False", meshv1alpha1.ReasonProgressing},
			meshv1alpha1.ConditionReconciling: {"True", meshv1alpha1.ReasonProgressing},
			meshv1alpha1.ConditionPromoted:    {"-", ""},
		}},
		{"waiting on a gate", conditionInputs{phase: meshv1alpha1.CanaryPhaseWaitingPromotion}, map[string]want{
			meshv1alpha1.ConditionReconciling: {"True", meshv1alpha1.ReasonWaiting},
		}},
		{"rolled back", conditionInputs{phase: meshv1alpha1.CanaryPhaseFailed, failReason: meshv1alpha1.ReasonRolledBack, failMessage: "x"}, map[string]want{
			meshv1alpha1.ConditionReady:       {"False", meshv1alpha1.ReasonRolledBack},
			meshv1alpha1.ConditionPromoted:    {"False", meshv1alpha1.ReasonRolledBack},
			meshv1alpha1.ConditionReconciling: {"False", meshv1alpha1.ReasonSucceeded},
		}},
		{"progress deadline", conditionInputs{phase: meshv1alpha1.CanaryPhaseFailed, failReason: meshv1alpha1.ReasonProgressDeadlineExceeded}, map[string]want{
			meshv1alpha1.ConditionPromoted: {"False", meshv1alpha1.ReasonProgressDeadlineExceeded},
		}},
		{"primary late", conditionInputs{phase: meshv1alpha1.CanaryPhasePromoting, overdue: "app-primary not ready"}, map[string]want{
			meshv1alpha1.ConditionReady:       {"False", meshv1alpha1.ReasonProgressDeadlineExceeded},
			meshv1alpha1.ConditionReconciling: {"True", meshv1alpha1.ReasonProgressing},
			meshv1alpha1.ConditionStalled:     {"False", meshv1alpha1.ReasonSucceeded},
		}},
		{"succeeded", conditionInputs{phase: meshv1alpha1.CanaryPhaseSucceeded}, map[string]want{
			meshv1alpha1.ConditionReady:    {"True", meshv1alpha1.ReasonSucceeded},
			meshv1alpha1.ConditionPromoted: {"True", meshv1alpha1.ReasonSucceeded},
		}},
		{"target missing", conditionInputs{phase: "", stalled: meshv1alpha1.ReasonTargetNotFound}, map[string]want{
			meshv1alpha1.ConditionStalled:     {"True", meshv1alpha1.ReasonTargetNotFound},
			meshv1alpha1.ConditionReady:       {"False", meshv1alpha1.ReasonTargetNotFound},
			meshv1alpha1.ConditionReconciling: {"False", meshv1alpha1.ReasonTargetNotFound},
		}},
		{"suspended", conditionInputs{phase: meshv1alpha1.CanaryPhaseProgressing, suspended: true}, map[string]want{
			meshv1alpha1.ConditionReconciling: {"False", meshv1alpha1.ReasonSuspended},
		}},
		{"paused", conditionInputs{phase: meshv1alpha1.CanaryPhaseProgressing, paused: true}, map[string]want{
			meshv1alpha1.ConditionReconciling: {"False", ReasonPaused},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]metav1.Condition{}
			for _, c := range conditionsFor(tc.in) {
				got[c.Type] = c
			}
			for typ, w := range tc.want {
				c, ok := got[typ]
				if w.status == "-" {
					if ok {
						t.Errorf("%s = %s/%s, want unset", typ, c.Status, c.Reason)
					}
					continue
				}
				if !ok || string(c.Status) != w.status || c.Reason != w.reason {
					t.Errorf("%s = %s/%s, want %s/%s", typ, c.Status, c.Reason, w.status, w.reason)
				}
			}
		})
	}
}
