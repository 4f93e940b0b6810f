package policy

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func policyAt(name string, created time.Time) meshv1alpha1.Policy {
	return meshv1alpha1.Policy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Generation: 3, CreationTimestamp: metav1.NewTime(created)},
		Spec:       meshv1alpha1.PolicySpec{TargetRef: meshv1alpha1.PolicyTargetReference{Name: "cart"}},
	}
}

func TestConditionsFor(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	older, newer := policyAt("b-older", t0), policyAt("a-newer", t0.Add(time.Minute))
	sameTimeA, sameTimeB := policyAt("a", t0), policyAt("b", t0)

	tests := []struct {
		name         string
		policy       meshv1alpha1.Policy
		obs          observed
		wantAccepted metav1.ConditionStatus
		wantReason   string
	}{
		{"alone on an existing Service is accepted", older, observed{serviceExists: true}, metav1.ConditionTrue, "Accepted"},
		{"the oldest of two wins", older, observed{serviceExists: true, rivals: []meshv1alpha1.Policy{newer}}, metav1.ConditionTrue, "Accepted"},
		{"the newer of two is conflicted", newer, observed{serviceExists: true, rivals: []meshv1alpha1.Policy{older}}, metav1.ConditionFalse, meshv1alpha1.ReasonConflicted},
		{"equal ages: the first name wins", sameTimeA, observed{serviceExists: true, rivals: []meshv1alpha1.Policy{sameTimeB}}, metav1.ConditionTrue, "Accepted"},
		{"equal ages: the later name loses", sameTimeB, observed{serviceExists: true, rivals: []meshv1alpha1.Policy{sameTimeA}}, metav1.ConditionFalse, meshv1alpha1.ReasonConflicted},
		{"a missing Service is reported", older, observed{}, metav1.ConditionFalse, meshv1alpha1.ReasonTargetNotFound},
		{"a conflict is reported before a missing Service", newer, observed{rivals: []meshv1alpha1.Policy{older}}, metav1.ConditionFalse, meshv1alpha1.ReasonConflicted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conds := conditionsFor(&tt.policy, tt.obs)
			accepted := meta.FindStatusCondition(conds, meshv1alpha1.ConditionAccepted)
			if accepted == nil || accepted.Status != tt.wantAccepted || accepted.Reason != tt.wantReason {
				t.Fatalf("Accepted = %+v, want status %s reason %s", accepted, tt.wantAccepted, tt.wantReason)
			}
			ready := meta.FindStatusCondition(conds, meshv1alpha1.ConditionReady)
			stalled := meta.FindStatusCondition(conds, meshv1alpha1.ConditionStalled)
			if ready.Status != tt.wantAccepted {
				t.Errorf("Ready = %s, want %s (Ready follows Accepted)", ready.Status, tt.wantAccepted)
			}
			if (stalled.Status == metav1.ConditionTrue) != (tt.wantAccepted == metav1.ConditionFalse) {
				t.Errorf("Stalled = %s with Accepted %s: a Policy that is not applied waits for the user", stalled.Status, tt.wantAccepted)
			}
			for _, c := range conds {
				if c.ObservedGeneration != tt.policy.Generation {
					t.Errorf("%s.observedGeneration = %d, want %d", c.Type, c.ObservedGeneration, tt.policy.Generation)
				}
			}
		})
	}
}

func TestApplyConditions_ReportsOnlyTransitions(t *testing.T) {
	p := policyAt("p", time.Now())
	var status meshv1alpha1.PolicyStatus
	if !applyConditions(&status, conditionsFor(&p, observed{serviceExists: true})) {
		t.Fatal("first Accepted condition was not reported as a transition")
	}
	if applyConditions(&status, conditionsFor(&p, observed{serviceExists: true})) {
		t.Fatal("an unchanged Accepted condition was reported as a transition")
	}
	if !applyConditions(&status, conditionsFor(&p, observed{})) {
		t.Fatal("Accepted turning False (Service deleted) was not reported as a transition")
	}
}
