package policy

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// observed is what one reconcile pass read about a Policy's surroundings.
type observed struct {
	// serviceExists says whether the targeted Service is in the namespace.
	serviceExists bool
	// rivals are the other Policies of the namespace that target the same Service.
	rivals []meshv1alpha1.Policy
}

// winner returns the Policy that is applied among p and its rivals: the oldest,
// ties broken by name, so every reconcile of every rival picks the same one.
func winner(p *meshv1alpha1.Policy, rivals []meshv1alpha1.Policy) *meshv1alpha1.Policy {
	all := append([]meshv1alpha1.Policy{*p}, rivals...)
	sort.SliceStable(all, func(i, j int) bool {
		ti, tj := all[i].CreationTimestamp, all[j].CreationTimestamp
		if !ti.Equal(&tj) {
			return ti.Before(&tj)
		}
		return all[i].Name < all[j].Name
	})
	return &all[0]
}

// conditionsFor computes the Policy's Accepted, Ready, Reconciling and Stalled
// conditions from what was observed. It is pure so it can be table-tested.
func conditionsFor(p *meshv1alpha1.Policy, obs observed) []metav1.Condition {
	accepted := metav1.Condition{
		Type:    meshv1alpha1.ConditionAccepted,
		Status:  metav1.ConditionTrue,
		Reason:  "Accepted",
		Message: fmt.Sprintf("Policy applies to Service %s", p.Spec.TargetRef.Name),
	}
	if w := winner(p, obs.rivals); w.Name != p.Name {
		accepted.Status = metav1.ConditionFalse
		accepted.Reason = meshv1alpha1.ReasonConflicted
		accepted.Message = fmt.Sprintf("Service %s is already targeted by the older Policy %s; only one Policy applies to a Service",
			p.Spec.TargetRef.Name, w.Name)
	} else if !obs.serviceExists {
		accepted.Status = metav1.ConditionFalse
		accepted.Reason = meshv1alpha1.ReasonTargetNotFound
		accepted.Message = fmt.Sprintf("Service %s not found in namespace %s", p.Spec.TargetRef.Name, p.Namespace)
	}

	ready := metav1.Condition{Type: meshv1alpha1.ConditionReady, Status: accepted.Status, Reason: accepted.Reason, Message: accepted.Message}
	// A Policy that is not accepted waits for a change by the user (delete the
	// rival Policy, create the Service): that is Stalled in kstatus terms.
	stalled := metav1.Condition{Type: meshv1alpha1.ConditionStalled, Status: metav1.ConditionFalse, Reason: accepted.Reason}
	if accepted.Status == metav1.ConditionFalse {
		stalled.Status = metav1.ConditionTrue
		stalled.Message = accepted.Message
	}
	reconciling := metav1.Condition{Type: meshv1alpha1.ConditionReconciling, Status: metav1.ConditionFalse, Reason: accepted.Reason}

	conds := []metav1.Condition{accepted, ready, stalled, reconciling}
	for i := range conds {
		conds[i].ObservedGeneration = p.Generation
	}
	return conds
}

// applyConditions writes conds into the status, keeping the transition time of
// conditions whose status did not change, and reports whether Accepted changed.
func applyConditions(status *meshv1alpha1.PolicyStatus, conds []metav1.Condition) (acceptedChanged bool) {
	// Copy, since SetStatusCondition updates the slice's elements in place.
	var before *metav1.Condition
	if c := meta.FindStatusCondition(status.Conditions, meshv1alpha1.ConditionAccepted); c != nil {
		before = c.DeepCopy()
	}
	for _, c := range conds {
		meta.SetStatusCondition(&status.Conditions, c)
	}
	after := meta.FindStatusCondition(status.Conditions, meshv1alpha1.ConditionAccepted)
	return before == nil || before.Status != after.Status || before.Reason != after.Reason
}
