package canary

import (
	"maps"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/controllers/canary/workload"
)

// revisionChange is what the target's current revision means for a Canary.
type revisionChange int

const (
	// revisionUnchanged: the target runs the revision status is about.
	revisionUnchanged revisionChange = iota
	// revisionNew: a revision never analysed (or a changed tracked config):
	// start a run, or restart the current one from weight 0.
	revisionNew
	// revisionReverted: the target went back to what the primary runs. It
	// does not start a run; a run in progress ends without promotion.
	revisionReverted
)

// classifyRevision compares the target's revision with the one the current
// or last run is about (lastAppliedSpec and trackedConfigs) and the one the
// primary runs (lastPromotedSpec).
func classifyRevision(st *meshv1alpha1.CanaryStatus, rev workload.Revision) revisionChange {
	sameConfigs := maps.Equal(rev.Configs, st.TrackedConfigs) || (len(rev.Configs) == 0 && len(st.TrackedConfigs) == 0)
	switch {
	case sameConfigs && rev.Spec == st.LastAppliedSpec:
		return revisionUnchanged
	case sameConfigs && rev.Spec == st.LastPromotedSpec:
		return revisionReverted
	default:
		return revisionNew
	}
}

// inRun says whether a phase belongs to a run of a revision (queued,
// gated, analysed or being promoted).
func inRun(p meshv1alpha1.CanaryPhase) bool {
	switch p {
	case meshv1alpha1.CanaryPhaseQueued, meshv1alpha1.CanaryPhaseWaiting, meshv1alpha1.CanaryPhaseProgressing,
		meshv1alpha1.CanaryPhaseWaitingPromotion, meshv1alpha1.CanaryPhasePromoting, meshv1alpha1.CanaryPhaseFinalising:
		return true
	}
	return false
}

// holdsSlot says whether a phase counts against --max-concurrent-canaries.
func holdsSlot(p meshv1alpha1.CanaryPhase) bool {
	return inRun(p) && p != meshv1alpha1.CanaryPhaseQueued
}
