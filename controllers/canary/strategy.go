package canary

import (
	"time"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/controllers/canary/router"
)

// strategy is how a run moves traffic, chosen by the analysis fields.
type strategy int

const (
	// canaryWeights: stepWeight (with maxWeight) or stepWeights.
	canaryWeights strategy = iota
	// abTesting: iterations with match; matching requests go to the canary.
	abTesting
	// blueGreen: iterations without match; the canary gets no user traffic
	// (mirrored copies at most) until promotion switches everything at once.
	blueGreen
)

func strategyOf(a meshv1alpha1.CanaryAnalysis) strategy {
	switch {
	case a.Iterations != nil && len(a.Match) > 0:
		return abTesting
	case a.Iterations != nil:
		return blueGreen
	default:
		return canaryWeights
	}
}

// defaultMaxWeight is spec.analysis.maxWeight when unset.
const defaultMaxWeight int32 = 100

// weightSteps is the sequence of canary weights of a weighted run.
//
// With stepWeight the steps are stepWeight, 2*stepWeight, ... up to maxWeight
// (default 100). When stepWeight does not divide maxWeight, the last step is
// capped at maxWeight itself: stepWeight 30 with maxWeight 80 gives 30, 60,
// 80, so the canary always reaches maxWeight before promotion. With
// stepWeights the list is used as written (admission keeps it increasing and
// at most maxWeight).
func weightSteps(a meshv1alpha1.CanaryAnalysis) []int32 {
	maxWeight := defaultMaxWeight
	if a.MaxWeight != nil {
		maxWeight = *a.MaxWeight
	}
	if len(a.StepWeights) > 0 {
		var steps []int32
		for _, w := range a.StepWeights {
			if w > maxWeight {
				w = maxWeight
			}
			if len(steps) == 0 || w > steps[len(steps)-1] {
				steps = append(steps, w)
			}
		}
		return steps
	}
	if a.StepWeight == nil || *a.StepWeight <= 0 {
		return nil
	}
	var steps []int32
	for w := *a.StepWeight; ; w += *a.StepWeight {
		if w >= maxWeight {
			return append(steps, maxWeight)
		}
		steps = append(steps, w)
	}
}

// nextWeight is the weight after current in a weighted run; ok is false when
// current is the last step, i.e. the next passing check promotes.
func nextWeight(a meshv1alpha1.CanaryAnalysis, current int32) (next int32, ok bool) {
	for _, w := range weightSteps(a) {
		if w > current {
			return w, true
		}
	}
	return current, false
}

// runRoutes is the split of a run at canary weight w: a weighted split for
// canary runs; all user traffic on the primary with the matching requests on
// the canary for A/B runs; all on the primary (plus mirrored copies when
// spec.analysis.mirror) for blue/green runs.
func runRoutes(c *meshv1alpha1.Canary, w int32) router.Routes {
	switch strategyOf(c.Spec.Analysis) {
	case abTesting:
		return router.Routes{PrimaryWeight: 100, Match: true}
	case blueGreen:
		return router.Routes{PrimaryWeight: 100, Mirror: c.Spec.Analysis.Mirror}
	default:
		return router.Routes{PrimaryWeight: 100 - w, CanaryWeight: w}
	}
}

// analysisInterval is spec.analysis.interval, default 1m.
func analysisInterval(c *meshv1alpha1.Canary) time.Duration {
	if i := c.Spec.Analysis.Interval; i != nil && i.Duration > 0 {
		return i.Duration
	}
	return time.Minute
}

// threshold is spec.analysis.threshold, default 5.
func threshold(c *meshv1alpha1.Canary) int32 {
	if c.Spec.Analysis.Threshold > 0 {
		return c.Spec.Analysis.Threshold
	}
	return 5
}

// progressDeadline is spec.progressDeadlineSeconds, default 600s.
func progressDeadline(c *meshv1alpha1.Canary) time.Duration {
	if c.Spec.ProgressDeadlineSeconds > 0 {
		return time.Duration(c.Spec.ProgressDeadlineSeconds) * time.Second
	}
	return 10 * time.Minute
}

// untilDue is how long until the next analysis check of a run whose last
// check (or start of traffic) was at last; zero or less means it is due.
// The schedule lives in status, so a restarted manager keeps it.
func untilDue(last time.Time, interval time.Duration, now time.Time) time.Duration {
	return last.Add(interval).Sub(now)
}

// canaryReplicas is the canary's replica count at weight w when
// spec.analysis.scaleCanaryWithWeight is set: the primary's replicas times
// the weight, rounded up, never below 1.
func canaryReplicas(primary, w int32) int32 {
	n := (primary*w + 99) / 100
	if n < 1 {
		return 1
	}
	return n
}
